"""Schema pairs and references: models that exist, roles listed once, keys LiteLLM needs together."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator

from jwtgate.config.refusals import pair_problems
from jwtgate.config.yaml_text import did_you_mean
from jwtgate.lint.base import JWT, LintContext, Rule, rule
from jwtgate.model import Finding, Location

WILDCARD_CHARS = frozenset("*?[")


def is_wildcard(name: str) -> bool:
    """True when a model name looks like a glob (LiteLLM's role checks match it literally)."""
    return not WILDCARD_CHARS.isdisjoint(name)


def model_refs(ctx: LintContext) -> Iterator[tuple[str, str, Location]]:
    """Every model named by role_permissions or scope_mappings: (where, name, location)."""
    for perm in ctx.policy.role_permissions:
        path = ctx.perm_path(perm)
        for i, name in enumerate(perm.models or ()):
            yield "role_permissions", name, ctx.where(f"{path}.models[{i}]", f"{path}.models", path)
    for mapping in ctx.policy.jwt.scope_mappings:
        path = ctx.scope_path(mapping)
        for i, name in enumerate(mapping.models or ()):
            yield "scope_mappings", name, ctx.where(f"{path}.models[{i}]", f"{path}.models", path)


def _access_groups(ctx: LintContext) -> set[str]:
    groups: set[str] = set()
    for model in ctx.policy.models:
        value = model.info.get("access_groups")
        if isinstance(value, list):
            groups.update(str(g) for g in value)
    return groups


@rule("JG104", "error", "a model in role_permissions or scope_mappings that no model_list entry names")
def unknown_model(ctx: LintContext) -> Iterator[Finding]:
    names = set(ctx.policy.model_names)
    patterns = [n for n in names if is_wildcard(n)]
    groups: set[str] | None = None
    for where, name, loc in model_refs(ctx):
        if name in names or is_wildcard(name) or any(fnmatch.fnmatchcase(name, p) for p in patterns):
            continue
        groups = _access_groups(ctx) if groups is None else groups
        if name in groups:
            hint = f"'{name}' is an access group; LiteLLM's role and scope checks match model names only"
        else:
            guess = did_you_mean(name, names)
            hint = f"did you mean '{guess}'?" if guess else "add it to model_list or fix the name"
        yield unknown_model.finding(f"model '{name}' in {where} is not in model_list", loc, hint)


@rule("JG105", "error", "a role listed twice in role_permissions (only the first entry counts)")
def duplicate_role(ctx: LintContext) -> Iterator[Finding]:
    first: dict[str, Location] = {}
    for perm in ctx.policy.role_permissions:
        if perm.role in first:
            line = first[perm.role].line
            yield duplicate_role.finding(
                f"role '{perm.role}' is listed twice in role_permissions (first at line {line})",
                perm.location, "merge the entries; LiteLLM uses only the first")
        else:
            first[perm.role] = perm.location


def _pair_findings(r: Rule, ctx: LintContext) -> Iterator[Finding]:
    for p in pair_problems(ctx.policy.jwt):
        if p.code == r.code:
            yield r.finding(p.message, ctx.where(p.path), p.hint)


@rule("JG107", "error", "user_roles_jwt_field and user_allowed_roles must be set together")
def user_roles_pair(ctx: LintContext) -> Iterator[Finding]:
    yield from _pair_findings(user_roles_pair, ctx)


@rule("JG108", "error", "object_id_jwt_field needs role_mappings")
def object_id_needs_mappings(ctx: LintContext) -> Iterator[Finding]:
    yield from _pair_findings(object_id_needs_mappings, ctx)


@rule("JG109", "error", "scope_mappings and enforce_scope_based_access must be set together")
def scope_pair(ctx: LintContext) -> Iterator[Finding]:
    yield from _pair_findings(scope_pair, ctx)
    jwt = ctx.policy.jwt
    if jwt.enforce_scope_based_access and not jwt.scope_mappings:
        yield scope_pair.finding(
            "enforce_scope_based_access is true but there are no scope_mappings, so no scope check runs",
            ctx.where(f"{JWT}.enforce_scope_based_access"), "add scope_mappings: [{scope, models}]")


@rule("JG110", "error", "an issuers entry needs exactly one of audience and disable_audience_validation")
def issuer_audience(ctx: LintContext) -> Iterator[Finding]:
    for cfg in ctx.policy.jwt.issuers:
        path = ctx.issuer_path(cfg)
        has_aud = ctx.policy.where(f"{path}.audience") is not None
        disabled = cfg.disable_audience_validation
        if has_aud and disabled:
            msg = "sets both audience and disable_audience_validation: true; LiteLLM refuses to start"
            hint = "keep audience and remove disable_audience_validation"
        elif not has_aud and not disabled:
            msg = "has no audience; LiteLLM refuses to start"
            hint = "add audience: the client id or API identifier tokens are minted for"
        else:
            continue
        yield issuer_audience.finding(f"issuer '{cfg.issuer}' {msg}", ctx.where(path), hint)


@rule("JG113", "error", "role_mappings without roles_jwt_field never match")
def mappings_need_roles_field(ctx: LintContext) -> Iterator[Finding]:
    jwt = ctx.policy.jwt
    if jwt.role_mappings and not jwt.roles_jwt_field:
        yield mappings_need_roles_field.finding(
            "role_mappings is set without roles_jwt_field, so no mapping ever matches",
            ctx.where(f"{JWT}.role_mappings"), "add roles_jwt_field: the claim holding the IdP roles")


RULES = (unknown_model, duplicate_role, user_roles_pair, object_id_needs_mappings, scope_pair,
         issuer_audience, mappings_need_roles_field)
