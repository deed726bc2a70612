"""One client connection of jwtgate's HTTP server: llhttp parsing, the request limits, the timeouts,
keep-alive and pipelining (one request answered at a time, in order). See ``http_server``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, cast
from urllib.parse import unquote

import httptools

from jwtgate.server.http_cycle import Cycle, error_reply
from jwtgate.server.types import Message, Scope

App = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]
MAX_URL = 8 * 1024  # nginx's large_client_header_buffers line size
MAX_HEAD = 256 * 1024  # the whole head while it arrives; the app applies its finer limits (inbound.check_headers)
MAX_HEADER_LINES = 128  # header lines per request (Apache's LimitRequestFields is 100; LLM SDKs send about 15)
ASGI = {"version": "3.0", "spec_version": "2.3"}

LINGER = 2.0  # seconds a closing connection reads on (discarding) so its last reply is not lost to a reset

# Connection phases, read by the sweeper that enforces the timeouts.
NEW, IDLE, HEAD, BODY, BUSY, LINGERING = range(6)


class Host(Protocol):
    """What a connection needs of its server (``http_server.Server``)."""

    app: App
    loop: asyncio.AbstractEventLoop
    log: logging.Logger
    draining: bool
    connections: set[HttpConnection]

    def refused(self, status: int, code: str) -> None:
        """A request answered by the server itself, never seen by the app (for the access log)."""


class _Refuse(Exception):
    """A request the server answers itself (malformed, too large, too slow), then closes the connection."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class Limits:
    """The server's timeouts, in seconds."""

    __slots__ = ("body_timeout", "header_timeout", "keepalive_timeout")

    def __init__(self, header_timeout: float = 10.0, body_timeout: float = 60.0, keepalive_timeout: float = 5.0
                 ) -> None:
        self.header_timeout, self.body_timeout, self.keepalive_timeout = header_timeout, body_timeout, keepalive_timeout

    @property
    def tick(self) -> float:
        """How often the sweeper looks: a fraction of the shortest timeout, between 50 ms and 1 s."""
        return min(max(min(self.header_timeout, self.body_timeout, self.keepalive_timeout) / 4, 0.05), 1.0)


