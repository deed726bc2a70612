"""The baseline for ``jwtgate serve``: a bare pass-through in the same stack, with no authentication.

    python bench/passthrough.py PORT UPSTREAM_URL

A raw ASGI app on uvicorn (uvloop, httptools, no access log: the options ``jwtgate serve`` runs with)
forwarding every request through one pooled ``aiohttp.ClientSession`` (opened as jwtgate opens it:
no cookie jar, connect and read timeouts; the same garbage-collector settings, see
``jwtgate.server.process.tune_gc``; PASSTHROUGH_DEFAULT_GC=1 leaves Python's defaults) and relaying the reply the way
jwtgate's forwarder does: a small complete reply in one message, a stream (SSE or unknown length) chunk
by chunk as it arrives. What ``jwtgate serve`` costs on top of this is the gateway's own work.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import aiohttp
import uvicorn

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

HOP = {b"connection", b"keep-alive", b"transfer-encoding", b"te", b"upgrade", b"proxy-connection", b"host",
       b"content-length", b"trailer", b"proxy-authorization", b"proxy-authenticate"}
RESPONSE_HOP = (HOP - {b"content-length"}) | {b"date", b"server"}  # the body is relayed byte for byte
BUFFER_LIMIT = 256 * 1024


class Passthrough:
    """Forward everything to ``upstream``; relay status, headers and body."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.session: aiohttp.ClientSession | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
        elif scope["type"] == "http":
            await self.http(scope, receive, send)

    async def lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                # The session jwtgate's UpstreamClient opens, with its default timeouts.
                timeout = aiohttp.ClientTimeout(total=None, connect=10.0, sock_read=600.0)
                connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300)
                self.session = aiohttp.ClientSession(connector=connector, timeout=timeout, auto_decompress=False,
                                                     cookie_jar=aiohttp.DummyCookieJar(), trust_env=False)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.session is not None:
                    await self.session.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"] if k not in HOP]
        query = scope.get("query_string", b"")
        url = self.upstream + scope["path"] + (f"?{query.decode('latin-1')}" if query else "")
        assert self.session is not None
        async with self.session.request(scope["method"], url, headers=headers, data=body or None,
                                        allow_redirects=False,
                                        skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type")) as resp:
            out = [(k, v) for k, v in resp.raw_headers if k.lower() not in RESPONSE_HOP]
            length = resp.content_length
            if length is not None and length <= BUFFER_LIMIT and resp.content_type != "text/event-stream":
                payload = await resp.read()
                await send({"type": "http.response.start", "status": resp.status, "headers": out})
                await send({"type": "http.response.body", "body": payload, "more_body": False})
                return
            await send({"type": "http.response.start", "status": resp.status, "headers": out})
            async for chunk in resp.content.iter_any():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})


def main() -> None:
    port, upstream = int(sys.argv[1]), sys.argv[2]
    config = uvicorn.Config(Passthrough(upstream), host="127.0.0.1", port=port, loop="uvloop", http="httptools",
                            lifespan="on", access_log=False, log_level="warning", proxy_headers=False,
                            server_header=False, backlog=2048)
    if not os.environ.get("PASSTHROUGH_DEFAULT_GC"):  # the collector settings jwtgate serve runs with
        gc.collect()
        gc.freeze()
        gc.set_threshold(7000, 20, 20)
    print(f"passthrough on http://127.0.0.1:{port} -> {upstream}", flush=True)
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
