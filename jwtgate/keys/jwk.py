"""JWK / JWKS / PEM -> VerificationKey, with key hygiene.

A key that must not verify tokens is still returned, with ``problem`` saying why, so ``jwks show`` can
explain it. Only the shape of the whole document raises (``KeySourceError`` with code ``jwks.invalid``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from jwtgate.errors import KeySourceError
from jwtgate.model import VerificationKey

MAX_KEY_FILE_BYTES = 1024 * 1024
MIN_RSA_BITS = 2048
_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")
_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----.*?-----END \1-----", re.S)

# curve name -> (coordinate bytes, algorithm); cryptography curve objects are made on demand.
EC_CURVES: dict[str, tuple[int, str]] = {
    "P-256": (32, "ES256"),
    "P-384": (48, "ES384"),
    "P-521": (66, "ES512"),
    "secp256k1": (32, "ES256K"),
}
OKP_CURVES: dict[str, int] = {"Ed25519": 32, "Ed448": 57}
RSA_ALGS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
# RFC 7638 required members per kty, in lexicographic order.
THUMBPRINT_MEMBERS: dict[str, tuple[str, ...]] = {
    "RSA": ("e", "kty", "n"),
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
    "oct": ("k", "kty"),
}
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "k")


class KeyFileError(KeySourceError):
    """A key source that cannot be used as given (missing or invalid key file, unsupported URL scheme): exit 2."""

    code = "jwks.file_unreadable"
    exit_code = 2


class _Bad(Exception):
    """A problem with one key (becomes ``VerificationKey.problem``)."""


def b64url_decode(value: Any, name: str) -> bytes:
    """Strict base64url (RFC 7515: no padding, no whitespace); raises _Bad naming the member."""
    if not isinstance(value, str) or not value:
        raise _Bad(f"member '{name}' is missing or not a string")
    if not _B64URL.match(value):
        raise _Bad(f"member '{name}' is not base64url (no padding, no '+' or '/')")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise _Bad(f"member '{name}' is not valid base64url") from None


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 SHA-256 thumbprint (base64url), or '' when a required member is missing."""
    members = THUMBPRINT_MEMBERS.get(str(jwk.get("kty")))
    if members is None or not all(isinstance(jwk.get(m), str) for m in members):
        return ""
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    return b64url_encode(hashlib.sha256(canonical.encode("utf-8")).digest())


# --- one key -----------------------------------------------------------------------------------------


def parse_jwk(jwk: Any, source: str) -> VerificationKey:
    """One JWK object -> VerificationKey (``problem`` set when it must not be used)."""
    if not isinstance(jwk, dict):
        return VerificationKey(
            None,
            "?",
            None,
            None,
            None,
            source,
            "",
            "not a key",
            f"a JWKS entry is a {type(jwk).__name__}, not a JSON object",
        )
    kid, kty, alg, use = (jwk.get(m) for m in ("kid", "kty", "alg", "use"))
    printable = {m: v if isinstance(v, str) else None for m, v in (("kid", kid), ("alg", alg), ("use", use))}
    kty_s = kty if isinstance(kty, str) else "?"
    try:
        _check_common(jwk)
        key, detail = _build_key(jwk, kty_s)
        _check_alg(alg, kty_s, detail)
        problem = None
    except _Bad as bad:
        key, detail, problem = None, _detail_guess(jwk, kty_s), str(bad)
    # a symmetric key's hash would let anyone test guesses of the secret offline: never show one
    print_id = thumbprint(jwk) if kty_s != "oct" else ""
    return VerificationKey(
        printable["kid"],
        kty_s,
        printable["alg"],
        printable["use"],
        key,
        source,
        print_id,
        detail,
        problem,
    )


