"""The CLI as a user runs it: a wide terminal (COLUMNS=200), stdout and stderr kept apart."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import pytest
from click.testing import Result
from typer.testing import CliRunner

from jwtgate.cli.app import app

WIDE = {"COLUMNS": "200"}
Invoke = Callable[..., Result]


def invoke(args: Sequence[str], *, env: Mapping[str, str | None] | None = None,
           input: str | bytes | None = None) -> Result:
    """Run ``jwtgate ARGS``; ``result.stdout`` and ``result.stderr`` are separate streams (None unsets a variable)."""
    return CliRunner(env={**WIDE, **(env or {})}).invoke(app, list(args), input=input)


@pytest.fixture
def cli() -> Invoke:
    """The CLI runner: ``cli(["lint", path], env={...}, input=...)``."""
    return invoke
