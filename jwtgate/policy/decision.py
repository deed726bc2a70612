"""decide(policy, claims, request) -> Decision: the only place an access decision is made.

Follows LiteLLM's proxy semantics (../shared/reference/litellm-jwt.md §3): role resolution order
(admin scope > team id > user id / allowed user roles > role_mappings in config order), then
``role_permissions`` (exact model names), ``scope_mappings``, route groups. Where LiteLLM is unsafe or
surprising jwtgate decides safely and records a note saying what LiteLLM would do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jwtgate.config.schema import INTERNAL_USER, PROXY_ADMIN, TEAM
from jwtgate.model import Decision, IssuerConfig, Location, Policy, Reason, Request, Step, StepStatus
from jwtgate.policy import routes
from jwtgate.policy.claims import as_string_list, litellm_lookup_path, lookup, path_stop, split_path

# Routes a non-admin caller reaches without a JWT-level route list (LiteLLM's common_checks).
NON_ADMIN_ROUTES = ("llm_api_routes", "info_routes")


@dataclass
class _Trace:
    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, name: str, status: StepStatus, detail: str, location: Location | None = None,
            **data: Any) -> None:
        self.steps.append(Step(name, status, detail, location, dict(data)))


@dataclass(frozen=True)
class _Role:
    role: str | None
    via: str  # "scope", "team_id", "user_id", "user_roles", "role_mapping", "none"
    location: Location | None = None


def issuer_config(policy: Policy, claims: Mapping[str, Any]) -> IssuerConfig | None:
    """The ``issuers`` entry whose issuer equals the token's ``iss`` (exact), if any."""
    iss = claims.get("iss")
    for cfg in policy.jwt.issuers:
        if cfg.issuer == iss:
            return cfg
    return None


def field_path(policy: Policy, cfg: IssuerConfig | None, name: str) -> str | None:
    """A claim-path setting, per-issuer override first, then the global ``litellm_jwtauth`` value."""
    if cfg is not None and name in cfg.fields:
        return cfg.fields[name]
    value = getattr(policy.jwt, name, None)
    return value if isinstance(value, str) else None


def read_claim(claims: Mapping[str, Any], path: str, trace: _Trace, what: str) -> tuple[bool, Any]:
    """Look up a claim path, noting where LiteLLM would read something else (``metadata.`` prefix)."""
    found, value = lookup(claims, path)
    alt = litellm_lookup_path(path)
    if alt != path:
        alt_found, alt_value = lookup(claims, alt)
        if (alt_found, alt_value) != (found, value):
            trace.notes.append(
                f"{what}: LiteLLM strips the leading 'metadata.' and reads '{alt}'; jwtgate reads '{path}' as written")
    return found, value


# Claim-path settings decide() reads: per issuer (ISSUER_FIELDS) or global only.
ISSUER_FIELDS = ("team_id_jwt_field", "user_id_jwt_field", "user_email_jwt_field", "org_id_jwt_field",
                 "end_user_id_jwt_field")
GLOBAL_FIELDS = ("team_ids_jwt_field", "object_id_jwt_field", "user_roles_jwt_field", "roles_jwt_field")
OVERAGE_HINT = ("Entra ID leaves 'groups' out for a user in too many groups (overage): give the app roles and "
                "read 'roles', or filter the groups in the app registration (groups assigned to the application); "
                "jwtgate does not look groups up in Microsoft Graph")


def read_paths(policy: Policy, cfg: IssuerConfig | None) -> tuple[tuple[str, str], ...]:
    """(setting, claim path) of every claim-path setting decide() reads for a token of issuer ``cfg``."""
    out = [(name, field_path(policy, cfg, name)) for name in ISSUER_FIELDS]
    out += [(name, getattr(policy.jwt, name)) for name in GLOBAL_FIELDS]
    return tuple((name, path) for name, path in out if isinstance(path, str) and path)


def decision_claim_paths(policy: Policy) -> tuple[str, ...]:
    """Every claim path a decision under ``policy`` may read, for any issuer (what an access log keeps)."""
    paths = ["iss", "sub", "scope", "_claim_names", "hasgroups"]
    for cfg in (None, *policy.jwt.issuers):
        paths += [path for _, path in read_paths(policy, cfg)]
    return tuple(dict.fromkeys(paths))


