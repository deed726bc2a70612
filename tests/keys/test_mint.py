"""Key generation, public JWKs, claim building and signing for test tokens."""

from __future__ import annotations

import json
from pathlib import Path

import jwt
import pytest

from jwtgate.errors import UsageError
from jwtgate.keys import mint
from jwtgate.keys.jwk import thumbprint


@pytest.mark.parametrize(
    ("alg", "kty", "members"),
    [("RS256", "RSA", {"n", "e"}), ("ES256", "EC", {"crv", "x", "y"}), ("ES384", "EC", {"crv", "x", "y"}),
     ("EdDSA", "OKP", {"crv", "x"})],
    ids=["rsa", "p256", "p384", "ed25519"],
)
def test_public_jwk_verifies_a_signed_token(alg: str, kty: str, members: set[str]) -> None:
    key = mint.generate_private_key(alg)
    jwk = mint.public_jwk(key, kid="k", alg=alg)
    assert jwk["kty"] == kty and jwk["use"] == "sig" and jwk["alg"] == alg and members <= jwk.keys()
    assert "d" not in jwk
    token = mint.sign({"sub": "a"}, key, alg=alg, kid="k")
    public = jwt.PyJWK.from_dict(jwk).key
    assert jwt.decode(token, public, algorithms=[alg]) == {"sub": "a"}
    assert jwt.get_unverified_header(token) == {"alg": alg, "kid": "k", "typ": "JWT"}


def test_thumbprint_rfc7638_example() -> None:
    """The RSA example of RFC 7638 §3.1."""
    n = ("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3"
         "oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZH"
         "zu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8"
         "awapJzKnqDKgw")
    assert thumbprint({"kty": "RSA", "n": n, "e": "AQAB"}) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_default_kid_is_the_thumbprint() -> None:
    key = mint.generate_private_key("ES256")
    members = {k: v for k, v in mint.public_jwk(key, kid="x", alg="ES256").items() if k in ("kty", "crv", "x", "y")}
    assert mint.thumbprint(key) == thumbprint(members)


@pytest.mark.parametrize(
    ("text", "value"),
    [("sub=alice", ("sub", "alice")), ("n=42", ("n", 42)), ('roles=["a","b"]', ("roles", ["a", "b"])),
     ("flag=true", ("flag", True)), ("x=", ("x", "")), ("eq=a=b", ("eq", "a=b")),
     ("https://example.com/roles=admin", ("https://example.com/roles", "admin"))],
    ids=["string", "number", "json-list", "bool", "empty-string", "equals-in-value", "dotted-name-literal"],
)
def test_parse_claim(text: str, value: tuple[str, object]) -> None:
    assert mint.parse_claim(text) == value


@pytest.mark.parametrize("text", ["noequals", "=x"], ids=["no-equals", "no-name"])
def test_parse_claim_refuses(text: str) -> None:
    with pytest.raises(UsageError, match="is not name=value"):
        mint.parse_claim(text)


def test_build_claims_order() -> None:
    claims = mint.build_claims(now=1000.5, expires_in=3600, base={"sub": "base", "iss": "base"},
                               issuer="https://i", audiences=["a", "b"], pairs=[("sub", "pair"), ("exp", 5)])
    assert claims == {"iat": 1000, "exp": 5, "sub": "pair", "iss": "https://i", "aud": ["a", "b"]}


def test_build_claims_without_expiry() -> None:
    assert mint.build_claims(now=1000, expires_in=None, audiences=["a"]) == {"iat": 1000, "aud": "a"}


@pytest.mark.parametrize(
    ("alg", "keyalg", "message"),
    [("none", "RS256", "unsupported signing algorithm"), ("HS256", "RS256", "unsupported signing algorithm"),
     ("ES256", "RS256", "does not fit"), ("RS256", "EdDSA", "does not fit"), ("ES384", "ES256", "does not fit")],
    ids=["alg-none", "hmac", "ec-alg-rsa-key", "rsa-alg-ed-key", "wrong-curve"],
)
def test_sign_refuses_mismatched_alg(alg: str, keyalg: str, message: str) -> None:
    key = mint.generate_private_key(keyalg)
    with pytest.raises(UsageError, match=message):
        mint.sign({}, key, alg=alg, kid=None)


def test_load_private_key_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read key file"):
        mint.load_private_key(str(tmp_path / "missing.pem"))
    public = tmp_path / "jwks.json"
    public.write_text(json.dumps({"keys": []}))
    with pytest.raises(UsageError, match="is not an unencrypted PEM private key"):
        mint.load_private_key(str(public))
