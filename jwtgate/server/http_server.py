"""jwtgate's inbound HTTP/1.1 server: asyncio Protocols, httptools (llhttp) parsing, one ASGI call per request.

It replaces uvicorn on the request path (README "Performance": uvicorn's cycle cost more per request than
the whole Python floor). What a server library gives for free is here, and tested against a real
``jwtgate serve`` (tests/security/test_http_rules.py, test_inbound_rules.py):

- framing: llhttp refuses Content-Length with Transfer-Encoding, duplicate or invalid Content-Length, bad
  chunk sizes and obs-fold; a connection upgrade with a body, CONNECT and non-origin targets are refused;
- limits: the URL (414) and the whole head (431) are bounded while they arrive; a request body is
  buffered up to ``BODY_BUFFER`` bytes, then reading pauses until the app takes it;
- slow clients: the head must arrive within ``header_timeout`` of its first byte, a body may pause at most
  ``body_timeout`` between reads (408 either way), idle keep-alive connections close after
  ``keepalive_timeout``, and a client that reads none of its reply for ``body_timeout`` is disconnected;
- keep-alive and pipelining: requests on one connection are answered one at a time, in order;
- ``Expect: 100-continue``: the interim reply is sent when the app first reads the body, so a request
  refused on its headers never needs its body (and its connection is closed after the refusal);
- a client that disconnects: its app call's ``receive()`` answers ``http.disconnect``;
- graceful drain (``shutdown``): stop accepting, close idle connections, let in-flight requests finish
  within the shutdown timeout (their connections close after the reply), then cut what is left.

A complete reply is written with one ``write`` (status line, headers and body), a streamed one as chunks.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import signal
import socket
import time
from collections.abc import Awaitable, Callable
from email.utils import formatdate
from http import HTTPStatus
from typing import Any, cast
from urllib.parse import unquote

import httptools

from jwtgate.server.responses import error_body
from jwtgate.server.types import Message, Scope

App = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]

MAX_URL = 8 * 1024  # nginx's large_client_header_buffers line size
MAX_HEAD = 256 * 1024  # the whole head while it arrives; the app applies its finer limits (inbound.check_headers)
BODY_BUFFER = 256 * 1024  # request body bytes buffered before reading pauses until the app reads them
ASGI = {"version": "3.0", "spec_version": "2.3"}
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
STATUS_LINES = {s.value: b"HTTP/1.1 %d %s\r\n" % (s.value, s.phrase.encode("latin-1")) for s in HTTPStatus}
NO_BODY_STATUS = frozenset({204, 304})

# Connection phases, read by the sweeper that enforces the timeouts.
NEW, IDLE, HEAD, BODY, BUSY = range(5)


class _Refuse(Exception):
    """A request the server answers itself (malformed, too large, too slow), then closes the connection."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class _Date:
    """The ``date`` header line, formatted once per second."""

    second = 0
    line = b""

    @classmethod
    def header(cls) -> bytes:
        now = int(time.time())
        if now != cls.second:
            cls.second, cls.line = now, b"date: " + formatdate(now, usegmt=True).encode("ascii") + b"\r\n"
        return cls.line


def error_reply(status: int, code: str, message: str) -> bytes:
    """A complete reply in jwtgate's JSON error shape that closes the connection."""
    body = error_body(status, code, message)
    return b"".join((STATUS_LINES.get(status, b"HTTP/1.1 %d \r\n" % status), b"content-type: application/json\r\n",
                     b"x-should-retry: false\r\n" if status != 408 else b"", _Date.header(),
                     b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body), body))


