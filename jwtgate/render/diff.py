"""Text, JSON and Markdown for ``jwtgate diff``."""

from __future__ import annotations

from typing import Any

from jwtgate.policy.diff import AccessChange, PolicyDiff


def _subject(a: AccessChange) -> str:
    return f"gateway role {a.subject}" if a.kind == "gateway_role" else a.subject


def _parts(a: AccessChange) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(sign, what, items) for sign, what, items in (
        ("+", "models", a.models_gained), ("-", "models", a.models_lost),
        ("+", "routes", a.routes_gained), ("-", "routes", a.routes_lost)) if items]


def text(d: PolicyDiff) -> str:
    if d.empty:
        return f"no effective change between {d.old} and {d.new}\n"
    lines = [f"effective access change: {d.old} -> {d.new}"]
    for a in d.access:
        lines.append(f"{_subject(a)}:" + (" (widens)" if a.widens else ""))
        lines.extend(f"  {sign} {what}: {', '.join(items)}" for sign, what, items in _parts(a))
    if d.settings:
        lines.append("settings:")
        for s in d.settings:
            flag = "WEAKENS" if s.weakens else "info"
            lines.append(f"  {flag:<7} {s.setting}: {s.old} -> {s.new} ({s.message})")
    return "\n".join(lines) + "\n"


def as_json(d: PolicyDiff) -> dict[str, Any]:
    return {"old": d.old, "new": d.new, "empty": d.empty, "widens": d.widens,
            "access": [{"subject": a.subject, "kind": a.kind, "widens": a.widens,
                        "models_gained": list(a.models_gained), "models_lost": list(a.models_lost),
                        "routes_gained": list(a.routes_gained), "routes_lost": list(a.routes_lost)}
                       for a in d.access],
            "settings": [{"setting": s.setting, "old": s.old, "new": s.new, "weakens": s.weakens,
                          "message": s.message} for s in d.settings]}


def _cell(items: tuple[str, ...]) -> str:
    return ", ".join(f"`{i}`" for i in items) or " "


def markdown(d: PolicyDiff) -> str:
    """A PR comment: a verdict line, an access table, a settings table."""
    if d.empty:
        return f"**jwtgate diff**: no effective access change (`{d.old}` → `{d.new}`).\n"
    verdict = ":warning: widens access or weakens security" if d.widens else "narrows or keeps access"
    lines = [f"**jwtgate diff** `{d.old}` → `{d.new}`: {verdict}", ""]
    if d.access:
        lines += ["| who | models gained | models lost | routes gained | routes lost |", "|---|---|---|---|---|"]
        lines += [f"| {_subject(a)} | {_cell(a.models_gained)} | {_cell(a.models_lost)} | {_cell(a.routes_gained)} "
                  f"| {_cell(a.routes_lost)} |" for a in d.access]
        lines.append("")
    if d.settings:
        lines += ["| setting | old | new | |", "|---|---|---|---|"]
        lines += [f"| `{s.setting}` | {s.old} | {s.new} | {':warning: ' if s.weakens else ''}{s.message} |"
                  for s in d.settings]
        lines.append("")
    return "\n".join(lines)
