"""Instants and durations for people: ISO 8601 and relative forms, and parsing of ``--now``/``--expires-in``.

Pure functions: the current time is always passed in.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

from jwtgate.errors import UsageError

TIME_CLAIMS = ("exp", "nbf", "iat", "auth_time")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd]?)$")


def iso(ts: float) -> str:
    """``2026-11-26T10:00:00Z`` (UTC, whole seconds); out-of-range instants are shown as numbers."""
    try:
        return datetime.fromtimestamp(math.floor(ts), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return f"{ts} (out of range)"


def _amount(seconds: float) -> str:
    s = abs(seconds)
    for limit, unit, size in ((90, "s", 1), (90 * 60, "min", 60), (48 * 3600, "h", 3600),
                              (730 * 86400, "d", 86400)):
        if s < limit:
            return f"{round(s / size)} {unit}"
    return f"{round(s / (365.25 * 86400))} y"


def relative(ts: float, now: float) -> str:
    """``in 3 h``, ``42 s ago`` or ``now`` (within half a second)."""
    delta = ts - now
    if abs(delta) < 0.5:
        return "now"
    return f"in {_amount(delta)}" if delta > 0 else f"{_amount(delta)} ago"


def duration(seconds: float) -> str:
    """A length of time as '3 s', '7 min', '2 h 5 min', '3 d' (the sign is dropped)."""
    s = abs(int(seconds))
    if s < 120:
        return f"{s} s"
    if s < 7200:
        return f"{s // 60} min"
    if s < 172800:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 86400} d"


def exact_seconds(value: float) -> str:
    """Whole seconds (tenths only under 10 s), with hours or days when large: '72 s', '9000 s (~2.5 h)'."""
    text = f"{round(value)} s" if abs(value) >= 10 or abs(value - round(value)) < 0.05 else f"{value:.1f} s"
    if abs(value) < 7200:
        return text
    return f"{text} (~{value / 3600:.1f} h)" if abs(value) < 172_800 else f"{text} (~{value / 86400:.1f} d)"


def is_number(value: Any) -> bool:
    """A JSON number that is not a boolean."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def time_claims(claims: dict[str, Any], now: float) -> dict[str, dict[str, Any]]:
    """For each time claim present: its value, and ISO/relative forms when it is a number."""
    out: dict[str, dict[str, Any]] = {}
    for name in TIME_CLAIMS:
        if name not in claims:
            continue
        value = claims[name]
        if is_number(value) and math.isfinite(value):
            out[name] = {"value": value, "iso": iso(value), "relative": relative(value, now)}
        else:
            out[name] = {"value": value, "iso": None, "relative": None,
                         "problem": f"not a JSON number ({type(value).__name__})"}
    return out


MAX_INSTANT = 253402300800.0  # 10000-01-01T00:00:00Z: instants run from 1970 to the end of year 9999


def parse_instant(text: str, option: str = "--now") -> float:
    """Epoch seconds (``1767225600``) or ISO 8601 (``2026-01-01T00:00:00Z``; no zone means UTC).

    Only instants from 1970-01-01T00:00:00Z to the end of year 9999 are accepted (UsageError otherwise).
    """
    value = text.strip()
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        number = _parse_iso(value, text, option)
    return _in_range(number, text, option)


def _parse_iso(value: str, text: str, option: str) -> float:
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise UsageError(f"{option} {text!r} is neither epoch seconds nor an ISO 8601 time",
                         hint="for example 1767225600 or 2026-01-01T00:00:00Z") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.timestamp()
    except (OverflowError, ValueError):
        return -1.0  # out of range either way


def _in_range(ts: float, text: str, option: str) -> float:
    if 0 <= ts < MAX_INSTANT:
        return ts
    raise UsageError(f"{option} {text!r} is outside the years 1970 to 9999",
                     hint="epoch seconds from 0 to 253402300799, or an ISO 8601 time such as 2026-01-01T00:00:00Z")


def parse_duration(text: str, option: str = "--expires-in") -> float:
    """``90``, ``90s``, ``15m``, ``1h``, ``2d`` -> seconds."""
    match = _DURATION.match(text.strip().lower())
    if not match:
        raise UsageError(f"{option} {text!r} is not a duration",
                         hint="use a number with s, m, h or d: 90s, 15m, 1h, 2d")
    return float(match.group(1)) * _UNITS[match.group(2) or "s"]
