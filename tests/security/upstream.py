"""A fake LLM upstream on 127.0.0.1 (aiohttp, own thread) that misbehaves on request and records every request.

The request's ``x-test-mode`` header picks the behaviour: '' (JSON echo), 'stream' (SSE, 5 chunks),
'status503', 'reset' (abort before any header), 'stall_headers' (no answer until released or 10 s),
'stall_body' (headers and one chunk, then nothing), 'reset_mid' (headers and one chunk, then abort),
'slow_stream' (SSE: ``x-test-chunks`` chunks, default 10, one every ``x-test-interval`` s, default 0.1).
Each request's JSON body field ``id`` (if any) is recorded with the target and Host it arrived with, so
callers can count deliveries and see what was forwarded; a slow stream whose reader went away is in ``cut``.
A request the upstream's own HTTP parser refuses (too many headers, a long line) is counted too: it was
forwarded, even though no handler saw it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections import Counter
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

WAIT = 10.0
SERVER_LOG = logging.getLogger("aiohttp.server")  # where aiohttp reports a request its parser refused


class _Refused(logging.Handler):
    """Counts the requests aiohttp's parser refused (400 before any handler) as requests received."""

    def __init__(self, upstream: Upstream) -> None:
        super().__init__(logging.ERROR)
        self.upstream = upstream

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and isinstance(record.exc_info[1], HttpProcessingError):
            with self.upstream._lock:
                self.upstream.total += 1


class Upstream:
    """Start with ``start()``; ``url``; ``ids`` counts deliveries per body id; ``total`` every request."""

    def __init__(self) -> None:
        self.ids: Counter[str] = Counter()
        self.targets: dict[str, tuple[str, str]] = {}  # id -> (request target, Host) as received
        self.cut: set[str] = set()  # ids of slow streams whose connection closed before their end
        self._cut_seen = threading.Condition()
        self.total = 0
        self.release = threading.Event()
        self._lock = threading.Lock()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.runner: web.AppRunner | None = None
        self.refused = _Refused(self)
        self.url = ""

    def start(self) -> Upstream:
        SERVER_LOG.addHandler(self.refused)
        self.thread.start()
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self.runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
        self._call(self.runner.setup())
        self._call(web.TCPSite(self.runner, "127.0.0.1", 0).start())
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"
        return self

    def stop(self) -> None:
        self.release.set()
        if self.runner is not None:
            self._call(self.runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(WAIT)
        self.loop.close()
        SERVER_LOG.removeHandler(self.refused)

    def count(self) -> int:
        """Requests received: handled, or refused by aiohttp's parser."""
        with self._lock:
            return self.total

    def wait_cut(self, ident: str, timeout: float) -> bool:
        """Has the slow stream of request ``ident`` lost its connection (within ``timeout`` s)?"""
        with self._cut_seen:
            return self._cut_seen.wait_for(lambda: ident in self.cut, timeout)

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(WAIT)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            ident = json.loads(raw).get("id") if raw else None
        except (ValueError, AttributeError):
            ident = None
        with self._lock:
            self.total += 1
            if isinstance(ident, str):
                self.ids[ident] += 1
                self.targets[ident] = (request.raw_path, request.headers.get("Host", ""))
        mode = request.headers.get("x-test-mode", "")
        if mode == "reset":
            assert request.transport is not None
            request.transport.abort()
            return web.Response()
        if mode == "stall_headers":
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, WAIT)
        if mode == "status503":
            return web.json_response({"error": {"message": "overloaded"}}, status=503)
        if mode in ("stream", "stall_body", "reset_mid"):
            return await self._stream(request, mode)
        if mode == "slow_stream":
            return await self._slow_stream(request, ident if isinstance(ident, str) else "")
        return web.json_response({"object": "echo", "id": ident})

    async def _stream(self, request: web.Request, mode: str) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(b'data: {"chunk": 0}\n\n')
        if mode == "reset_mid":
            assert request.transport is not None
            request.transport.abort()
            return resp
        if mode == "stall_body":
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, WAIT)
        for i in range(1, 5):
            await resp.write(f'data: {{"chunk": {i}}}\n\n'.encode())
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp

    async def _slow_stream(self, request: web.Request, ident: str) -> web.StreamResponse:
        chunks = int(request.headers.get("x-test-chunks", "10"))
        interval = float(request.headers.get("x-test-interval", "0.1"))
        resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
        try:
            await resp.prepare(request)
            for i in range(chunks):
                await resp.write(f'data: {{"chunk": {i}}}\n\n'.encode())
                await asyncio.sleep(interval)
            await resp.write(b"data: [DONE]\n\n")
            await resp.write_eof()
        except ConnectionError:
            self._cut(ident)
        except asyncio.CancelledError:
            self._cut(ident)
            raise
        return resp

    def _cut(self, ident: str) -> None:
        with self._cut_seen:
            self.cut.add(ident)
            self._cut_seen.notify_all()
