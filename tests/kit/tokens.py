"""Test tokens: minted with PyJWT, or assembled byte by byte (exact header and payload bytes) for attacks."""

from __future__ import annotations

import base64
import hmac
import json
from typing import Any

import jwt

from jwtgate.model import TokenRules
from tests.kit.keys import key_name_for, private_key

NOW = 1_795_687_200.0  # 2026-11-26T10:00:00Z
ISS = "https://idp.example.com/realms/acme"
AUD = "llm-gateway"
RULES = TokenRules(issuer=ISS, audiences=(AUD,))
DROP: Any = object()  # a claim or header member to leave out
SIGNERS = frozenset({"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256",
                     "ES384", "ES512", "ES256K", "EdDSA"})


def b64(data: bytes) -> str:
    """base64url without padding (RFC 7515)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def dumps(value: Any) -> bytes:
    """Compact JSON bytes, as an IdP would send them."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def claims(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "iss": ISS, "aud": AUD, "sub": "user-1", "exp": NOW + 3600, "iat": NOW - 60, "nbf": NOW - 60,
    }  # fmt: skip
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not DROP}


def mint(alg: str = "RS256", key: str | None = None, *, headers: dict[str, Any] | None = None,
         **claim_overrides: Any) -> str:  # fmt: skip
    """A token signed by PyJWT with a cryptography private key object; kid 'k1', None drops a header."""
    return jwt.encode(
        claims(**claim_overrides), private_key(key or key_name_for(alg)), algorithm=alg,
        headers={k: v for k, v in {"kid": "k1", **(headers or {})}.items() if v is not None},
    )  # fmt: skip


def sign(alg: str, key: Any, data: bytes) -> bytes:
    """Sign ``data``: HS* with a secret (bytes or text), anything else with a named session key (or a key)."""
    if not isinstance(alg, str) or alg not in SIGNERS:
        alg = "RS256" if key is not None and str(alg).lower() != "none" else "none"
    if alg.startswith("HS"):
        secret = key if isinstance(key, bytes) else str(key).encode()
        return hmac.new(secret, data, {"HS256": "sha256", "HS384": "sha384", "HS512": "sha512"}[alg]).digest()
    if alg == "none" or key is None:
        return b""
    secret = private_key(key) if isinstance(key, str) else key
    return jwt.get_algorithm_by_name(alg).sign(data, secret)  # type: ignore[no-any-return]


def sign_raw(header: bytes | dict[str, Any], payload: bytes | dict[str, Any], alg: str = "RS256",
             key: Any = None) -> str:  # fmt: skip
    """Assemble a token from exact header and payload bytes, correctly signed with ``key``."""
    head = header if isinstance(header, bytes) else json.dumps(header).encode()
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    signing_input = f"{b64(head)}.{b64(body)}"
    secret = key if key is not None else private_key(key_name_for(alg))
    return f"{signing_input}.{b64(jwt.get_algorithm_by_name(alg).sign(signing_input.encode(), secret))}"
