"""The verified-token cache: deadlines, the size bound, clear(), and nothing but verified tokens."""

from __future__ import annotations

from typing import Any

import pytest

from jwtgate.model import VerifiedToken
from jwtgate.tokens.cache import VerifiedCache
from tests.kit.keys import vkey
from tests.kit.tokens import NOW


def verified(**claims: Any) -> VerifiedToken:
    return VerifiedToken(header={"alg": "RS256"}, claims=claims, key=vkey("RSA"), fingerprint="f" * 12)


def test_hit_returns_the_verified_token_until_exp() -> None:
    cache, token = VerifiedCache(ttl=3600), verified(exp=NOW + 60)
    cache.put("tok", token, NOW)
    assert cache.get("tok", NOW + 59.9) is token
    assert cache.get("tok", NOW + 60) is None  # at exp: gone (no leeway: stricter than verification)
    assert len(cache) == 0
    assert (cache.hits, cache.misses) == (1, 1)


def test_ttl_bounds_the_lifetime_of_a_long_lived_token() -> None:
    cache = VerifiedCache(ttl=300)
    cache.put("tok", verified(exp=NOW + 86_400), NOW)
    assert cache.get("tok", NOW + 299) is not None
    assert cache.get("tok", NOW + 300) is None


def test_token_without_exp_lives_for_the_ttl() -> None:
    cache = VerifiedCache(ttl=10)
    cache.put("tok", verified(), NOW)
    assert cache.get("tok", NOW + 9) is not None
    assert cache.get("tok", NOW + 10) is None


@pytest.mark.parametrize("exp", [NOW, NOW - 5, NOW - 3600])
def test_token_already_past_exp_is_not_stored(exp: float) -> None:
    cache = VerifiedCache()
    cache.put("tok", verified(exp=exp), NOW)
    assert len(cache) == 0


def test_other_tokens_miss() -> None:
    cache = VerifiedCache()
    cache.put("tok-a", verified(exp=NOW + 60), NOW)
    assert cache.get("tok-b", NOW) is None
    assert cache.get("tok-a ", NOW) is None


def test_least_recently_used_is_evicted_first() -> None:
    cache = VerifiedCache(max_size=2)
    for name in ("a", "b"):
        cache.put(name, verified(sub=name), NOW)
    assert cache.get("a", NOW) is not None  # "a" becomes the most recent
    cache.put("c", verified(sub="c"), NOW)
    assert len(cache) == 2
    assert cache.get("b", NOW) is None
    assert cache.get("a", NOW) is not None
    assert cache.get("c", NOW) is not None


def test_clear_forgets_everything() -> None:
    cache = VerifiedCache()
    cache.put("tok", verified(exp=NOW + 60), NOW)
    cache.clear()
    assert cache.get("tok", NOW) is None


def test_size_zero_disables_the_cache() -> None:
    cache = VerifiedCache(max_size=0)
    cache.put("tok", verified(exp=NOW + 60), NOW)
    assert cache.get("tok", NOW) is None


def test_only_verified_tokens_can_be_cached() -> None:
    cache = VerifiedCache()
    with pytest.raises(TypeError, match="only a VerifiedToken can be cached"):
        cache.put("tok", {"sub": "admin"}, NOW)  # type: ignore[arg-type]
    assert len(cache) == 0


def test_entries_are_keyed_by_hash_not_by_token_text() -> None:
    cache = VerifiedCache()
    cache.put("secret-token-text", verified(exp=NOW + 60), NOW)
    assert "secret-token-text" not in repr(list(cache._entries))


@pytest.mark.parametrize(("size", "ttl"), [(-1, 10.0), (10, -1.0)])
def test_negative_bounds_are_refused(size: int, ttl: float) -> None:
    with pytest.raises(ValueError, match="must be >= 0"):
        VerifiedCache(max_size=size, ttl=ttl)