class Cycle:
    """One request on a connection: its scope, its body as it arrives, and the reply the app sends."""

    __slots__ = (
        "body_done",
        "buffered",
        "chunked",
        "chunks",
        "close",
        "complete",
        "conn",
        "delivered",
        "disconnected",
        "expect_100",
        "head_only",
        "head_written",
        "headers",
        "keep_alive",
        "remaining",
        "scope",
        "started",
        "status",
        "waiter",
    )

    def __init__(self, conn: HttpConnection, scope: Scope, keep_alive: bool, expect_100: bool) -> None:
        self.conn, self.scope, self.keep_alive, self.expect_100 = conn, scope, keep_alive, expect_100
        self.head_only = scope["method"] == "HEAD"
        self.chunks: list[bytes] = []
        self.buffered = 0
        self.body_done = self.delivered = self.disconnected = False
        self.started = self.head_written = self.complete = self.chunked = self.close = False
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.remaining: int | None = None  # bytes still owed under the reply's own content-length
        self.waiter: asyncio.Future[None] | None = None

    # --- fed by the connection ------------------------------------------------------------------------

    def body_received(self, data: bytes) -> None:
        self.chunks.append(data)
        self.buffered += len(data)
        if self.buffered >= BODY_BUFFER:
            self.conn.pause(True)
        self.wake()

    def message_complete(self) -> None:
        self.body_done = True
        self.wake()

    def lost(self) -> None:
        self.disconnected = True
        self.wake()

    def wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _wait(self) -> None:
        self.waiter = self.conn.loop.create_future()
        try:
            await self.waiter
        finally:
            self.waiter = None

    # --- the ASGI callables ---------------------------------------------------------------------------

    async def receive(self) -> Message:
        if self.delivered:  # the whole body was handed over: what is left to report is the client leaving
            while not self.disconnected and not self.complete:
                await self._wait()
            return {"type": "http.disconnect"}
        if self.expect_100 and not self.disconnected:  # as uvicorn: also when the body came without waiting
            self.expect_100 = False
            self.conn.write(CONTINUE)
        while not self.chunks and not self.body_done and not self.disconnected:
            await self._wait()
        if self.disconnected:
            return {"type": "http.disconnect"}
        chunks = self.chunks
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        chunks.clear()
        self.buffered = 0
        self.conn.pause(False)
        if self.body_done:
            self.delivered = True
        return {"type": "http.request", "body": body, "more_body": not self.body_done}

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            if self.started:
                raise RuntimeError("http.response.start sent twice")
            self.started = True
            self.status = int(message["status"])
            self.headers = list(message.get("headers", ()))
            return
        if kind != "http.response.body":
            raise RuntimeError(f"unexpected ASGI message {kind!r}")
        if not self.started or self.complete:
            raise RuntimeError("http.response.body outside a response")
        body: bytes = message.get("body", b"")
        more: bool = message.get("more_body", False)
        if self.disconnected:
            self.complete = not more
            return
        if not self.head_written:
            self._write_head(body, more)
        elif body or not more:
            self._write_body(body, more)
        if more:
            await self.conn.drain()
        else:
            self.complete = True
            self.wake()
            self.conn.cycle_done(self)

    def _write_head(self, body: bytes, more: bool) -> None:
        self.head_written = True
        self.close = close = not self.keep_alive or not self.body_done or self.conn.server.draining
        lines = [STATUS_LINES.get(self.status) or b"HTTP/1.1 %d \r\n" % self.status]
        length: int | None = None
        for name, value in self.headers:
            if name == b"content-length":
                length = int(value)
                continue
            if name in (b"connection", b"transfer-encoding", b"keep-alive"):
                continue  # the server's own to set
            lines += (name, b": ", value, b"\r\n")
        lines.append(_Date.header())
        no_body = self.head_only or self.status in NO_BODY_STATUS or self.status < 200
        if length is not None:
            lines.append(b"content-length: %d\r\n" % length)
        elif not more:
            if not no_body or self.head_only:
                lines.append(b"content-length: %d\r\n" % len(body))
        elif not no_body:
            self.chunked = True
            lines.append(b"transfer-encoding: chunked\r\n")
        if close:
            lines.append(b"connection: close\r\n")
        elif self.scope["http_version"] == "1.0":
            lines.append(b"connection: keep-alive\r\n")
        lines.append(b"\r\n")
        head = b"".join(lines)
        if head.count(b"\n") != head.count(b"\r\n"):  # a header value carrying a line break: never sent
            raise RuntimeError("a response header holds a line break")
        self.remaining = length
        if no_body:
            self.conn.write(head)
        elif self.chunked:
            self.conn.write(head + b"%x\r\n%s\r\n" % (len(body), body) if body else head)
        else:
            self._count(body)
            self.conn.write(head + body)

    def _write_body(self, body: bytes, more: bool) -> None:
        if self.head_only or self.status in NO_BODY_STATUS:
            return
        if self.chunked:
            data = b"%x\r\n%s\r\n" % (len(body), body) if body else b""
            self.conn.write(data + b"0\r\n\r\n" if not more else data)
        else:
            self._count(body)
            self.conn.write(body)

    def _count(self, body: bytes) -> None:
        if self.remaining is not None:
            self.remaining -= len(body)
            if self.remaining < 0:
                raise RuntimeError("the response body is longer than its content-length")


