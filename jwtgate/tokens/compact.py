"""Strict parsing of a compact JWS into header, claims, signing input and signature.

Nothing is verified here; everything a lenient parser would let through is refused: a JWE, padding,
whitespace or characters outside the base64url alphabet, non-canonical base64url, a BOM, UTF-16/32,
invalid UTF-8, JSON that is not an object, duplicate member names, NaN and Infinity.
"""

from __future__ import annotations

import binascii
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jwtgate.config import schema as S
from jwtgate.errors import TokenError

DEFAULT_MAX_TOKEN_BYTES: int = S.default(S.JWTGATE, "max_token_bytes")

_sha256 = hashlib.sha256
_SEGMENT = re.compile(r"[A-Za-z0-9_-]*")
_TO_STD = bytes.maketrans(b"-_+/=", b"+/!!!")
_PAD = (b"", b"===", b"==", b"=")
# Last character of a segment whose unused low bits are zero, by ``len(segment) % 4``.
_CANONICAL_LAST = {2: frozenset("AQgw"), 3: frozenset("AEIMQUYcgkosw048")}


@dataclass(frozen=True, slots=True)
class ParsedToken:
    """A compact JWS split and decoded, not yet verified."""

    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes
    segment_lengths: tuple[int, int, int]
    fingerprint: str


def fingerprint(token: str | bytes) -> str:
    """A short, log-safe identifier of a token: the first 12 hex digits of its sha256."""
    data = token.encode("utf-8", "surrogatepass") if isinstance(token, str) else token
    return _sha256(data).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class TokenFacts:
    """What a log may say about a token that was refused: its fingerprint, and the (unverified) kid and iss."""

    fingerprint: str
    kid: str | None
    iss: str | None


def token_facts(token: str, *, max_bytes: int = DEFAULT_MAX_TOKEN_BYTES) -> TokenFacts:
    """Fingerprint always; kid and iss when the token parses (strings, cut to 200 characters). Never raises."""
    try:
        parsed = parse_token(token, max_bytes=max_bytes)
    except TokenError:
        return TokenFacts(fingerprint(token), None, None)
    return TokenFacts(parsed.fingerprint, _loggable(parsed.header.get("kid")), _loggable(parsed.claims.get("iss")))


def _loggable(value: Any) -> str | None:
    return value[:200] if isinstance(value, str) else None


def _malformed(message: str, code: str = "token.malformed") -> TokenError:
    return TokenError(message, code=code)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        names = [k for k, _ in pairs]
        dupes = sorted({k for k in names if names.count(k) > 1})
        raise ValueError(
            f"duplicate member name(s) {', '.join(map(repr, dupes))} (parsers disagree on which wins)"
        )
    return obj


# No parse_float hook: it would push every number through Python (~50% slower). A number too large for
# a float (1e400) becomes inf, which the time-claim checks refuse; NaN/Infinity literals are refused here.
_DECODER = json.JSONDecoder(object_pairs_hook=_unique_object, parse_constant=_no_constant)
_SCAN: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]
_JSON_WS = " \t\n\r"
# Header segments repeat across tokens of one issuer key: remember a few parsed ones (copied on use).
_HEADER_MEMO: dict[str, dict[str, Any]] = {}
_HEADER_MEMO_SIZE = 64


def b64url_decode(segment: str, name: str = "segment") -> bytes:
    """Decode one strict, canonical, unpadded base64url segment."""
    rest = len(segment) & 3
    try:
        # '+', '/' and '=' become '!', which strict mode refuses, as it refuses whitespace and the rest.
        data = binascii.a2b_base64(segment.encode("ascii").translate(_TO_STD) + _PAD[rest], strict_mode=True)
    except (UnicodeEncodeError, binascii.Error):
        raise _b64_error(segment, name) from None
    if rest and segment[-1] not in _CANONICAL_LAST[rest]:
        if name in ("header", "payload") and not data.lstrip(_JSON_WS.encode()).startswith(b"{"):
            raise _malformed(f"the {name} segment is not base64url-encoded JSON; is this a JWT?")
        raise _malformed(f"the {name} segment is not canonical base64url (non-zero trailing bits)")
    return data


