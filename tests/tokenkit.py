"""Keys and tokens for the token tests: minted with PyJWT, or assembled byte by byte for attacks."""

from __future__ import annotations

import base64
import json
from functools import cache
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from jwtgate.model import TokenRules, VerificationKey

NOW = 1_795_687_200.0  # 2026-11-26T10:00:00Z
ISS = "https://idp.example.com/realms/acme"
AUD = "llm-gateway"
RULES = TokenRules(issuer=ISS, audiences=(AUD,))

KTY = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP", "HS": "oct"}
CURVES: dict[str, ec.EllipticCurve] = {
    "ES256": ec.SECP256R1(), "ES384": ec.SECP384R1(), "ES512": ec.SECP521R1(), "ES256K": ec.SECP256K1(),
}  # fmt: skip


@cache
def private_key(name: str) -> Any:
    """A private key per name: 'RSA', 'RSA-2', 'ES256', 'ES384', 'ES512', 'ES256K', 'Ed25519', 'Ed448'."""
    if name.startswith("RSA"):
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if name.split("-")[0] in CURVES:
        return ec.generate_private_key(CURVES[name.split("-")[0]])
    if name.startswith("Ed448"):
        return ed448.Ed448PrivateKey.generate()
    return ed25519.Ed25519PrivateKey.generate()


def key_name_for(alg: str) -> str:
    return "RSA" if alg[:2] in ("RS", "PS") else "Ed25519" if alg == "EdDSA" else alg


def vkey(
    name: str,
    kid: str | None = "k1",
    *,
    alg: str | None = None,
    problem: str | None = None,
    kty: str | None = None,
    source: str = "https://idp.example.com/jwks",
) -> VerificationKey:
    """A VerificationKey holding the public half of ``private_key(name)``."""
    base = name.split("-")[0]
    kind = kty or ("RSA" if base == "RSA" else "OKP" if base.startswith("Ed") else "EC")
    return VerificationKey(
        kid=kid, kty=kind, alg=alg, use="sig", key=private_key(name).public_key(), source=source,
        thumbprint="tp", detail=name, problem=problem,
    )  # fmt: skip


def claims(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "iss": ISS, "aud": AUD, "sub": "user-1", "exp": NOW + 3600, "iat": NOW - 60, "nbf": NOW - 60,
    }  # fmt: skip
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not DROP}


DROP: Any = object()


def mint(alg: str = "RS256", key: str | None = None, *, headers: dict[str, Any] | None = None,
         **claim_overrides: Any) -> str:  # fmt: skip
    """A token signed by PyJWT with a cryptography private key object; kid 'k1', None drops a header."""
    return jwt.encode(
        claims(**claim_overrides), private_key(key or key_name_for(alg)), algorithm=alg,
        headers={k: v for k, v in {"kid": "k1", **(headers or {})}.items() if v is not None},
    )  # fmt: skip


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def sign_raw(header: bytes | dict[str, Any], payload: bytes | dict[str, Any], alg: str = "RS256",
             key: Any = None) -> str:  # fmt: skip
    """Assemble a token from exact header and payload bytes, correctly signed with ``key``."""
    head = header if isinstance(header, bytes) else json.dumps(header).encode()
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    signing_input = f"{b64(head)}.{b64(body)}"
    signer = jwt.get_algorithm_by_name(alg)
    secret = key if key is not None else private_key(key_name_for(alg))
    return f"{signing_input}.{b64(signer.sign(signing_input.encode(), secret))}"
