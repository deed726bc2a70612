"""Attacks on the header, the algorithm, the signature and the keys (see table.py for the shape)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from jwtgate.keys.jwk import public_jwk
from tests.kit.keys import private_key
from tests.kit.tokens import DROP, b64, dumps
from tests.security.kit import WEAK_SECRET, Kit, pkcs1_padded_hash, self_signed_cert_b64
from tests.security.table import JWT_TOOL, OWASP, PS, RFC8725, add, segments

# --- alg none -------------------------------------------------------------------------------------
# RFC 8725 §2.1, §3.1; PortSwigger "JWT authentication bypass via flawed signature verification";
# jwt_tool -X a; CVE-2015-9235 (node-jsonwebtoken), CVE-2015-2951 (JWT.php).
for _alg in ("none", "None", "NONE", "nOnE"):
    add(f"alg_none_{_alg}", f"{RFC8725} §2.1; {PS}; {JWT_TOOL} -X a", "token.alg_none",
        lambda k, a=_alg: k.token(a, key=None))
add("alg_none_keeping_a_real_signature", f"{JWT_TOOL} -X a (signature kept)", "token.alg_none",
    lambda k: ".".join([b64(dumps({"alg": "none", "kid": "rsa-1"})), *segments(k.token())[1:]]))
add("alg_none_with_strong_hmac_configured", f"{RFC8725} §2.1", "token.alg_none",
    lambda k: k.token("none", key=None), config="hmac")
add("alg_missing", f"{OWASP}", "token.malformed", lambda k: k.token(DROP))
add("alg_empty_string", f"{JWT_TOOL} -X a", "token.malformed", lambda k: k.token("", key=None))
add("alg_null", f"{OWASP}", "token.malformed", lambda k: k.raw({"alg": None, "kid": "rsa-1"}, k.payload()))
add("alg_as_list", f"{OWASP}", "token.malformed", lambda k: k.raw({"alg": ["RS256"], "kid": "rsa-1"}, k.payload()))
add("alg_trailing_space", f"{RFC8725} §3.1", "token.alg_not_allowed",
    lambda k: k.raw({"alg": "RS256 ", "kid": "rsa-1"}, k.payload()))
add("alg_lowercase_rs256", f"{RFC8725} §3.1", "token.alg_not_allowed",
    lambda k: k.raw({"alg": "rs256", "kid": "rsa-1"}, k.payload()))

# --- algorithm confusion: the IdP's public key as an HMAC secret ----------------------------------
# RFC 8725 §2.1, §3.1; PortSwigger "algorithm confusion" labs; jwt_tool -X k; CVE-2016-10555 (jwt-simple),
# CVE-2017-11424 and CVE-2022-29217 (PyJWT), CVE-2024-33663 (python-jose), CVE-2024-37568 (authlib).
CONFUSION_SOURCE = (f"{RFC8725} §2.1; {PS} algorithm confusion; {JWT_TOOL} -X k; CVE-2022-29217 (PyJWT); "
                    "CVE-2024-33663 (python-jose); CVE-2024-37568 (authlib)")


def _public_forms() -> dict[str, Callable[[], bytes]]:
    rsa_pub = private_key("rsa").public_key()
    ec_pub = private_key("ec").public_key()
    spki, pkcs1, raw = PublicFormat.SubjectPublicKeyInfo, PublicFormat.PKCS1, PublicFormat.Raw
    return {
        "rsa_pem_spki": lambda: rsa_pub.public_bytes(Encoding.PEM, spki),
        "rsa_pem_spki_no_newline": lambda: rsa_pub.public_bytes(Encoding.PEM, spki).rstrip(b"\n"),
        "rsa_pem_pkcs1": lambda: rsa_pub.public_bytes(Encoding.PEM, pkcs1),
        "rsa_der_spki": lambda: rsa_pub.public_bytes(Encoding.DER, spki),
        "rsa_der_pkcs1": lambda: rsa_pub.public_bytes(Encoding.DER, pkcs1),
        "rsa_openssh": lambda: rsa_pub.public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH),
        "rsa_jwk_json": lambda: json.dumps({**public_jwk(rsa_pub), "kid": "rsa-1"}).encode(),
        "rsa_modulus_bytes": lambda: base64.urlsafe_b64decode(public_jwk(rsa_pub)["n"] + "=="),
        "ec_pem_spki": lambda: ec_pub.public_bytes(Encoding.PEM, spki),
        "ec_x962_point": lambda: ec_pub.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint),
        "ed25519_raw": lambda: private_key("ed").public_key().public_bytes(Encoding.Raw, raw),
    }


for _form, _make in _public_forms().items():
    add(f"alg_confusion_hs256_{_form}", CONFUSION_SOURCE, "token.alg_not_allowed",
        lambda k, m=_make: k.token("HS256", key=m()))
    add(f"alg_confusion_hs256_{_form}_with_hmac_configured", CONFUSION_SOURCE, "token.signature_invalid",
        lambda k, m=_make: k.token("HS256", key=m()), config="hmac")
for _hs in ("HS384", "HS512"):
    add(f"alg_confusion_{_hs.lower()}_rsa_pem", CONFUSION_SOURCE, "token.alg_not_allowed",
        lambda k, h=_hs: k.token(h, key=_public_forms()["rsa_pem_spki"]()))
add("alg_confusion_kid_of_oct_key_in_jwks", f"{CONFUSION_SOURCE}; RFC 7517 §4.1 (oct keys)", "token.alg_not_allowed",
    lambda k: k.token("HS256", key=b"known-to-everyone", kid="oct-1"))
add("hs256_empty_secret", f"{JWT_TOOL} -X (blank password); {PS}", "token.alg_not_allowed",
    lambda k: k.token("HS256", key=b""))

# --- alg does not fit the selected key ------------------------------------------------------------
# RFC 8725 §3.1 ("each key MUST be used with exactly one algorithm"); CVE-2022-29217.
MISMATCH = f"{RFC8725} §3.1; CVE-2022-29217 (PyJWT)"
add("rs256_with_ec_kid", MISMATCH, "token.alg_key_mismatch", lambda k: k.token("RS256", "evil-rsa", "ec-1"))
add("es256_with_rsa_kid", MISMATCH, "token.alg_key_mismatch", lambda k: k.token("ES256", "evil-ec", "rsa-1"))
add("es384_with_p256_kid", MISMATCH, "token.alg_key_mismatch",
    lambda k: k.raw({"alg": "ES384", "kid": "ec-1"}, k.payload(), "ES256", "ec"))
add("eddsa_with_rsa_kid", MISMATCH, "token.alg_key_mismatch", lambda k: k.token("EdDSA", "ed", "rsa-1"))
add("ps256_with_key_declaring_rs256", MISMATCH, "token.alg_key_mismatch", lambda k: k.token("PS256", "rsa", "rsa-1"))
add("es256k_not_in_allow_list", f"{RFC8725} §3.1", "token.alg_not_allowed",
    lambda k: k.raw({"alg": "ES256K", "kid": "ec-1"}, k.payload(), "ES256", "ec"))
add("jwe_key_management_alg_dir", f"{RFC8725} §3.1; RFC 7516", "token.alg_not_allowed",
    lambda k: k.raw({"alg": "dir", "enc": "A256GCM", "kid": "rsa-1"}, k.payload()))
add("jwe_key_management_alg_rsa_oaep", f"{RFC8725} §3.1; RFC 7516", "token.alg_not_allowed",
    lambda k: k.raw({"alg": "RSA-OAEP", "kid": "rsa-1"}, k.payload()))

# --- psychic and malformed signatures -------------------------------------------------------------
# CVE-2022-21449 (Java "psychic signatures"); RFC 7518 §3.4 (raw r||s); OWASP; jwt_tool -T (tamper).
PSYCHIC = f"CVE-2022-21449 (psychic ECDSA signatures); RFC 7518 §3.4; {RFC8725} §3.3-3.4"
_N256 = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def _with_sig(kit: Kit, alg: str, key: str, kid: str, sig: bytes) -> str:
    head, body, _ = segments(kit.token(alg, key, kid))
    return f"{head}.{body}.{b64(sig)}"


add("psychic_ecdsa_r_s_zero", PSYCHIC, "token.signature_invalid",
    lambda k: _with_sig(k, "ES256", "ec", "ec-1", bytes(64)))
add("psychic_ecdsa_r_s_order", PSYCHIC, "token.signature_invalid",
    lambda k: _with_sig(k, "ES256", "ec", "ec-1", _N256.to_bytes(32, "big") * 2))
add("ecdsa_r_zero_s_one", PSYCHIC, "token.signature_invalid",
    lambda k: _with_sig(k, "ES256", "ec", "ec-1", bytes(32) + (1).to_bytes(32, "big")))
add("ecdsa_signature_in_der_form", f"{PSYCHIC}; RFC 7518 §3.4 (DER is not JWS)", "token.signature_invalid",
    lambda k: _der_signature(k))
add("ecdsa_signature_truncated", PSYCHIC, "token.signature_invalid",
    lambda k: _with_sig(k, "ES256", "ec", "ec-1", base64.urlsafe_b64decode(segments(k.token("ES256", "ec", "ec-1"))[2]
                                                                           + "==")[:32]))
add("rsa_signature_stripped", f"{OWASP}; {PS} flawed signature verification", "token.signature_invalid",
    lambda k: _with_sig(k, "RS256", "rsa", "rsa-1", b""))
add("rsa_signature_all_zero", OWASP, "token.signature_invalid",
    lambda k: _with_sig(k, "RS256", "rsa", "rsa-1", bytes(256)))
add("rsa_signature_with_trailing_bytes", OWASP, "token.signature_invalid",
    lambda k: _with_sig(k, "RS256", "rsa", "rsa-1", sign_of(k.token()) + b"\0"))
add("eddsa_signature_all_zero", f"{PSYCHIC}; RFC 8032 §5.1.7", "token.signature_invalid",
    lambda k: _with_sig(k, "EdDSA", "ed", "ed-1", bytes(64)))
add("payload_changed_signature_kept", f"{PS} 'JWT authentication bypass via unverified signature'; {JWT_TOOL} -T",
    "token.signature_invalid", lambda k: _swap_payload(k))
add("signature_of_another_token", f"{OWASP} (token sidejacking / splicing)", "token.signature_invalid",
    lambda k: ".".join(segments(k.token(sub="mallory"))[:2] + segments(k.token())[2:]))


def sign_of(token: str) -> bytes:
    return base64.urlsafe_b64decode(segments(token)[2] + "==")


def _der_signature(kit: Kit) -> str:
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    raw = sign_of(kit.token("ES256", "ec", "ec-1"))
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    return _with_sig(kit, "ES256", "ec", "ec-1", der)


def _swap_payload(kit: Kit) -> str:
    head, _, sig = segments(kit.token())
    admin = kit.payload(resource_access={"app": {"roles": ["llm-admin"]}})
    return f"{head}.{b64(admin)}.{sig}"


# --- key injection through the header -------------------------------------------------------------
# RFC 8725 §3.10 (do not trust header-supplied keys); CVE-2018-0114 (node-jose, jwk);
# PortSwigger "jwk header injection", "jku header injection", "kid path traversal"; jwt_tool -X i, -X s.
INJECT = f"{RFC8725} §3.10; {PS} jwk/jku header injection; {JWT_TOOL} -X i / -X s; CVE-2018-0114 (node-jose)"


def _evil_jwk(kid: str) -> dict[str, Any]:
    return {**public_jwk(private_key("evil-rsa").public_key()), "kid": kid}


add("jwk_header_injection_new_kid", INJECT, "key.not_found",
    lambda k: k.token("RS256", "evil-rsa", "evil", {"jwk": _evil_jwk("evil")}))
add("jwk_header_injection_idp_kid", INJECT, "token.signature_invalid",
    lambda k: k.token("RS256", "evil-rsa", "rsa-1", {"jwk": _evil_jwk("rsa-1")}))
add("jwk_header_injection_no_kid", INJECT, "key.ambiguous",
    lambda k: k.token("RS256", "evil-rsa", DROP, {"jwk": _evil_jwk("evil")}))
for _member in ("jku", "x5u"):
    add(f"{_member}_header_injection_new_kid", INJECT, "key.not_found",
        lambda k, m=_member: k.token("RS256", "evil-rsa", "evil", {m: f"{k.attacker_url}/{m}/jwks.json"}))
    add(f"{_member}_header_injection_idp_kid", INJECT, "token.signature_invalid",
        lambda k, m=_member: k.token("RS256", "evil-rsa", "rsa-1", {m: f"{k.attacker_url}/{m}/jwks.json"}))
    add(f"{_member}_header_injection_no_kid", INJECT, "key.ambiguous",
        lambda k, m=_member: k.token("RS256", "evil-rsa", DROP, {m: f"{k.attacker_url}/{m}/jwks.json"}))
add("x5c_header_injection_self_signed", f"{INJECT}; RFC 7515 §4.1.6", "token.signature_invalid",
    lambda k: k.token("RS256", "evil-rsa", "rsa-1", {"x5c": [self_signed_cert_b64("evil-rsa")]}))
add("x5c_header_injection_no_kid", f"{INJECT}; RFC 7515 §4.1.6", "key.ambiguous",
    lambda k: k.token("RS256", "evil-rsa", DROP, {"x5c": [self_signed_cert_b64("evil-rsa")]}))
add("jku_pointing_at_the_idp_with_evil_kid", INJECT, "key.not_found",
    lambda k: k.token("RS256", "evil-rsa", "evil", {"jku": "https://idp.example.test/realms/acme/certs"}))

# --- kid --------------------------------------------------------------------------------------------
# PortSwigger "JWT authentication bypass via kid header path traversal"; jwt_tool -I -hc kid;
# OWASP (kid injection: SQL, command, path); RFC 7515 §4.1.4 (kid is a string).
KID = f"{PS} kid path traversal; {JWT_TOOL} -I -hc kid; {OWASP}"
for _name, _kid in (("path_traversal", "../../../../../../../dev/null"), ("sql_injection", "x' UNION SELECT 'AAAA';--"),
                    ("shell_injection", "rsa-1|touch /tmp/jwtgate-pwned"), ("command_substitution", "$(id)"),
                    ("nul_byte", "rsa-1\u0000"), ("url", "http://127.0.0.1:9/key"), ("lookalike", "rsа-1")):
    add(f"kid_{_name}_hs256", KID, "token.alg_not_allowed", lambda k, i=_kid: k.token("HS256", key=b"", kid=i))
    add(f"kid_{_name}_rs256", KID, "key.not_found", lambda k, i=_kid: k.token("RS256", "evil-rsa", i))
add("kid_path_traversal_hs256_with_hmac_configured", KID, "token.signature_invalid",
    lambda k: k.token("HS256", key=b"\0", kid="../../../../dev/null"), config="hmac")
add("kid_huge", KID, "key.not_found", lambda k: k.token("RS256", "evil-rsa", "k" * 6000))
for _name, _kid in (("number", 1), ("list", ["rsa-1"]), ("object_nosql", {"$ne": ""}), ("bool", True)):
    add(f"kid_{_name}", f"{KID}; RFC 7515 §4.1.4", "token.kid_invalid", lambda k, i=_kid: k.token(kid=i))
add("kid_null_several_keys", f"{KID}; RFC 7515 §4.1.4", "key.ambiguous", lambda k: k.token(kid=None))

# --- crit -------------------------------------------------------------------------------------------
CRIT = "RFC 7515 §4.1.11 (unknown crit MUST be rejected); RFC 7797 §6 (b64)"
add("crit_unknown_extension", CRIT, "token.crit_unsupported", lambda k: k.token(header={"crit": ["exp"], "exp": 1}))
add("crit_b64_false", CRIT, "token.crit_unsupported", lambda k: k.token(header={"crit": ["b64"], "b64": False}))
add("crit_empty_list", CRIT, "token.crit_unsupported", lambda k: k.token(header={"crit": []}))

# --- weak HMAC secrets ------------------------------------------------------------------------------
# RFC 7518 §3.2 (key >= hash size); RFC 8725 §3.5; PortSwigger "weak signing key"; jwt_tool -C -d (crack).
WEAK = f"RFC 7518 §3.2; {RFC8725} §2.2, §3.5; {PS} weak signing key; {JWT_TOOL} -C -d"
add("hmac_secret_from_wordlist", WEAK, "key.weak_secret", lambda k: k.token("HS256", key=WEAK_SECRET),
    config="weak-hmac")
add("hmac_secret_from_wordlist_hs512", WEAK, "key.weak_secret", lambda k: k.token("HS512", key=WEAK_SECRET),
    config="weak-hmac")

# --- unsafe keys in the JWKS ------------------------------------------------------------------------
# RFC 8725 §3.5; RFC 7517 §4.2 (use), §4.3; NIST SP 800-131A (RSA >= 2048); invalid-curve attacks
# (Jager, Schwenk, Somorovsky 2015; CVE-2017-16007 node-jose); RFC 8017 (e = 1 makes signatures forgeable).
JWKS = f"{RFC8725} §3.4; RFC 7517 §4.2-4.3; NIST SP 800-131A; CVE-2017-16007 (invalid curve)"
add("jwks_key_with_use_enc", JWKS, "key.not_found", lambda k: k.token("RS256", "evil-rsa", "enc-1"))
add("jwks_rsa_1024_bits", JWKS, "key.not_found", lambda k: k.token("RS256", "rsa-1024", "small-1"))
add("jwks_rsa_exponent_one_forged", JWKS, "key.not_found", lambda k: _forge_e1(k))
add("jwks_ec_point_off_curve", JWKS, "key.not_found", lambda k: k.token("ES256", "evil-ec", "off-curve"))
add("jwks_duplicate_kid", JWKS, "key.not_found", lambda k: k.token("RS256", "evil-rsa", "dup"))
add("jwks_oct_key_with_rs256", JWKS, "key.not_found", lambda k: k.token("RS256", "evil-rsa", "oct-1"))
add("jwks_key_with_private_member", JWKS, "key.not_found", lambda k: k.token("ES256", "evil-ec", "with-d"))


def _forge_e1(kit: Kit) -> str:
    head, body, _ = segments(kit.token(kid="e-one"))
    return f"{head}.{body}.{b64(pkcs1_padded_hash(f'{head}.{body}'.encode(), 256))}"
