"""The upstream client against a real loopback server that answers with scripted raw HTTP/1.1 bytes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from jwtgate.server.http_client import ConnectFailed, HttpClient, Reset, Timeout

WAIT = 5.0
CL = b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 12\r\n\r\n{"ok": true}'
CHUNKED = (b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n"
           b"7\r\ndata: 1\r\n7\r\ndata: 2\r\n0\r\n\r\n")
REPLIES = {
    "/cl": [CL],
    "/chunked": [CHUNKED],
    "/close": [b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok"],
    "/eof": [b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the end", None],
    "/cut": [CHUNKED[:CHUNKED.index(b"7\r\ndata: 2")], None],
    "/partial": [CHUNKED[:CHUNKED.index(b"7\r\ndata: 2")]],
    "/continue": [b"HTTP/1.1 100 Continue\r\n\r\n", CL],
    "/head": [b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n"],
    "/garbage": [b"HTTP/1.1 2xx nonsense\r\n\r\n"],
    "/silent": [],
}


class Script:
    """A loopback server: each request's path picks REPLIES[path] (None = close the connection)."""

    def __init__(self) -> None:
        self.connections = 0
        self.heads: list[bytes] = []
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None
        self.url = ""

    async def __aenter__(self) -> Script:
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.close()
        await asyncio.gather(*(w.wait_closed() for w in self.writers), return_exceptions=True)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.heads.append(head)
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                await reader.readexactly(length)
                for part in REPLIES[head.split(b" ")[1].decode().partition("?")[0]]:
                    if part is None:
                        writer.close()
                        return
                    writer.write(part)
                    await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()


def run(test: Callable[[Script, HttpClient], Awaitable[Any]], read_timeout: float = WAIT) -> Any:
    async def main() -> Any:
        client = HttpClient(connect_timeout=WAIT, read_timeout=read_timeout)
        try:
            async with Script() as script:
                return await asyncio.wait_for(test(script, client), WAIT * 2)
        finally:
            await client.close()
    return asyncio.run(main())


async def get(client: HttpClient, url: str, method: str = "POST") -> tuple[int, bytes]:
    async with client.request(method, url, [("content-type", "application/json")], b"{}") as resp:
        return resp.status, await resp.read()


def test_content_length_reply_then_the_connection_is_reused() -> None:
    async def test(script: Script, client: HttpClient) -> tuple[Any, ...]:
        first = await get(client, script.url + "/cl?x=1")
        second = await get(client, script.url + "/cl")
        return first, second, script.connections, script.heads[0].split(b"\r\n")[:2]

    first, second, connections, head = run(test)
    assert first == second == (200, b'{"ok": true}')
    assert connections == 1
    assert head[0] == b"POST /cl?x=1 HTTP/1.1" and head[1].startswith(b"host: 127.0.0.1:")


def test_chunked_reply_streams_chunk_by_chunk_and_the_connection_is_reused() -> None:
    async def test(script: Script, client: HttpClient) -> tuple[Any, ...]:
        async with client.request("POST", script.url + "/chunked", [], b"{}") as resp:
            chunks = [c async for c in resp.iter_chunks()]
            ctype = resp.content_type
        await get(client, script.url + "/cl")
        return b"".join(chunks), ctype, script.connections

    assert run(test) == (b"data: 1data: 2", "text/event-stream", 1)


@pytest.mark.parametrize("path", ["/close", "/head"])
def test_a_connection_is_not_reused_after_connection_close_or_head(path: str) -> None:
    async def test(script: Script, client: HttpClient) -> tuple[Any, ...]:
        first = await get(client, script.url + path, "HEAD" if path == "/head" else "POST")
        await get(client, script.url + "/cl")
        return first, script.connections

    first, connections = run(test)
    assert first == (200, b"" if path == "/head" else b"ok") and connections == 2


def test_an_abandoned_reply_closes_its_connection() -> None:
    async def test(script: Script, client: HttpClient) -> int:
        async with client.request("POST", script.url + "/partial", [], b"") as resp:
            assert resp.status == 200  # the body is left unfinished
        await get(client, script.url + "/cl")
        return script.connections

    assert run(test) == 2


def test_body_until_the_connection_ends_and_interim_replies_are_skipped() -> None:
    async def test(script: Script, client: HttpClient) -> tuple[Any, ...]:
        return await get(client, script.url + "/eof"), await get(client, script.url + "/continue")

    assert run(test) == ((200, b"until the end"), (200, b'{"ok": true}'))


@pytest.mark.parametrize(("path", "error"), [("/cut", Reset), ("/garbage", Reset), ("/silent", Timeout)])
def test_failures_are_the_clients_own_errors(path: str, error: type[Exception]) -> None:
    async def test(script: Script, client: HttpClient) -> None:
        async with client.request("POST", script.url + path, [], b"") as resp:
            async for _ in resp.iter_chunks():
                pass

    with pytest.raises(error):
        run(test, read_timeout=0.2)


def test_refused_connection_and_line_breaks_in_headers() -> None:
    async def refused(script: Script, client: HttpClient) -> None:
        assert script.server is not None
        script.server.close()
        await script.server.wait_closed()
        await get(client, script.url + "/cl")

    async def injected(script: Script, client: HttpClient) -> int:
        with pytest.raises(Reset, match="line break"):
            async with client.request("GET", script.url + "/cl", [("x-a", "1\r\nx-b: 2")]):
                pass
        return len(script.heads)

    with pytest.raises(ConnectFailed):
        run(refused)
    assert run(injected) == 0
