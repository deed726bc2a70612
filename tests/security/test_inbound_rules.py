"""The inbound HTTP/1.1 rules a server library used to give for free, through a real ``jwtgate serve``.

Raw bytes over sockets on 127.0.0.1, as slow, broken or hostile clients send them: slow headers and bodies
(``header_timeout``, ``body_timeout``), idle keep-alive connections (``keepalive_timeout``), absolute-form
and odd request targets, ``Expect: 100-continue`` refused early, size limits, ``Connection: close``, a
client gone mid-stream, a graceful drain on SIGTERM, and garbage. Framing probes, pipelining and the
100-continue happy path are in test_http_rules.py. Requests carry a valid token for an allowed model unless
the test says otherwise, so one that got past a rule would be forwarded: the fake upstream counts them.
"""

from __future__ import annotations

import contextlib
import json
import select
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.security.kit import Kit, write_world
from tests.security.served import WAIT, Served, serve_args
from tests.security.upstream import Upstream
from tests.security.wire import (
    TE,
    Address,
    Talk,
    chat,
    read_reply,
    read_to_close,
    read_until,
    reply,
    request,
    status,
    talk,
)

HEADER_TIMEOUT = 0.5
BODY_TIMEOUT = 1.0
KEEPALIVE_TIMEOUT = 1.0
MAX_BODY = 4096
SLACK = 2.5  # how late a timeout may act on a loaded 2-core machine; well under the defaults' 5-60 s
SERVE = (f"    header_timeout: {HEADER_TIMEOUT}\n    body_timeout: {BODY_TIMEOUT}\n"
         f"    keepalive_timeout: {KEEPALIVE_TIMEOUT}\n    max_body_bytes: {MAX_BODY}\n")
FIRST_CHUNK = b'"chunk": 0'


def start(directory: Path, upstream: Upstream, serve: str) -> Served:
    config, _ = write_world(directory, serve=serve)
    return Served(serve_args(config, upstream.url), {"JWTGATE_CACHE_DIR": str(directory / "cache")}).listening()


def address(served: Served) -> Address:
    host, port = served.url.removeprefix("http://").split(":")
    return host, int(port)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, upstream: Upstream) -> Iterator[Served]:
    server = start(tmp_path_factory.mktemp("inbound-rules"), upstream, SERVE)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def gateway(served: Served) -> Address:
    return address(served)


@pytest.fixture(scope="module")
def kit() -> Kit:
    return Kit(now=time.time())


@pytest.fixture(scope="module")
def token(kit: Kit) -> str:
    return kit.token()


@pytest.fixture(scope="module")
def admin(kit: Kit) -> str:
    """A proxy_admin's token: every route is allowed, so only the HTTP rules can stop its requests."""
    return kit.token(resource_access={"app": {"roles": ["llm-admin"]}})


@pytest.fixture
def decoy() -> Iterator[socket.socket]:
    """A listener on 127.0.0.1 that a request names as its authority: the gateway must never connect to it."""
    sock = socket.create_server(("127.0.0.1", 0))
    sock.setblocking(False)
    try:
        yield sock
    finally:
        sock.close()


def contacted(decoy: socket.socket) -> bool:
    try:
        conn, _ = decoy.accept()
    except BlockingIOError:
        return False
    conn.close()
    return True


def slow_stream(chunks: int, interval: float) -> bytes:
    """Headers asking the fake upstream for an SSE stream of ``chunks`` chunks, one every ``interval`` s."""
    return b"x-test-mode: slow_stream\r\nx-test-chunks: %d\r\nx-test-interval: %g\r\n" % (chunks, interval)


def assert_timed_out(outcome: Talk, waited: float) -> None:
    assert outcome.data, f"no reply in {waited:g} s (connection {'closed' if outcome.closed else 'still open'})"
    answer = reply(outcome.data)
    assert (answer.status, answer.error_code()) == (408, "request.timeout"), outcome.data[:300]
    assert "x-should-retry" not in answer.headers, "a timed-out request may succeed when retried"
    assert outcome.closed, "the connection stayed open after the 408"


# --- slow clients -------------------------------------------------------------------------------------


