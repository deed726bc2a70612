"""Wiring for ``jwtgate serve``: config and flags -> settings, Gate (policy, key store, authenticator,
targets) and AppState; the start-up checks (lint errors, an upstream for every model).

Pure assembly: nothing here listens, forks or installs signal handlers (that is ``server/process.py``).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from jwtgate.errors import JwtgateError, KeySourceError, UsageError
from jwtgate.model import Finding, Policy, ServeSettings
from jwtgate.server import startup
from jwtgate.server.metrics import Metrics
from jwtgate.server.state import AccessLog, AppState, ConfigRejected, Gate, GateHolder
from jwtgate.server.upstream import UpstreamClient, build_targets

if TYPE_CHECKING:
    from datetime import date

    import httpx

    from jwtgate.tokens.authenticator import Authenticator


@dataclass(frozen=True, slots=True)
class ServeOptions:
    """Flags of ``jwtgate serve``; None = take the config's ``jwtgate.serve`` value (or its default)."""

    config: str
    upstream: str | None = None
    host: str | None = None
    port: int | None = None
    workers: int | None = None
    jwks: tuple[str, ...] = ()
    upstream_key_env: str | None = None
    hide_reasons: bool | None = None
    shadow_config: str | None = None
    mode: str | None = None


MIN_RELOAD_INTERVAL, MAX_RELOAD_INTERVAL = 0.1, 3600.0


def effective_settings(policy: Policy, opts: ServeOptions) -> ServeSettings:
    """Flags override the file; the file overrides the defaults. Bad values are usage errors."""
    flags: dict[str, Any] = {"mode": opts.mode, "upstream": opts.upstream, "host": opts.host, "port": opts.port,
             "workers": opts.workers, "upstream_key_env": opts.upstream_key_env, "hide_reasons": opts.hide_reasons}
    settings = dataclasses.replace(policy.settings.serve, **{k: v for k, v in flags.items() if v is not None})
    if not 0 <= settings.port <= 65535:
        raise UsageError(f"port {settings.port} is out of range", hint="use 0-65535 (0 = any free port)")
    if settings.workers < 1:
        raise UsageError(f"workers must be at least 1, not {settings.workers}")
    if settings.upstream is not None:
        check_url(settings.upstream, "--upstream")
    if settings.reload_interval != 0 and not MIN_RELOAD_INTERVAL <= settings.reload_interval <= MAX_RELOAD_INTERVAL:
        raise UsageError(f"jwtgate.serve.reload_interval {settings.reload_interval:g} is out of range",
                         hint=f"use 0 (off) or {MIN_RELOAD_INTERVAL:g}-{MAX_RELOAD_INTERVAL:g} seconds")
    return settings


