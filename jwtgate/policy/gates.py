"""The checks after role resolution, in the order LiteLLM runs them; the first failure is the reason.

``JWTAuthManager.auth_builder``: RBAC (``litellm_jwtauth.enforce_rbac``: a role, its models, its routes),
``scope_mappings``, the admin route check (the admin scope stops here), the team a set
``team_id_jwt_field``/``team_alias_jwt_field`` requires, ``enforce_team_based_model_access``, the email
domain, the top-level ``general_settings.enforce_rbac`` identity check; then ``common_checks``' route gate
for every caller that is not a proxy admin. jwtgate adds ``team_allowed_routes`` for a team (LiteLLM applies
it when it loads the team from its database).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jwtgate.config.yaml_text import kind_of
from jwtgate.model import IssuerConfig, Location, Policy, Reason, Request
from jwtgate.policy import litellm_claims as lc
from jwtgate.policy import routes
from jwtgate.policy.litellm_differences import note as difference_note
from jwtgate.policy.trace import INTERNAL_USER, TEAM, Role, Trace

JWT = "general_settings.litellm_jwtauth"


def check_request(policy: Policy, claims: Mapping[str, Any], request: Request, role: Role,
                  scopes: tuple[Any, ...], cfg: IssuerConfig | None, trace: Trace) -> Reason | None:
    """The ordered checks; None when every one passes."""
    for gate in (_rbac, _scope_models, _email_readable):
        reason = gate(policy, claims, request, role, scopes, trace)
        if reason is not None:
            return reason
    if role.via == "scope":
        return _admin_routes(policy, request, trace) or _id_types(policy, claims, role, cfg)
    for later in (_team_required, _team_based_access, _email_domain, _top_level_rbac):
        reason = later(policy, claims, role, cfg, trace)
        if reason is not None:
            return reason
    return _id_types(policy, claims, role, cfg) or _non_admin_routes(policy, claims, request, role, trace)


def _rbac(policy: Policy, claims: Mapping[str, Any], request: Request, role: Role, scopes: tuple[Any, ...],
          trace: Trace) -> Reason | None:
    jwt = policy.jwt
    if not jwt.enforce_rbac:
        if role.role is None:
            trace.notes.append("enforce_rbac is off: a token with no role continues as an unrestricted internal user")
        return None
    if role.role is None:
        return Reason("policy.no_role", "no gateway role matched and enforce_rbac is on: the token must map to "
                      "proxy_admin, team or internal_user", policy.where(f"{JWT}.enforce_rbac"))
    perm = policy.permission_for(role.role)
    if perm is not None and perm.models is not None:
        reason = _model_in(request, perm.models, f"{role.role} may not use", perm.location, trace)
        if reason is not None:
            return reason
    if perm is not None and perm.routes is not None and not routes.allowed(perm.routes, request.route):
        return Reason("policy.route_not_allowed", f"role_permissions for {role.role} do not allow route "
                      f"{request.route}; allowed: {list(perm.routes)}", perm.location)
    return None


def _model_in(request: Request, models: tuple[str, ...], who: str, where: Location | None,
              trace: Trace) -> Reason | None:
    """An exact-name model check; a request without a model passes (LiteLLM), unless serve saw a model call."""
    if request.model is None:
        if request.model_expected:
            trace.notes.append(difference_note("LD001"))
            return Reason("policy.model_required", f"{request.route} names no model, and {who.split(' may')[0]} "
                          f"may use only {list(models)}", where)
        trace.add("model", "skip", f"no model in the request: only access is checked; a model call must name "
                  f"one of {list(models)}")
        return None
    if request.model in models:
        trace.add("model", "ok", f"'{request.model}' is allowed", where)
        return None
    return Reason("policy.model_not_allowed", f"{who} model '{request.model}'; allowed: {list(models)}", where)


def _scope_models(policy: Policy, claims: Mapping[str, Any], request: Request, role: Role,
                  scopes: tuple[Any, ...], trace: Trace) -> Reason | None:
    """``scope_mappings`` (when enforced): the union of the matching scopes' models; no model or "" passes."""
    jwt = policy.jwt
    if not (jwt.enforce_scope_based_access and jwt.scope_mappings):
        return None
    granted = tuple(dict.fromkeys(m for sm in jwt.scope_mappings if sm.scope in scopes for m in sm.models or ()))
    where = policy.where(f"{JWT}.scope_mappings")
    if not request.model and not (request.model is None and request.model_expected):
        trace.add("scopes", "skip", f"scopes {[str(s) for s in scopes]} grant {list(granted)}; the request names "
                  "no model, so LiteLLM does not check them", where)
        return None
    return _model_in(request, granted, "the token's scopes do not grant", where, trace)