def test_a_stalled_request_head_is_a_408_and_the_connection_closed(gateway: Address, token: str,
                                                                   upstream: Upstream) -> None:
    before = upstream.count()
    head = request(token).split(b"Content-Type")[0]  # the request line, Host and the token: then nothing
    outcome = talk(gateway, head, within=HEADER_TIMEOUT + SLACK)
    assert_timed_out(outcome, HEADER_TIMEOUT + SLACK)
    assert upstream.count() == before


def test_a_head_trickled_a_byte_at_a_time_still_times_out_from_its_first_byte(gateway: Address, token: str,
                                                                              upstream: Upstream) -> None:
    """Slowloris: each byte comes well within any per-read timeout, the whole head never in time."""
    before = upstream.count()
    raw = request(token)
    with socket.create_connection(gateway, timeout=WAIT) as sock:
        deadline = time.monotonic() + HEADER_TIMEOUT + SLACK
        sent = 0
        while sent < len(raw) and time.monotonic() < deadline:
            sock.sendall(raw[sent:sent + 1])
            sent += 1
            if select.select([sock], [], [], 0.05)[0]:  # the server answered: stop sending
                break
        outcome = read_to_close(sock, max(deadline - time.monotonic(), 0.5))
    assert sent < len(raw), "the whole request was trickled in before any timeout"
    assert_timed_out(outcome, HEADER_TIMEOUT + SLACK)
    assert upstream.count() == before


def test_a_stalled_second_head_on_a_keep_alive_connection_is_a_408(gateway: Address, token: str,
                                                                   upstream: Upstream) -> None:
    with socket.create_connection(gateway, timeout=WAIT) as sock:
        sock.sendall(request(token, close=False))
        assert read_reply(sock).status == 200
        before = upstream.count()
        sock.sendall(request(token).split(b"Content-Type")[0])
        outcome = read_to_close(sock, HEADER_TIMEOUT + SLACK)
    assert_timed_out(outcome, HEADER_TIMEOUT + SLACK)
    assert upstream.count() == before


STALLED_BODIES = {  # 10 bytes of the body, then nothing
    "content-length": {"framing": b"Content-Length: 100\r\n", "body": b'{"model": '},
    "chunked": {"framing": TE, "body": b"64\r\n" + b'{"model": '},
}


@pytest.mark.parametrize("framing", list(STALLED_BODIES), ids=list(STALLED_BODIES))
def test_a_stalled_body_is_a_408_and_nothing_is_forwarded(framing: str, gateway: Address, token: str,
                                                          upstream: Upstream) -> None:
    before = upstream.count()
    head = request(token, **STALLED_BODIES[framing])  # type: ignore[arg-type]
    outcome = talk(gateway, head, within=BODY_TIMEOUT + SLACK)
    assert_timed_out(outcome, BODY_TIMEOUT + SLACK)
    assert upstream.count() == before


