"""Token verification: one test per rule, the attack it prevents named in the test id."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jwtgate.errors import TokenError
from jwtgate.model import TokenRules, VerificationKey, VerifiedToken
from jwtgate.tokens.compact import parse_token
from jwtgate.tokens.verify import VerifiedCache, verify_compact, verify_token
from tests.kit.keys import jwk_of, private_key, vkey
from tests.kit.tokens import AUD, DROP, ISS, NOW, RULES, b64, claims, mint, sign_raw

SECRET = b"a-random-shared-secret-of-32-bytes!"
FAR = 4_000_000_000  # for PyJWT, which reads the real clock
CODE = re.compile(r"^(token|key|jwks)\.[a-z_]+$")


def verify(
    token: str,
    keys: list[VerificationKey] | None = None,
    rules: TokenRules = RULES,
    *,
    now: float = NOW,
    hmac_secret: bytes | None = None,
) -> VerifiedToken:
    return verify_token(
        parse_token(token),
        keys if keys is not None else [vkey("RSA")],
        rules,
        now=now,
        hmac_secret=hmac_secret,
    )


def refused(token: str, keys: list[VerificationKey] | None = None, **kwargs: Any) -> TokenError:
    with pytest.raises(TokenError) as info:
        verify(token, keys, **kwargs)
    assert CODE.match(info.value.code)
    assert token not in str(info.value)  # never the whole token in a message
    return info.value


def unsigned(header: dict[str, Any], payload: dict[str, Any] | None = None, signature: bytes = b"") -> str:
    return (
        f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload or claims()).encode())}.{b64(signature)}"
    )


# --- accepted -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alg", "key"),
    [
        ("RS256", "RSA"), ("RS384", "RSA"), ("RS512", "RSA"), ("PS256", "RSA"), ("PS384", "RSA"),
        ("PS512", "RSA"), ("ES256", "ES256"), ("ES384", "ES384"), ("ES512", "ES512"),
        ("EdDSA", "Ed25519"), ("EdDSA", "Ed448"),
    ],
)  # fmt: skip
def test_valid_tokens_are_accepted(alg: str, key: str) -> None:
    token = mint(alg, key, sub="ada")
    verified = verify(token, [vkey("RSA-other", "k0"), vkey(key, "k1")])
    assert verified.claims["sub"] == "ada"
    assert verified.key.kid == "k1"
    assert verified.header["alg"] == alg
    assert verified.fingerprint == parse_token(token).fingerprint


def test_es256k_is_accepted_when_allowed() -> None:
    rules = dataclasses.replace(RULES, algorithms=("ES256K",))
    assert verify(mint("ES256K"), [vkey("ES256K")], rules).claims["sub"] == "user-1"
    assert refused(mint("ES256K"), [vkey("ES256K")]).code == "token.alg_not_allowed"


def test_hs256_with_configured_secret_is_accepted() -> None:
    token = jwt.encode(claims(), SECRET, algorithm="HS256")
    verified = verify(token, [], hmac_secret=SECRET)
    assert verified.key.source == "jwtgate.hmac_secret"
    assert SECRET not in repr(verified).encode()


# --- header: alg ------------------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_alg_none_is_refused_in_any_casing(alg: str) -> None:
    error = refused(unsigned({"alg": alg, "kid": "k1"}))
    assert error.code == "token.alg_none"
    assert "unsigned token" in error.message


def test_alg_none_is_refused_even_when_configured() -> None:
    rules = dataclasses.replace(RULES, algorithms=("none", "RS256"))
    assert refused(unsigned({"alg": "none"}), rules=rules).code == "token.alg_none"


@pytest.mark.parametrize(
    ("header", "code"),
    [
        pytest.param({"kid": "k1"}, "token.malformed", id="alg-missing"),
        pytest.param({"alg": 256, "kid": "k1"}, "token.malformed", id="alg-not-a-string"),
        pytest.param({"alg": "RS1", "kid": "k1"}, "token.alg_not_allowed", id="alg-unknown"),
        pytest.param({"alg": "rs256", "kid": "k1"}, "token.alg_not_allowed", id="alg-wrong-case"),
    ],
)
def test_alg_must_be_a_known_string(header: dict[str, Any], code: str) -> None:
    assert refused(sign_raw(header, claims())).code == code


def test_alg_outside_the_configured_allow_list_is_refused() -> None:
    rules = dataclasses.replace(RULES, algorithms=("RS256",))
    error = refused(mint("ES256"), [vkey("ES256")], rules=rules)
    assert error.code == "token.alg_not_allowed"
    assert "alg 'ES256' is not allowed (allowed: RS256)" in error.message


def test_hs256_with_rsa_public_key_as_secret() -> None:
    """The classic confusion: HMAC keyed with the server's public key, which the attacker knows."""
    pem = (
        private_key("RSA")
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    forged = sign_raw({"alg": "HS256", "kid": "k1"}, claims(), "HS256", key=pem)
    error = refused(forged)
    assert error.code == "token.alg_not_allowed"
    assert "keys from a JWKS or PEM never verify it" in error.message
    # With a real secret configured, the JWKS key is still never used as an HMAC key.
    assert refused(forged, hmac_secret=SECRET).code == "token.signature_invalid"


def test_hs256_with_configured_secret_that_is_a_public_key() -> None:
    pem = (
        private_key("RSA")
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    forged = sign_raw({"alg": "HS256"}, claims(), "HS256", key=pem)
    error = refused(forged, [], hmac_secret=pem)
    assert error.code == "token.alg_key_mismatch"
    assert "looks like a public key" in error.message


def test_hs256_allowed_by_config_without_secret() -> None:
    rules = dataclasses.replace(RULES, algorithms=("HS256", "RS256"))
    forged = jwt.encode(claims(), SECRET, algorithm="HS256")
    assert refused(forged, rules=rules).code == "token.alg_not_allowed"


@pytest.mark.parametrize(
    ("alg", "key", "message"),
    [
        pytest.param("RS256", vkey("ES256"), "RS256 needs an RSA key, the selected key is EC",
                     id="rsa-alg-ec-key"),
        pytest.param("ES256", vkey("RSA"), "ES256 needs an EC key, the selected key is RSA",
                     id="ec-alg-rsa-key"),
        pytest.param("EdDSA", vkey("RSA"), "EdDSA needs an OKP key", id="eddsa-alg-rsa-key"),
        pytest.param("ES256", vkey("ES384"), "ES256 needs curve secp256r1, the selected key is on secp384r1",
                     id="ec-curve-substitution"),
        pytest.param("PS256", vkey("RSA", alg="RS256"), "the key declares alg RS256, the token says PS256",
                     id="alg-differs-from-jwk-alg"),
        pytest.param("RS256", vkey("ES256", kty="RSA"), "says kty RSA but holds an EC key",
                     id="kty-label-lies"),
    ],
)  # fmt: skip
def test_alg_must_fit_the_selected_key(alg: str, key: VerificationKey, message: str) -> None:
    error = refused(mint(alg), [key])
    assert error.code == "token.alg_key_mismatch"
    assert message in error.message


def test_oct_key_in_a_key_set_never_verifies() -> None:
    oct_key = VerificationKey("k1", "oct", None, "sig", b"secret", "jwks", "tp", "oct")
    error = refused(mint("RS256"), [oct_key])
    assert error.code == "token.alg_key_mismatch"
    assert "symmetric (oct) key" in error.message


# --- header: crit, typ, jku & co, kid ---------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        pytest.param({"crit": ["exp"], "exp": 1}, id="crit-unknown-parameter"),
        pytest.param({"crit": ["b64"], "b64": False}, id="crit-b64-unencoded-payload"),
        pytest.param({"crit": []}, id="crit-empty"),
    ],
)
def test_crit_with_unimplemented_extensions_is_refused(header: dict[str, Any]) -> None:
    error = refused(sign_raw({"alg": "RS256", "kid": "k1", **header}, claims()))
    assert error.code == "token.crit_unsupported"
    assert "jwtgate implements no JWS extensions" in error.message


