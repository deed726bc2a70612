"""Applying what the team decided to the raw findings: severities, inline suppressions, ignore, select.

Order: severities are re-graded (config, then command line; the last match wins), inline suppressions
are matched (an expired one lets its finding through, saying so; an unused one is JG011), then ignore
and select take findings out. Everything taken out is kept as ``Suppressed`` with its justification.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

from jwtgate.lint.settings import Control, LintOptions
from jwtgate.lint.suppress import Suppression, stale
from jwtgate.model import Finding, Severity, Suppressed

# Findings about suppressions themselves: not suppressible inline (a comment can't silence its own problem).
META_CODES = frozenset({"JG010", "JG011", "JG012", "JG013", "JG014"})


@dataclass(frozen=True, slots=True)
class LintReport:
    """What lint reports (``findings``) and what it was told not to (``suppressed``)."""

    findings: tuple[Finding, ...]
    suppressed: tuple[Suppressed, ...]


@dataclass(frozen=True, slots=True)
class Controls:
    """Everything that shapes the report: the config's controls, the command line, the comments, today."""

    config: tuple[Control, ...]
    options: LintOptions
    suppressions: tuple[Suppression, ...]
    today: date
    defaults: Mapping[str, Severity]

    def severity_controls(self) -> list[Control]:
        cli = [Control(p, level, None, "--severity") for p, level in self.options.severity]
        return [c for c in self.config if c.level is not None] + cli

    def ignore_controls(self) -> list[Control]:
        return [c for c in self.config if c.level is None] + [Control(p, None, None, "--ignore")
                                                              for p in self.options.ignore]


def apply_controls(findings: Iterable[Finding], meta: Iterable[Finding], controls: Controls) -> LintReport:
    """The report for ``findings`` (from the rules) and ``meta`` (problems in the controls themselves)."""
    graded = [_grade(f, controls) for f in findings]
    kept, suppressed, used = _inline(graded, controls)
    rest = [*kept, *(_grade(f, controls) for f in (*meta, *stale(list(controls.suppressions), used, controls.today)))]
    out: list[Finding] = []
    for f in rest:
        why = _ignored(f, controls)
        if why is None:
            out.append(f)
        else:
            suppressed.append(why)
    return LintReport(tuple(sorted(out, key=_order)), tuple(sorted(suppressed, key=lambda s: _order(s.finding))))


def _order(f: Finding) -> tuple[str, int, int, str, str]:
    return (*f.sort_key(), f.message)


def _default(f: Finding, controls: Controls) -> Severity:
    return controls.defaults.get(f.code, f.severity)


def _grade(f: Finding, controls: Controls) -> Finding:
    level: Severity | None = None
    for c in controls.severity_controls():
        if c.level is not None and c.applies_to(f.code, _default(f, controls)):
            level = c.level
    return f if level is None or level == f.severity else replace(f, severity=level)


def _inline(findings: Sequence[Finding], controls: Controls
            ) -> tuple[list[Finding], list[Suppressed], set[tuple[int, str]]]:
    kept: list[Finding] = []
    suppressed: list[Suppressed] = []
    used: set[tuple[int, str]] = set()
    for f in findings:
        hit = _matching(f, controls.suppressions)
        if hit is None:
            kept.append(f)
            continue
        index, s = hit
        used.add((index, f.code))
        if s.expired(controls.today):
            kept.append(replace(f, message=f"{f.message} [its suppression on line {s.location.line} "
                                           f"expired on {s.until}: {s.reason}]"))
        else:
            suppressed.append(Suppressed(f, "inSource", s.reason, "comment", s.location))
    return kept, suppressed, used


def _matching(f: Finding, suppressions: Sequence[Suppression]) -> tuple[int, Suppression] | None:
    if f.code in META_CODES:
        return None
    for i, s in enumerate(suppressions):
        if s.target_line == f.location.line and f.code in s.codes and s.location.file == f.location.file:
            return i, s
    return None


def _ignored(f: Finding, controls: Controls) -> Suppressed | None:
    for c in controls.ignore_controls():
        if c.applies_to(f.code, _default(f, controls)):
            where = f" (line {c.location.line})" if c.location is not None else " on the command line"
            return Suppressed(f, "external", f"{c.source} lists {c.pattern}{where}", c.source, c.location)
    select = controls.options.select
    if select and not any(f.code.startswith(p) for p in select):
        return Suppressed(f, "external", f"not selected by --select {','.join(select)}", "--select")
    return None
