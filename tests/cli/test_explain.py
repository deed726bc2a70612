"""``jwtgate explain``: model reach, role access, claim traces, the access matrix; agreement with decide()."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jwtgate.config.loader import load_policy_file
from jwtgate.model import Request
from jwtgate.policy.decision import decide
from jwtgate.policy.forwarding import with_forwarding
from tests.kit.cli import invoke

KC = "sample_configs/keycloak.yaml"
AZ = "sample_configs/azure-ad.yaml"


def run(*args: str) -> Any:
    return invoke(["explain", *args])


def write(tmp_path: Path, text: str, name: str = "c.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


OPEN_CONFIG = """\
model_list:
  - model_name: m1
    litellm_params: {model: openai/m1}
general_settings:
  enable_jwt_auth: true
  litellm_jwtauth:
    enforce_rbac: false
"""


def test_matrix_text_lists_roles_and_jwt_values_by_model() -> None:
    result = run("--config", KC)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "access matrix on /v1/chat/completions"
    assert lines[1].split() == ["role", "(JWT", "condition)", "gpt-4o", "gpt-4o-mini", "llama-3-70b"]
    assert lines[3].split() == ["proxy_admin", "<-", "admin_scope", "yes", "yes", "yes"]
    assert lines[5].split() == ["internal_user", "<-", "'litellm-user'", "-", "yes", "yes"]
    assert lines[6].split() == ["(no", "role)", "<-", "any", "-", "-", "-"]


def test_matrix_json() -> None:
    result = run("--config", KC, "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["models"] == ["gpt-4o", "gpt-4o-mini", "llama-3-70b"]
    by_value = {r["value"]: r for r in data["rows"] if r["value"]}
    assert by_value["litellm-user"]["role"] == "internal_user"
    assert by_value["litellm-user"]["allowed"] == ["gpt-4o-mini", "llama-3-70b"]
    assert by_value["litellm-user"]["denied"] == {"gpt-4o": "policy.model_not_allowed"}
    assert by_value["litellm-admin"]["location"]["line"] == 25


def test_model_names_the_conditions_and_config_lines() -> None:
    result = run("--config", KC, "--model", "gpt-4o")
    assert result.exit_code == 0
    out = result.stdout
    assert "defined at sample_configs/keycloak.yaml:5" in out
    assert "proxy_admin: 'litellm-admin' in 'resource_access.litellm.roles' (role_mappings)" in out
    assert "config: sample_configs/keycloak.yaml:25, sample_configs/keycloak.yaml:35" in out
    assert "internal_user: 'litellm-user' in 'resource_access.litellm.roles' (role_mappings): " \
           "policy.model_not_allowed" in out


@pytest.mark.parametrize(("config", "model", "says", "code"), [
    (KC, "gpt-5", "'gpt-5' is not in model_list", 1),
    (AZ, "gpt-4o", "nobody: no role, scope or claim reaches it", 1),
    (None, "m1", "everyone: any verified token may use it (RBAC not enforced", 0),
], ids=["not-in-model-list", "nobody", "everyone-rbac-off"])
def test_model_plain_answers(tmp_path: Path, config: str | None, model: str, says: str, code: int) -> None:
    result = run("--config", config or write(tmp_path, OPEN_CONFIG), "--model", model)
    assert result.exit_code == code
    assert says in result.stdout


def test_model_json_who() -> None:
    data = json.loads(run("--config", AZ, "--model", "gpt-4o-mini", "--format", "json").stdout)
    assert data["who"] == "some"
    assert {p["value"] for p in data["allowed"]} == {None, "LLM.User", "LLM.Admin"}
    assert json.loads(run("--config", KC, "--model", "nope", "--format", "json").stdout)["who"] == \
        "not_in_model_list"


@pytest.mark.parametrize("role", ["internal_user", "litellm-user"], ids=["gateway-role", "jwt-role-value"])
def test_role_lists_models_routes_and_lines(role: str) -> None:
    result = run("--config", KC, "--role", role)
    assert result.exit_code == 0
    out = result.stdout
    assert "models: gpt-4o-mini, llama-3-70b" in out
    assert "and role_permissions routes: openai_routes, info_routes  [sample_configs/keycloak.yaml:37]" in out


def test_role_admin_via_scope_shows_admin_routes() -> None:
    data = json.loads(run("--config", KC, "--role", "proxy_admin", "--format", "json").stdout)
    scope = next(g for g in data["grants"] if g["kind"] == "admin_scope")
    assert scope["routes"] == ["openai_routes", "management_routes", "info_routes"]
    assert scope["models"] == ["gpt-4o", "gpt-4o-mini", "llama-3-70b"]


def test_unknown_role_exits_1() -> None:
    result = run("--config", KC, "--role", "team")
    assert result.exit_code == 1
    assert "no config condition grants it" in result.stdout


def test_claims_trace_is_labelled_unverified_with_notes() -> None:
    claims = {"sub": "bob", "scp": "x", "resource_access": {"litellm": {"roles": "litellm-user"}}}
    result = run("--config", KC, "--claims", json.dumps(claims), "--model", "gpt-4o")
    assert result.exit_code == 1
    out = result.stdout
    assert out.startswith("UNVERIFIED claims")
    # The oracle (LiteLLM's code): a string roles claim is read character by character, so it maps to no role.
    assert out.splitlines()[-1].startswith("DENIED [policy.no_role]")
    assert "no role_mappings entry matches" in out
    assert any(line.startswith("note: ") and "character by character" in line for line in out.splitlines())


def test_claims_from_file_allowed(tmp_path: Path) -> None:
    path = write(tmp_path, json.dumps({"oid": "u1"}), "claims.json")
    result = run("--config", AZ, "--claims", f"@{path}", "--model", "gpt-4o-mini", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["verified"] is False
    assert data["allowed"] is True
    assert data["role"] == "internal_user"


@pytest.mark.parametrize(("args", "message"), [
    (["--claims", "{not json"], "--claims: not valid JSON"),
    (["--claims", "[1, 2]"], "claims must be a JSON object, not list"),
    (["--claims", "@/nonexistent/claims.json"], "cannot read claims file"),
    (["--claims", "{}", "--role", "team"], "choose one of --role, --claims and --token"),
    (["--model", "a", "--role", "team"], "--model and --role answer different questions"),
    (["--format", "xml"], "--format 'xml' is not one of text, json"),
], ids=["bad-json", "not-object", "missing-file", "two-selectors", "model-and-role", "bad-format"])
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    result = run("--config", KC, *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in result.stderr


def test_missing_config_exits_2() -> None:
    result = run("--config", "/nonexistent.yaml")
    assert result.exit_code == 2
    assert "no such file" in result.stderr


# --- property: explain --claims agrees with decide() ---------------------------------------------------

ROLE_VALUES = ["r-admin", "r-user", "r-team", "r-other"]


@st.composite
def configs(draw: st.DrawFn) -> str:
    jwt: list[str] = [f"enforce_rbac: {str(draw(st.booleans())).lower()}", "roles_jwt_field: groups"]
    mappings = draw(st.lists(st.sampled_from(ROLE_VALUES[:3]), unique=True))
    targets = {"r-admin": "proxy_admin", "r-user": "internal_user", "r-team": "team"}
    if mappings:
        jwt.append("role_mappings:")
        jwt += [f"  - {{role: {v}, internal_role: {targets[v]}}}" for v in mappings]
    if draw(st.booleans()):
        jwt.append("user_id_jwt_field: uid")
    if draw(st.booleans()):
        jwt.append("team_id_jwt_field: tid")
    if draw(st.booleans()):
        jwt += ["enforce_scope_based_access: true", "scope_mappings:", "  - {scope: s.a, models: [m1]}"]
    perms = draw(st.lists(st.sampled_from(["proxy_admin", "team", "internal_user"]), unique=True))
    lines = ["model_list:", "  - {model_name: m1, litellm_params: {model: openai/m1}}",
             "  - {model_name: m2, litellm_params: {model: openai/m2}}", "general_settings:",
             "  enable_jwt_auth: true", "  litellm_jwtauth:", *(f"    {x}" for x in jwt)]
    if perms:
        lines.append("  role_permissions:")
        lines += [f"    - {{role: {p}, models: [{draw(st.sampled_from(['m1', 'm2']))}]}}" for p in perms]
    return "\n".join(lines) + "\n"


claim_sets = st.fixed_dictionaries({}, optional={
    "groups": st.one_of(st.lists(st.sampled_from(ROLE_VALUES)), st.sampled_from(ROLE_VALUES)),
    "uid": st.sampled_from(["u1", ""]),
    "tid": st.sampled_from(["t1", ["t2"]]),
    "scope": st.sampled_from(["litellm_proxy_admin", "s.a", "s.a other", ""]),
    "scp": st.just("s.a"),
})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=configs(), claims=claim_sets, model=st.sampled_from(["m1", "m2", "m3"]))
def test_explain_claims_agrees_with_decide(config: str, claims: dict[str, Any], model: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "c.yaml")
        Path(path).write_text(config, encoding="utf-8")
        result = run("--config", path, "--claims", json.dumps(claims), "--model", model, "--format", "json")
        policy = load_policy_file(path, {})
        expected = with_forwarding(policy, decide(policy, claims, Request(model, "/v1/chat/completions")),
                                   "/v1/chat/completions")
    data = json.loads(result.stdout)
    assert result.exit_code == (0 if expected.allowed else 1)
    assert data["allowed"] == expected.allowed
    assert data["role"] == expected.role
    assert (data["reason"] or {}).get("code") == (expected.reason.code if expected.reason else None)
    assert [s["detail"] for s in data["steps"]] == [s.detail for s in expected.steps]
    assert data["notes"] == list(expected.notes)


def test_matrix_marks_cells_that_need_a_scope() -> None:
    result = run("--config", "sample_configs/scopes.yaml")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[4].split() == ["(no", "role)", "<-", "any", "scope:llm.chat", "scope:llm.chat",
                                "scope:llm.embeddings"]
    assert lines[-1].startswith("scope:S = allowed only when the token's scope claim also contains S")


def test_model_behind_a_scope_is_not_everyone() -> None:
    result = run("--config", "sample_configs/scopes.yaml", "--model", "gpt-4o")
    assert result.exit_code == 0, result.stderr
    assert "everyone" not in result.stdout
    assert "no role: any verified token without a role claim and scope contains 'llm.chat'" in result.stdout
    denied = run("--config", "sample_configs/scopes.yaml", "--claims", "{}", "--model", "gpt-4o")
    assert denied.exit_code == 1


def test_matrix_json_names_the_issuer() -> None:
    result = run("--config", "sample_configs/multi-issuer.yaml", "--format", "json")
    rows = json.loads(result.stdout)["rows"]
    assert [r["issuer"] for r in rows if r["kind"] == "user_id"] == [None, "https://acme.okta.com/oauth2/default"]


USER = '{"resource_access": {"litellm": {"roles": ["litellm-user"]}}}'
ADMIN = '{"scope": "litellm_proxy_admin"}'


@pytest.mark.parametrize(("claims", "route", "mark", "says", "verdict", "code"), [
    (USER, "/v1/chat/completions", "✓", "(inference route) is forwarded to the upstream with the upstream key",
     "ALLOWED", 0),
    (USER, "/model/info", "•", "(model_info route) is answered by jwtgate from the config (the caller's models only)",
     "ALLOWED", 0),
    (USER, "/key/list", "✗", "refused: /key/list (key route) would be sent with the shared upstream credential; "
     "only proxy_admin or a role with jwtgate.serve.upstream_keys may", "DENIED [policy.upstream_scope] /key/list",
     1),
    (ADMIN, "/key/list", "✓", "(key route) is forwarded to the upstream with the upstream key", "ALLOWED", 0),
], ids=["inference", "answered", "refused", "admin"])
def test_claims_trace_ends_with_what_serve_does_with_the_route(claims: str, route: str, mark: str, says: str,
                                                               verdict: str, code: int) -> None:
    result = run("--config", KC, "--claims", claims, "--route", route)
    assert result.exit_code == code, result.output
    lines = result.stdout.splitlines()
    assert [line for line in lines if "forwarding" in line] == [lines[-2]]
    assert lines[-2].startswith(f"{mark} forwarding") and says in lines[-2]
    assert lines[-1].startswith(verdict)


def test_claims_json_has_the_forwarding_step_and_the_refusal_as_the_result() -> None:
    result = run("--config", KC, "--claims", USER, "--route", "/key/list", "--format", "json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["allowed"] is False and doc["reason"]["code"] == "policy.upstream_scope"
    assert [s["name"] for s in doc["steps"]][-2:] == ["decision", "forwarding"]
    step = doc["steps"][-1]
    assert (step["status"], step["data"]) == ("fail", {"how": "refuse", "group": "key", "credential": None})
    assert "upstream" not in doc  # nothing goes upstream for a refused route


def test_a_denied_request_has_no_forwarding_step() -> None:
    result = run("--config", KC, "--claims", USER, "--model", "gpt-4o", "--format", "json")
    doc = json.loads(result.stdout)
    assert (result.exit_code, doc["reason"]["code"]) == (1, "policy.model_not_allowed")
    assert "forwarding" not in [s["name"] for s in doc["steps"]]
