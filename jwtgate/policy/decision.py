"""decide(policy, claims, request) -> Decision: the only place an access decision is made.

Decides as LiteLLM ``LITELLM_VERSION`` does, checked against LiteLLM's own code (tests/litellm): role
resolution (admin scope > team id > user id / allowed user roles > role_mappings in config order), then
in ``JWTAuthManager.auth_builder``'s order: RBAC (``role_permissions``, exact model names and routes),
``scope_mappings``, the admin route check, the team a set ``team_id_jwt_field``/``team_alias_jwt_field``
requires, the email domain, the top-level ``enforce_rbac`` identity check, and the non-admin route gate
of ``common_checks``. Claim values are read as LiteLLM reads them (policy/litellm_claims.py). Where
jwtgate deliberately differs, the difference is in policy/litellm_differences.py and noted in the trace.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jwtgate.config.yaml_text import kind_of
from jwtgate.model import Decision, IssuerConfig, Location, Policy, Reason, Request
from jwtgate.policy import litellm_claims as lc
from jwtgate.policy import routes
from jwtgate.policy.claims import litellm_lookup_path, lookup, path_stop, split_path
from jwtgate.policy.gates import check_request
from jwtgate.policy.litellm_differences import note as difference_note
from jwtgate.policy.trace import INTERNAL_USER, PROXY_ADMIN, TEAM, Role, Trace


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


def read_claim(claims: Mapping[str, Any], path: str, trace: Trace, what: str) -> tuple[bool, Any]:
    """Look up a claim path as LiteLLM does, noting when a leading ``metadata.`` is stripped."""
    alt = litellm_lookup_path(path)
    if alt != path:
        trace.notes.append(f"{what}: as LiteLLM, the leading 'metadata.' is stripped and '{alt}' is read")
    return lc.read(claims, path)


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


def token_scopes(claims: Mapping[str, Any], trace: Trace) -> tuple[Any, ...] | Reason:
    """Scopes from the ``scope`` claim only (as LiteLLM); ``scp`` is noted, never used to grant."""
    if "scp" in claims:
        trace.notes.append("the token carries 'scp'; LiteLLM and jwtgate read only 'scope', so 'scp' grants nothing")
    got = lc.scopes(claims)
    if isinstance(got, lc.Unreadable):
        return Reason("claims.scope_type", f"{got.what}; LiteLLM fails the request, so jwtgate denies it")
    return got


def _unreadable(got: lc.Unreadable) -> Reason:
    return Reason("claims.unreadable", f"{got.what}: LiteLLM fails the request, so jwtgate denies it")


def _shown(value: Any) -> str:
    return f"'{value}'" if isinstance(value, str) else f"{value!r} ({kind_of(value)})"


def resolve_role(policy: Policy, claims: Mapping[str, Any], scopes: tuple[Any, ...],
                 cfg: IssuerConfig | None, trace: Trace) -> Role | Reason:
    """LiteLLM's get_rbac_role order, each step recorded in the trace; a Reason when LiteLLM would fail."""
    jwt = policy.jwt
    if jwt.admin_jwt_scope in scopes:
        trace.add("role", "ok", f"scope contains '{jwt.admin_jwt_scope}' -> proxy_admin",
                  policy.where("general_settings.litellm_jwtauth.admin_jwt_scope"))
        return Role(PROXY_ADMIN, "scope")
    team_path = field_path(policy, cfg, "team_id_jwt_field")
    if team_path:
        read_claim(claims, team_path, trace, "team_id_jwt_field")
    team = lc.team_id(claims, team_path, jwt.team_id_default)
    if team is not None:
        found = team_path is not None and lc.read(claims, team_path)[0]
        how = f"claim '{team_path}' = {_shown(team)}" if found else f"team_id_default '{jwt.team_id_default}'"
        trace.add("role", "ok", f"{how} -> team", policy.where("general_settings.litellm_jwtauth.team_id_jwt_field"))
        return Role(TEAM, "team_id")
    user_path = field_path(policy, cfg, "user_id_jwt_field")
    if user_path:
        read_claim(claims, user_path, trace, "user_id_jwt_field")
    user = lc.raw_id(claims, user_path)
    if user is not None:
        trace.add("role", "ok", f"claim '{user_path}' = {_shown(user)} -> internal_user",
                  policy.where("general_settings.litellm_jwtauth.user_id_jwt_field"))
        return Role(INTERNAL_USER, "user_id")
    return _role_from_values(policy, claims, trace)