def _email_readable(policy: Policy, claims: Mapping[str, Any], request: Request, role: Role,
                    scopes: tuple[Any, ...], trace: Trace) -> Reason | None:
    """LiteLLM checks the email domain of every caller up front: a non-string email makes it fail."""
    email = _email(policy, claims)
    if policy.jwt.user_allowed_email_domain and email is not None and not isinstance(email, str):
        return Reason("claims.unreadable", f"the email claim is {kind_of(email)}: LiteLLM fails the request while "
                      "checking user_allowed_email_domain, so jwtgate denies it",
                      policy.where(f"{JWT}.user_email_jwt_field"))
    return None


def _email(policy: Policy, claims: Mapping[str, Any]) -> Any:
    return lc.raw_id(claims, policy.jwt.user_email_jwt_field)


def _admin_routes(policy: Policy, request: Request, trace: Trace) -> Reason | None:
    entries = policy.jwt.admin_allowed_routes
    where = policy.where(f"{JWT}.admin_allowed_routes")
    if not routes.allowed(entries, request.route):
        return Reason("policy.route_not_allowed", f"route {request.route} is not in admin_allowed_routes "
                      f"{list(entries)} for the admin scope", where)
    trace.add("route", "ok", f"{request.route} is allowed by admin_allowed_routes", where)
    return None


def _rbac_team(policy: Policy, claims: Mapping[str, Any], role: Role) -> Any:
    """The team id the RBAC stage sets: object_id for a team role (truthy), else none."""
    obj = lc.raw_id(claims, policy.jwt.object_id_jwt_field)
    return obj if role.role == TEAM and obj else None


def _team_required(policy: Policy, claims: Mapping[str, Any], role: Role, cfg: IssuerConfig | None,
                   trace: Trace) -> Reason | None:
    """A set team_id_jwt_field / team_alias_jwt_field makes a team required ("No team found in token")."""
    jwt = policy.jwt
    team_path = _field(policy, cfg, "team_id_jwt_field")
    specific = lc.team_id(claims, team_path, jwt.team_id_default)
    teams = lc.hashable(tuple(lc.team_ids(claims, jwt.team_ids_jwt_field)), "the team_ids_jwt_field claim")
    if isinstance(teams, lc.Unreadable) or (specific and isinstance(specific, list | dict)):
        what = teams.what if isinstance(teams, lc.Unreadable) else "the team id claim is a nested list or object"
        return Reason("claims.unreadable", f"{what}: LiteLLM fails the request, so jwtgate denies it")
    if _rbac_team(policy, claims, role) or jwt.raw.get("fallback_to_db_teams"):
        return None
    if not (team_path or jwt.team_alias_jwt_field):
        return None
    alias = lc.raw_id(claims, jwt.team_alias_jwt_field)
    if specific or alias:
        trace.add("team", "ok", f"team {specific or alias!r} from the token (LiteLLM then loads it from its database)")
        return None
    return Reason("policy.no_team", f"no team in the token: team_id_jwt_field '{team_path}' and team_alias_jwt_field "
                  f"'{jwt.team_alias_jwt_field}' are set, which makes a team required (empty values count as none)",
                  policy.where(f"{JWT}.team_id_jwt_field") or policy.where(f"{JWT}.team_alias_jwt_field"))


def _field(policy: Policy, cfg: IssuerConfig | None, name: str) -> str | None:
    if cfg is not None and name in cfg.fields:
        return cfg.fields[name]
    value = getattr(policy.jwt, name, None)
    return value if isinstance(value, str) else None


