"""Traps: configs LiteLLM accepts that do something other than what they seem to say."""

from __future__ import annotations

import re
from collections.abc import Iterator

from jwtgate.config import schema as S
from jwtgate.lint.base import JWT, RP, LintContext, reachable_roles, rule
from jwtgate.lint.references import is_wildcard, model_refs
from jwtgate.model import Finding
from jwtgate.policy import routes
from jwtgate.policy.claims import split_path

TLDS = frozenset({
    "io", "com", "org", "net", "dev", "ai", "app", "cloud", "co", "de", "uk", "fr", "eu", "us", "jp", "cn",
    "in", "info", "biz", "gov", "edu", "local", "internal", "example",
})
_INDEX = re.compile(r"^\d+$|\[")


@rule("JG201", "error", "role_permissions while litellm_jwtauth.enforce_rbac is off (never applied)")
def permissions_without_rbac(ctx: LintContext) -> Iterator[Finding]:
    policy = ctx.policy
    if not policy.role_permissions or policy.jwt.enforce_rbac:
        return
    extra = " (general_settings.enforce_rbac is a different flag)" if policy.general_enforce_rbac else ""
    yield permissions_without_rbac.finding(
        f"role_permissions are never applied: litellm_jwtauth.enforce_rbac is not true{extra}",
        ctx.where(RP), "set general_settings.litellm_jwtauth.enforce_rbac: true")


@rule("JG202", "warning", "general_settings.enforce_rbac set, which is not litellm_jwtauth.enforce_rbac")
def two_rbac_flags(ctx: LintContext) -> Iterator[Finding]:
    policy = ctx.policy
    if policy.general_enforce_rbac and not policy.jwt.enforce_rbac:
        yield two_rbac_flags.finding(
            "general_settings.enforce_rbac only requires a user or team id in the token; it does not turn "
            "on role checks", ctx.where("general_settings.enforce_rbac"),
            "for role_permissions, set general_settings.litellm_jwtauth.enforce_rbac: true")


@rule("JG203", "error", "a wildcard-looking model name that LiteLLM matches literally")
def wildcard_model(ctx: LintContext) -> Iterator[Finding]:
    for where, name, loc in model_refs(ctx):
        if is_wildcard(name):
            yield wildcard_model.finding(
                f"model '{name}' in {where} is matched literally, not as a pattern", loc,
                "list each model_name explicitly; LiteLLM's role and scope checks have no wildcards")


@rule("JG204", "error", "a claim path with list indexing (roles.0, roles[0]), which LiteLLM does not support")
def claim_list_index(ctx: LintContext) -> Iterator[Finding]:
    for path, value in ctx.claim_paths():
        parts = split_path(value)
        if any(_INDEX.search(p) for p in parts):
            base = ".".join(p.split("[")[0] for p in parts if not p.isdigit()).replace("..", ".")
            yield claim_list_index.finding(
                f"claim path '{value}' uses list indexing, which LiteLLM does not support (finds nothing)",
                ctx.where(path), f"write '{base.strip('.')}'; LiteLLM uses the first element of a list")


@rule("JG205", "error", "a claim path starting with 'metadata.', which LiteLLM strips")
def claim_metadata_prefix(ctx: LintContext) -> Iterator[Finding]:
    for path, value in ctx.claim_paths():
        if value.startswith("metadata."):
            rest = value[len("metadata."):]
            yield claim_metadata_prefix.finding(
                f"LiteLLM strips the leading 'metadata.' of '{value}' and reads '{rest}'", ctx.where(path),
                f"write '{rest}' if that is the claim; a claim under 'metadata' can't be read")


def _tld_merge(parts: tuple[str, ...]) -> list[str] | None:
    """Re-join parts where a dot looks like part of one claim name (``kubernetes.io``, ``https://x.com/r``)."""
    merged: list[str] = []
    changed = False
    for i, part in enumerate(parts):
        head = part.split("/")[0].lower()
        if i > 0 and (head in TLDS or "://" in parts[i - 1]) and merged:
            merged[-1] += "\\." + part
            changed = True
        else:
            merged.append(part.replace(".", "\\."))
    return merged if changed else None


@rule("JG206", "warning", "an unescaped dot inside what looks like one claim name (kubernetes.io, URLs)")
def claim_unescaped_dot(ctx: LintContext) -> Iterator[Finding]:
    for path, value in ctx.claim_paths():
        merged = _tld_merge(split_path(value))
        if merged is None:
            continue
        suggestion = ".".join(merged)
        yield claim_unescaped_dot.finding(
            f"claim path '{value}' splits '{value.split('.')[0]}…' at every dot; a dot inside a claim name "
            "must be escaped", ctx.where(path), f"in single quotes, write '{suggestion}'")


@rule("JG207", "warning", "models: [] for a role tokens can reach (it may call no model)")
def empty_models(ctx: LintContext) -> Iterator[Finding]:
    empty = [perm for perm in ctx.policy.role_permissions if perm.models == ()]
    reachable = reachable_roles(ctx.policy) if empty else {}  # decide() is imported only when it is needed
    for perm in empty:
        if perm.role in reachable:
            path = ctx.perm_path(perm)
            yield empty_models.finding(
                f"role '{perm.role}' has models: [] and may call no model, yet tokens reach it through "
                f"{reachable[perm.role]}", ctx.where(f"{path}.models", path),
                "list the models it may call, or remove the way tokens reach the role")


