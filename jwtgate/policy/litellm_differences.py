"""The one registry of intended differences from LiteLLM, and the LiteLLM version the semantics follow.

jwtgate decides as LiteLLM ``LITELLM_VERSION`` does (held against LiteLLM's own code by the differential
suite, tests/litellm). Where it deliberately does not, the difference is listed here: what LiteLLM does,
what jwtgate does and why. ``decide()`` adds ``note(id)`` to the trace whenever one applies, and lint
(JG214) reports every difference a config can reach. A difference never makes jwtgate more permissive
than LiteLLM unless ``more_permissive`` says so and ``why`` says why that is safe.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: `jwtgate --version` reads LITELLM_VERSION without building the model
    from jwtgate.model import Policy

LITELLM_VERSION = "1.108.7"


@dataclass(frozen=True, slots=True)
class Difference:
    """One intended difference: its id, what each side does, why, and which configs can reach it."""

    id: str
    title: str
    litellm: str
    jwtgate: str
    why: str
    more_permissive: bool
    reachable: Callable[[Policy], bool]


def _restricted_models(policy: Policy) -> bool:
    """Only ``serve`` sees model calls: reported for configs with a ``jwtgate.serve`` section."""
    jwt = policy.jwt
    if policy.where("jwtgate.serve") is None:
        return False
    perms = jwt.enforce_rbac and any(p.models is not None for p in policy.role_permissions)
    return perms or bool(jwt.enforce_scope_based_access and jwt.scope_mappings)


def _object_id_teams(policy: Policy) -> bool:
    jwt = policy.jwt
    return bool(jwt.object_id_jwt_field) and any(m.internal_role == "team" for m in jwt.role_mappings)


def _token_shape_only(policy: Policy) -> bool:
    """Reached by what a token carries, which lint never sees: the trace note is where it shows."""
    return False


def _grants_endpoint_routes(policy: Policy) -> bool:
    """Reported where the file grants such a route to a non-admin (role_permissions or team_allowed_routes)."""
    from jwtgate.policy import routes

    entries = [e for p in policy.role_permissions if p.role != "proxy_admin" for e in p.routes or ()]
    if policy.where("general_settings.litellm_jwtauth.team_allowed_routes") is not None:
        entries += policy.jwt.team_allowed_routes
    paths = [t for e in entries for t in routes.GROUPS.get(e, (e,))]
    return any(routes.passed_to_endpoint(p) for p in paths)


DIFFERENCES: tuple[Difference, ...] = (
    Difference(
        "LD001", "a model call whose body names no model while the caller's models are restricted",
        "skips the model check (role_permissions and scope_mappings check only a model that is named)",
        "`serve` denies a POST to a model route without a model (policy.model_required); check-token, "
        "explain and test decide as LiteLLM",
        "LiteLLM's router then picks a default or fails; a gateway cannot tell which model that would be, so it "
        "refuses instead of letting a restricted caller reach an unnamed one", False, _restricted_models),
    Difference(
        "LD002", "team_allowed_routes for a team named by object_id_jwt_field (role_mappings -> team)",
        "applies team_allowed_routes only while it picks a team from its database, so a team id from "
        "object_id_jwt_field reaches every LLM and info route",
        "applies team_allowed_routes to every team caller",
        "the list exists to limit team callers; skipping it for one way of naming the team is an accident of "
        "LiteLLM's code path, and jwtgate only denies more", False, _object_id_teams),
    Difference(
        "LD003", "a route LiteLLM hands to its endpoint to check the caller (self_managed_routes such as "
        "/team/update, /v1/mcp/*, /mcp-rest/*, /lens)",
        "lets every authenticated caller through its route gate; the endpoint then checks the caller's own "
        "rights (a team admin may update their team)",
        "denies a caller without the admin scope (policy.route_not_allowed)",
        "behind jwtgate, LiteLLM sees the master key, so the endpoint would check the master key's rights, "
        "not the caller's: letting the request through would make every caller an admin there", False,
        _grants_endpoint_routes),
    Difference(
        "LD004", "a roles claim that is an object ({\"llm-admin\": 1})",
        "iterates the object, so its keys count as roles (an object roles claim can map to proxy_admin)",
        "reads no roles from it (the token maps to no role through that claim)",
        "an IdP sends roles as a list; keys of an object are a shape confusion (tests/security), and jwtgate "
        "only denies more. The token's shape, not the config, reaches it, so lint cannot report it",
        False, _token_shape_only),
    Difference(
        "LD005", "a claim the config reads that the IdP left out for group overage (_claim_names, hasgroups)",
        "reads the missing claim as empty: the caller silently gets no role (and, with enforce_rbac off, "
        "continues as an unrestricted caller)",
        "denies with claims.overage and says how to fix the app registration",
        "the caller's groups exist but are not in the token; deciding without them would be deciding on the "
        "wrong facts, and jwtgate only denies more. The token's shape reaches it, so lint cannot report it",
        False, _token_shape_only),
)

BY_ID: dict[str, Difference] = {d.id: d for d in DIFFERENCES}
_ID = re.compile(r"^\[(LD\d{3})\]")


def note(diff_id: str, detail: str = "") -> str:
    """The trace note for an intended difference that applies (``[LDnnn] title: ...``)."""
    d = BY_ID[diff_id]
    return f"[{d.id}] {d.title}: LiteLLM {d.litellm}; jwtgate {d.jwtgate}" + (f" ({detail})" if detail else "")


def ids_in(notes: Iterable[str]) -> tuple[str, ...]:
    """The difference ids named by a decision's notes, in order."""
    return tuple(m.group(1) for n in notes if (m := _ID.match(n)))


def reachable(policy: Policy) -> tuple[Difference, ...]:
    """The intended differences this config can reach (for lint)."""
    return tuple(d for d in DIFFERENCES if d.reachable(policy))


def differences_table() -> str:
    """The README's table of intended differences (Markdown)."""
    rows = ["| Id | Case | LiteLLM | jwtgate | Why | More permissive |", "|---|---|---|---|---|---|"]
    rows += [f"| {d.id} | {d.title} | {d.litellm} | {d.jwtgate} | {d.why} | {'yes' if d.more_permissive else 'no'} |"
             for d in DIFFERENCES]
    return "\n".join(rows)
