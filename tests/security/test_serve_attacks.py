"""The attack table through a real ``jwtgate serve`` (subprocess on 127.0.0.1), and upstream faults.

Every attack gets 401 (token), 403 (policy) or 503 (keys) with its reason code, and the fake upstream
receives none of them. Upstream faults get the right status within the upstream timeout, never a hang.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("jwtgate.server.process")

import httpx

from tests.security.attacks import ATTACKS, Attack
from tests.security.kit import Kit, write_world
from tests.security.served import WAIT, Served, serve_args
from tests.security.upstream import Upstream

UPSTREAM_TIMEOUT = 1.0
BOUND = UPSTREAM_TIMEOUT + 3.0  # generous: no fault may hold a client longer than the upstream timeout
SERVE_SECTION = f"    upstream_timeout: {UPSTREAM_TIMEOUT}\n    upstream_connect_timeout: 1.0\n"
REPLAYED = [a for a in ATTACKS if a.cli != "stripped" and a.config != "weak-hmac"]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("serve-world")
    for variant in ("default", "hmac", "weak-hmac"):
        write_world(directory, variant, SERVE_SECTION)
    return directory


@pytest.fixture(scope="module")
def gateways(world: Path, upstream: Upstream) -> Iterator[dict[str, Served]]:
    env = {"JWTGATE_CACHE_DIR": str(world / "cache")}
    running = {v: Served(serve_args(world / f"gateway-{v}.yaml", upstream.url), env) for v in ("default", "hmac")}
    try:
        yield {v: s.listening() for v, s in running.items()}
    finally:
        for s in running.values():
            s.stop()


@pytest.fixture(scope="module")
def kit() -> Kit:
    return Kit(now=time.time(), attacker_url="http://127.0.0.1:9")


def _post(url: str, token: str, model: str, ident: str, mode: str = "", stream: bool = False) -> httpx.Response:
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}], "id": ident, "stream": stream}
    headers = {"authorization": f"Bearer {token}", "x-test-mode": mode}
    return httpx.post(f"{url}/v1/chat/completions", json=body, headers=headers, timeout=WAIT)


def _raw_status(url: str, token: str) -> int:
    """Send a request httpx would refuse to build (a newline inside the header value); the status code."""
    host, port = url.removeprefix("http://").split(":")
    request = (f"POST /v1/chat/completions HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
               "Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
    with socket.create_connection((host, int(port)), timeout=WAIT) as sock:
        sock.sendall(request.encode("latin-1"))
        reply = sock.recv(4096)
    return int(reply.split(b" ", 2)[1]) if reply else 0


def test_control_requests_reach_the_upstream(gateways: dict[str, Served], upstream: Upstream, kit: Kit) -> None:
    url = gateways["default"].url
    assert _post(url, kit.token(), "small", "control-user").status_code == 200
    admin = kit.token(resource_access={"app": {"roles": ["llm-admin"]}})
    assert _post(url, admin, "big", "control-admin").status_code == 200
    assert upstream.ids["control-user"] == 1 and upstream.ids["control-admin"] == 1


@pytest.mark.parametrize("attack", REPLAYED, ids=[a.name for a in REPLAYED])
def test_serve_refuses_attack(attack: Attack, gateways: dict[str, Served], upstream: Upstream, kit: Kit) -> None:
    url = gateways[attack.config].url
    token = attack.build(kit)
    if not attack.header_safe:
        assert _raw_status(url, token) in (400, 401)
    else:
        resp = _post(url, token, attack.model, attack.name)
        expected = 403 if attack.stage == "policy" else 503 if attack.code.startswith("jwks.") else 401
        assert resp.status_code == expected, resp.text
        assert resp.json()["error"]["code"] == attack.code
        if expected == 401:
            assert resp.headers["www-authenticate"].startswith("Bearer")
    assert upstream.ids[attack.name] == 0, "the upstream must never see an attack"


def test_weak_hmac_config_refuses_to_start(world: Path, upstream: Upstream) -> None:
    served = Served(serve_args(world / "gateway-weak-hmac.yaml", upstream.url), {})
    assert served.proc.wait(timeout=WAIT) == 2
    served.reader.join(WAIT)
    assert any("JG306" in line for line in served.drain())
    served.stop()


# --- upstream faults -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("mode", "status", "code"), [
    pytest.param("reset", 502, "upstream.reset", id="reset-before-headers"),
    pytest.param("stall_headers", 504, "upstream.timeout", id="stall-before-headers"),
    pytest.param("status503", 503, None, id="upstream-5xx-relayed"),
])
def test_upstream_fault_before_the_reply(mode: str, status: int, code: str | None, gateways: dict[str, Served],
                                         upstream: Upstream, kit: Kit) -> None:
    start = time.monotonic()
    resp = _post(gateways["default"].url, kit.token(), "small", f"fault-{mode}", mode)
    assert time.monotonic() - start < BOUND
    assert resp.status_code == status
    error = resp.json()["error"]
    assert error.get("code") == code if code else error["message"] == "overloaded"  # 5xx relayed, not jwtgate's


@pytest.mark.parametrize("mode", ["stall_body", "reset_mid"])
def test_upstream_fault_mid_stream_closes_the_client_cleanly(mode: str, gateways: dict[str, Served], kit: Kit) -> None:
    start = time.monotonic()
    chunks: list[bytes] = []
    body = {"model": "small", "messages": [], "stream": True, "id": f"fault-{mode}"}
    headers = {"authorization": f"Bearer {kit.token()}", "x-test-mode": mode}
    url = f"{gateways['default'].url}/v1/chat/completions"
    # the reply is cut short, visibly, not padded or hung
    with pytest.raises(httpx.RemoteProtocolError), httpx.stream("POST", url, json=body, headers=headers,
                                                                timeout=WAIT) as resp:
        assert resp.status_code == 200
        for chunk in resp.iter_bytes():
            chunks.append(chunk)
    assert time.monotonic() - start < BOUND
    assert b"".join(chunks).startswith(b'data: {"chunk": 0}')
    assert b"[DONE]" not in b"".join(chunks)


def test_streaming_reply_is_relayed_whole(gateways: dict[str, Served], kit: Kit) -> None:
    body = {"model": "small", "messages": [], "stream": True, "id": "stream-ok"}
    with httpx.stream("POST", f"{gateways['default'].url}/v1/chat/completions", json=body,
                      headers={"authorization": f"Bearer {kit.token()}", "x-test-mode": "stream"},
                      timeout=WAIT) as resp:
        text = b"".join(resp.iter_bytes())
    assert resp.status_code == 200 and text.endswith(b"data: [DONE]\n\n") and text.count(b"data:") == 6


def test_upstream_refusing_connections_is_a_502(world: Path, kit: Kit) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    served = Served(serve_args(world / "gateway-default.yaml", dead), {"JWTGATE_CACHE_DIR": str(world / "cache")})
    try:
        url = served.listening().url
        start = time.monotonic()
        resp = _post(url, kit.token(), "small", "refused")
        assert time.monotonic() - start < BOUND
        assert resp.status_code == 502 and resp.json()["error"]["code"] == "upstream.unreachable"
        assert _post(url, kit.token(sub="x", exp=1), "small", "expired").status_code == 401
    finally:
        served.stop()


# --- identity headers and HTTP fuzzing -----------------------------------------------------------------------


@pytest.mark.parametrize("sub", ["a\u0000b", "alice\r\nX-Injected: 1"], ids=["nul", "crlf"])
def test_subject_with_control_characters_is_not_a_500(sub: str, gateways: dict[str, Served], upstream: Upstream,
                                                      kit: Kit) -> None:
    """A signed 'sub' that cannot travel in X-Jwtgate-Subject is refused (403), never a 500 or an injection."""
    before = upstream.count()
    resp = _post(gateways["default"].url, kit.token(sub=sub), "small", f"ctl-{sub!r}")
    assert resp.status_code == 403
    assert resp.json()["error"]["code"] == "policy.identity_invalid"
    assert all("X-Injected" not in k for k in resp.headers)
    assert upstream.count() == before


def test_random_http_requests_never_get_a_500(gateways: dict[str, Served], kit: Kit) -> None:
    """Random methods, paths, headers and bodies (hypothesis, JWTGATE_FUZZ_EXAMPLES): 4xx, never 5xx."""
    import os

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    printable = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)
    url = gateways["default"].url
    tokens = [kit.token(), kit.token(exp=1), "x.y.z", ""]

    @settings(max_examples=int(os.environ.get("JWTGATE_FUZZ_EXAMPLES", "200")) // 2, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"]),
           st.sampled_from(["/v1/chat/completions", "/v1/models", "/auth/verify", "/v1/embeddings", "/"]) | printable,
           st.sampled_from(tokens), st.binary(max_size=300),
           st.dictionaries(st.sampled_from(["content-type", "x-api-key", "x-original-uri", "content-encoding"]),
                           printable, max_size=3))
    def check(method: str, path: str, token: str, body: bytes, headers: dict[str, str]) -> None:
        target = path if path.startswith("/") else "/" + path
        try:
            auth = {"authorization": f"Bearer {token}"} if token else {}
            resp = httpx.request(method, url + target, content=body, timeout=WAIT, headers={**auth, **headers})
        except (httpx.InvalidURL, httpx.LocalProtocolError):  # requests a client cannot even send
            return
        assert resp.status_code < 500 or (resp.status_code in (502, 503, 504) and "upstream" in resp.text), resp.text

    check()
