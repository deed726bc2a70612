"""Which function serves which command. One line per command; add yours here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

Register = Callable[[typer.Typer, str, Callable[..., Any]], None]


def register_all(app: typer.Typer, jwks_app: typer.Typer, keys_app: typer.Typer, token_app: typer.Typer,
                 register: Register) -> None:
    """Attach every command to its Typer group."""
    # lint
    # jwks
    # decode / check-token
    # explain / test / diff
    # keys / token
    # serve
    from jwtgate.commands.serve import serve

    register(app, "serve", serve)
