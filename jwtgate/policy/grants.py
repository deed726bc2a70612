"""Who can reach what: the conditions in a Policy that grant a gateway role, each with a claim set.

Pure and claim-free: it reads only the Policy. Each :class:`Grant` is one way a token obtains a gateway
role (LiteLLM's order: admin scope > team id > user id / allowed user roles > ``role_mappings``), with
a minimal example claim set that meets it. Commands never decide from a Grant: they pass its claims to
``policy.decide()`` and render the Decision, so a shadowed grant shows up as what decide() says.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from jwtgate.config.schema import INTERNAL_USER, PROXY_ADMIN, TEAM
from jwtgate.model import Location, Policy
from jwtgate.policy.claims import split_path

SAMPLE_ID = "example"


@dataclass(frozen=True, slots=True)
class Grant:
    """One condition that gives a token a gateway role (``role`` None: any token, no role)."""

    role: str | None
    kind: str  # admin_scope, team_id, team_id_default, user_id, user_roles, role_mapping, any
    condition: str
    claims: Mapping[str, Any]
    location: Location | None
    value: str | None = None  # the JWT role value for user_roles / role_mapping
    issuer: str | None = None

    @property
    def label(self) -> str:
        """A short name for tables: the JWT role value when there is one."""
        label = f"{self.role} <- '{self.value}'" if self.value is not None \
            else f"{self.role or '(no role)'} <- {self.kind}"
        return label + (f" (iss {self.issuer})" if self.issuer else "")


@dataclass(frozen=True, slots=True)
class ScopeGrant:
    """A ``scope_mappings`` entry (only in force with ``enforce_scope_based_access``)."""

    scope: str
    models: tuple[str, ...]
    location: Location


@dataclass(frozen=True, slots=True)
class Requirement:
    """A condition every token must also meet (email domain, team ids); merged into each Grant."""

    condition: str
    claims: Mapping[str, Any] = field(default_factory=dict)
    location: Location | None = None


def claim_at(path: str, value: Any) -> dict[str, Any]:
    """A claim set holding ``value`` at a claim path (``a.b`` nests, ``\\.`` stays a dot)."""
    out: Any = value
    for part in reversed(split_path(path)):
        out = {part: out}
    return dict(out)


def merge(*sets: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge claim sets; later scalars win, nested objects merge, ``scope`` strings are joined."""
    out: dict[str, Any] = {}
    for claims in sets:
        for key, value in claims.items():
            old = out.get(key)
            if isinstance(old, Mapping) and isinstance(value, Mapping):
                out[key] = merge(old, value)
            elif key == "scope" and isinstance(old, str) and isinstance(value, str):
                out[key] = " ".join(dict.fromkeys((*old.split(), *value.split())))
            else:
                out[key] = value
    return out


def _where(policy: Policy, key: str) -> Location | None:
    return policy.where(f"general_settings.litellm_jwtauth.{key}")


def _id_grants(policy: Policy) -> Iterator[Grant]:
    jwt = policy.jwt
    fields = (("team_id_jwt_field", TEAM, "team_id"), ("user_id_jwt_field", INTERNAL_USER, "user_id"))
    for name, role, kind in fields:
        path = getattr(jwt, name)
        if path:
            yield Grant(role, kind, f"a '{path}' claim ({name})", claim_at(path, SAMPLE_ID), _where(policy, name))
        for cfg in jwt.issuers:
            override = cfg.fields.get(name)
            if override and override != path:
                yield Grant(role, kind, f"iss '{cfg.issuer}' and a '{override}' claim ({name} of that issuer)",
                            merge({"iss": cfg.issuer}, claim_at(override, SAMPLE_ID)), cfg.location,
                            issuer=cfg.issuer)
        if name == "team_id_jwt_field" and jwt.team_id_default:
            yield Grant(TEAM, "team_id_default", f"any token (team_id_default '{jwt.team_id_default}')", {},
                        _where(policy, "team_id_default"))


