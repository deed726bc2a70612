"""Every lint rule: its code, line and column on a small config, and the registry itself."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from jwtgate.config.loader import load_policy, load_policy_file
from jwtgate.lint.registry import RULES, RULES_BY_CODE, SEMANTIC_RULES, lint_policy, rules_table
from jwtgate.model import Finding, Request
from jwtgate.policy.decision import decide

BASE = """\
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o}
  - model_name: gpt-4o-mini
    litellm_params: {model: openai/gpt-4o-mini}
general_settings:
  enable_jwt_auth: true
  litellm_jwtauth:
    issuers: [{issuer: "https://idp.example.com", audience: litellm}]
"""  # the lines each case adds start at line 10


def lint(text: str, env: dict[str, str] | None = None) -> list[Finding]:
    env = env or {}
    return lint_policy(load_policy(text, "c.yaml", env), env)


def places(text: str, env: dict[str, str] | None = None) -> list[tuple[str, int, int]]:
    return [(f.code, f.location.line, f.location.column) for f in lint(text, env)]


# (id, text added after BASE, expected (code, line, column) of every finding)
CASES = [
    ("clean", "    enforce_rbac: true\n    user_id_jwt_field: sub\n  role_permissions:\n"
     "    - role: internal_user\n      models: [gpt-4o]\n", []),
    ("JG104-typo", "    enforce_rbac: true\n  role_permissions:\n    - role: internal_user\n"
     "      models: [gpt-4o, \"gpt4o\"]\n", [("JG104", 13, 24)]),
    ("JG104-scope", "    enforce_scope_based_access: true\n    scope_mappings:\n      - scope: chat\n"
     "        models: [gpt-5]\n", [("JG104", 13, 18)]),
    ("JG105", "    enforce_rbac: true\n  role_permissions:\n    - role: team\n      models: [gpt-4o]\n"
     "    - role: team\n      models: [gpt-4o-mini]\n", [("JG105", 14, 7)]),
    ("JG107-field-only", "    user_roles_jwt_field: roles\n", [("JG107", 10, 5)]),
    ("JG107-roles-only", "    user_allowed_roles: [llm]\n", [("JG107", 10, 5)]),
    ("JG108", "    object_id_jwt_field: oid\n", [("JG108", 10, 5)]),
    ("JG109-mappings-only", "    scope_mappings:\n      - scope: chat\n        models: [gpt-4o]\n",
     [("JG109", 10, 5)]),
    ("JG109-flag-only", "    enforce_scope_based_access: true\n", [("JG109", 10, 5)]),
    ("JG142", "jwtgate:\n  serve:\n    header_timeout: 61\n    body_timeout: 300\n    keepalive_timeout: 600\n",
     [("JG142", 12, 5), ("JG142", 14, 5)]),
    ("JG113", "    role_mappings:\n      - {role: admin, internal_role: proxy_admin}\n", [("JG113", 10, 5)]),
    ("JG201", "  role_permissions:\n    - role: team\n      models: [gpt-4o]\n", [("JG201", 10, 3)]),
    ("JG202", "  enforce_rbac: true\n", [("JG202", 10, 3)]),
    ("JG203", "    enforce_rbac: true\n  role_permissions:\n    - role: team\n      models: [\"gpt-*\"]\n",
     [("JG203", 13, 16)]),
    ("JG204-dot-index", "    team_id_jwt_field: groups.0\n", [("JG204", 10, 5)]),
    ("JG204-bracket", "    team_id_jwt_field: groups[0]\n", [("JG204", 10, 5)]),
    ("JG205", "    user_email_jwt_field: metadata.email\n", [("JG205", 10, 5)]),
    ("JG206-kubernetes", "    team_alias_jwt_field: kubernetes.io.namespace\n", [("JG206", 10, 5)]),
    ("JG206-url-claim", "    user_email_jwt_field: https://acme.example/email\n", [("JG206", 10, 5)]),
    ("JG206-escaped-ok", "    team_alias_jwt_field: 'kubernetes\\.io.namespace'\n", []),
    ("JG207", "    enforce_rbac: true\n    team_id_jwt_field: team\n  role_permissions:\n"
     "    - role: team\n      models: []\n", [("JG207", 14, 7)]),
    ("JG207-unreachable-ok", "    enforce_rbac: true\n    user_id_jwt_field: sub\n  role_permissions:\n"
     "    - role: internal_user\n      models: [gpt-4o]\n    - role: team\n      models: []\n", []),
    ("JG208", "    enforce_rbac: true\n    team_id_jwt_field: team\n", [("JG208", 11, 5)]),
    # team_alias_jwt_field names a team but grants no role: decide() refuses such tokens (policy.no_role)
    ("JG208-alias-only-ok", "    enforce_rbac: true\n    team_alias_jwt_field: team_alias\n", []),
    ("JG209", "    team_allowed_routes: [openai_routes]\n", [("JG209", 10, 5)]),
    ("JG209-superset-ok", "    team_allowed_routes: [llm_api_routes, info_routes, mcp_routes]\n",
     [("JG214", 8, 3)]),  # mcp_routes holds /v1/mcp/server, which only an admin passes behind jwtgate (LD003)
    # llm_api_routes holds only part of mcp_routes: decide() refuses /v1/mcp/server to such team tokens
    ("JG209-llm-api-lacks-mcp-server", "    team_allowed_routes: [llm_api_routes, info_routes, anthropic_routes]\n",
     [("JG214", 8, 3), ("JG209", 10, 5)]),
    ("JG210", "    enforce_rbac: true\n  role_permissions:\n    - role: proxy_admin\n"
     "      models: [gpt-4o]\n", [("JG210", 11, 3)]),
    ("JG210-set-routes", "    enforce_rbac: true\n    admin_allowed_routes: [management_routes]\n"
     "  role_permissions:\n    - role: proxy_admin\n      models: [gpt-4o]\n", [("JG210", 11, 5)]),
    ("JG211", "    user_id_jwt_field: sub\n    roles_jwt_field: roles\n    role_mappings:\n"
     "      - {role: admin, internal_role: proxy_admin}\n", [("JG211", 12, 5)]),
    ("JG212", "    enforce_scope_based_access: true\n    scope_mappings:\n      - scope: chat\n"
     "        models: [gpt-4o]\n        routes: [openai_routes]\n", [("JG212", 14, 9)]),
    ("JG214-team-from-object-id", "    roles_jwt_field: groups\n    object_id_jwt_field: oid\n"
     "    role_mappings: [{role: t, internal_role: team}]\n", [("JG214", 8, 3)]),
    ("JG214-serve-model-call", "    enforce_rbac: true\n    user_id_jwt_field: sub\n  role_permissions:\n"
     "    - role: internal_user\n      models: [gpt-4o]\njwtgate:\n  serve: {upstream: \"http://127.0.0.1:4001\"}\n",
     [("JG214", 8, 3)]),
    ("JG130-credential", "jwtgate:\n  identity:\n    headers:\n      X-End-User: sub\n      Authorization: sub\n",
     [("JG130", 14, 7)]),
    ("JG130-hop-by-hop", "jwtgate:\n  identity:\n    headers: {Connection: sub}\n", [("JG130", 12, 15)]),
    ("JG130-twice", "jwtgate:\n  identity:\n    headers: {X-User: sub, x-user: email}\n", [("JG130", 12, 28)]),
    ("JG130-own-header", "jwtgate:\n  identity:\n    headers: {x-jwtgate-subject: email}\n", [("JG130", 12, 15)]),
    ("JG130-bad-name", "jwtgate:\n  identity:\n    headers: {\"X User\": sub}\n", [("JG130", 12, 15)]),
    ("JG130-ok", "jwtgate:\n  identity:\n    headers: {x-litellm-end-user-id: sub, X-Groups: groups}\n"
     "    user_field: email\n", []),
    ("JG131", "  user_header_name: X-End-User\n", [("JG131", 10, 3)]),
    ("JG131-owned-ok", "  user_header_name: X-End-User\njwtgate:\n  identity:\n    headers: {x-end-user: sub}\n", []),
    ("JG131-user-field-ok", "  user_header_name: X-End-User\njwtgate:\n  identity:\n    user_field: sub\n", []),
    ("JG102-identity-path", "jwtgate:\n  identity:\n    headers: {X-User: 5}\n", [("JG102", 12, 15)]),
    ("JG303-insecure-skip", "jwtgate:\n  insecure_skip_audience: true\n", [("JG303", 11, 3)]),
    ("JG304-jwtgate-jwks", "jwtgate:\n  jwks: [\"http://keys.example.com/jwks.json\", \"http://127.0.0.1:9/k\"]\n",
     [("JG302", 7, 3), ("JG304", 11, 10)]),
]


@pytest.mark.parametrize(("extra", "expected"), [(c[1], c[2]) for c in CASES], ids=[c[0] for c in CASES])
def test_rule_code_line_column(extra: str, expected: list[tuple[str, int, int]]) -> None:
    assert places(BASE + extra) == expected


NO_ISSUERS = """\
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o}
general_settings:
  enable_jwt_auth: true
  litellm_jwtauth:
    user_id_jwt_field: sub
