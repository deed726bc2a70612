"""Text, JSON and Markdown for ``jwtgate replay`` (in the style of ``jwtgate diff``)."""

from __future__ import annotations

from typing import Any

from jwtgate.policy.replay import ReplayChange, ReplayReport


def _counts(r: ReplayReport) -> str:
    skipped = [f"{n} {what}" for n, what in ((r.undecided, "without a policy decision"),
                                              (r.unreadable, "unreadable"), (r.other, "not access lines")) if n]
    return f"{r.replayed} logged decisions of {r.lines} lines" + (f" ({', '.join(skipped)})" if skipped else "")


def _role(c: ReplayChange) -> str:
    if c.role == c.new_role or c.direction.endswith("denied"):
        return c.role or "no role"
    return f"{c.role or 'no role'} -> {c.new_role or 'no role'}"


def _why(c: ReplayChange) -> str:
    """The reason of the denial: the new one (allowed -> denied) or the one in the log."""
    if c.direction.endswith("denied"):
        return "now " + ", ".join(c.new_reasons)
    return "was " + ", ".join(c.old_reasons)


def _line(c: ReplayChange) -> str:
    plural = "request" if c.count == 1 else "requests"
    return (f"  {_role(c)}  model {c.model or '(none)'}  subject {c.subject}: {c.count} {plural} "
            f"({_why(c)}) on {', '.join(c.routes)}")


def _notes(r: ReplayReport) -> list[str]:
    out = []
    if r.replayed == 0 and r.undecided:
        out.append("no line carries claims: was jwtgate.serve.log_claims on when the log was written?")
    if r.unlogged_paths:
        out.append(f"{r.config} reads claims the log does not hold: {', '.join(r.unlogged_paths)} "
                   "(log both configs' claims by serving with --shadow-config)")
    return out


def text(r: ReplayReport) -> str:
    lines = [f"replay with {r.config}: {_counts(r)}"]
    if r.empty:
        lines.append("no decision would change")
    else:
        lines.append(f"{r.changed} would change:")
    for direction in ("allowed -> denied", "denied -> allowed"):
        group = [c for c in r.changes if c.direction == direction]
        if group:
            lines.append(f"{direction}:" + (" (widens)" if direction.endswith("allowed") else ""))
            lines.extend(_line(c) for c in group)
    lines.extend(f"note: {n}" for n in _notes(r))
    return "\n".join(lines) + "\n"


def as_json(r: ReplayReport) -> dict[str, Any]:
    return {"config": r.config, "lines": r.lines, "replayed": r.replayed, "undecided": r.undecided,
            "unreadable": r.unreadable, "other": r.other, "empty": r.empty, "widens": r.widens,
            "changed": r.changed, "unlogged_paths": list(r.unlogged_paths), "notes": _notes(r),
            "changes": [{"direction": c.direction, "widens": c.widens, "role": c.role, "new_role": c.new_role,
                         "model": c.model, "subject": c.subject, "count": c.count, "routes": list(c.routes),
                         "old_reasons": list(c.old_reasons), "new_reasons": list(c.new_reasons)}
                        for c in r.changes]}


def markdown(r: ReplayReport) -> str:
    """A PR comment: a verdict line and a table of the changes."""
    if r.empty:
        return f"**jwtgate replay** `{r.config}`: no decision would change ({_counts(r)}).\n"
    verdict = ":warning: allows requests that were denied" if r.widens else "only denies requests that were allowed"
    lines = [f"**jwtgate replay** `{r.config}`: {r.changed} of {r.replayed} decisions change; {verdict}", "",
             "| change | role | model | subject | requests | reason |", "|---|---|---|---|---|---|"]
    lines += [f"| {c.direction} | {_role(c)} | `{c.model or '(none)'}` | `{c.subject}` | {c.count} | "
              f"{_why(c)} |"
              for c in r.changes]
    lines += ["", *(f"> {n}" for n in _notes(r))] if _notes(r) else []
    return "\n".join(lines) + "\n"
