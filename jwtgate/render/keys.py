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


def freshness(info: KeySetInfo, now: float) -> str:
    """'fetched 3 s ago, expires in 9 min' (or 'expired … ago, stale')."""
    if info.origin == "file":
        return "local file"
    left = info.expires_at - now
    expires = f"expires in {duration(left)}" if left > 0 else f"expired {duration(left)} ago"
    return f"fetched {duration(now - info.fetched_at)} ago, {expires}" + (", stale" if info.stale else "")


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


def result_json(source: str, result: KeySetInfo | KeySourceError, now: float) -> dict[str, Any]:
    if isinstance(result, KeySourceError):
        error = {"code": result.code, "message": result.message, "hint": result.hint}
        return {"source": source, "ok": False, "error": error, "keys": []}
    return {
        "source": source,
        "ok": True,
        "error": None,
        "jwks_url": result.jwks_url,
        "issuer": result.issuer,
        "origin": result.origin,
        "fetched_at": iso(result.fetched_at),
        "expires_at": iso(result.expires_at),
        "age_seconds": round(now - result.fetched_at, 3),
        "expires_in_seconds": round(result.expires_at - now, 3),
        "stale": result.stale,
        "keys": [key_json(k) for k in result.keys],
    }


def keys_json(results: Sequence[Result], warnings: Sequence[str], now: float) -> str:
    doc = {"sources": [result_json(s, r, now) for s, r in results], "warnings": list(warnings)}
    return json.dumps(doc, indent=2)


def print_keys_text(results: Sequence[Result], warnings: Sequence[str], now: float) -> None:
    """One heading and table per source on stdout; errors and warnings on stderr."""
    from rich.console import Console

    out = Console(highlight=False, soft_wrap=True)
    for source, result in results:
        if isinstance(result, KeySourceError):
            hint = f" (hint: {result.hint})" if result.hint else ""
            print(f"error: {source}: {result.message}{hint} [{result.code}]", file=sys.stderr, flush=True)
            continue
        out.print(_heading(source, result, now), markup=False)
        if result.keys:
            _print_whole(out, _table(result))
        else:
            out.print("  (no keys)")
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr, flush=True)


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


def _table(info: KeySetInfo) -> Any:
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1))
    for column in ("kid", "kty", "alg", "use", "key", "thumbprint (RFC 7638)", "usable"):
        table.add_column(column, no_wrap=column in ("kid", "thumbprint (RFC 7638)"), overflow="fold")
    for key in info.keys:
        usable = "yes" if key.usable else f"no: {key.problem}"
        cells = (key.kid, key.kty, key.alg, key.use, key.detail, key.thumbprint, usable)
        table.add_row(*(c if c else "-" for c in cells))
    return table
