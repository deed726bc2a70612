"""Strict compact-JWS parsing: every irregularity a lenient parser lets through is refused."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jwtgate.errors import TokenError
from jwtgate.tokens.compact import b64url_decode, decode_json_object, fingerprint, parse_token
from tests.kit.tokens import b64, mint, sign_raw

HEADER = {"alg": "RS256", "typ": "JWT", "kid": "k1"}


def test_valid_token_parses_into_its_parts() -> None:
    token = mint("RS256", sub="ada")
    parsed = parse_token(token)
    head, body, sig = token.split(".")
    assert parsed.header == HEADER
    assert parsed.claims["sub"] == "ada"
    assert parsed.signing_input == f"{head}.{body}".encode()
    assert len(parsed.signature) == 256
    assert parsed.segment_lengths == (len(head), len(body), len(sig))
    assert parsed.fingerprint == hashlib.sha256(token.encode()).hexdigest()[:12] == fingerprint(token)


def test_repr_never_contains_the_token() -> None:
    token = mint("RS256")
    assert token not in repr(parse_token(token))


def _with_segment(token: str, index: int, segment: str) -> str:
    parts = token.split(".")
    parts[index] = segment
    return ".".join(parts)


def _shape_cases() -> list[object]:
    token = mint("RS256")
    head, body, sig = token.split(".")
    return [
        pytest.param(
            f"{head}.{body}.{sig}.{sig}.{sig}",
            "token.encrypted",
            "encrypted tokens (JWE) are not supported",
            id="jwe-five-segments",
        ),
        pytest.param(
            f"{head}.{body}", "token.malformed", "3 dot-separated segments, this one has 2", id="two-segments"
        ),
        pytest.param(f"{token}.{sig}", "token.malformed", "this one has 4", id="four-segments"),
        pytest.param("", "token.malformed", "the token is empty", id="empty-token"),
        pytest.param(f"Bearer {token}", "token.malformed", "contains whitespace", id="bearer-prefix-left-in"),
        pytest.param(f".{body}.{sig}", "token.malformed", "header segment is empty", id="empty-header"),
        pytest.param(f"{head}..{sig}", "token.malformed", "payload segment is empty", id="empty-payload"),
        pytest.param(_with_segment(token, 1, body + "="), "token.malformed", "padding '='", id="padding"),
        pytest.param(
            _with_segment(token, 1, body[:10] + " " + body[10:]),
            "token.malformed",
            "whitespace",
            id="whitespace",
        ),
        pytest.param(
            _with_segment(token, 2, sig[:10] + "\n" + sig[10:]),
            "token.malformed",
            "whitespace",
            id="newline-in-signature",
        ),
        pytest.param(
            _with_segment(token, 1, body.replace("-", "+").replace("_", "/") + "+/"),
            "token.malformed",
            "character '+'",
            id="standard-base64-alphabet",
        ),
        pytest.param(
            _with_segment(token, 1, body + "é"), "token.malformed", "character 'é'", id="non-ascii-character"
        ),
        pytest.param(
            _with_segment(token, 1, b64(b'{"a":1}')[:-1] + "x"),
            "token.malformed",
            "not canonical",
            id="non-canonical-trailing-bits",
        ),
        pytest.param(
            _with_segment(token, 1, body + "A" * ((1 - len(body)) % 4 or 4)),
            "token.malformed",
            "impossible base64url length",
            id="length-one-mod-four",
        ),
    ]


@pytest.mark.parametrize(("token", "code", "text"), _shape_cases())
def test_irregular_shapes_are_refused(token: str, code: str, text: str) -> None:
    with pytest.raises(TokenError) as info:
        parse_token(token)
    assert (info.value.code, text in info.value.message) == (code, True), info.value.message


def test_size_cap() -> None:
    token = mint("RS256", blob="x" * 20_000)
    with pytest.raises(TokenError) as info:
        parse_token(token)
    assert info.value.code == "token.too_large"
    assert "over the limit of 16384" in info.value.message
    assert parse_token(token, max_bytes=64 * 1024).claims["blob"] == "x" * 20_000


def _payload_cases() -> list[object]:
    return [
        pytest.param(b'{"sub":"a","sub":"b"}', "duplicate member name(s) 'sub'", id="duplicate-json-members"),
        pytest.param(
            b'{"realm_access":{"roles":["u"],"roles":["admin"]}}',
            "duplicate member name(s) 'roles'",
            id="duplicate-nested-members",
        ),
        pytest.param('{"sub":"a"}'.encode("utf-16-le"), "UTF-16 or UTF-32", id="utf16-payload"),
        pytest.param('{"sub":"a"}'.encode("utf-16"), "UTF-16 or UTF-32", id="utf16-with-bom"),
        pytest.param('{"sub":"a"}'.encode("utf-32-be"), "UTF-16 or UTF-32", id="utf32-payload"),
        pytest.param(b'\xef\xbb\xbf{"sub":"a"}', "byte-order mark", id="bom"),
        pytest.param(b'{"sub":"\xc3\x28"}', "not valid UTF-8", id="invalid-utf8"),
        pytest.param(b'{"exp":NaN}', "NaN is not valid JSON", id="nan-constant"),
        pytest.param(b'{"exp":Infinity}', "Infinity is not valid JSON", id="infinity-constant"),
        pytest.param(b'["sub"]', "JSON list, not an object", id="top-level-array"),
        pytest.param(b'"sub"', "JSON str, not an object", id="top-level-string"),
        pytest.param(b"42", "JSON int, not an object", id="top-level-number"),
        pytest.param(b'{"sub":"a"}{"sub":"admin"}', "Extra data", id="two-objects-concatenated"),
        pytest.param(b'{"sub":"a"', "not valid JSON", id="truncated-json"),
        pytest.param(b'{"a":' * 5000 + b"1" + b"}" * 5000, "not valid JSON", id="deep-nesting"),
        pytest.param(b'{"sub":"a\x01"}', "not valid JSON", id="raw-control-character"),
    ]


@pytest.mark.parametrize(("payload", "text"), _payload_cases())
def test_irregular_payload_json_is_refused_even_when_signed(payload: bytes, text: str) -> None:
    token = sign_raw(HEADER, payload)
    with pytest.raises(TokenError) as info:
        parse_token(token, max_bytes=64 * 1024)
    assert info.value.code == "token.malformed"
    assert text in info.value.message
    assert "the payload" in info.value.message


def test_irregular_header_json_is_refused() -> None:
    token = sign_raw(b'{"alg":"RS256","alg":"none"}', {"sub": "a"})
    with pytest.raises(TokenError) as info:
        parse_token(token)
    assert "the header is not valid JSON: duplicate member name(s) 'alg'" in info.value.message


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(b' {"sub":"a"}\n', id="surrounding-whitespace"),
        pytest.param(b'{\n  "sub": "a"\n}', id="pretty-printed"),
        pytest.param('{"name":"Zoë 🦊"}'.encode(), id="utf8-multibyte"),
    ],
)
def test_valid_json_variants_are_accepted(payload: bytes) -> None:
    assert isinstance(parse_token(sign_raw(HEADER, payload)).claims, dict)


def test_mutating_a_parsed_header_does_not_leak_into_the_next_parse() -> None:
    token = mint("RS256")
    parse_token(token).header["alg"] = "none"
    assert parse_token(token).header["alg"] == "RS256"


def test_non_text_token_is_refused() -> None:
    with pytest.raises(TokenError) as info:
        parse_token(b"a.b.c")  # type: ignore[arg-type]
    assert info.value.message == "a token must be text, not bytes"


@given(st.binary(max_size=64))
def test_b64url_decode_accepts_exactly_the_canonical_encoding(data: bytes) -> None:
    encoded = b64(data)
    assert b64url_decode(encoded) == data


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", max_size=40))
def test_b64url_decode_is_canonical_or_refuses(segment: str) -> None:
    try:
        data = b64url_decode(segment)
    except TokenError as exc:
        assert exc.code == "token.malformed"
    else:
        assert b64(data) == segment  # re-encoding gives the same string


@settings(max_examples=300)
@given(st.text(max_size=200))
def test_random_text_raises_only_token_error(text: str) -> None:
    try:
        parse_token(text)
    except TokenError as exc:
        assert exc.code.startswith("token.")


@settings(max_examples=300)
@given(st.binary(max_size=120))
def test_random_payload_bytes_raise_only_token_error(payload: bytes) -> None:
    try:
        value = decode_json_object(payload, "payload")
    except TokenError as exc:
        assert exc.code == "token.malformed"
    else:
        assert isinstance(value, dict)
        assert json.loads(payload) == value
