"""Authenticator: trust selection by issuer, keys bound to their issuer, refetch on rotation, sync and async."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest

from jwtgate.config.loader import load_policy
from jwtgate.errors import KeySourceError, TokenError
from jwtgate.keys.jwk import parse_jwk
from jwtgate.keys.store import KeyStore, KeyStoreOptions
from jwtgate.tokens.authenticator import Authenticator, build_trusts
from tests.kit.clock import FakeClock
from tests.kit.idp import IdP
from tests.kit.keys import jwk_of, private_key

NOW = 1_795_687_200.0
ISS_A = "https://a.example.com/realms/acme"
ISS_B = "https://b.example.com"


def _keypair(kid: str) -> tuple[Any, dict[str, Any]]:
    priv = private_key(f"rsa-{kid}")
    jwk = jwk_of(priv, kid, use="sig", alg="RS256")
    parse_jwk(jwk, "check")  # sanity: our own parser accepts it
    return priv, jwk


KEY_A, JWK_A = _keypair("a1")
KEY_B, JWK_B = _keypair("b1")
KEY_A2, JWK_A2 = _keypair("a2")


def _token(priv: Any, kid: str, **claims: Any) -> str:
    body = {"iss": ISS_A, "aud": "litellm", "sub": "alice", "exp": NOW + 3600, "iat": NOW - 10, **claims}
    return jwt.encode(body, priv, algorithm="RS256", headers={"kid": kid})


def _policy(tmp_path: Path, url_a: str, url_b: str) -> Any:
    text = f"""
general_settings:
  enable_jwt_auth: true
  litellm_jwtauth:
    issuers:
      - issuer: "{ISS_A}"
        audience: litellm
        jwks_url: "{url_a}"
      - issuer: "{ISS_B}"
        audience: other
        jwks_url: "{url_b}"
