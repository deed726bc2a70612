"""Small pieces every read command shares: the ``--format`` option, a console, JSON output."""

from __future__ import annotations

import enum
import json
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console


class OutputFormat(enum.StrEnum):
    """``--format`` for read commands."""

    text = "text"
    json = "json"


FORMAT_HELP = "Output format: text for people, json for scripts (never wrapped or coloured)."


def console() -> Console:
    """A stdout console: no wrapping of long lines, no syntax highlighting of our values."""
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


def echo_json(document: Any) -> None:
    """Print a JSON document on stdout (indented, UTF-8, non-JSON values as strings)."""
    typer.echo(json.dumps(document, indent=2, ensure_ascii=False, default=str))
