"""``/auth/verify`` in-process, and behind a real nginx ``auth_request`` in front of a loopback upstream."""

from __future__ import annotations

import json
import logging
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.conftest import WAIT, FakeUpstream, Keys, StateFactory
from tests.server.test_app import ROLE_CLAIMS, Client, run
from tests.server.test_proxy import Gateway, free_port, gateway  # noqa: F401  (fixture)

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def ask(keys: Keys, role: str | None, uri: str, **headers: str) -> dict[str, str]:
    out = {"x-original-uri": uri, **headers}
    if role is not None:
        out["authorization"] = f"Bearer {keys.token(ROLE_CLAIMS[role])}"
    return out


@pytest.mark.parametrize(("role", "uri", "extra", "status", "code"), [
    ("dev", "/v1/chat/completions", {"x-model": "gpt-4o"}, 200, None),
    ("dev", "/openai/deployments/llama/chat/completions?api-version=2024", {}, 200, None),
    ("dev", "/v1/chat/completions", {"x-model": "o1-secret"}, 403, "policy.model_not_allowed"),
    ("dev", "/v1/chat/completions", {}, 403, "policy.model_required"),
    ("dev", "/openai/deployments/gpt-4o/chat/completions", {"x-model": "o1-secret"}, 403, "request.model_mismatch"),
    ("team", "/v1/chat/completions", {"x-model": "gpt-4o"}, 403, "policy.route_not_allowed"),
    (None, "/v1/chat/completions", {}, 401, "token.missing"),
    # the gateway sends its own credential upstream, which would list every model, answer for its key …
    ("dev", "/v1/models", {"x-original-method": "GET"}, 403, "policy.upstream_scope"),
    ("dev", "/model/info", {"x-original-method": "GET"}, 403, "policy.upstream_scope"),
    ("dev", "/key/info", {"x-original-method": "GET"}, 403, "policy.upstream_scope"),
    ("admin", "/key/info", {"x-original-method": "GET"}, 200, None),
], ids=["allow", "azure-path", "deny-model", "model-required", "mismatch", "deny-route", "missing", "models",
        "model-info", "key-info", "admin-key-info"])
def test_verify_decisions(make_state: StateFactory, keys: Keys, role: str | None, uri: str, extra: dict[str, str],
                          status: int, code: str | None) -> None:
    async def scenario(client: Client) -> None:
        r = await client.get("/auth/verify", headers=ask(keys, role, uri, **extra))
        assert r.status_code == status, r.text
        if code is None:
            assert r.headers["x-jwtgate-subject"] == "alice"
            assert r.headers["x-jwtgate-role"] == ("proxy_admin" if role == "admin" else "internal_user")
        else:
            assert r.headers["x-jwtgate-reason"] == code
            assert r.json()["error"]["code"] == code

    run(make_state(), scenario)


