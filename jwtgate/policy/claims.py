"""Claim paths: the one implementation of LiteLLM's dotted paths that everyone calls.

A path is split on dots; ``\\.`` keeps a dot inside a claim name (``kubernetes\\.io.namespace``).
There is no list indexing, as in LiteLLM. Walking stops at the first missing key or non-object.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple


class _Missing:
    """The type of ``MISSING``: a claim path that does not resolve."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


class Resolved(NamedTuple):
    """Where a claim path walk ended: the value (``MISSING`` if none), where it stopped and what was there.

    ``stopped_at`` is the segment that could not be read (None when found); ``depth`` how many segments
    resolved before it; ``keys_there`` the keys of the object it stopped in (() when that was not an object).
    """

    value: Any
    stopped_at: str | None
    keys_there: tuple[str, ...]
    depth: int

    @property
    def found(self) -> bool:
        return self.value is not MISSING


def split_path(path: str) -> tuple[str, ...]:
    """Split a claim path on unescaped dots; ``\\.`` becomes a literal dot."""
    parts: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(path):
        ch = path[i]
        if ch == "\\" and i + 1 < len(path) and path[i + 1] == ".":
            current.append(".")
            i += 2
            continue
        if ch == ".":
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    return tuple(parts)


def has_unescaped_dot(path: str) -> bool:
    """True when the path walks into nested objects."""
    return len(split_path(path)) > 1


def resolve_path(claims: Mapping[str, Any], path: str) -> Resolved:
    """Walk a claim path; never raises on odd shapes. The one walk that lookup, lint and traces use."""
    current: Any = claims
    parts = split_path(path)
    for depth, part in enumerate(parts):
        if not isinstance(current, Mapping):
            return Resolved(MISSING, part, (), depth)
        if part not in current:
            return Resolved(MISSING, part, tuple(str(k) for k in current), depth)
        current = current[part]
    return Resolved(current, None, (), len(parts))


def lookup(claims: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    """Return ``(found, value)`` for a claim path; never raises on odd shapes."""
    result = resolve_path(claims, path)
    return (True, result.value) if result.found else (False, None)


def litellm_lookup_path(path: str) -> str:
    """The path LiteLLM actually reads: it strips a leading ``metadata.``."""
    return path[len("metadata.") :] if path.startswith("metadata.") else path


def as_string_list(value: Any) -> tuple[tuple[str, ...], str | None]:
    """Normalise a claim value to a list of strings.

    A list keeps its string members; a string is split on whitespace and commas (LiteLLM would
    iterate it character by character). Returns the values and a note when the shape was unusual.
    """
    if value is None:
        return (), None
    if isinstance(value, str):
        items = tuple(p for p in value.replace(",", " ").split() if p)
        return items, "a string claim was split on whitespace/commas (LiteLLM iterates it per character)"
    if isinstance(value, list | tuple):
        strings = tuple(v for v in value if isinstance(v, str))
        note = None if len(strings) == len(value) else "non-string members of the claim list were ignored"
        return strings, note
    return (), f"claim of type {type(value).__name__} is not a list or string and was ignored"
