"""decide(): LiteLLM's semantics as decision tables — one row per (config, claims, request) -> outcome."""

from __future__ import annotations

from typing import Any

import pytest

from jwtgate.config.loader import load_policy
from jwtgate.model import Policy, Request
from jwtgate.policy.decision import allowed_models, decide

MODELS = """
model_list:
  - {model_name: gpt-4o, litellm_params: {model: openai/gpt-4o}}
  - {model_name: gpt-4o-mini, litellm_params: {model: openai/gpt-4o-mini}}
  - {model_name: llama, litellm_params: {model: hosted_vllm/llama, api_base: "http://127.0.0.1:8000/v1"}}
"""

KEYCLOAK = MODELS + """
general_settings:
  enable_jwt_auth: true
  litellm_jwtauth:
    roles_jwt_field: "resource_access.app.roles"
    enforce_rbac: true
    role_mappings:
      - {role: app-admin, internal_role: proxy_admin}
      - {role: app-user, internal_role: internal_user}
      - {role: app-team, internal_role: team}
  role_permissions:
    - {role: proxy_admin, models: [gpt-4o, gpt-4o-mini, llama]}
    - {role: internal_user, models: [gpt-4o-mini], routes: [openai_routes]}
    - {role: team, models: []}
"""

AZURE = MODELS + """
general_settings:
  enable_jwt_auth: true
  litellm_jwtauth:
    user_roles_jwt_field: roles
    user_allowed_roles: [LLM.User]
    enforce_rbac: true
  role_permissions:
    - {role: internal_user, models: [gpt-4o-mini]}
"""

ORDER = MODELS + """
general_settings:
  litellm_jwtauth:
    roles_jwt_field: groups
    user_id_jwt_field: uid
    team_id_jwt_field: tid
    enforce_rbac: true
    role_mappings:
      - {role: users, internal_role: internal_user}
      - {role: admins, internal_role: proxy_admin}
  role_permissions:
    - {role: internal_user, models: [gpt-4o-mini]}
    - {role: proxy_admin, models: [gpt-4o]}
    - {role: team, models: [llama]}
"""

SCOPES = MODELS + """
general_settings:
  litellm_jwtauth:
    enforce_scope_based_access: true
    scope_mappings:
      - {scope: "llm.small", models: [gpt-4o-mini]}
      - {scope: "llm.all", models: [gpt-4o, gpt-4o-mini, llama]}
"""

ADMIN = MODELS + """
general_settings:
  litellm_jwtauth:
    enforce_rbac: true
    roles_jwt_field: roles
    role_mappings: [{role: admin, internal_role: proxy_admin}]
"""

OPEN = MODELS + """
general_settings:
  litellm_jwtauth:
    roles_jwt_field: roles
    role_mappings: [{role: user, internal_role: internal_user}]
  role_permissions:
    - {role: internal_user, models: [gpt-4o-mini]}
"""

TEAMS = MODELS + """
general_settings:
  litellm_jwtauth:
    team_id_jwt_field: team
    team_allowed_routes: ["/v1/chat/completions"]
    enforce_rbac: true
  role_permissions:
    - {role: team, models: [llama]}
"""

CONFIGS = {"keycloak": KEYCLOAK, "azure": AZURE, "order": ORDER, "scopes": SCOPES, "admin": ADMIN, "open": OPEN,
           "teams": TEAMS}


def _policy(name: str) -> Policy:
    return load_policy(CONFIGS[name], f"{name}.yaml", {})


def kc(*roles: str) -> dict[str, Any]:
    return {"sub": "u", "resource_access": {"app": {"roles": list(roles)}}}


