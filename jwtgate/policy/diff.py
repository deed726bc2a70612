"""The effective access change between two policies, from decide(), and the settings that weaken security.

Access is compared per gateway role and per JWT condition (a JWT role value, the admin scope, an id
claim, any token): the models (in each config's ``model_list``) and routes (probe paths from every
route group and every literal route either config names) that decide() allows. Text order, anchors
and comments never matter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from jwtgate.config.schema import RBAC_ROLES
from jwtgate.model import Policy, Request
from jwtgate.policy import grants, routes
from jwtgate.policy.decision import decide
from jwtgate.policy.diff_settings import SettingChange, setting_changes
from jwtgate.policy.grants import Grant


@dataclass(frozen=True, slots=True)
class Access:
    models: frozenset[str]
    routes: frozenset[str]


@dataclass(frozen=True, slots=True)
class AccessChange:
    """What one subject (a gateway role or a JWT condition) gained and lost."""

    subject: str
    kind: str  # "gateway_role" | "jwt"
    models_gained: tuple[str, ...]
    models_lost: tuple[str, ...]
    routes_gained: tuple[str, ...]
    routes_lost: tuple[str, ...]

    @property
    def widens(self) -> bool:
        return bool(self.models_gained or self.routes_gained)


@dataclass(frozen=True, slots=True)
class PolicyDiff:
    old: str
    new: str
    access: tuple[AccessChange, ...]
    settings: tuple[SettingChange, ...]

    @property
    def empty(self) -> bool:
        return not self.access and not self.settings

    @property
    def widens(self) -> bool:
        return any(a.widens for a in self.access) or any(s.weakens for s in self.settings)


# --- probes --------------------------------------------------------------------------------------------

_PARAM = re.compile(r"{[^}]+}")


def _instantiate(template: str) -> str:
    path = _PARAM.sub("x", template)
    return path[:-1] + "x" if path.endswith("*") else path


def _literal_routes(policy: Policy) -> Iterator[str]:
    jwt = policy.jwt
    lists: list[Iterable[str]] = [jwt.admin_allowed_routes, jwt.team_allowed_routes]
    lists += [p.routes or () for p in policy.role_permissions]
    for entries in lists:
        yield from (e for e in entries if e not in routes.GROUPS)


def probe_paths(*policies: Policy) -> tuple[str, ...]:
    """Concrete paths standing for every route group and every literal route in the configs."""
    paths = [_instantiate(t) for group in routes.PATH_GROUPS.values() for t in group]
    paths += [_instantiate(r) for p in policies for r in _literal_routes(p)]
    return tuple(sorted(set(paths)))


def summarize_routes(paths: Iterable[str]) -> tuple[str, ...]:
    """The changed probe paths, shortened: a route group is named only when every one of its probes
    changed (largest groups first, a group inside a named one is not repeated), then the other paths."""
    present = set(paths)
    covered: set[str] = set()
    out: list[str] = []
    for name, templates in sorted(routes.PATH_GROUPS.items(), key=lambda kv: -len(kv[1])):
        members = {_instantiate(t) for t in templates}
        if members <= present and not members <= covered:
            out.append(name)
            covered |= members
    out += sorted(present - covered)
    return tuple(out)


# --- access --------------------------------------------------------------------------------------------


def _access(policy: Policy, claims: Mapping[str, Any], probes: tuple[str, ...],
            role: str | None = None, filter_role: bool = False) -> Access:
    def ok(request: Request) -> bool:
        d = decide(policy, claims, request)
        return d.allowed and (not filter_role or d.role == role)

    models = frozenset(m for m in policy.model_names if ok(Request(m, routes.DEFAULT_ROUTE)))
    paths = frozenset(p for p in probes if ok(Request(None, p)))
    return Access(models, paths)


def _union(items: Iterable[Access]) -> Access:
    models: set[str] = set()
    paths: set[str] = set()
    for a in items:
        models |= a.models
        paths |= a.routes
    return Access(frozenset(models), frozenset(paths))


def subject_of(policy: Policy, grant: Grant) -> str:
    """A config-independent name for the JWT condition of a grant."""
    if grant.kind == "admin_scope":
        return f"scope '{policy.jwt.admin_jwt_scope}'"
    if grant.value is not None:
        return f"JWT role '{grant.value}'"
    names = {"team_id": "a team id claim", "user_id": "a user id claim", "team_id_default": "team_id_default",
             "any": "any token (no role claims)"}
    name = names.get(grant.kind, grant.kind)
    return f"{name} (iss {grant.issuer})" if grant.issuer else name


def _claims_by_subject(policy: Policy) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    widest = grants.all_scopes(policy)
    for grant in grants.grants(policy):
        out.setdefault(subject_of(policy, grant), []).append(grants.example_claims(policy, grant, widest))
    return out


def _role_access(policy: Policy, role: str, probes: tuple[str, ...]) -> Access:
    widest = grants.all_scopes(policy)
    return _union(_access(policy, grants.example_claims(policy, g, widest), probes, role, True)
                  for g in grants.grants(policy))


def _change(subject: str, kind: str, old: Access, new: Access) -> AccessChange | None:
    if old == new:
        return None
    return AccessChange(subject, kind, tuple(sorted(new.models - old.models)), tuple(sorted(old.models - new.models)),
                        summarize_routes(new.routes - old.routes), summarize_routes(old.routes - new.routes))


def access_changes(old: Policy, new: Policy) -> tuple[AccessChange, ...]:
    """Per gateway role, then per JWT condition: what decide() allows now and did not before (and back)."""
    probes = probe_paths(old, new)
    out: list[AccessChange] = []
    for role in RBAC_ROLES:
        change = _change(role, "gateway_role", _role_access(old, role, probes), _role_access(new, role, probes))
        out += [change] if change else []
    old_claims, new_claims = _claims_by_subject(old), _claims_by_subject(new)
    for subject in dict.fromkeys([*old_claims, *new_claims]):
        tokens = old_claims.get(subject, []) + new_claims.get(subject, [])
        change = _change(subject, "jwt", _union(_access(old, c, probes) for c in tokens),
                         _union(_access(new, c, probes) for c in tokens))
        out += [change] if change else []
    return tuple(out)


def diff_policies(old: Policy, new: Policy) -> PolicyDiff:
    """Access changes and security-setting changes from ``old`` to ``new``."""
    return PolicyDiff(old.file, new.file, access_changes(old, new), setting_changes(old, new))
