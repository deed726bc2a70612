"""Test keys: one factory for private keys (cached per name, or fresh), their public JWKs and VerificationKeys.

Names: 'RSA', 'rsa', 'evil-rsa', 'RSA-2' (RSA 2048), 'rsa-1024' (RSA 1024), 'ES256', 'ES384', 'ES512',
'ES256K' (by curve, '-2' suffixes for a second key), 'ec', 'evil-ec' (P-256), 'Ed448', anything else
Ed25519 ('Ed25519', 'ed'). Each name is one key for the whole test session.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from jwtgate.keys.jwk import public_jwk
from jwtgate.model import VerificationKey

KTY = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP", "HS": "oct"}
CURVES: dict[str, ec.EllipticCurve] = {
    "ES256": ec.SECP256R1(), "ES384": ec.SECP384R1(), "ES512": ec.SECP521R1(), "ES256K": ec.SECP256K1(),
}  # fmt: skip


def new_private_key(name: str) -> Any:
    """A fresh private key of the kind ``name`` says (see the module docstring)."""
    base = name.split("-")[0]
    if "1024" in name:
        return rsa.generate_private_key(public_exponent=65537, key_size=1024)
    if name.lower().startswith("rsa") or name.endswith("rsa"):
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if base in CURVES:
        return ec.generate_private_key(CURVES[base])
    if name.endswith("ec"):
        return ec.generate_private_key(ec.SECP256R1())
    if name.startswith("Ed448"):
        return ed448.Ed448PrivateKey.generate()
    return ed25519.Ed25519PrivateKey.generate()


@cache
def private_key(name: str) -> Any:
    """The session's private key called ``name``."""
    return new_private_key(name)


def key_name_for(alg: str) -> str:
    return "RSA" if alg[:2] in ("RS", "PS") else "Ed25519" if alg == "EdDSA" else alg


def jwk_of(key: Any, kid: str | None, **extra: Any) -> dict[str, Any]:
    """The public JWK of a private key, with ``kid`` (None: none) and extra members."""
    out: dict[str, Any] = dict(public_jwk(key.public_key()))
    if kid is not None:
        out["kid"] = kid
    out.update(extra)
    return out


def named_jwk(name: str, kid: str, **extra: Any) -> dict[str, Any]:
    """The public JWK of the session key ``name``."""
    return jwk_of(private_key(name), kid, **extra)


def rsa_jwk(kid: str | None = "rsa-1", bits: int = 2048, **extra: Any) -> dict[str, Any]:
    """A fresh RSA public JWK."""
    return jwk_of(rsa.generate_private_key(65537, bits), kid, **extra)


def ec_jwk(kid: str | None = "ec-1", curve: ec.EllipticCurve | None = None, **extra: Any) -> dict[str, Any]:
    """A fresh EC public JWK (P-256 unless ``curve``)."""
    return jwk_of(ec.generate_private_key(curve or ec.SECP256R1()), kid, **extra)


def ed_jwk(kid: str | None = "ed-1", **extra: Any) -> dict[str, Any]:
    """A fresh Ed25519 public JWK."""
    return jwk_of(ed25519.Ed25519PrivateKey.generate(), kid, **extra)


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
