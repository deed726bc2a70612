"""Small helpers shared by the explain / test / diff commands (option checks, config loading)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from jwtgate.errors import UsageError

if TYPE_CHECKING:
    from jwtgate.model import Policy


def check_choice(option: str, value: str, allowed: Sequence[str]) -> str:
    """Refuse a value a choice option (``--format``, ``--fail-on``, ``--mode``, ``--alg`` ...) does not take:
    a UsageError (exit 2) naming the option, the value and the choices, with the closest choice as a hint.

    Every command's choice options go through here (not click's ``Choice``), so a bad value reads the same
    everywhere: ``error: --format 'jsn' is not one of text, json [usage.invalid]``.
    """
    if value in allowed:
        return value
    from jwtgate.config.yaml_text import did_you_mean

    guess = did_you_mean(value, allowed)
    raise UsageError(f"{option} {value!r} is not one of {', '.join(allowed)}",
                     hint=f"did you mean {option} {guess}?" if guess else None)


def check_format(fmt: str, allowed: tuple[str, ...]) -> str:
    """Refuse an unknown ``--format`` value (exit 2)."""
    return check_choice("--format", fmt, allowed)


def load_config(path: str) -> Policy:
    """Load a config for a command; unparseable configs are refused, schema errors go to stderr."""
    from jwtgate.config.loader import load_policy_file, require_loadable

    policy = require_loadable(load_policy_file(path, os.environ))
    errors = [f for f in policy.findings if f.severity == "error"]
    if errors:
        typer.echo(f"warning: {path} has {len(errors)} config error(s), first: {errors[0].location}: "
                   f"{errors[0].code} {errors[0].message} (run 'jwtgate lint')", err=True)
    return policy


def read_claims(value: str) -> dict[str, Any]:
    """``--claims``: a JSON object, or ``@file.json``."""
    where = "--claims"
    text = value
    if value.startswith("@"):
        where = value[1:]
        try:
            text = Path(where).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{where}: cannot read claims file ({exc.strerror or exc})") from None
    try:
        claims = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{where}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})",
                         hint="pass a JSON object, e.g. --claims '{\"sub\": \"alice\"}' or --claims @claims.json") \
            from None
    if not isinstance(claims, dict):
        raise UsageError(f"{where}: claims must be a JSON object, not {type(claims).__name__}")
    return claims


def dump_json(data: Any) -> None:
    """JSON on stdout, never wrapped by rich."""
    typer.echo(json.dumps(data, indent=2, sort_keys=False, default=str))


def check_fail_on(fail_on: str | None) -> None:
    """``--fail-on`` of diff and replay: 'widen' or 'any' (exit 2 otherwise)."""
    if fail_on is not None:
        check_choice("--fail-on", fail_on, ("widen", "any"))


def emit_change_report(fmt: str, as_json: Any, text: str, markdown: str, *, empty: bool, widens: bool,
                       fail_on: str | None) -> None:
    """Print a diff-style report in ``fmt`` and exit: 1 when the ``--fail-on`` condition is met, else 0."""
    if fmt == "json":
        dump_json(as_json)
    else:
        typer.echo(markdown if fmt == "markdown" else text, nl=False)
    failed = (fail_on == "any" and not empty) or (fail_on == "widen" and widens)
    raise typer.Exit(1 if failed else 0)
