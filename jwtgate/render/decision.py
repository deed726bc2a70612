"""Decision traces as text and JSON: shared by ``check-token``, ``explain`` and ``test``.

The trace is a sequence of ``Step`` (verification steps from ``Authenticator.trace`` followed by the
steps of ``decide()``); each is printed with a mark: ✓ ok, ✗ fail, • info, – skip, ! warn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from jwtgate.render.styled import Part, Styled

if TYPE_CHECKING:
    from jwtgate.errors import JwtgateError
    from jwtgate.model import Decision, Location, Reason, Request, Step

MARKS = {"ok": "✓", "fail": "✗", "info": "•", "skip": "–", "warn": "!"}
STYLES = {"ok": "green", "fail": "bold red", "info": "cyan", "skip": "dim", "warn": "yellow"}


def stdout_console() -> Styled:
    """Styled lines on stdout: long lines are not wrapped, values are printed literally."""
    return Styled()


def step_text(step: Step, width: int = 0) -> list[Part]:
    """One line: mark, name (padded to ``width``), detail and, dimmed, the config location."""
    line: list[Part] = [(MARKS.get(step.status, "?"), STYLES.get(step.status, "")), " ",
                        (step.name.ljust(width), "bold"), "  ", step.detail]
    if step.location is not None:
        line.append((f"  ({step.location})", "dim"))
    return line


def render_trace_text(steps: Sequence[Step], notes: Sequence[str], console: Styled) -> None:
    """Print every step with its mark, then the notes (how LiteLLM reads the token; intended differences)."""
    width = max((len(s.name) for s in steps), default=0)
    for step in steps:
        console.print(*step_text(step, width))
    for note in notes:
        console.print(("note: ", "yellow"), note)


def render_verdict_text(allowed: bool, reason: Reason | JwtgateError | None, console: Styled) -> None:
    """The closing line: ``ALLOWED`` or ``DENIED [code]: message``."""
    if allowed:
        console.print(("ALLOWED", "bold green"))
        return
    if reason is None:
        console.print(("DENIED", "bold red"))
        return
    console.print(("DENIED", "bold red"), (f" [{reason.code}] ", "red"), reason.message)


def location_to_json(location: Location | None) -> dict[str, Any] | None:
    if location is None:
        return None
    return {"file": location.file, "line": location.line, "column": location.column}


def step_to_json(step: Step) -> dict[str, Any]:
    """``{name, status, detail, location, data}``."""
    return {"name": step.name, "status": step.status, "detail": step.detail,
            "location": location_to_json(step.location), "data": dict(step.data)}


def reason_to_json(reason: Reason | JwtgateError | None) -> dict[str, Any] | None:
    """``{code, message, location}`` or None."""
    if reason is None:
        return None
    return {"code": reason.code, "message": reason.message, "location": location_to_json(reason.location)}


def decision_to_json(decision: Decision | None, *, steps: Sequence[Step], verified: bool,
                     claims: Mapping[str, Any] | None, error: JwtgateError | None = None,
                     request: Request | None = None, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The JSON document of a trace. ``error`` (a refused token) wins over the decision's reason.

    ``models``/``routes`` are null when unrestricted (or when no decision was made).
    """
    allowed = decision is not None and error is None and decision.allowed
    reason = error if error is not None else (decision.reason if decision is not None else None)
    out: dict[str, Any] = {
        "allowed": allowed,
        "verified": verified,
        "reason": reason_to_json(reason),
        "role": decision.role if decision else None,
        "models": list(decision.models) if decision and decision.models is not None else None,
        "routes": list(decision.routes) if decision and decision.routes is not None else None,
        "subject": decision.subject if decision else None,
        "identity": dict(decision.identity) if decision else {},
        "claims": dict(claims) if claims is not None else None,
        "request": {"model": request.model, "route": request.route} if request else None,
        "steps": [step_to_json(s) for s in steps],
        "notes": list(decision.notes) if decision else [],
    }
    out.update(extra or {})
    return out