"""

ENV_CASES = [
    ("no-env", {}, [("JG302", 5, 3), ("JG305", 5, 3)]),
    ("audience-set", {"JWT_AUDIENCE": "litellm", "JWT_PUBLIC_KEY_URL": "https://idp/jwks"}, []),
    ("issuer-only", {"JWT_ISSUER": "https://idp", "JWT_PUBLIC_KEY_URL": "https://idp/jwks"}, [("JG308", 5, 3)]),
    ("http-key-url", {"JWT_AUDIENCE": "a", "JWT_PUBLIC_KEY_URL": "https://ok/jwks, http://idp.corp/jwks"},
     [("JG304", 5, 3)]),
    ("loopback-ok", {"JWT_AUDIENCE": "a", "JWT_PUBLIC_KEY_URL": "http://localhost:8080/jwks,http://[::1]/k"},
     []),
]


@pytest.mark.parametrize(("env", "expected"), [(c[1], c[2]) for c in ENV_CASES],
                         ids=[c[0] for c in ENV_CASES])
def test_environment_rules(env: dict[str, str], expected: list[tuple[str, int, int]]) -> None:
    assert places(NO_ISSUERS, env) == expected


ISSUERS = """\
general_settings:
  enable_jwt_auth: true
  litellm_jwtauth:
    issuers:
      - issuer: https://a.example.com
      - issuer: https://b.example.com
        audience: x
        disable_audience_validation: true
      - issuer: http://c.example.com
        disable_audience_validation: true
      - issuer: https://d.example.com
        audience: x
        jwks_url: http://d.example.com/keys
