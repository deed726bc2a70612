"""The decision trace as text and JSON: the one renderer check-token, explain and test share.

A trace is a sequence of ``Step`` (the verification steps of a :class:`jwtgate.check.TokenCheck`, then
decide()'s); each line has a mark: ✓ ok, ✗ fail, • info, – skip, ! warn. The text closes with the notes
(how LiteLLM reads the token; ``[LDnnn]`` = an intended difference) and ``ALLOWED`` / ``DENIED [code] message``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from jwtgate.policy.litellm_differences import LITELLM_VERSION
from jwtgate.render.styled import Part, Styled

if TYPE_CHECKING:
    from jwtgate.check import TokenCheck
    from jwtgate.errors import JwtgateError
    from jwtgate.model import Decision, Location, Reason, Step

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


def trace_lines(steps: Sequence[Step], notes: Sequence[str] = (), indent: str = "") -> list[str]:
    """``render_trace_text`` as plain lines (for output built as text, such as ``jwtgate test`` failures)."""
    width = max((len(s.name) for s in steps), default=0)
    lines = ["".join(p if isinstance(p, str) else p[0] for p in step_text(s, width)) for s in steps]
    return [indent + line for line in (*lines, *(f"note: {n}" for n in notes))]


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


def render_check_text(check: TokenCheck, console: Styled) -> None:
    """The whole check: every step, the notes, what goes upstream (``jwtgate.identity``), the verdict and,
    for a refused token, the error's hint."""
    decision = check.decision
    render_trace_text(decision.steps, decision.notes, console)
    if check.upstream is not None:
        from jwtgate.render.identity import identity_lines

        for line in identity_lines(check.upstream):
            console.print(line)
    render_verdict_text(decision.allowed, decision.reason, console)
    if check.error is not None and check.error.hint:
        console.print(f"hint: {check.error.hint}")


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


def decision_to_json(d: Decision) -> dict[str, Any]:
    """A Decision: ``models``/``routes`` are null when unrestricted."""
    return {"allowed": d.allowed, "reason": reason_to_json(d.reason), "role": d.role,
            "models": None if d.models is None else list(d.models),
            "routes": None if d.routes is None else list(d.routes), "subject": d.subject,
            "identity": dict(d.identity), "steps": [step_to_json(s) for s in d.steps], "notes": list(d.notes)}


def check_to_json(check: TokenCheck, now: float | None = None) -> dict[str, Any]:
    """The document of check-token and explain --token (and explain --claims, with ``verified`` false).

    The Decision's fields plus ``verified``, the verified ``claims``, the ``request``, the parsed ``header``
    and ``fingerprint`` (also for a refused token that parsed) and the ``now`` the check was made at.
    """
    verified = check.verified
    doc: dict[str, Any] = {"allowed": check.allowed, "verified": verified is not None}
    doc.update((k, v) for k, v in decision_to_json(check.decision).items() if k != "allowed")
    doc.update(claims=dict(verified.claims) if verified is not None else None,
               request={"model": check.request.model, "route": check.request.route},
               header=check.header, fingerprint=check.fingerprint, now=now, litellm_version=LITELLM_VERSION)
    if check.upstream is not None:
        from jwtgate.render.identity import identity_json

        doc["upstream"] = identity_json(check.upstream)
    return doc
