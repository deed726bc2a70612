"""``jwtgate diff``: effective access change from decide(), weakening settings, formats and --fail-on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from jwtgate.config.loader import load_policy_file
from jwtgate.policy import routes
from jwtgate.policy.diff import _instantiate, diff_policies
from tests.kit.cli import invoke

KC = "sample_configs/keycloak.yaml"


def run(*args: str) -> Any:
    return invoke(["diff", *args])


def variant(tmp_path: Path, *edits: tuple[str, str], name: str = "new.yaml") -> str:
    text = Path(KC).read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


# The Keycloak sample with every mapping reordered, flow style, an anchor and no comments.
REORDERED = """\
jwtgate: {leeway: 30}
general_settings:
  role_permissions:
    - {role: team, models: []}
    - routes: [openai_routes, info_routes]
      models: [gpt-4o-mini, llama-3-70b]
      role: internal_user
    - {models: [gpt-4o, gpt-4o-mini, llama-3-70b], role: proxy_admin}
  litellm_jwtauth:
    issuers:
      - {jwks_url: "https://sso.example.com/realms/acme/protocol/openid-connect/certs", audience: litellm,
         issuer: "https://sso.example.com/realms/acme"}
    admin_allowed_routes: [openai_routes, management_routes, info_routes]
    role_mappings:
      - {internal_role: proxy_admin, role: litellm-admin}
      - {internal_role: internal_user, role: litellm-user}
    enforce_rbac: true
    user_email_jwt_field: email
    roles_jwt_field: resource_access.litellm.roles
  enable_jwt_auth: true
model_list:
  - {model_name: llama-3-70b, litellm_params: {model: hosted_vllm/x, api_base: "http://127.0.0.1:8000/v1"}}
  - model_name: gpt-4o-mini
    litellm_params: &openai {model: openai/gpt-4o-mini, api_key: os.environ/OPENAI_API_KEY}
  - {model_name: gpt-4o, litellm_params: *openai}