"""


def test_issuer_rules() -> None:
    assert places(ISSUERS) == [
        ("JG110", 5, 9), ("JG110", 6, 9), ("JG303", 8, 9), ("JG304", 9, 9), ("JG303", 10, 9),
        ("JG304", 13, 9),
    ]


def test_jwt_settings_while_jwt_auth_is_off() -> None:
    assert places(BASE.replace("  enable_jwt_auth: true\n", "")) == [("JG213", 7, 3)]
    assert places(BASE.replace("enable_jwt_auth: true", "enable_jwt_auth: false")) == [("JG213", 8, 3)]


def test_issuers_with_global_key_url_fall_back_unscoped() -> None:
    findings = lint(BASE, {"JWT_PUBLIC_KEY_URL": "https://idp.example.com/jwks"})
    assert [(f.code, f.location.line) for f in findings] == [("JG302", 7)]
    assert "fall back to JWT_PUBLIC_KEY_URL" in findings[0].message


def test_messages_and_hints_people_read() -> None:
    perms = "    enforce_rbac: true\n  role_permissions:\n    - role: team\n"
    typo = lint(BASE + perms + "      models: [gpt4o]\n")
    assert typo[0].message == "model 'gpt4o' in role_permissions is not in model_list"
    assert typo[0].hint == "did you mean 'gpt-4o'?"
    k8s = lint(BASE + "    team_alias_jwt_field: kubernetes.io.namespace\n")
    assert k8s[0].hint == "in single quotes, write 'kubernetes\\.io.namespace'"
    index = lint(BASE + "    user_roles_jwt_field: realm_access.roles[0]\n    user_allowed_roles: [a]\n")
    assert index[0].hint is not None and index[0].hint.startswith("write 'realm_access.roles'")


def test_access_group_reference_explains_itself() -> None:
    entry = "litellm_params: {model: openai/gpt-4o}\n"
    text = BASE.replace(entry, entry + "    model_info: {access_groups: [beta]}\n", 1)
    perms = "    enforce_rbac: true\n  role_permissions:\n    - role: team\n"
    findings = lint(text + perms + "      models: [beta]\n")
    assert [f.code for f in findings] == ["JG104"]
    assert findings[0].hint is not None and "access group" in findings[0].hint


def test_wildcard_model_list_entry_covers_references() -> None:
    text = BASE.replace("model_name: gpt-4o-mini", "model_name: \"openai/*\"")
    extra = "    enforce_rbac: true\n  role_permissions:\n    - role: team\n      models: [openai/o3]\n"
    assert places(text + extra) == []


def test_unparseable_file_reports_only_the_syntax_error() -> None:
    assert [f.code for f in lint("general_settings: [\n")] == ["JG001"]


def test_findings_are_sorted_and_unique() -> None:
    extra = "    team_id_jwt_field: groups.0\n    user_id_jwt_field: roles[0]\n  enforce_rbac: true\n"
    findings = lint(BASE + extra)
    keys = [f.sort_key() for f in findings]
    assert keys == sorted(keys) and len(set(findings)) == len(findings)


def test_every_finding_matches_its_rule_severity() -> None:
    samples = sorted(Path("sample_configs").rglob("*.yaml"))
    for path in samples:
        for f in lint(path.read_text(encoding="utf-8")):
            assert f.severity == RULES_BY_CODE[f.code].severity, (path, f)


def test_registry_is_complete_and_well_formed() -> None:
    codes = [r.code for r in RULES]
    assert codes == sorted(codes) and len(set(codes)) == len(codes)
    assert all(re.fullmatch(r"JG[0-3]\d\d", c) for c in codes)
    assert all(r.check is not None for r in SEMANTIC_RULES)
    assert all(r.summary and "\n" not in r.summary for r in RULES)
    assert {"JG104", "JG105"} <= set(codes)


def test_every_semantic_rule_is_exercised_here() -> None:
    covered = {c[2][0][0] for c in CASES if c[2]} | {"JG302", "JG305", "JG110", "JG303", "JG304", "JG213",
                                                    "JG306",  # JG306: tests/security/test_weak_secret.py
                                                    "JG307",
                                                    "JG120",  # JG120: tests/lint/test_claim_samples.py
                                                    "JG220",  # JG220: tests/lint/test_entra.py
                                                    "JG140", "JG141", "JG308"}
    assert {r.code for r in SEMANTIC_RULES} <= covered


def test_rules_table_lists_every_rule() -> None:
    table = rules_table().splitlines()
    assert table[0] == "| Code | Severity | What it finds |"
    assert len(table) == len(RULES) + 2


def test_a_policy_test_file_is_not_linted_as_a_config() -> None:
    findings = lint_policy(load_policy_file("sample_configs/tests/keycloak.yaml", {}), {})
    assert [(f.code, f.hint) for f in findings] == [
        ("JG005", "run 'jwtgate test sample_configs/tests/keycloak.yaml'")]
    assert "looks like a policy test file" in findings[0].message


def test_jg208_agrees_with_decide_when_only_team_alias_is_configured() -> None:
    text = BASE + "    enforce_rbac: true\n    team_alias_jwt_field: team_alias\n"
    policy = load_policy(text, "c.yaml", {})
    decision = decide(policy, {"sub": "u1", "team_alias": "research"}, Request(model="gpt-4o"))
    assert decision.reason is not None and decision.reason.code == "policy.no_role"
    assert "JG208" not in {f.code for f in lint(text)}


API_BASE_ENV = """\
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o}
  - model_name: llama
    litellm_params:
      model: hosted_vllm/llama
      api_base: os.environ/VLLM_BASE