def overage(policy: Policy, claims: Mapping[str, Any], cfg: IssuerConfig | None) -> Reason | None:
    """A claim the config reads that the IdP moved out of the token (``_claim_names`` or ``hasgroups``)."""
    moved = claims.get("_claim_names")
    names = set(moved) if isinstance(moved, Mapping) else set()
    if claims.get("hasgroups") is True:
        names.add("groups")
    if not names:
        return None
    for setting, path in read_paths(policy, cfg):
        head = split_path(path)[0]
        if head in names and not lookup(claims, path)[0]:
            return Reason("claims.overage", f"the token's '{head}' claim was left out by the identity provider "
                          f"(group overage: {'_claim_names' if head in (moved or {}) else 'hasgroups'}) and "
                          f"{setting} reads '{path}'", policy.where(f"general_settings.litellm_jwtauth.{setting}"))
    return None


def token_scopes(claims: Mapping[str, Any], trace: _Trace) -> tuple[str, ...] | Reason:
    """Scopes from the ``scope`` claim only (as LiteLLM); ``scp`` is noted, never used to grant."""
    raw = claims.get("scope")
    if "scp" in claims:
        trace.notes.append("the token carries 'scp'; LiteLLM and jwtgate read only 'scope', so 'scp' grants nothing")
    if raw is None:
        return ()
    if isinstance(raw, str):
        return tuple(raw.split())
    if isinstance(raw, list) and all(isinstance(s, str) for s in raw):
        return tuple(raw)
    return Reason("claims.scope_type", f"the 'scope' claim is a {type(raw).__name__}; expected a string or list")


def _string_values(claims: Mapping[str, Any], path: str, trace: _Trace, what: str) -> tuple[str, ...]:
    found, value = read_claim(claims, path, trace, what)
    if not found:
        return ()
    values, note = as_string_list(value)
    if note:
        trace.notes.append(f"{what} '{path}': {note}")
    return values


def _first_value(claims: Mapping[str, Any], path: str | None, trace: _Trace, what: str) -> str | None:
    """A single id claim; a list gives its first element (LiteLLM's current behaviour)."""
    if not path:
        return None
    found, value = read_claim(claims, path, trace, what)
    if not found or value is None:
        return None
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return str(value)


def resolve_role(policy: Policy, claims: Mapping[str, Any], scopes: tuple[str, ...],
                 cfg: IssuerConfig | None, trace: _Trace) -> _Role:
    """LiteLLM's get_rbac_role order, each step recorded in the trace."""
    jwt = policy.jwt
    if jwt.admin_jwt_scope in scopes:
        trace.add("role", "ok", f"scope contains '{jwt.admin_jwt_scope}' -> proxy_admin",
                  policy.where("general_settings.litellm_jwtauth.admin_jwt_scope"))
        return _Role(PROXY_ADMIN, "scope")
    team_path = field_path(policy, cfg, "team_id_jwt_field")
    team = _first_value(claims, team_path, trace, "team_id_jwt_field")
    if team is not None or jwt.team_id_default:
        how = f"claim '{team_path}' = '{team}'" if team is not None else f"team_id_default '{jwt.team_id_default}'"
        trace.add("role", "ok", f"{how} -> team", policy.where("general_settings.litellm_jwtauth.team_id_jwt_field"))
        return _Role(TEAM, "team_id")
    user_path = field_path(policy, cfg, "user_id_jwt_field")
    user = _first_value(claims, user_path, trace, "user_id_jwt_field")
    if user is not None:
        trace.add("role", "ok", f"claim '{user_path}' = '{user}' -> internal_user",
                  policy.where("general_settings.litellm_jwtauth.user_id_jwt_field"))
        return _Role(INTERNAL_USER, "user_id")
    return _role_from_values(policy, claims, trace)


