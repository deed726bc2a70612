"""GET a JSON document over HTTP(S) with timeouts, a size cap and httpx errors mapped to KeySourceError.

The sync (``httpx.Client``) and async (``httpx.AsyncClient``) paths share everything but the I/O.
httpx is imported only for typing here; callers pass the client in.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jwtgate.errors import KeySourceError

if TYPE_CHECKING:
    import httpx

_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)\"?\s*(?:,|$)", re.I)


@dataclass(frozen=True, slots=True)
class FetchLimits:
    """Timeouts (seconds) and the response size cap (bytes)."""

    timeout: float = 5.0  # the schema's defaults (keys/ does not import config/; tests/config/test_defaults.py)
    connect_timeout: float = 3.0
    max_bytes: int = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Get:
    """A request the key store wants made (conditional when etag/last_modified are set)."""

    url: str
    what: str  # "JWKS" or "discovery document", for messages
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class Fetched:
    """A response: ``not_modified`` (304) or a JSON ``body``, with the caching headers."""

    url: str
    not_modified: bool
    body: Any
    etag: str | None
    last_modified: str | None
    max_age: float | None


def request_headers(req: Get) -> dict[str, str]:
    headers = {"Accept": "application/json, application/jwk-set+json"}
    if req.etag:
        headers["If-None-Match"] = req.etag
    if req.last_modified:
        headers["If-Modified-Since"] = req.last_modified
    return headers


def max_age(cache_control: str | None) -> float | None:
    """``Cache-Control`` -> seconds (``no-store``/``no-cache`` count as 0), or None when it says nothing."""
    if not cache_control:
        return None
    lowered = cache_control.lower()
    if "no-store" in lowered or "no-cache" in lowered:
        return 0.0
    match = _MAX_AGE.search(lowered)
    return float(match.group(1)) if match else None


def check_status(req: Get, status: int, reason: str) -> None:
    if status == 304 and (req.etag or req.last_modified):
        return
    if status != 200:
        raise KeySourceError(
            f"{req.what} {req.url} returned HTTP {status} {reason}".rstrip(),
            code="jwks.http_status",
            hint=_status_hint(status),
        )


def _status_hint(status: int) -> str | None:
    if status in (401, 403):
        return "the endpoint must be public; check the URL"
    if status == 404:
        return "check the URL (for an issuer, its /.well-known/openid-configuration)"
    if status >= 500:
        return "the identity provider failed to answer; try again, or check its health and logs"
    return None


def check_length(req: Get, headers: Mapping[str, str], limit: int) -> None:
    declared = headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _too_large(req, limit)


def _too_large(req: Get, limit: int) -> KeySourceError:
    return KeySourceError(
        f"{req.what} {req.url} is larger than {limit} bytes; refusing it",
        code="jwks.too_large",
        hint="raise jwtgate.max_jwks_bytes if this is expected",
    )


_NOT_JSON_HINT = "the URL must answer with the {what} itself, as JSON (not a login or error page); check it with curl"


def decode_json(req: Get, body: bytes) -> Any:
    hint = _NOT_JSON_HINT.format(what=req.what)
    try:
        return json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise KeySourceError(f"{req.what} {req.url} is not UTF-8 text", code="jwks.invalid", hint=hint) from None
    except ValueError as exc:
        raise KeySourceError(f"{req.what} {req.url} is not valid JSON ({exc})", code="jwks.invalid",
                             hint=hint) from None


def build_result(req: Get, status: int, headers: Mapping[str, str], body: bytes) -> Fetched:
    data = None if status == 304 else decode_json(req, body)
    return Fetched(
        req.url,
        status == 304,
        data,
        headers.get("etag"),
        headers.get("last-modified"),
        max_age(headers.get("cache-control")),
    )


def translate(req: Get, exc: Exception, limits: FetchLimits) -> KeySourceError:
    """An httpx (or asyncio) exception -> KeySourceError naming the URL."""
    import httpx

    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return KeySourceError(
            f"{req.what} {req.url} timed out after {limits.timeout:g} s",
            code="jwks.timeout",
            hint="is the identity provider reachable and answering? (jwtgate.fetch_timeout sets the limit)",
        )
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return KeySourceError(
            f"{req.what} URL {req.url!r} is not a valid http(s) URL ({exc})", code="jwks.invalid"
        )
    if isinstance(exc, httpx.TooManyRedirects):
        return KeySourceError(f"{req.what} {req.url}: too many redirects", code="jwks.unavailable",
                              hint="use the URL the redirects end at, or fix the loop at the identity provider")
    detail = str(exc) or type(exc).__name__
    return KeySourceError(
        f"cannot fetch {req.what} {req.url}: {detail}",
        code="jwks.unavailable",
        hint="is the identity provider reachable from here?",
    )


def _timeout(limits: FetchLimits) -> httpx.Timeout:
    import httpx

    return httpx.Timeout(limits.timeout, connect=min(limits.connect_timeout, limits.timeout))


def fetch(
    client: httpx.Client, req: Get, limits: FetchLimits, monotonic: Callable[[], float] = time.monotonic
) -> Fetched:
    """Synchronous GET; the total time is bounded by ``limits.timeout`` even for a slow trickle."""
    import httpx

    deadline = monotonic() + limits.timeout
    try:
        with client.stream("GET", req.url, headers=request_headers(req), timeout=_timeout(limits)) as resp:
            check_status(req, resp.status_code, resp.reason_phrase)
            check_length(req, resp.headers, limits.max_bytes)
            chunks: list[bytes] = []
            size = 0
            for chunk in resp.iter_bytes():
                size += len(chunk)
                if size > limits.max_bytes:
                    raise _too_large(req, limits.max_bytes)
                if monotonic() > deadline:
                    raise TimeoutError
                chunks.append(chunk)
            return build_result(req, resp.status_code, resp.headers, b"".join(chunks))
    except (httpx.HTTPError, TimeoutError) as exc:
        raise translate(req, exc, limits) from None


async def afetch(client: httpx.AsyncClient, req: Get, limits: FetchLimits) -> Fetched:
    """Asynchronous GET with the same checks; the total time is bounded by ``asyncio.timeout``."""
    import asyncio

    import httpx

    try:
        async with asyncio.timeout(limits.timeout):
            async with client.stream(
                "GET", req.url, headers=request_headers(req), timeout=_timeout(limits)
            ) as resp:
                check_status(req, resp.status_code, resp.reason_phrase)
                check_length(req, resp.headers, limits.max_bytes)
                chunks: list[bytes] = []
                size = 0
                async for chunk in resp.aiter_bytes():
                    size += len(chunk)
                    if size > limits.max_bytes:
                        raise _too_large(req, limits.max_bytes)
                    chunks.append(chunk)
                return build_result(req, resp.status_code, resp.headers, b"".join(chunks))
    except (httpx.HTTPError, TimeoutError) as exc:
        raise translate(req, exc, limits) from None