# (id, config, claims, model, route, allowed, role, reason code)
TABLE = [
    # Keycloak: nested roles under resource_access.<client>.roles
    ("kc-user-small-model", "keycloak", kc("app-user"), "gpt-4o-mini", "/v1/chat/completions", True, "internal_user",
     None),
    ("kc-user-big-model", "keycloak", kc("app-user"), "gpt-4o", "/v1/chat/completions", False, "internal_user",
     "policy.model_not_allowed"),
    ("kc-admin-any-model", "keycloak", kc("app-admin"), "llama", "/chat/completions", True, "proxy_admin", None),
    ("kc-team-models-empty", "keycloak", kc("app-team"), "gpt-4o-mini", "/v1/chat/completions", False, "team",
     "policy.model_not_allowed"),
    ("kc-no-role-enforced", "keycloak", kc("other"), "gpt-4o-mini", "/v1/chat/completions", False, None,
     "policy.no_role"),
    ("kc-flat-claim-named-like-path", "keycloak", {"resource_access.app.roles": ["app-admin"]}, "gpt-4o",
     "/v1/chat/completions", False, None, "policy.no_role"),
    ("kc-user-route-outside-role-routes", "keycloak", kc("app-user"), None, "/key/generate", False, "internal_user",
     "policy.route_not_allowed"),
    ("kc-user-embeddings-route", "keycloak", kc("app-user"), "gpt-4o-mini", "/v1/embeddings", True, "internal_user",
     None),
    ("kc-model-from-azure-style-path", "keycloak", kc("app-user"), "gpt-4o",
     "/openai/deployments/gpt-4o/chat/completions", False, "internal_user", "policy.model_not_allowed"),
    # Azure AD / Entra ID: top-level roles list, user_allowed_roles
    ("az-allowed-role", "azure", {"roles": ["LLM.User"]}, "gpt-4o-mini", "/v1/chat/completions", True, "internal_user",
     None),
    ("az-role-case-differs", "azure", {"roles": ["llm.user"]}, "gpt-4o-mini", "/v1/chat/completions", False, None,
     "policy.no_role"),
    # The oracle (LiteLLM's code): a string roles claim is iterated per character, so it matches no role.
    ("az-string-roles-per-character", "azure", {"roles": "LLM.User Other"}, "gpt-4o-mini", "/v1/chat/completions",
     False, None, "policy.no_role"),
    # Role resolution order: team id > user id > role_mappings (first in config order)
    ("order-team-id-wins", "order", {"tid": "t1", "uid": "u1", "groups": ["admins"]}, "llama", "/v1/chat/completions",
     True, "team", None),
    ("order-user-id-before-mappings", "order", {"uid": "u1", "groups": ["admins"]}, "gpt-4o", "/v1/chat/completions",
     False, "internal_user", "policy.model_not_allowed"),
    ("order-first-mapping-wins", "order", {"groups": ["admins", "users"]}, "gpt-4o", "/v1/chat/completions", False,
     "internal_user", "policy.model_not_allowed"),
    ("order-list-team-id-first-element", "order", {"tid": ["t9", "t8"]}, "llama", "/v1/chat/completions", True, "team",
     None),
    # Scopes
    ("scope-small", "scopes", {"scope": "openid llm.small"}, "gpt-4o-mini", "/v1/chat/completions", True, None, None),
    ("scope-small-denies-big", "scopes", {"scope": "llm.small"}, "gpt-4o", "/v1/chat/completions", False, None,
     "policy.model_not_allowed"),
    ("scope-list-all", "scopes", {"scope": ["llm.all"]}, "llama", "/v1/chat/completions", True, None, None),
    ("scope-none-denies", "scopes", {}, "gpt-4o-mini", "/v1/chat/completions", False, None,
     "policy.model_not_allowed"),
    ("scp-never-grants", "scopes", {"scp": "llm.all"}, "gpt-4o", "/v1/chat/completions", False, None,
     "policy.model_not_allowed"),
    ("scope-bad-type", "scopes", {"scope": 42}, "gpt-4o", "/v1/chat/completions", False, None, "claims.scope_type"),
    # Admin scope: admin_allowed_routes (default excludes inference), role_permissions absent -> all models
    ("admin-scope-no-inference-by-default", "admin", {"scope": "litellm_proxy_admin"}, "gpt-4o",
     "/v1/chat/completions", False, "proxy_admin", "policy.route_not_allowed"),
    ("admin-scope-management-route", "admin", {"scope": "litellm_proxy_admin"}, None, "/key/generate", True,
     "proxy_admin", None),
    ("mapped-admin-gets-non-admin-routes", "admin", {"roles": ["admin"]}, "gpt-4o", "/v1/chat/completions", True,
     "proxy_admin", None),
    ("mapped-admin-no-management", "admin", {"roles": ["admin"]}, None, "/key/generate", False, "proxy_admin",
     "policy.route_not_allowed"),
    # enforce_rbac off: role_permissions are never applied
    ("rbac-off-permissions-ignored", "open", {"roles": ["user"]}, "gpt-4o", "/v1/chat/completions", True,
     "internal_user", None),
    ("rbac-off-no-role-continues", "open", {}, "gpt-4o", "/v1/chat/completions", True, None, None),
    # Teams: team_allowed_routes replace the defaults
    ("team-allowed-route", "teams", {"team": "t1"}, "llama", "/v1/chat/completions", True, "team", None),
    ("team-route-not-in-list", "teams", {"team": "t1"}, "llama", "/v1/embeddings", False, "team",
     "policy.route_not_allowed"),
]


@pytest.mark.parametrize(("config", "claims", "model", "route", "allowed", "role", "code"),
                         [row[1:] for row in TABLE], ids=[row[0] for row in TABLE])
def test_decision_table(config: str, claims: dict[str, Any], model: str | None, route: str, allowed: bool,
                        role: str | None, code: str | None) -> None:
    d = decide(_policy(config), claims, Request(model, route))
    assert (d.allowed, d.role, d.reason.code if d.reason else None) == (allowed, role, code)
    assert d.steps[-1].name == "decision"
    assert d.steps[-1].status == ("ok" if allowed else "fail")


