"""``jwtgate check-token TOKEN --config C``: verify a token, decide, and print every step with its mark."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from jwtgate.cli.decode import TOKEN_HELP
from jwtgate.cli.options import check_format, dump_json, load_config
from jwtgate.policy.routes import DEFAULT_ROUTE

if TYPE_CHECKING:
    from jwtgate.check import TokenCheck
    from jwtgate.model import Policy, Request


def run_check(policy: Policy, token: str, request: Request, *, sources: Sequence[str] = (), now: float | None = None,
              leeway: float | None = None, cache_dir: Path | None = None, offline: bool = False) -> TokenCheck:
    """``jwtgate.check.check_token`` with the CLI's key store: check-token, explain --token, test token cases.

    Keys come from the on-disk cache (``cache_dir``, else ``$JWTGATE_CACHE_DIR`` or the XDG cache dir),
    fetched when missing unless ``offline``; store warnings go to stderr.
    """
    from jwtgate.check import check_token as check
    from jwtgate.keys.disk_cache import default_cache_dir
    from jwtgate.keys.store import KeyStore, KeyStoreOptions

    directory = cache_dir if cache_dir is not None else default_cache_dir(os.environ, Path.home())
    with KeyStore(clock=time.time, cache_dir=directory, options=KeyStoreOptions.from_policy(policy),
                  offline=offline) as store:
        try:
            return check(policy, store, token, request, extra_sources=sources, now=now, leeway=leeway)
        finally:
            for warning in store.warnings:
                typer.echo(f"warning: {warning}", err=True)


def print_check(check: TokenCheck, fmt: str, now: float | None = None) -> int:
    """The trace (text) or the document (json) of a check; the exit code: 0 allowed, 1 denied or refused."""
    if fmt == "json":
        from jwtgate.render.decision import check_to_json

        dump_json(check_to_json(check, now))
    else:
        from jwtgate.render.decision import render_check_text, stdout_console

        render_check_text(check, stdout_console())
    return 0 if check.allowed else 1


def check_token(
    token: str = typer.Argument(..., metavar="TOKEN", help=TOKEN_HELP, show_default=False),
    config: Path = typer.Option(..., "--config", "-c", help="The gateway config (LiteLLM YAML)."),
    jwks: list[str] = typer.Option([], "--jwks", metavar="SRC",
                                   help="Key source instead of the config's: a JWKS file, JWKS URL or OIDC "
                                        "discovery URL. Repeatable."),
    model: str | None = typer.Option(None, "--model", help="The model the request asks for."),
    route: str = typer.Option(DEFAULT_ROUTE, "--route", help="The route the request calls."),
    now: str | None = typer.Option(None, "--now", metavar="TIME", help="Evaluate at TIME (ISO 8601 or epoch s)."),
    leeway: float | None = typer.Option(None, "--leeway", metavar="S", min=0,
                                        help="Clock leeway in seconds (default: jwtgate.leeway, 30 s)."),
    offline: bool = typer.Option(False, "--offline", help="Use only cached keys and local files; never fetch."),
    cache_dir: Path | None = typer.Option(None, "--cache-dir", help="Key cache dir (default: $JWTGATE_CACHE_DIR "
                                          "or the XDG cache dir)."),
    fmt: str = typer.Option("text", "--format", "-f", help="text or json (for scripts; never coloured)."),
) -> None:
    """Verify TOKEN against the config's keys and rules, then decide as the gateway would.

    Exit codes: 0 allowed (without --model: verified and, when RBAC is enforced, mapped to a role),
    1 denied or invalid token, 2 usage or config error.
    """
    from jwtgate.cli.token_arg import read_token_arg
    from jwtgate.model import Request
    from jwtgate.timefmt import parse_instant

    check_format(fmt, ("text", "json"))
    when = parse_instant(now) if now is not None else None
    policy = load_config(str(config))
    request = Request(model=model, route=route)
    check = run_check(policy, read_token_arg(token), request, sources=jwks, now=when, leeway=leeway,
                      cache_dir=cache_dir, offline=offline)
    raise typer.Exit(print_check(check, fmt, when))
