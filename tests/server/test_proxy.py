"""Forwarding end to end: jwtgate's HTTP server on 127.0.0.1 in front of a real aiohttp upstream on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import uvloop

from jwtgate.server.app import create_app
from jwtgate.server.http_server import Server
from jwtgate.server.process import http_server
from tests.server.conftest import WAIT, FakeUpstream, Keys, StateFactory

DEV = {"roles": ["gw-dev"]}
Gateway = Callable[..., str]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def gateway(make_state: StateFactory) -> Iterator[Gateway]:
    """Start jwtgate on its HTTP server (uvloop) in a thread, on an ephemeral port; returns its URL."""
    running: list[tuple[Server, asyncio.AbstractEventLoop, threading.Thread, socket.socket]] = []

    def start(**flags: Any) -> str:
        state = make_state(**flags)
        sock = socket.create_server(("127.0.0.1", 0))
        server = http_server(create_app(state), state.settings)
        loop = uvloop.new_event_loop()
        thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(sock, signals=False),),
                                  daemon=True)
        thread.start()
        ready = threading.Event()
        for _ in range(int(WAIT / 0.01)):
            if server.started or not thread.is_alive():
                break
            ready.wait(0.01)
        assert server.started, "the server did not start"
        running.append((server, loop, thread, sock))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"

    yield start
    for server, loop, thread, sock in running:
        loop.call_soon_threadsafe(server.stop)
        thread.join(WAIT)
        loop.close()
        sock.close()


def post(url: str, keys: Keys, body: dict[str, Any], **kw: Any) -> httpx.Response:
    return httpx.post(url + "/v1/chat/completions", json=body, timeout=WAIT,
                      headers={"authorization": f"Bearer {keys.token(DEV)}"}, **kw)


def test_allowed_request_round_trip(gateway: Gateway, keys: Keys, upstream: FakeUpstream) -> None:
    url = gateway()
    r = post(url, keys, {"model": "gpt-4o"})
    assert r.status_code == 200
    assert r.json()["seen"]["body"] == {"model": "gpt-4o"}
    assert r.headers["content-length"] == str(len(r.content))


def test_stream_arrives_before_the_upstream_sends_its_last_chunk(gateway: Gateway, keys: Keys,
                                                                 upstream: FakeUpstream) -> None:
    url = gateway()
    headers = {"authorization": f"Bearer {keys.token(DEV)}"}
    with httpx.stream("POST", url + "/v1/chat/completions", json={"model": "gpt-4o", "stream": True, "mode": "pause"},
                      headers=headers, timeout=WAIT) as r:
        assert r.headers["content-type"] == "text/event-stream"
        chunks = r.iter_raw()
        first = next(chunks)
        assert b'{"chunk": 0}' in first
        assert upstream.log.chunks_sent == 1  # the upstream is paused: it has not sent the rest yet
        upstream.log.release.set()
        rest = b"".join(chunks)
    assert rest.count(b"data: ") == 20 and rest.endswith(b"data: [DONE]\n\n")


def test_client_disconnect_closes_the_upstream_stream(gateway: Gateway, keys: Keys, upstream: FakeUpstream) -> None:
    url = gateway()
    headers = {"authorization": f"Bearer {keys.token(DEV)}"}
    with httpx.stream("POST", url + "/v1/chat/completions", json={"model": "gpt-4o", "stream": True,
                      "mode": "endless"}, headers=headers, timeout=WAIT) as r:
        assert b'{"chunk": 0}' in next(r.iter_raw())
    assert upstream.log.stream_closed.wait(WAIT), "the upstream kept streaming to a client that had left"


@pytest.mark.parametrize(("mode", "status", "code"), [
    ("slow", 504, "upstream.timeout"),
    ("reset", 502, "upstream.reset"),
], ids=["slow", "reset"])
def test_upstream_faults(gateway: Gateway, keys: Keys, upstream: FakeUpstream, mode: str, status: int,
                         code: str) -> None:
    url = gateway(timeout=0.3)
    r = post(url, keys, {"model": "gpt-4o", "mode": mode})
    assert (r.status_code, r.json()["error"]["code"]) == (status, code)


def test_upstream_down_is_502(gateway: Gateway, keys: Keys) -> None:
    url = gateway(upstream=f"http://127.0.0.1:{free_port()}")
    r = post(url, keys, {"model": "gpt-4o"})
    assert (r.status_code, r.json()["error"]["code"]) == (502, "upstream.unreachable")


def test_oversize_body_is_413_before_the_upstream(gateway: Gateway, keys: Keys, upstream: FakeUpstream) -> None:
    url = gateway(extra="    max_body_bytes: 1024\n")
    r = post(url, keys, {"model": "gpt-4o", "pad": "x" * 4096})
    assert (r.status_code, r.json()["error"]["code"]) == (413, "request.too_large")
    assert upstream.log.requests == []


def test_denied_and_missing_over_the_wire(gateway: Gateway, keys: Keys, upstream: FakeUpstream) -> None:
    url = gateway()
    assert post(url, keys, {"model": "o1-secret"}).status_code == 403
    r = httpx.post(url + "/v1/chat/completions", json={"model": "gpt-4o"}, timeout=WAIT)
    assert (r.status_code, r.headers["www-authenticate"]) == (401, 'Bearer realm="jwtgate"')
    assert upstream.log.requests == []
