"""Access reports built from decide(): who may use a model, what a role gets, the access matrix.

Every answer here comes from ``policy.decide()`` run on the example claims of a :mod:`jwtgate.policy.grants`
Grant; nothing in this module decides by itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jwtgate.model import Decision, Location, Policy, Request
from jwtgate.policy import grants
from jwtgate.policy.decision import decide
from jwtgate.policy.grants import Grant
from jwtgate.policy.routes import DEFAULT_ROUTE


@dataclass(frozen=True, slots=True)
class GrantTrial:
    """One grant (plus scopes) tried against one request, and what decide() said."""

    grant: Grant
    scopes: tuple[str, ...]
    claims: dict[str, Any]
    decision: Decision

    def config_lines(self) -> tuple[Location, ...]:
        """The grant's line and every config line the decision's trace passed through."""
        locs = [self.grant.location] + [s.location for s in self.decision.steps if s.status != "fail"]
        return tuple(dict.fromkeys(loc for loc in locs if loc is not None))


@dataclass(frozen=True, slots=True)
class ModelAccess:
    """Who may use one model."""

    model: str
    route: str
    in_model_list: bool
    model_location: Location | None
    allowed: tuple[GrantTrial, ...]
    denied: tuple[GrantTrial, ...]
    requirements: tuple[str, ...] = ()

    @property
    def everyone(self) -> bool:
        """True when a token with no role and no scope at all is allowed (RBAC not enforced)."""
        return any(p.grant.kind == "any" and not p.scopes for p in self.allowed)

    @property
    def reachable(self) -> bool:
        return self.in_model_list and bool(self.allowed)


@dataclass(frozen=True, slots=True)
class RoleAccess:
    """What one grant of a role gets: models (on ``route``) and the route lists of its decision."""

    trial: GrantTrial
    models: tuple[str, ...]
    permission_routes: tuple[str, ...] | None = None
    permission_location: Location | None = None


def try_grant(policy: Policy, grant: Grant, request: Request, scopes: tuple[str, ...] = ()) -> GrantTrial:
    """decide() on the example claims of a grant."""
    claims = grants.example_claims(policy, grant, scopes)
    return GrantTrial(grant, scopes, claims, decide(policy, claims, request))


def _best(policy: Policy, grant: Grant, request: Request) -> GrantTrial:
    """decide() with no scope, then with each mapped scope: the first allow, else the widest-scope denial."""
    for scopes in grants.scope_variants(policy):
        trial = try_grant(policy, grant, request, scopes)
        if trial.decision.allowed:
            return trial
    widest = grants.all_scopes(policy)
    return try_grant(policy, grant, request, widest) if widest else trial


def model_access(policy: Policy, model: str, route: str = DEFAULT_ROUTE) -> ModelAccess:
    """Every grant tried on ``model``: which are allowed and which denied (and why)."""
    entry = next((m for m in policy.models if m.name == model), None)
    trials = [_best(policy, g, Request(model, route)) for g in grants.grants(policy)]
    return ModelAccess(model, route, entry is not None, entry.location if entry else None,
                       tuple(t for t in trials if t.decision.allowed),
                       tuple(t for t in trials if not t.decision.allowed),
                       tuple(r.condition for r in grants.requirements(policy)))


def matching_grants(policy: Policy, role: str) -> tuple[Grant, ...]:
    """Grants of a gateway role, or of a JWT role value (``role_mappings`` / ``user_allowed_roles``)."""
    return tuple(g for g in grants.grants(policy) if role in (g.role, g.value))


def role_access(policy: Policy, role: str, route: str = DEFAULT_ROUTE) -> tuple[RoleAccess, ...]:
    """For each grant of ``role``: the models decide() allows on ``route`` and its route-only decision."""
    out: list[RoleAccess] = []
    widest = grants.all_scopes(policy)
    for grant in matching_grants(policy, role):
        base = try_grant(policy, grant, Request(None, route), widest)
        models = tuple(m for m in dict.fromkeys(policy.model_names)
                       if try_grant(policy, grant, Request(m, route), widest).decision.allowed)
        perm = policy.permission_for(base.decision.role) if base.decision.role and policy.jwt.enforce_rbac else None
        out.append(RoleAccess(base, models, perm.routes if perm else None, perm.location if perm else None))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class MatrixRow:
    """One grant across every model: the role decide() gave and the allowed models.

    ``allowed``: models the grant's example claims reach with no scope; ``with_scope``: models reached
    only when the token also carries the given mapped scope; ``reasons``: why the others are denied.
    """

    grant: Grant
    role: str | None
    allowed: tuple[str, ...]
    reasons: dict[str, str]
    with_scope: dict[str, str] = field(default_factory=dict)


def _row(policy: Policy, grant: Grant, models: tuple[str, ...], route: str) -> MatrixRow:
    role = try_grant(policy, grant, Request(None, route)).decision.role
    allowed: list[str] = []
    reasons: dict[str, str] = {}
    with_scope: dict[str, str] = {}
    for model in models:
        trial = _best(policy, grant, Request(model, route))
        d, role = trial.decision, trial.decision.role
        if d.allowed and trial.scopes:
            with_scope[model] = trial.scopes[0]
        elif d.allowed:
            allowed.append(model)
        elif d.reason is not None:
            reasons[model] = d.reason.code
    return MatrixRow(grant, role, tuple(allowed), reasons, with_scope)


def matrix(policy: Policy, route: str = DEFAULT_ROUTE) -> tuple[tuple[str, ...], tuple[MatrixRow, ...]]:
    """Grants x models, each cell from decide() on the grant's example claims (plus a scope if needed)."""
    models = tuple(dict.fromkeys(policy.model_names))
    return models, tuple(_row(policy, grant, models, route) for grant in grants.grants(policy))