def _role_from_values(policy: Policy, claims: Mapping[str, Any], trace: _Trace) -> _Role:
    jwt = policy.jwt
    if jwt.user_roles_jwt_field and jwt.user_allowed_roles:
        values = _string_values(claims, jwt.user_roles_jwt_field, trace, "user_roles_jwt_field")
        hit = next((v for v in values if v in jwt.user_allowed_roles), None)
        loc = policy.where("general_settings.litellm_jwtauth.user_allowed_roles")
        if hit is not None:
            trace.add("role", "ok", f"'{jwt.user_roles_jwt_field}' has '{hit}', one of user_allowed_roles "
                      f"{list(jwt.user_allowed_roles)} -> internal_user", loc, values=list(values))
            return _Role(INTERNAL_USER, "user_roles", loc)
        _no_match(trace, claims, jwt.user_roles_jwt_field, values, loc,
                  f"none is in user_allowed_roles {list(jwt.user_allowed_roles)}")
    if jwt.roles_jwt_field and jwt.role_mappings:
        values = _string_values(claims, jwt.roles_jwt_field, trace, "roles_jwt_field")
        for mapping in jwt.role_mappings:
            if mapping.role in values:
                trace.add("role", "ok", f"'{jwt.roles_jwt_field}' has '{mapping.role}' -> {mapping.internal_role} "
                          "(first matching role_mappings entry)", mapping.location, values=list(values))
                return _Role(mapping.internal_role, "role_mapping", mapping.location)
        _no_match(trace, claims, jwt.roles_jwt_field, values,
                  policy.where("general_settings.litellm_jwtauth.role_mappings"), "no role_mappings entry matches")
    trace.add("role", "info", "no gateway role: no admin scope, team id, user id or role mapping matched")
    return _Role(None, "none")


def _no_match(trace: _Trace, claims: Mapping[str, Any], path: str, values: tuple[str, ...],
              where: Location | None, what: str) -> None:
    """The role step when a roles claim matched nothing; an absent claim says where its path stopped."""
    stop = path_stop(claims, path) if not values else None
    if stop is None:
        trace.add("role", "info", f"'{path}' = {list(values)}: {what}", where, values=list(values))
    else:
        trace.add("role", "warn", f"{stop.describe()} (so {what})", where, values=[], path_stop=stop.as_dict())


def _deny(trace: _Trace, reason: Reason, role: _Role, models: tuple[str, ...] | None,
          route_entries: tuple[str, ...] | None, subject: str | None, identity: dict[str, str]) -> Decision:
    trace.add("decision", "fail", reason.message, reason.location, code=reason.code)
    return Decision(False, reason, role.role, models, route_entries, subject, identity,
                    tuple(trace.steps), tuple(trace.notes))


def effective_models(policy: Policy, role: _Role, scopes: tuple[str, ...],
                     trace: _Trace) -> tuple[tuple[str, ...] | None, Location | None]:
    """Models this caller may use: role_permissions (when enforce_rbac) ∩ scope_mappings (when enforced)."""
    models: tuple[str, ...] | None = None
    where: Location | None = None
    if policy.jwt.enforce_rbac and role.role is not None:
        perm = policy.permission_for(role.role)
        if perm is None:
            trace.add("models", "warn", f"{role.role} has no role_permissions entry: every model is allowed",
                      policy.where("general_settings.role_permissions"))
        elif perm.models is None:
            trace.add("models", "info", f"role_permissions for {role.role} lists no models: unrestricted",
                      perm.location)
        else:
            models, where = perm.models, perm.location
            trace.add("models", "info", f"{role.role} may use {list(perm.models)}", perm.location,
                      models=list(perm.models))
    jwt = policy.jwt
    if jwt.enforce_scope_based_access and jwt.scope_mappings:
        granted: list[str] = []
        for sm in jwt.scope_mappings:
            if sm.scope in scopes:
                granted.extend(m for m in sm.models or () if m not in granted)
                where = sm.location
        trace.add("scopes", "info", f"scopes {list(scopes)} grant {granted}",
                  policy.where("general_settings.litellm_jwtauth.scope_mappings"), models=granted,
                  matched=[sm.scope for sm in jwt.scope_mappings if sm.scope in scopes])
        models = tuple(granted) if models is None else tuple(m for m in models if m in granted)
    return models, where


