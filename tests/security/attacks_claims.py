"""Attacks on the encoding, the time claims, issuer and audience, and the claims decide() reads.

Every token here is signed with the IdP's real key: the refusal comes from the rule, not the signature.
"""

from __future__ import annotations

import json
from typing import Any

from tests.kit.tokens import DROP, b64, dumps
from tests.security.kit import AUD, ISS, ROLES_PATH, Kit
from tests.security.table import OWASP, PS, RFC8725, add, segments

# --- time claims ------------------------------------------------------------------------------------
# RFC 7519 §2 (NumericDate is a JSON number), §4.1.4-4.1.6; OWASP (token expiry).
TIME = f"RFC 7519 §2 NumericDate, §4.1.4-4.1.6; {OWASP}"
for _name, _value in (("string", "9999999999"), ("bool_true", True), ("list", [9999999999]),
                      ("object", {"$gt": 0}), ("int_2_64", 2**64)):
    add(f"exp_as_{_name}", TIME, "token.claim_type", lambda k, v=_value: k.token(exp=v))
add("exp_huge_float_overflows_to_inf", TIME, "token.claim_type",
    lambda k: k.raw({"alg": "RS256", "kid": "rsa-1"}, k.payload().replace(b'"exp":', b'"exp":1e400,"x":')))
add("exp_nan_literal", TIME, "token.malformed",
    lambda k: k.raw({"alg": "RS256", "kid": "rsa-1"}, k.payload().replace(b'"exp":', b'"exp":NaN,"x":')))
add("exp_null", TIME, "token.claim_missing", lambda k: k.token(exp=None))
add("exp_missing", TIME, "token.claim_missing", lambda k: k.token(exp=DROP))
add("exp_in_the_past", TIME, "token.expired", lambda k: k.token(exp=int(k.now) - 3600))
add("exp_negative_huge", TIME, "token.expired", lambda k: k.token(exp=-1e300))
add("nbf_as_string", TIME, "token.claim_type", lambda k: k.token(nbf="0"))
add("nbf_in_the_future", TIME, "token.not_yet_valid", lambda k: k.token(nbf=int(k.now) + 3600))
add("iat_as_bool", TIME, "token.claim_type", lambda k: k.token(iat=False))
add("iat_far_in_the_future", TIME, "token.issued_in_future", lambda k: k.token(iat=int(k.now) + 86400 * 365))

# --- issuer and audience ----------------------------------------------------------------------------
# RFC 8725 §3.8 (validate iss), §3.9 (validate aud); RFC 7519 §4.1.1, §4.1.3; OWASP; Unicode TR #36
# (confusables) and UTS #39.
AUDS = f"{RFC8725} §2.7, §3.9; RFC 7519 §4.1.3; {OWASP}; Unicode TR 36 confusables"
ISSS = f"{RFC8725} §2.7, §3.8; RFC 7519 §4.1.1; {OWASP}; Unicode TR 36 confusables"
for _name, _aud in (("other_app", "other-app"), ("list_without_ours", ["a", "b"]), ("upper_case", AUD.upper()),
                    ("trailing_slash", AUD + "/"), ("trailing_space", AUD + " "), ("cyrillic_lookalike", "llm-gаteway"),
                    ("fullwidth_lookalike", "ｌｌｍ-gateway"), ("zero_width_space", AUD + "\u200b"),
                    ("empty_list", []), ("prefix", "llm-gateway-evil")):
    add(f"aud_{_name}", AUDS, "token.audience_mismatch", lambda k, a=_aud: k.token(aud=a))