def test_a_body_whose_pauses_are_shorter_than_body_timeout_is_forwarded(gateway: Address, token: str,
                                                                         upstream: Upstream) -> None:
    """body_timeout bounds each pause, not the whole body (nginx's client_body_timeout)."""
    body = chat(ident="paused-body")
    parts = [body[i:i + len(body) // 4 + 1] for i in range(0, len(body), len(body) // 4 + 1)]
    with socket.create_connection(gateway, timeout=WAIT) as sock:
        sock.sendall(request(token, body=b"", framing=b"Content-Length: %d\r\n" % len(body)))
        for part in parts:
            time.sleep(BODY_TIMEOUT * 0.4)  # 4 pauses: longer than body_timeout in all
            sock.sendall(part)
        assert read_reply(sock).status == 200
    assert upstream.ids["paused-body"] == 1


def test_a_connection_that_never_sends_a_byte_is_closed_silently(gateway: Address) -> None:
    waited = max(HEADER_TIMEOUT, KEEPALIVE_TIMEOUT) + SLACK
    with socket.create_connection(gateway, timeout=WAIT) as sock:
        outcome = read_to_close(sock, waited)
    assert outcome.closed, f"a connection that sent nothing was still open after {waited:g} s"
    assert outcome.data == b""


def test_an_idle_keep_alive_connection_is_closed_silently(gateway: Address, token: str) -> None:
    with socket.create_connection(gateway, timeout=WAIT) as sock:
        sock.sendall(request(token, close=False))
        assert read_reply(sock).status == 200
        outcome = read_to_close(sock, KEEPALIVE_TIMEOUT + SLACK)
    assert outcome.closed, f"an idle connection was still open {KEEPALIVE_TIMEOUT + SLACK} s after its reply"
    assert outcome.data == b""


def test_a_keep_alive_connection_used_within_the_timeout_serves_request_after_request(
        gateway: Address, token: str, upstream: Upstream) -> None:
    before = upstream.count()
    with socket.create_connection(gateway, timeout=WAIT) as sock:
        for i in range(4):  # 3 pauses of 0.4 x keepalive_timeout: the idle time, not the connection's age, counts
            if i:
                time.sleep(KEEPALIVE_TIMEOUT * 0.4)
            sock.sendall(request(token, body=chat(ident=f"kept-{i}"), close=False))
            assert read_reply(sock).status == 200, f"request {i + 1} on the connection"
    assert upstream.count() == before + 4


# --- request targets ----------------------------------------------------------------------------------


def _absolute(gateway: Address, authority: bytes, token: str, model: str, ident: str) -> bytes:
    target = b"http://" + authority + b"/v1/chat/completions"
    return request(token, target=target, host=b"Host: %s:%d\r\n" % (gateway[0].encode(), gateway[1]),
                   body=chat(model, ident))


def test_an_absolute_form_target_is_decided_and_forwarded_as_origin_form(gateway: Address, token: str,
                                                                         upstream: Upstream) -> None:
    own = b"%s:%d" % (gateway[0].encode(), gateway[1])
    origin = reply(talk(gateway, request(token, body=chat("small", "origin-form"))).data)
    absolute = reply(talk(gateway, _absolute(gateway, own, token, "small", "absolute-form")).data)
    assert (origin.status, absolute.status) == (200, 200)
    upstream_host = upstream.url.removeprefix("http://")
    assert upstream.targets["absolute-form"] == ("/v1/chat/completions", upstream_host)
    assert upstream.targets["absolute-form"] == upstream.targets["origin-form"]


def test_an_absolute_form_target_naming_another_host_never_reaches_it(gateway: Address, token: str,
                                                                      upstream: Upstream,
                                                                      decoy: socket.socket) -> None:
    authority = b"127.0.0.1:%d" % decoy.getsockname()[1]
    answer = reply(talk(gateway, _absolute(gateway, authority, token, "small", "absolute-elsewhere")).data)
    assert answer.status == 200 or 400 <= answer.status < 500, answer
    assert not contacted(decoy), "the gateway connected to the host an absolute-form target named"
    if answer.status == 200:
        assert upstream.targets["absolute-elsewhere"] == ("/v1/chat/completions", upstream.url.removeprefix("http://"))


def test_a_refused_model_in_absolute_form_is_refused_as_in_origin_form(gateway: Address, token: str,
                                                                       upstream: Upstream) -> None:
    before = upstream.count()
    own = b"%s:%d" % (gateway[0].encode(), gateway[1])
    origin = reply(talk(gateway, request(token, body=chat("big", "origin-big"))).data)
    absolute = reply(talk(gateway, _absolute(gateway, own, token, "big", "absolute-big")).data)
    assert origin.status == 403
    assert (absolute.status, absolute.error_code()) == (origin.status, origin.error_code())
    assert upstream.count() == before


@pytest.mark.parametrize("line", [b"OPTIONS * HTTP/1.1", b"CONNECT 127.0.0.1:{port} HTTP/1.1"],
                         ids=["options-asterisk", "connect"])
def test_asterisk_and_authority_form_targets_are_refused(line: bytes, gateway: Address, admin: str,
                                                         upstream: Upstream, decoy: socket.socket) -> None:
    before = upstream.count()
    line = line.replace(b"{port}", b"%d" % decoy.getsockname()[1])
    raw = line + b"\r\nHost: gw\r\nAuthorization: Bearer " + admin.encode() + b"\r\nConnection: close\r\n\r\n"
    answer = reply(talk(gateway, raw).data)
    assert 400 <= answer.status < 500, answer
    assert upstream.count() == before and not contacted(decoy)


# --- refused early ------------------------------------------------------------------------------------


def test_expect_100_continue_with_a_bad_token_is_a_401_without_the_interim_reply(gateway: Address,
                                                                                 upstream: Upstream) -> None:
    """The client waits for 100 Continue before sending its body: a refusal needs no body and says close."""
    before = upstream.count()
    head = request("not-a-token", extra=b"Expect: 100-continue\r\n", close=False, body=b"",
                   framing=b"Content-Length: 34\r\n")  # announced, never sent
    outcome = talk(gateway, head, within=SLACK)
    assert outcome.data.startswith(b"HTTP/1.1 401 "), outcome.data[:200]
    answer = reply(outcome.data)
    assert (answer.error_code() or "").startswith("token.")
    assert answer.headers.get("connection", "").lower() == "close"
    assert outcome.closed, "the connection stayed open waiting for a body the server does not need"
    assert upstream.count() == before


def test_a_request_line_over_8k_is_refused_and_closed(gateway: Address, token: str, upstream: Upstream) -> None:
    before = upstream.count()
    outcome = talk(gateway, request(token, target=b"/v1/chat/completions?q=" + b"a" * 9000))
    assert status(outcome.data) in (400, 414), outcome.data[:200]
    assert outcome.closed
    assert upstream.count() == before, "the request was forwarded (a 400 above came from the upstream's parser)"


def test_more_headers_than_the_limit_are_refused_and_closed(gateway: Address, token: str,
                                                            upstream: Upstream) -> None:
    """3000 one-byte headers: about 24 KB, under the byte limits, so only their number is over."""
    before = upstream.count()
    many = b"".join(b"X-%d: 1\r\n" % i for i in range(3000))
    outcome = talk(gateway, request(token, extra=many))
    answer = reply(outcome.data)
    assert (answer.status, answer.error_code()) == (431, "request.header_too_large"), outcome.data[:200]
    assert answer.headers.get("x-should-retry") == "false"  # the same request can never succeed
    assert outcome.closed
    assert upstream.count() == before, "the request was forwarded (a 400 above came from the upstream's parser)"


@pytest.mark.parametrize("expect", [b"", b"Expect: 100-continue\r\n"], ids=["plain", "expect-100-continue"])
def test_a_declared_length_over_max_body_bytes_is_a_413_without_waiting_for_the_body(
        expect: bytes, gateway: Address, token: str, upstream: Upstream) -> None:
    before = upstream.count()
    head = request(token, framing=b"Content-Length: %d\r\n" % (100 * MAX_BODY), body=b"", close=False,
                   extra=expect)
    outcome = talk(gateway, head, within=SLACK)  # the body is never sent
    assert outcome.data.startswith(b"HTTP/1.1 413 "), outcome.data[:200]  # no 100 Continue first
    answer = reply(outcome.data)
    assert (answer.status, answer.error_code()) == (413, "request.too_large")
    assert outcome.closed and upstream.count() == before


def test_a_chunked_body_over_max_body_bytes_is_a_413_before_it_ends(gateway: Address, token: str,
                                                                    upstream: Upstream) -> None:
    before = upstream.count()
    chunks = b"".join(b"%x\r\n%s\r\n" % (1000, b"x" * 1000) for _ in range(MAX_BODY // 1000 + 2))
    outcome = talk(gateway, request(token, framing=TE, body=chunks, close=False), within=SLACK)  # no last chunk
    answer = reply(outcome.data)
    assert (answer.status, answer.error_code()) == (413, "request.too_large")
    assert outcome.closed and upstream.count() == before


def test_a_refused_body_still_being_sent_gets_its_reply_not_a_reset(gateway: Address, token: str) -> None:
    """The server closes its side and reads on (discarding) for a moment: a client still sending the body
    its 413 did not need reads the 413 instead of losing it to a TCP reset."""
    with socket.create_connection(gateway, timeout=WAIT) as sock:
        sock.sendall(request(token, framing=b"Content-Length: %d\r\n" % (1 << 22), body=b"", close=False))
        with contextlib.suppress(OSError):
            for _ in range(64):  # 4 MiB of the announced body
                sock.sendall(b"x" * 65536)
        outcome = read_to_close(sock, within=SLACK)
    answer = reply(outcome.data)
    assert (answer.status, answer.error_code()) == (413, "request.too_large"), outcome.data[:200]


def test_timeouts_are_logged_as_408_with_their_reason(served: Served, gateway: Address, token: str) -> None:
    """A request the server cut is in the access log as the client saw it, not as a client that left."""
    served.drain()
    talk(gateway, request(token, body=b"x" * 10, framing=b"Content-Length: 100\r\n"), within=BODY_TIMEOUT + SLACK)
    body = json.loads(served.wait_for(r'\{.*"reason":"request.timeout".*\}').group(0))
    assert (body["path"], body["status"], body["decision"]) == ("/v1/chat/completions", 408, "error")
    assert body["token"], "the refused request carried a token: its fingerprint is logged"
    talk(gateway, request(token).split(b"Content-Type")[0], within=HEADER_TIMEOUT + SLACK)  # the app never saw it
    head = json.loads(served.wait_for(r'\{.*"reason":"request.timeout".*\}').group(0))
    assert (head["path"], head["status"], head["decision"]) == ("", 408, "error")


# --- connection management ----------------------------------------------------------------------------


def test_http_1_0_without_host_is_answered_and_the_connection_closed(gateway: Address, token: str) -> None:
    outcome = talk(gateway, request(token, host=b"", version=b"HTTP/1.0", close=False), within=SLACK)
    assert reply(outcome.data).status == 200
    assert outcome.closed, "an HTTP/1.0 connection without keep-alive stayed open after the reply"


def test_connection_close_is_honoured(gateway: Address, token: str) -> None:
    outcome = talk(gateway, request(token, close=True), within=SLACK)
    assert reply(outcome.data).status == 200
    assert outcome.closed, "the connection stayed open after a reply to 'Connection: close'"


def test_a_client_gone_mid_stream_cancels_the_upstream_request_and_is_logged(served: Served, gateway: Address,
                                                                           kit: Kit, upstream: Upstream) -> None:
    gone = kit.token(sub="gone-mid-stream")
    with socket.create_connection(gateway, timeout=WAIT) as sock:
        sock.sendall(request(gone, body=chat(ident="gone", stream=True), extra=slow_stream(100, 0.1)))
        read_until(sock, FIRST_CHUNK)
    assert upstream.wait_cut("gone", SLACK), "the upstream kept streaming to a client that had left"
    line = served.wait_for(r'\{.*"subject":"gone-mid-stream".*\}').group(0)
    record = json.loads(line)
    # as nginx: the status logged is the one sent (the reply had started); the reason says the client left
    assert (record["status"], record["reason"]) == (200, "client.disconnected"), line


def test_a_client_gone_before_the_reply_is_logged_499(served: Served, gateway: Address, kit: Kit) -> None:
    gone = kit.token(sub="gone-before-reply")
    with socket.create_connection(gateway, timeout=WAIT) as sock:  # the upstream does not answer
        sock.sendall(request(gone, body=chat(ident="gone-early"), extra=b"x-test-mode: stall_headers\r\n"))
        time.sleep(0.2)
    line = served.wait_for(r'\{.*"subject":"gone-before-reply".*\}').group(0)
    record = json.loads(line)
    assert (record["status"], record["reason"]) == (499, "client.disconnected"), line


@pytest.mark.parametrize("raw", [
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(32)),  # a TLS ClientHello on the HTTP port
    b"GE(T /v1/models HTTP/1.1\r\nHost: gw\r\n\r\n",  # '(' cannot be in a method
    b"hello\r\n\r\n",
], ids=["tls-hello", "invalid-method", "no-version"])
def test_garbage_is_a_400_and_closed_and_the_server_keeps_serving(raw: bytes, gateway: Address,
                                                                  token: str) -> None:
    outcome = talk(gateway, raw, within=SLACK)
    assert status(outcome.data) == 400, outcome.data[:200]
    assert outcome.closed
    assert reply(talk(gateway, request(token)).data).status == 200


def test_an_upgrade_with_a_body_is_refused_and_never_forwarded(gateway: Address, token: str,
                                                                upstream: Upstream) -> None:
    """llhttp hands the body of a ``Connection: upgrade`` request to the new protocol: forwarded, it would
    arrive empty (a model check on nothing). It is refused instead."""
    before = upstream.count()
    upgrade = b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n"
    raw = request(token, body=chat(ident="upgrade"), close=False, extra=upgrade)
    outcome = talk(gateway, raw, within=SLACK)
    answer = reply(outcome.data)
    assert (answer.status, answer.error_code()) == (400, "request.upgrade"), outcome.data[:300]
    assert outcome.closed and upstream.count() == before


def test_an_upgrade_without_a_body_is_answered_as_http_1_1_then_closed(gateway: Address, token: str) -> None:
    raw = (b"GET /v1/models HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer " + token.encode()
           + b"\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA"
           + b"\r\n\r\n")
    outcome = talk(gateway, raw, within=SLACK)
    assert reply(outcome.data).status == 200, outcome.data[:300]
    assert b"connection: close" in outcome.data.lower() and outcome.closed


# --- graceful drain -----------------------------------------------------------------------------------


def _refuses_new_connections(gateway: Address, token: str) -> bool:
    """After SIGTERM a new connection is refused, reset or closed unanswered; never served."""
    try:
        sock = socket.create_connection(gateway, timeout=SLACK)
    except ConnectionRefusedError:
        return True
    with sock:
        try:
            sock.sendall(request(token))
        except (BrokenPipeError, ConnectionResetError):
            return True
        outcome = read_to_close(sock, SLACK)
    return outcome.closed and not outcome.data.startswith(b"HTTP/")


def test_sigterm_finishes_the_stream_in_flight_and_refuses_new_work(tmp_path: Path, upstream: Upstream,
                                                                    token: str) -> None:
    shutdown = 3
    server = start(tmp_path, upstream, f"    shutdown_timeout: {shutdown}\n    keepalive_timeout: 30\n")
    gateway = address(server)
    try:
        with socket.create_connection(gateway, timeout=WAIT) as idle, \
                socket.create_connection(gateway, timeout=WAIT) as stream:
            idle.sendall(request(token, close=False))
            assert read_reply(idle).status == 200
            stream.sendall(request(token, body=chat(ident="drained", stream=True),
                                   extra=slow_stream(10, 0.15)))
            first = read_until(stream, FIRST_CHUNK)
            server.proc.send_signal(signal.SIGTERM)
            idle_end = read_to_close(idle, SLACK)
            assert idle_end.closed and idle_end.data == b"", "an idle keep-alive connection was kept on SIGTERM"
            assert _refuses_new_connections(gateway, token), "a new connection was served after SIGTERM"
            rest = read_to_close(stream, shutdown + SLACK)
        assert b"data: [DONE]" in reply(first + rest.data).body, "the stream in flight was cut"
        assert server.proc.wait(timeout=shutdown + SLACK) == 0
        server.wait_for(r"draining: no new connections; 1 request\(s\) in flight get up to 3 s")
    finally:
        server.stop()


def test_a_stream_longer_than_shutdown_timeout_is_cut_and_the_process_exits(tmp_path: Path, upstream: Upstream,
                                                                            token: str) -> None:
    shutdown = 1
    server = start(tmp_path, upstream, f"    shutdown_timeout: {shutdown}\n")
    try:
        with socket.create_connection(address(server), timeout=WAIT) as stream:
            stream.sendall(request(token, body=chat(ident="too-long", stream=True),
                                   extra=slow_stream(100, 0.1)))  # 10 s
            first = read_until(stream, FIRST_CHUNK)
            server.proc.send_signal(signal.SIGTERM)
            try:
                server.proc.wait(timeout=shutdown + SLACK)
            except subprocess.TimeoutExpired:
                pytest.fail(f"still running {shutdown + SLACK} s after SIGTERM with shutdown_timeout {shutdown}")
            rest = read_to_close(stream, SLACK)
        assert rest.closed and b"data: [DONE]" not in first + rest.data
        assert upstream.wait_cut("too-long", SLACK), "the upstream request outlived the gateway"
    finally:
        server.stop()
