"""Raw ASGI replies: JSON bodies, OpenAI-shaped errors with jwtgate's reason code, request bodies."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from jwtgate.server.types import Receive, Send

JSON = [(b"content-type", b"application/json")]
ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
               404: "not_found_error", 405: "invalid_request_error", 408: "invalid_request_error",
               413: "invalid_request_error", 414: "invalid_request_error", 431: "invalid_request_error",
               415: "invalid_request_error", 500: "server_error", 502: "upstream_error", 503: "service_unavailable",
               504: "upstream_timeout"}
# Anthropic's error types (https://docs.anthropic.com/en/api/errors), for errors on /v1/messages.
ANTHROPIC_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                   404: "not_found_error", 405: "invalid_request_error", 413: "request_too_large",
                   415: "invalid_request_error", 429: "rate_limit_error"}
# Refusals a retry may cure (the SDKs retry 5xx by default); every other refusal says x-should-retry: false,
# which the openai and anthropic SDKs obey (their _should_retry reads it before the status).
TRANSIENT = frozenset({"request.timeout", "jwks.unavailable", "jwks.timeout", "jwks.http_status",
                       "upstream.unreachable", "upstream.reset", "upstream.timeout"})
# What a caller sees with hide_reasons: a generic code and message per status; the detail goes to the log.
HIDDEN = {401: ("token.invalid", "invalid or missing credentials"), 403: ("policy.denied", "access denied"),
          503: ("jwks.unavailable", "signing keys are unavailable; try again later")}


class Refusal(Exception):
    """A request answered by jwtgate itself with an error: status, stable reason code, message."""

    def __init__(self, status: int, code: str, message: str, decision: str = "deny") -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.decision = status, code, message, decision

    def public(self, hide: bool) -> tuple[str, str]:
        """(code, message) as the caller sees them; ``token.missing`` is never secret."""
        if hide and self.status in HIDDEN and self.code != "token.missing":
            return HIDDEN[self.status]
        return self.code, self.message


class ClientGone(Exception):
    """The client disconnected before its request body arrived."""


def error_body(status: int, code: str, message: str, *, anthropic: bool = False) -> bytes:
    """OpenAI's error shape, or (``anthropic``) Anthropic's ``{"type": "error", "error": {type, message}}``;
    both carry jwtgate's reason code as ``error.code``."""
    if anthropic:
        doc: dict[str, Any] = {"type": "error", "error": {"type": ANTHROPIC_TYPES.get(status, "api_error"),
                                                          "message": message, "code": code}}
    else:
        doc = {"error": {"message": message, "type": ERROR_TYPES.get(status, "api_error"), "param": None,
                         "code": code}}
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def is_anthropic(path: str) -> bool:
    """Anthropic's API (``/v1/messages``, ``/v1/messages/count_tokens``): its clients expect its error shape."""
    return path.startswith(("/v1/messages", "/messages")) and path.rstrip("/").rsplit("/", 1)[-1] in (
        "messages", "count_tokens")


def www_authenticate(code: str, message: str) -> bytes:
    """RFC 6750 challenge: no error attribute when credentials were missing."""
    if code == "token.missing":
        return b'Bearer realm="jwtgate"'
    desc = message.replace("\\", "").replace('"', "'")[:200]
    return f'Bearer realm="jwtgate", error="invalid_token", error_description="{desc}"'.encode("latin-1", "replace")


async def send_bytes(send: Send, status: int, body: bytes, headers: Sequence[tuple[bytes, bytes]]) -> None:
    """A complete response in two messages."""
    out = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": out})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def send_json(send: Send, status: int, payload: Any, headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
    await send_bytes(send, status, json.dumps(payload, ensure_ascii=False).encode("utf-8"), [*JSON, *headers])


async def send_refusal(send: Send, refusal: Refusal, *, hide: bool, reason_header: bool = False,
                       anthropic: bool = False) -> None:
    """The OpenAI-shaped (or Anthropic-shaped) error; 401 carries the Bearer challenge; forward-auth adds
    X-Jwtgate-Reason; a refusal no retry can cure says ``x-should-retry: false``."""
    code, message = refusal.public(hide)
    headers = list(JSON)
    if refusal.code not in TRANSIENT:
        headers.append((b"x-should-retry", b"false"))
    if refusal.status == 401:
        headers.append((b"www-authenticate", www_authenticate(code, message)))
    if reason_header:
        headers.append((b"x-jwtgate-reason", code.encode("latin-1", "replace")))
    await send_bytes(send, refusal.status, error_body(refusal.status, code, message, anthropic=anthropic), headers)


async def read_body(receive: Receive, limit: int, declared: bytes | None) -> bytes:
    """The whole request body, refusing (413) past ``limit`` bytes, declared or received."""
    if declared is not None:
        try:
            if int(declared) > limit:
                raise Refusal(413, "request.too_large", f"request body over {limit} bytes", "error")
        except ValueError:
            raise Refusal(400, "request.bad_length", "invalid Content-Length", "error") from None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            cut = message.get("jwtgate.refusal")  # jwtgate's server answered it (408) and closed
            if cut is not None:
                raise Refusal(cut[0], cut[1], cut[2], "error")
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise Refusal(413, "request.too_large", f"request body over {limit} bytes", "error")
        if not message.get("more_body", False):
            return chunk if not chunks else b"".join([*chunks, chunk])
        chunks.append(chunk)
