"""Key sources and the KeyStore: httpx.MockTransport unit cases, then a real loopback IdP that counts."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from jwtgate.config.loader import load_policy
from jwtgate.errors import KeySourceError
from jwtgate.keys.disk_cache import DiskCache, default_cache_dir, entry_name
from jwtgate.keys.fetch import FetchLimits, Get, fetch, max_age
from jwtgate.keys.store import (
    KeySource,
    KeyStore,
    KeyStoreOptions,
    check_discovery,
    discovery_url_for,
    source_kind,
    sources_for_policy,
)
from tests.kit.clock import START, FakeClock
from tests.kit.idp import IdP, Route
from tests.kit.keys import ec_jwk, rsa_jwk

ISSUER = "https://sso.example.com/realms/acme"


@pytest.fixture
def idp() -> Iterator[IdP]:
    server = IdP().start()
    yield server
    server.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_store(tmp_path: Path, clock: FakeClock) -> Iterator[Callable[..., KeyStore]]:
    stores: list[KeyStore] = []

    def make(**kw: Any) -> KeyStore:
        kw.setdefault("cache_dir", tmp_path / "cache")
        store = KeyStore(clock=clock, **kw)
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.close()


# --- unit: sources, parsing, headers ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        pytest.param("keys/jwks.json", "file", id="relative-path"),
        pytest.param("https://idp/certs", "jwks", id="jwks-url"),
        pytest.param("HTTPS://idp/realms/a/.well-known/openid-configuration", "discovery", id="discovery"),
        pytest.param("http://127.0.0.1:8080/jwks", "jwks", id="plain-http-local"),
    ],
)
def test_source_kind(source: str, kind: str) -> None:
    assert source_kind(source) == kind


def test_unsupported_scheme_is_refused() -> None:
    with pytest.raises(KeySourceError, match="only http"):
        source_kind("ftp://idp/jwks")


def test_discovery_url_for_issuer_trims_slash() -> None:
    assert discovery_url_for(ISSUER + "/") == ISSUER + "/.well-known/openid-configuration"


def test_sources_from_config_issuers_env_and_settings() -> None:
    text = f"""
general_settings:
  enable_jwt_auth: true
  litellm_jwtauth:
    issuers:
      - issuer: "{ISSUER}"
        jwks_url: "https://sso.example.com/certs"
      - issuer: "https://login.example.org/tenant/v2.0"
jwtgate:
  jwks: ["local/jwks.json"]
