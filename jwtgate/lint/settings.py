"""Which rules run and how loud: ``jwtgate.lint`` in the config, then ``--select/--ignore/--severity``.

A pattern is a rule code (``JG201``) or a code prefix (``JG2``, ``JG``). Security rules (JG3xx) may be
ignored or downgraded only with a reason on record, i.e. in the config: ``severity: {JG302: {level:
warning, reason: "..."}}``. Problems in the config's settings are findings (JG013, JG014); problems on
the command line are usage errors.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from jwtgate.config.schema import LINT_LEVELS
from jwtgate.config.yaml_text import did_you_mean
from jwtgate.errors import UsageError
from jwtgate.model import Finding, Location, Policy, Severity

_PATTERN = re.compile(r"^JG\d{0,3}$")
RANK = {"info": 1, "warning": 2, "error": 3}
SECURITY_PREFIX = "JG3"


@dataclass(frozen=True, slots=True)
class Control:
    """One ignore or severity setting: what it matches, the level (None: ignore), why, and where it is."""

    pattern: str
    level: Severity | None
    reason: str | None
    source: str  # "jwtgate.lint.ignore", "jwtgate.lint.severity", "--ignore", "--severity", "--select"
    location: Location | None = None

    def matches(self, code: str) -> bool:
        return code.startswith(self.pattern)

    def applies_to(self, code: str, default: Severity) -> bool:
        """Matches, and is allowed to: a security rule is quieted only with a reason."""
        if not self.matches(code):
            return False
        quieter = self.level is None or RANK[self.level] < RANK[default]
        return not (quieter and code.startswith(SECURITY_PREFIX) and not self.reason)


@dataclass(frozen=True, slots=True)
class LintOptions:
    """The command line's ``--select``, ``--ignore`` and ``--severity CODE=LEVEL`` (already checked)."""

    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    severity: tuple[tuple[str, Severity], ...] = ()


def _covers_known(pattern: str, codes: Sequence[str]) -> bool:
    return bool(_PATTERN.match(pattern)) and any(c.startswith(pattern) for c in codes)


def _code_hint(pattern: str, codes: Sequence[str]) -> str:
    guess = did_you_mean(pattern, codes)
    return f"did you mean '{guess}'?" if guess else "'jwtgate lint --list-rules' lists the codes"


def parse_options(select: Iterable[str], ignore: Iterable[str], severity: Iterable[tuple[str, Severity]],
                  defaults: Mapping[str, Severity]) -> LintOptions:
    """Check the command line's codes (``severity``: (CODE, LEVEL) pairs, the levels checked by the CLI):
    UsageError (exit 2) on an unknown code, or a security rule quieted from the command line (that needs a
    reason on record, in the config). ``defaults`` maps every rule code to its default severity."""
    codes = list(defaults)

    def pattern(value: str, option: str) -> str:
        p = value.strip().upper()
        if not _covers_known(p, codes):
            raise UsageError(f"{option} {value!r}: not a rule code or prefix", hint=_code_hint(p, codes))
        return p

    sev = [(pattern(code, "--severity"), level) for code, level in severity]
    ign = tuple(pattern(v, "--ignore") for v in ignore)
    quieted = [c.pattern for c in (*(Control(p, None, None, "--ignore") for p in ign),
                                   *(Control(p, level, None, "--severity") for p, level in sev))
               if any(not c.applies_to(code, sev_) for code, sev_ in defaults.items() if c.matches(code))]
    if quieted:
        raise UsageError(f"{quieted[0]} covers security rules (JG3xx), which are quieted only with a reason on record",
                         hint="in the config: jwtgate: {lint: {severity: {JG302: {level: warning, reason: why}}}}, "
                              "or an inline '# jwtgate: ignore[JG302] why'")
    return LintOptions(tuple(pattern(v, "--select") for v in select), ign, tuple(sev))


def config_controls(policy: Policy, defaults: Mapping[str, Severity]) -> tuple[list[Control], list[Finding]]:
    """The config's ``jwtgate.lint`` as controls, and findings for what is wrong in it.

    ``defaults`` maps every rule code to its default severity.
    """
    codes = list(defaults)
    start = Location(policy.file, 1, 1)
    entries: list[Control | Finding] = []
    for i, value in enumerate(policy.settings.lint_ignore):
        loc = policy.where(f"jwtgate.lint.ignore[{i}]") or policy.where("jwtgate.lint") or start
        p = value.strip().upper()
        entries.append(Control(p, None, None, "jwtgate.lint.ignore", loc) if _covers_known(p, codes)
                       else _unknown_code(value, "jwtgate.lint.ignore", loc, codes))
    for key, raw in policy.settings.lint_severity.items():
        loc = policy.where(f"jwtgate.lint.severity.{key}") or start
        entries.append(_severity_entry(str(key), raw, loc, codes))
    controls = [e for e in entries if isinstance(e, Control)]
    problems = [e for e in entries if isinstance(e, Finding)]
    return controls, [*problems, *(f for c in controls for f in _needs_reason(c, defaults))]


def _severity_entry(key: str, raw: Any, loc: Location, codes: Sequence[str]) -> Control | Finding:
    p = key.strip().upper()
    if not _covers_known(p, codes):
        return _unknown_code(key, "jwtgate.lint.severity", loc, codes)
    if isinstance(raw, dict):
        extra = sorted(set(raw) - {"level", "reason"})
        if extra:
            return Finding("JG013", "error", f"unknown key '{extra[0]}' in jwtgate.lint.severity.{key}", loc,
                           "write {level: warning, reason: why}")
        level, reason = raw.get("level"), raw.get("reason")
    else:
        level, reason = raw, None
    if not isinstance(level, str) or level.lower() not in LINT_LEVELS:
        return Finding("JG013", "error", f"jwtgate.lint.severity.{key} is {level!r}, not a level", loc,
                       f"one of {', '.join(LINT_LEVELS)}")
    text = reason.strip() if isinstance(reason, str) and reason.strip() else None
    return Control(p, cast(Severity, level.lower()), text, "jwtgate.lint.severity", loc)


def _unknown_code(value: str, where: str, loc: Location, codes: Sequence[str]) -> Finding:
    return Finding("JG013", "error", f"{where} names '{value}', which is not a rule code or prefix", loc,
                   _code_hint(value.strip().upper(), codes))


def _needs_reason(control: Control, defaults: Mapping[str, Severity]) -> Iterator[Finding]:
    """JG014 when a control would quiet a security rule without a reason (it is not applied to it)."""
    blocked = [c for c, sev in defaults.items() if control.matches(c) and c.startswith(SECURITY_PREFIX)
               and not control.applies_to(c, sev)]
    if blocked:
        what = "ignores" if control.level is None else f"downgrades to {control.level}"
        yield Finding("JG014", "warning",
                      f"{control.source} {what} security rule{'s' if len(blocked) > 1 else ''} "
                      f"{', '.join(blocked)} without a reason, so not for {'them' if len(blocked) > 1 else 'it'}",
                      control.location or Location("<command line>", 1, 1),
                      f"under jwtgate.lint.severity write {blocked[0]}: {{level: warning, reason: why it is "
                      "fine here}")
