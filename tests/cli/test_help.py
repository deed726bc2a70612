"""``--help``: every command's usage line names its arguments as the README's Commands table does."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.kit.cli import invoke

README = Path(__file__).resolve().parents[2] / "README.md"
ROWS = re.findall(r"^\| `jwtgate ([^`]*)`", README.read_text(encoding="utf-8"), flags=re.MULTILINE)


def readme_arguments(command: str) -> list[str]:
    """The positional names the README's Commands table gives COMMAND, e.g. ['OLD', 'NEW'] for diff."""
    row = next(r for r in ROWS if r == command or r.startswith(command + " "))
    names = []
    for word in row[len(command):].split():
        if word.lstrip("[").startswith("-"):
            break
        names.append(word.strip("[]"))
    return names


@pytest.mark.parametrize("command", ["lint", "check-token", "decode", "explain", "test", "diff", "replay",
                                     "jwks fetch", "serve"])
def test_usage_line_names_the_arguments_the_readme_names(command: str) -> None:
    result = invoke([*command.split(), "--help"])
    assert result.exit_code == 0
    usage = result.stdout.splitlines()[0]
    assert usage.startswith("Usage: ") and "[OPTIONS]" in usage, usage
    shown = [w.strip("[]{}") for w in usage.split("[OPTIONS]", 1)[1].split()]
    assert shown == readme_arguments(command), usage


@pytest.mark.parametrize("command", ["diff", "replay"])
def test_fail_on_commands_state_their_exit_codes_plainly(command: str) -> None:
    text = " ".join(invoke([command, "--help"]).stdout.split())
    assert "0 no --fail-on given or its condition not met, 1 the --fail-on condition met, 2 unreadable input" in text


def test_serve_upstream_help_says_the_default_mode_sends_every_allowed_request_there() -> None:
    text = " ".join(invoke(["serve", "--help"]).stdout.split())
    upstream = text.split("--upstream <str>", 1)[1].split("--host", 1)[0]
    assert "in mode litellm (the default) every allowed request" in upstream, upstream
    assert "in mode direct those of models without an api_base" in upstream, upstream