def _b64_error(segment: str, name: str) -> TokenError:
    bad = next((ch for ch in segment if _SEGMENT.fullmatch(ch) is None), None)
    if bad is None:
        return _malformed(f"the {name} segment has an impossible base64url length ({len(segment)})")
    what = "padding '='" if bad == "=" else "whitespace" if bad.isspace() else f"character {bad!r}"
    return _malformed(
        f"the {name} segment contains {what}; a compact JWT uses unpadded base64url (A-Z a-z 0-9 - _) only"
    )


def decode_json_object(data: bytes, name: str) -> dict[str, Any]:
    """Decode strict UTF-8 JSON whose top level is an object."""
    try:  # fast path: UTF-8 text starting with "{", the C scanner directly, then only whitespace
        text = data.decode("utf-8")
        if text[:1] == "{":
            value, end = _SCAN(text, 0)
            if end == len(text) or not text[end:].strip(_JSON_WS):
                return value  # type: ignore[no-any-return]
    except (ValueError, RecursionError, StopIteration):
        pass
    return _decode_slow(data, name)


def _decode_slow(data: bytes, name: str) -> dict[str, Any]:
    """The careful path: leading whitespace is fine, anything else gets a precise message."""
    if data.startswith(b"\xef\xbb\xbf"):
        raise _malformed(f"the {name} starts with a byte-order mark; JWT JSON must be UTF-8 without a BOM")
    if b"\x00" in data:
        raise _malformed(f"the {name} contains NUL bytes (UTF-16 or UTF-32?); JWT JSON must be UTF-8")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if not data.lstrip(_JSON_WS.encode()).startswith(b"{"):
            raise _malformed(f"the {name} segment is not base64url-encoded JSON; is this a JWT?") from None
        raise _malformed(f"the {name} is not valid UTF-8 (byte {exc.start})") from None
    try:
        value = _DECODER.decode(text)
    except (ValueError, RecursionError) as exc:
        raise _malformed(f"the {name} is not valid JSON: {str(exc)[:120]}") from None
    if not isinstance(value, dict):
        raise _malformed(f"the {name} is JSON {type(value).__name__}, not an object")
    return value


def _shape_error(token: str, max_bytes: int, count: int) -> TokenError:
    if len(token) > max_bytes:
        return _malformed(
            f"token is {len(token)} characters, over the limit of {max_bytes}; "
            "raise jwtgate.max_token_bytes if your IdP really issues tokens this large",
            "token.too_large",
        )
    if count == 5:
        return _malformed(
            "encrypted tokens (JWE) are not supported; send a signed JWT (JWS)", "token.encrypted"
        )
    if not token.strip():
        return _malformed("the token is empty")
    return _malformed(
        f"a compact JWT has 3 dot-separated segments, this one has {count}; "
        "pass the token itself, without 'Bearer ' or quotes"
    )


def parse_token(token: str, *, max_bytes: int = DEFAULT_MAX_TOKEN_BYTES) -> ParsedToken:
    """Split and decode a compact JWS strictly; raise ``TokenError`` on anything irregular."""
    if type(token) is not str:
        raise _malformed(f"a token must be text, not {type(token).__name__}")
    parts = token.split(".")
    if len(parts) != 3 or len(token) > max_bytes:
        raise _shape_error(token, max_bytes, len(parts))
    head, payload, sig = parts
    memo = _HEADER_MEMO.get(head)
    header = dict(memo) if memo is not None else _parse_header(head)
    if not payload:
        raise _malformed("the payload segment is empty")
    return ParsedToken(
        header,
        decode_json_object(b64url_decode(payload, "payload"), "payload"),
        f"{head}.{payload}".encode("ascii"),
        b64url_decode(sig, "signature"),
        (len(head), len(payload), len(sig)),
        _sha256(token.encode("utf-8", "surrogatepass")).hexdigest()[:12],
    )


def _parse_header(segment: str) -> dict[str, Any]:
    if not segment:
        raise _malformed("the header segment is empty")
    header = decode_json_object(b64url_decode(segment, "header"), "header")
    if len(_HEADER_MEMO) >= _HEADER_MEMO_SIZE:
        _HEADER_MEMO.clear()
    _HEADER_MEMO[segment] = dict(header)
    return header
