"""Against the real, pinned LiteLLM OSS proxy: the end user it records (and sends on to the provider) is the
verified subject jwtgate set, not what the client sent in the body or in LiteLLM's end-user headers.

Client -> ``jwtgate serve`` (real process) -> LiteLLM (real process, master key, no database) -> a loopback
mock provider. Without a database LiteLLM keeps no spend rows, so a LiteLLM custom callback (a module next
to its config, named in ``litellm_settings.callbacks``) writes what LiteLLM recorded as the end user.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from tests.litellm_env import litellm_python
from tests.security.served import Served, serve_args
from tests.server.conftest import WAIT, Keys, ServerThread

MASTER = "sk-jwtgate-test-master"
START_WAIT = 180.0  # LiteLLM imports for a while on a busy 2-core machine
PROBE = '''\
"""What LiteLLM recorded as a request's end user, one JSON line per logged call (a jwtgate test probe)."""
import json
import os

from litellm.integrations.custom_logger import CustomLogger


class Probe(CustomLogger):
    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        slo = kwargs.get("standard_logging_object") or {}
        meta = (kwargs.get("litellm_params") or {}).get("metadata") or {}
        line = {"end_user": slo.get("end_user"), "metadata_end_user": meta.get("user_api_key_end_user_id")}
        with open(os.environ["JWTGATE_PROBE_FILE"], "a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\\n")


probe = Probe()
'''
LITELLM_CONFIG = """\
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_base: {provider}/v1
      api_key: sk-provider
general_settings:
  master_key: {master}
litellm_settings:
  telemetry: false
  callbacks: identity_probe.probe
"""
JWTGATE_CONFIG = """\
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
general_settings:
  enable_jwt_auth: true
  litellm_jwtauth:
    user_id_jwt_field: sub
jwtgate:
  jwks: ["{jwks}"]
  identity:
    headers:
      X-Jwtgate-Email: email
    user_field: sub
  serve:
    upstream_key_env: LITELLM_MASTER_KEY
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Provider:
    url: str
    seen: list[dict[str, Any]]


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    """An OpenAI-compatible mock provider on loopback that records the bodies LiteLLM sends it."""
    seen: list[dict[str, Any]] = []

    async def chat(request: web.Request) -> web.Response:
        body = await request.json()
        seen.append(body)
        return web.json_response({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": body.get("model", "gpt-4o"),
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "hi"}}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}})

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    thread = ServerThread()
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
    thread.call(runner.setup())
    thread.call(web.TCPSite(runner, "127.0.0.1", 0).start())
    yield Provider(f"http://127.0.0.1:{runner.addresses[0][1]}", seen)
    thread.call(runner.cleanup())
    thread.close()


@dataclass
class LiteLLM:
    url: str
    probe: Path


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_WAIT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"LiteLLM exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(url + "/health/liveliness", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        threading.Event().wait(0.5)
    raise AssertionError(f"LiteLLM did not start in {START_WAIT} s: {log.read_text()[-2000:]}")


@pytest.fixture(scope="module")
def litellm(provider: Provider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiteLLM]:
    python = litellm_python()
    tmp = tmp_path_factory.mktemp("litellm")
    (tmp / "identity_probe.py").write_text(PROBE)
    config = tmp / "config.yaml"
    config.write_text(LITELLM_CONFIG.format(provider=provider.url, master=MASTER))
    port, probe, log = free_port(), tmp / "probe.jsonl", tmp / "litellm.log"
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_TELEMETRY": "False",
           "JWTGATE_PROBE_FILE": str(probe), "PYTHONPATH": str(tmp), "NO_PROXY": "*"}
    argv = [str(python), "-m", "litellm.proxy.proxy_cli", "--config", str(config), "--host", "127.0.0.1",
            "--port", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, cwd=tmp, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_ready(url, proc, log)
        yield LiteLLM(url, probe)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=WAIT)


def _probe_lines(probe: Path, count: int) -> list[dict[str, Any]]:
    """The first ``count`` lines the callback wrote (it runs after the reply: a bounded wait)."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        lines = probe.read_text().splitlines() if probe.exists() else []
        if len(lines) >= count:
            return [json.loads(line) for line in lines[:count]]
        threading.Event().wait(0.1)
    raise AssertionError(f"LiteLLM's callback wrote {probe.read_text() if probe.exists() else 'nothing'}")


def test_litellm_records_the_verified_subject(litellm: LiteLLM, provider: Provider, keys: Keys,
                                              tmp_path: Path) -> None:
    config = tmp_path / "jwtgate.yaml"
    config.write_text(JWTGATE_CONFIG.format(jwks=keys.jwks_path))
    env = {"JWT_AUDIENCE": "jwtgate-tests", "JWT_ISSUER": "https://idp.test", "LITELLM_MASTER_KEY": MASTER,
           "JWTGATE_CACHE_DIR": str(tmp_path / "cache")}
    spoof = {"x-litellm-end-user-id": "mallory", "x-litellm-customer-id": "mallory", "X-Jwtgate-Email": "m@x"}
    direct = httpx.post(litellm.url + "/v1/chat/completions", timeout=60,  # the control: no jwtgate in front
                        json={"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "user": "mallory"},
                        headers={"authorization": f"Bearer {MASTER}", **spoof})
    assert direct.status_code == 200, direct.text
    assert _probe_lines(litellm.probe, 1) == [{"end_user": "mallory", "metadata_end_user": "mallory"}]
    served = Served(serve_args(config, litellm.url), env).listening()
    try:
        token = keys.token({"sub": "alice", "email": "alice@acme.example"})
        for body in ({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "user": "mallory"},
                     {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}):
            r = httpx.post(served.url + "/v1/chat/completions", json=body, timeout=60,
                           headers={"authorization": f"Bearer {token}", **spoof})
            assert r.status_code == 200, r.text
            assert r.json()["choices"][0]["message"]["content"] == "hi"
    finally:
        served.stop()
    recorded = _probe_lines(litellm.probe, 3)[1:]
    assert recorded == [{"end_user": "alice", "metadata_end_user": "alice"}] * 2
    assert [b.get("user") for b in provider.seen[-2:]] == ["alice", "alice"]