def route_entries(policy: Policy, role: _Role) -> tuple[tuple[str, ...] | None, Location | None, str]:
    """The JWT-layer route list for the resolved role (None = LiteLLM has no list: non-admin defaults)."""
    jwt = policy.jwt
    if role.via == "scope":
        return jwt.admin_allowed_routes, policy.where("general_settings.litellm_jwtauth.admin_allowed_routes"), \
            "admin_allowed_routes"
    if role.role == TEAM:
        return jwt.team_allowed_routes, policy.where("general_settings.litellm_jwtauth.team_allowed_routes"), \
            "team_allowed_routes"
    return None, None, "non-admin defaults (LLM and info routes)"


def decide(policy: Policy, claims: Mapping[str, Any], request: Request) -> Decision:
    """Decide whether verified ``claims`` may call ``request.route`` with ``request.model``."""
    trace = _Trace()
    cfg = issuer_config(policy, claims)
    subject = claims.get("sub") if isinstance(claims.get("sub"), str) else None
    scopes = token_scopes(claims, trace)
    none_role = _Role(None, "none")
    if isinstance(scopes, Reason):
        return _deny(trace, scopes, none_role, None, None, subject, {})
    moved = overage(policy, claims, cfg)
    if moved is not None:
        trace.notes.append("LiteLLM reads the missing claim as empty, so the user silently gets no role; "
                           + OVERAGE_HINT)
        return _deny(trace, moved, none_role, None, None, subject, {})
    role = resolve_role(policy, claims, scopes, cfg, trace)
    identity = _identity(policy, claims, cfg, role, trace)
    models, models_at = effective_models(policy, role, scopes, trace)
    entries, entries_at, entries_name = route_entries(policy, role)
    if role.role == PROXY_ADMIN and role.via != "scope":
        trace.notes.append("this proxy_admin comes from role_mappings: as in LiteLLM, admin_allowed_routes apply to "
                           f"the admin scope '{policy.jwt.admin_jwt_scope}' only, so it gets the non-admin routes "
                           "(LLM and info) narrowed by its role_permissions routes")
    denial = _check(policy, claims, request, role, models, models_at, entries, entries_at, entries_name,
                    identity, trace)
    if denial is not None:
        return _deny(trace, denial, role, models, entries, subject, identity)
    what = f"model '{request.model}' on {request.route}" if request.model else request.route
    trace.add("decision", "ok", f"allowed: {what}" + (f" as {role.role}" if role.role else ""))
    return Decision(True, None, role.role, models, entries, subject, identity, tuple(trace.steps),
                    tuple(trace.notes))


def _identity(policy: Policy, claims: Mapping[str, Any], cfg: IssuerConfig | None, role: _Role,
              trace: _Trace) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, name in (("team_id", "team_id_jwt_field"), ("user_id", "user_id_jwt_field"),
                      ("user_email", "user_email_jwt_field"), ("org_id", "org_id_jwt_field"),
                      ("end_user_id", "end_user_id_jwt_field")):
        value = _first_value(claims, field_path(policy, cfg, name), trace, name)
        if value is not None:
            out[key] = value
    if "team_id" not in out and policy.jwt.team_id_default:
        out["team_id"] = policy.jwt.team_id_default
    obj = _first_value(claims, policy.jwt.object_id_jwt_field, trace, "object_id_jwt_field")
    if obj is not None and role.role in (TEAM, INTERNAL_USER):
        out["team_id" if role.role == TEAM else "user_id"] = obj
    if role.role is not None:
        out["role"] = role.role
    return out