def _team_based_access(policy: Policy, claims: Mapping[str, Any], role: Role, cfg: IssuerConfig | None,
                       trace: Trace) -> Reason | None:
    jwt = policy.jwt
    if not jwt.enforce_team_based_model_access or jwt.raw.get("fallback_to_db_teams"):
        return None
    teams = lc.team_ids(claims, jwt.team_ids_jwt_field)
    specific = lc.team_id(claims, _field(policy, cfg, "team_id_jwt_field"), jwt.team_id_default)
    if teams or specific or _rbac_team(policy, claims, role) or lc.raw_id(claims, jwt.team_alias_jwt_field):
        return None
    return Reason("policy.no_team", "enforce_team_based_model_access is on and the token names no team",
                  policy.where(f"{JWT}.enforce_team_based_model_access"))


def _email_domain(policy: Policy, claims: Mapping[str, Any], role: Role, cfg: IssuerConfig | None,
                  trace: Trace) -> Reason | None:
    """``user_allowed_email_domain``: the text after the last '@' (the whole email if none) must equal it."""
    domain = policy.jwt.user_allowed_email_domain
    if not domain:
        return None
    email = _email(policy, claims)
    if email is not None and email.split("@")[-1] == domain:
        return None
    return Reason("policy.email_domain", f"email '{email or '(none)'}' is not in the allowed domain '{domain}'",
                  policy.where(f"{JWT}.user_allowed_email_domain"))


def _top_level_rbac(policy: Policy, claims: Mapping[str, Any], role: Role, cfg: IssuerConfig | None,
                    trace: Trace) -> Reason | None:
    """``general_settings.enforce_rbac``: a non-admin needs a user id (the email counts) or a team id."""
    if not policy.general_enforce_rbac:
        return None
    user = _user_id(claims, _field(policy, cfg, "user_id_jwt_field"), _email(policy, claims))
    obj = lc.raw_id(claims, policy.jwt.object_id_jwt_field)
    if role.role == INTERNAL_USER and obj:
        user = obj
    if user or _rbac_team(policy, claims, role):
        return None
    return Reason("policy.no_identity", "general_settings.enforce_rbac is on and the token has neither a user "
                  "id nor a team id", policy.where("general_settings.enforce_rbac"))


def _user_id(claims: Mapping[str, Any], path: str | None, email: Any) -> Any:
    """``get_user_id(default=email)``: the claim, or the email when it is missing (or of another type)."""
    if not path:
        return email
    found, value = lc.read(claims, path)
    if not found:
        return email
    return value if email is None or isinstance(value, type(email)) else email


def _id_types(policy: Policy, claims: Mapping[str, Any], role: Role, cfg: IssuerConfig | None) -> Reason | None:
    """LiteLLM builds its auth object from the ids: one that is not a string (a number, a list) fails it."""
    jwt = policy.jwt
    email = _email(policy, claims)
    user = _user_id(claims, _field(policy, cfg, "user_id_jwt_field"), email)
    obj = lc.raw_id(claims, jwt.object_id_jwt_field)
    if role.role == INTERNAL_USER and obj:
        user = obj
    ids = {"user id": user, "email": email, "org id": lc.raw_id(claims, jwt.org_id_jwt_field),
           "team id": _rbac_team(policy, claims, role)}
    if role.via != "scope":
        ids["end-user id"] = lc.raw_id(claims, jwt.end_user_id_jwt_field)
    bad = next(((k, v) for k, v in ids.items() if v is not None and not isinstance(v, str)), None)
    if bad is None:
        return None
    return Reason("claims.unreadable", f"the {bad[0]} from the token is {kind_of(bad[1])}, not a string: LiteLLM "
                  "fails the request, so jwtgate denies it")


def _non_admin_routes(policy: Policy, claims: Mapping[str, Any], request: Request, role: Role,
                      trace: Trace) -> Reason | None:
    path = request.route
    if role.role == TEAM:
        entries = policy.jwt.team_allowed_routes
        where = policy.where(f"{JWT}.team_allowed_routes")
        if not routes.allowed(entries, path):
            if _rbac_team(policy, claims, role):
                trace.notes.append(difference_note("LD002"))
            return Reason("policy.route_not_allowed", f"route {path} is not in team_allowed_routes {list(entries)} "
                          "for team", where)
    if not routes.non_admin_allowed(path):
        if routes.passed_to_endpoint(path):
            trace.notes.append(difference_note("LD003", path))
        return Reason("policy.route_not_allowed", f"route {path} is for proxy admins only: a {role.role or 'caller'} "
                      "without the admin scope reaches LLM and info routes", None)
    trace.add("route", "ok", f"{path} is allowed by non-admin defaults (LLM and info routes)")
    return None