def _check_common(jwk: dict[str, Any]) -> None:
    for member in ("kid", "alg", "use"):
        if member in jwk and not isinstance(jwk[member], str):
            raise _Bad(f"member '{member}' must be a string")
    if not isinstance(jwk.get("kty"), str):
        raise _Bad("member 'kty' is missing")
    use = jwk.get("use")
    if use == "enc":
        raise _Bad("use is 'enc': an encryption key, not for signatures")
    if use is not None and use != "sig":
        raise _Bad(f"use is '{use}'; only 'sig' keys verify signatures")
    ops = jwk.get("key_ops")
    if ops is not None:
        if not isinstance(ops, list) or not all(isinstance(o, str) for o in ops):
            raise _Bad("member 'key_ops' must be a list of strings")
        if "verify" not in ops:
            raise _Bad(f"key_ops {ops} does not include 'verify'")
    if jwk["kty"] != "oct" and any(m in jwk for m in _PRIVATE_MEMBERS):
        raise _Bad("contains private key material ('d'); publish only the public key")


def _build_key(jwk: dict[str, Any], kty: str) -> tuple[Any, str]:
    if kty == "RSA":
        return _rsa_key(jwk)
    if kty == "EC":
        return _ec_key(jwk)
    if kty == "OKP":
        return _okp_key(jwk)
    if kty == "oct":
        raise _Bad("symmetric keys are not accepted from a JWKS")
    raise _Bad(f"unknown key type '{kty}'")


def _rsa_key(jwk: dict[str, Any]) -> tuple[Any, str]:
    from cryptography.hazmat.primitives.asymmetric import rsa

    n = int.from_bytes(b64url_decode(jwk.get("n"), "n"), "big")
    e = int.from_bytes(b64url_decode(jwk.get("e"), "e"), "big")
    bits = n.bit_length()
    if bits < MIN_RSA_BITS:
        raise _Bad(f"RSA key is {bits} bits; at least {MIN_RSA_BITS} required")
    if e < 3 or e % 2 == 0:
        raise _Bad(f"RSA exponent e={e} is unsafe (must be odd and at least 3)")
    try:
        return rsa.RSAPublicNumbers(e, n).public_key(), f"RSA {bits}"
    except ValueError as exc:
        raise _Bad(f"invalid RSA key: {exc}") from None


