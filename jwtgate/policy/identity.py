"""identity_for(policy, claims): what the upstream is told about a verified caller (``jwtgate.identity``).

Pure: the headers to set (``identity.headers``: header name -> claim path) and the value that replaces
the request body's end-user field (``identity.user_field``). A scalar claim is sent as it is, a list of
scalars joined by ``LIST_SEPARATOR``; an absent claim (or an object) leaves its header out. The header
rules (which names may be configured, which client headers are removed) live here, for lint and serve.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jwtgate.model import Policy
from jwtgate.policy.claims import lookup

LIST_SEPARATOR = ","
# Never set from claims: the connection's own headers and credentials (RFC 9110 §7.6.1, §11).
HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "trailers",
    "transfer-encoding", "upgrade", "host", "content-length",
})
CREDENTIAL_HEADERS = frozenset({"authorization", "x-api-key", "api-key", "proxy-authorization", "cookie",
                                "set-cookie"})
BODY_HEADERS = frozenset({"content-type", "content-encoding"})
# LiteLLM reads an end user from these headers before the body's ``user`` (auth_utils.py,
# STANDARD_CUSTOMER_ID_HEADERS), whatever its settings: with ``user_field`` a client's copy is removed.
LITELLM_END_USER_HEADERS = ("x-litellm-customer-id", "x-litellm-end-user-id")
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


@dataclass(frozen=True, slots=True)
class Identity:
    """The identity sent upstream for one caller.

    ``user`` is the body's new end-user value (None: ``user_field`` unset, or ``user_problem`` says why
    there is none); ``problem`` names a header value that cannot be sent (control characters).
    """

    headers: tuple[tuple[str, str], ...]
    user: str | None
    user_problem: str | None = None
    problem: str | None = None


NO_IDENTITY = Identity((), None)


def header_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be an identity header, or None."""
    lower = name.lower()
    if not _TOKEN.match(name):
        return "is not a valid header name (letters, digits and !#$%&'*+-.^_`|~ only)"
    if lower in HOP_BY_HOP:
        return "is a hop-by-hop header"
    if lower in CREDENTIAL_HEADERS:
        return "is a credential header"
    if lower in BODY_HEADERS:
        return "describes the request body"
    return None


def removed_headers(policy: Policy) -> frozenset[str]:
    """Client headers (lower case) never forwarded because jwtgate owns them under this config."""
    settings = policy.settings.identity
    names = {name.lower() for name, _ in settings.headers}
    if settings.user_field is not None:
        names.update(LITELLM_END_USER_HEADERS)
        if settings.litellm_user_header:  # LiteLLM reads it before the body's user too
            names.add(settings.litellm_user_header.lower())
    return frozenset(names)


def claim_text(value: Any) -> str | None:
    """A claim as header text: a scalar as it is, a list of scalars joined; None for objects and nulls."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return str(value)
    if isinstance(value, list):
        parts = [claim_text(v) for v in value if not isinstance(v, list | dict)]
        if len(parts) != len(value) or any(p is None for p in parts):
            return None
        return LIST_SEPARATOR.join(p for p in parts if p is not None)
    return None


def _unsafe(text: str) -> bool:
    return any(ord(c) < 0x20 or ord(c) == 0x7F for c in text)


def identity_for(policy: Policy, claims: Mapping[str, Any]) -> Identity:
    """The headers and end-user value ``jwtgate.identity`` derives from verified ``claims``."""
    settings = policy.settings.identity
    if not settings.headers and settings.user_field is None:
        return NO_IDENTITY
    headers: list[tuple[str, str]] = []
    problem = None
    for name, path in settings.headers:
        text = claim_text(lookup(claims, path)[1])
        if text is None:
            continue
        if _unsafe(text):
            problem = problem or f"claim '{path}' for header {name} contains control characters"
            continue
        headers.append((name, text))
    user, user_problem = _user(claims, settings.user_field)
    return Identity(tuple(headers), user, user_problem, problem)


def _user(claims: Mapping[str, Any], path: str | None) -> tuple[str | None, str | None]:
    if path is None:
        return None, None
    found, value = lookup(claims, path)
    text = claim_text(value) if found else None
    if text is None or not text:
        what = "is absent" if not found else "is empty" if text == "" else "is not a string, number or list"
        return None, f"the token's claim '{path}' (jwtgate.identity.user_field) {what}"
    if _unsafe(text):
        return None, f"the token's claim '{path}' (jwtgate.identity.user_field) contains control characters"
    return text, None