"""
    return load_policy(text, "c.yaml", {})


@pytest.fixture
def files(tmp_path: Path) -> tuple[str, str]:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps({"keys": [JWK_A]}))
    b.write_text(json.dumps({"keys": [JWK_B]}))
    return str(a), str(b)


def _auth(policy: Any, tmp_path: Path, clock: FakeClock | None = None, **kw: Any) -> Authenticator:
    clock = clock or FakeClock(NOW)
    store = KeyStore(clock=clock, cache_dir=tmp_path / "cache",
                     options=KeyStoreOptions(cooldown=30.0))
    return Authenticator(policy, store, clock=clock, **kw)


def test_token_of_its_issuer_verifies_with_a_step_trace(tmp_path: Path, files: tuple[str, str]) -> None:
    auth = _auth(_policy(tmp_path, *files), tmp_path)
    trace = auth.trace(_token(KEY_A, "a1"))
    assert trace.error is None and trace.verified is not None
    assert trace.verified.claims["sub"] == "alice"
    names = [s.name for s in trace.steps]
    assert names[:2] == ["token", "trust"] and "signature" in names and "audience" in names
    assert all(s.status in ("ok", "info") for s in trace.steps)


@pytest.mark.parametrize(
    ("case", "token", "code"),
    [
        ("key-of-another-issuer-cannot-sign", lambda: _token(KEY_B, "b1"), "key.not_found"),
        ("unknown-issuer-refused", lambda: _token(KEY_A, "a1", iss="https://evil.example.com"), "token.issuer_unknown"),
        ("audience-of-other-app-refused", lambda: _token(KEY_A, "a1", aud="other"), "token.audience_mismatch"),
        ("forged-same-kid-refused", lambda: _token(KEY_B, "a1"), "token.signature_invalid"),
    ],
)
def test_refusals_name_their_code(tmp_path: Path, files: tuple[str, str], case: str, token: Any, code: str) -> None:
    auth = _auth(_policy(tmp_path, *files), tmp_path)
    with pytest.raises(TokenError) as info:
        auth.authenticate(token())
    assert info.value.code == code, case
    trace = auth.trace(token())
    assert trace.verified is None and trace.steps[-1].status == "fail"


def test_id_token_whose_aud_is_configured_passes_with_a_warning(tmp_path: Path, files: tuple[str, str]) -> None:
    auth = _auth(_policy(tmp_path, *files), tmp_path)
    trace = auth.trace(_token(KEY_A, "a1", nonce="n-0S6", at_hash="77QmUPtjPfzWtF2AnpK9RQ"), now=NOW)
    assert trace.error is None
    warn = [s for s in trace.steps if s.status == "warn"]
    assert [s.name for s in warn] == ["token"]
    assert warn[0].detail.startswith("this looks like an ID token ('nonce' and 'at_hash' present")
    plain = auth.trace(_token(KEY_A, "a1"), now=NOW)
    assert not [s for s in plain.steps if s.status == "warn"]


def test_cli_jwks_replaces_configured_sources_but_keeps_issuer_rules(tmp_path: Path, files: tuple[str, str]) -> None:
    policy = _policy(tmp_path, "https://unreachable.invalid/jwks", "https://unreachable.invalid/b")
    auth = _auth(policy, tmp_path, extra_sources=[files[0]])
    assert auth.authenticate(_token(KEY_A, "a1")).claims["iss"] == ISS_A
    with pytest.raises(TokenError) as info:
        auth.authenticate(_token(KEY_A, "a1", aud="nope"))
    assert info.value.code == "token.audience_mismatch"


def test_no_key_source_configured_is_a_clear_error(tmp_path: Path) -> None:
    policy = load_policy("general_settings: {enable_jwt_auth: true}\n", "c.yaml", {})
    assert build_trusts(policy) == ()
    with pytest.raises(KeySourceError) as info:
        _auth(policy, tmp_path).authenticate(_token(KEY_A, "a1"))
    assert info.value.code == "jwks.not_configured"


def test_global_trust_from_env_checks_env_audience(tmp_path: Path, files: tuple[str, str]) -> None:
    env = {"JWT_PUBLIC_KEY_URL": files[0], "JWT_AUDIENCE": "litellm", "JWT_ISSUER": ISS_A}
    policy = load_policy("general_settings: {enable_jwt_auth: true}\n", "c.yaml", env)
    auth = _auth(policy, tmp_path)
    assert auth.authenticate(_token(KEY_A, "a1")).claims["aud"] == "litellm"
    with pytest.raises(TokenError) as info:
        auth.authenticate(_token(KEY_A, "a1", iss="https://x.example.com"))
    assert info.value.code == "token.issuer_mismatch"


@pytest.fixture
def idp() -> Iterator[IdP]:
    server = IdP().start()
    yield server
    server.stop()


def test_rotated_key_is_picked_up_by_one_refetch(tmp_path: Path, idp: IdP) -> None:
    idp.set_jwks("/a", [JWK_A])
    clock = FakeClock(NOW)
    auth = _auth(_policy(tmp_path, idp.url("/a"), idp.url("/b")), tmp_path, clock)
    auth.authenticate(_token(KEY_A, "a1"))
    assert idp.count("/a") == 1
    clock.now += 31  # past the cooldown that follows the first fetch
    idp.set_jwks("/a", [JWK_A, JWK_A2])  # the IdP rotates a new key in
    assert auth.authenticate(_token(KEY_A2, "a2")).key.kid == "a2"
    assert idp.count("/a") == 2
    for i in range(20):  # unknown kids: no further fetch inside the cooldown
        with pytest.raises(TokenError):
            auth.authenticate(_token(KEY_A2, f"junk-{i}"))
    auth.store.close()
    assert idp.count("/a") == 2


def test_async_path_caches_verified_tokens_and_refetches(tmp_path: Path, idp: IdP) -> None:
    idp.set_jwks("/a", [JWK_A])
    clock = FakeClock(NOW)
    auth = _auth(_policy(tmp_path, idp.url("/a"), idp.url("/b")), tmp_path, clock)

    async def run() -> None:
        token = _token(KEY_A, "a1")
        first = await auth.aauthenticate(token)
        assert (await auth.aauthenticate(token)) is first  # served from the verified-token cache
        clock.now += 31
        idp.set_jwks("/a", [JWK_A, JWK_A2])
        assert (await auth.aauthenticate(_token(KEY_A2, "a2"))).key.kid == "a2"
        with pytest.raises(TokenError):
            await auth.aauthenticate(_token(KEY_B, "a1"))
        await auth.store.aclose()

    asyncio.run(run())
    assert idp.count("/a") == 2


def test_cached_token_is_dropped_when_its_key_leaves_the_set(tmp_path: Path, idp: IdP) -> None:
    idp.set_jwks("/a", [JWK_A, JWK_A2])
    clock = FakeClock(NOW)
    auth = _auth(_policy(tmp_path, idp.url("/a"), idp.url("/b")), tmp_path, clock)
    token = _token(KEY_A, "a1")

    async def run() -> None:
        await auth.aauthenticate(token)
        await auth.aauthenticate(token)  # a cache hit: the key check is memoised until the set expires
        idp.set_jwks("/a", [JWK_A2])  # the IdP revokes key a1
        clock.now += 601  # past public_key_ttl: the next request refreshes the set
        with pytest.raises(TokenError) as info:
            await auth.aauthenticate(token)
        assert info.value.code == "key.not_found"
        await auth.store.aclose()

    asyncio.run(run())


def test_cached_token_is_refused_as_soon_as_a_refetch_drops_its_key(tmp_path: Path, idp: IdP) -> None:
    idp.set_jwks("/a", [JWK_A])
    clock = FakeClock(NOW)
    auth = _auth(_policy(tmp_path, idp.url("/a"), idp.url("/b")), tmp_path, clock)
    token = _token(KEY_A, "a1")

    async def run() -> None:
        await auth.aauthenticate(token)
        assert (await auth.aauthenticate(token)).key.kid == "a1"  # a cache hit: the key check is memoised
        idp.set_jwks("/a", [JWK_A2])  # the IdP swaps a1 for a2
        clock.now += 31  # past the unknown-kid cooldown, well before the set expires
        assert (await auth.aauthenticate(_token(KEY_A2, "a2"))).key.kid == "a2"  # refetch: a1 is gone
        with pytest.raises(TokenError) as info:
            await auth.aauthenticate(token)
        assert info.value.code == "key.not_found"
        await auth.store.aclose()

    asyncio.run(run())


def test_cached_token_fails_closed_after_the_stale_window(tmp_path: Path, idp: IdP) -> None:
    idp.set_jwks("/a", [JWK_A])
    clock = FakeClock(NOW)
    auth = _auth(_policy(tmp_path, idp.url("/a"), idp.url("/b")), tmp_path, clock)
    token = _token(KEY_A, "a1", exp=NOW + 10 * 3600)

    async def run() -> None:
        await auth.aauthenticate(token)
        idp.stop()  # the IdP goes down for good
        clock.now += 700  # expired set, inside the stale window: still served
        assert (await auth.aauthenticate(token)).claims["sub"] == "alice"
        clock.now += 3600  # past public_key_ttl + public_key_stale_ttl
        with pytest.raises(KeySourceError) as info:
            await auth.aauthenticate(token)
        assert info.value.code == "jwks.unavailable"
        await auth.store.aclose()

    asyncio.run(run())
