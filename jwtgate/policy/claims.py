"""Claim paths: the one implementation of LiteLLM's dotted paths that everyone calls.

A path is split on dots; ``\\.`` keeps a dot inside a claim name (``kubernetes\\.io.namespace``).
There is no list indexing, as in LiteLLM. Walking stops at the first missing key or non-object.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_MISSING = object()


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


def lookup(claims: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    """Return ``(found, value)`` for a claim path; never raises on odd shapes."""
    current: Any = claims
    for part in split_path(path):
        if not isinstance(current, Mapping):
            return False, None
        current = current.get(part, _MISSING)
        if current is _MISSING:
            return False, None
    return True, current


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
