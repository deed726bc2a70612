"""jwtgate's HTTP server with small ASGI apps: how it frames what an app sends, and what it does when an app
misbehaves. Real sockets on 127.0.0.1; the server runs on uvloop in a thread. The request rules against a
real ``jwtgate serve`` are in tests/security/test_http_rules.py and test_inbound_rules.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httptools
import pytest
import uvloop

from jwtgate.server.http_connection import Limits
from jwtgate.server.http_server import Server, StartupFailed

WAIT = 10.0
Handler = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


class Reply:
    """One HTTP response parsed by httptools: status, headers (lower-case names), body, chunked or not."""

    def __init__(self) -> None:
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = b""
        self.done = False

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))

    def on_body(self, body: bytes) -> None:
        self.body += body

    def header(self, name: bytes) -> bytes | None:
        return next((v for k, v in self.headers if k == name), None)


def lifespan_app(handler: Handler, *, fail_startup: bool = False) -> Callable[..., Awaitable[None]]:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    if fail_startup:
                        await send({"type": "lifespan.startup.failed", "message": "no upstream"})
                        return
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await handler(scope, receive, send)

    return app


class Running:
    def __init__(self, server: Server, loop: asyncio.AbstractEventLoop, thread: threading.Thread, port: int) -> None:
        self.server, self.loop, self.thread, self.port = server, loop, thread, port

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.server.stop)
        self.thread.join(WAIT)


@pytest.fixture
def serve() -> Iterator[Callable[..., Running]]:
    running: list[Running] = []

    def start(handler: Handler, *, shutdown_timeout: float = 2.0, limits: Limits | None = None) -> Running:
        sock = socket.create_server(("127.0.0.1", 0))
        server = Server(lifespan_app(handler), limits or Limits(), shutdown_timeout=shutdown_timeout,
                        log=logging.getLogger("jwtgate.server"))
        loop = uvloop.new_event_loop()
        thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(sock, signals=False),),
                                  daemon=True)
        thread.start()
        for _ in range(int(WAIT / 0.01)):
            if server.started or not thread.is_alive():
                break
            time.sleep(0.01)
        assert server.started
        run = Running(server, loop, thread, sock.getsockname()[1])
        running.append(run)
        return run

    yield start
    for run in running:
        run.stop()
        run.loop.close()


class Replies:
    """httptools callbacks collecting every response of a connection."""

    def __init__(self) -> None:
        self.all: list[Reply] = []

    def on_message_begin(self) -> None:
        self.all.append(Reply())

    def on_header(self, name: bytes, value: bytes) -> None:
        self.all[-1].on_header(name, value)

    def on_body(self, body: bytes) -> None:
        self.all[-1].on_body(body)

    def on_headers_complete(self) -> None:
        self.all[-1].status = self.parser.get_status_code()

    def on_message_complete(self) -> None:
        self.all[-1].done = True

    parser: httptools.HttpResponseParser


def exchange(port: int, raw: bytes, replies: int = 1) -> tuple[list[Reply], bool]:
    """Send ``raw``; parse ``replies`` responses; and whether the server then closed the connection."""
    seen = Replies()
    seen.parser = parser = httptools.HttpResponseParser(seen)
    closed = False
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
        sock.sendall(raw)
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline and sum(r.done for r in seen.all) < replies:
            data = sock.recv(65536)
            if not data:
                return seen.all, True
            parser.feed_data(data)
        sock.settimeout(0.3)  # does the server close now?
        try:
            closed = sock.recv(1) == b""
        except TimeoutError:
            closed = False
        except ConnectionResetError:
            closed = True
    return seen.all, closed


def get(path: str = "/", *, method: bytes = b"GET", extra: bytes = b"") -> bytes:
    return method + b" " + path.encode() + b" HTTP/1.1\r\nHost: t\r\n" + extra + b"\r\n"


async def _ok(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"hello", "more_body": False})


def test_a_complete_reply_gets_its_length_a_date_and_keeps_the_connection(serve: Callable[..., Running]) -> None:
    run = serve(_ok)
    (reply,), closed = exchange(run.port, get())
    assert (reply.status, reply.body, reply.header(b"content-length")) == (200, b"hello", b"5")
    assert reply.header(b"date") is not None and reply.header(b"connection") is None
    assert not closed


def test_a_streamed_reply_is_chunked_and_arrives_whole(serve: Callable[..., Running]) -> None:
    async def stream(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
        for i in range(5):
            await send({"type": "http.response.body", "body": b"data: %d\n\n" % i, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": True})  # empty: not a last chunk
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    (reply,), _ = exchange(serve(stream).port, get())
    assert reply.header(b"transfer-encoding") == b"chunked" and reply.header(b"content-length") is None
    assert reply.body == b"".join(b"data: %d\n\n" % i for i in range(5))


def test_head_and_204_replies_carry_no_body(serve: Callable[..., Running]) -> None:
    async def no_content(scope: dict[str, Any], receive: Any, send: Any) -> None:
        status = 204 if scope["path"] == "/empty" else 200
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"" if status == 204 else b"hello", "more_body": False})

    run = serve(no_content)
    with socket.create_connection(("127.0.0.1", run.port), timeout=WAIT) as sock:
        sock.sendall(get(method=b"HEAD") + get("/empty") + get())
        sock.settimeout(1.0)
        data = b""
        while data.count(b"HTTP/1.1") < 3 or not data.endswith(b"hello"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head, empty, full = data.split(b"HTTP/1.1 ")[1:]
    assert head.startswith(b"200") and b"content-length: 5\r\n" in head and head.endswith(b"\r\n\r\n")
    assert empty.startswith(b"204") and b"content-length" not in empty and empty.endswith(b"\r\n\r\n")
    assert full.endswith(b"\r\n\r\nhello")


def test_pipelined_requests_are_answered_in_order_one_at_a_time(serve: Callable[..., Running]) -> None:
    active: list[str] = []
    overlap: list[bool] = []

    async def slow_first(scope: dict[str, Any], receive: Any, send: Any) -> None:
        overlap.append(bool(active))
        active.append(scope["path"])
        await asyncio.sleep(0.05 if scope["path"] == "/1" else 0)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": scope["path"].encode(), "more_body": False})
        active.remove(scope["path"])

    replies, _ = exchange(serve(slow_first).port, get("/1") + get("/2") + get("/3"), replies=3)
    assert [r.body for r in replies] == [b"/1", b"/2", b"/3"]
    assert overlap == [False, False, False]


def test_the_body_arrives_through_receive_and_connection_close_is_honoured(serve: Callable[..., Running]) -> None:
    async def echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    chunked = b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    raw = get(method=b"POST", extra=b"Transfer-Encoding: chunked\r\nConnection: close\r\n") + chunked
    (reply,), closed = exchange(serve(echo).port, raw)
    assert reply.body == b"hello world" and reply.header(b"connection") == b"close" and closed


def test_an_app_error_before_the_reply_is_a_500_in_jwtgates_shape(serve: Callable[..., Running],
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    async def broken(scope: dict[str, Any], receive: Any, send: Any) -> None:
        raise ValueError("boom")

    with caplog.at_level(logging.ERROR, "jwtgate.server"):
        (reply,), closed = exchange(serve(broken).port, get())
    assert reply.status == 500 and b'"code": "jwtgate.internal"' in reply.body and closed
    assert "bug: unhandled error answering GET /" in caplog.text


def test_an_app_that_returns_without_a_reply_is_a_500(serve: Callable[..., Running]) -> None:
    async def silent(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})

    (reply,), closed = exchange(serve(silent).port, get())
    assert reply.status == 500 and closed


def test_a_header_with_a_line_break_is_never_written(serve: Callable[..., Running]) -> None:
    async def injected(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"x-a", b"1\r\nset-cookie: evil=1")]})
        await send({"type": "http.response.body", "body": b"hi", "more_body": False})

    (reply,), _ = exchange(serve(injected).port, get())
    assert reply.status == 500 and reply.header(b"set-cookie") is None


def test_a_reply_longer_than_its_content_length_is_cut(serve: Callable[..., Running]) -> None:
    async def liar(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"3")]})
        await send({"type": "http.response.body", "body": b"abc", "more_body": True})
        await send({"type": "http.response.body", "body": b"SMUGGLED", "more_body": False})

    run = serve(liar)
    with socket.create_connection(("127.0.0.1", run.port), timeout=WAIT) as sock:
        sock.sendall(get())
        data = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
    assert data.endswith(b"\r\n\r\nabc") and b"SMUGGLED" not in data


def test_a_reply_shorter_than_its_content_length_closes_the_connection(serve: Callable[..., Running]) -> None:
    async def short(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"10")]})
        await send({"type": "http.response.body", "body": b"abc", "more_body": False})

    run = serve(short)
    with socket.create_connection(("127.0.0.1", run.port), timeout=WAIT) as sock:
        sock.sendall(get() + get())  # a second request must not be answered into the first one's body
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    assert data.endswith(b"\r\n\r\nabc") and data.count(b"HTTP/1.1 200") == 1


def test_a_client_gone_is_reported_through_receive(serve: Callable[..., Running]) -> None:
    seen: list[str] = []
    done = threading.Event()

    async def waits(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "http.request"
        seen.append((await receive())["type"])  # blocks until the client leaves
        done.set()

    run = serve(waits)
    with socket.create_connection(("127.0.0.1", run.port), timeout=WAIT) as sock:
        sock.sendall(get())
        time.sleep(0.05)
    assert done.wait(WAIT) and seen == ["http.disconnect"]


def test_stop_lets_the_reply_in_flight_finish_and_closes_its_connection(serve: Callable[..., Running]) -> None:
    started = threading.Event()

    async def slow(scope: dict[str, Any], receive: Any, send: Any) -> None:
        started.set()
        await asyncio.sleep(0.3)
        await _ok(scope, receive, send)

    run = serve(slow)
    with socket.create_connection(("127.0.0.1", run.port), timeout=WAIT) as sock:
        sock.sendall(get())
        assert started.wait(WAIT)
        stopper = threading.Thread(target=run.stop)
        stopper.start()
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
        stopper.join(WAIT)
    assert data.startswith(b"HTTP/1.1 200 OK") and b"connection: close" in data and data.endswith(b"hello")
    assert not run.thread.is_alive()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", run.port), timeout=1).close()


def test_stop_cuts_what_outlives_the_shutdown_timeout(serve: Callable[..., Running]) -> None:
    async def forever(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        while True:
            await send({"type": "http.response.body", "body": b"x", "more_body": True})
            await asyncio.sleep(0.02)

    run = serve(forever, shutdown_timeout=0.3)
    with socket.create_connection(("127.0.0.1", run.port), timeout=WAIT) as sock:
        sock.sendall(get())
        assert sock.recv(100).startswith(b"HTTP/1.1 200")
        t0 = time.monotonic()
        run.stop()
        assert not run.thread.is_alive() and time.monotonic() - t0 < WAIT


def test_a_client_that_reads_nothing_is_disconnected_after_body_timeout(serve: Callable[..., Running]) -> None:
    """The reply is not buffered without bound for a client that stopped reading: once the transport's
    buffer is full and nothing drains for ``body_timeout``, the connection is cut and the app told."""
    told = threading.Event()
    chunk = b"x" * 65536

    async def firehose(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for _ in range(2000):  # 128 MiB if nobody stopped it
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        if (await receive())["type"] == "http.disconnect":
            told.set()

    run = serve(firehose, limits=Limits(header_timeout=5, body_timeout=0.5, keepalive_timeout=5))
    with socket.create_connection(("127.0.0.1", run.port), timeout=WAIT) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        sock.sendall(get())
        assert told.wait(WAIT), "the app was never told that the client is gone"
        received = 0
        with contextlib.suppress(OSError):
            while data := sock.recv(1 << 20):
                received += len(data)
    assert received < 64 * 1024 * 1024


def test_a_failed_startup_refuses_to_serve() -> None:
    sock = socket.create_server(("127.0.0.1", 0))
    server = Server(lifespan_app(_ok, fail_startup=True), Limits(), shutdown_timeout=1.0,
                    log=logging.getLogger("jwtgate.server"))
    with sock, pytest.raises(StartupFailed, match="no upstream"):
        asyncio.run(server.serve(sock, signals=False))
    assert not server.started


def test_the_sweeper_ticks_within_bounds() -> None:
    assert Limits(10, 60, 5).tick == 1.0
    assert Limits(0.4, 60, 5).tick == pytest.approx(0.1)
    assert Limits(0.01, 0.01, 0.01).tick == 0.05
