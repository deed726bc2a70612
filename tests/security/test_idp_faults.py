"""Identity provider faults: down, 500, hang, reset, garbage, HTML, oversize, trickle, and key rotation.

Keys are cached for ``public_key_ttl`` (600 s here); when the IdP fails, the last good set is served for
``public_key_stale_ttl`` (3600 s) past expiry, then jwtgate fails closed. Time is a fake clock; only the
fetch timeout (1 s) runs on the real clock, and elapsed times are checked against a generous bound.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections.abc import Iterator
from typing import Any

import pytest

from jwtgate.config.loader import load_policy
from jwtgate.errors import KeySourceError, TokenError
from jwtgate.keys.jwk import public_jwk
from jwtgate.keys.store import KeyStore, KeyStoreOptions
from jwtgate.tokens.authenticator import Authenticator
from tests.kit.clock import FakeClock
from tests.kit.keys import private_key
from tests.kit.tokens import b64, dumps
from tests.security.faultidp import MODES, FaultIdP
from tests.security.kit import Kit, policy_yaml
from tests.security.replay import NOW, run_async, run_sync

TTL, STALE, COOLDOWN, TIMEOUT = 600.0, 3600.0, 30.0, 1.0
FAULTS = [m for m in MODES if m != "ok"]
BOUND = TIMEOUT + 2.0  # generous: a hanging IdP must cost no more than the fetch timeout
KIT = Kit(now=NOW)
FAR = int(NOW) + 10**6


def _jwk(name: str, kid: str) -> dict[str, Any]:
    return {**public_jwk(private_key(name).public_key()), "kid": kid, "use": "sig"}


def _config(url: str) -> str:
    text = policy_yaml(url).replace("    issuers:", f"    public_key_ttl: {TTL}\n    public_key_stale_ttl: {STALE}\n"
                                                   "    issuers:")
    return text + f"jwtgate:\n  fetch_timeout: {TIMEOUT}\n  key_refetch_cooldown: {COOLDOWN}\n"


@pytest.fixture
def idp() -> Iterator[FaultIdP]:
    server = FaultIdP([_jwk("rsa", "rsa-1")])
    yield server
    server.stop()


def _gateway(idp: FaultIdP) -> tuple[Authenticator, FakeClock]:
    clock = FakeClock(NOW)
    policy = load_policy(_config(idp.url), "idp.yaml", {})
    assert not [f for f in policy.findings if f.severity == "error"], policy.findings
    store = KeyStore(clock=clock, cache_dir=None, options=KeyStoreOptions.from_policy(policy))
    return Authenticator(policy, store, clock=clock), clock


def _valid(kid: str = "rsa-1", key: str = "rsa") -> str:
    return KIT.token("RS256", key, kid, exp=FAR)


def _timed(fn: Any, *args: Any) -> tuple[Any, float]:
    start = time.monotonic()
    result = fn(*args)
    return result, time.monotonic() - start


@pytest.mark.parametrize("fault", FAULTS)
def test_stale_keys_inside_the_window_then_fail_closed(idp: FaultIdP, fault: str) -> None:
    auth, clock = _gateway(idp)
    assert run_sync(auth, _valid(), "small").allowed
    idp.set_mode(fault)
    for offset in (TTL + 1, TTL + STALE / 2, TTL + STALE - 1):  # expired, IdP failing: the stale set serves
        clock.now = NOW + offset
        outcome, took = _timed(run_sync, auth, _valid(), "small")
        assert outcome.allowed, (fault, offset, outcome)
        assert took < BOUND
    assert any("serving the cached set" in w for w in auth.store.warnings)
    clock.now = NOW + TTL + STALE + 1  # past the stale window: refuse, never allow on missing keys
    outcome, took = _timed(run_sync, auth, _valid(), "small")
    assert not outcome.allowed and outcome.code == "jwks.unavailable", outcome
    assert took < BOUND
    assert not run_async(auth, _valid(), "small").allowed
    auth.store.close()


@pytest.mark.parametrize("fault", FAULTS)
def test_cold_start_against_a_failing_idp_allows_nothing(idp: FaultIdP, fault: str) -> None:
    idp.set_mode(fault)
    auth, clock = _gateway(idp)
    expected = {"down": "jwks.unavailable", "status500": "jwks.http_status", "hang": "jwks.timeout",
                "reset": "jwks.unavailable", "garbage": "jwks.invalid", "html": "jwks.invalid",
                "oversize": "jwks.too_large", "oversize_chunked": "jwks.too_large", "trickle": "jwks.timeout"}
    for run in (run_sync, run_async):
        outcome, took = _timed(run, auth, _valid(), "small")
        assert not outcome.allowed and outcome.code == expected[fault], (fault, outcome)
        assert took < BOUND, f"{fault}: {took:.1f} s"
    idp.set_mode("ok")  # the IdP recovers: after the cooldown the next request fetches and passes
    clock.now += COOLDOWN + 1
    assert run_sync(auth, _valid(), "small").allowed
    auth.store.close()


def test_hanging_idp_blocks_concurrent_requests_no_longer_than_the_timeout(idp: FaultIdP) -> None:
    idp.set_mode("hang")
    auth, _ = _gateway(idp)

    async def flood() -> list[BaseException | Any]:
        try:
            return await asyncio.gather(*(auth.aauthenticate(_valid()) for _ in range(50)), return_exceptions=True)
        finally:
            await auth.store.aclose()

    start = time.monotonic()
    results = asyncio.run(flood())
    took = time.monotonic() - start
    assert took < BOUND, took
    assert all(isinstance(r, KeySourceError) and r.code == "jwks.timeout" for r in results)
    assert idp.count() == 1, "concurrent requests share one in-flight fetch"


def test_rotated_in_key_is_picked_up_after_one_refetch(idp: FaultIdP) -> None:
    auth, clock = _gateway(idp)
    assert run_sync(auth, _valid(), "small").allowed
    assert idp.count() == 1
    idp.keys = [_jwk("rsa", "rsa-1"), _jwk("ec", "ec-2")]  # the IdP rotates a new key in, at once
    token = KIT.token("ES256", "ec", "ec-2", exp=FAR)
    assert run_sync(auth, token, "small").allowed
    assert idp.count() == 2, "exactly one refetch for the new kid"
    for _ in range(20):
        assert run_sync(auth, token, "small").allowed
    assert idp.count() == 2
    idp.keys = [_jwk("ec", "ec-2")]  # and the old key rotated out: refused once the cached set expires
    clock.now += TTL + 1
    assert run_sync(auth, _valid(), "small").code == "key.not_found"
    assert idp.count() == 3
    auth.store.close()


def test_rotation_right_after_start_is_picked_up_on_the_async_path(idp: FaultIdP) -> None:
    auth, clock = _gateway(idp)

    async def serve_like() -> list[BaseException | Any]:
        try:
            assert (await auth.aauthenticate(_valid())).key.kid == "rsa-1"
            idp.keys = [_jwk("rsa", "rsa-1"), _jwk("ec", "ec-2")]
            clock.now += 1  # one second later, well inside the 30 s cooldown
            token = KIT.token("ES256", "ec", "ec-2", exp=FAR)
            return await asyncio.gather(*(auth.aauthenticate(token) for _ in range(50)), return_exceptions=True)
        finally:
            await auth.store.aclose()

    results = asyncio.run(serve_like())
    assert all(not isinstance(r, BaseException) and r.key.kid == "ec-2" for r in results), results[:3]
    assert idp.count() == 2, "50 concurrent first users of the new kid share one refetch"


def _random_kid_token(rng: random.Random) -> str:
    kid = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(16))
    return f"{b64(dumps({'alg': 'RS256', 'kid': kid}))}.{b64(KIT.payload(exp=FAR))}.{b64(bytes(256))}"


def test_flood_of_random_kids_fetches_at_most_once_per_cooldown(idp: FaultIdP) -> None:
    auth, clock = _gateway(idp)
    assert run_sync(auth, _valid(), "small").allowed
    rng = random.Random(6)
    fetched_at: list[float] = []
    seen = idp.count()
    for i in range(5000):  # 5,000 tokens over 250 simulated seconds (sync path)
        clock.now = NOW + i * 0.05
        outcome = run_sync(auth, _random_kid_token(rng), "small")
        assert not outcome.allowed and outcome.code == "key.not_found"
        if idp.count() != seen:
            fetched_at.append(clock.now)
            seen = idp.count()
    assert all(b - a >= COOLDOWN for a, b in itertools.pairwise(fetched_at)), fetched_at
    assert 1 <= len(fetched_at) <= int(250 / COOLDOWN) + 1, fetched_at
    before = idp.count()

    async def flood() -> list[BaseException | Any]:
        try:
            return await asyncio.gather(*(auth.aauthenticate(_random_kid_token(rng)) for _ in range(5000)),
                                        return_exceptions=True)
        finally:
            await auth.store.aclose()

    clock.now += COOLDOWN + 1  # one new window, 5,000 concurrent tokens (async path): one fetch at most
    results = asyncio.run(flood())
    assert all(isinstance(r, TokenError) and r.code == "key.not_found" for r in results)
    assert idp.count() - before <= 1
    assert run_sync(auth, _valid(), "small").allowed
    auth.store.close()