general_settings:
  enable_jwt_auth: true
  litellm_jwtauth:
    issuers: [{issuer: "https://idp.example.com", audience: litellm}]
jwtgate: {serve: {mode: direct}}
"""


def test_jg307_an_unset_api_base_variable_is_an_error_at_its_line() -> None:
    found = [f for f in lint(API_BASE_ENV) if f.code == "JG307"]
    assert [(f.severity, f.location.line, f.location.column) for f in found] == [("error", 7, 7)]
    assert "VLLM_BASE" in found[0].message and "'llama'" in found[0].message
    assert found[0].hint is not None and "export VLLM_BASE=" in found[0].hint


def test_jg307_is_quiet_once_the_variable_is_set() -> None:
    assert "JG307" not in {f.code for f in lint(API_BASE_ENV, {"VLLM_BASE": "http://127.0.0.1:8000/v1"})}


def test_jg307_is_quiet_in_litellm_mode_where_litellm_reads_the_api_base() -> None:
    text = API_BASE_ENV.replace("mode: direct", "mode: litellm")
    assert "JG307" not in {f.code for f in lint(text)}


SERVE_MODE = """\
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o}
  - model_name: claude
    litellm_params: {model: anthropic/claude-3, api_base: "https://api.anthropic.com"}
general_settings:
  enable_jwt_auth: true
  litellm_jwtauth:
    issuers: [{issuer: "https://idp.example.com", audience: litellm}]
