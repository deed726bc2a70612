"""Test keys and tokens without an identity provider: key generation, public JWKs and minting.

There is never a default key: minting always takes a named private key. The clock is passed in.
Claim names given as ``name=value`` are taken literally (no dotted nesting: Auth0-style claim names
such as ``https://example.com/roles`` contain dots); pass nested claims as a JSON value or ``--claims``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from jwtgate.errors import UsageError
from jwtgate.keys.jwk import EC_CURVES, RSA_ALGS, ec_curve
from jwtgate.keys.jwk import public_jwk as export_jwk
from jwtgate.keys.jwk import thumbprint as jwk_thumbprint

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
# ES256/384/512 by JWK curve (keys.jwk's table; secp256k1 is not offered for test keys).
_EC_ALGS = {alg: crv for crv, (_, alg) in EC_CURVES.items() if alg != "ES256K"}
ALGORITHMS = (*RSA_ALGS, *_EC_ALGS, "EdDSA")
GENERATE_ALGORITHMS = ("RS256", "ES256", "EdDSA")


def check_algorithm(alg: str) -> str:
    """Refuse anything but an asymmetric JWS algorithm (never ``none``, never HMAC)."""
    if alg not in ALGORITHMS:
        raise UsageError(f"unsupported signing algorithm {alg!r}", hint=f"use one of {', '.join(ALGORITHMS)}")
    return alg


def generate_private_key(alg: str) -> PrivateKey:
    """A fresh key for ``alg``: RSA 2048 for RS*/PS*, the matching curve for ES*, Ed25519 for EdDSA."""
    check_algorithm(alg)
    if alg in RSA_ALGS:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if alg in _EC_ALGS:
        return ec.generate_private_key(ec_curve(_EC_ALGS[alg]))
    return ed25519.Ed25519PrivateKey.generate()


def private_pem(key: PrivateKey) -> bytes:
    """PKCS#8 PEM, unencrypted (test keys only)."""
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def thumbprint(key: PrivateKey) -> str:
    """RFC 7638 thumbprint of the public key (the default kid)."""
    return jwk_thumbprint(export_jwk(key.public_key()))


def public_jwk(key: PrivateKey, *, kid: str, alg: str) -> dict[str, str]:
    """The public JWK with ``kid``, ``alg`` and ``use: sig``."""
    check_key_fits(key, alg)
    members = export_jwk(key.public_key())
    return {"kty": members["kty"], "kid": kid, "use": "sig", "alg": alg, **members}


def default_algorithm(key: PrivateKey) -> str:
    """RS256 for RSA, ES256/384/512 by curve, EdDSA for Ed25519."""
    if isinstance(key, rsa.RSAPrivateKey):
        return "RS256"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return EC_CURVES[export_jwk(key.public_key())["crv"]][1]
    return "EdDSA"


def check_key_fits(key: PrivateKey, alg: str) -> None:
    """The algorithm must match the key type (and curve)."""
    check_algorithm(alg)
    fits = alg in RSA_ALGS if isinstance(key, rsa.RSAPrivateKey) else alg == default_algorithm(key)
    if not fits:
        raise UsageError(f"algorithm {alg} does not fit this {type(key).__name__.removeprefix('_')} key",
                         hint=f"use --alg {default_algorithm(key)} or a key of the right type")


def load_private_key(path: str) -> PrivateKey:
    """Read an unencrypted PEM private key (RSA, EC or Ed25519)."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise UsageError(f"cannot read key file {path}: {exc.strerror or exc}") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"{path} is not an unencrypted PEM private key ({exc})",
                         hint="generate one with 'jwtgate keys generate'") from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        raise UsageError(f"{path} holds a {type(key).__name__} key; use an RSA, EC or Ed25519 key")
    return key


def parse_claim(text: str) -> tuple[str, Any]:
    """``name=value``: the value is JSON when it parses as JSON, else the string itself."""
    name, sep, raw = text.partition("=")
    if not sep or not name:
        raise UsageError(f"--claim {text!r} is not name=value", hint="for example --claim sub=alice "
                         "--claim 'roles=[\"admin\"]'")
    try:
        return name, json.loads(raw)
    except ValueError:
        return name, raw


def parse_claims_object(text: str, where: str) -> dict[str, Any]:
    """A JSON object of claims (``--claims``)."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{where} is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise UsageError(f"{where} must be a JSON object of claims, not {type(value).__name__}")
    return value


def build_claims(*, now: float, expires_in: float | None, base: Mapping[str, Any] | None = None,
                 issuer: str | None = None, audiences: Sequence[str] = (),
                 pairs: Iterable[tuple[str, Any]] = ()) -> dict[str, Any]:
    """``iat``/``exp`` from the clock, then ``base``, then issuer/audience, then each pair (later wins)."""
    claims: dict[str, Any] = {"iat": int(now)}
    if expires_in is not None:
        claims["exp"] = int(now + expires_in)
    claims.update(base or {})
    if issuer is not None:
        claims["iss"] = issuer
    if audiences:
        claims["aud"] = audiences[0] if len(audiences) == 1 else list(audiences)
    claims.update(pairs)
    return claims


def sign(claims: Mapping[str, Any], key: PrivateKey, *, alg: str, kid: str | None) -> str:
    """A compact JWS signed with PyJWT; the header carries ``typ: JWT`` and ``kid``."""
    import jwt

    check_key_fits(key, alg)
    headers = {"kid": kid} if kid else None
    return jwt.encode(dict(claims), key, algorithm=alg, headers=headers)
