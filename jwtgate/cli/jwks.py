"""``jwtgate jwks fetch`` and ``jwtgate jwks show``. Heavy imports happen inside the commands."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from jwtgate.cli.options import check_format
from jwtgate.errors import KeySourceError, UsageError

if TYPE_CHECKING:
    from jwtgate.keys.store import KeySetInfo, KeySource, KeyStore, KeyStoreOptions
    from jwtgate.render.keys import Cached, Result

# fetch and show take the same arguments
SOURCES = typer.Argument(None, metavar="SOURCE...", show_default=False,
                         help="Key sources: a JWKS/PEM file, a JWKS URL, or an OIDC discovery URL.")
CONFIG = typer.Option(None, "--config", "-c",
                      help="Take sources from a config (issuers[].jwks_url, JWT_PUBLIC_KEY_URL, jwtgate.jwks).")
CACHE_DIR = typer.Option(None, "--cache-dir", help="Cache directory (default $JWTGATE_CACHE_DIR, else "
                         "$XDG_CACHE_HOME/jwtgate or ~/.cache/jwtgate).")
FORMAT = typer.Option("text", "--format", "-f", help="Output format: text or json.")


def fetch(sources: list[str] | None = SOURCES, config: str | None = CONFIG, cache_dir: Path | None = CACHE_DIR,
          fmt: str = FORMAT) -> None:
    """Fetch key sets now, store them in the cache and list their keys.

    A failed fetch is an error (exit 1) whatever the cache holds; a note says whether the cached set
    is still used (stale, inside the stale window) or not.
    Exit codes: 0 every source fetched, 1 a source failed, 2 usage or unreadable input.
    """
    import time

    wanted, store = _prepare(sources, config, cache_dir, fmt, fetching=True)
    with store, _spinner(fmt, len(wanted)):
        results: list[Result] = [(s.source, _attempt(store, s, fetch=True)) for s in wanted]
        cached = {s: c for s, r in results if isinstance(r, KeySourceError) and (c := _cached(store, s))}
    _finish(results, store.warnings, fmt, time.time(), cached)


def show(sources: list[str] | None = SOURCES, config: str | None = CONFIG, cache_dir: Path | None = CACHE_DIR,
         fmt: str = FORMAT) -> None:
    """Show cached keys (offline): kid, type, size, thumbprint, age, expiry, and why a key is unusable.

    Without SOURCE or --config, every cached source is shown.
    Exit codes: 0 every source is cached and usable, 1 a source is not cached or past its stale window,
    2 usage or unreadable input.
    """
    import time

    from jwtgate.keys.store import KeySource

    wanted, store = _prepare(sources, config, cache_dir, fmt, fetching=False)
    if not wanted:
        wanted = [KeySource(s) for s in store.cached_sources()]
    results: list[Result] = [(s.source, _attempt(store, s, fetch=False)) for s in wanted]
    if not wanted and fmt == "text":
        typer.echo(f"no cached key sets in {store.disk.directory}", err=True)
    _finish(results, store.warnings, fmt, time.time())


# --- helpers ----------------------------------------------------------------------------------------


def _prepare(sources: list[str] | None, config: str | None, cache_dir: Path | None, fmt: str, *,
             fetching: bool) -> tuple[list[KeySource], KeyStore]:
    """Check the format, gather the sources (fetch needs at least one), open the store (offline for show)."""
    check_format(fmt, ("text", "json"))
    wanted, options = _sources(sources, config, need_some=fetching)
    return wanted, _store(cache_dir, options, offline=not fetching)


def _sources(
    given: list[str] | None, config: str | None, *, need_some: bool
) -> tuple[list[KeySource], KeyStoreOptions]:
    """The sources from the arguments and the config, and the cache options (from the config if any)."""

    from jwtgate.keys.store import KeySource, KeyStoreOptions, sources_for_policy

    options = KeyStoreOptions()
    wanted = [KeySource(s) for s in given or ()]
    if config is not None:
        from jwtgate.cli.options import load_config

        policy = load_config(config)
        options = KeyStoreOptions.from_policy(policy)
        wanted = sources_for_policy(policy, given or ())
        if not wanted:
            raise UsageError(
                f"{config}: names no key source", hint="set issuers[].jwks_url or JWT_PUBLIC_KEY_URL"
            )
    if need_some and not wanted:
        raise UsageError(
            "no key source given", hint="pass SOURCE (file, JWKS URL or discovery URL) or --config"
        )
    return wanted, options


def _store(cache_dir: Path | None, options: KeyStoreOptions, *, offline: bool) -> KeyStore:
    import os
    import time

    from jwtgate.keys.disk_cache import default_cache_dir
    from jwtgate.keys.store import KeyStore

    directory = cache_dir or default_cache_dir(os.environ, Path.home())
    return KeyStore(clock=time.time, cache_dir=directory, options=options, offline=offline)


def _attempt(store: KeyStore, source: KeySource, *, fetch: bool) -> KeySetInfo | KeySourceError:
    """Keys for one source, or its KeySourceError (so one failing source does not hide the others)."""
    try:
        if fetch:
            return store.refresh(source.source, issuer=source.issuer)
        cached = store.cached(source.source)
    except KeySourceError as err:
        if err.exit_code == 2:
            raise
        return err
    if cached is None:
        return KeySourceError(
            f"no cached keys for {source.source}",
            code="jwks.not_cached",
            hint=f"run 'jwtgate jwks fetch {source.source}'",
        )
    return cached


def _cached(store: KeyStore, source: str) -> KeySetInfo | None:
    try:
        return store.cached(source)
    except KeySourceError:
        return None


@contextlib.contextmanager
def _spinner(fmt: str, count: int) -> Iterator[None]:
    """A rich spinner on stderr, only when stderr is a terminal and the output is text."""
    from rich.console import Console

    console = Console(stderr=True)
    if fmt != "text" or not console.is_terminal:
        yield
        return
    with console.status(f"fetching {count} key source{'s' if count != 1 else ''}…"):
        yield


def _finish(results: list[Result], warnings: list[str], fmt: str, now: float, cached: Cached | None = None) -> None:
    from jwtgate.render.keys import keys_json, print_keys_text

    if fmt == "json":
        typer.echo(keys_json(results, warnings, now, cached))
        for warning in warnings:
            typer.echo(f"warning: {warning}", err=True)
    else:
        print_keys_text(results, warnings, now, cached)
    if any(isinstance(r, KeySourceError) or r.past_window(now) for _, r in results):
        raise typer.Exit(1)