"""


def test_config_against_itself_reordered_is_empty(tmp_path: Path) -> None:
    other = tmp_path / "reordered.yaml"
    other.write_text(REORDERED, encoding="utf-8")
    result = run(KC, str(other), "--fail-on", "any")
    assert result.exit_code == 0, result.stdout
    assert result.stdout == f"no effective change between {KC} and {other}\n"
    data = json.loads(run(KC, str(other), "--format", "json").stdout)
    assert data["empty"] is True
    assert data["access"] == [] and data["settings"] == []


def test_widening_is_reported_per_role_and_jwt_value(tmp_path: Path) -> None:
    new = variant(tmp_path, ('models: ["gpt-4o-mini", "llama-3-70b"]',
                             'models: ["gpt-4o-mini", "llama-3-70b", "gpt-4o"]'))
    result = run(KC, new)
    assert result.exit_code == 0
    assert result.stdout.splitlines()[1:] == [
        "gateway role internal_user: (widens)", "  + models: gpt-4o",
        "JWT role 'litellm-user': (widens)", "  + models: gpt-4o"]
    assert run(KC, new, "--fail-on", "widen").exit_code == 1


def test_narrowing_is_not_a_widening(tmp_path: Path) -> None:
    new = variant(tmp_path, ('routes: ["openai_routes", "info_routes"]', 'routes: ["openai_routes"]'))
    data = json.loads(run(KC, new, "--format", "json").stdout)
    assert data["widens"] is False
    user = next(a for a in data["access"] if a["subject"] == "internal_user")
    # /models and /v1/models stay allowed (they are openai_routes too): the group is not named, its paths are
    info = {_instantiate(t) for t in routes.INFO_ROUTES} - {"/models", "/v1/models"}
    assert "info_routes" not in user["routes_lost"]
    model_info = {_instantiate(t) for t in routes.GROUPS["model_info_routes"]}
    assert user["routes_lost"] == ["model_info_routes", *sorted(info - model_info)]
    assert user["models_lost"] == []
    assert run(KC, new, "--fail-on", "widen").exit_code == 0
    assert run(KC, new, "--fail-on", "any").exit_code == 1


def test_removing_a_model_from_model_list_loses_it(tmp_path: Path) -> None:
    new = variant(tmp_path, ("  - model_name: llama-3-70b\n", "  - model_name: llama-3-70b-v2\n"))
    data = json.loads(run(KC, new, "--format", "json").stdout)
    lost = {a["subject"]: a["models_lost"] for a in data["access"]}
    assert lost["proxy_admin"] == ["llama-3-70b"]
    assert lost["internal_user"] == ["llama-3-70b"]


@pytest.mark.parametrize(("edit", "setting", "message"), [
    (('        audience: "litellm"\n', ""), "issuers[https://sso.example.com/realms/acme].audience",
     "audience removed"),
    (("    enforce_rbac: true\n", "    enforce_rbac: false\n"), "general_settings.litellm_jwtauth.enforce_rbac",
     "enforce_rbac switched off"),
    (("leeway: 30", "leeway: 600"), "jwtgate.leeway", "clock leeway raised"),
    (("https://sso.example.com/realms/acme/protocol", "http://sso.example.com/realms/acme/protocol"),
     "issuers[https://sso.example.com/realms/acme].jwks_url", "key source changed to plain http"),
    (("  leeway: 30\n", "  leeway: 30\n  insecure_skip_audience: true\n"), "jwtgate.insecure_skip_audience",
     "insecure_skip_audience switched on"),
    (("  leeway: 30\n", "  leeway: 30\n  require: []\n"), "jwtgate.require", "required claims no longer include"),
    (("    issuers:\n      - issuer: \"https://sso.example.com/realms/acme\"\n        audience: \"litellm\"\n"
      "        jwks_url: \"https://sso.example.com/realms/acme/protocol/openid-connect/certs\"\n", ""),
     "general_settings.litellm_jwtauth.issuers", "issuer binding removed"),
], ids=["audience-removed", "rbac-off", "leeway-raised", "plain-http-keys", "skip-audience", "exp-not-required",
        "issuers-removed"])
def test_weakening_settings_are_flagged(tmp_path: Path, edit: tuple[str, str], setting: str, message: str) -> None:
    new = variant(tmp_path, edit)
    result = run(KC, new, "--format", "json", "--fail-on", "widen")
    assert result.exit_code == 1
    flagged = {s["setting"]: s for s in json.loads(result.stdout)["settings"]}
    assert flagged[setting]["weakens"] is True
    assert message in flagged[setting]["message"]


def test_route_summary_between_azure_ad_and_multi_issuer() -> None:
    data = json.loads(run("sample_configs/azure-ad.yaml", "sample_configs/multi-issuer.yaml", "--format",
                          "json").stdout)
    by_subject = {a["subject"]: a for a in data["access"]}
    user = by_subject["internal_user"]
    assert "llm_api_routes" not in user["routes_lost"] and "openai_routes" not in user["routes_lost"]
    assert user["routes_lost"][:3] == ["mapped_pass_through_routes", "passthrough_routes_wildcard", "google_routes"]
    assert "/v1/chat/completions" not in user["routes_lost"]
    anyone = by_subject["any token (no role claims)"]
    # LiteLLM's groups: the ones gained entirely are named, inference paths of partly gained ones are listed
    assert {"anthropic_routes", "info_routes"} <= set(anyone["routes_gained"])
    assert "/v1/chat/completions" in anyone["routes_gained"]


def test_every_named_group_changed_entirely() -> None:
    from jwtgate.policy.diff import _role_access, probe_paths

    old, new = (load_policy_file(f"sample_configs/{n}.yaml", {}) for n in ("azure-ad", "multi-issuer"))
    probes = probe_paths(old, new)
    before, after = _role_access(old, "internal_user", probes), _role_access(new, "internal_user", probes)
    lost = before.routes - after.routes
    change = next(a for a in diff_policies(old, new).access if a.subject == "internal_user")
    for entry in change.routes_lost:
        members = {_instantiate(t) for t in routes.GROUPS[entry]} if entry in routes.GROUPS else {entry}
        assert members <= lost, entry


def test_lowering_leeway_is_not_flagged(tmp_path: Path) -> None:
    new = variant(tmp_path, ("leeway: 30", "leeway: 10"))
    result = run(KC, new, "--fail-on", "widen")
    assert result.exit_code == 0
    assert "info    jwtgate.leeway: 30.0 -> 10.0 (clock leeway lowered)" in result.stdout


def test_rbac_off_gives_every_token_access(tmp_path: Path) -> None:
    new = variant(tmp_path, ("    enforce_rbac: true\n", "    enforce_rbac: false\n"))
    data = json.loads(run(KC, new, "--format", "json").stdout)
    anyone = next(a for a in data["access"] if a["subject"] == "any token (no role claims)")
    assert anyone["models_gained"] == ["gpt-4o", "gpt-4o-mini", "llama-3-70b"]
    gained = set(anyone["routes_gained"])
    assert "anthropic_routes" in gained and ({"openai_routes", "/v1/chat/completions"} & gained)


def test_markdown_is_a_pr_comment(tmp_path: Path) -> None:
    new = variant(tmp_path, ("leeway: 30", "leeway: 600"), ('- role: litellm-user', '- role: litellm-users'))
    result = run(KC, new, "--format", "markdown")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"**jwtgate diff** `{KC}` → `{new}`: :warning:")
    assert "| who | models gained | models lost | routes gained | routes lost |" in lines
    assert any(x.startswith("| JWT role 'litellm-user' |   | `gpt-4o-mini`, `llama-3-70b` |") for x in lines)
    assert any(x.startswith("| JWT role 'litellm-users' | `gpt-4o-mini`, `llama-3-70b` |") for x in lines)
    assert "| `jwtgate.leeway` | 30.0 | 600.0 | :warning: clock leeway raised |" in lines


@pytest.mark.parametrize(("args", "message"), [
    (["--format", "html"], "--format 'html' is not one of text, json, markdown"),
    (["--fail-on", "always"], "--fail-on 'always' is not one of widen, any"),
], ids=["bad-format", "bad-fail-on"])
def test_usage_errors(args: list[str], message: str) -> None:
    result = run(KC, KC, *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_unreadable_config_exits_2() -> None:
    result = run(KC, "/nonexistent.yaml")
    assert result.exit_code == 2
    assert "/nonexistent.yaml: no such file" in result.stderr


def test_diff_is_antisymmetric(tmp_path: Path) -> None:
    new = variant(tmp_path, ('models: ["gpt-4o-mini", "llama-3-70b"]', 'models: ["gpt-4o-mini"]'))
    old_p, new_p = load_policy_file(KC, {}), load_policy_file(new, {})
    forward, backward = diff_policies(old_p, new_p), diff_policies(new_p, old_p)
    assert [(a.subject, a.models_lost) for a in forward.access] == \
        [(a.subject, a.models_gained) for a in backward.access]


SERVE = "  leeway: 30\n"
SECRET = "sk-role-secret-4f9a"
DIRECT = ("jwtgate.serve.mode: litellm -> direct (serve mode switched to direct: llama-3-70b goes straight to its "
          "api_base with the config's api_key, past the LiteLLM proxy and its keys, budgets and limits)")
USER_KEY = ("jwtgate.serve.upstream_keys.internal_user: (unset) -> set (internal_user requests go upstream with the "
            "role's own credential: its allowed health, key, user, team, spend and management routes are now "
            "forwarded instead of refused)")
ADMIN_KEY = ("jwtgate.serve.upstream_keys.proxy_admin: (unset) -> set (proxy_admin requests go upstream with the "
             "role's own credential)")


@pytest.mark.parametrize(("old", "new", "line", "widens"), [
    ("", "  serve: {mode: direct}\n", f"WEAKENS {DIRECT}", True),
    ("  serve: {mode: direct}\n", "", "info    jwtgate.serve.mode: direct -> litellm (serve mode switched to "
     "litellm: every request goes to the upstream LiteLLM proxy)", False),
    ("", f"  serve: {{upstream_keys: {{internal_user: {SECRET}}}}}\n", f"WEAKENS {USER_KEY}", True),
    ("", "  serve: {upstream_keys: {internal_user: os.environ/JWTGATE_TEST_UNSET_KEY}}\n", f"WEAKENS {USER_KEY}",
     True),
    ("", f"  serve: {{upstream_keys: {{proxy_admin: {SECRET}}}}}\n", f"info    {ADMIN_KEY}", False),
    (f"  serve: {{upstream_keys: {{internal_user: {SECRET}}}}}\n", "", "info    jwtgate.serve.upstream_keys."
     "internal_user: set -> (unset) (internal_user requests go upstream with the shared credential again (its "
     "health, key, user, team, spend and management routes are refused again))", False),
    (f"  serve: {{upstream_keys: {{team: {SECRET}}}}}\n", f"  serve: {{upstream_keys: {{team: {SECRET}-2}}}}\n",
     "info    jwtgate.serve.upstream_keys.team: set -> set (another) (team's upstream credential changed "
     "(credentials are never shown))", False),
    ("", "  insecure_skip_audience: true\n", "WEAKENS jwtgate.insecure_skip_audience: false -> true "
     "(insecure_skip_audience switched on)", True),
], ids=["mode-direct", "mode-litellm", "role-key-added", "role-key-from-unset-env", "admin-key-added",
        "role-key-removed", "role-key-rotated", "skip-audience"])
def test_serve_settings_that_change_who_reaches_what(tmp_path: Path, old: str, new: str, line: str,
                                                     widens: bool) -> None:
    before = variant(tmp_path, (SERVE, SERVE + old), name="old.yaml")
    after = variant(tmp_path, (SERVE, SERVE + new))
    result = run(before, after)
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [f"effective access change: {before} -> {after}", "settings:", f"  {line}"]
    doc = json.loads(run(before, after, "--format", "json").stdout)
    assert (doc["widens"], [s["weakens"] for s in doc["settings"]]) == (widens, [widens])
    assert run(before, after, "--fail-on", "widen").exit_code == (1 if widens else 0)
    assert run(before, after, "--fail-on", "any").exit_code == 1
    for fmt in ("text", "json", "markdown"):  # a credential is never printed, in any format
        assert SECRET not in run(before, after, "--format", fmt).stdout


def test_in_direct_mode_a_model_given_an_api_base_goes_past_litellm(tmp_path: Path) -> None:
    direct = SERVE + "  serve: {mode: direct}\n"
    before = variant(tmp_path, (SERVE, direct), name="old.yaml")
    after = variant(tmp_path, (SERVE, direct), ("      model: openai/gpt-4o-mini\n", "      model: openai/gpt-4o-mini\n"
                                                "      api_base: https://api.openai.example/v1\n"))
    result = run(before, after, "--fail-on", "widen")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[1:] == ["settings:", "  WEAKENS jwtgate.serve.mode (direct): models with an "
                                              "api_base: [llama-3-70b] -> [gpt-4o-mini, llama-3-70b] (gpt-4o-mini "
                                              "goes straight to its api_base now, past the LiteLLM proxy)"]
    back = run(after, before, "--fail-on", "widen")
    assert back.exit_code == 0 and "info    jwtgate.serve.mode (direct)" in back.stdout
