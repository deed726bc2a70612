"""ISO and relative times, --now and --expires-in parsing."""

from __future__ import annotations

import pytest

from jwtgate.errors import UsageError
from jwtgate.timefmt import iso, parse_duration, parse_instant, relative, time_claims

NOW = 1_795_684_800.0  # 2026-11-26T09:20:00Z


@pytest.mark.parametrize(
    ("delta", "text"),
    [(0, "now"), (0.4, "now"), (42, "in 42 s"), (-42, "42 s ago"), (600, "in 10 min"), (3 * 3600, "in 3 h"),
     (-3 * 3600, "3 h ago"), (5 * 86400, "in 5 d"), (73 * 365.25 * 86400, "in 73 y")],
    ids=["zero", "under-half-second", "seconds-future", "seconds-past", "minutes", "hours", "hours-past", "days",
         "years"],
)
def test_relative(delta: float, text: str) -> None:
    assert relative(NOW + delta, NOW) == text


def test_iso() -> None:
    assert iso(NOW) == "2026-11-26T09:20:00Z"
    assert iso(1e300).endswith("(out of range)")


@pytest.mark.parametrize(
    "text",
    ["-1", "-1795684800", "253402300800", "1e300", "1969-12-31T23:59:59Z", "0001-01-01T00:00:00+01:00",
     "9999-12-31T23:59:59-01:00"],
    ids=["negative", "negative-large", "year-10000", "huge", "1969", "year-1-offset", "past-9999-by-offset"],
)
def test_parse_instant_refuses_out_of_range(text: str) -> None:
    with pytest.raises(UsageError, match="is outside the years 1970 to 9999"):
        parse_instant(text)


@pytest.mark.parametrize(("text", "value"), [("0", 0.0), ("1970-01-01T00:00:00Z", 0.0),
                                             ("9999-12-31T23:59:59Z", 253402300799.0)],
                         ids=["epoch-zero", "iso-epoch", "last-second-of-9999"])
def test_parse_instant_range_edges(text: str, value: float) -> None:
    assert parse_instant(text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [("1795684800", NOW), ("1795684800.5", NOW + 0.5), ("2026-11-26T09:20:00Z", NOW),
     ("2026-11-26T10:20:00+01:00", NOW), ("2026-11-26T09:20:00", NOW), ("2026-11-26t09:20:00z", NOW)],
    ids=["epoch", "epoch-fraction", "iso-z", "iso-offset", "iso-naive-is-utc", "iso-lowercase"],
)
def test_parse_instant(text: str, value: float) -> None:
    assert parse_instant(text) == value


@pytest.mark.parametrize("text", ["tomorrow", "", "nan", "2026-13-01"], ids=["word", "empty", "nan", "bad-month"])
def test_parse_instant_refuses(text: str) -> None:
    with pytest.raises(UsageError, match="neither epoch seconds nor an ISO 8601 time"):
        parse_instant(text)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("90s", 90), ("15m", 900), ("1h", 3600), ("2d", 172800), ("1.5h", 5400), ("1H", 3600)],
    ids=["bare", "seconds", "minutes", "hours", "days", "fraction", "uppercase"],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["-1h", "1w", "h", ""], ids=["negative", "weeks", "unit-only", "empty"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(UsageError, match="is not a duration"):
        parse_duration(text)


def test_time_claims() -> None:
    out = time_claims({"exp": NOW + 3 * 3600, "iat": NOW - 42, "nbf": "soon", "sub": "a"}, NOW)
    assert out["exp"]["relative"] == "in 3 h"
    assert out["iat"] == {"value": NOW - 42, "iso": "2026-11-26T09:19:18Z", "relative": "42 s ago"}
    assert out["nbf"]["problem"] == "not a JSON number (str)"
    assert "sub" not in out and "auth_time" not in out
