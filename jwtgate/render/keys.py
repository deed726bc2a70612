"""Key sets -> text (a rich table per source) or JSON, for ``jwtgate jwks fetch|show``."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from jwtgate.errors import KeySourceError
from jwtgate.keys.sources import KeySetInfo
from jwtgate.model import VerificationKey
from jwtgate.timefmt import duration, iso

Result = tuple[str, KeySetInfo | KeySourceError]
Cached = dict[str, KeySetInfo]  # beside a failed fetch: the cached set of that source, if any


def freshness(info: KeySetInfo, now: float) -> str:
    """'fetched 3 s ago, expires in 9 min' (or 'expired … ago, stale')."""
    if info.origin == "file":
        return "local file"
    left = info.expires_at - now
    expires = f"expires in {duration(left)}" if left > 0 else f"expired {duration(left)} ago"
    if info.past_window(now):
        return f"fetched {duration(now - info.fetched_at)} ago, {expires}, PAST THE STALE WINDOW: not used"
    return f"fetched {duration(now - info.fetched_at)} ago, {expires}" + (", stale" if info.stale else "")


def cached_note(source: str, info: KeySetInfo, now: float) -> str:
    """What a cached set is still good for when fetching it failed."""
    if info.past_window(now):
        return (f"{source}: the cached set (fetched {duration(now - info.fetched_at)} ago) is past its stale "
                "window: tokens are refused until a fetch succeeds")
    if not info.stale:
        return f"{source}: the cached set is still fresh for {duration(info.expires_at - now)}"
    return (f"{source}: the cached set (fetched {duration(now - info.fetched_at)} ago) is still used, stale, "
            f"for {duration(info.stale_until - now)} more")


def source_error(source: str, err: KeySourceError) -> str:
    """The error of one source, naming the source once: key errors already name the URL or file they are
    about, so the source goes in front only when the message names another place (a discovery URL's JWKS)."""
    return err.message if source in err.message else f"{source}: {err.message}"


def key_json(key: VerificationKey) -> dict[str, Any]:
    return {
        "kid": key.kid,
        "kty": key.kty,
        "alg": key.alg,
        "use": key.use,
        "detail": key.detail,
        "thumbprint": key.thumbprint or None,
        "source": key.source,
        "usable": key.usable,
        "problem": key.problem,
    }


def result_json(source: str, result: KeySetInfo | KeySourceError, now: float,
                cached: KeySetInfo | None = None) -> dict[str, Any]:
    """``ok`` and ``error`` say how the fetch (or cache lookup) went; ``usable`` whether the set verifies.

    A failed fetch carries the source's cached set, if any, under ``cached`` with its own ``usable``.
    """
    if isinstance(result, KeySourceError):
        error = {"code": result.code, "message": result.message, "hint": result.hint}
        old = None if cached is None else result_json(source, cached, now)
        return {"source": source, "ok": False, "error": error, "keys": [], "cached": old}
    return {
        "source": source,
        "ok": True,
        "error": None,
        "usable": not result.past_window(now),
        "jwks_url": result.jwks_url,
        "issuer": result.issuer,
        "origin": result.origin,
        "fetched_at": iso(result.fetched_at),
        "expires_at": iso(result.expires_at),
        "age_seconds": round(now - result.fetched_at, 3),
        "expires_in_seconds": round(result.expires_at - now, 3),
        "stale": result.stale,
        "stale_until": None if result.stale_until == float("inf") else iso(result.stale_until),
        "keys": [key_json(k) for k in result.keys],
    }


def keys_json(results: Sequence[Result], warnings: Sequence[str], now: float, cached: Cached | None = None) -> str:
    cached = cached or {}
    doc = {"sources": [result_json(s, r, now, cached.get(s)) for s, r in results], "warnings": list(warnings)}
    return json.dumps(doc, indent=2)


def print_keys_text(results: Sequence[Result], warnings: Sequence[str], now: float,
                    cached: Cached | None = None) -> None:
    """One heading and table per source on stdout; errors, notes and warnings on stderr."""
    from rich.console import Console

    out = Console(highlight=False, soft_wrap=True)
    for source, result in results:
        if isinstance(result, KeySourceError):
            _err(f"error: {source_error(source, result)} [{result.code}]")
            if result.hint:
                _err(f"  hint: {result.hint}")  # as every command's errors (cli/errors.py: fail)
            old = (cached or {}).get(source)
            if old is not None:
                _err(f"note: {cached_note(source, old, now)}")
            continue
        out.print(_heading(source, result, now), markup=False)
        if result.keys:
            _print_whole(out, _table(result, now))
        else:
            out.print("  (no keys)")
    for warning in warnings:
        _err(f"warning: {warning}")


def _err(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _heading(source: str, info: KeySetInfo, now: float) -> str:
    via = f" -> {info.jwks_url}" if info.jwks_url != source else ""
    issuer = f", issuer {info.issuer}" if info.issuer else ""
    return f"{source}{via} ({freshness(info, now)}{issuer})"


def _print_whole(out: Any, table: Any) -> None:
    """Print a table at its natural width (at least the console's), so no cell is ever wrapped or cut:
    a kid or thumbprint split across lines would be copied wrong. A terminal may still wrap long lines."""
    from rich.measure import Measurement

    natural = Measurement.get(out, out.options.update(max_width=100_000), table).maximum
    out.width = max(out.width, natural)
    out.print(table, crop=False)


def _table(info: KeySetInfo, now: float) -> Any:
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1))
    for column in ("kid", "kty", "alg", "use", "key", "thumbprint (RFC 7638)", "usable"):
        table.add_column(column, no_wrap=column in ("kid", "thumbprint (RFC 7638)"), overflow="fold")
    for key in info.keys:
        usable = "yes" if key.usable else f"no: {key.problem}"
        if key.usable and info.past_window(now):
            usable = "no: the set is past its stale window (run 'jwtgate jwks fetch')"
        cells = (key.kid, key.kty, key.alg, key.use, key.detail, key.thumbprint, usable)
        table.add_row(*(c if c else "-" for c in cells))
    return table
