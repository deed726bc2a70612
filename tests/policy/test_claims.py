"""Claim paths: the one walk, and where it stops (for lint's JG120 and check-token traces)."""

from __future__ import annotations

from typing import Any

import pytest

from jwtgate.policy.claims import MISSING, lookup, resolve_path


@pytest.mark.parametrize(("claims", "path", "expected"), [
    ({"a": {"b": 1}}, "a.b", (1, None, (), 2)),
    ({"a": {"b": 1}}, "a.c", (MISSING, "c", ("b",), 1)),
    ({"a": [1]}, "a.b", (MISSING, "b", (), 1)),
    ({"k.io": {"ns": "x"}}, "k\\.io.ns", ("x", None, (), 2)),
    ({}, "sub", (MISSING, "sub", (), 0)),
], ids=["found", "missing-key", "not-an-object", "escaped-dot", "empty"])
def test_resolve_path_says_where_it_stopped(claims: dict[str, Any], path: str, expected: tuple[Any, ...]) -> None:
    assert tuple(resolve_path(claims, path)) == expected


def test_lookup_is_the_same_walk() -> None:
    assert lookup({"a": {"b": None}}, "a.b") == (True, None)
    assert lookup({"a": {"b": None}}, "a.b.c") == (False, None)