@pytest.mark.parametrize("typ", ["dpop+jwt", "logout+jwt", "secevent+jwt", "JWE", "application/json", 1])
def test_typ_confusion(typ: Any) -> None:
    error = refused(mint("RS256", headers={"typ": typ}))
    assert error.code == "token.typ_invalid"
    assert "not an access-token type" in error.message


@pytest.mark.parametrize("typ", ["JWT", "jwt", "at+jwt", "AT+JWT", "application/at+jwt", "application/JWT"])
def test_typ_jwt_and_at_jwt_are_accepted(typ: str) -> None:
    assert verify(mint("RS256", headers={"typ": typ})).header["typ"] == typ


def _attacker_headers() -> list[object]:
    jwk = jwk_of(private_key("RSA-attacker"), None)
    return [
        pytest.param({"jku": "https://attacker.example/jwks.json"}, id="jku-header-ignored"),
        pytest.param({"x5u": "https://attacker.example/cert.pem"}, id="x5u-header-ignored"),
        pytest.param({"jwk": jwk}, id="embedded-jwk-ignored"),
        pytest.param({"x5c": ["MIIBattackercert"]}, id="x5c-header-ignored"),
    ]


@pytest.mark.parametrize("header", _attacker_headers())
def test_token_never_chooses_its_own_key(header: dict[str, Any]) -> None:
    forged = mint("RS256", "RSA-attacker", headers=header)
    assert refused(forged).code == "token.signature_invalid"
    kidless = mint("RS256", "RSA-attacker", headers={**header, "kid": None})
    assert refused(kidless, [vkey("RSA", None)]).code == "token.signature_invalid"