add("aud_missing", AUDS, "token.audience_missing", lambda k: k.token(aud=DROP))
add("aud_as_object", AUDS, "token.claim_type", lambda k: k.token(aud={AUD: True}))
add("aud_list_with_nested_list", AUDS, "token.claim_type", lambda k: k.token(aud=[[AUD]]))
add("aud_as_number", AUDS, "token.claim_type", lambda k: k.token(aud=1))
for _name, _iss in (("trailing_slash", ISS + "/"), ("upper_case_host", ISS.replace("idp.example", "IDP.EXAMPLE")),
                    ("http_scheme", ISS.replace("https", "http")), ("cyrillic_lookalike", ISS.replace("acme", "аcme")),
                    ("as_list", [ISS]), ("missing", DROP), ("attacker", "https://evil.example.test/realms/acme"),
                    ("with_userinfo", ISS.replace("https://", "https://idp.example.test@"))):
    add(f"iss_{_name}", ISSS, "token.issuer_unknown", lambda k, i=_iss: k.token(iss=i))

# --- duplicate members, encodings, base64url ------------------------------------------------------------
# RFC 7515 §5.2 (parsers must agree); RFC 8259 §4; Bishop Fox "An Exploration of JSON
# Interoperability Vulnerabilities" (2021); RFC 7515 §2 and §3.1 (base64url without padding or whitespace).
DUPES = "RFC 7515 §5.2 / RFC 7519 §4 (duplicate names MUST be rejected or the last used); RFC 8259 §4; " \
        "Bishop Fox JSON interoperability (2021)"
ENC = f"RFC 8259 §8.1 (UTF-8, no BOM); RFC 7515 §2 (base64url, no padding); {RFC8725} §2.6, §3.7; Bishop Fox (2021)"


def _dup_payload(k: Kit, member: str, first: str, second: str) -> bytes:
    body = k.payload()
    return body[:-1] + f',"{member}":{first},"{member}":{second}}}'.encode()


add("duplicate_exp_in_payload", DUPES, "token.malformed",
    lambda k: k.raw({"alg": "RS256", "kid": "rsa-1"}, _dup_payload(k, "x", "1", "2").replace(b'"x"', b'"exp"')))
add("duplicate_iss_in_payload", DUPES, "token.malformed",
    lambda k: k.raw({"alg": "RS256", "kid": "rsa-1"}, _dup_payload(k, "iss", json.dumps(ISS), '"https://evil"')))
add("duplicate_alg_in_header", DUPES, "token.malformed",
    lambda k: k.raw(b'{"alg":"none","alg":"RS256","kid":"rsa-1"}', k.payload()))
add("duplicate_via_unicode_escape", DUPES, "token.malformed",
    lambda k: k.raw({"alg": "RS256", "kid": "rsa-1"}, k.payload()[:-1] + b',"\\u0061ud":"other"}'))
add("duplicate_roles_object", DUPES, "token.malformed",
    lambda k: k.raw({"alg": "RS256", "kid": "rsa-1"},
                    k.payload()[:-1] + b',"resource_access":{"app":{"roles":["llm-admin"]}}}'), model="big")
add("payload_with_utf8_bom", ENC, "token.malformed",
    lambda k: k.raw({"alg": "RS256", "kid": "rsa-1"}, b"\xef\xbb\xbf" + k.payload()))
add("header_with_utf8_bom", ENC, "token.malformed",
    lambda k: k.raw(b'\xef\xbb\xbf{"alg":"RS256","kid":"rsa-1"}', k.payload()))
add("payload_utf16le", ENC, "token.malformed",
    lambda k: k.raw({"alg": "RS256", "kid": "rsa-1"}, json.dumps(k.claims()).encode("utf-16-le")))
add("payload_utf16_with_bom", ENC, "token.malformed",
    lambda k: k.raw({"alg": "RS256", "kid": "rsa-1"}, json.dumps(k.claims()).encode("utf-16")))
add("payload_latin1_bytes", ENC, "token.malformed",
    lambda k: k.raw({"alg": "RS256", "kid": "rsa-1"}, k.payload()[:-1] + b',"name":"Andr\xe9"}'))
add("payload_overlong_utf8", ENC, "token.malformed",
    lambda k: k.raw({"alg": "RS256", "kid": "rsa-1"}, k.payload()[:-1] + b',"p":"\xc0\xae\xc0\xae"}'))
