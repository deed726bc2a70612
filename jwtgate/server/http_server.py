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

The parts: ``http_server`` (listening, lifespan, drain), ``http_connection`` (parsing, limits, timeouts,
pipelining), ``http_cycle`` (one request's ASGI calls and its reply on the wire).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import time
from collections.abc import Callable
from typing import Any, cast

from jwtgate.server.http_connection import ASGI, LINGERING, App, HttpConnection, Limits
from jwtgate.server.types import Message, Scope


class StartupFailed(Exception):
    """The app's lifespan start-up failed; the server does not start."""


class Server:
    """Runs ``app`` on a listening socket until ``stop()`` (or SIGTERM/SIGINT with ``signals``)."""

    def __init__(self, app: App, limits: Limits, *, shutdown_timeout: float, log: logging.Logger,
                 on_refusal: Callable[[int, str], None] | None = None) -> None:
        self.app, self.limits, self.shutdown_timeout, self.log = app, limits, shutdown_timeout, log
        self.on_refusal = on_refusal  # told of each request the server answered itself (status, reason code)
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

    def refused(self, status: int, code: str) -> None:
        if self.on_refusal is not None:
            try:
                self.on_refusal(status, code)
            except Exception:
                self.log.exception("bug: recording a refusal failed")

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
        busy = sum(1 for c in self.connections if c.cycle is not None or c.reading is not None)
        self.log.info("draining: no new connections; %d request(s) in flight get up to %g s", busy,
                      self.shutdown_timeout)
        deadline = self.loop.time() + self.shutdown_timeout
        for conn in list(self.connections):
            conn.drain_close()
        while any(c.phase != LINGERING for c in self.connections) and self.loop.time() < deadline:
            now = time.monotonic()
            for conn in list(self.connections):
                conn.expire(now, self.limits)
                if conn.cycle is None and conn.reading is None:
                    conn.close()
            await asyncio.sleep(0.02)
        tasks = [c.task for c in self.connections if c.task is not None and not c.task.done()]
        if tasks:
            self.log.warning("drain: %d request(s) still in flight after %g s were cut", len(tasks),
                             self.shutdown_timeout)
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
