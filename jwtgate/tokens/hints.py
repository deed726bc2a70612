"""Hints for refusals that are usually a setup mistake: an ID token sent as an access token, and an issuer
that nearly matches the configured one (a trailing slash, case, scheme, Entra ID v1 vs v2)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

ID_TOKEN_CLAIMS = ("nonce", "at_hash", "c_hash")
_ENTRA_V1 = re.compile(r"https://sts\.windows\.net/([0-9a-fA-F-]{36})/?")
_ENTRA_V2 = re.compile(r"https://login\.microsoftonline\.com/([0-9a-fA-F-]{36})/v2\.0/?")


def id_token_hint(header: Mapping[str, Any], claims: Mapping[str, Any]) -> str | None:
    """Why this looks like an OpenID Connect ID token rather than an access token, or None."""
    if header.get("typ") == "at+jwt":
        return None
    present = [c for c in ID_TOKEN_CLAIMS if c in claims]
    if not present:
        return None
    return (f"this looks like an ID token ({' and '.join(repr(c) for c in present)} present; an ID token's aud "
            "is the client id): send the access token of the token response, not its id_token")


def issuer_hint(actual: Any, configured: Iterable[str]) -> str | None:
    """What nearly matches between the token's iss and a configured issuer, or None."""
    if not isinstance(actual, str):
        return None
    for expected in configured:
        hint = _near(actual, expected)
        if hint is not None:
            return hint
    return None


def _near(actual: str, expected: str) -> str | None:
    if actual.rstrip("/") == expected.rstrip("/"):
        return (f"the token's iss {actual!r} differs from {expected!r} only by a trailing slash; issuers match "
                f"exactly: write {actual!r} in the config")
    if actual.lower() == expected.lower() or actual.split("://", 1)[-1] == expected.split("://", 1)[-1]:
        return f"the token's iss {actual!r} differs from {expected!r} only in case or scheme; issuers match exactly"
    v1, v2 = _ENTRA_V1.fullmatch(actual), _ENTRA_V2.fullmatch(expected)
    if v1 and v2 and v1.group(1).lower() == v2.group(1).lower():
        return ("the token is an Entra ID v1 access token (iss sts.windows.net) and the config expects v2 "
                "(login.microsoftonline.com/<tenant>/v2.0): set \"accessTokenAcceptedVersion\": 2 in the API's app "
                f"registration manifest, or configure the issuer {actual!r}")
    v2, v1 = _ENTRA_V2.fullmatch(actual), _ENTRA_V1.fullmatch(expected)
    if v1 and v2 and v1.group(1).lower() == v2.group(1).lower():
        return (f"the token is an Entra ID v2 token and the config expects the v1 issuer {expected!r}: configure "
                f"the issuer {actual!r}")
    return None