def _role_from_values(policy: Policy, claims: Mapping[str, Any], trace: Trace) -> Role | Reason:
    jwt = policy.jwt
    if jwt.user_roles_jwt_field:
        hit = _allowed_user_role(policy, claims, trace)
        if hit is not None:
            return hit
    if jwt.roles_jwt_field and jwt.role_mappings:
        return _mapped_role(policy, claims, trace)
    trace.add("role", "info", "no gateway role: no admin scope, team id, user id or role mapping matched")
    return Role(None, "none")


def _allowed_user_role(policy: Policy, claims: Mapping[str, Any], trace: Trace) -> Role | Reason | None:
    """``user_roles_jwt_field`` + ``user_allowed_roles``: any member of the claim in the allowed list."""
    jwt = policy.jwt
    field_ = jwt.user_roles_jwt_field or ""
    _, value = read_claim(claims, field_, trace, "user_roles_jwt_field")
    if value is None or jwt.user_allowed_roles is None:
        return None
    members = _members(value, field_, trace)
    if isinstance(members, lc.Unreadable):
        return _unreadable(members)
    hit = next((v for v in members if v in jwt.user_allowed_roles), None)
    loc = policy.where("general_settings.litellm_jwtauth.user_allowed_roles")
    shown = [str(v) for v in members]
    if hit is not None:
        trace.add("role", "ok", f"'{field_}' has '{hit}', one of user_allowed_roles "
                  f"{list(jwt.user_allowed_roles)} -> internal_user", loc, values=shown)
        return Role(INTERNAL_USER, "user_roles", loc)
    _no_match(trace, claims, field_, shown, loc, f"none is in user_allowed_roles {list(jwt.user_allowed_roles)}")
    return None


def _mapped_role(policy: Policy, claims: Mapping[str, Any], trace: Trace) -> Role | Reason:
    """``roles_jwt_field`` + ``role_mappings``: the first mapping (config order) whose role the claim has."""
    jwt = policy.jwt
    field_ = jwt.roles_jwt_field or ""
    _, value = read_claim(claims, field_, trace, "roles_jwt_field")
    members: tuple[Any, ...] | lc.Unreadable = ()
    if value:  # LiteLLM: `if not jwt_role: return None`
        members = _members(value, field_, trace)
        members = members if isinstance(members, lc.Unreadable) else lc.hashable(members, f"the '{field_}' claim")
    if isinstance(members, lc.Unreadable):
        return _unreadable(members)
    shown = [str(v) for v in members]
    for mapping in jwt.role_mappings:
        if mapping.role in members:
            trace.add("role", "ok", f"'{field_}' has '{mapping.role}' -> {mapping.internal_role} "
                      "(first matching role_mappings entry)", mapping.location, values=shown)
            return Role(mapping.internal_role, "role_mapping", mapping.location)
    _no_match(trace, claims, field_, shown, policy.where("general_settings.litellm_jwtauth.role_mappings"),
              "no role_mappings entry matches")
    trace.add("role", "info", "no gateway role: no admin scope, team id, user id or role mapping matched")
    return Role(None, "none")


def _no_match(trace: Trace, claims: Mapping[str, Any], path: str, values: list[str], where: Location | None,
              what: str) -> None:
    """The role step when a roles claim matched nothing; an absent claim says where its path stopped."""
    stop = path_stop(claims, litellm_lookup_path(path)) if not values else None
    if stop is None:
        trace.add("role", "info", f"'{path}' = {values}: {what}", where, values=values)
    else:
        trace.add("role", "warn", f"{stop.describe()} (so {what})", where, values=[], path_stop=stop.as_dict())


def _members(value: Any, field_: str, trace: Trace) -> tuple[Any, ...] | lc.Unreadable:
    """The roles LiteLLM's iteration sees, except an object's keys (LD004); notes a string claim."""
    if isinstance(value, dict):
        trace.notes.append(difference_note("LD004", f"'{field_}'"))
        return ()
    if isinstance(value, str) and len(value) > 1:
        trace.notes.append(f"'{field_}' is a string: LiteLLM (and so jwtgate) reads it character by character, so "
                           "'admin' matches no role named 'admin'; send a list")
    return lc.iterate(value, f"the '{field_}' claim")


