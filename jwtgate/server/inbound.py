"""What a client asked for: its token, the route, and the model (from the path, a JSON or form body).

Pure functions over bytes and ASGI header lists; nothing here does I/O. Anything ambiguous about the
model (duplicate keys, a non-string value, an unreadable body) is refused rather than guessed: a guess
that differs from the upstream's reading would let a caller use a model it may not.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from jwtgate.server.types import Headers

# POST endpoints whose body names the model (after an optional /v1 or /openai/v1 prefix).
BODY_MODEL_ENDPOINTS = frozenset({
    "chat/completions", "completions", "embeddings", "responses", "moderations", "messages",
    "messages/count_tokens", "rerank", "images/generations", "images/edits", "images/variations",
    "audio/transcriptions", "audio/translations", "audio/speech",
})
_PREFIXES = ("/openai/v1/", "/v1/", "/v2/", "/")
_PATH_MODEL = re.compile(r"^/(?:openai/deployments|engines)/([^/]+)/")
_GOOGLE_MODEL = re.compile(r"^/(?:v1beta/)?models/([^/:]+):[A-Za-z]+$")


class BadRequest(Exception):
    """A request jwtgate refuses before any decision (400/413/415), with a stable code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True, slots=True)
class Body:
    """A request body and the model it names: ``kind`` is json, form, multipart or raw."""

    data: bytes
    kind: str
    model: str | None
    parsed: dict[str, object] | None = None


MAX_HEADER_LINE = 8 * 1024  # nginx's large_client_header_buffers (4 x 8k): one header line, and all of them
MAX_HEADERS = 32 * 1024
# Bounded by the token cap instead (token.too_large, 401), and never forwarded upstream.
CREDENTIAL_HEADERS = frozenset({b"authorization", b"x-api-key"})


def check_headers(headers: list[tuple[bytes, bytes]], http_version: str) -> None:
    """RFC 9112 rules the HTTP parser leaves to the server: exactly one Host (HTTP/1.1), bounded headers.

    The parser (llhttp) already refuses bad framing: Content-Length with Transfer-Encoding, duplicate
    or invalid Content-Length, bad chunk sizes, obs-fold.
    """
    hosts = size = 0
    for key, value in headers:
        size += len(key) + len(value)
        if key == b"host":
            hosts += 1
    if size > MAX_HEADER_LINE:  # else no line can be too long either
        _check_sizes(headers)
    if hosts > 1 or (hosts == 0 and http_version != "1.0"):
        raise BadRequest(400, "request.bad_host", "an HTTP/1.1 request needs exactly one Host header"
                         if hosts == 0 else "the request has more than one Host header")


def _check_sizes(headers: list[tuple[bytes, bytes]]) -> None:
    size = 0
    for key, value in headers:
        if key in CREDENTIAL_HEADERS:
            continue
        line = len(key) + len(value)
        if line > MAX_HEADER_LINE:
            raise BadRequest(400, "request.header_too_large", f"header {key[:40].decode('latin-1')!r} is longer "
                             f"than {MAX_HEADER_LINE} bytes")
        size += line
    if size > MAX_HEADERS:
        raise BadRequest(400, "request.header_too_large", f"the request headers are larger than {MAX_HEADERS} bytes")


def header(headers: Headers, name: bytes) -> bytes | None:
    """The first value of a (lower-case) header name."""
    for key, value in headers:
        if key == name:
            return value
    return None


def bearer_token(headers: Headers) -> str | None:
    """``Authorization: Bearer <t>``, else ``x-api-key`` (Anthropic clients), else ``api-key`` (Azure OpenAI
    clients), as LiteLLM reads them; None when none is sent."""
    auth = api_key = azure_key = None
    for key, value in headers:
        if key == b"authorization" and auth is None:
            auth = value
        elif key == b"x-api-key" and api_key is None:
            api_key = value
        elif key == b"api-key" and azure_key is None:
            azure_key = value
    api_key = api_key if api_key is not None else azure_key
    if auth is not None:
        scheme, _, token = auth.decode("latin-1").strip().partition(" ")
        token = token.strip()
        return token if scheme.lower() == "bearer" and token else None
    if api_key is not None:
        return api_key.decode("latin-1").strip() or None
    return None


