"""Fixtures for the server tests: real keys and tokens, a real local JWKS file, a real fake upstream."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from jwtgate.server.state import AppState
from jwtgate.server.wiring import ServeOptions, build_state
from tests.kit.keys import jwk_of, new_private_key

ISSUER = "https://idp.test"
AUDIENCE = "jwtgate-tests"
KID = "test-key-1"
WAIT = 10.0  # the bound on every wait in these tests


@dataclass
class Keys:
    private: rsa.RSAPrivateKey
    jwks_path: Path
    other: rsa.RSAPrivateKey

    def token(self, claims: dict[str, Any] | None = None, *, key: rsa.RSAPrivateKey | None = None,
              kid: str = KID, ttl: float = 600.0) -> str:
        now = int(time.time())
        body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "iat": now, "exp": now + int(ttl), **(claims or {})}
        return jwt.encode(body, key or self.private, algorithm="RS256", headers={"kid": kid})


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    private = new_private_key("rsa")
    jwk = jwk_of(private, KID, alg="RS256", use="sig")
    path = tmp_path_factory.mktemp("jwks") / "jwks.json"
    path.write_text(json.dumps({"keys": [jwk]}))
    return Keys(private, path, new_private_key("rsa"))


# --- a real upstream on loopback --------------------------------------------------------------------


@dataclass
class UpstreamLog:
    requests: list[dict[str, Any]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)  # lets a paused stream finish
    stream_closed: threading.Event = field(default_factory=threading.Event)  # the client of a stream went away
    chunks_sent: int = 0


async def _record(request: web.Request, log: UpstreamLog) -> dict[str, Any]:
    raw = await request.read()
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = raw.decode("latin-1")
    seen = {"method": request.method, "path": request.path_qs, "headers": dict(request.headers), "body": body}
    log.requests.append(seen)
    return seen


def upstream_app(log: UpstreamLog) -> web.Application:
    async def handler(request: web.Request) -> web.StreamResponse:
        seen = await _record(request, log)
        body = seen["body"] if isinstance(seen["body"], dict) else {}
        mode = body.get("mode") or request.headers.get("x-test-mode", "")
        if mode == "reset":
            assert request.transport is not None
            request.transport.abort()
            return web.Response()
        if mode == "slow":
            await asyncio.sleep(WAIT)
        if mode == "status":
            return web.json_response({"error": {"message": "rate limited"}}, status=429)
        if body.get("stream"):
            return await _stream(request, log, mode)
        return web.json_response({"object": "echo", "seen": seen})

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", handler)
    return app


async def _stream(request: web.Request, log: UpstreamLog, mode: str) -> web.StreamResponse:
    """SSE: the first chunk, then (mode 'pause') wait for the test's release, then the rest.

    Mode 'endless' writes until the client goes away and records that it did.
    """
    resp = web.StreamResponse(headers={"content-type": "text/event-stream", "cache-control": "no-cache"})
    await resp.prepare(request)
    log.chunks_sent = 1  # counted before the write: the client may read the chunk before this coroutine resumes
    await resp.write(b'data: {"chunk": 0}\n\n')
    if mode == "pause":
        await asyncio.get_running_loop().run_in_executor(None, log.release.wait, WAIT)
    try:
        for i in range(1, 10_000 if mode == "endless" else 20):
            await resp.write(f'data: {{"chunk": {i}}}\n\n'.encode())
            log.chunks_sent = i + 1
            if mode == "endless":
                await asyncio.sleep(0.02)
    except (ConnectionResetError, RuntimeError):
        log.stream_closed.set()
        return resp
    if mode == "endless":  # the client never left
        return resp
    await resp.write(b"data: [DONE]\n\n")
    await resp.write_eof()
    return resp


class ServerThread:
    """Runs a coroutine-started server on its own loop in a thread; stop() is bounded."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(WAIT)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(WAIT)
        self.loop.close()