jwtgate:
  serve:
    mode: direct
"""


def test_jg141_direct_mode_with_a_provider_jwtgate_cannot_speak_is_an_error_at_the_model() -> None:
    found = [f for f in lint(SERVE_MODE) if f.code == "JG141"]
    assert [(f.severity, f.location.line) for f in found] == [("error", 5)]
    assert "'claude'" in found[0].message and "anthropic/" in found[0].message
    assert "JG141" not in {f.code for f in lint(SERVE_MODE.replace("mode: direct", "mode: litellm"))}


def test_jg140_direct_mode_without_any_api_base_is_an_error_at_the_mode() -> None:
    text = SERVE_MODE.replace(', api_base: "https://api.anthropic.com"', "")
    found = [f for f in lint(text) if f.code == "JG140"]
    assert [(f.severity, f.location.line) for f in found] == [("error", 12)]
    assert found[0].hint is not None and "mode: litellm" in found[0].hint


NO_AUDIENCE = """\
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o}
general_settings:
  enable_jwt_auth: true
"""
KEYS = {"JWT_PUBLIC_KEY_URL": "https://idp.example.com/jwks"}


@pytest.mark.parametrize(("env", "extra", "codes"), [
    ({**KEYS, "JWT_ISSUER": "https://idp.example.com"}, "", {"JG308"}),
    ({**KEYS, "JWT_ISSUER": "https://idp.example.com", "JWT_AUDIENCE": "gw"}, "", set()),
    ({**KEYS, "JWT_ISSUER": "https://idp.example.com"}, "jwtgate: {insecure_skip_audience: true}\n", set()),
    (KEYS, "", {"JG302"}),
], ids=["issuer-without-audience", "audience-set", "explicit-opt-out", "neither-is-jg302"])
def test_jg308_an_issuer_is_not_an_audience(env: dict[str, str], extra: str, codes: set[str]) -> None:
    found = {f.code for f in lint(NO_AUDIENCE + extra, env)} & {"JG302", "JG308"}
    assert found == codes
