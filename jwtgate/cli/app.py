"""The Typer app. Each command lives in its own module beside this one; each parses, calls the core, renders.

Heavy modules (httpx, the server stack, PyJWT, ruamel) are imported inside the commands that need them
so that ``jwtgate --help`` stays fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import typer

from jwtgate import __version__
from jwtgate.cli import registry
from jwtgate.cli.errors import handles_errors
from jwtgate.errors import JwtgateError

EXIT_HELP = "Exit codes: 0 clean/allowed, 1 findings/denied, 2 usage or unreadable input."

app = typer.Typer(
    name="jwtgate",
    help="Check, explain and enforce JWT/OIDC model-access policies for LLM gateways.\n\n" + EXIT_HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain click help and usage errors: typer's rich help imports ~60 ms of rich
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _group(help_text: str) -> typer.Typer:
    return typer.Typer(help=help_text, no_args_is_help=True, rich_markup_mode=None)


jwks_app = _group("Discover, fetch and inspect signing keys (JWKS).")
keys_app = _group("Generate signing keys for test tokens.")
token_app = _group("Mint test tokens with a named key.")
app.add_typer(jwks_app, name="jwks")
app.add_typer(keys_app, name="keys")
app.add_typer(token_app, name="token")


def _version(value: bool) -> None:
    if value:
        from jwtgate.policy.litellm_differences import LITELLM_VERSION

        typer.echo(f"jwtgate {__version__} (decides as LiteLLM {LITELLM_VERSION})")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Show the version."),
) -> None:
    """Check, explain and enforce JWT/OIDC model-access policies for LLM gateways."""


def register(target: typer.Typer, name: str, fn: Callable[..., Any]) -> None:
    """Register a command function with error handling; the list in --help shows its whole first line."""
    first = (fn.__doc__ or "").strip().split("\n", 1)[0]
    target.command(name, short_help=first or None)(handles_errors(fn))


# --- command registrations (one line each in cli/registry.py; modules import heavy dependencies lazily) --
registry.register_all(app, jwks_app, keys_app, token_app, register)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except JwtgateError as err:  # raised outside a command (callbacks)
        typer.echo(f"error: {err}", err=True)
        sys.exit(err.exit_code)