def _value_grants(policy: Policy) -> Iterator[Grant]:
    jwt = policy.jwt
    if jwt.user_roles_jwt_field and jwt.user_allowed_roles:
        for value in jwt.user_allowed_roles:
            yield Grant(INTERNAL_USER, "user_roles",
                        f"'{value}' in '{jwt.user_roles_jwt_field}' (user_allowed_roles)",
                        claim_at(jwt.user_roles_jwt_field, [value]), _where(policy, "user_allowed_roles"), value)
    if jwt.roles_jwt_field:
        for mapping in jwt.role_mappings:
            yield Grant(mapping.internal_role, "role_mapping",
                        f"'{mapping.role}' in '{jwt.roles_jwt_field}' (role_mappings)",
                        claim_at(jwt.roles_jwt_field, [mapping.role]), mapping.location, mapping.role)


def grants(policy: Policy) -> tuple[Grant, ...]:
    """Every way to a gateway role, in LiteLLM's resolution order, then the role-less token."""
    jwt = policy.jwt
    admin = Grant(PROXY_ADMIN, "admin_scope", f"scope contains '{jwt.admin_jwt_scope}'",
                  {"scope": jwt.admin_jwt_scope}, _where(policy, "admin_jwt_scope"))
    anyone = Grant(None, "any", "any verified token without a role claim", {}, None)
    return (admin, *_id_grants(policy), *_value_grants(policy), anyone)


def scope_grants(policy: Policy) -> tuple[ScopeGrant, ...]:
    """The ``scope_mappings`` entries in force (empty unless ``enforce_scope_based_access``)."""
    jwt = policy.jwt
    if not (jwt.enforce_scope_based_access and jwt.scope_mappings):
        return ()
    return tuple(ScopeGrant(sm.scope, sm.models or (), sm.location) for sm in jwt.scope_mappings)


def requirements(policy: Policy) -> tuple[Requirement, ...]:
    """Conditions on top of a role that a token must meet to be allowed anything."""
    jwt = policy.jwt
    out: list[Requirement] = []
    if jwt.user_allowed_email_domain:
        path = jwt.user_email_jwt_field
        claims = claim_at(path, f"user@{jwt.user_allowed_email_domain}") if path else {}
        out.append(Requirement(f"an email in '{jwt.user_allowed_email_domain}'"
                               + (f" ('{path}')" if path else " (no user_email_jwt_field: nobody can)"),
                               claims, _where(policy, "user_allowed_email_domain")))
    if jwt.enforce_team_based_model_access and jwt.team_ids_jwt_field:
        out.append(Requirement(f"a team in '{jwt.team_ids_jwt_field}' (enforce_team_based_model_access)",
                               claim_at(jwt.team_ids_jwt_field, [SAMPLE_ID]),
                               _where(policy, "enforce_team_based_model_access")))
    if policy.general_enforce_rbac and jwt.object_id_jwt_field:
        out.append(Requirement(f"an object id in '{jwt.object_id_jwt_field}' (general_settings.enforce_rbac)",
                               claim_at(jwt.object_id_jwt_field, SAMPLE_ID),
                               policy.where("general_settings.enforce_rbac")))
    return tuple(out)


def example_claims(policy: Policy, grant: Grant, scopes: tuple[str, ...] = ()) -> dict[str, Any]:
    """The claims a token meeting ``grant`` (plus the requirements and the given scopes) would carry."""
    parts: list[Mapping[str, Any]] = [{"sub": "example-user"}, grant.claims]
    parts.extend(r.claims for r in requirements(policy))
    if scopes:
        parts.append({"scope": " ".join(scopes)})
    return merge(*parts)


def scope_variants(policy: Policy) -> tuple[tuple[str, ...], ...]:
    """Scope sets to try with each grant: none, then (when scope access is enforced) each mapped scope."""
    return ((), *dict.fromkeys((sg.scope,) for sg in scope_grants(policy)))


def all_scopes(policy: Policy) -> tuple[str, ...]:
    """Every mapped scope: the widest token a grant can carry."""
    return tuple(dict.fromkeys(sg.scope for sg in scope_grants(policy)))