def _deny(trace: Trace, reason: Reason, role: Role, models: tuple[str, ...] | None,
          route_entries: tuple[str, ...] | None, subject: str | None, identity: dict[str, str]) -> Decision:
    trace.add("decision", "fail", reason.message, reason.location, code=reason.code)
    return Decision(False, reason, role.role, models, route_entries, subject, identity,
                    tuple(trace.steps), tuple(trace.notes))


def effective_models(policy: Policy, role: Role, scopes: tuple[str, ...],
                     trace: Trace) -> tuple[tuple[str, ...] | None, Location | None]:
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


def route_entries(policy: Policy, role: Role) -> tuple[tuple[str, ...] | None, Location | None, str]:
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
    trace = Trace()
    cfg = issuer_config(policy, claims)
    subject = claims.get("sub") if isinstance(claims.get("sub"), str) else None
    none_role = Role(None, "none")
    scopes = token_scopes(claims, trace)
    if isinstance(scopes, Reason):
        return _deny(trace, scopes, none_role, None, None, subject, {})
    moved = overage(policy, claims, cfg)
    if moved is not None:
        trace.notes.append(difference_note("LD005"))
        trace.notes.append("LiteLLM reads the missing claim as empty, so the user silently gets no role; "
                           + OVERAGE_HINT)
        return _deny(trace, moved, none_role, None, None, subject, {})
    role = resolve_role(policy, claims, scopes, cfg, trace)
    if isinstance(role, Reason):
        return _deny(trace, role, none_role, None, None, subject, {})
    identity = _identity(policy, claims, cfg, role, trace)
    models, _ = effective_models(policy, role, scopes, trace)
    entries, _, _ = route_entries(policy, role)
    if role.role == PROXY_ADMIN and role.via != "scope":
        trace.notes.append("this proxy_admin comes from role_mappings: as in LiteLLM, admin_allowed_routes apply to "
                           f"the admin scope '{policy.jwt.admin_jwt_scope}' only, so it gets the non-admin routes "
                           "(LLM and info) narrowed by its role_permissions routes")
    denial = check_request(policy, claims, request, role, scopes, cfg, trace)
    if denial is not None:
        return _deny(trace, denial, role, models, entries, subject, identity)
    what = f"model '{request.model}' on {request.route}" if request.model else request.route
    trace.add("decision", "ok", f"allowed: {what}" + (f" as {role.role}" if role.role else ""))
    return Decision(True, None, role.role, models, entries, subject, identity, tuple(trace.steps),
                    tuple(trace.notes))


def _first_value(claims: Mapping[str, Any], path: str | None) -> str | None:
    """An id for the identity headers: the claim as a string (a list's first element), if it is one."""
    found, value = lc.read(claims, path)
    if isinstance(value, list):
        value = value[0] if value else None
    if not found or isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return str(value)


def _identity(policy: Policy, claims: Mapping[str, Any], cfg: IssuerConfig | None, role: Role,
              trace: Trace) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, name in (("team_id", "team_id_jwt_field"), ("user_id", "user_id_jwt_field"),
                      ("user_email", "user_email_jwt_field"), ("org_id", "org_id_jwt_field"),
                      ("end_user_id", "end_user_id_jwt_field")):
        value = _first_value(claims, field_path(policy, cfg, name))
        if value is not None:
            out[key] = value
    if "team_id" not in out and policy.jwt.team_id_default:
        out["team_id"] = policy.jwt.team_id_default
    obj = _first_value(claims, policy.jwt.object_id_jwt_field)
    if obj is not None and role.role in (TEAM, INTERNAL_USER):
        out["team_id" if role.role == TEAM else "user_id"] = obj
    if role.role is not None:
        out["role"] = role.role
    return out


def allowed_models(policy: Policy, claims: Mapping[str, Any]) -> tuple[str, ...]:
    """The ``model_list`` names this caller may use (for ``/v1/models``), each through decide()."""
    names = dict.fromkeys(policy.model_names)
    return tuple(n for n in names if decide(policy, claims, Request(n, routes.DEFAULT_ROUTE)).allowed)