@pytest.mark.parametrize("kid", [5, ["k1"], {"k": "k1"}, True])
def test_kid_must_be_a_string(kid: Any) -> None:
    error = refused(sign_raw({"alg": "RS256", "kid": kid}, claims()))
    assert error.code == "token.kid_invalid"


@pytest.mark.parametrize(
    "kid",
    [
        pytest.param("../../../../etc/passwd", id="kid-path-traversal-not-found"),
        pytest.param("' OR '1'='1", id="kid-sql-injection-not-found"),
        pytest.param("K1", id="kid-case-differs-not-found"),
        pytest.param("k1 ", id="kid-trailing-space-not-found"),
        pytest.param("", id="kid-empty-not-found"),
    ],
)
def test_kid_is_an_exact_lookup_only(kid: str) -> None:
    error = refused(mint("RS256", headers={"kid": kid}))
    assert error.code == "key.not_found"
    assert "refetch" in error.message
    assert "1 usable key(s) ['k1'] from https://idp.example.com/jwks" in error.message


def test_kid_of_an_unusable_key_is_not_found_and_says_why() -> None:
    keys = [vkey("RSA", "k1", problem="RSA key under 2048 bits"), vkey("RSA-2", "k2")]
    error = refused(mint("RS256"), keys)
    assert error.code == "key.not_found"
    assert "is not usable: RSA key under 2048 bits" in error.message


def test_kidless_token_uses_the_only_usable_key() -> None:
    token = mint("RS256", headers={"kid": None})
    assert verify(token, [vkey("RSA", None), vkey("RSA-2", "k2", problem="use: enc")]).key.detail == "RSA"


@pytest.mark.parametrize(
    ("keys", "rules", "message"),
    [
        pytest.param([vkey("RSA", "k1"), vkey("RSA-2", "k2")], RULES, "the key set has 2 usable key(s)",
                     id="kidless-token-two-keys"),
        pytest.param([vkey("RSA", "k1")], dataclasses.replace(RULES, allow_kidless_single_key=False),
                     "allow_kidless_single_key is off", id="kidless-token-single-key-disabled"),
        pytest.param([], RULES, "the key set has 0 usable key(s)", id="kidless-token-no-keys"),
    ],
)  # fmt: skip
def test_kidless_token_is_ambiguous(keys: list[VerificationKey], rules: TokenRules, message: str) -> None:
    error = refused(mint("RS256", headers={"kid": None}), keys, rules=rules)
    assert error.code == "key.ambiguous"
    assert message in error.message


def test_duplicate_usable_kids_are_ambiguous() -> None:
    error = refused(mint("RS256"), [vkey("RSA-attacker", "k1"), vkey("RSA", "k1")])
    assert error.code == "key.ambiguous"


# --- signature ----------------------------------------------------------------------------------------


def _tampered(token: str, **changes: Any) -> str:
    head, _, sig = token.split(".")
    return f"{head}.{b64(json.dumps({**parse_token(token).claims, **changes}).encode())}.{sig}"


def _signature_cases() -> list[object]:
    token = mint("RS256")
    head, body, _ = mint("ES256").split(".")
    n = (0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551).to_bytes(32, "big")
    one = (1).to_bytes(32, "big")
    der = private_key("ES256").sign(f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA256()))
    return [
        pytest.param(_tampered(token, sub="admin"), "RSA", id="payload-tampered"),
        pytest.param(
            f"{token.rsplit('.', 1)[0]}.{b64(parse_token(token).signature[:-3])}",
            "RSA",
            id="signature-truncated",
        ),
        pytest.param(token.rsplit(".", 1)[0] + ".", "RSA", id="signature-stripped"),
        pytest.param(mint("RS256", "RSA-attacker"), "RSA", id="signed-by-another-key"),
        pytest.param(f"{head}.{body}.{b64(bytes(64))}", "ES256", id="psychic-ecdsa-r-s-zero"),
        pytest.param(f"{head}.{body}.{b64(n + n)}", "ES256", id="psychic-ecdsa-r-s-equal-n"),
        pytest.param(f"{head}.{body}.{b64(one + n)}", "ES256", id="ecdsa-s-equal-n"),
        pytest.param(f"{head}.{body}.{b64(der)}", "ES256", id="ecdsa-der-instead-of-raw"),
        pytest.param(f"{head}.{body}.{b64(bytes(63))}", "ES256", id="ecdsa-wrong-length"),
    ]