def test_denial_points_at_the_config_line_that_decided() -> None:
    d = decide(_policy("keycloak"), kc("app-user"), Request("gpt-4o"))
    assert d.reason is not None and d.reason.location is not None
    assert d.reason.location.file == "keycloak.yaml"
    line = KEYCLOAK.splitlines()[d.reason.location.line - 1]
    assert line.strip() == "- {role: internal_user, models: [gpt-4o-mini], routes: [openai_routes]}"


def test_model_required_only_when_the_request_is_a_model_call() -> None:
    policy = _policy("keycloak")
    assert decide(policy, kc("app-user"), Request(None)).allowed  # check-token without --model: access only
    d = decide(policy, kc("app-user"), Request(None, model_expected=True))
    assert d.reason is not None and d.reason.code == "policy.model_required"
    open_policy = _policy("open")  # enforce_rbac off: unrestricted, so a model call may omit the model
    assert decide(open_policy, {"roles": ["user"]}, Request(None, model_expected=True)).allowed


@pytest.mark.parametrize(("claims", "note"), [
    ({"roles": "LLM.User"}, "character by character"),
    ({"roles": ["LLM.User"], "scp": "x"}, "'scp'"),
])
def test_litellm_differences_are_noted(claims: dict[str, Any], note: str) -> None:
    d = decide(_policy("azure"), claims, Request("gpt-4o-mini"))
    assert any(note in n for n in d.notes)


def test_metadata_prefix_is_stripped_as_litellm_does_and_noted() -> None:
    """The oracle (LiteLLM's get_nested_value): a leading 'metadata.' is removed before the lookup."""
    text = MODELS + """
general_settings:
  litellm_jwtauth:
    user_roles_jwt_field: metadata.roles
    user_allowed_roles: [u]
    enforce_rbac: true
"""
    policy = load_policy(text, "m.yaml", {})
    d = decide(policy, {"roles": ["u"]}, Request("gpt-4o"))
    assert d.allowed and any("metadata." in n for n in d.notes)
    assert not decide(policy, {"metadata": {"roles": ["u"]}}, Request("gpt-4o")).allowed


def test_allowed_models_is_decide_for_every_model() -> None:
    policy = _policy("keycloak")
    for claims in (kc("app-user"), kc("app-admin"), kc("app-team"), kc()):
        expected = tuple(m for m in policy.model_names if decide(policy, claims, Request(m)).allowed)
        assert allowed_models(policy, claims) == expected
    assert allowed_models(policy, kc("app-user")) == ("gpt-4o-mini",)


@pytest.mark.parametrize(
    ("claims", "stopped_at", "keys", "suggestion", "words"),
    [
        pytest.param({"resource_access": {"ap": {"roles": ["app-user"]}, "account": {}}}, "app", ["ap", "account"],
                     "resource_access.ap.roles", "no 'app' inside 'resource_access', which has ['ap', 'account']",
                     id="typo-in-the-middle"),
        pytest.param({"sub": "u1", "realm_access": {"roles": ["app-user"]}}, "resource_access",
                     ["sub", "realm_access"], None, "no 'resource_access' at the top level, which has",
                     id="token-without-the-claim"),
        pytest.param({"resource_access": {"app": {"role": ["app-user"]}}}, "roles", ["role"],
                     "resource_access.app.role", "did you mean 'resource_access.app.role'?", id="last-segment"),
        pytest.param({"resource_access": "app"}, "app", [], None, "'resource_access' is a str, not an object",
                     id="not-an-object"),
    ],
)
def test_absent_roles_claim_says_where_the_path_stopped(claims: dict[str, Any], stopped_at: str, keys: list[str],
                                                        suggestion: str | None, words: str) -> None:
    decision = decide(_policy("keycloak"), claims, Request("gpt-4o-mini"))
    step = next(s for s in decision.steps if s.name == "role" and "path_stop" in s.data)
    assert step.status == "warn" and not decision.allowed
    assert step.detail.startswith("claim 'resource_access.app.roles' is absent: the path stops at segment "
                                  f"'{stopped_at}'")
    assert words in step.detail and step.detail.endswith("(so no role_mappings entry matches)")
    assert step.data["path_stop"]["stopped_at"] == stopped_at
    assert step.data["path_stop"]["keys_there"] == keys and step.data["path_stop"]["did_you_mean"] == suggestion


def test_present_but_unmapped_roles_keep_the_plain_step() -> None:
    decision = decide(_policy("keycloak"), {"resource_access": {"app": {"roles": ["other"]}}}, Request("gpt-4o-mini"))
    step = next(s for s in decision.steps if s.name == "role" and "values" in s.data)
    assert step.detail == "'resource_access.app.roles' = ['other']: no role_mappings entry matches"
    assert "path_stop" not in step.data
