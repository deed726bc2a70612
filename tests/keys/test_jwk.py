"""JWK parsing and key hygiene: every reason a key must not verify tokens, and the usable shapes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from jwtgate.errors import KeySourceError
from jwtgate.keys.jwk import KeyFileError, b64url_encode, load_key_file, parse_jwk, parse_jwks, thumbprint
from tests.kit.keys import ec_jwk, ed_jwk, private_key, rsa_jwk

# RFC 7638 section 3.1: the example RSA key and its SHA-256 thumbprint.
RFC7638_N = (
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3"
    "oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdA"
    "ZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-"
    "kEgU8awapJzKnqDKgw"
)
RFC7638_THUMBPRINT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"

GOOD_RSA = rsa_jwk("good")


def _off_curve() -> dict[str, Any]:
    jwk = ec_jwk("off-curve")
    y = bytearray(b"\x00" * 31 + b"\x01")
    jwk["y"] = b64url_encode(bytes(y))
    return jwk


def _rsa_with_e(e: int) -> dict[str, Any]:
    jwk = dict(GOOD_RSA)
    jwk["e"] = b64url_encode(e.to_bytes(max(1, (e.bit_length() + 7) // 8), "big"))
    return jwk


HYGIENE = [
    pytest.param({**GOOD_RSA, "use": "enc"}, "use is 'enc'", id="use-enc-encryption-key"),
    pytest.param({**GOOD_RSA, "use": "other"}, "only 'sig' keys", id="use-unknown"),
    pytest.param(rsa_jwk("small", bits=1024), "RSA key is 1024 bits; at least 2048", id="rsa-1024-bits"),
    pytest.param(_rsa_with_e(1), "exponent e=1 is unsafe", id="rsa-exponent-1"),
    pytest.param(_rsa_with_e(65536), "exponent e=65536 is unsafe", id="rsa-exponent-even"),
    pytest.param(
        _off_curve(), "EC point is not on curve P-256", id="ec-point-off-curve-invalid-curve-attack"
    ),
    pytest.param({**ec_jwk(), "crv": "P-192"}, "unknown EC curve 'P-192'", id="ec-unknown-curve"),
    pytest.param(
        {"kty": "oct", "k": "c2VjcmV0", "kid": "hs"}, "symmetric keys are not accepted", id="oct-in-jwks"
    ),
    pytest.param(
        {**GOOD_RSA, "key_ops": ["encrypt"]}, "does not include 'verify'", id="key-ops-without-verify"
    ),
    pytest.param({**GOOD_RSA, "key_ops": "verify"}, "'key_ops' must be a list", id="key-ops-not-a-list"),
    pytest.param({**GOOD_RSA, "n": GOOD_RSA["n"] + "=="}, "member 'n' is not base64url", id="n-padded"),
    pytest.param({**GOOD_RSA, "e": 65537}, "member 'e' is missing or not a string", id="e-number"),
    pytest.param({k: v for k, v in GOOD_RSA.items() if k != "n"}, "member 'n' is missing", id="n-missing"),
    pytest.param({**GOOD_RSA, "kid": 7}, "member 'kid' must be a string", id="kid-not-string"),
    pytest.param(
        {**GOOD_RSA, "alg": "ES256"}, "alg 'ES256' does not fit a RSA 2048 key", id="alg-kty-mismatch"
    ),
    pytest.param(
        {**GOOD_RSA, "alg": "HS256"}, "not a public-key signature algorithm", id="alg-hs256-confusion"
    ),
    pytest.param({**GOOD_RSA, "alg": "none"}, "not a public-key signature algorithm", id="alg-none"),
    pytest.param({**GOOD_RSA, "d": "AQAB"}, "private key material", id="private-key-published"),
    pytest.param({"kid": "x"}, "member 'kty' is missing", id="kty-missing"),
    pytest.param({"kty": "XYZ", "kid": "x"}, "unknown key type 'XYZ'", id="kty-unknown"),
    pytest.param({"kty": "OKP", "crv": "X25519", "x": ed_jwk()["x"]}, "key-agreement curve", id="okp-x25519"),
    pytest.param({**ed_jwk(), "x": "AAAA"}, "must be 32 bytes for Ed25519", id="okp-short-x"),
    pytest.param("not-a-key", "not a JSON object", id="entry-not-object"),
]


@pytest.mark.parametrize(("jwk", "problem"), HYGIENE)
def test_unusable_keys_say_why(jwk: Any, problem: str) -> None:
    key = parse_jwk(jwk, "jwks.json")
    assert key.problem is not None and problem in key.problem
    assert not key.usable and key.key is None


@pytest.mark.parametrize(
    ("jwk", "detail", "alg"),
    [
        pytest.param(rsa_jwk("r", alg="RS256", use="sig"), "RSA 2048", "RS256", id="rsa-2048"),
        pytest.param(rsa_jwk("r3", bits=3072, alg="PS256"), "RSA 3072", "PS256", id="rsa-3072-pss"),
        pytest.param(ec_jwk("e", alg="ES256"), "EC P-256", "ES256", id="ec-p256"),
        pytest.param(ec_jwk("e3", curve=ec.SECP384R1()), "EC P-384", None, id="ec-p384"),
        pytest.param(ec_jwk("e5", curve=ec.SECP521R1(), alg="ES512"), "EC P-521", "ES512", id="ec-p521"),
        pytest.param(ed_jwk("d", alg="EdDSA", key_ops=["verify"]), "OKP Ed25519", "EdDSA", id="ed25519"),
    ],
)
def test_usable_keys(jwk: dict[str, Any], detail: str, alg: str | None) -> None:
    key = parse_jwk(jwk, "src")
    assert (key.problem, key.detail, key.alg, key.source) == (None, detail, alg, "src")
    assert key.key is not None and len(key.thumbprint) == 43


def test_rfc7638_thumbprint_vector() -> None:
    jwk = {"kty": "RSA", "n": RFC7638_N, "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"}
    assert thumbprint(jwk) == RFC7638_THUMBPRINT
    assert parse_jwk(jwk, "rfc").thumbprint == RFC7638_THUMBPRINT


def test_oct_key_thumbprint_is_never_shown() -> None:
    assert parse_jwk({"kty": "oct", "k": "c2VjcmV0"}, "x").thumbprint == ""


def test_duplicate_kids_mark_both_keys() -> None:
    keys = parse_jwks({"keys": [rsa_jwk("same"), ec_jwk("same"), ed_jwk("other")]}, "src")
    assert [k.usable for k in keys] == [False, False, True]
    assert keys[0].problem == "duplicate kid 'same' (2 keys share it)"


def test_bare_jwk_is_a_one_key_set() -> None:
    keys = parse_jwks(ec_jwk("solo"), "src")
    assert [(k.kid, k.usable) for k in keys] == [("solo", True)]


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        pytest.param({"keys": {"kty": "RSA"}}, "'keys' is a object, not a list", id="keys-not-list"),
        pytest.param([rsa_jwk()], "not a JWKS (a JSON list)", id="top-level-list"),
        pytest.param({"issuer": "x"}, "object without 'keys' or 'kty'", id="no-keys-member"),
        pytest.param("text", "not a JWKS (a JSON string)", id="string"),
    ],
)
def test_jwks_shape_errors(doc: Any, message: str) -> None:
    with pytest.raises(KeySourceError) as info:
        parse_jwks(doc, "https://idp/jwks")
    assert info.value.code == "jwks.invalid"
    assert message in info.value.message and "https://idp/jwks" in info.value.message


# --- files ------------------------------------------------------------------------------------------


def _pem(key: Any) -> bytes:
    return key.public_key().public_bytes(  # type: ignore[no-any-return]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _cert(key: rsa.RSAPrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "idp")])
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def test_pem_files_rsa_ec_and_certificate(tmp_path: Path) -> None:
    rsa_key = private_key("rsa")
    path = tmp_path / "keys.pem"
    path.write_bytes(_pem(rsa_key) + _pem(private_key("ec")) + _cert(rsa_key))
    keys = load_key_file(str(path))
    assert [(k.detail, k.kid, k.usable) for k in keys] == [
        ("RSA 2048", None, True),
        ("EC P-256", None, True),
        ("RSA 2048", None, True),
    ]
    assert keys[0].thumbprint == keys[2].thumbprint


def test_pem_small_rsa_key_is_unusable(tmp_path: Path) -> None:
    path = tmp_path / "small.pem"
    path.write_bytes(_pem(private_key("rsa-1024")))
    assert load_key_file(str(path))[0].problem == "RSA key is 1024 bits; at least 2048 required"


def test_private_key_file_is_refused_with_a_fix(tmp_path: Path) -> None:
    path = tmp_path / "private.pem"
    key = private_key("ec")
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    with pytest.raises(KeySourceError) as info:
        load_key_file(str(path))
    assert "holds a private key" in info.value.message and "-pubout" in (info.value.hint or "")


def test_json_file_and_errors(tmp_path: Path) -> None:
    good = tmp_path / "jwks.json"
    good.write_text(json.dumps({"keys": [rsa_jwk("a")]}))
    assert [k.kid for k in load_key_file(str(good))] == ["a"]
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(KeySourceError) as info:
        load_key_file(str(bad))
    assert info.value.code == "jwks.invalid" and "neither a PEM public key nor JSON" in info.value.message


def test_missing_key_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError) as info:
        load_key_file(str(tmp_path / "nope.json"))
    assert info.value.exit_code == 2 and "no such key file" in info.value.message
