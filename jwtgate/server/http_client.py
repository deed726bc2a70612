"""A pooled keep-alive HTTP/1.1 client on asyncio Protocols; httptools (llhttp) parses every response.

What the gateway needs of an upstream client and no more: one request with headers and a body, the
reply's status and raw headers, then its body read whole or relayed chunk by chunk as it arrives.
Timeouts: connect, read (until the headers, and between body chunks) and an optional total. A
connection goes back to the pool only when its reply was read to the end, both sides allow keep-alive
and nothing else arrived on it; idle connections are dropped after ``idle_ttl`` seconds (below the
5 s keep-alive of uvicorn-based upstreams such as LiteLLM, so a reused connection is not one the
upstream is closing). A request is never retried: an LLM call is not idempotent.

Failures are this module's own exceptions (``ConnectFailed``, ``Timeout``, ``Reset``), never the
transport's.
"""

from __future__ import annotations

import asyncio
import collections
import ssl
import time
from collections.abc import AsyncIterator
from types import TracebackType
from typing import cast
from urllib.parse import urlsplit

import httptools

HIGH_WATER = 256 * 1024  # buffered body bytes at which reading from the upstream pauses
IDLE_PER_ORIGIN = 512  # idle connections kept per origin; more are closed
CHUNK_JOIN = 64 * 1024  # when the consumer is behind, up to this many buffered bytes are handed over at once


class UpstreamError(Exception):
    """The upstream exchange failed."""


class ConnectFailed(UpstreamError):
    """No connection could be made (refused, DNS, TLS handshake, connect timeout)."""


class Timeout(UpstreamError):
    """The upstream did not send the headers, or the next part of the body, in time."""


class Reset(UpstreamError):
    """The connection broke, or the upstream sent something that is not a valid HTTP/1.1 response."""


Origin = tuple[str, str, int]


class _Connection(asyncio.Protocol):
    """One upstream connection; at most one exchange at a time (no pipelining)."""

    def __init__(self, pool: HttpClient, origin: Origin) -> None:
        self.pool, self.origin = pool, origin
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.response: Response | None = None
        self.closed = False
        self.idle_since = 0.0

    # --- asyncio.Protocol -----------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not asyncio subclasses

    def data_received(self, data: bytes) -> None:
        response = self.response
        if response is None or response.complete:  # bytes nobody asked for: this connection is unusable
            self.abort()
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            response.fail(Reset(f"the upstream sent an invalid HTTP response ({exc})"))
            self.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        response = self.response
        if response is not None and not response.complete:
            if response.until_eof and response.headers_done and exc is None:
                response.finish()  # a body delimited by the end of the connection
            else:
                response.fail(Reset(f"the upstream closed the connection ({exc or 'end of stream'})"))

    # --- httptools callbacks --------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        response = self.response
        if response is None or response.headers_done:  # a second reply to one request: never reuse this
            self.closed = True

    def on_header(self, name: bytes, value: bytes) -> None:
        response = self.response
        if response is not None and not response.headers_done:
            response.headers.append((name, value))

    def on_headers_complete(self) -> None:
        response = self.response
        assert response is not None
        status = self.parser.get_status_code()
        if 100 <= status < 200 and status != 101:  # an interim reply (100 Continue): the real one follows
            response.headers = []
            return
        response.headers_received(status, self.parser.should_keep_alive())

    def on_body(self, body: bytes) -> None:
        assert self.response is not None
        self.response.body_received(body)

    def on_message_complete(self) -> None:
        response = self.response
        if response is not None and response.headers_done:
            response.finish()

    # --- pool -----------------------------------------------------------------------------------------

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def reusable(self) -> bool:
        response = self.response
        return (not self.closed and response is not None and response.complete and response.keep_alive
                and response.error is None and self.transport is not None and not self.transport.is_closing())