class HttpConnection(asyncio.Protocol):
    """One client connection: parses requests, runs the app for each in turn, writes the replies."""

    def __init__(self, server: Server) -> None:
        self.server, self.loop, self.app = server, server.loop, server.app
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.client: tuple[str, int] | None = None
        self.local: tuple[str, int] | None = None
        self.phase, self.since = NEW, time.monotonic()
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.head_size = 0
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
        self.url, self.headers, self.head_size = b"", [], 0
        self.phase, self.since = HEAD, time.monotonic()

    def on_url(self, url: bytes) -> None:
        self.url += url
        if len(self.url) > MAX_URL:
            raise _Refuse(414, "request.uri_too_long", f"the request target is longer than {MAX_URL} bytes")

    def on_header(self, name: bytes, value: bytes) -> None:
        self.head_size += len(name) + len(value) + 4
        if self.head_size > MAX_HEAD:
            raise _Refuse(431, "request.header_too_large", f"the request headers are larger than {MAX_HEAD} bytes")
        self.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        parser = self.parser
        method = parser.get_method().decode("ascii")
        if method == "CONNECT":
            raise _Refuse(405, "request.method", "CONNECT is not supported: jwtgate is not a tunnel")
        version = parser.get_http_version()
        scope = self._scope(method, version)
        expect = version == "1.1" and any(k == b"expect" and v.strip().lower() == b"100-continue"
                                          for k, v in self.headers)
        cycle = Cycle(self, scope, parser.should_keep_alive() and not self.server.draining, expect)
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
        """``Connection: upgrade`` (websocket, h2c): answered as plain HTTP/1.1 when it has no body, then closed;
        llhttp hands any body to the new protocol, so one with a body would be read as empty: refused."""
        cycle = self.reading or (self.queue[-1] if self.queue else self.cycle)
        framing = any(k in (b"content-length", b"transfer-encoding") and v.strip() not in (b"", b"0")
                      for k, v in self.headers)
        if cycle is None or framing:
            self.refuse(_Refuse(400, "request.upgrade", "jwtgate does not upgrade connections; send the request "
                                                        "without 'Connection: upgrade'"))
            return
        cycle.keep_alive = False
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
            if cycle is not None:
                cycle.lost()  # the app, still waiting for this body, hears that the client is gone
            self.close()
            return
        cycle.keep_alive = False  # the reply in flight closes the connection; this request gets none
        cycle.close = cycle.close or cycle.head_written
        self.stopped_reading = True
        self._update_reading()

    def expire(self, now: float, limits: Limits) -> None:
        """The sweeper's check of this connection's timeouts."""
        phase = self.phase
        if self.paused_writing and now - self.write_paused_since > limits.body_timeout:
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
        if self.transport is not None and not self.closed:
            self.closed = True
            self.transport.close()
            self.server.connections.discard(self)

    def abort(self) -> None:
        if self.transport is not None and not self.closed:
            self.closed = True
            self.transport.abort()
            self.server.connections.discard(self)


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


class StartupFailed(Exception):
    """The app's lifespan start-up failed; the server does not start."""


