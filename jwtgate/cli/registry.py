"""Which function serves which command. One line per command; add yours here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from jwtgate.cli import check_token, decode, diff, explain, jwks, keys, replay, serve, test
from jwtgate.cli.lint import lint_command

Register = Callable[[typer.Typer, str, Callable[..., Any]], None]


def register_all(app: typer.Typer, jwks_app: typer.Typer, keys_app: typer.Typer, token_app: typer.Typer,
                 register: Register) -> None:
    """Attach every command to its Typer group."""
    # lint
    register(app, "lint", lint_command)
    # jwks
    register(jwks_app, "fetch", jwks.fetch)
    register(jwks_app, "show", jwks.show)
    # decode / check-token
    register(app, "decode", decode.decode)
    register(app, "check-token", check_token.check_token)
    # explain / test / diff
    register(app, "explain", explain.explain)
    register(app, "test", test.test)
    register(app, "diff", diff.diff)
    register(app, "replay", replay.replay)
    # keys / token
    register(keys_app, "generate", keys.keys_generate)
    register(token_app, "mint", keys.token_mint)
    # serve
    register(app, "serve", serve.serve)