@pytest.mark.parametrize(("token", "key"), _signature_cases())
def test_bad_signatures_are_refused(token: str, key: str) -> None:
    error = refused(token, [vkey(key)])
    assert error.code == "token.signature_invalid"
    assert "does not verify with key 'k1' from https://idp.example.com/jwks" in error.message


def test_eddsa_wrong_length_signature_is_refused() -> None:
    head, body, sig = mint("EdDSA").split(".")
    assert refused(f"{head}.{body}.{sig}AA", [vkey("Ed25519")]).code == "token.signature_invalid"


# --- claims -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "name"),
    [
        pytest.param({"exp": "1895687200"}, "exp", id="exp-as-string"),
        pytest.param({"exp": True}, "exp", id="exp-as-boolean"),
        pytest.param({"exp": [NOW + 60]}, "exp", id="exp-as-list"),
        pytest.param({"exp": 10**30}, "exp", id="exp-out-of-range"),
        pytest.param({"nbf": "0"}, "nbf", id="nbf-as-string"),
        pytest.param({"iat": False}, "iat", id="iat-as-boolean"),
    ],
)
def test_time_claims_must_be_numbers(overrides: dict[str, Any], name: str) -> None:
    error = refused(mint("RS256", **overrides))
    assert error.code == "token.claim_type"
    assert f"claim {name!r} must be a finite JSON number" in error.message


def test_exp_overflowing_to_infinity_is_refused() -> None:
    token = sign_raw(
        {"alg": "RS256", "kid": "k1"}, json.dumps(claims()).replace(str(NOW + 3600), "1e400").encode()
    )
    assert refused(token).code == "token.claim_type"


def test_float_times_are_accepted() -> None:
    assert verify(mint("RS256", exp=NOW + 0.5)).claims["exp"] == NOW + 0.5


def test_exp_is_required_by_default() -> None:
    error = refused(mint("RS256", exp=DROP))
    assert error.code == "token.claim_missing"
    assert "required claim(s) 'exp' missing" in error.message


def test_extra_required_claims() -> None:
    rules = dataclasses.replace(RULES, require=("exp", "sub", "jti"))
    assert "'sub', 'jti'" in refused(mint("RS256", sub=DROP), rules=rules).message
    assert verify(mint("RS256", exp=DROP), rules=dataclasses.replace(RULES, require=())).claims["sub"]


def test_expired_token_message_says_when_and_leeway() -> None:
    error = refused(mint("RS256", exp=NOW), now=NOW + 72)
    assert error.code == "token.expired"
    assert error.message.startswith("expired 72 s ago at 2026-11-26T10:00:00Z; leeway 30 s")


def test_expired_long_ago_is_in_whole_seconds() -> None:
    error = refused(mint("RS256", exp=NOW), now=NOW + 28_487_988.3)
    assert error.message.startswith("expired 28487988 s (~329.7 d) ago at 2026-11-26T10:00:00Z")


@pytest.mark.parametrize(
    ("exp_offset", "ok"),
    [
        pytest.param(-29, True, id="expired-within-leeway-accepted"),
        pytest.param(-30, False, id="expired-at-leeway-edge"),
        pytest.param(-3600, False, id="expired-replay"),
    ],
)
def test_exp_with_leeway(exp_offset: int, ok: bool) -> None:
    token = mint("RS256", exp=NOW + exp_offset)
    if ok:
        assert verify(token).claims["exp"] == NOW + exp_offset
    else:
        assert refused(token).code == "token.expired"


def test_not_yet_valid() -> None:
    error = refused(mint("RS256", nbf=NOW + 600))
    assert error.code == "token.not_yet_valid"
    assert "not valid before 2026-11-26T10:10:00Z (600 s from now); leeway 30 s" in error.message
    assert verify(mint("RS256", nbf=NOW + 20)).claims["nbf"] == NOW + 20


def test_issued_in_future() -> None:
    error = refused(mint("RS256", iat=NOW + 3600 * 24))
    assert error.code == "token.issued_in_future"
    assert "86400 s (~24.0 h) in the future" in error.message


