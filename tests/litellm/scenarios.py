"""Scenarios for the differential suite: generated (hypothesis, fixed seed) plus the cases users report.

A scenario is plain JSON: ``general_settings`` (what LiteLLM's proxy reads, with ``litellm_jwtauth`` and
``role_permissions``), ``model_list`` names, the verified ``claims``, the request's ``model`` (absent when
the key is missing) and ``route``. The budget is ``JWTGATE_ORACLE_EXAMPLES`` (default 300).
"""

from __future__ import annotations

import json
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

DEFAULT_EXAMPLES = 300
ABSENT: Any = "<absent>"  # a key left out of a mapping

# Claim paths: flat, nested, escaped dot, `metadata.` prefix (LiteLLM strips it), dot-indexed.
PATHS = ("tid", "groups", "roles", "realm_access.roles", "kubernetes\\.io.namespace", "metadata.team",
         "sub", "email", "roles.0", "oid")
# Claim values: present, empty string, empty list, null, dict, number, nested list, whitespace string.
VALUES: tuple[Any, ...] = ("admin", "dev", "team-a", "litellm_proxy_admin", "alice@example.com",
                           "bob@other.org", "", [], ["admin"], ["dev", "admin"], ["team-a", "team-b"], None,
                           {"k": "v"}, 3, [["admin"]], "admin dev", True)
ROUTE_ENTRIES = ("openai_routes", "info_routes", "mcp_routes", "management_routes", "llm_api_routes",
                 "anthropic_routes", "spend_tracking_routes", "global_spend_tracking_routes", "/v1/messages",
                 "/key/generate", "/custom/*", "/v1/chat/completions", "self_managed_routes", "/team/update",
                 "passthrough_routes_wildcard", "mapped_pass_through_routes", "/bedrock/*")
ROUTES = ("/v1/chat/completions", "/chat/completions", "/v1/embeddings", "/v1/responses", "/v1/models",
          "/models", "/v1/messages", "/v1/messages/count_tokens", "/key/generate", "/key/info", "/team/new",
          "/user/info", "/model/info", "/global/spend/logs", "/spend/logs", "/mcp/tools/list", "/mcp/",
          "/v1/mcp/server", "/openai/deployments/gpt-4o/chat/completions", "/engines/gpt-4o/completions",
          "/v1beta/models/gemini:generateContent", "/health", "/anthropic/v1/messages",
          "/bedrock/model/x/invoke", "/azure/openai/deployments/gpt-4o/chat/completions", "/custom/route",
          "/utils/token_counter", "/user/new", "/key/list")
MODELS = ("gpt-4o", "claude", "", "not-listed")
SCOPES: tuple[Any, ...] = ("read", "litellm_proxy_admin", "read litellm_proxy_admin", ["litellm_proxy_admin"],
                           "models:gpt", ["read", "models:gpt"], "", "read models:gpt", ["models:gpt"],
                           "admin", ["admin", "read"], 5, {"a": 1}, None)
BOOLISH: tuple[Any, ...] = (True, True, True, False, False, "true", "false", "yes", "maybe", 1, 0, None)


def _chance(n: int) -> st.SearchStrategy[bool]:
    """True about once in n+1 draws (hypothesis favours small integers, so no ``integers(0, n) == 0``)."""
    return st.sampled_from((False,) * n + (True,))


def _opt(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.just(ABSENT), strategy)


