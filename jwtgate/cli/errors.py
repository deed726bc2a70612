"""Error printing for every command: a JwtgateError becomes ``error: ...`` (and a hint) on stderr and its
exit code, never a traceback; in ``--format json`` also ``{"errors": [...]}`` on stdout.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from jwtgate.errors import JwtgateError

F = TypeVar("F", bound=Callable[..., Any])


def fail(err: JwtgateError) -> typer.Exit:
    """Print a JwtgateError on stderr (never a traceback) and return the Exit to raise."""
    where = f"{err.location}: " if err.location else ""
    typer.echo(f"error: {where}{err.message} [{err.code}]", err=True)
    if err.hint:
        typer.echo(f"  hint: {err.hint}", err=True)
    return typer.Exit(err.exit_code)


def handles_errors(fn: F) -> F:
    """Turn JwtgateError into a one-line message and its exit code; with ``--format json`` (a command's
    ``fmt`` parameter) also into the one JSON error document on stdout, so a script never reads nothing."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except JwtgateError as err:
            if kwargs.get("fmt") == "json":
                from jwtgate.render.errors import errors_json

                typer.echo(errors_json(err))
            raise fail(err) from None

    return wrapper  # type: ignore[return-value]