class Server:
    """Runs ``app`` on a listening socket until ``stop()`` (or SIGTERM/SIGINT with ``signals``)."""

    def __init__(self, app: App, limits: Limits, *, shutdown_timeout: float, log: logging.Logger) -> None:
        self.app, self.limits, self.shutdown_timeout, self.log = app, limits, shutdown_timeout, log
        self.connections: set[HttpConnection] = set()
        self.draining = False
        self.started = False
        self._stop: asyncio.Event | None = None
        self._lifespan: _Lifespan | None = None
        self._sweeper: asyncio.TimerHandle | None = None
        self.loop: asyncio.AbstractEventLoop = cast(asyncio.AbstractEventLoop, None)

    async def serve(self, sock: socket.socket, *, signals: bool = True) -> None:
        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._lifespan = _Lifespan(self.app)
        await self._lifespan.startup()
        server = await self.loop.create_server(lambda: HttpConnection(self), sock=sock, backlog=2048)
        if signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                self.loop.add_signal_handler(sig, self.stop)
        self._sweeper = self.loop.call_later(self.limits.tick, self._sweep)
        self.started = True
        try:
            await self._stop.wait()
        finally:
            if self._sweeper is not None:
                self._sweeper.cancel()
            if signals:
                for sig in (signal.SIGTERM, signal.SIGINT):
                    self.loop.remove_signal_handler(sig)
            await self._shutdown(server)

    def stop(self) -> None:
        """Begin the graceful drain (safe to call from the loop's thread, more than once)."""
        if self._stop is not None:
            self._stop.set()

    def _sweep(self) -> None:
        now = time.monotonic()
        for conn in list(self.connections):
            conn.expire(now, self.limits)
        self._sweeper = self.loop.call_later(self.limits.tick, self._sweep)

    async def _shutdown(self, server: asyncio.AbstractServer) -> None:
        self.draining = True
        server.close()
        deadline = self.loop.time() + self.shutdown_timeout
        for conn in list(self.connections):
            conn.drain_close()
        while self.connections and self.loop.time() < deadline:
            now = time.monotonic()
            for conn in list(self.connections):
                conn.expire(now, self.limits)
                if conn.cycle is None and conn.reading is None:
                    conn.close()
            await asyncio.sleep(0.02)
        tasks = [c.task for c in self.connections if c.task is not None and not c.task.done()]
        for conn in list(self.connections):
            conn.abort()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=1.0)
        assert self._lifespan is not None
        await self._lifespan.shutdown()


class _Lifespan:
    """The ASGI lifespan protocol: start-up before the first connection, shut-down after the last."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.inbox: asyncio.Queue[Message] = asyncio.Queue()
        self.events: dict[str, asyncio.Future[str]] = {}
        self.task: asyncio.Task[None] | None = None

    async def startup(self) -> None:
        loop = asyncio.get_running_loop()
        self.events = {"startup": loop.create_future(), "shutdown": loop.create_future()}
        self.task = loop.create_task(self._run())
        await self.inbox.put({"type": "lifespan.startup"})
        outcome = await self.events["startup"]
        if outcome:
            raise StartupFailed(outcome)

    async def shutdown(self) -> None:
        if self.task is None or self.task.done():
            return
        await self.inbox.put({"type": "lifespan.shutdown"})
        done: list[asyncio.Future[Any]] = [self.events["shutdown"], self.task]
        await asyncio.wait(done, timeout=10.0, return_when=asyncio.FIRST_COMPLETED)

    async def _run(self) -> None:
        scope: Scope = {"type": "lifespan", "asgi": ASGI, "state": {}}
        try:
            await self.app(scope, self.inbox.get, self._send)
        finally:
            for fut in self.events.values():
                if not fut.done():
                    fut.set_result("")  # an app without lifespan support starts as it is

    async def _send(self, message: Message) -> None:
        kind: str = message["type"]
        phase, _, result = kind.removeprefix("lifespan.").partition(".")
        fut = self.events.get(phase)
        if fut is not None and not fut.done():
            fut.set_result(str(message.get("message", "failed")) if result == "failed" else "")


def _addr(value: Any) -> tuple[str, int] | None:
    return (str(value[0]), int(value[1])) if isinstance(value, tuple) and len(value) >= 2 else None


def _reason(exc: Exception) -> str:
    text = str(exc).strip()
    return text[:120] if text else type(exc).__name__
