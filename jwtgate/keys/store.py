"""Key sources and the key store: memory -> disk cache -> fetch, rotation with a cooldown, stale serving.

Sources are described in keysource.py. ``KeyStore`` is shared by
the CLI (sync methods, ``httpx.Client``) and the server (``a*`` methods, ``httpx.AsyncClient``); the refresh
logic is one generator of requests that both drivers run, so the rules live in one place.
Nothing here prints or reads the clock: the clock, the HTTP clients and the cache directory are injected.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from jwtgate.errors import KeySourceError
from jwtgate.keys.disk_cache import CacheEntry, DiskCache
from jwtgate.keys.fetch import afetch, fetch
from jwtgate.keys.jwk import parse_jwks
from jwtgate.keys.sources import (
    DISCOVERY_PATH,
    KeySetInfo,
    KeySource,
    KeyStoreOptions,
    Origin,
    Steps,
    check_discovery,
    discovery_url_for,
    issuer_ok,
    refresh_steps,
    source_kind,
    sources_for_policy,
)
from jwtgate.model import VerificationKey
from jwtgate.timefmt import duration

if TYPE_CHECKING:
    import asyncio

    import httpx

__all__ = [
    "DISCOVERY_PATH",
    "KeySetInfo",
    "KeySource",
    "KeyStore",
    "KeyStoreOptions",
    "check_discovery",
    "discovery_url_for",
    "load_all",
    "source_kind",
    "sources_for_policy",
]
MAX_WARNINGS = 200
MAX_MISSING = 1000  # kids remembered as missing per source (a flood adds at most one per cooldown)


def _within(since: float | None, now: float, seconds: float) -> bool:
    return since is not None and now < since + seconds


@dataclass
class _State:
    entry: CacheEntry | None = None
    keys: tuple[VerificationKey, ...] = ()
    origin: Origin = "memory"
    last_attempt: float | None = None
    failure: KeySourceError | None = None
    missing: dict[str, float] = field(default_factory=dict)  # kid -> when a fetched set lacked it
    kid_refetch: float | None = None  # when the last unknown-kid refetch started (one per cooldown)
    disk_checked: float | None = None


# --- the store --------------------------------------------------------------------------------------


class KeyStore:
    """Keys per source with memory and disk caches, single-flight refreshes, cooldown and stale serving."""

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        cache_dir: Path | None,
        options: KeyStoreOptions | None = None,
        client: httpx.Client | None = None,
        async_client: httpx.AsyncClient | None = None,
        offline: bool = False,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock
        self.options = options or KeyStoreOptions()
        self.offline = offline
        self.disk = DiskCache(cache_dir)
        self.warnings: list[str] = []
        self._client, self._own_client = client, client is None
        self._aclient, self._own_aclient = async_client, async_client is None
        self._monotonic = monotonic
        self._states: dict[str, _State] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._inflight: dict[str, asyncio.Future[KeySetInfo]] = {}
        self.generation = 0  # bumped whenever any source's key set is replaced (callers may memoise on it)

    # -- public, sync --

    def get_keys(self, source: str, *, issuer: str | None = None) -> KeySetInfo:
        """Keys for a source: memory, else disk, else fetched; stale within the window; else an error."""
        info = self._plan(source, issuer)
        if info is not None:
            return info
        with self._lock(source):
            return self._plan(source, issuer) or self._refresh(source, issuer)

    def refresh(self, source: str, *, issuer: str | None = None) -> KeySetInfo:
        """Fetch now (conditionally, with the cached ETag), whatever the cache says (``jwks fetch``).

        A failed fetch raises its error even when a cached set could still serve (``cached`` says so).
        """
        self._require_online(source)
        with self._lock(source):
            state = self._load(source, issuer)
            if state.entry is not None:  # rediscover too: the jwks_uri may have moved
                state.entry = replace(state.entry, discovered_at=None)
            return self._refresh(source, issuer, serve_stale=False)

    def refresh_for_unknown_kid(self, source: str, kid: str, *, issuer: str | None = None) -> bool:
        """True when ``kid`` is (now) in the set, after at most one refetch (see ``_kid_decision``).

        Callers queue on the source's lock, so threads arriving during a refetch wait for it and reuse it.
        """
        with self._lock(source):
            decided = self._kid_decision(source, kid, issuer)
            if decided is not None:
                return decided
            self._refresh_quietly(source, issuer)
            return self._kid_after(source, kid)

    def cached(self, source: str) -> KeySetInfo | None:
        """What is cached for a source, fresh or not (a file is read); for ``jwks show``. Never fetches."""
        if source_kind(source) == "file":
            return self.get_keys(source)
        state = self._state(source)
        disk = self.disk.load(source, self.warnings) if state.entry is None else None
        if disk is not None:
            state.entry, state.keys, state.origin = disk, tuple(parse_jwks(disk.jwks, disk.jwks_url)), "disk"
            self.generation += 1
        return None if state.entry is None else self._info(source, state)

    def cached_sources(self) -> list[str]:
        """Every source with an entry in the disk cache."""
        return [entry.source for entry in self.disk.all_entries(self.warnings)]

    def close(self) -> None:
        if self._own_client and self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> KeyStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public, async (the server) --

    async def aget_keys(self, source: str, *, issuer: str | None = None) -> KeySetInfo:
        """Like ``get_keys``; concurrent callers share one in-flight fetch per source."""
        info = self._plan(source, issuer)
        if info is not None:
            return info
        return await self._shared(source, lambda: self._arefresh(source, issuer))

    async def arefresh_for_unknown_kid(self, source: str, kid: str, *, issuer: str | None = None) -> bool:
        """Like ``refresh_for_unknown_kid``; callers arriving during the fetch wait for it and reuse it."""
        import asyncio

        pending = self._inflight.get(source)
        if pending is not None:
            await asyncio.wait([pending])
        decided = self._kid_decision(source, kid, issuer)
        if decided is not None:
            return decided

        async def run() -> KeySetInfo:
            try:
                return await self._arefresh(source, issuer)
            except KeySourceError as err:
                self._warn(f"refetch for unknown kid {kid!r} failed: {err}")
                raise

        try:
            await self._shared(source, run)
        except KeySourceError:
            return False
        return self._kid_after(source, kid)

    async def aclose(self) -> None:
        if self._own_aclient and self._aclient is not None:
            await self._aclient.aclose()
            self._aclient = None
        self.close()

    # -- the shared state logic --

    def _state(self, source: str) -> _State:
        state = self._states.get(source)
        if state is None:
            state = self._states.setdefault(source, _State())
        return state

    def _lock(self, source: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(source, threading.Lock())

    def _warn(self, message: str) -> None:
        if len(self.warnings) >= MAX_WARNINGS:
            del self.warnings[0]
        self.warnings.append(message)

    def _load(self, source: str, issuer: str | None) -> _State:
        """Bring in the disk entry when memory has nothing current (another process may have refreshed).

        The disk is consulted at most once per cooldown per source, so an outage costs no file reads.
        """
        state = self._state(source)
        now = self.clock()
        if source_kind(source) == "file" or (state.entry is not None and now < state.entry.expires_at):
            return state
        if state.disk_checked is not None and now < state.disk_checked + self.options.cooldown:
            return state
        state.disk_checked = now
        disk = self.disk.load(source, self.warnings)
        if disk is not None and issuer is not None and disk.issuer not in (None, issuer):
            disk = None
        if disk is not None and (state.entry is None or disk.fetched_at > state.entry.fetched_at):
            state.entry, state.keys, state.origin = disk, tuple(parse_jwks(disk.jwks, disk.jwks_url)), "disk"
            self.generation += 1
        return state

    def _info(self, source: str, state: _State, origin: Origin | None = None) -> KeySetInfo:
        entry = state.entry
        assert entry is not None
        return KeySetInfo(
            source,
            entry.jwks_url,
            state.keys,
            entry.fetched_at,
            entry.expires_at,
            self.clock() >= entry.expires_at,
            origin or state.origin,
            entry.issuer,
            float("inf") if source_kind(source) == "file" else entry.expires_at + self.options.stale_ttl,
        )

    def _plan(self, source: str, issuer: str | None) -> KeySetInfo | None:
        """A cached answer, or None when a refresh is due. Raises when only failing closed is left."""
        state = self._load(source, issuer)
        entry, now = state.entry, self.clock()
        if entry is not None and now < entry.expires_at and issuer_ok(entry, issuer):
            return self._info(source, state, "memory" if state.origin == "network" else None)
        if self.offline and source_kind(source) != "file":
            return self._offline(source, state, now)
        recent = state.last_attempt is not None and now < state.last_attempt + self.options.cooldown
        if state.failure is not None and recent:
            return self._stale_or_raise(source, state, state.failure)
        return None

    def _offline(self, source: str, state: _State, now: float) -> KeySetInfo:
        entry = state.entry
        if entry is None:
            raise KeySourceError(
                f"no cached keys for {source} (offline)",
                code="jwks.not_cached",
                hint=f"run 'jwtgate jwks fetch {source}' while online",
            )
        if now >= entry.expires_at + self.options.stale_ttl:
            raise KeySourceError(
                f"cached keys for {source} expired {duration(max(0.0, now - entry.expires_at))} ago, past the "
                f"stale window of {self.options.stale_ttl:g} s (offline)",
                code="jwks.stale_expired",
                hint=f"run 'jwtgate jwks fetch {source}'",
            )
        return self._info(source, state)

    def _stale_or_raise(self, source: str, state: _State, err: KeySourceError) -> KeySetInfo:
        """During an outage: the last good set until ``stale_ttl`` past expiry, then fail closed."""
        entry, now = state.entry, self.clock()
        if entry is None:
            raise err
        if now < entry.expires_at + self.options.stale_ttl:
            return self._info(source, state)
        raise KeySourceError(
            f"keys for {source} expired {duration(max(0.0, now - entry.expires_at))} ago and cannot be refreshed "
            f"({err.message}); refusing to verify with them",
            code="jwks.unavailable",
            hint="the identity provider must be reachable; stale keys are served only for "
            f"{self.options.stale_ttl:g} s past expiry",
        )

    def _kid_decision(self, source: str, kid: str, issuer: str | None) -> bool | None:
        """True/False when the answer is known without a fetch; None when an unknown-kid refetch is due.

        A rotation is picked up at once: the first unknown kid refetches even right after a fetch. A flood
        of made-up kids costs at most one fetch per cooldown (one refetch budget per source per cooldown),
        a failing source is not retried inside its cooldown, and a kid that a fetched set already lacked
        (a retired key, a kid that missed a refetch) is retried only once the set is ``kid_retry`` old.
        """
        state = self._load(source, issuer)
        now = self.clock()
        if any(k.kid == kid and k.usable for k in state.keys):
            return True
        if self.offline or _within(state.kid_refetch, now, self.options.cooldown):
            return False
        if state.failure is not None and _within(state.last_attempt, now, self.options.cooldown):
            return False
        if kid in state.missing and _within(state.last_attempt, now, self.options.kid_retry):
            return False
        state.kid_refetch = now
        return None

    def _kid_after(self, source: str, kid: str) -> bool:
        state = self._state(source)
        if any(k.kid == kid and k.usable for k in state.keys):
            return True
        state.missing.setdefault(kid, self.clock())
        if len(state.missing) > MAX_MISSING:
            del state.missing[next(iter(state.missing))]
        return False

    def _require_online(self, source: str) -> None:
        if self.offline and source_kind(source) != "file":
            raise KeySourceError(f"cannot fetch {source} in offline mode", code="jwks.not_cached")

    # -- refreshing --

    def _begin(self, source: str) -> _State:
        state = self._state(source)
        state.last_attempt = self.clock()
        return state

    def _succeeded(self, source: str, result: tuple[CacheEntry, tuple[VerificationKey, ...]]) -> KeySetInfo:
        state = self._state(source)
        now, before = self.clock(), {k.kid for k in state.keys if k.kid is not None}
        state.entry, state.keys = result
        self.generation += 1
        state.origin = "file" if source_kind(source) == "file" else "network"
        state.failure = None
        served = {k.kid for k in state.keys}
        retired = dict.fromkeys(before - served, now)
        state.missing = {k: t for k, t in {**state.missing, **retired}.items() if k not in served}
        if state.origin == "network":
            self.disk.save(state.entry, self.warnings)
        return self._info(source, state)

    def _failed(self, source: str, err: KeySourceError, *, serve_stale: bool = True) -> KeySetInfo:
        state = self._state(source)
        state.failure = err
        if not serve_stale:
            raise err
        info = self._stale_or_raise(source, state, err)  # raises past the stale window: no "serving" then
        self._warn(f"refreshing keys for {source} failed: {err}; serving the cached set (stale until "
                   f"{duration(max(0.0, info.stale_until - self.clock()))} from now)")
        return info

    def _refresh(self, source: str, issuer: str | None, *, serve_stale: bool = True) -> KeySetInfo:
        state = self._begin(source)
        try:
            result = self._drive(refresh_steps(source, issuer, state.entry, self.options, self.clock))
        except KeySourceError as err:
            return self._failed(source, err, serve_stale=serve_stale)
        return self._succeeded(source, result)

    def _refresh_quietly(self, source: str, issuer: str | None) -> None:
        try:
            self._refresh(source, issuer)
        except KeySourceError as err:
            self._warn(f"refetching {source} failed: {err}")

    async def _arefresh(self, source: str, issuer: str | None) -> KeySetInfo:
        self._begin(source)
        try:
            result = await self._adrive(
                refresh_steps(source, issuer, self._state(source).entry, self.options, self.clock)
            )
        except KeySourceError as err:
            return self._failed(source, err)
        return self._succeeded(source, result)

    async def _shared(self, source: str, start: Callable[[], Awaitable[KeySetInfo]]) -> KeySetInfo:
        """Single flight: one refresh task per source; everyone awaiting it gets its result."""
        import asyncio

        task = self._inflight.get(source)
        if task is None:
            task = asyncio.ensure_future(start())
            self._inflight[source] = task
            task.add_done_callback(lambda _t: self._inflight.pop(source, None))
        return await asyncio.shield(task)

    def _drive(self, steps: Steps) -> tuple[CacheEntry, tuple[VerificationKey, ...]]:
        try:
            request = next(steps)
            while True:
                request = steps.send(
                    fetch(self._sync_client(), request, self.options.limits, self._monotonic)
                )
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]

    async def _adrive(self, steps: Steps) -> tuple[CacheEntry, tuple[VerificationKey, ...]]:
        try:
            request = next(steps)
            while True:
                request = steps.send(await afetch(self._async_client(), request, self.options.limits))
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]

    def _sync_client(self) -> httpx.Client:
        if self._client is None:
            import httpx

            self._client = httpx.Client(
                follow_redirects=True, max_redirects=3, headers={"User-Agent": "jwtgate (JWKS fetcher)"}
            )
        return self._client

    def _async_client(self) -> httpx.AsyncClient:
        if self._aclient is None:
            import httpx

            self._aclient = httpx.AsyncClient(
                follow_redirects=True, max_redirects=3, headers={"User-Agent": "jwtgate (JWKS fetcher)"}
            )
        return self._aclient


def load_all(store: KeyStore, sources: Sequence[KeySource]) -> list[KeySetInfo | KeySourceError]:
    """Keys for several sources; a failing source yields its error instead of stopping the others."""
    out: list[KeySetInfo | KeySourceError] = []
    for src in sources:
        try:
            out.append(store.get_keys(src.source, issuer=src.issuer))
        except KeySourceError as err:
            out.append(err)
    return out