def ec_curve(name: str) -> Any:
    """The ``cryptography`` curve object of a JWK ``crv`` (one of EC_CURVES)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    curves: dict[str, type[ec.EllipticCurve]] = {
        "P-256": ec.SECP256R1,
        "P-384": ec.SECP384R1,
        "P-521": ec.SECP521R1,
        "secp256k1": ec.SECP256K1,
    }
    return curves[name]()


def _ec_key(jwk: dict[str, Any]) -> tuple[Any, str]:
    from cryptography.hazmat.primitives.asymmetric import ec

    crv = jwk.get("crv")
    if not isinstance(crv, str) or crv not in EC_CURVES:
        raise _Bad(f"unknown EC curve {crv!r}; expected one of {', '.join(EC_CURVES)}")
    size = EC_CURVES[crv][0]
    x, y = b64url_decode(jwk.get("x"), "x"), b64url_decode(jwk.get("y"), "y")
    if len(x) != size or len(y) != size:
        raise _Bad(f"EC coordinates must be {size} bytes for {crv}")
    numbers = ec.EllipticCurvePublicNumbers(
        int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec_curve(crv)
    )
    try:
        return numbers.public_key(), f"EC {crv}"
    except ValueError:
        raise _Bad(f"EC point is not on curve {crv}") from None


def _okp_key(jwk: dict[str, Any]) -> tuple[Any, str]:
    from cryptography.hazmat.primitives.asymmetric import ed448, ed25519

    crv = jwk.get("crv")
    if crv in ("X25519", "X448"):
        raise _Bad(f"{crv} is a key-agreement curve, not for signatures")
    if not isinstance(crv, str) or crv not in OKP_CURVES:
        raise _Bad(f"unknown OKP curve {crv!r}; expected Ed25519 or Ed448")
    x = b64url_decode(jwk.get("x"), "x")
    if len(x) != OKP_CURVES[crv]:
        raise _Bad(f"member 'x' must be {OKP_CURVES[crv]} bytes for {crv}")
    cls = ed25519.Ed25519PublicKey if crv == "Ed25519" else ed448.Ed448PublicKey
    try:
        return cls.from_public_bytes(x), f"OKP {crv}"
    except ValueError:
        raise _Bad(f"invalid {crv} public key") from None


def algorithms_for(detail: str) -> frozenset[str]:
    """Signature algorithms that fit a key, from its detail ("RSA 2048", "EC P-256", "OKP Ed25519")."""
    kty, _, rest = detail.partition(" ")
    if kty == "RSA":
        return frozenset(RSA_ALGS)
    if kty == "EC" and rest in EC_CURVES:
        return frozenset({EC_CURVES[rest][1]})
    if kty == "OKP":
        return frozenset({"EdDSA", rest})
    return frozenset()


def _check_alg(alg: Any, kty: str, detail: str) -> None:
    if alg is None:
        return
    if alg == "none" or str(alg).startswith("HS"):
        raise _Bad(f"alg '{alg}' is not a public-key signature algorithm")
    if alg not in algorithms_for(detail):
        raise _Bad(f"alg '{alg}' does not fit a {detail} key")


def _detail_guess(jwk: dict[str, Any], kty: str) -> str:
    """A best-effort description of a key that failed to load."""
    if kty == "RSA" and isinstance(jwk.get("n"), str) and _B64URL.match(jwk["n"]):
        try:
            return f"RSA {int.from_bytes(b64url_decode(jwk['n'], 'n'), 'big').bit_length()}"
        except _Bad:
            return "RSA"
    crv = jwk.get("crv")
    return f"{kty} {crv}" if isinstance(crv, str) else kty


# --- key sets ---------------------------------------------------------------------------------------


def parse_jwks(doc: Any, source: str) -> list[VerificationKey]:
    """A JWKS (``{"keys": [...]}``) or a single bare JWK -> keys; duplicate kids are all marked unusable."""
    if isinstance(doc, dict) and "keys" in doc:
        entries = doc["keys"]
        if not isinstance(entries, list):
            raise KeySourceError(f"{source}: 'keys' is a {_kind(entries)}, not a list", code="jwks.invalid")
    elif isinstance(doc, dict) and "kty" in doc:
        entries = [doc]
    else:
        what = "object without 'keys' or 'kty'" if isinstance(doc, dict) else _kind(doc)
        raise KeySourceError(
            f"{source}: not a JWKS (a JSON {what})",
            code="jwks.invalid",
            hint='expected {"keys": [...]} or a single JWK object',
        )
    return mark_duplicate_kids([parse_jwk(entry, source) for entry in entries])


def mark_duplicate_kids(keys: list[VerificationKey]) -> list[VerificationKey]:
    """Every key whose kid appears more than once becomes unusable: a token could not choose between them."""
    counts = Counter(k.kid for k in keys if k.kid is not None)
    out: list[VerificationKey] = []
    for key in keys:
        if key.kid is not None and counts[key.kid] > 1:
            reason = f"duplicate kid '{key.kid}' ({counts[key.kid]} keys share it)"
            key = _with_problem(key, reason if key.problem is None else f"{reason}; {key.problem}")
        out.append(key)
    return out


def _with_problem(key: VerificationKey, problem: str) -> VerificationKey:
    return VerificationKey(
        key.kid, key.kty, key.alg, key.use, key.key, key.source, key.thumbprint, key.detail, problem
    )


def _kind(value: Any) -> str:
    return {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number"
    )


# --- files ------------------------------------------------------------------------------------------


def load_key_file(path: str) -> list[VerificationKey]:
    """A local JWKS / JWK JSON file or a PEM file with one or more public keys (or certificates).

    Every problem with the file is a KeyFileError (exit 2: the input given cannot be used).
    """
    try:
        return _load_key_file(path)
    except KeySourceError as err:  # KeyFileError too: each gets the file it is about
        raise KeyFileError(err.message, code=err.code, location=err.location, hint=err.hint, file=path) from None


def _load_key_file(path: str) -> list[VerificationKey]:
    data = _read_file(path)
    if not data.strip():
        raise KeyFileError(f"{path}: is empty; pass a JWKS JSON or PEM file", code="jwks.invalid")
    if data.lstrip().startswith(b"-----BEGIN"):
        return mark_duplicate_kids([_pem_key(block, path) for block in _pem_blocks(data, path)])
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise KeySourceError(
            f"{path}: neither a PEM public key nor JSON ({exc})", code="jwks.invalid"
        ) from None
    return parse_jwks(doc, path)


def _read_file(path: str) -> bytes:
    p = Path(path)
    try:
        if p.is_dir():
            raise KeyFileError(f"{path}: is a directory; pass a JWKS JSON or PEM file")
        with p.open("rb") as fh:
            data = fh.read(MAX_KEY_FILE_BYTES + 1)
    except FileNotFoundError:
        raise KeyFileError(
            f"{path}: no such key file", hint="pass a JWKS JSON file, a PEM file or a URL"
        ) from None
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if len(data) > MAX_KEY_FILE_BYTES:
        raise KeySourceError(
            f"{path}: larger than {MAX_KEY_FILE_BYTES} bytes; not a key file", code="jwks.too_large"
        )
    return data


def _pem_blocks(data: bytes, path: str) -> list[tuple[str, bytes]]:
    blocks = [(m.group(1).decode(), m.group(0)) for m in _PEM_BLOCK.finditer(data)]
    if not blocks:
        raise KeySourceError(f"{path}: malformed PEM (no complete BEGIN/END block)", code="jwks.invalid")
    for label, _ in blocks:
        if "PRIVATE" in label:
            raise KeySourceError(
                f"{path}: holds a private key; jwtgate needs only the public key",
                code="jwks.invalid",
                hint=f"openssl pkey -in {path} -pubout",
            )
    return blocks


def _pem_key(block: tuple[str, bytes], path: str) -> VerificationKey:
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    label, pem = block
    key: Any
    try:
        if label == "CERTIFICATE":
            from cryptography import x509

            key = x509.load_pem_x509_certificate(pem).public_key()
        else:
            key = load_pem_public_key(pem)
    except ValueError as exc:
        raise KeySourceError(f"{path}: unreadable PEM {label.lower()} ({exc})", code="jwks.invalid") from None
    return parse_jwk(public_jwk(key), path)


def public_jwk(key: Any) -> dict[str, str]:
    """The public JWK members of a ``cryptography`` public key (for thumbprints and the same checks)."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    if isinstance(key, rsa.RSAPublicKey):
        nums = key.public_numbers()
        return {"kty": "RSA", "n": _int_b64(nums.n), "e": _int_b64(nums.e)}
    if isinstance(key, ec.EllipticCurvePublicKey):
        crv = {
            "secp256r1": "P-256",
            "secp384r1": "P-384",
            "secp521r1": "P-521",
            "secp256k1": "secp256k1",
        }.get(key.curve.name, key.curve.name)
        size = (key.curve.key_size + 7) // 8
        point = key.public_numbers()
        return {
            "kty": "EC",
            "crv": crv,
            "x": b64url_encode(point.x.to_bytes(size, "big")),
            "y": b64url_encode(point.y.to_bytes(size, "big")),
        }
    if isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        crv = "Ed25519" if isinstance(key, ed25519.Ed25519PublicKey) else "Ed448"
        return {
            "kty": "OKP",
            "crv": crv,
            "x": b64url_encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw)),
        }
    return {"kty": type(key).__name__}


def _int_b64(value: int) -> str:
    return b64url_encode(value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))