def _check(policy: Policy, claims: Mapping[str, Any], request: Request, role: _Role,
           models: tuple[str, ...] | None, models_at: Location | None, entries: tuple[str, ...] | None,
           entries_at: Location | None, entries_name: str, identity: dict[str, str],
           trace: _Trace) -> Reason | None:
    """The ordered checks after role resolution; the first failure is the reason."""
    jwt = policy.jwt
    rbac_at = policy.where("general_settings.litellm_jwtauth.enforce_rbac")
    if jwt.enforce_rbac and role.role is None:
        return Reason("policy.no_role", "no gateway role matched and enforce_rbac is on: the token must map to "
                      "proxy_admin, team or internal_user", rbac_at)
    if not jwt.enforce_rbac and role.role is None:
        trace.notes.append("enforce_rbac is off: a token with no role continues as an unrestricted internal user")
    reason = _check_model(request, role, models, models_at, trace)
    if reason is None:
        reason = _check_route(policy, request, role, entries, entries_at, entries_name, trace)
    if reason is None:
        reason = _check_identity(policy, claims, role, identity, trace)
    return reason


def _check_model(request: Request, role: _Role, models: tuple[str, ...] | None, where: Location | None,
                 trace: _Trace) -> Reason | None:
    if request.model is None:
        if models is not None and request.model_expected:
            return Reason("policy.model_required", f"{request.route} names no model, and "
                          f"{role.role or 'this caller'} may use only {list(models)}", where)
        limited = f"; a model call must name one of {list(models)}" if models is not None else ""
        trace.add("model", "skip", f"no model in the request: only access is checked{limited}")
        return None
    if models is None or request.model in models:
        trace.add("model", "ok", f"'{request.model}' is allowed" + (" (unrestricted)" if models is None else ""),
                  where)
        return None
    who = role.role or "this token"
    return Reason("policy.model_not_allowed",
                  f"{who} may not use model '{request.model}'; allowed: {list(models)}", where)


def _check_route(policy: Policy, request: Request, role: _Role, entries: tuple[str, ...] | None,
                 entries_at: Location | None, entries_name: str, trace: _Trace) -> Reason | None:
    path = request.route
    base = entries if entries is not None else NON_ADMIN_ROUTES
    if not routes.allowed(base, path):
        return Reason("policy.route_not_allowed",
                      f"route {path} is not in {entries_name} {list(base)} for {role.role or 'this token'}",
                      entries_at)
    perm = policy.permission_for(role.role) if policy.jwt.enforce_rbac and role.role else None
    if perm is not None and perm.routes is not None and not routes.allowed(perm.routes, path):
        return Reason("policy.route_not_allowed",
                      f"role_permissions for {role.role} do not allow route {path}; allowed: {list(perm.routes)}",
                      perm.location)
    trace.add("route", "ok", f"{path} is allowed by {entries_name}", entries_at)
    return None


def _check_identity(policy: Policy, claims: Mapping[str, Any], role: _Role, identity: dict[str, str],
                    trace: _Trace) -> Reason | None:
    jwt = policy.jwt
    if jwt.enforce_team_based_model_access and role.via != "scope":
        teams_path = jwt.team_ids_jwt_field
        teams = _string_values(claims, teams_path, trace, "team_ids_jwt_field") if teams_path else ()
        if not teams and "team_id" not in identity:
            return Reason("policy.no_team", "enforce_team_based_model_access is on and the token names no team",
                          policy.where("general_settings.litellm_jwtauth.enforce_team_based_model_access"))
    if policy.general_enforce_rbac and role.via != "scope" and not ({"team_id", "user_id"} & identity.keys()):
        return Reason("policy.no_identity", "general_settings.enforce_rbac is on and the token has neither a user "
                      "id nor a team id", policy.where("general_settings.enforce_rbac"))
    domain = jwt.user_allowed_email_domain
    if domain:
        email = identity.get("user_email", "")
        if email.rsplit("@", 1)[-1] != domain or "@" not in email:
            return Reason("policy.email_domain", f"email '{email or '(none)'}' is not in the allowed domain "
                          f"'{domain}'", policy.where("general_settings.litellm_jwtauth.user_allowed_email_domain"))
    return None


def allowed_models(policy: Policy, claims: Mapping[str, Any]) -> tuple[str, ...]:
    """The ``model_list`` names this caller may use (for ``/v1/models``), each through decide()."""
    names = dict.fromkeys(policy.model_names)
    return tuple(n for n in names if decide(policy, claims, Request(n, routes.DEFAULT_ROUTE)).allowed)