def check_path(path: str) -> None:
    """Refuse paths an upstream might normalise differently from the route that was decided."""
    dots = "/." in path and any(seg in (".", "..") for seg in path.split("/"))
    if dots or "//" in path or "\\" in path:
        raise BadRequest(400, "request.bad_path", f"path {path!r} has empty, '.' or '..' segments")


def endpoint(path: str) -> str:
    """The path without its API-version prefix: ``/v1/chat/completions`` -> ``chat/completions``."""
    for prefix in _PREFIXES:
        if path.startswith(prefix):
            return path[len(prefix):]
    return path


def path_model(path: str) -> str | None:
    """The model named in the path (Azure deployments, engines, Gemini ``models/{m}:verb``)."""
    m = _PATH_MODEL.match(path) or _GOOGLE_MODEL.match(path)
    return m.group(1) if m else None


def takes_body_model(method: str, path: str) -> bool:
    """Is this a call whose JSON or form body names the model (or must agree with the path's)?"""
    return method == "POST" and (endpoint(path) in BODY_MODEL_ENDPOINTS or path_model(path) is not None)


def parse_body(data: bytes, content_type: bytes | None) -> Body:
    """Find the model in a body; raises BadRequest when the body cannot be read unambiguously."""
    raw_ctype = (content_type or b"").decode("latin-1")
    ctype = raw_ctype.lower()
    if ctype.startswith("multipart/form-data"):  # the boundary is case-sensitive
        return Body(data, "multipart", multipart_field(data, raw_ctype, "model")[0])
    if ctype.startswith("application/x-www-form-urlencoded"):
        return Body(data, "form", _form_model(data))
    first = data[:1]
    if first != b"{":  # the usual JSON body starts right away; else look past leading whitespace
        stripped = data.lstrip()
        if not stripped:
            return Body(data, "raw", None)
        first = stripped[:1]
    if first != b"{":
        if "json" in ctype:
            raise BadRequest(400, "request.invalid_json", "the request body is not a JSON object")
        return Body(data, "raw", None)
    obj = _json_object(data)
    model = obj.get("model")
    if model is not None and not isinstance(model, str):
        raise BadRequest(400, "request.invalid_model", f"'model' must be a string, not {type(model).__name__}")
    return Body(data, "json", model, obj)


def _json_object(data: bytes) -> dict[str, object]:
    try:
        if data.count(b'"model"') > 1 or b"\\u" in data:
            obj = json.loads(data, object_pairs_hook=_no_duplicate_model)
        else:
            obj = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(400, "request.invalid_json", f"the request body is not valid JSON ({exc})") from None
    if not isinstance(obj, dict):
        raise BadRequest(400, "request.invalid_json", "the request body is not a JSON object")
    return obj


def _no_duplicate_model(pairs: list[tuple[str, object]]) -> dict[str, object]:
    if sum(1 for key, _ in pairs if key == "model") > 1:
        raise ValueError("duplicate 'model' key")
    return dict(pairs)


def _form_model(data: bytes) -> str | None:
    try:
        values = [v for k, v in parse_qsl(data.decode("utf-8"), keep_blank_values=True) if k == "model"]
    except UnicodeDecodeError:
        raise BadRequest(400, "request.invalid_form", "the form body is not UTF-8") from None
    if len(values) > 1:
        raise BadRequest(400, "request.invalid_model", "the form names 'model' more than once")
    return values[0] if values else None


_NAME = re.compile(rb'(?i)content-disposition:[^\r\n]*;\s*name="([^"]*)"')