add("payload_json_array", ENC, "token.malformed", lambda k: k.raw({"alg": "RS256", "kid": "rsa-1"}, b"[1,2]"))
add("payload_trailing_garbage", ENC, "token.malformed",
    lambda k: k.raw({"alg": "RS256", "kid": "rsa-1"}, k.payload() + b"garbage"))
add("payload_deeply_nested", f"{ENC}; CWE-674", "token.malformed",
    lambda k: k.raw({"alg": "RS256", "kid": "rsa-1"}, k.payload()[:-1] + b',"n":' + b"[" * 5000 + b"]" * 5000 + b"}"))


def _pad(token: str) -> str:
    return ".".join(s + "=" * (-len(s) % 4) for s in segments(token))


add("base64_padding", ENC, "token.malformed", lambda k: _pad(k.token(sub="ab")))
add("base64_standard_alphabet", ENC, "token.malformed",
    lambda k: k.token(sub="\u00ff\u00fe\u00fb\u00ff").replace("-", "+").replace("_", "/"))
add("base64_noncanonical_trailing_bits", ENC, "token.malformed", lambda k: _noncanonical(k.token()))
add("whitespace_inside_payload", ENC, "token.malformed", lambda k: _insert(k.token(), 1, " "), cli="usage")
add("tab_inside_signature", ENC, "token.malformed", lambda k: _insert(k.token(), 2, "\t"), cli="usage")
add("newline_inside_payload", ENC, "token.malformed", lambda k: _insert(k.token(), 1, "\n"), cli="usage",
    header_safe=False)
add("leading_and_trailing_whitespace", ENC, "token.malformed", lambda k: f" {k.token()} ", cli="stripped")
add("four_segments", ENC, "token.malformed", lambda k: k.token() + ".AAAA")
add("two_segments", ENC, "token.malformed", lambda k: ".".join(segments(k.token())[:2]))
add("empty_header_segment", ENC, "token.malformed", lambda k: "." + ".".join(segments(k.token())[1:]))


def _insert(token: str, index: int, text: str) -> str:
    parts = segments(token)
    parts[index] = parts[index][:10] + text + parts[index][10:]
    return ".".join(parts)


def _noncanonical(token: str) -> str:
    """Flip unused low bits of the last character: decodes to the same bytes in lax decoders."""
    parts = segments(token)
    sig = parts[2]
    if len(sig) % 4 == 0:
        return token + "="
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(sig[-1])
    parts[2] = sig[:-1] + alphabet[last | (1 if len(sig) % 4 == 3 else 3)]
    return ".".join(parts) if parts[2] != sig else ".".join([*parts[:2], sig[:-1] + alphabet[last ^ 1]])


# --- size, nesting, JWE, typ -----------------------------------------------------------------------
# Size limits against DoS (OWASP); CVE-2023-49290 / CVE-2024-33664 (python-jose JWE
# decompression bomb); RFC 7519 §5.2 and §7.2 (nested JWT, cty); RFC 8725 §3.11 (explicit typing);
# RFC 9068 §2.1 (at+jwt); RFC 8417 (secevent+jwt); RFC 9449 (dpop+jwt); OIDC back-channel logout (logout+jwt).
SIZE = f"{OWASP} (DoS); CVE-2024-33664 (python-jose JWE bomb); CVE-2023-49290 (lestrrat-go/jwx p2c DoS)"
NEST = "RFC 7519 §5.2, §7.2 (nested JWT, cty); RFC 7516 (JWE); RFC 8725 §2.8 (cross-JWT confusion)"
TYP = f"{RFC8725} §3.11 (explicit typing), §2.8; RFC 9068 §2.1; RFC 8417; RFC 9449"
add("oversize_header", SIZE, "token.too_large", lambda k: k.token(header={"x": "A" * 20_000}))
add("oversize_payload", SIZE, "token.too_large", lambda k: k.token(pad="B" * 100_000))
add("jwe_compact_five_segments", NEST, "token.encrypted",
    lambda k: ".".join([b64(dumps({"alg": "RSA-OAEP", "enc": "A256GCM", "kid": "rsa-1"})), *["AAAA"] * 4]))