def test_verify_log_line_names_the_original_method_and_path(make_state: StateFactory, keys: Keys,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(client: Client) -> None:
        headers = ask(keys, "dev", "/v1/chat/completions", **{"x-model": "gpt-4o", "x-original-method": "POST"})
        assert (await client.get("/auth/verify", headers=headers)).status_code == 200

    with caplog.at_level(logging.INFO, logger="jwtgate.access"):
        run(make_state(), scenario)
    record = next(json.loads(r.getMessage()) for r in caplog.records if r.name == "jwtgate.access")
    assert (record["method"], record["path"], record["decision"]) == ("POST", "/v1/chat/completions", "allow")


def test_verify_reads_a_forwarded_body(make_state: StateFactory, keys: Keys) -> None:
    """Envoy ext_authz with_request_body: the body's model is checked, and must agree with X-Model."""
    async def scenario(client: Client) -> None:
        r = await client.post("/auth/verify", json={"model": "o1-secret"},
                              headers=ask(keys, "dev", "/v1/chat/completions"))
        assert (r.status_code, r.headers["x-jwtgate-reason"]) == (403, "policy.model_not_allowed")
        r = await client.post("/auth/verify", json={"model": "o1-secret"},
                              headers=ask(keys, "dev", "/v1/chat/completions", **{"x-model": "gpt-4o"}))
        assert r.headers["x-jwtgate-reason"] == "request.model_mismatch"

    run(make_state(), scenario)


def test_verify_envoy_style_path_prefix(make_state: StateFactory, keys: Keys) -> None:
    """Envoy calls /auth/verify/<original path> with the original method and headers (and body)."""
    async def scenario(client: Client) -> None:
        dev = {"authorization": f"Bearer {keys.token(ROLE_CLAIMS['dev'])}"}
        r = await client.post("/auth/verify/v1/chat/completions", json={"model": "gpt-4o"}, headers=dev)
        assert r.status_code == 200
        r = await client.post("/auth/verify/v1/chat/completions", json={"model": "o1-secret"}, headers=dev)
        assert (r.status_code, r.headers["x-jwtgate-reason"]) == (403, "policy.model_not_allowed")

    run(make_state(), scenario)


def test_verify_without_the_original_uri_is_refused(make_state: StateFactory, keys: Keys) -> None:
    async def scenario(client: Client) -> None:
        r = await client.get("/auth/verify", headers={"authorization": f"Bearer {keys.token(ROLE_CLAIMS['dev'])}"})
        assert (r.status_code, r.headers["x-jwtgate-reason"]) == (403, "request.no_original_uri")

    run(make_state(), scenario)


def test_verify_hidden_reasons(make_state: StateFactory, keys: Keys) -> None:
    async def scenario(client: Client) -> None:
        headers = ask(keys, "dev", "/v1/chat/completions", **{"x-model": "o1-secret"})
        r = await client.get("/auth/verify", headers=headers)
        assert (r.status_code, r.headers["x-jwtgate-reason"]) == (403, "policy.denied")

    run(make_state(hide_reasons=True), scenario)


# --- a real nginx ---------------------------------------------------------------------------------

NGINX_CONF = """\
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {prefix}/body;
  proxy_temp_path {prefix}/proxy;
  fastcgi_temp_path {prefix}/fastcgi;
  uwsgi_temp_path {prefix}/uwsgi;
  scgi_temp_path {prefix}/scgi;
  server {{
    listen 127.0.0.1:{port};
{locations}
  }}
}}
"""


def nginx_locations(jwtgate: str, upstream: str) -> str:
    """The snippet docs/forward-auth.md shows, with the test's addresses."""
    return f"""\
    location / {{
      auth_request /_jwtgate_verify;
      auth_request_set $jwtgate_subject $upstream_http_x_jwtgate_subject;
      auth_request_set $jwtgate_role $upstream_http_x_jwtgate_role;
      auth_request_set $jwtgate_reason $upstream_http_x_jwtgate_reason;
      add_header X-Jwtgate-Reason $jwtgate_reason always;
      proxy_set_header X-Jwtgate-Subject $jwtgate_subject;
      proxy_set_header X-Jwtgate-Role $jwtgate_role;
      proxy_set_header Authorization "";
      proxy_pass {upstream};
    }}
    location = /_jwtgate_verify {{
      internal;
      proxy_pass {jwtgate}/auth/verify;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URI $request_uri;
      proxy_set_header X-Original-Method $request_method;
    }}"""


@pytest.fixture
def nginx(tmp_path: Path, gateway: Gateway, upstream: FakeUpstream) -> Iterator[str]:  # noqa: F811
    if NGINX is None:
        pytest.skip("the nginx binary is absent (CI installs the Debian package nginx-light)")
    jwtgate = gateway()
    port = free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(NGINX_CONF.format(prefix=tmp_path, port=port, locations=nginx_locations(jwtgate, upstream.url)))
    proc = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(conf)], stderr=subprocess.PIPE)
    try:
        _wait_for_port(port, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.communicate(timeout=WAIT)


def _wait_for_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    pause = threading.Event()
    for _ in range(int(WAIT / 0.02)):
        if proc.poll() is not None:
            raise AssertionError(f"nginx exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        pause.wait(0.02)
    raise AssertionError("nginx did not listen in time")


def call(url: str, keys: Keys, role: str | None, model: str, token: str | None = None) -> httpx.Response:
    headers: dict[str, Any] = {"x-model": model}
    if role is not None or token is not None:
        headers["authorization"] = f"Bearer {token or keys.token(ROLE_CLAIMS[role or 'dev'])}"
    return httpx.post(url + "/v1/chat/completions", json={"model": model}, headers=headers, timeout=WAIT)


@pytest.mark.nginx
def test_nginx_auth_request_allow_deny_bad_token(nginx: str, keys: Keys, upstream: FakeUpstream) -> None:
    allowed = call(nginx, keys, "dev", "gpt-4o")
    assert allowed.status_code == 200
    seen = {k.lower(): v for k, v in upstream.log.requests[-1]["headers"].items()}
    assert seen["x-jwtgate-subject"] == "alice" and seen["x-jwtgate-role"] == "internal_user"
    assert "authorization" not in seen
    denied = call(nginx, keys, "dev", "o1-secret")
    assert (denied.status_code, denied.headers["x-jwtgate-reason"]) == (403, "policy.model_not_allowed")
    bad = call(nginx, keys, None, "gpt-4o", token="not.a.token")
    assert bad.status_code == 401
    assert len(upstream.log.requests) == 1
