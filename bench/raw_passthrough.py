"""The Python floor for the serve benchmark: a passthrough on asyncio Protocols, httptools on both sides.

    python bench/raw_passthrough.py PORT UPSTREAM_URL

Inbound: one Protocol per client connection, requests parsed by httptools, one task per request (no
pipelining: reading pauses while a request is in flight). Upstream: jwtgate's own pooled keep-alive
client (``jwtgate.server.http_client``). No authentication, no model check, no log, no metrics: what a
Python proxy costs before it does anything, so ``jwtgate serve``'s ratio to it is jwtgate's own price.
Hop-by-hop headers are dropped; a reply of known length is sent with it, any other re-chunked.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import cast

import httptools
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jwtgate.server.http_client import HttpClient, UpstreamError

HOP = frozenset({b"connection", b"keep-alive", b"transfer-encoding", b"te", b"trailer", b"upgrade", b"host",
                 b"content-length", b"proxy-authorization", b"proxy-authenticate"})
BAD_GATEWAY = b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


class Inbound(asyncio.Protocol):
    def __init__(self, client: HttpClient, upstream: str) -> None:
        self.client, self.upstream = client, upstream
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.url = b""
        self.headers: list[tuple[str, str]] = []
        self.body: list[bytes] = []
        self.task: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            assert self.transport is not None
            self.transport.write(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            self.transport.close()

    def on_message_begin(self) -> None:
        self.url, self.headers, self.body = b"", [], []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() not in HOP:
            self.headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        assert self.transport is not None
        self.transport.pause_reading()
        method = self.parser.get_method().decode()
        keep = self.parser.should_keep_alive()
        url, body = self.url.decode("latin-1"), b"".join(self.body)
        self.task = asyncio.ensure_future(self.relay(method, url, self.headers, body, keep))

    async def relay(self, method: str, url: str, headers: list[tuple[str, str]], body: bytes, keep: bool) -> None:
        transport = self.transport
        assert transport is not None
        try:
            async with self.client.request(method, self.upstream + url, headers, body) as resp:
                head = [b"HTTP/1.1 %d \r\n" % resp.status]
                head += [k + b": " + v + b"\r\n" for k, v in resp.headers if k.lower() not in HOP]
                if resp.content_length is not None and resp.content_type != "text/event-stream":
                    data = await resp.read()
                    head.append(b"content-length: %d\r\n\r\n" % len(data))
                    transport.write(b"".join(head) + data)
                else:
                    head.append(b"transfer-encoding: chunked\r\n\r\n")
                    transport.write(b"".join(head))
                    async for chunk in resp.iter_chunks():
                        transport.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    transport.write(b"0\r\n\r\n")
        except UpstreamError:
            transport.write(BAD_GATEWAY)
            keep = False
        if keep:
            transport.resume_reading()
        else:
            transport.close()


async def serve(port: int, upstream: str) -> None:
    client = HttpClient(connect_timeout=10.0, read_timeout=600.0)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Inbound(client, upstream.rstrip("/")), "127.0.0.1", port,
                                      backlog=2048, reuse_address=True)
    print(f"raw passthrough on http://127.0.0.1:{port} -> {upstream}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    uvloop.run(serve(int(sys.argv[1]), sys.argv[2]))


if __name__ == "__main__":
    main()