def check_url(url: str, what: str) -> None:
    """An upstream must be an absolute http(s) URL with a host."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError as exc:
        raise UsageError(f"{what} {url!r} is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{what} {url!r} is not an http(s) URL with a host",
                         hint="write it as http://HOST:PORT, e.g. http://127.0.0.1:4001") from None


def load_checked(path: str, env: Mapping[str, str], today: date | None = None) -> tuple[Policy, list[Finding]]:
    """Load and lint (the config's own suppressions and jwtgate.lint settings apply, as in ``jwtgate lint``);
    ConfigRejected with the errors when there are any; else (policy, warnings). ``today``: default UTC today.

    An unset ``os.environ/NAME`` (JG301, a warning for lint) is an error here, suppressed or not: serve reads
    every setting the loader resolves, and a silently missing issuer, key or secret must not change what
    serve does.
    """
    from datetime import UTC, datetime

    from jwtgate.config.loader import load_policy
    from jwtgate.config.yaml_text import read_text
    from jwtgate.lint.registry import lint_report

    text, name = read_text(path)
    policy = load_policy(text, name, env)
    report = lint_report(policy, env, text=text, today=today or datetime.now(UTC).date())
    unset = [f for f in policy.findings if f.code in startup.FATAL_AT_START]
    errors = [f for f in report.findings if f.severity == "error" and f not in unset] + unset
    if errors:
        raise ConfigRejected(errors)
    return policy, [f for f in report.findings if f not in errors]


def check_upstream(policy: Policy, settings: ServeSettings, env: Mapping[str, str],
                   opts_jwks: tuple[str, ...] = ()) -> None:
    """Refuse to start on an unsafe config (``server.startup``) or when some model has nowhere to go."""
    startup.check_audience(policy, opts_jwks)
    startup.check_environment(policy, settings, env)
    targets = build_targets(policy, env, settings.upstream, settings.upstream_key_env, settings.mode)
    for name, target in targets.by_model.items():
        if target.strip_version:  # an api_base target
            check_url(target.base, f"model_list entry '{name}': api_base")
    if targets.default is None:
        homeless = [m.name for m in policy.models if m.name not in targets.by_model]
        if homeless or not policy.models:
            raise UsageError(f"no upstream for {homeless or 'requests without a model'}",
                             hint="pass --upstream URL (e.g. a LiteLLM proxy) or give each model an api_base")


class GateBuilder:
    """Builds a Gate from a policy (at start and on each reload); counts key fetches for /metrics."""

    def __init__(self, opts: ServeOptions, env: Mapping[str, str], settings: ServeSettings, metrics: Metrics,
                 clock: Callable[[], float] = time.time) -> None:
        self.opts, self.env, self.settings, self.metrics, self.clock = opts, env, settings, metrics, clock

    def load(self) -> Gate:
        """For reload: read, lint, the start-up checks, build, the shadow config too (raises ConfigRejected /
        JwtgateError)."""
        policy, _ = load_checked(self.opts.config, self.env)
        check_upstream(policy, self.settings, self.env, self.opts.jwks)
        return self.build(policy, self.load_shadow()[0])

    def load_shadow(self) -> tuple[Policy | None, list[Finding]]:
        """``--shadow-config``, linted like the enforced one (errors: ConfigRejected)."""
        if self.opts.shadow_config is None:
            return None, []
        return load_checked(self.opts.shadow_config, self.env)

    def build(self, policy: Policy, shadow: Policy | None = None) -> Gate:
        from jwtgate.keys.disk_cache import default_cache_dir
        from jwtgate.keys.sources import KeyStoreOptions
        from jwtgate.keys.store import KeyStore
        from jwtgate.tokens.authenticator import Authenticator

        store = KeyStore(clock=self.clock, cache_dir=default_cache_dir(self.env, Path.home()),
                         options=KeyStoreOptions.from_policy(policy), async_client=self._http_client(policy))
        auth = Authenticator(policy, store, extra_sources=self.opts.jwks, clock=self.clock,
                             cache_size=self.settings.verified_cache_size, cache_ttl=self.settings.verified_cache_ttl)
        targets = build_targets(policy, self.env, self.settings.upstream, self.settings.upstream_key_env,
                                self.settings.mode)
        return Gate(policy, auth, targets, keys_ready=lambda: keys_ready(auth), aclose=store.aclose,
                    files=config_files(policy, self.opts.config, self.opts.jwks),
                    shadow=shadow,
                    log_paths=self._log_paths(policy, shadow))

    def _log_paths(self, policy: Policy, shadow: Policy | None) -> tuple[str, ...] | None:
        """The claim paths an access line keeps: those either config reads (None: log_claims is off)."""
        from jwtgate.policy.decision import decision_claim_paths

        if not self.settings.log_claims:
            return None
        paths = decision_claim_paths(policy) + (decision_claim_paths(shadow) if shadow is not None else ())
        return tuple(dict.fromkeys(paths))

    def _http_client(self, policy: Policy) -> httpx.AsyncClient:
        import httpx

        fetches = self.metrics.key_fetches

        async def on_response(response: httpx.Response) -> None:
            fetches.labels("ok" if response.status_code in (200, 304) else "failed").inc()

        timeout = httpx.Timeout(policy.settings.fetch_timeout)
        return httpx.AsyncClient(timeout=timeout, event_hooks={"response": [on_response]}, trust_env=True)


def config_files(policy: Policy, config: str, extra_sources: tuple[str, ...]) -> tuple[str, ...]:
    """The config file and every key file it (or ``--jwks``) names: what a reload re-reads."""
    from jwtgate.keys.sources import sources_for_policy

    keys = [s.source for s in sources_for_policy(policy, extra_sources) if _is_file(s.source)]
    return (config, *dict.fromkeys(keys))


def _is_file(source: str) -> bool:
    from jwtgate.keys.sources import source_kind

    try:
        return source_kind(source) == "file"
    except JwtgateError:  # an unsupported scheme: lint has refused the config already
        return False


async def keys_ready(auth: Authenticator) -> bool:
    """Every key source of the config yields at least one usable key (fresh or within the stale window)."""
    if not auth.trusts:
        return False
    try:
        for trust in auth.trusts:
            for source in trust.sources:
                info = await auth.store.aget_keys(source, issuer=trust.rules.issuer if trust.scoped else None)
                if not info.usable:
                    return False
    except KeySourceError:
        return False
    return True


def build_state(opts: ServeOptions, env: Mapping[str, str], access_stream: TextIO | None = None,
                batch_log: bool = False) -> tuple[AppState, list[Finding]]:
    """Everything the app needs, from the config and the flags; ConfigRejected when the config has errors.

    ``batch_log``: access lines of one event-loop turn are written together (see ``AccessLog``).
    """
    policy, warnings = load_checked(opts.config, env)
    settings = effective_settings(policy, opts)
    check_upstream(policy, settings, env, opts.jwks)
    metrics = Metrics()
    builder = GateBuilder(opts, env, settings, metrics)
    upstream = UpstreamClient(connect_timeout=settings.upstream_connect_timeout,
                              read_timeout=settings.upstream_timeout)
    shadow, shadow_warnings = builder.load_shadow()
    holder = GateHolder(builder.build(policy, shadow))
    state = AppState(holder, upstream, settings, metrics, AccessLog(stream=access_stream, batch=batch_log),
                     loader=builder.load)
    metrics.watch_key_cache_age(lambda: key_cache_age(holder.gate.authenticator, time.time()))
    return state, warnings + shadow_warnings


def key_cache_age(auth: Any, now: float) -> float:
    """Seconds since the oldest key set in use was fetched (0 when none is cached yet)."""
    ages = [now - info.fetched_at for trust in getattr(auth, "trusts", ()) for source in trust.sources
            if (info := auth.store.cached(source)) is not None]
    return max(ages, default=0.0)
