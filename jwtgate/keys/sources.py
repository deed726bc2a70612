"""Key sources (paths, JWKS URLs, OIDC discovery), the key set result, and one refresh as a plan of GETs.

``refresh_steps`` is a generator: it yields each ``Get`` it needs and receives the ``Fetched`` answer, so
the sync and async drivers in jwks.py run the very same rules. Nothing here does I/O except reading a
local key file.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from jwtgate.errors import KeySourceError
from jwtgate.keys.disk_cache import CacheEntry
from jwtgate.keys.fetch import Fetched, FetchLimits, Get
from jwtgate.keys.jwk import KeyFileError, load_key_file, parse_jwks
from jwtgate.model import Policy, VerificationKey

DISCOVERY_PATH = "/.well-known/openid-configuration"
SourceKind = Literal["file", "jwks", "discovery"]
Origin = Literal["memory", "disk", "network", "file"]
Steps = Generator[Get, Fetched, tuple[CacheEntry, tuple[VerificationKey, ...]]]


# --- sources ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KeySource:
    """A configured source and the issuer it belongs to (None: not bound to one issuer).

    A key from an issuer-bound source must only verify that issuer's tokens; for a discovery URL the
    document's ``issuer`` must also equal it.
    """

    source: str
    issuer: str | None = None


def discovery_url_for(issuer: str) -> str:
    """``<issuer>/.well-known/openid-configuration`` (as LiteLLM derives it)."""
    return issuer.rstrip("/") + DISCOVERY_PATH


def source_kind(source: str) -> SourceKind:
    """What a source string names; an unsupported URL scheme is a ``jwks.invalid`` error."""
    lowered = source.lower()
    if lowered.startswith(("http://", "https://")):
        return "discovery" if DISCOVERY_PATH in lowered else "jwks"
    if "://" in source:
        raise KeyFileError(
            f"key source {source!r}: only http(s) URLs and local files are supported", code="jwks.invalid"
        )
    return "file"


def sources_for_policy(policy: Policy, extra: Iterable[str] = ()) -> list[KeySource]:
    """Key sources a config names: issuers[].jwks_url (or discovery), JWT_PUBLIC_KEY_URL, jwtgate.jwks."""
    found: list[KeySource] = [KeySource(s) for s in extra]
    for cfg in policy.jwt.issuers:
        found.append(KeySource(cfg.jwks_url or discovery_url_for(cfg.issuer), cfg.issuer))
    found.extend(KeySource(url, policy.env_issuer) for url in policy.public_key_urls)
    found.extend(KeySource(path) for path in policy.settings.jwks)
    return list(dict.fromkeys(found))


def check_discovery(doc: Any, url: str, issuer: str | None) -> tuple[str, str | None]:
    """A discovery document -> (jwks_uri, issuer); the issuer must match the expected one when given."""
    if not isinstance(doc, dict):
        raise KeySourceError(f"discovery document {url} is not a JSON object", code="jwks.invalid")
    jwks_uri, found = doc.get("jwks_uri"), doc.get("issuer")
    if not isinstance(jwks_uri, str) or not jwks_uri.lower().startswith(("https://", "http://")):
        raise KeySourceError(f"discovery document {url} has no http(s) 'jwks_uri'", code="jwks.invalid")
    if url.lower().startswith("https://") and not jwks_uri.lower().startswith("https://"):
        raise KeySourceError(
            f"discovery document {url} points to a plain-http jwks_uri {jwks_uri}",
            code="jwks.invalid",
            hint="an https discovery must not downgrade to http",
        )
    if found is not None and not isinstance(found, str):
        raise KeySourceError(f"discovery document {url}: 'issuer' is not a string", code="jwks.invalid")
    if issuer is not None and found != issuer:
        raise KeySourceError(
            f"discovery document {url} names issuer {found!r}, expected {issuer!r}",
            code="jwks.issuer_mismatch",
            hint="the configured issuer must match exactly (scheme, host, path, trailing slash)",
        )
    return jwks_uri, found


# --- results and options ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KeySetInfo:
    """The keys of one source and how fresh they are. ``stale``: past expiry, served during an outage."""

    source: str
    jwks_url: str
    keys: tuple[VerificationKey, ...]
    fetched_at: float
    expires_at: float
    stale: bool
    origin: Origin
    issuer: str | None = None
    stale_until: float = float("inf")  # past this the set is never used (the stale window ends)

    def past_window(self, now: float) -> bool:
        """True once the stale window has ended: the set no longer verifies anything."""
        return now >= self.stale_until

    def find(self, kid: str) -> VerificationKey | None:
        """The key with exactly this kid (usable or not), or None."""
        return next((k for k in self.keys if k.kid == kid), None)

    @property
    def usable(self) -> tuple[VerificationKey, ...]:
        return tuple(k for k in self.keys if k.usable)


@dataclass(frozen=True, slots=True)
class KeyStoreOptions:
    """Cache lifetimes (seconds) and fetch limits; ``from_policy`` reads them from a config."""

    ttl: float = 600.0  # keys/ sits beside config/: the schema's defaults, kept equal by tests/config/test_defaults.py
    stale_ttl: float = 3600.0
    cooldown: float = 30.0
    limits: FetchLimits = field(default_factory=FetchLimits)
    kid_retry: float = 5.0  # a kid a fetched set lacked is refetched for only once the set is this old

    @classmethod
    def from_policy(cls, policy: Policy) -> KeyStoreOptions:
        s = policy.settings
        limits = FetchLimits(s.fetch_timeout, min(3.0, s.fetch_timeout), s.max_jwks_bytes)
        return cls(policy.jwt.public_key_ttl, policy.jwt.public_key_stale_ttl, s.key_refetch_cooldown, limits)

    def ttl_for(self, max_age: float | None) -> float:
        """``ttl``, shortened by a smaller max-age, but never below the refetch cooldown (IdP protection)."""
        if max_age is None or max_age >= self.ttl:
            return self.ttl
        return max(max_age, min(self.cooldown, self.ttl))


# --- one refresh ------------------------------------------------------------------------------------


def refresh_steps(
    source: str,
    issuer: str | None,
    entry: CacheEntry | None,
    options: KeyStoreOptions,
    clock: Callable[[], float],
) -> Steps:
    """The refresh as a sequence of GETs (discovery, then the JWKS), returning the new entry and keys."""
    now = clock()
    kind = source_kind(source)
    if kind == "file":
        keys = tuple(load_key_file(source))
        return CacheEntry(source, source, now, now + options.ttl, {}), keys
    jwks_url, found, discovered_at = source, None, None
    if kind == "discovery":
        if (
            entry is not None
            and entry.discovered_at is not None
            and issuer_ok(entry, issuer)
            and now < entry.discovered_at + options.ttl
        ):
            jwks_url, found, discovered_at = entry.jwks_url, entry.issuer, entry.discovered_at
        else:
            doc = yield Get(source, "discovery document")
            (jwks_url, found), discovered_at = check_discovery(doc.body, source, issuer), now
    same = entry is not None and entry.jwks_url == jwks_url
    got = yield Get(
        jwks_url,
        "JWKS",
        entry.etag if same and entry else None,
        entry.last_modified if same and entry else None,
    )
    if got.not_modified and entry is not None:
        body, etag, modified = (
            entry.jwks,
            got.etag or entry.etag,
            got.last_modified or entry.last_modified,
        )
    else:
        body, etag, modified = _as_jwks(got.body, jwks_url), got.etag, got.last_modified
    keys = tuple(parse_jwks(body, jwks_url))
    fetched = clock()
    new = CacheEntry(
        source,
        jwks_url,
        fetched,
        fetched + options.ttl_for(got.max_age),
        body,
        etag,
        modified,
        found,
        discovered_at,
    )
    return new, keys


def issuer_ok(entry: CacheEntry, issuer: str | None) -> bool:
    return issuer is None or entry.issuer is None or entry.issuer == issuer


def _as_jwks(body: Any, url: str) -> dict[str, Any]:
    """A fetched body -> a JWKS object; shape errors raise ``jwks.invalid`` (via parse_jwks)."""
    if isinstance(body, dict) and "keys" in body:
        return body
    if isinstance(body, dict) and "kty" in body:
        return {"keys": [body]}
    parse_jwks(body, f"JWKS {url}")  # raises: names the URL as every fetch error does
    return {}
