"""The decision's working state: the trace being built and the resolved role (private to policy/)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jwtgate.config.schema import INTERNAL_USER, PROXY_ADMIN, TEAM
from jwtgate.model import Location, Step, StepStatus

__all__ = ["INTERNAL_USER", "PROXY_ADMIN", "TEAM", "Role", "Trace"]


@dataclass
class Trace:
    """Steps and notes, in order."""

    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, name: str, status: StepStatus, detail: str, location: Location | None = None,
            **data: Any) -> None:
        self.steps.append(Step(name, status, detail, location, dict(data)))


@dataclass(frozen=True)
class Role:
    """The gateway role and how it was found: "scope", "team_id", "user_id", "user_roles", "role_mapping", "none"."""

    role: str | None
    via: str
    location: Location | None = None
