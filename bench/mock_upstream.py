"""A fast mock of an OpenAI-style upstream for the serve benchmark: raw asyncio + httptools on uvloop.

    python bench/mock_upstream.py PORT

Any request gets a small chat-completion JSON; a body containing ``"stream": true`` gets a Server-Sent
Events reply of 20 chunks (19 deltas and ``data: [DONE]``), chunk-encoded, each chunk its own write with
a loop turn in between so a proxy sees them arrive one by one. HTTP/1.1 keep-alive; no pipelining.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import cast

import httptools

REPLY = json.dumps({
    "id": "chatcmpl-bench", "object": "chat.completion", "created": 1700000000, "model": "gpt-4o-mini",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello! How can I help?"},
                 "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 9, "completion_tokens": 7, "total_tokens": 16},
}).encode()
JSON_RESPONSE = (b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n"
                 % len(REPLY)) + REPLY
SSE_HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n" \
           b"transfer-encoding: chunked\r\n\r\n"
CHUNKS = 20


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


SSE_CHUNKS = [_chunk(b'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","choices":[{"index":0,'
                     b'"delta":{"content":"tok%d"}}]}\n\n' % i) for i in range(CHUNKS - 1)]
SSE_CHUNKS.append(_chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n")


class Upstream(asyncio.Protocol):
    """One connection: parse requests with httptools, answer each when its body is complete."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.body: list[bytes] = []
        self.streaming: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not asyncio subclasses

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            assert self.transport is not None
            self.transport.close()

    def on_message_begin(self) -> None:
        self.body = []

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        assert self.transport is not None
        body = b"".join(self.body)
        if b'"stream": true' in body or b'"stream":true' in body:
            self.transport.pause_reading()  # no pipelining: the next request waits for this stream
            self.streaming = asyncio.ensure_future(self.stream(self.transport, self.parser.should_keep_alive()))
            return
        self.transport.write(JSON_RESPONSE)
        if not self.parser.should_keep_alive():
            self.transport.close()

    async def stream(self, transport: asyncio.Transport, keep_alive: bool) -> None:
        transport.write(SSE_HEAD)
        for chunk in SSE_CHUNKS:
            transport.write(chunk)
            await asyncio.sleep(0)
        if keep_alive:
            transport.resume_reading()
        else:
            transport.close()


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Upstream, "127.0.0.1", port, backlog=2048, reuse_address=True)
    print(f"mock upstream on http://127.0.0.1:{port}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    import uvloop

    uvloop.run(serve(int(sys.argv[1])))


if __name__ == "__main__":
    main()
