"""Fuzzing the wire (hypothesis): mutated bytes of a valid request, sent in random pieces to a real
``jwtgate serve``.

Properties: every reply is one well-formed HTTP/1.1 response (parsed by httptools) or the connection
closes; no input makes jwtgate answer 500 (an internal error is a bug, whatever the bytes); after each
input a valid request on a new connection is still answered 200. The example budget is
``JWTGATE_WIRE_FUZZ_EXAMPLES`` (default 60: a few seconds; an input left incomplete waits ``READ`` for an
answer that does not come).
"""

from __future__ import annotations

import itertools
import os
import socket
import time
from collections.abc import Iterator

import httptools
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.security.kit import Kit
from tests.security.upstream import Upstream
from tests.security.wire import serving

EXAMPLES = int(os.environ.get("JWTGATE_WIRE_FUZZ_EXAMPLES", "60"))
READ = 0.3  # seconds an example waits for its answer
BODY = b'{"model": "small", "messages": []}'
INTERESTING = [b"\r\n", b"\n", b"\r", b" ", b":", b"\x00", b"0", b"\r\n\r\n", b"Transfer-Encoding: chunked\r\n",
               b"Content-Length: 5\r\n", b"Host: x\r\n", b"Expect: 100-continue\r\n", b"\xff", b"%00", b"HTTP/1.0",
               b"GET ", b"http://a/", b"*", b"Connection: upgrade\r\nUpgrade: h2c\r\n", b"5\r\nhello\r\n0\r\n\r\n"]


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, upstream: Upstream) -> Iterator[tuple[str, int]]:
    yield from serving(tmp_path_factory.mktemp("wire-fuzz"), upstream)


@pytest.fixture(scope="module")
def valid() -> bytes:
    token = Kit(now=time.time(), attacker_url="http://127.0.0.1:9").token()
    return (b"POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer " + token.encode()
            + b"\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(BODY)
            + BODY)


class _Replies:
    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.bodies: list[bytes] = []
        self.complete = 0
        self.parser = httptools.HttpResponseParser(self)

    def on_headers_complete(self) -> None:
        self.statuses.append(self.parser.get_status_code())
        self.bodies.append(b"")

    def on_body(self, body: bytes) -> None:
        self.bodies[-1] += body

    def on_message_complete(self) -> None:
        self.complete += 1


def send(gateway: tuple[str, int], pieces: list[bytes]) -> tuple[_Replies, bytes]:
    """Send the pieces one by one; read what comes back within READ (or until the server closes)."""
    replies = _Replies()
    received = b""
    with socket.create_connection(gateway, timeout=READ) as sock:
        try:
            for piece in pieces:
                sock.sendall(piece)
        except OSError:  # the server refused early and closed: what it said is still readable
            pass
        deadline = time.monotonic() + READ
        while time.monotonic() < deadline:
            try:
                data = sock.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not data:
                break
            received += data
    # an interim 100 Continue is a response of its own for the parser: feed what came, whole replies only
    replies.parser.feed_data(received)
    return replies, received


def mutate(raw: bytes, edits: list[tuple[float, int, bytes]]) -> bytes:
    data = bytearray(raw)
    for where, op, text in edits:
        at = int(where * len(data))
        if op == 0:  # insert
            data[at:at] = text
        elif op == 1:  # delete a few bytes
            del data[at:at + max(1, len(text))]
        else:  # overwrite
            data[at:at + len(text)] = text
    return bytes(data)


def split(data: bytes, cuts: list[float]) -> list[bytes]:
    points = sorted({int(c * len(data)) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points) if b > a]


edit = st.tuples(st.floats(0, 1), st.integers(0, 2), st.one_of(st.sampled_from(INTERESTING), st.binary(max_size=6)))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                       HealthCheck.too_slow])
@given(edits=st.lists(edit, min_size=1, max_size=4), cuts=st.lists(st.floats(0, 1), max_size=4))
def test_mutated_requests_get_a_well_formed_answer_never_an_internal_error(
        gateway: tuple[str, int], valid: bytes, edits: list[tuple[float, int, bytes]], cuts: list[float]) -> None:
    replies, received = send(gateway, split(mutate(valid, edits), cuts))
    assert received == b"" or received.startswith(b"HTTP/1.1 "), received[:200]
    assert 500 not in replies.statuses, received[:400]
    assert all(b'"jwtgate.internal"' not in body for body in replies.bodies), received[:400]
    control, _ = send(gateway, [valid])
    assert control.statuses[-1:] == [200], "the gateway stopped answering after a malformed request"
