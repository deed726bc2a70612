"""Which ``role_permissions``, ``role_mappings`` and ``scope_mappings`` entries a set of decisions exercised.

An entry counts as exercised when a decision's trace passed through it: a step (or the reason) points at
its config line, or, for scope mappings, the ``scopes`` step lists its scope as matched.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from jwtgate.model import Decision, Location, Policy
from jwtgate.policy import grants


@dataclass(frozen=True, slots=True)
class Entry:
    """One coverable config entry."""

    kind: str  # role_permissions | role_mappings | scope_mappings
    index: int
    label: str
    location: Location
    unreachable: str | None = None  # why no token can exercise it, when the config says so

    @property
    def name(self) -> str:
        return f"{self.kind}[{self.index}] ({self.label})"


@dataclass(frozen=True, slots=True)
class Coverage:
    """Entries of one config and the ones some decision exercised."""

    config: str
    entries: tuple[Entry, ...]
    covered: tuple[Entry, ...]

    @property
    def uncovered(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e not in self.covered)

    @property
    def percent(self) -> float:
        return 100.0 if not self.entries else 100.0 * len(self.covered) / len(self.entries)


def entries(policy: Policy) -> tuple[Entry, ...]:
    """Every coverable entry in config order."""
    granted = {g.role for g in grants.grants(policy)}
    seen: set[str] = set()
    out: list[Entry] = []
    for i, p in enumerate(policy.role_permissions):
        why = None if p.role in granted else f"no condition in the config grants {p.role}"
        why = f"an earlier entry for {p.role} wins" if p.role in seen else why
        seen.add(p.role)
        out.append(Entry("role_permissions", i, p.role, p.location, why))
    out += [Entry("role_mappings", i, f"{m.role} -> {m.internal_role}", m.location)
            for i, m in enumerate(policy.jwt.role_mappings)]
    out += [Entry("scope_mappings", i, s.scope, s.location) for i, s in enumerate(policy.jwt.scope_mappings)]
    return tuple(out)


def _hits(decisions: Iterable[Decision]) -> tuple[set[Location], set[str]]:
    locations: set[Location] = set()
    scopes: set[str] = set()
    for d in decisions:
        locations.update(s.location for s in d.steps if s.location is not None)
        if d.reason is not None and d.reason.location is not None:
            locations.add(d.reason.location)
        for s in d.steps:
            if s.name == "scopes":
                scopes.update(str(x) for x in s.data.get("matched", ()))
    return locations, scopes


def coverage(policy: Policy, decisions: Iterable[Decision]) -> Coverage:
    """The entries of ``policy`` the decisions exercised."""
    locations, scopes = _hits(decisions)
    all_entries = entries(policy)
    covered = tuple(e for e in all_entries
                    if e.location in locations or (e.kind == "scope_mappings" and e.label in scopes))
    return Coverage(policy.file, all_entries, covered)