class HttpConnection(asyncio.Protocol):
    """One client connection: parses requests, runs the app for each in turn, writes the replies."""

    def __init__(self, server: Host) -> None:
        self.server, self.loop, self.app = server, server.loop, server.app
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.client: tuple[str, int] | None = None
        self.local: tuple[str, int] | None = None
        self.phase, self.since = NEW, time.monotonic()
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.head_size = 0
        self.expect = False  # the request being parsed asked for 100-continue
        self.framed = False  # ... and announced a body
        self.reading: Cycle | None = None  # the request whose body is arriving
        self.cycle: Cycle | None = None  # the request being answered
        self.queue: collections.deque[Cycle] = collections.deque()  # pipelined requests after it
        self.task: asyncio.Task[None] | None = None
        self.paused_reading = self.paused_writing = self.closed = False
        self.paused_for_body = self.stopped_reading = False
        self.drain_waiter: asyncio.Future[None] | None = None
        self.write_paused_since = 0.0

    # --- asyncio.Protocol -----------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.client = _addr(transport.get_extra_info("peername"))
        self.local = _addr(transport.get_extra_info("sockname"))
        self.server.connections.add(self)

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._upgrade()
        except httptools.HttpParserCallbackError as exc:
            cause = exc.__context__
            if isinstance(cause, _Refuse):
                self.refuse(cause)
            else:
                self.server.log.error("bug: inbound parser callback failed: %r", cause)
                self.refuse(_Refuse(500, "jwtgate.internal", "internal error in jwtgate"))
        except httptools.HttpParserError as exc:
            self.refuse(_Refuse(400, "request.malformed", f"malformed HTTP request ({_reason(exc)})"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.server.connections.discard(self)
        for cycle in (self.cycle, self.reading, *self.queue):
            if cycle is not None:
                cycle.lost()
        self.queue.clear()
        self._wake_drain()

    def pause_writing(self) -> None:
        self.paused_writing = True
        self.write_paused_since = time.monotonic()

    def resume_writing(self) -> None:
        self.paused_writing = False
        self._wake_drain()

    # --- httptools callbacks --------------------------------------------------------------------------

    def on_message_begin(self) -> None:
        self.url, self.headers, self.head_size, self.expect, self.framed = b"", [], 0, False, False
        self.phase, self.since = HEAD, time.monotonic()

    def on_url(self, url: bytes) -> None:
        self.url += url
        if len(self.url) > MAX_URL:
            raise _Refuse(414, "request.uri_too_long", f"the request target is longer than {MAX_URL} bytes")

    def on_header(self, name: bytes, value: bytes) -> None:
        self.head_size += len(name) + len(value) + 4
        if self.head_size > MAX_HEAD:
            raise _Refuse(431, "request.header_too_large", f"the request headers are larger than {MAX_HEAD} bytes")
        if len(self.headers) >= MAX_HEADER_LINES:
            raise _Refuse(431, "request.header_too_large", f"the request has more than {MAX_HEADER_LINES} headers")
        name = name.lower()
        if name == b"expect" and value.strip().lower() == b"100-continue":
            self.expect = True
        elif name in (b"content-length", b"transfer-encoding") and value.strip() not in (b"", b"0"):
            self.framed = True
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        parser = self.parser
        method = parser.get_method().decode("ascii")
        if method == "CONNECT":
            raise _Refuse(405, "request.method", "CONNECT is not supported: jwtgate is not a tunnel")
        upgrade = parser.should_upgrade()
        if upgrade and self.framed:  # llhttp would hand the body to the new protocol: the app would see none
            raise _Refuse(400, "request.upgrade", "jwtgate does not upgrade connections; send the request without "
                                                  "'Connection: upgrade'")
        version = parser.get_http_version()
        scope = self._scope(method, version)
        expect = self.expect and version == "1.1"
        keep_alive = parser.should_keep_alive() and not upgrade and not self.server.draining
        cycle = Cycle(self, scope, keep_alive, expect)
        self.reading = cycle
        self.phase, self.since = BODY, time.monotonic()
        if self.cycle is None:
            self._start(cycle)
        else:  # pipelined: answered after the one in flight; read no further until then
            self.queue.append(cycle)
            self._update_reading()

    def on_body(self, body: bytes) -> None:
        self.since = time.monotonic()
        assert self.reading is not None
        self.reading.body_received(body)

    def on_message_complete(self) -> None:
        reading = self.reading
        self.reading = None
        if reading is not None:
            reading.message_complete()
        self.phase = BUSY

    # --- requests -------------------------------------------------------------------------------------

    def _scope(self, method: str, version: str) -> Scope:
        try:
            url = httptools.parse_url(self.url)
            raw_path: bytes | None = url.path
            path = raw_path.decode("ascii") if raw_path is not None else "/"
        except (httptools.HttpParserInvalidURLError, UnicodeDecodeError):
            raise _Refuse(400, "request.bad_target", "the request target is not a valid URL") from None
        if raw_path is None:  # absolute-form without a path: http://host
            raw_path = b"/"
        if not path.startswith("/"):
            raise _Refuse(400, "request.bad_target", "the request target must be a path (origin-form) or an "
                                                     "absolute URL")
        if "%" in path:
            path = unquote(path)
        return {"type": "http", "asgi": ASGI, "http_version": version, "server": self.local, "client": self.client,
                "scheme": "http", "method": method, "root_path": "", "path": path, "raw_path": raw_path,
                "query_string": url.query or b"", "headers": self.headers}

    def _start(self, cycle: Cycle) -> None:
        self.cycle = cycle
        self.task = self.loop.create_task(self._run(cycle))

    async def _run(self, cycle: Cycle) -> None:
        try:
            await self.app(cycle.scope, cycle.receive, cycle.send)
        except BaseException as exc:  # the app answers its own errors; this is a bug or a forced stop
            if not isinstance(exc, asyncio.CancelledError):
                self.server.log.error("bug: unhandled error answering %s %s", cycle.scope["method"],
                                      cycle.scope["path"], exc_info=exc)
            self._fail(cycle)
            return
        if not cycle.complete and not cycle.disconnected:
            self.server.log.error("bug: no complete reply to %s %s", cycle.scope["method"], cycle.scope["path"])
            self._fail(cycle)

    def _fail(self, cycle: Cycle) -> None:
        if not cycle.head_written and not cycle.disconnected and not self.closed:
            self.write(error_reply(500, "jwtgate.internal", "internal error in jwtgate"))
            self.close()
        else:
            self.abort()

    def cycle_done(self, cycle: Cycle) -> None:
        """The reply is written: close, or go on with the next pipelined request, or wait for one."""
        if cycle.close or self.closed:
            self.close()
            return
        self.cycle = None
        if self.queue:
            self._start(self.queue.popleft())
            self._update_reading()
            return
        self._update_reading()
        if self.reading is None and self.phase == BUSY:
            self.phase, self.since = IDLE, time.monotonic()

    def _upgrade(self) -> None:
        """After a ``Connection: upgrade`` request (websocket, h2c) without a body, which is answered as plain
        HTTP/1.1 and closes the connection (on_headers_complete): nothing more is read. One with a body was
        refused there."""
        self.stopped_reading = True
        self._update_reading()

    def refuse(self, refusal: _Refuse) -> None:
        """Answer a request the app never saw, then close; after the reply in flight if there is one."""
        self.queue.clear()
        cycle, reading = self.cycle, self.reading
        if reading is not None and reading is not cycle:
            reading.lost()
        if cycle is None or cycle.complete or (cycle is reading and not cycle.head_written):
            self.write(error_reply(refusal.status, refusal.code, refusal.message))
            if cycle is not None and not cycle.complete:  # the app, waiting for this body, hears why it ends
                cycle.lost((refusal.status, refusal.code, refusal.message))
            else:
                self.server.refused(refusal.status, refusal.code)
            self.close()
            return
        cycle.keep_alive = False  # the reply in flight closes the connection; this request gets none
        cycle.close = cycle.close or cycle.head_written
        self.stopped_reading = True
        self._update_reading()

    def expire(self, now: float, limits: Limits) -> None:
        """The sweeper's check of this connection's timeouts."""
        phase = self.phase
        if phase == LINGERING:
            if now - self.since > LINGER:
                self.abort()
        elif self.paused_writing and now - self.write_paused_since > limits.body_timeout:
            self.abort()  # the client has read nothing of its reply for too long
        elif (phase == NEW and now - self.since > limits.header_timeout) or \
                (phase == IDLE and now - self.since > limits.keepalive_timeout):
            self.close()
        elif phase == HEAD and now - self.since > limits.header_timeout:
            self.refuse(_Refuse(408, "request.timeout", f"the request headers did not arrive within "
                                                        f"{limits.header_timeout:g} s"))
        elif phase == BODY and not self.paused_for_body and self.reading is not None \
                and now - self.since > limits.body_timeout:
            self.refuse(_Refuse(408, "request.timeout", f"the request body paused for more than "
                                                        f"{limits.body_timeout:g} s"))

    def drain_close(self) -> None:
        """Shutting down: an idle connection is closed now, a busy one after its reply."""
        if self.cycle is None and self.reading is None:
            self.close()
        elif self.cycle is not None:
            self.cycle.keep_alive = False
            self.queue.clear()

    @property
    def draining(self) -> bool:
        return self.server.draining

    # --- transport ------------------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.closed:
            self.transport.write(data)

    async def drain(self) -> None:
        if self.paused_writing and not self.closed:
            self.drain_waiter = self.loop.create_future()
            try:
                await self.drain_waiter
            finally:
                self.drain_waiter = None

    def _wake_drain(self) -> None:
        waiter = self.drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def pause(self, on: bool) -> None:
        """Stop (or resume) reading while a request body waits for the app to take it."""
        if on != self.paused_for_body:
            self.paused_for_body = on
            self._update_reading()

    def _update_reading(self) -> None:
        """Read only while nothing waits: no body for the app, no pipelined request for its turn."""
        if self.transport is None or self.closed:
            return
        want = not (self.paused_for_body or self.queue or self.stopped_reading)
        if want == self.paused_reading:
            self.paused_reading = not want
            if want:
                self.transport.resume_reading()
            else:
                self.transport.pause_reading()

    def close(self) -> None:
        """Close once what is written has gone: the write side first, then read on (discarding) for up to
        LINGER seconds, so a client still sending (a body its refusal did not need) reads the reply instead of
        losing it to a reset, as nginx's lingering close."""
        transport = self.transport
        if transport is None or self.closed:
            return
        self.closed = True
        if not transport.can_write_eof():
            transport.close()
            self.server.connections.discard(self)
            return
        try:
            transport.write_eof()
        except (OSError, RuntimeError):
            transport.close()
            self.server.connections.discard(self)
            return
        self.phase, self.since = LINGERING, time.monotonic()
        if self.paused_reading:
            self.paused_reading = False
            transport.resume_reading()

    def abort(self) -> None:
        if self.transport is not None and (not self.closed or self.phase == LINGERING):
            self.closed = True
            self.transport.abort()
            self.server.connections.discard(self)


def _addr(value: Any) -> tuple[str, int] | None:
    return (str(value[0]), int(value[1])) if isinstance(value, tuple) and len(value) >= 2 else None


def _reason(exc: Exception) -> str:
    text = str(exc).strip()
    return text[:120] if text else type(exc).__name__
