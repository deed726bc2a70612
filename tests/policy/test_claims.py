"""Claim paths (policy/claims.py), the one implementation of LiteLLM's dotted paths: a table per function."""

from __future__ import annotations

from typing import Any

import pytest

from jwtgate.policy.claims import as_string_list, litellm_lookup_path, lookup, split_path


@pytest.mark.parametrize(("path", "parts"), [
    ("roles", ("roles",)),
    ("resource_access.litellm.roles", ("resource_access", "litellm", "roles")),
    ("kubernetes\\.io.namespace", ("kubernetes.io", "namespace")),
    ("https://acme\\.example/roles", ("https://acme.example/roles",)),
    ("a\\b.c", ("a\\b", "c")),
    ("trailing.", ("trailing", "")),
    (".leading", ("", "leading")),
    ("a..b", ("a", "", "b")),
    ("", ("",)),
], ids=["one-name", "nested", "escaped-dot", "url-claim", "backslash-not-before-dot", "trailing-dot",
        "leading-dot", "double-dot", "empty"])
def test_split_path(path: str, parts: tuple[str, ...]) -> None:
    assert split_path(path) == parts


CLAIMS: dict[str, Any] = {
    "sub": "alice", "roles": ["a", "b"], "groups": [{"name": "x"}], "kubernetes.io": {"namespace": "ml"},
    "realm_access": {"roles": ["user"], "empty": None}, "n": 0,
}  # fmt: skip


@pytest.mark.parametrize(("path", "found", "value"), [
    ("sub", True, "alice"),
    ("realm_access.roles", True, ["user"]),
    ("realm_access.empty", True, None),
    ("kubernetes\\.io.namespace", True, "ml"),
    ("kubernetes.io.namespace", False, None),
    ("roles.0", False, None),
    ("groups.name", False, None),
    ("sub.deeper", False, None),
    ("missing", False, None),
    ("n", True, 0),
], ids=["top-level", "nested", "present-but-null", "escaped-dot", "unescaped-dot-misses", "no-list-index",
        "no-walk-into-lists", "through-a-string", "missing", "falsy-value"])
def test_lookup(path: str, found: bool, value: Any) -> None:
    assert lookup(CLAIMS, path) == (found, value)


@pytest.mark.parametrize(("path", "read"), [
    ("metadata.team", "team"), ("metadata", "metadata"), ("user_metadata.team", "user_metadata.team"),
    ("team.metadata.x", "team.metadata.x"),
], ids=["stripped", "bare-word-kept", "other-prefix-kept", "inner-metadata-kept"])
def test_litellm_strips_a_leading_metadata(path: str, read: str) -> None:
    assert litellm_lookup_path(path) == read


@pytest.mark.parametrize(("value", "items", "noted"), [
    (None, (), False),
    (["a", "b"], ("a", "b"), False),
    (("a",), ("a",), False),
    ("a b,c", ("a", "b", "c"), True),
    ("", (), True),
    (["a", 1, None], ("a",), True),
    ({"a": 1}, (), True),
    (7, (), True),
], ids=["absent", "list", "tuple", "string-split", "empty-string", "mixed-list", "object", "number"])
def test_as_string_list(value: Any, items: tuple[str, ...], noted: bool) -> None:
    got, note = as_string_list(value)
    assert got == items and (note is not None) is noted