def _mapping(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(fields).map(lambda d: {k: v for k, v in d.items() if v is not ABSENT})


_paths = st.sampled_from(PATHS)
_entries = st.lists(st.sampled_from(ROUTE_ENTRIES), max_size=3, unique=True)
_model_lists = st.lists(st.sampled_from(MODELS), min_size=1, max_size=2, unique=True)
# A string where LiteLLM wants a list refuses the config: kept rare so most scenarios reach a decision.
_models_field = st.one_of(st.none(), st.just([]), _model_lists, _model_lists, _model_lists,
                          st.sampled_from((["gpt-4o"],) * 5 + ("gpt-4o",)))
_routes_field = st.one_of(st.none(), st.just([]), _entries, _entries, _entries,
                          st.sampled_from((["openai_routes"],) * 5 + ("openai_routes",)))
_role_name = st.sampled_from(("proxy_admin", "team", "internal_user") * 4 + ("admin",))

_permission = _mapping(role=_role_name, models=_opt(_models_field), routes=_opt(_routes_field),
                       extra=st.sampled_from((ABSENT,) * 30 + ("x",)))
_role_mapping = _mapping(role=st.sampled_from(("admin", "dev", "team-a", "litellm_proxy_admin")),
                         internal_role=st.sampled_from(("proxy_admin", "team", "internal_user")))
_scope_mapping = _mapping(scope=st.sampled_from(("models:gpt", "read", "litellm_proxy_admin")),
                          models=_opt(st.lists(st.sampled_from(MODELS[:2]), max_size=2, unique=True)))


@st.composite
def jwtauth(draw: st.DrawFn) -> dict[str, Any]:
    """A ``litellm_jwtauth`` block over every key jwtgate reads (pairs LiteLLM requires mostly kept)."""
    out = draw(_mapping(
        admin_jwt_scope=_opt(st.sampled_from(("litellm_proxy_admin", "admin"))),
        admin_allowed_routes=_opt(_entries),
        team_allowed_routes=_opt(_entries),
        team_id_jwt_field=_opt(_paths),
        team_ids_jwt_field=_opt(_paths),
        team_alias_jwt_field=st.sampled_from((ABSENT,) * 5 + ("team_name",)),
        team_id_default=st.sampled_from((ABSENT,) * 5 + ("default-team",)),
        user_id_jwt_field=_opt(_paths),
        user_email_jwt_field=_opt(st.just("email")),
        user_allowed_email_domain=st.sampled_from((ABSENT,) * 4 + ("example.com",)),
        enforce_rbac=_opt(st.sampled_from(BOOLISH)),
        enforce_team_based_model_access=st.sampled_from((ABSENT,) * 4 + (True,)),
    ))
    if draw(_chance(3)):
        out["user_roles_jwt_field"] = draw(_paths)
        if not draw(_chance(7)):
            out["user_allowed_roles"] = draw(st.lists(st.sampled_from(("admin", "dev")), min_size=1, unique=True))
    if draw(_chance(2)):
        out["roles_jwt_field"] = draw(_paths)
        out["role_mappings"] = draw(st.lists(_role_mapping, min_size=1, max_size=3))
        if draw(_chance(3)):
            out["object_id_jwt_field"] = draw(st.sampled_from(("oid", "sub")))
    if draw(_chance(3)):
        out["scope_mappings"] = draw(st.lists(_scope_mapping, min_size=1, max_size=2))
        out["enforce_scope_based_access"] = draw(st.sampled_from((True, True, True, False)))
    if draw(_chance(30)):
        out["team_jwt_scope"] = "team"  # an unknown key: LiteLLM refuses the config
    return out


@st.composite
def claims(draw: st.DrawFn) -> dict[str, Any]:
    """Verified claims: the names the paths above read, each absent or one of VALUES."""
    value = st.sampled_from(VALUES)
    out: dict[str, Any] = draw(_mapping(
        sub=_opt(st.sampled_from(("user-1", "", None, 7))), tid=_opt(value), groups=_opt(value),
        roles=_opt(value), email=_opt(st.sampled_from(("alice@example.com", "bob@other.org", "", None, []))),
        oid=_opt(st.sampled_from(("obj-1", ""))), team=_opt(value), team_name=_opt(st.sampled_from(("t", ""))),
        scope=_opt(st.sampled_from(SCOPES)), scp=st.sampled_from((ABSENT,) * 4 + ("litellm_proxy_admin",)),
    ))
    if draw(st.booleans()):
        out["realm_access"] = {"roles": draw(value)}
    if draw(_chance(3)):
        out["kubernetes.io"] = {"namespace": draw(value)}
    if draw(_chance(3)):
        out["metadata"] = {"team": draw(value)}
    return out


@st.composite
def scenario(draw: st.DrawFn) -> dict[str, Any]:
    general: dict[str, Any] = {"enable_jwt_auth": True, "litellm_jwtauth": draw(jwtauth())}
    if draw(st.booleans()):
        general["role_permissions"] = draw(st.lists(_permission, max_size=3))
    top_rbac = draw(st.sampled_from((ABSENT,) * 6 + (True, False, "false", "true")))
    if top_rbac is not ABSENT:
        general["enforce_rbac"] = top_rbac
    out: dict[str, Any] = {"general_settings": general, "model_list": ["gpt-4o", "claude"],
                           "claims": draw(claims()), "route": draw(st.sampled_from(ROUTES))}
    model = draw(st.sampled_from((ABSENT, *MODELS)))
    if model is not ABSENT:
        out["model"] = model
    return out


def generated(examples: int | None = None) -> list[dict[str, Any]]:
    """``examples`` scenarios (default ``JWTGATE_ORACLE_EXAMPLES`` or 300), the same on every run."""
    budget = examples or int(os.environ.get("JWTGATE_ORACLE_EXAMPLES", DEFAULT_EXAMPLES))
    seen: dict[str, dict[str, Any]] = {}

    @settings(max_examples=budget, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(scenario())
    def collect(s: dict[str, Any]) -> None:
        seen.setdefault(json.dumps(s, sort_keys=True), s)

    collect()
    return [{"id": f"gen-{i:04d}", **s} for i, s in enumerate(seen.values())]


def _case(case_id: str, jwt: dict[str, Any], claims_: dict[str, Any], route: str = "/v1/chat/completions",
          model: Any = ABSENT, **general: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"id": case_id, "general_settings": {"enable_jwt_auth": True, "litellm_jwtauth": jwt,
                                                                **general},
                           "model_list": ["gpt-4o", "claude"], "claims": claims_, "route": route}
    if model is not ABSENT:
        out["model"] = model
    return out


# The cases users report (BerriAI/litellm issues and PRs), as scenarios.
REPORTED: tuple[dict[str, Any], ...] = (
    # #31189: a JWT team on /v1/messages (team_allowed_routes without anthropic routes).
    _case("gh31189-team-messages", {"team_id_jwt_field": "tid", "team_allowed_routes": ["openai_routes"]},
          {"tid": "t1"}, "/v1/messages", "claude"),
    # #20001: a string roles claim is iterated per character, so "admin" never matches a role mapping.
    _case("gh20001-string-roles", {"roles_jwt_field": "roles", "enforce_rbac": True,
                                   "role_mappings": [{"role": "admin", "internal_role": "internal_user"}]},
          {"roles": "admin"}),
    _case("gh20001-csv-roles", {"roles_jwt_field": "roles",
                                "role_mappings": [{"role": "dev", "internal_role": "internal_user"}],
                                "enforce_rbac": True}, {"roles": "admin,dev"}),
    # PR #22336: Azure AD `roles` list as team_id_jwt_field; `roles.0` is not an index.
    _case("pr22336-roles-list-team", {"team_id_jwt_field": "roles"}, {"roles": ["team-a", "team-b"]}),
    _case("pr22336-roles-dot-index", {"team_id_jwt_field": "roles.0"}, {"roles": ["team-a"]}),
    # #6793: Okta/Azure put scopes in `scp`, which LiteLLM does not read.
    _case("gh6793-scp-admin", {}, {"scp": "litellm_proxy_admin"}, "/key/generate"),
    # The admin scope cannot call inference by default (admin_allowed_routes lacks openai_routes).
    _case("admin-scope-chat", {}, {"scope": "litellm_proxy_admin"}, "/v1/chat/completions", "gpt-4o"),
    # #27536: role_permissions models do not honour wildcards.
    _case("gh27536-wildcard-model", {"user_id_jwt_field": "sub", "enforce_rbac": True}, {"sub": "u1"},
          model="gpt-4o", role_permissions=[{"role": "internal_user", "models": ["gpt-*"]}]),
    # PR #18055: Kubernetes service-account tokens, dotted claim keys.
    _case("pr18055-k8s-namespace", {"team_alias_jwt_field": "kubernetes\\.io.namespace"},
          {"kubernetes.io": {"namespace": ""}}),
    # A team field set and no team in the token: "No team found in token" (empty string, empty list).
    _case("team-required-empty-string", {"team_id_jwt_field": "tid"}, {"tid": ""}, model="gpt-4o"),
    _case("team-required-empty-list", {"team_id_jwt_field": "tid"}, {"tid": []}, model="gpt-4o"),
    # PR #9454: non-admin JWTs must not call /team/* management routes.
    _case("pr9454-user-team-new", {"user_id_jwt_field": "sub"}, {"sub": "u1"}, "/team/new"),
    # Management routes granted to a role through role_permissions[].routes.
    _case("mgmt-via-role-permissions", {"user_id_jwt_field": "sub", "enforce_rbac": True}, {"sub": "u1"},
          "/key/generate", role_permissions=[{"role": "internal_user", "routes": ["management_routes"]}]),
    # A role-mapped proxy_admin on an admin route.
    _case("role-mapped-admin-route", {"roles_jwt_field": "roles", "enforce_rbac": True,
                                      "role_mappings": [{"role": "admin", "internal_role": "proxy_admin"}]},
          {"roles": ["admin"]}, "/key/generate"),
    # An empty model name is checked like any other model.
    _case("empty-model-rbac", {"user_id_jwt_field": "sub", "enforce_rbac": True}, {"sub": "u1"}, model="",
          role_permissions=[{"role": "internal_user", "models": ["gpt-4o"]}]),
    # No model in the request while RBAC is off.
    _case("no-model-rbac-off", {"user_id_jwt_field": "sub"}, {"sub": "u1"}, "/v1/chat/completions"),
    # Top-level enforce_rbac as the string "false" (Python truthiness: on).
    _case("top-enforce-rbac-string", {}, {"sub": "u1"}, enforce_rbac="false"),
    # The `metadata.` prefix is stripped.
    _case("metadata-prefix", {"user_id_jwt_field": "metadata.uid", "enforce_rbac": True},
          {"uid": "u1", "metadata": {"other": 1}}),
    # PR #41924 shape: role_permissions with an unknown key or a non-list models refuses to load.
    _case("refused-unknown-key", {}, {"sub": "u1"},
          role_permissions=[{"role": "internal_user", "model": ["gpt-4o"]}]),
    _case("refused-models-string", {}, {"sub": "u1"},
          role_permissions=[{"role": "internal_user", "models": "gpt-4o"}]),
    _case("refused-enforce-rbac-maybe", {"enforce_rbac": "maybe"}, {"sub": "u1"}),
    # Intended differences (jwtgate/policy/litellm_differences.py), each reached once here.
    _case("LD002-object-id-team-routes", {"roles_jwt_field": "roles", "object_id_jwt_field": "oid",
                                          "role_mappings": [{"role": "t", "internal_role": "team"}],
                                          "team_allowed_routes": ["/v1/chat/completions"]},
          {"roles": ["t"], "oid": "team-1"}, "/v1/embeddings", "gpt-4o"),
    _case("LD003-self-managed-route", {"user_id_jwt_field": "sub"}, {"sub": "u1"}, "/team/update"),
    _case("LD004-roles-object", {"roles_jwt_field": "roles", "enforce_rbac": True,
                                 "role_mappings": [{"role": "admin", "internal_role": "internal_user"}]},
          {"roles": {"admin": 1}}),
    _case("LD003-mcp-rest", {"user_id_jwt_field": "sub"}, {"sub": "u1"}, "/mcp-rest/servers"),
)


def all_scenarios(examples: int | None = None) -> list[dict[str, Any]]:
    return [*REPORTED, *generated(examples)]