@rule("JG208", "warning", "with enforce_rbac, a reachable role with no role_permissions (gets every model)")
def role_without_permissions(ctx: LintContext) -> Iterator[Finding]:
    policy = ctx.policy
    if not policy.jwt.enforce_rbac:
        return
    for role, via in sorted(reachable_roles(policy).items()):
        if policy.permission_for(role) is None:
            yield role_without_permissions.finding(
                f"tokens reach role '{role}' through {via}, but it has no role_permissions entry, so it may "
                "call every model", ctx.where(f"{JWT}.{via}", JWT),
                f"add '- role: {role}' with its models to role_permissions (models: [] to deny all)")


def _dropped(group: str, missing: tuple[str, ...]) -> str:
    """'mcp_routes' when all of the group is dropped, 'mcp_routes (/v1/mcp/server, …)' when part of it."""
    if not missing or len(missing) == len(routes.GROUPS.get(group, (group,))):
        return group if missing else ""
    shown = ", ".join(missing[:3]) + (", …" if len(missing) > 3 else "")
    return f"{group} ({shown})"


@rule("JG209", "warning", "team_allowed_routes replaces LiteLLM's defaults and drops some of them")
def team_routes_replace(ctx: LintContext) -> Iterator[Finding]:
    loc = ctx.policy.where(f"{JWT}.team_allowed_routes")
    entries = ctx.policy.jwt.team_allowed_routes
    dropped = [_dropped(g, routes.not_admitted(entries, g)) for g in S.DEFAULT_TEAM_ROUTES]
    dropped = [d for d in dropped if d]
    if loc is not None and dropped:
        yield team_routes_replace.finding(
            f"team_allowed_routes replaces the defaults, so team tokens lose {', '.join(dropped)}", loc,
            "list every route group teams need; the default is " + ", ".join(S.DEFAULT_TEAM_ROUTES))


def _admin_wants_models(ctx: LintContext) -> bool:
    perm = ctx.policy.permission_for(S.PROXY_ADMIN)
    return perm is not None and bool(perm.models)


@rule("JG210", "warning", "admin routes exclude the inference routes while admins are given models")
def admin_routes_no_inference(ctx: LintContext) -> Iterator[Finding]:
    if not _admin_wants_models(ctx) or routes.admits_any(ctx.policy.jwt.admin_allowed_routes, routes.MODEL_CALL_ROUTES):
        return
    default = ctx.policy.where(f"{JWT}.admin_allowed_routes") is None
    yield admin_routes_no_inference.finding(
        f"tokens with the admin scope '{ctx.policy.jwt.admin_jwt_scope}' are limited to admin_allowed_routes"
        f"{' (default)' if default else ''}, which exclude the inference routes: scope admins can't call models "
        "(a proxy_admin reached through role_mappings is not limited by them)",
        ctx.where(f"{JWT}.admin_allowed_routes", f"{JWT}.role_mappings", RP, JWT),
        "add openai_routes to admin_allowed_routes")


@rule("JG211", "warning", "role_mappings shadowed by user_id_jwt_field, team_id_jwt_field or team_id_default")
def mappings_shadowed(ctx: LintContext) -> Iterator[Finding]:
    jwt = ctx.policy.jwt
    if not jwt.role_mappings:
        return
    shadows = [k for k in ("team_id_default", "team_id_jwt_field", "user_id_jwt_field") if getattr(jwt, k)]
    if shadows:
        yield mappings_shadowed.finding(
            f"role_mappings apply only when {shadows[0]} gives no id; LiteLLM resolves team and user ids "
            "first, whatever the token's roles", ctx.where(f"{JWT}.role_mappings"),
            f"remove {shadows[0]} or the role_mappings, whichever is not meant")


@rule("JG212", "error", "scope_mappings routes, which LiteLLM accepts but ignores")
def scope_routes_ignored(ctx: LintContext) -> Iterator[Finding]:
    for mapping in ctx.policy.jwt.scope_mappings:
        loc = ctx.policy.where(f"{ctx.scope_path(mapping)}.routes")
        if loc is not None:
            yield scope_routes_ignored.finding(
                f"routes of scope '{mapping.scope}' are ignored by LiteLLM's scope check", loc,
                "restrict routes with role_permissions or team_allowed_routes")


@rule("JG213", "warning", "litellm_jwtauth configured while enable_jwt_auth is not true")
def jwt_auth_off(ctx: LintContext) -> Iterator[Finding]:
    loc = ctx.policy.where(JWT)
    if loc is not None and not ctx.policy.enable_jwt_auth:
        yield jwt_auth_off.finding(
            "litellm_jwtauth is configured but general_settings.enable_jwt_auth is not true, so it is unused",
            loc, "set general_settings.enable_jwt_auth: true")


RULES = (permissions_without_rbac, two_rbac_flags, wildcard_model, claim_list_index, claim_metadata_prefix,
         claim_unescaped_dot, empty_models, role_without_permissions, team_routes_replace,
         admin_routes_no_inference, mappings_shadowed, scope_routes_ignored, jwt_auth_off)
