"""Claim paths: the one implementation of LiteLLM's dotted paths that everyone calls.

A path is split on dots; ``\\.`` keeps a dot inside a claim name (``kubernetes\\.io.namespace``).
There is no list indexing, as in LiteLLM. Walking stops at the first missing key or non-object.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jwtgate.config.yaml_text import did_you_mean

_MISSING = object()
MAX_KEYS_SHOWN = 12


@lru_cache(maxsize=4096)  # configs name few paths; decide(), log_claims and replay split them per request
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


@dataclass(frozen=True, slots=True)
class PathStop:
    """Where a claim path stopped because a segment is not there: the claim is absent."""

    path: str
    walked: tuple[str, ...]  # the segments that were found, in order
    missing: str  # the first segment that was not found
    keys: tuple[str, ...]  # the keys that exist where the walk stopped (none when that is not an object)
    not_object: str | None  # the type found instead of an object, if that is why it stopped
    suggestion: str | None  # a path that exists in this token, for a did-you-mean

    def describe(self) -> str:
        """"claim 'a.b.c' is absent: the path stops at 'b' inside 'a', which has ['b-x'] (did you mean …?)"."""
        where = f"inside '{join_path(self.walked)}'" if self.walked else "at the top level"
        if self.not_object is not None:
            there = f"'{join_path(self.walked)}' is a {self.not_object}, not an object"
        else:
            shown = list(self.keys[:MAX_KEYS_SHOWN]) + (["…"] if len(self.keys) > MAX_KEYS_SHOWN else [])
            there = f"no '{self.missing}' {where}, which has {shown}" if self.keys else f"no '{self.missing}' {where}"
        hint = f"; did you mean '{self.suggestion}'?" if self.suggestion else ""
        return f"claim '{self.path}' is absent: the path stops at segment '{self.missing}': {there}{hint}"

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "stopped_at": self.missing, "walked": list(self.walked),
                "keys_there": list(self.keys), "not_object": self.not_object, "did_you_mean": self.suggestion}


def join_path(parts: tuple[str, ...] | list[str]) -> str:
    """The inverse of ``split_path``: dots inside a segment are escaped."""
    return ".".join(p.replace(".", "\\.") for p in parts)


def path_stop(claims: Mapping[str, Any], path: str) -> PathStop | None:
    """Where and why ``path`` is absent from ``claims``; None when the claim is there."""
    parts = split_path(path)
    current: Any = claims
    for i, part in enumerate(parts):
        if not isinstance(current, Mapping):
            return PathStop(path, parts[:i], part, (), type(current).__name__, None)
        if part not in current:
            keys = tuple(str(k) for k in current)
            return PathStop(path, parts[:i], part, keys, None, _suggest(claims, parts, i, keys))
        current = current[part]
    return None


def _suggest(claims: Mapping[str, Any], parts: tuple[str, ...], i: int, keys: tuple[str, ...]) -> str | None:
    close = did_you_mean(parts[i], keys)
    if close is None:
        return None
    candidate = join_path([*parts[:i], close, *parts[i + 1:]])
    return candidate if lookup(claims, candidate)[0] else None  # only a path that leads to a claim


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