@dataclass
class FakeUpstream:
    url: str
    log: UpstreamLog


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    log = UpstreamLog()
    thread = ServerThread()
    runner = web.AppRunner(upstream_app(log), handle_signals=False, shutdown_timeout=0.5)
    thread.call(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    thread.call(site.start())
    port = runner.addresses[0][1]
    yield FakeUpstream(f"http://127.0.0.1:{port}", log)
    log.release.set()
    thread.call(runner.cleanup())
    thread.close()


# --- the policy ------------------------------------------------------------------------------------

POLICY = """\
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
  - model_name: llama
    litellm_params:
      model: hosted_vllm/meta/llama-3
      api_base: {upstream}/v1
      api_key: os.environ/VLLM_KEY
  - model_name: o1-secret
    litellm_params:
      model: openai/o1
general_settings:
  enable_jwt_auth: true
  litellm_jwtauth:
    roles_jwt_field: roles
    role_mappings:
      - role: gw-dev
        internal_role: internal_user
      - role: gw-team
        internal_role: team
    enforce_rbac: true
    team_allowed_routes: ["/v1/models"]
  role_permissions:
    - role: internal_user
      models: ["gpt-4o", "llama"]
    - role: team
      models: ["gpt-4o"]
jwtgate:
  jwks: ["{jwks}"]
  serve:
    mode: direct
    upstream_timeout: {timeout}
{extra}"""

ENV = {"JWT_AUDIENCE": AUDIENCE, "JWT_ISSUER": ISSUER, "VLLM_KEY": "vllm-secret", "UPSTREAM_KEY": "proxy-secret"}


def write_policy(path: Path, upstream: str, jwks: Path, *, timeout: float = 2.0, extra: str = "") -> Path:
    path.write_text(POLICY.format(upstream=upstream, jwks=jwks, timeout=timeout, extra=extra))
    return path


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {**ENV, "JWTGATE_CACHE_DIR": str(tmp_path / "cache")}


StateFactory = Callable[..., AppState]


@pytest.fixture
def make_state(tmp_path: Path, keys: Keys, upstream: FakeUpstream, env: dict[str, str]) -> StateFactory:
    """Build the server state exactly as `jwtgate serve` does, from a config file and flags."""

    def make(**flags: Any) -> AppState:
        config = write_policy(tmp_path / "config.yaml", upstream.url, keys.jwks_path,
                              timeout=flags.pop("timeout", 2.0), extra=flags.pop("extra", ""))
        opts = ServeOptions(str(config), upstream=flags.pop("upstream", upstream.url),
                            upstream_key_env=flags.pop("upstream_key_env", "UPSTREAM_KEY"), **flags)
        state, _ = build_state(opts, env)
        return state

    return make


# --- "jwtgate in front of LiteLLM": the worlds the SDK tests drive (tests/server/front.py) -----------------


@pytest.fixture(scope="session")
def provider() -> Iterator[Any]:
    from tests.server.provider import start_provider

    mock = start_provider()
    try:
        yield mock
    finally:
        mock.log.release.set()
        mock.stop()


def _admin_token(keys: Keys) -> str:
    """A proxy_admin by LiteLLM's admin scope (role_mappings admins get only the non-admin routes), signed by
    the test key that the worlds' serve trusts besides sample_tokens/jwks.json."""
    now = int(time.time())
    claims = {"iss": "https://sso.example.com/realms/acme", "aud": "litellm", "sub": "root", "iat": now,
              "exp": now + 3600, "scope": "litellm_proxy_admin"}
    return jwt.encode(claims, keys.private, algorithm="RS256", headers={"kid": KID})


@pytest.fixture(scope="session")
def mock_world(provider: Any, keys: Keys) -> Iterator[Any]:
    """serve in front of the mock provider (it speaks LiteLLM's client-side APIs)."""
    from tests.server.front import MASTER_KEY, World, start_serve, world_env

    served = start_serve(world_env(provider), provider.url, None, "--jwks", str(keys.jwks_path))
    try:
        yield World("mock", served.url, provider, served, provider.url, MASTER_KEY, _admin_token(keys))
    finally:
        served.stop()


@pytest.fixture(scope="session")
def litellm_world(provider: Any, keys: Keys) -> Iterator[Any]:
    """serve in front of a real LiteLLM OSS proxy (the README's command, the same file) in front of the mock."""
    from tests.server.front import MASTER_KEY, World, start_litellm, start_serve, world_env

    env = world_env(provider)
    litellm = start_litellm(env)
    try:
        served = start_serve(env, litellm.url, None, "--jwks", str(keys.jwks_path))
        try:
            yield World("litellm", served.url, provider, served, litellm.url, MASTER_KEY, _admin_token(keys))
        finally:
            served.stop()
    finally:
        litellm.stop()


@pytest.fixture(params=["mock", "litellm"])
def world(request: pytest.FixtureRequest) -> Any:
    """Each SDK test runs against both worlds: the same calls, with and without a real LiteLLM behind."""
    return request.getfixturevalue(f"{request.param}_world")