class Response:
    """The reply to one request: ``status`` and raw ``headers`` (as sent), then the body.

    Use as ``async with client.request(...) as resp``; leaving the block early (an error, a
    cancellation) closes the connection instead of returning it to the pool.
    """

    def __init__(self, conn: _Connection, read_timeout: float, deadline: float | None, head: bool,
                 loop: asyncio.AbstractEventLoop) -> None:
        self.conn, self.loop = conn, loop
        self.read_timeout, self.deadline, self.head = read_timeout, deadline, head
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.headers_done = self.complete = self.keep_alive = self.until_eof = False
        self.error: UpstreamError | None = None
        self.content_length: int | None = None
        self.content_type = ""
        self._chunks: collections.deque[bytes] = collections.deque()
        self._buffered = 0
        self._paused = False
        self._pausable = True
        self._waiter: asyncio.Future[None] | None = None

    # --- fed by the connection ------------------------------------------------------------------------

    def headers_received(self, status: int, keep_alive: bool) -> None:
        self.status, self.keep_alive, self.headers_done = status, keep_alive, True
        chunked = False
        for name, value in self.headers:
            lname = name.lower()
            if lname == b"content-length":
                self.content_length = int(value)  # llhttp has checked it is one valid number
            elif lname == b"transfer-encoding":
                chunked = True
            elif lname == b"content-type":
                self.content_type = value.partition(b";")[0].strip().lower().decode("latin-1")
        no_body = status in (204, 304) or self.content_length == 0
        self.until_eof = not (chunked or self.content_length is not None or no_body)
        if self.head:  # llhttp would wait for the body a HEAD reply announces but never sends
            self.keep_alive = False
            self.finish()
        self._wake()

    def body_received(self, data: bytes) -> None:
        self._chunks.append(data)
        self._buffered += len(data)
        if self._buffered >= HIGH_WATER and self._pausable and not self._paused and self.conn.transport is not None:
            self._paused = True
            self.conn.transport.pause_reading()
        self._wake()

    def finish(self) -> None:
        self.complete = True
        self._wake()

    def fail(self, error: UpstreamError) -> None:
        if self.error is None:
            self.error = error
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # --- read by the caller ---------------------------------------------------------------------------

    async def _wait(self, what: str) -> None:
        loop = self.loop
        timeout = self.read_timeout
        if self.deadline is not None:
            timeout = min(timeout, self.deadline - loop.time())
        waiter = self._waiter = loop.create_future()
        timer = loop.call_later(max(timeout, 0.0), self._expire, waiter, what)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None

    def _expire(self, waiter: asyncio.Future[None], what: str) -> None:
        if not waiter.done():
            waiter.set_exception(Timeout(f"no {what} from the upstream in time"))

    async def headers_arrived(self) -> None:
        while not self.headers_done:
            if self.error is not None:
                raise self.error
            await self._wait("response headers")

    async def read(self) -> bytes:
        """The whole body (read without flow control: the caller knows it is small)."""
        self._pausable = False
        self._resume()
        while not self.complete:
            if self.error is not None:
                raise self.error
            await self._wait("response body")
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data

    async def iter_chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives: what has been received since the last chunk, joined up to CHUNK_JOIN."""
        while True:
            if self._chunks:
                yield self._take()
            elif self.complete:
                return
            elif self.error is not None:
                raise self.error
            else:
                await self._wait("response body")

    def _take(self) -> bytes:
        chunks = self._chunks
        data = chunks.popleft()
        while chunks and len(data) + len(chunks[0]) <= CHUNK_JOIN:
            data += chunks.popleft()
        self._buffered -= len(data)
        if self._buffered < HIGH_WATER // 2:
            self._resume()
        return data

    def _resume(self) -> None:
        if self._paused and self.conn.transport is not None:
            self._paused = False
            self.conn.transport.resume_reading()


class _Pending:
    """``client.request(...)``: awaitable as an async context manager yielding the Response."""

    def __init__(self, client: HttpClient, method: str, url: str, headers: list[tuple[str, str]],
                 body: bytes) -> None:
        self.client, self.args = client, (method, url, headers, body)
        self.response: Response | None = None

    async def __aenter__(self) -> Response:
        self.response = await self.client.send(*self.args)
        return self.response

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if self.response is not None:
            self.client.release(self.response.conn)


class HttpClient:
    """The pool: idle connections per (scheme, host, port), most recently used first."""

    def __init__(self, *, connect_timeout: float, read_timeout: float, total_timeout: float | None = None,
                 idle_ttl: float = 4.0) -> None:
        self.connect_timeout, self.read_timeout = connect_timeout, read_timeout
        self.total_timeout, self.idle_ttl = total_timeout, idle_ttl
        self._idle: dict[Origin, list[_Connection]] = {}
        self._targets: dict[str, tuple[Origin, str]] = {}
        self._tls: ssl.SSLContext | None = None

    def request(self, method: str, url: str, headers: list[tuple[str, str]], body: bytes = b"") -> _Pending:
        """``async with client.request("POST", url, headers, body) as resp:`` (the Response)."""
        return _Pending(self, method, url, headers, body)

    async def send(self, method: str, url: str, headers: list[tuple[str, str]], body: bytes) -> Response:
        """Send the request and wait for the response headers (not the body)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.total_timeout if self.total_timeout is not None else None
        origin, host, target = self._split(url)
        conn = self._reuse(origin) or await self._connect(origin)
        response = conn.response = Response(conn, self.read_timeout, deadline, method == "HEAD", loop)
        conn.parser = httptools.HttpResponseParser(conn)
        assert conn.transport is not None
        length = len(body) if body or method in ("POST", "PUT", "PATCH") else None
        try:
            conn.transport.write(_head(method, target, host, headers, length) + body)
            await response.headers_arrived()
        except BaseException:
            conn.abort()
            raise
        return response

    def release(self, conn: _Connection) -> None:
        """Back to the pool when the exchange ended cleanly, else closed."""
        if not conn.reusable():
            conn.abort()
            return
        conn.response = None
        conn.idle_since = time.monotonic()
        idle = self._idle.setdefault(conn.origin, [])
        if len(idle) >= IDLE_PER_ORIGIN:
            conn.abort()
        else:
            idle.append(conn)

    async def close(self) -> None:
        for idle in self._idle.values():
            for conn in idle:
                conn.abort()
        self._idle.clear()

    def _split(self, url: str) -> tuple[Origin, str, str]:
        """(origin, Host header, request target) of a URL; the origin part is memoised per base."""
        scheme, sep, rest = url.partition("://")
        authority, slash, path = rest.partition("/")
        key = scheme + sep + authority
        known = self._targets.get(key)
        if known is None:
            parts = urlsplit(key)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ConnectFailed(f"not an http(s) URL: {key!r}")
            port = parts.port or (443 if parts.scheme == "https" else 80)
            known = ((parts.scheme, parts.hostname, port), authority)
            if len(self._targets) < 1024:
                self._targets[key] = known
        return known[0], known[1], "/" + path if slash else "/"

    def _reuse(self, origin: Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        oldest = time.monotonic() - self.idle_ttl
        while idle:
            conn = idle.pop()
            if not conn.closed and conn.idle_since > oldest and conn.transport is not None \
                    and not conn.transport.is_closing():
                return conn
            conn.abort()
        return None

    async def _connect(self, origin: Origin) -> _Connection:
        scheme, host, port = origin
        loop = asyncio.get_running_loop()
        tls = self._tls_context() if scheme == "https" else None
        try:
            async with asyncio.timeout(self.connect_timeout):
                _, conn = await loop.create_connection(lambda: _Connection(self, origin), host, port, ssl=tls,
                                                       server_hostname=host if tls else None)
        except TimeoutError:
            raise ConnectFailed(f"connecting to {host}:{port} timed out after {self.connect_timeout:g} s") from None
        except (OSError, ssl.SSLError) as exc:
            raise ConnectFailed(f"cannot connect to {host}:{port}: {exc}") from None
        return conn

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = ssl.create_default_context()
        return self._tls


def _head(method: str, target: str, host: str, headers: list[tuple[str, str]], length: int | None) -> bytes:
    """The request line and headers; a value that would break the framing (CR, LF) is refused."""
    lines = [f"{method} {target} HTTP/1.1", f"host: {host}"]
    lines.extend([f"{k}: {v}" for k, v in headers])
    if length is not None:
        lines.append(f"content-length: {length}")
    text = "\r\n".join(lines) + "\r\n\r\n"
    if text.count("\n") != len(lines) + 1 or text.count("\r") != len(lines) + 1:
        raise Reset("a request header holds a line break; it cannot be sent upstream")
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")