def multipart_field(data: bytes, ctype: str, name: str) -> tuple[str | None, int, int]:
    """A text field of a multipart body: (value, start, end) byte offsets of the value; (None, 0, 0)."""
    boundary = _boundary(ctype)
    delimiter = b"--" + boundary
    found: list[tuple[str, int, int]] = []
    pos = data.find(delimiter)
    while pos != -1:
        start = pos + len(delimiter)
        nxt = data.find(b"\r\n" + delimiter, start)
        if nxt == -1:
            break
        head_end = data.find(b"\r\n\r\n", start, nxt)
        if head_end != -1:
            m = _NAME.search(data, start, head_end)
            if m and m.group(1).decode("latin-1") == name:
                found.append((data[head_end + 4:nxt].decode("utf-8", "replace"), head_end + 4, nxt))
        pos = nxt + 2
    if len(found) > 1:
        raise BadRequest(400, "request.invalid_model", f"the form names '{name}' more than once")
    return found[0] if found else (None, 0, 0)


def _boundary(ctype: str) -> bytes:
    m = re.search(r'boundary="?([^";]+)"?', ctype, re.IGNORECASE)
    if not m:
        raise BadRequest(400, "request.invalid_form", "multipart/form-data without a boundary")
    return m.group(1).encode("latin-1")


# Where LiteLLM reads a request's end user in a JSON body (auth_utils.get_end_user_id_from_request_body).
USER_ENDPOINTS = frozenset({"chat/completions", "completions", "embeddings", "responses"})
ANTHROPIC_USER_ENDPOINTS = frozenset({"messages"})


def user_field(path: str) -> str | None:
    """``user`` or ``metadata.user_id`` (Anthropic) for an endpoint whose body names the end user, else None."""
    parts = endpoint(path).split("/")
    for candidate in ("/".join(parts), "/".join(parts[-2:]), parts[-1]):  # Azure: /openai/deployments/{m}/...
        if candidate in USER_ENDPOINTS:
            return "user"
        if candidate in ANTHROPIC_USER_ENDPOINTS:
            return "metadata.user_id"
    return None


def _with_user(obj: dict[str, object], field: str, user: str) -> dict[str, object]:
    """The body with the verified end user in ``field``, and no client value LiteLLM would read first."""
    if field == "user":
        return {**obj, "user": user}
    meta = obj.get("metadata")
    out = {k: v for k, v in obj.items() if k != "user"}
    out["metadata"] = {**(meta if isinstance(meta, dict) else {}), "user_id": user}
    litellm_meta = obj.get("litellm_metadata")
    if isinstance(litellm_meta, dict) and "user" in litellm_meta:
        out["litellm_metadata"] = {k: v for k, v in litellm_meta.items() if k != "user"}
    return out


def rewrite_model(body: Body, model: str | None, content_type: bytes | None,
                  user: tuple[str, str] | None = None) -> bytes:
    """The body with its model replaced by the upstream's name for it and, for a JSON object body,
    ``user`` = (field, value) set (``jwtgate.identity.user_field``): one JSON encoding for both."""
    if body.kind == "json" and body.parsed is not None:
        obj = body.parsed if model is None else {**body.parsed, "model": model}
        if user is not None:
            obj = _with_user(obj, *user)
        return json.dumps(obj, ensure_ascii=False).encode("utf-8")
    if model is None:
        return body.data
    if body.kind == "form":
        pairs = parse_qsl(body.data.decode("utf-8"), keep_blank_values=True)
        return urlencode([(k, model if k == "model" else v) for k, v in pairs]).encode("utf-8")
    if body.kind == "multipart":
        value, start, end = multipart_field(body.data, (content_type or b"").decode("latin-1"), "model")
        if value is not None:
            return body.data[:start] + model.encode("utf-8") + body.data[end:]
    return body.data


def rewrite_path_model(path: str, model: str, upstream_model: str) -> str:
    """Replace the path's model segment (Azure deployments, engines) by the upstream's name."""
    return path.replace(f"/{model}/", f"/{upstream_model}/", 1).replace(f"/{model}:", f"/{upstream_model}:", 1)
