"""Claim values read exactly as LiteLLM's JWTHandler reads them (the decision's inputs).

LiteLLM strips a leading ``metadata.`` from every claim path, takes a list's first element for the team
id only, treats any other present, non-null value (``""``, ``[]``, a mapping, a number) as an id, and
iterates a roles claim with Python's ``set()``/``for``: a string per character, a mapping by its keys, a
number not at all (it raises, and the request fails). ``Unreadable`` stands for such a failure: the
decision denies it, as LiteLLM does. (jwtgate reads no roles from a mapping: LD004.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jwtgate.config.yaml_text import kind_of as kind
from jwtgate.policy.claims import litellm_lookup_path, lookup


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A claim LiteLLM cannot use: reading it raises inside LiteLLM and the request fails."""

    what: str


def read(claims: Mapping[str, Any], path: str | None) -> tuple[bool, Any]:
    """``get_nested_value``: the value at the path LiteLLM reads (``metadata.`` stripped), if any."""
    if not path:
        return False, None
    return lookup(claims, litellm_lookup_path(path))


def scopes(claims: Mapping[str, Any]) -> tuple[Any, ...] | Unreadable:
    """``get_scopes``: a string split on whitespace, a list as is, absent -> none; anything else raises."""
    if "scope" not in claims:
        return ()
    raw = claims["scope"]
    if isinstance(raw, str):
        return tuple(raw.split())
    if isinstance(raw, list):
        return tuple(raw)
    return Unreadable(f"the 'scope' claim is {kind(raw)}; LiteLLM accepts only a string or a list")


def team_id(claims: Mapping[str, Any], path: str | None, default: str | None) -> Any:
    """``get_team_id``: the claim (a list's first element), ``team_id_default`` when the path is missing."""
    if not path:
        return default
    found, value = read(claims, path)
    if not found:
        return default
    if isinstance(value, list):
        return value[0] if value else None
    return value


def raw_id(claims: Mapping[str, Any], path: str | None) -> Any:
    """``get_user_id`` / ``get_object_id`` / ``get_team_alias``: the value as it is, None when missing."""
    return read(claims, path)[1]


def team_ids(claims: Mapping[str, Any], path: str | None) -> list[Any]:
    """``get_team_ids_from_jwt``: the claim when it is a non-empty list, else none."""
    found, value = read(claims, path)
    return value if found and isinstance(value, list) else []


def iterate(value: Any, what: str) -> tuple[Any, ...] | Unreadable:
    """The members LiteLLM's ``for``/``set()`` sees: a string's characters, a mapping's keys, a list's items."""
    if isinstance(value, str | list | tuple):
        return tuple(value)
    if isinstance(value, dict):
        return tuple(value)
    return Unreadable(f"{what} is {kind(value)}, which LiteLLM cannot iterate")


def hashable(values: tuple[Any, ...], what: str) -> tuple[Any, ...] | Unreadable:
    """LiteLLM puts these in a ``set``: a list or mapping among them raises."""
    if any(isinstance(v, list | dict) for v in values):
        return Unreadable(f"{what} holds a nested list or object, which LiteLLM cannot put in a set")
    return values
