"""Inline suppressions: ``# jwtgate: ignore[JG201] reason until=2027-03-31`` read from the YAML text.

ruamel keeps comments but not in a shape that is easy to place, so the comments are read from the text
lines by a small quote-aware scanner. A comment on a line of its own applies to the next line that holds
YAML; a comment after a value applies to its own line. Pure: the caller passes the text.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterator
from dataclasses import dataclass
from datetime import date

from jwtgate.model import Finding, Location

_ANYWHERE = re.compile(r"jwtgate\s*:\s*ignore", re.IGNORECASE)  # a cheap test before the line scan
_DIRECTIVE = re.compile(r"^#\s*jwtgate\s*:\s*ignore\b(?P<rest>.*)$", re.IGNORECASE)
_CODES = re.compile(r"^\[(?P<codes>[^\]]*)\](?P<reason>.*)$")
_UNTIL = re.compile(r"(?:^|\s)until=(?P<date>\S*)")
HOW = "write '# jwtgate: ignore[JG201] why it is fine' (optionally 'until=YYYY-MM-DD')"


@dataclass(frozen=True, slots=True)
class Suppression:
    """One well-formed suppression comment: the codes, the line it covers, why, and until when."""

    codes: tuple[str, ...]
    reason: str
    until: date | None
    target_line: int
    location: Location  # the comment itself

    def expired(self, today: date) -> bool:
        return self.until is not None and today > self.until


def comment_start(line: str) -> int | None:
    """Index of the ``#`` that starts a YAML comment on this line, or None (quotes are respected)."""
    quote: str | None = None
    i = 0
    while i < len(line):
        ch = line[i]
        if quote == "'":
            if ch == "'" and line[i + 1:i + 2] == "'":
                i += 1
            elif ch == "'":
                quote = None
        elif quote == '"':
            if ch == "\\":
                i += 1
            elif ch == '"':
                quote = None
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return i
        elif ch in "'\"" and (i == 0 or line[i - 1] in " \t[{,:-"):
            quote = ch
        i += 1
    return None


def _is_yaml_line(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _target(lines: list[str], index: int, own_line: bool) -> int:
    """The 1-based line a comment at ``lines[index]`` covers."""
    if not own_line:
        return index + 1
    for j in range(index + 1, len(lines)):
        if _is_yaml_line(lines[j]):
            return j + 1
    return index + 1


def parse_suppressions(text: str, file: str, known: Container[str]) -> tuple[list[Suppression], list[Finding]]:
    """Every suppression comment in ``text``; malformed or reasonless ones are findings (JG012, JG010)."""
    found: list[Suppression] = []
    problems: list[Finding] = []
    if _ANYWHERE.search(text) is None:
        return found, problems
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if _ANYWHERE.search(line) is None:
            continue
        col = comment_start(line)
        if col is None:
            continue
        match = _DIRECTIVE.match(line[col:].rstrip())
        if match is None:
            continue
        loc = Location(file, index + 1, col + 1)
        target = _target(lines, index, own_line=not line[:col].strip())
        result = _parse_directive(match.group("rest"), loc, target, known)
        if isinstance(result, Suppression):
            found.append(result)
        else:
            problems.append(result)
    return found, problems


def _parse_directive(rest: str, loc: Location, target: int, known: Container[str]) -> Suppression | Finding:
    codes_match = _CODES.match(rest.strip())
    if codes_match is None:
        return Finding("JG012", "warning", "suppression comment without [CODE]: it suppresses nothing", loc, HOW)
    codes = tuple(c.strip().upper() for c in codes_match.group("codes").split(",") if c.strip())
    unknown = [c for c in codes if c not in known]
    if not codes or unknown:
        what = f"unknown rule code {', '.join(repr(c) for c in unknown)}" if unknown else "no rule code"
        return Finding("JG012", "warning", f"suppression comment names {what}: it suppresses nothing", loc,
                       "'jwtgate lint --list-rules' lists the codes")
    reason = codes_match.group("reason")
    until: date | None = None
    until_match = _UNTIL.search(reason)
    if until_match is not None:
        try:
            until = date.fromisoformat(until_match.group("date"))
        except ValueError:
            return Finding("JG012", "warning", f"suppression of {', '.join(codes)} has until="
                           f"'{until_match.group('date')}', which is not a date: it suppresses nothing", loc,
                           "write until=YYYY-MM-DD")
        reason = reason[:until_match.start()] + reason[until_match.end():]
    reason = " ".join(reason.split()).strip(" -:—–")
    if not reason:
        return Finding("JG010", "warning", f"suppression of {', '.join(codes)} gives no reason, so it is not "
                       "applied", loc, f"say why after the codes: {HOW}")
    return Suppression(codes, reason, until, target, loc)


def stale(suppressions: list[Suppression], used: set[tuple[int, str]], today: date) -> Iterator[Finding]:
    """JG011 for every (suppression, code) that matched no finding; ``used`` holds (index, code) pairs."""
    for i, s in enumerate(suppressions):
        for code in s.codes:
            if (i, code) in used:
                continue
            if s.expired(today):
                msg = f"suppression of {code} expired on {s.until} and matches no finding on line {s.target_line}"
            else:
                msg = f"suppression of {code} matches no finding on line {s.target_line}"
            yield Finding("JG011", "warning", msg, s.location, "remove it (the finding it was for is gone)")
