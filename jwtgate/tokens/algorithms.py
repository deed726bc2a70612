"""JWS algorithms: which key fits which ``alg``, and the signature check itself, on ``cryptography``.

Padding and hash objects are built once at import; a check is one call into OpenSSL plus, for ECDSA,
the strict raw ``r || s`` to DER conversion (wrong lengths and ``r``/``s`` outside ``[1, n-1]`` refused).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from jwtgate.errors import TokenError
from jwtgate.keys.jwk import EC_CURVES, RSA_ALGS, ec_curve

# Group orders of the supported curves (SEC 2 / FIPS 186-4).
_ORDERS = {
    "secp256r1": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    "secp384r1": int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973", 16
    ),
    "secp521r1": int(
        "01" + "F" * 65 + "A51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409", 16
    ),
    "secp256k1": 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141,
}


Verifier = Callable[[bytes, bytes], bool]
"""``verifier(signature, signing_input) -> bool``, bound to one key; never raises on a bad signature."""


@dataclass(frozen=True, slots=True)
class AlgSpec:
    """What an ``alg`` needs: the JWK ``kty``, the key class, a curve (EC) and how to bind a verifier."""

    name: str
    kty: str
    key_types: tuple[type, ...]
    curve: str | None
    prepare: Callable[[Any], Verifier]


def _rsa(pad: padding.AsymmetricPadding, hash_alg: hashes.HashAlgorithm) -> Callable[[Any], Verifier]:
    def prepare(key: rsa.RSAPublicKey) -> Verifier:
        size = (key.key_size + 7) // 8
        verify = key.verify

        def check(sig: bytes, data: bytes) -> bool:
            if len(sig) != size:
                return False
            try:
                verify(sig, data, pad, hash_alg)
            except (InvalidSignature, ValueError):
                return False
            return True

        return check

    return prepare


def raw_to_der(r: bytes, s: bytes) -> bytes:
    """DER ``SEQUENCE { INTEGER r, INTEGER s }`` of non-zero big-endian ``r``, ``s`` of equal length."""
    if len(r) > 60:  # P-521: the sequence may need a long-form length
        return encode_dss_signature(int.from_bytes(r, "big"), int.from_bytes(s, "big"))
    r, s = r.lstrip(b"\0"), s.lstrip(b"\0")
    if r[0] & 0x80:
        r = b"\0" + r
    if s[0] & 0x80:
        s = b"\0" + s
    return b"\x30" + bytes((len(r) + len(s) + 4, 2, len(r))) + r + bytes((2, len(s))) + s


def _ecdsa(curve: str, size: int, hash_alg: hashes.HashAlgorithm) -> Callable[[Any], Verifier]:
    order = _ORDERS[curve].to_bytes(size, "big")  # big-endian bytes of one length compare like ints
    zero = bytes(size)

    def prepare(key: ec.EllipticCurvePublicKey) -> Verifier:
        verify = key.verify
        algorithm = ec.ECDSA(hash_alg)  # built per key, not at import: ECDSA() loads the OpenSSL backend (~5 ms)

        def check(sig: bytes, data: bytes) -> bool:
            if len(sig) != 2 * size:
                return False
            r, s = sig[:size], sig[size:]
            if not (zero < r < order and zero < s < order):
                return False  # "psychic signatures" (r = s = 0) and out-of-range values
            try:
                verify(raw_to_der(r, s), data, algorithm)
            except (InvalidSignature, ValueError):
                return False
            return True

        return check

    return prepare


def _eddsa(key: ed25519.Ed25519PublicKey | ed448.Ed448PublicKey) -> Verifier:
    size = 64 if isinstance(key, ed25519.Ed25519PublicKey) else 114
    verify = key.verify

    def check(sig: bytes, data: bytes) -> bool:
        if len(sig) != size:
            return False
        try:
            verify(sig, data)
        except (InvalidSignature, ValueError):
            return False
        return True

    return check


def _pss(hash_alg: hashes.HashAlgorithm) -> padding.PSS:
    return padding.PSS(mgf=padding.MGF1(hash_alg), salt_length=hash_alg.digest_size)


_RSA = (rsa.RSAPublicKey,)
_EC = (ec.EllipticCurvePublicKey,)
_SHA = {256: hashes.SHA256(), 384: hashes.SHA384(), 512: hashes.SHA512()}
_PKCS1 = padding.PKCS1v15()



def _hash_of(alg: str) -> hashes.HashAlgorithm:
    return _SHA[int(alg[2:5])]


def _ec_spec(crv: str, size: int, alg: str) -> AlgSpec:
    curve = ec_curve(crv).name  # the OpenSSL name ("secp256r1") that a key's ``curve.name`` reports
    return AlgSpec(alg, "EC", _EC, curve, _ecdsa(curve, size, _hash_of(alg)))


# Which key and curve each alg needs: derived from keys.jwk's tables (RSA_ALGS, EC_CURVES), the one home
# of the alg <-> key relation.
ALGORITHMS: dict[str, AlgSpec] = {
    **{a: AlgSpec(a, "RSA", _RSA, None, _rsa(_PKCS1 if a.startswith("RS") else _pss(_hash_of(a)), _hash_of(a)))
       for a in RSA_ALGS},
    **{alg: _ec_spec(crv, size, alg) for crv, (size, alg) in EC_CURVES.items()},
    "EdDSA": AlgSpec("EdDSA", "OKP", (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey), None, _eddsa),
}
HMAC_HASHES = {"HS256": "sha256", "HS384": "sha384", "HS512": "sha512"}
# RFC 7518 §3.2: an HMAC key MUST be at least as long as the hash output (32, 48, 64 bytes).
HMAC_MIN_SECRET_BYTES = {"HS256": 32, "HS384": 48, "HS512": 64}

DEFAULT_ALGORITHMS: tuple[str, ...] = (
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
)  # fmt: skip
HMAC_ALGORITHMS: tuple[str, ...] = tuple(HMAC_HASHES)
SUPPORTED_ALGORITHMS: frozenset[str] = frozenset(ALGORITHMS) | frozenset(HMAC_HASHES)

_PUBLIC_KEY_MARKERS = (b"-----BEGIN", b"ssh-", b"ecdsa-sha2-", b"{")


def _kind(key: Any) -> str:
    names = {rsa.RSAPublicKey: "RSA", ec.EllipticCurvePublicKey: "EC", ed25519.Ed25519PublicKey: "Ed25519"}
    return next((name for cls, name in names.items() if isinstance(key, cls)), type(key).__name__)


def key_misfit(spec: AlgSpec, kty: str, key: Any) -> str | None:
    """Why ``key`` (declared ``kty``) cannot verify ``spec.name``, or None if it fits."""
    if kty != spec.kty:
        return f"{spec.name} needs an {spec.kty} key, the selected key is {kty}"
    if not isinstance(key, spec.key_types):
        return f"the selected key says kty {kty} but holds an {_kind(key)} key; fix the key source"
    curve = getattr(key, "curve", None)
    if spec.curve is not None and (curve is None or curve.name != spec.curve):
        return f"{spec.name} needs curve {spec.curve}, the selected key is on {getattr(curve, 'name', '?')}"
    return None


def make_verifier(spec: AlgSpec, kty: str, key: Any) -> Verifier | str:
    """A verifier bound to ``key`` for ``spec.name``, or why the key does not fit the algorithm."""
    return key_misfit(spec, kty, key) or spec.prepare(key)


def hmac_secret_problem(alg: str, secret: bytes) -> TokenError | None:
    """Why the configured secret must not verify ``alg`` tokens (a public key, shorter than the hash), else None."""
    if secret.lstrip().startswith(_PUBLIC_KEY_MARKERS):
        return TokenError(
            "the configured jwtgate.hmac_secret looks like a public key (PEM, SSH or JWK); "
            "HMAC with a public key lets anyone forge tokens: configure a random shared secret",
            code="token.alg_key_mismatch",
        )
    if len(secret) < HMAC_MIN_SECRET_BYTES[alg]:
        return TokenError(
            f"the configured jwtgate.hmac_secret is {len(secret)} bytes; {alg} needs at least "
            f"{HMAC_MIN_SECRET_BYTES[alg]} (RFC 7518 §3.2), a shorter secret can be guessed offline from "
            "one token: configure a random secret (e.g. openssl rand -base64 48)",
            code="key.weak_secret",
        )
    return None


def check_hmac(alg: str, secret: bytes, signature: bytes, signing_input: bytes) -> bool:
    """Constant-time HMAC check with the configured shared secret (refused when ``hmac_secret_problem``)."""
    problem = hmac_secret_problem(alg, secret)
    if problem is not None:
        raise problem
    expected = hmac.digest(secret, signing_input, HMAC_HASHES[alg])
    return hmac.compare_digest(expected, signature)
