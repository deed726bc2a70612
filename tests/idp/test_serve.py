"""``jwtgate serve`` (a real subprocess) in front of a fake upstream, trusting a real OpenID Connect
provider (oidc-provider): its tokens, a key rotation while serve runs, the provider going down (stale set
inside the window, then fail closed, ``/readyz``) and coming back (recovery without a restart).

Times here are real: the configs use lifetimes of a few seconds, every wait polls with a bound, and no
assertion is about how long something took.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import jwt
import pytest

from tests.idp.conftest import FIRST_KEYS
from tests.idp.oidc import OidcProvider, gateway_config, signing_jwk
from tests.security.served import Served, serve_args
from tests.security.upstream import Upstream

WAIT = 10.0
TTL = 10.0  # the key lifetime of the rotation test
POLL_BOUND = 30.0  # no state change below may take longer than this; each test polls every 0.2 s


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def start_gateway(tmp_path: Path, upstream: Upstream) -> Iterator[Callable[[str], Served]]:
    running: list[Served] = []

    def start(config_text: str) -> Served:
        config = tmp_path / f"gateway-{len(running)}.yaml"
        config.write_text(config_text)
        served = Served(serve_args(config, upstream.url), {"JWTGATE_CACHE_DIR": str(tmp_path / "cache")})
        running.append(served)
        return served.listening()

    try:
        yield start
    finally:
        for served in running:
            served.stop()


def _call(gateway: Served, token: str, model: str = "small") -> httpx.Response:
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
    return httpx.post(f"{gateway.url}/v1/chat/completions", json=body, headers={"authorization": f"Bearer {token}"},
                      timeout=WAIT)


def _code(reply: httpx.Response) -> str | None:
    return None if reply.status_code == 200 else str(reply.json()["error"]["code"])


def _until(what: str, check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + POLL_BOUND
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {POLL_BOUND:g} s: {what}")
        time.sleep(0.2)


def _ready(gateway: Served) -> int:
    return httpx.get(f"{gateway.url}/readyz", timeout=WAIT).status_code


def test_serve_forwards_provider_tokens_by_policy(idp: OidcProvider, start_gateway: Callable[[str], Served],
                                                  upstream: Upstream) -> None:
    gateway = start_gateway(gateway_config(idp.issuer))
    for resource in ("urn:jwtgate:rs256", "urn:jwtgate:ps256", "urn:jwtgate:es256"):
        assert _call(gateway, idp.token("nested-client", resource)).status_code == 200
    denied = _call(gateway, idp.token("nested-client"), model="big")
    assert (denied.status_code, _code(denied)) == (403, "policy.model_not_allowed")
    wrong = _call(gateway, idp.token("nested-client", "urn:jwtgate:other"))
    assert (wrong.status_code, _code(wrong)) == (401, "token.audience_mismatch")
    assert upstream.count() == 3 and _ready(gateway) == 200


def test_rotation_while_serve_runs(idp: OidcProvider, start_gateway: Callable[[str], Served]) -> None:
    # the default 30 s cooldown and a 10 s key lifetime: the new kid must not wait for either
    gateway = start_gateway(gateway_config(idp.issuer, ttl=TTL))
    old_token = idp.token("nested-client")
    assert _call(gateway, old_token).status_code == 200  # serve has fetched the first set
    new_key = signing_jwk("rsa-next", "rsa-2")
    idp.rotate([new_key, *FIRST_KEYS])  # the provider signs with the new key and still publishes the old
    new_token = idp.token("nested-client")
    assert jwt.get_unverified_header(new_token)["kid"] == "rsa-2"
    refetched = time.monotonic()
    reply = _call(gateway, new_token)
    assert reply.status_code == 200, reply.text  # accepted at once: one refetch for the unknown kid
    assert _call(gateway, old_token).status_code == 200  # both keys are published
    idp.rotate([new_key])  # the old key is retired: refused once serve's cached set has expired
    still_cached = _call(gateway, old_token).status_code
    if time.monotonic() < refetched + TTL - 2:  # (a slow machine may already be past the lifetime)
        assert still_cached == 200, "the cached set is honoured until it expires"
    _until("the retired kid is refused", lambda: _code(_call(gateway, old_token)) == "key.not_found")
    assert _call(gateway, new_token).status_code == 200
    assert _ready(gateway) == 200


def test_provider_down_then_back(idp: OidcProvider, start_gateway: Callable[[str], Served]) -> None:
    ttl, stale = 2.0, 6.0
    gateway = start_gateway(gateway_config(idp.issuer, ttl=ttl, stale_ttl=stale, cooldown=1))
    token = idp.token("nested-client")
    assert _call(gateway, token).status_code == 200
    fetched = time.monotonic()
    idp.stop()
    time.sleep(max(0.0, fetched + ttl + 1.0 - time.monotonic()))  # past the key lifetime, inside the window
    assert time.monotonic() < fetched + ttl + stale  # (the window is long enough for this check to mean it)
    assert _call(gateway, token).status_code == 200, "the last good set serves inside the stale window"
    assert _ready(gateway) == 200
    _until("serve fails closed past the stale window", lambda: _call(gateway, token).status_code == 503)
    closed = _call(gateway, token)
    assert _code(closed) == "jwks.unavailable" and _ready(gateway) == 503
    idp.start(FIRST_KEYS)  # the provider comes back on the same issuer: no restart of serve
    _until("serve recovers", lambda: _call(gateway, token).status_code == 200)
    assert _ready(gateway) == 200