@pytest.mark.parametrize(
    ("iss", "shown"),
    [
        pytest.param(
            "https://evil.example.com/realms/acme", "iss 'https://evil.example.com", id="iss-other-issuer"
        ),
        pytest.param(ISS + "/", "iss 'https://idp.example.com/realms/acme/'", id="iss-trailing-slash"),
        pytest.param(DROP, "no 'iss' claim", id="iss-missing"),
        pytest.param([ISS], "iss ['https://", id="iss-as-list"),
    ],
)
def test_issuer_mismatch(iss: Any, shown: str) -> None:
    error = refused(sign_raw({"alg": "RS256", "kid": "k1"}, claims(iss=iss)))
    assert error.code == "token.issuer_mismatch"
    assert f"expected iss {ISS!r}, the token has {shown}" in error.message


@pytest.mark.parametrize(
    ("aud", "code"),
    [
        pytest.param("other-client", "token.audience_mismatch", id="aud-token-for-another-client"),
        pytest.param(["account", "other"], "token.audience_mismatch", id="aud-list-without-ours"),
        pytest.param([], "token.audience_mismatch", id="aud-empty-list"),
        pytest.param(DROP, "token.audience_missing", id="aud-missing"),
        pytest.param({"aud": AUD}, "token.claim_type", id="aud-as-object"),
        pytest.param([AUD, 5], "token.claim_type", id="aud-list-with-number"),
    ],
)
def test_audience(aud: Any, code: str) -> None:
    assert refused(mint("RS256", aud=aud)).code == code


def test_audience_list_containing_ours_is_accepted() -> None:
    assert verify(mint("RS256", aud=["account", AUD])).claims["aud"] == ["account", AUD]


def test_no_configured_issuer_or_audience_skips_those_checks() -> None:
    rules = TokenRules(issuer=None, audiences=None)
    assert verify(mint("RS256", iss="anyone", aud="anything"), rules=rules).claims["iss"] == "anyone"


def test_signature_is_checked_before_claims() -> None:
    forged = mint("RS256", "RSA-attacker", exp=NOW - 9999)
    assert refused(forged).code == "token.signature_invalid"


# --- verify_compact and the cache --------------------------------------------------------------------


def test_verify_compact_uses_the_cache_and_never_caches_failures() -> None:
    cache, keys = VerifiedCache(), [vkey("RSA")]
    good, forged = mint("RS256"), mint("RS256", "RSA-attacker")
    first = verify_compact(good, keys, RULES, now=NOW, cache=cache)
    assert verify_compact(good, [], RULES, now=NOW + 1, cache=cache) is first  # no key needed: a hit
    for _ in range(2):
        with pytest.raises(TokenError):
            verify_compact(forged, keys, RULES, now=NOW, cache=cache)
    assert (len(cache), cache.hits) == (1, 1)


def test_verify_compact_applies_the_rules_size_cap() -> None:
    rules = dataclasses.replace(RULES, max_token_bytes=100)
    with pytest.raises(TokenError) as info:
        verify_compact(mint("RS256"), [vkey("RSA")], rules, now=NOW)
    assert info.value.code == "token.too_large"


# --- PyJWT stays out of verification -------------------------------------------------------------


def test_verifying_never_imports_pyjwt() -> None:
    code = "import sys, jwtgate.tokens.verify; print('jwt' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --- robustness ---------------------------------------------------------------------------------------


_VALID = [mint("RS256"), mint("ES256"), mint("EdDSA")]
_KEYS = [vkey("RSA", "k1"), vkey("ES256", "k1"), vkey("Ed25519", "k1")]


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(range(3)),
    st.lists(st.tuples(st.integers(0, 2000), st.characters(codec="ascii")), min_size=1, max_size=4),
)
def test_mutated_tokens_raise_only_token_error(which: int, edits: list[tuple[int, str]]) -> None:
    chars = list(_VALID[which])
    for index, char in edits:
        chars[index % len(chars)] = char
    try:
        verify_token(parse_token("".join(chars)), [_KEYS[which]], RULES, now=NOW)
    except TokenError as exc:
        assert CODE.match(exc.code)


@settings(max_examples=300)
@given(st.dictionaries(st.sampled_from(["alg", "kid", "typ", "crit", "jku"]),
                       st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8),
                                 st.lists(st.text(max_size=3), max_size=2))))  # fmt: skip
def test_random_headers_raise_only_token_error(header: dict[str, Any]) -> None:
    try:
        verify(sign_raw(header, claims()))
    except TokenError as exc:
        assert CODE.match(exc.code)