"""
    env = {
        "JWT_PUBLIC_KEY_URL": "https://a/jwks, https://b/.well-known/openid-configuration,",
        "JWT_ISSUER": "B",
    }
    policy = load_policy(text, "c.yaml", env)
    assert sources_for_policy(policy, ["extra.pem"]) == [
        KeySource("extra.pem"),
        KeySource("https://sso.example.com/certs", ISSUER),
        KeySource(
            "https://login.example.org/tenant/v2.0/.well-known/openid-configuration",
            "https://login.example.org/tenant/v2.0",
        ),
        KeySource("https://a/jwks", "B"),
        KeySource("https://b/.well-known/openid-configuration", "B"),
        KeySource("local/jwks.json"),
    ]
    options = KeyStoreOptions.from_policy(policy)
    assert (options.ttl, options.stale_ttl, options.cooldown) == (600.0, 3600.0, 30.0)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        pytest.param(None, None, id="absent"),
        pytest.param("public, max-age=120", 120.0, id="max-age"),
        pytest.param('max-age="60", must-revalidate', 60.0, id="quoted"),
        pytest.param("s-maxage=10", None, id="s-maxage-only"),
        pytest.param("no-store", 0.0, id="no-store"),
    ],
)
def test_cache_control_max_age(header: str | None, seconds: float | None) -> None:
    assert max_age(header) == seconds


@pytest.mark.parametrize(
    ("max_age_s", "ttl"),
    [
        pytest.param(None, 600.0, id="no-header-uses-ttl"),
        pytest.param(120.0, 120.0, id="smaller-max-age-shortens"),
        pytest.param(3600.0, 600.0, id="larger-max-age-ignored"),
        pytest.param(0.0, 30.0, id="zero-floored-at-cooldown"),
    ],
)
def test_ttl_for(max_age_s: float | None, ttl: float) -> None:
    assert KeyStoreOptions().ttl_for(max_age_s) == ttl


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        pytest.param({"JWTGATE_CACHE_DIR": "/c"}, "/c", id="override"),
        pytest.param({"XDG_CACHE_HOME": "/x"}, "/x/jwtgate", id="xdg"),
        pytest.param({"XDG_CACHE_HOME": "relative"}, "/home/u/.cache/jwtgate", id="xdg-relative-ignored"),
        pytest.param({}, "/home/u/.cache/jwtgate", id="home"),
    ],
)
def test_default_cache_dir(env: dict[str, str], expected: str) -> None:
    assert str(default_cache_dir(env, Path("/home/u"))) == expected


@pytest.mark.parametrize(
    ("doc", "issuer", "code", "message"),
    [
        pytest.param({"issuer": "x"}, None, "jwks.invalid", "has no http(s) 'jwks_uri'", id="no-jwks-uri"),
        pytest.param({"jwks_uri": "http://idp/jwks"}, None, "jwks.invalid", "plain-http", id="https-to-http"),
        pytest.param(
            {"jwks_uri": "https://idp/k", "issuer": "https://evil"},
            ISSUER,
            "jwks.issuer_mismatch",
            "names issuer 'https://evil', expected",
            id="issuer-mismatch",
        ),
        pytest.param([], None, "jwks.invalid", "not a JSON object", id="not-object"),
    ],
)
def test_discovery_document_checks(doc: Any, issuer: str | None, code: str, message: str) -> None:
    with pytest.raises(KeySourceError) as info:
        check_discovery(doc, "https://idp/.well-known/openid-configuration", issuer)
    assert info.value.code == code and message in info.value.message


def _mock(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    ("handler", "code", "message"),
    [
        pytest.param(
            lambda r: httpx.Response(404, text="nope"), "jwks.http_status", "returned HTTP 404", id="404"
        ),
        pytest.param(
            lambda r: httpx.Response(200, text="<html>"), "jwks.invalid", "is not valid JSON", id="html-body"
        ),
        pytest.param(
            lambda r: httpx.Response(200, content=b"\xff\xfe"), "jwks.invalid", "not UTF-8", id="binary"
        ),
        pytest.param(
            lambda r: httpx.Response(200, headers={"Content-Length": "999999"}, content=b"x" * 999999),
            "jwks.too_large",
            "larger than 1000 bytes",
            id="declared-too-large",
        ),
        pytest.param(
            lambda r: (_ for _ in ()).throw(httpx.ConnectError("refused", request=r)),
            "jwks.unavailable",
            "cannot fetch JWKS https://idp/jwks: refused",
            id="connect-error",
        ),
        pytest.param(
            lambda r: (_ for _ in ()).throw(httpx.ReadTimeout("slow", request=r)),
            "jwks.timeout",
            "timed out after 5 s",
            id="read-timeout",
        ),
        pytest.param(
            lambda r: httpx.Response(304), "jwks.http_status", "returned HTTP 304", id="unasked-304"
        ),
    ],
)
def test_fetch_errors_name_the_url(handler: Any, code: str, message: str) -> None:
    with _mock(handler) as client, pytest.raises(KeySourceError) as info:
        fetch(client, Get("https://idp/jwks", "JWKS"), FetchLimits(max_bytes=1000))
    assert info.value.code == code
    assert message in info.value.message and "https://idp/jwks" in info.value.message


def test_streamed_body_past_the_cap_is_aborted() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=iter([b"[" + b" " * 600, b" " * 600 + b"]"]))

    with _mock(handler) as client, pytest.raises(KeySourceError) as info:
        fetch(client, Get("https://idp/jwks", "JWKS"), FetchLimits(max_bytes=1000))
    assert info.value.code == "jwks.too_large"


def test_conditional_headers_are_sent() -> None:
    seen: list[httpx.Headers] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers)
        return httpx.Response(304, headers={"ETag": '"v1"'})

    with _mock(handler) as client:
        got = fetch(
            client, Get("https://idp/jwks", "JWKS", '"v1"', "Tue, 01 Dec 2026 00:00:00 GMT"), FetchLimits()
        )
    assert got.not_modified and seen[0]["If-None-Match"] == '"v1"'
    assert seen[0]["If-Modified-Since"] == "Tue, 01 Dec 2026 00:00:00 GMT"


def test_mock_store_serves_from_memory(make_store: Callable[..., KeyStore]) -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        return httpx.Response(200, json={"keys": [rsa_jwk("a")]})

    store = make_store(client=_mock(handler), cache_dir=None)
    first = store.get_keys("https://idp/jwks")
    second = store.get_keys("https://idp/jwks")
    assert (first.origin, second.origin, len(calls)) == ("network", "memory", 1)
    assert [k.kid for k in second.keys] == ["a"] and first.find("a") is not None


def test_async_concurrent_callers_share_one_fetch(make_store: Callable[..., KeyStore]) -> None:
    calls = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0)
        return httpx.Response(200, json={"keys": [rsa_jwk("a")]})

    async def main() -> list[bool]:
        client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        store = make_store(async_client=client, cache_dir=None)
        infos = await asyncio.gather(*(store.aget_keys("https://idp/jwks") for _ in range(20)))
        kids = await asyncio.gather(
            *(store.arefresh_for_unknown_kid("https://idp/jwks", "b") for _ in range(20))
        )
        await client.aclose()
        return [len(i.keys) == 1 for i in infos] + list(kids)

    results = asyncio.run(main())
    assert results[:20] == [True] * 20 and results[20:] == [False] * 20
    assert calls == 2  # one fetch for the set, then ONE refetch shared by the 20 callers with kid "b"


# --- end to end against a real loopback IdP -------------------------------------------------------------


def test_discovery_follows_jwks_uri_and_checks_issuer(idp: IdP, make_store: Callable[..., KeyStore]) -> None:
    disco = "/realms/acme/.well-known/openid-configuration"
    idp.routes[disco] = Route().json({"issuer": ISSUER, "jwks_uri": idp.url("/realms/acme/certs")})
    idp.set_jwks("/realms/acme/certs", [rsa_jwk("k1")])
    store = make_store()
    info = store.get_keys(idp.url(disco), issuer=ISSUER)
    store.get_keys(idp.url(disco), issuer=ISSUER)
    assert (info.jwks_url, info.issuer, [k.kid for k in info.keys]) == (
        idp.url("/realms/acme/certs"),
        ISSUER,
        ["k1"],
    )
    assert (idp.count(disco), idp.count("/realms/acme/certs")) == (1, 1)
    store.refresh(idp.url(disco), issuer=ISSUER)  # `jwks fetch` rediscovers
    assert (idp.count(disco), idp.count("/realms/acme/certs")) == (2, 2)
    with pytest.raises(KeySourceError) as err:
        make_store(cache_dir=None).get_keys(idp.url(disco), issuer="https://sso.example.com/realms/other")
    assert err.value.code == "jwks.issuer_mismatch"
    assert f"names issuer '{ISSUER}', expected 'https://sso.example.com/realms/other'" in err.value.message


def test_etag_revalidation_keeps_the_set_and_extends_expiry(
    idp: IdP, clock: FakeClock, make_store: Callable[..., KeyStore]
) -> None:
    idp.set_jwks("/jwks", [ec_jwk("k1")], etag='"v1"')
    store = make_store()
    first = store.get_keys(idp.url("/jwks"))
    clock.advance(601)
    second = store.get_keys(idp.url("/jwks"))
    assert idp.count("/jwks") == 2 and idp.conditional == ["/jwks"]
    assert second.keys == first.keys and not second.stale
    assert second.expires_at == START + 601 + 600


def test_cache_control_max_age_shortens_expiry(idp: IdP, make_store: Callable[..., KeyStore]) -> None:
    idp.set_jwks("/jwks", [rsa_jwk("k1")], headers={"Cache-Control": "public, max-age=60"})
    info = make_store().get_keys(idp.url("/jwks"))
    assert info.expires_at - info.fetched_at == 60


def test_rotation_refetches_at_most_once_per_cooldown(
    idp: IdP, clock: FakeClock, make_store: Callable[..., KeyStore]
) -> None:
    old, new = rsa_jwk("old"), rsa_jwk("new")
    idp.set_jwks("/jwks", [old])
    store = make_store()
    store.get_keys(idp.url("/jwks"))
    clock.advance(31)
    idp.set_jwks("/jwks", [old, new])
    assert store.refresh_for_unknown_kid(idp.url("/jwks"), "new") is True
    assert [k.kid for k in store.get_keys(idp.url("/jwks")).keys] == ["old", "new"]
    assert idp.count("/jwks") == 2
    # an attacker sends many tokens with made-up kids: the IdP sees at most one request per cooldown
    assert not any(store.refresh_for_unknown_kid(idp.url("/jwks"), f"forged-{i}") for i in range(100))
    assert idp.count("/jwks") == 2
    clock.advance(31)
    assert not any(store.refresh_for_unknown_kid(idp.url("/jwks"), f"forged2-{i}") for i in range(100))
    assert idp.count("/jwks") == 3
    clock.advance(10)
    assert store.refresh_for_unknown_kid(idp.url("/jwks"), "forged2-0") is False  # remembered as missing
    assert idp.count("/jwks") == 3


def test_key_rotated_in_right_after_a_fetch_is_picked_up_at_once(
    idp: IdP, clock: FakeClock, make_store: Callable[..., KeyStore]
) -> None:
    idp.set_jwks("/jwks", [rsa_jwk("old")])
    store = make_store()
    store.get_keys(idp.url("/jwks"))
    clock.advance(1)  # the IdP rotates one second after jwtgate's fetch: far inside the cooldown
    idp.set_jwks("/jwks", [rsa_jwk("old"), rsa_jwk("new")])
    assert store.refresh_for_unknown_kid(idp.url("/jwks"), "new") is True
    assert idp.count("/jwks") == 2
    # that refetch spent the budget: made-up kids cost nothing more until the cooldown has passed
    assert not any(store.refresh_for_unknown_kid(idp.url("/jwks"), f"forged-{i}") for i in range(50))
    assert idp.count("/jwks") == 2


def test_retired_kid_is_not_refetched_for_right_after_the_set_dropped_it(
    idp: IdP, clock: FakeClock, make_store: Callable[..., KeyStore]
) -> None:
    idp.set_jwks("/jwks", [rsa_jwk("old")], headers={"Cache-Control": "max-age=60"})
    store = make_store()
    store.get_keys(idp.url("/jwks"))
    idp.set_jwks("/jwks", [rsa_jwk("new")], headers={"Cache-Control": "max-age=60"})
    clock.advance(61)
    assert [k.kid for k in store.get_keys(idp.url("/jwks")).keys] == ["new"]
    assert store.refresh_for_unknown_kid(idp.url("/jwks"), "old") is False
    assert idp.count("/jwks") == 2  # the set fetched a moment ago lacked it: no pointless refetch
    clock.advance(store.options.kid_retry)
    assert store.refresh_for_unknown_kid(idp.url("/jwks"), "old") is False
    assert idp.count("/jwks") == 3  # later it is worth one look (the IdP may have put it back)


def test_a_kid_whose_key_is_unusable_counts_as_missing(
    idp: IdP, clock: FakeClock, make_store: Callable[..., KeyStore]
) -> None:
    idp.set_jwks("/jwks", [rsa_jwk("weak", bits=1024)])
    store = make_store()
    store.get_keys(idp.url("/jwks"))
    idp.set_jwks("/jwks", [rsa_jwk("weak")])  # the IdP replaces the weak key under the same kid
    assert store.refresh_for_unknown_kid(idp.url("/jwks"), "weak") is True
    key = store.get_keys(idp.url("/jwks")).find("weak")
    assert idp.count("/jwks") == 2 and key is not None and key.usable


def test_concurrent_threads_share_one_unknown_kid_refetch(
    idp: IdP, clock: FakeClock, make_store: Callable[..., KeyStore]
) -> None:
    idp.set_jwks("/jwks", [rsa_jwk("a")])
    store = make_store()
    store.get_keys(idp.url("/jwks"))
    clock.advance(31)
    idp.set_jwks("/jwks", [rsa_jwk("a"), rsa_jwk("b")])
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        results.append(store.refresh_for_unknown_kid(idp.url("/jwks"), "b"))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True] * 8 and idp.count("/jwks") == 2


def test_outage_serves_stale_then_fails_closed(
    idp: IdP, clock: FakeClock, make_store: Callable[..., KeyStore]
) -> None:
    idp.set_jwks("/jwks", [rsa_jwk("k1")])
    store = make_store()
    store.get_keys(idp.url("/jwks"))
    idp.routes["/jwks"] = Route(status=503, body=b"down")
    clock.advance(601)
    stale = store.get_keys(idp.url("/jwks"))
    assert stale.stale and [k.kid for k in stale.keys] == ["k1"]
    assert "returned HTTP 503" in store.warnings[-1] and "serving the cached set" in store.warnings[-1]
    for _ in range(50):
        store.get_keys(idp.url("/jwks"))
    assert idp.count("/jwks") == 2  # the outage is remembered for the cooldown: no hammering
    clock.advance(3600)
    with pytest.raises(KeySourceError) as info:
        store.get_keys(idp.url("/jwks"))
    assert info.value.code == "jwks.unavailable"
    assert "refusing to verify with them" in info.value.message and "HTTP 503" in info.value.message


def test_outage_with_idp_gone_entirely(
    idp: IdP, clock: FakeClock, make_store: Callable[..., KeyStore]
) -> None:
    idp.set_jwks("/jwks", [rsa_jwk("k1")])
    store = make_store()
    store.get_keys(idp.url("/jwks"))
    idp.stop()
    clock.advance(700)
    assert store.get_keys(idp.url("/jwks")).stale
    assert "cannot fetch JWKS" in store.warnings[-1]


def test_disk_cache_is_shared_by_a_new_store(idp: IdP, make_store: Callable[..., KeyStore]) -> None:
    idp.set_jwks(
        "/jwks", [rsa_jwk("k1")], etag='"e"', headers={"Last-Modified": "Tue, 01 Dec 2026 00:00:00 GMT"}
    )
    make_store().get_keys(idp.url("/jwks"))
    again = make_store().get_keys(idp.url("/jwks"))
    assert again.origin == "disk" and [k.kid for k in again.keys] == ["k1"] and idp.count("/jwks") == 1
    entry = json.loads((make_store().disk.path_for(idp.url("/jwks")) or Path()).read_text())
    assert (entry["etag"], entry["last_modified"], entry["fetched_at"]) == (
        '"e"',
        "Tue, 01 Dec 2026 00:00:00 GMT",
        START,
    )


def test_corrupt_cache_entry_is_ignored_and_refetched(
    idp: IdP, tmp_path: Path, make_store: Callable[..., KeyStore]
) -> None:
    idp.set_jwks("/jwks", [rsa_jwk("k1")])
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / entry_name(idp.url("/jwks"))).write_text('{"version": 1, "source": ')
    store = make_store()
    info = store.get_keys(idp.url("/jwks"))
    assert info.origin == "network" and idp.count("/jwks") == 1
    assert any("is corrupt" in w and "ignoring it" in w for w in store.warnings)
    assert DiskCache(cache).load(idp.url("/jwks"), []) is not None  # rewritten whole


def test_offline_uses_only_the_cache(idp: IdP, clock: FakeClock, make_store: Callable[..., KeyStore]) -> None:
    idp.set_jwks("/jwks", [rsa_jwk("k1")])
    with pytest.raises(KeySourceError) as info:
        make_store(offline=True).get_keys(idp.url("/jwks"))
    assert info.value.code == "jwks.not_cached" and "jwtgate jwks fetch" in (info.value.hint or "")
    make_store().get_keys(idp.url("/jwks"))
    clock.advance(700)
    offline = make_store(offline=True).get_keys(idp.url("/jwks"))
    assert offline.stale and idp.count("/jwks") == 1
    clock.advance(3600)
    with pytest.raises(KeySourceError) as info:
        make_store(offline=True).get_keys(idp.url("/jwks"))
    assert info.value.code == "jwks.stale_expired"


@pytest.mark.parametrize(
    ("route", "code", "message"),
    [
        pytest.param(Route(body=b"{bad json"), "jwks.invalid", "is not valid JSON", id="bad-json"),
        pytest.param(Route(body=b"[]"), "jwks.invalid", "not a JWKS (a JSON list)", id="json-list"),
        pytest.param(Route(body=b'{"keys": 3}'), "jwks.invalid", "'keys' is a number", id="keys-number"),
        pytest.param(Route(status=500), "jwks.http_status", "returned HTTP 500", id="http-500"),
        pytest.param(
            Route(body=b"[" + b" " * 5000 + b"]"), "jwks.too_large", "larger than 4096", id="too-large"
        ),
        pytest.param(
            Route(body=b"[" + b" " * 5000 + b"]", no_length=True),
            "jwks.too_large",
            "larger than 4096",
            id="too-large-streamed",
        ),
    ],
)
def test_bad_responses(
    idp: IdP, make_store: Callable[..., KeyStore], route: Route, code: str, message: str
) -> None:
    idp.routes["/jwks"] = route
    store = make_store(options=KeyStoreOptions(limits=FetchLimits(max_bytes=4096)))
    with pytest.raises(KeySourceError) as info:
        store.get_keys(idp.url("/jwks"))
    assert info.value.code == code
    assert message in info.value.message and idp.url("/jwks") in info.value.message


def test_hanging_idp_times_out(idp: IdP, make_store: Callable[..., KeyStore]) -> None:
    idp.routes["/jwks"] = Route(hang=True)
    store = make_store(options=KeyStoreOptions(limits=FetchLimits(timeout=0.3, connect_timeout=0.3)))
    with pytest.raises(KeySourceError) as info:
        store.get_keys(idp.url("/jwks"))
    assert info.value.code == "jwks.timeout"
    assert info.value.message == f"JWKS {idp.url('/jwks')} timed out after 0.3 s"


def test_async_store_against_the_real_idp(
    idp: IdP, clock: FakeClock, make_store: Callable[..., KeyStore]
) -> None:
    idp.set_jwks("/jwks", [rsa_jwk("a")])

    async def main() -> tuple[int, bool]:
        store = make_store()
        infos = await asyncio.gather(*(store.aget_keys(idp.url("/jwks")) for _ in range(25)))
        clock.advance(31)
        idp.set_jwks("/jwks", [rsa_jwk("a"), rsa_jwk("b")])
        found = await asyncio.gather(
            *(store.arefresh_for_unknown_kid(idp.url("/jwks"), "b") for _ in range(25))
        )
        await store.aclose()
        return len({id(i.keys) for i in infos}), all(found)

    distinct_sets, all_found = asyncio.run(main())
    assert (distinct_sets, all_found, idp.count("/jwks")) == (1, True, 2)


def test_local_file_source(tmp_path: Path, make_store: Callable[..., KeyStore]) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [rsa_jwk("f1")]}))
    info = make_store(offline=True).get_keys(str(path))
    assert (info.origin, [k.kid for k in info.keys], info.jwks_url) == ("file", ["f1"], str(path))