add("jwe_pbes2_huge_p2c", f"{NEST}; CVE-2023-49290", "token.encrypted",
    lambda k: ".".join([b64(dumps({"alg": "PBES2-HS256+A128KW", "p2c": 2**31, "enc": "A128GCM"})), "", *["AA"] * 3]))
add("nested_jwt_payload_is_a_token", NEST, "token.malformed",
    lambda k: k.raw({"alg": "RS256", "kid": "rsa-1", "cty": "JWT"}, k.token().encode()))
add("nested_jwt_outer_alg_none", NEST, "token.malformed",
    lambda k: k.raw({"alg": "none", "cty": "JWT"}, k.token().encode(), "none", None))
for _typ in ("logout+jwt", "secevent+jwt", "dpop+jwt", "JWE", "id_token+jwt"):
    add(f"typ_{_typ.replace('+', '_').lower()}", TYP, "token.typ_invalid", lambda k, t=_typ: k.token(header={"typ": t}))
add("typ_not_a_string", TYP, "token.typ_invalid", lambda k: k.token(header={"typ": ["JWT"]}))

# --- claim-path confusion and look-alike roles (verified tokens, refused by decide) -----------------------
# LiteLLM roles_jwt_field dotted paths (docs/reference litellm-jwt.md); Unicode TR 36 confusables; OWASP
# (authorization on claims); PortSwigger JWT labs (privilege escalation through claims).
PATHS = f"LiteLLM roles_jwt_field dotted paths; Unicode TR 36 confusables; {OWASP}; {PS}"


def _roles(*values: Any) -> dict[str, Any]:
    return {"app": {"roles": list(values)}}


add("claim_literally_named_like_the_path", PATHS, "policy.model_not_allowed",
    lambda k: k.raw({"alg": "RS256", "kid": "rsa-1"}, dumps({**k.claims(), ROLES_PATH: ["llm-admin"]})), model="big")
add("claim_literally_named_like_the_path_alone", PATHS, "policy.no_role",
    lambda k: k.raw({"alg": "RS256", "kid": "rsa-1"},
                    dumps({**k.claims(resource_access=DROP), ROLES_PATH: ["llm-admin"]})))
for _name, _role in (("cyrillic", "llm-аdmin"), ("trailing_space", "llm-admin "), ("upper_case", "LLM-ADMIN"),
                     ("zero_width", "llm-admin\u200b"), ("fullwidth", "ｌｌｍ-admin"), ("nul", "llm-admin\u0000")):
    add(f"role_lookalike_{_name}", PATHS, "policy.no_role", lambda k, r=_role: k.token(resource_access=_roles(r)))
add("roles_as_object", PATHS, "policy.no_role", lambda k: k.token(resource_access={"app": {"roles": {"llm-admin": 1}}}))
add("roles_under_another_client", PATHS, "policy.no_role",
    lambda k: k.token(resource_access={"other": {"roles": ["llm-admin"]}}))
add("roles_nested_one_level_deeper", PATHS, "policy.no_role",
    lambda k: k.token(resource_access={"app": {"roles": {"roles": ["llm-admin"]}}}))
add("admin_scope_in_scp_claim", PATHS, "policy.no_role",
    lambda k: k.token(resource_access=DROP, scp=["litellm_proxy_admin"]))
add("admin_scope_lookalike", PATHS, "policy.no_role",
    lambda k: k.token(resource_access=DROP, scope="litellm_proxy_admin\u200b"))
add("user_escalates_to_big_model", PATHS, "policy.model_not_allowed", lambda k: k.token(), model="big")
add("lone_surrogate_in_subject", f"{PATHS}; RFC 8259 §8.2", "policy.model_not_allowed",
    lambda k: k.raw({"alg": "RS256", "kid": "rsa-1"}, k.payload(sub="x")[:-1] + b',"name":"\\ud800"}'), model="big")
add("audience_list_with_ours_is_no_escalation", AUDS, "policy.model_not_allowed",
    lambda k: k.token(aud=["other", AUD]), model="big")
