"""One request on a connection: the ASGI ``receive``/``send`` pair, and the reply framed as HTTP/1.1.

A complete reply goes out in one write (status line, headers, body); a streamed one as chunks, or raw under
the reply's own ``content-length`` (never more than it announced). ``connection``, ``transfer-encoding`` and
``date`` are the server's to set; a header value holding a line break is never written.
"""

from __future__ import annotations

import asyncio
import time
from email.utils import formatdate
from http import HTTPStatus
from typing import Protocol

from jwtgate.server.responses import TRANSIENT, error_body
from jwtgate.server.types import Message, Scope

BODY_BUFFER = 256 * 1024  # request body bytes buffered before reading pauses until the app reads them
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
STATUS_LINES = {s.value: b"HTTP/1.1 %d %s\r\n" % (s.value, s.phrase.encode("latin-1")) for s in HTTPStatus}
NO_BODY_STATUS = frozenset({204, 304})


class Connection(Protocol):
    """What a request needs of its connection (``http_connection.HttpConnection``)."""

    loop: asyncio.AbstractEventLoop

    @property
    def draining(self) -> bool: ...

    def write(self, data: bytes) -> None: ...

    async def drain(self) -> None: ...

    def pause(self, on: bool) -> None: ...

    def cycle_done(self, cycle: Cycle) -> None: ...


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
                     b"x-should-retry: false\r\n" if code not in TRANSIENT else b"", _Date.header(),
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
        "refusal",
        "remaining",
        "scope",
        "started",
        "status",
        "waiter",
    )

    def __init__(self, conn: Connection, scope: Scope, keep_alive: bool, expect_100: bool) -> None:
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
        self.refusal: tuple[int, str, str] | None = None

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

    def lost(self, refusal: tuple[int, str, str] | None = None) -> None:
        """The client is gone, or (``refusal``: status, code, message) the server answered and closed."""
        self.disconnected = True
        self.refusal = refusal
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
        if self.disconnected:  # an extra key tells jwtgate's app why, when the server cut the request
            return {"type": "http.disconnect", "jwtgate.refusal": self.refusal}
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
            if self.remaining and not (self.head_only or self.status in NO_BODY_STATUS):
                self.close = True  # shorter than its content-length: the client must not read on into the next
            self.wake()
            self.conn.cycle_done(self)

    def _write_head(self, body: bytes, more: bool) -> None:
        self.close = close = not self.keep_alive or not self.body_done or self.conn.draining
        lines = [STATUS_LINES.get(self.status) or b"HTTP/1.1 %d \r\n" % self.status]
        length: int | None = None
        written = 0
        for name, value in self.headers:
            if name == b"content-length":
                length = int(value)
                continue
            if name in (b"connection", b"transfer-encoding", b"keep-alive"):
                continue  # the server's own to set
            lines += (name, b": ", value, b"\r\n")
            written += 1
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
        breaks = len(lines) - 3 * written  # one CRLF per line: each header is 4 pieces, the others 1
        if head.count(b"\n") != breaks or head.count(b"\r") != breaks:  # a CR or LF inside a header: never sent
            raise RuntimeError("a response header holds a line break")
        self.head_written = True
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
