"""The verified-token cache: a token seen before is accepted without another signature check.

Keyed by the sha256 of the whole token; an entry lives until the earliest of the token's ``exp``
(without leeway: stricter than verification), the cache's ``ttl``, or ``clear()`` (call it whenever the
key set or the config changes). Bounded size, least recently used evicted first. Only
``VerifiedToken`` values go in, so a failure can never be cached as valid. One cache per policy.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

from jwtgate.config import schema as S
from jwtgate.model import VerifiedToken

_sha256 = hashlib.sha256


class VerifiedCache:
    """An LRU of verified tokens with per-entry deadlines; time is passed in, never read."""

    __slots__ = ("_entries", "hits", "max_size", "misses", "ttl")

    def __init__(self, max_size: int = S.default(S.SERVE, "verified_cache_size"),
                 ttl: float = S.default(S.SERVE, "verified_cache_ttl")) -> None:
        if max_size < 0 or ttl < 0:
            raise ValueError("max_size and ttl must be >= 0")
        self.max_size = max_size
        self.ttl = ttl
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[bytes, tuple[float, VerifiedToken]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    @staticmethod
    def _key(token: str) -> bytes:
        return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()

    def get(self, token: str, now: float) -> VerifiedToken | None:
        """The verified token if it is cached and still within its deadline, else None."""
        key = _sha256(token.encode("utf-8", "surrogatepass")).digest()
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        if now >= entry[0]:
            self._entries.pop(key, None)
            self.misses += 1
            return None
        try:  # noqa: SIM105 - contextlib.suppress costs more than the lookup on this hot path
            self._entries.move_to_end(key)
        except KeyError:  # removed concurrently: still a valid answer for this call
            pass
        self.hits += 1
        return entry[1]

    def put(self, token: str, verified: VerifiedToken, now: float) -> None:
        """Remember a token that just passed ``verify_token`` at ``now``."""
        if not isinstance(verified, VerifiedToken):
            raise TypeError("only a VerifiedToken can be cached")
        deadline = now + self.ttl
        exp = verified.claims.get("exp")
        if isinstance(exp, int | float) and not isinstance(exp, bool):
            deadline = min(deadline, float(exp))
        if deadline <= now or self.max_size == 0:
            return
        key = self._key(token)
        self._entries[key] = (deadline, verified)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_size:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget everything: call when keys change or the config is reloaded."""
        self._entries.clear()
