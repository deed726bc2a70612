"""The rule registry's types and the helpers rules share (locations, reachable roles, claim paths)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from jwtgate.model import (
    Finding,
    IssuerConfig,
    Location,
    ModelEntry,
    Policy,
    Request,
    RolePermission,
    ScopeMapping,
    Severity,
)

JWT = "general_settings.litellm_jwtauth"
RP = "general_settings.role_permissions"

# Claim-path keys of litellm_jwtauth (and, per issuer, the overrides in schema.ISSUER_FIELD_OVERRIDES).
CLAIM_PATH_KEYS = (
    "team_id_jwt_field", "team_ids_jwt_field", "team_alias_jwt_field", "org_id_jwt_field",
    "org_alias_jwt_field", "user_id_jwt_field", "user_email_jwt_field", "user_roles_jwt_field",
    "end_user_id_jwt_field", "object_id_jwt_field", "roles_jwt_field", "virtual_key_claim_field",
    "agent_id_jwt_field",
)


@dataclass(frozen=True, slots=True)
class ClaimSample:
    """Claims a real identity provider issued (``lint --claims/--token``), named for messages."""

    name: str
    claims: Mapping[str, Any]


@dataclass
class LintContext:
    """What a rule reads: the policy, the environment, claim samples, and lazily built indexes."""

    policy: Policy
    env: Mapping[str, str]
    samples: tuple[ClaimSample, ...] = ()
    _indexes: dict[str, dict[Location, int]] = field(default_factory=dict, repr=False)

    @property
    def file_start(self) -> Location:
        return Location(self.policy.file, 1, 1)

    def where(self, path: str, *fallbacks: str) -> Location:
        """Location of the first config path that exists, else the start of the file."""
        for p in (path, *fallbacks):
            loc = self.policy.where(p)
            if loc is not None:
                return loc
        return self.file_start

    def item_path(self, list_path: str, location: Location | None) -> str:
        """The config path (``list_path[i]``) of the list entry of the typed model at ``location``."""
        index = self._indexes.get(list_path)
        if index is None:
            index = self._indexes[list_path] = _index_items(self.policy, list_path)
        return f"{list_path}[{index.get(location, 0) if location is not None else 0}]"

    def perm_path(self, perm: RolePermission) -> str:
        """The config path (``general_settings.role_permissions[i]``) of a role_permissions entry."""
        return self.item_path(RP, perm.location)

    def model_path(self, entry: ModelEntry) -> str:
        """The config path (``model_list[i]``) of a model_list entry."""
        return self.item_path("model_list", entry.location)

    def issuer_path(self, cfg: IssuerConfig) -> str:
        """The config path (``...litellm_jwtauth.issuers[i]``) of an issuers entry."""
        return self.item_path(f"{JWT}.issuers", cfg.location)

    def scope_path(self, mapping: ScopeMapping) -> str:
        """The config path (``...litellm_jwtauth.scope_mappings[i]``) of a scope_mappings entry."""
        return self.item_path(f"{JWT}.scope_mappings", mapping.location)

    def claim_paths(self) -> Iterator[tuple[str, str]]:
        """Every configured claim path as (config path, value), global and per issuer.

        The global keys are read from ``jwt.raw``: three of them (org_alias_jwt_field,
        virtual_key_claim_field, agent_id_jwt_field) have no field in the model, as jwtgate never reads them.
        """
        raw = self.policy.jwt.raw
        for key in CLAIM_PATH_KEYS:
            value = raw.get(key)
            if isinstance(value, str):
                yield f"{JWT}.{key}", value
        for cfg in self.policy.jwt.issuers:
            for key, value in cfg.fields.items():
                yield f"{self.issuer_path(cfg)}.{key}", value


def _index_items(policy: Policy, list_path: str) -> dict[Location, int]:
    out: dict[Location, int] = {}
    i = 0
    while (loc := policy.where(f"{list_path}[{i}]")) is not None:
        out.setdefault(loc, i)
        i += 1
    return out


Check = Callable[[LintContext], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    """One lint rule: a stable code, its severity, a one-line summary and (for semantic rules) its check."""

    code: str
    severity: Severity
    summary: str
    check: Check | None = None

    def finding(self, message: str, location: Location, hint: str | None = None) -> Finding:
        return Finding(self.code, self.severity, message, location, hint)


def rule(code: str, severity: Severity, summary: str) -> Callable[[Check], Rule]:
    """Decorator: turn a check function into a Rule."""

    def wrap(fn: Check) -> Rule:
        return Rule(code, severity, summary, fn)

    return wrap


# The config key named for each kind of grant (policy.grants) that leads to a role.
_VIA = {"team_id": "team_id_jwt_field", "team_id_default": "team_id_default", "user_id": "user_id_jwt_field",
        "user_roles": "user_allowed_roles", "role_mapping": "role_mappings"}


def reachable_roles(policy: Policy) -> dict[str, str]:
    """Gateway roles a token can resolve to (besides the admin scope), each with the key that leads there.

    The grants of ``policy.grants``, each resolved by ``decide()`` on its example claims: a shadowed grant
    counts as the role decide() gives it, and a key that grants no role (``team_alias_jwt_field``) none.
    """
    from jwtgate.policy.grants import grants
    from jwtgate.policy.reports import try_grant

    out: dict[str, str] = {}
    for grant in grants(policy):
        via = _VIA.get(grant.kind)
        role = try_grant(policy, grant, Request()).decision.role if via else None
        if via and role is not None:
            out.setdefault(role, via)
    return out
