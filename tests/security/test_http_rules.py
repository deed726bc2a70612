"""HTTP/1.1 framing rules through a real ``jwtgate serve``: raw bytes over a socket, as an attacker sends them.

Each probe carries a valid token for an allowed model, so a probe that got through would be forwarded:
every one must be answered 400 and the fake upstream must see none of them (nginx refuses them all).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.security.kit import Kit
from tests.security.upstream import Upstream
from tests.security.wire import BODY, TE, chunked, exchange, request, serving, status


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, upstream: Upstream) -> Iterator[tuple[str, int]]:
    yield from serving(tmp_path_factory.mktemp("http-rules"), upstream)


@pytest.fixture(scope="module")
def token() -> str:
    return Kit(now=time.time(), attacker_url="http://127.0.0.1:9").token()


def refused_by_the_gateway(reply: bytes) -> bool:
    """The 400 came from serve itself (its HTTP parser or jwtgate's rules), not relayed from the upstream."""
    body = reply.partition(b"\r\n\r\n")[2]
    return body == b"Invalid HTTP request received." or b'"code":"request.' in body.replace(b" ", b"")


PROBES = {
    "no-host": {"host": b""},
    "two-hosts": {"host": b"Host: gw\r\nHost: other\r\n"},
    "100k-header": {"extra": b"X-Big: " + b"a" * 100_000 + b"\r\n"},
    "many-headers-40k": {"extra": b"".join(b"X-H%d: %s\r\n" % (i, b"b" * 1000) for i in range(40))},
    "cl-and-te": {"framing": b"Content-Length: 4\r\n" + TE, "body": chunked(BODY)},
    "te-and-cl": {"framing": TE + b"Content-Length: 4\r\n", "body": chunked(BODY)},
    "duplicate-cl-differ": {"framing": b"Content-Length: %d\r\nContent-Length: 4\r\n" % len(BODY)},
    "duplicate-cl-same": {"framing": b"Content-Length: %d\r\nContent-Length: %d\r\n" % (len(BODY), len(BODY))},
    "cl-list": {"framing": b"Content-Length: %d, %d\r\n" % (len(BODY), len(BODY))},
    "cl-negative": {"framing": b"Content-Length: -1\r\n"},
    "cl-not-a-number": {"framing": b"Content-Length: 3a\r\n"},
    "cl-plus-sign": {"framing": b"Content-Length: +%d\r\n" % len(BODY)},
    "chunk-size-not-hex": {"framing": TE, "body": chunked(BODY, b"zz")},
    "chunk-size-negative": {"framing": TE, "body": chunked(BODY, b"-1")},
    "chunk-size-overflow": {"framing": TE, "body": chunked(BODY, b"1" * 40)},
    "te-not-chunked-last": {"framing": b"Transfer-Encoding: chunked, gzip\r\n", "body": chunked(BODY)},
    "te-obfuscated": {"framing": b"Transfer-Encoding: xchunked\r\n", "body": chunked(BODY)},
    "obs-fold": {"extra": b"X-Folded: a\r\n b\r\n"},
    "space-before-colon": {"extra": b"Transfer-Encoding : chunked\r\n"},
    "bare-lf-in-header": {"extra": b"X-A: 1\nX-B: 2\r\n"},
}


@pytest.mark.parametrize("probe", list(PROBES), ids=list(PROBES))
def test_malformed_framing_is_a_400_and_never_reaches_the_upstream(probe: str, gateway: tuple[str, int],
                                                                   token: str, upstream: Upstream) -> None:
    before = upstream.count()
    reply = exchange(gateway, request(token, **PROBES[probe]))  # type: ignore[arg-type]
    assert status(reply) == 400, reply[:300]
    assert refused_by_the_gateway(reply), reply[:300]
    assert upstream.count() == before, "a malformed request reached the upstream"


def test_the_same_request_well_formed_is_forwarded(gateway: tuple[str, int], token: str, upstream: Upstream) -> None:
    """The control: the probes differ from a forwarded request only in the rule they break."""
    before = upstream.count()
    assert status(exchange(gateway, request(token))) == 200
    assert status(exchange(gateway, request(token, framing=TE, body=chunked(BODY)))) == 200
    assert status(exchange(gateway, request(token, host=b"", version=b"HTTP/1.0"))) == 200  # 1.0 needs no Host
    assert upstream.count() == before + 3


def test_a_refused_request_gets_jwtgates_error_body(gateway: tuple[str, int], token: str) -> None:
    reply = exchange(gateway, request(token, host=b"Host: a\r\nHost: b\r\n"))
    assert b'"code":"request.bad_host"' in reply.replace(b" ", b"")


def test_pipelined_requests_are_answered_in_order(gateway: tuple[str, int], token: str, upstream: Upstream) -> None:
    keep = request(token).replace(b"Connection: close\r\n", b"")
    reply = exchange(gateway, keep + keep + request(token))
    assert reply.count(b"HTTP/1.1 200 OK") == 3


def test_expect_100_continue_gets_an_interim_reply_then_the_answer(gateway: tuple[str, int], token: str) -> None:
    reply = exchange(gateway, request(token, extra=b"Expect: 100-continue\r\n"))
    assert reply.startswith(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK")
