"""A bad value for a choice option reads the same in every command: ``error: --OPT 'X' is not one of …``, exit 2.

The options and their choices are read from the README's Commands table, so a new choice there is tested too.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.kit.cli import invoke

README = Path(__file__).resolve().parents[2] / "README.md"
ROWS = re.findall(r"^\| `jwtgate (.*?)` \|", README.read_text(encoding="utf-8"), flags=re.MULTILINE)
KC = "sample_configs/keycloak.yaml"
# what each command needs besides the option under test (files need not exist: choices are checked first)
REQUIRED = {
    "lint": [KC], "check-token": ["t", "--config", KC], "decode": ["t"], "explain": ["--config", KC],
    "test": ["t.yaml"], "diff": [KC, KC], "replay": ["-", "--config", KC], "jwks fetch": ["x.json"],
    "jwks show": [], "keys generate": ["--out", "never-created"], "serve": ["--config", KC],
}


def documented_choices() -> list[tuple[str, str, list[str]]]:
    """(command, option, choices) for every ``--opt a|b|c`` in the Commands table."""
    out = []
    for row in ROWS:
        for part in row.split("` / `jwtgate "):  # rows such as 'jwks fetch … / jwtgate jwks show …'
            words = part.split()
            command = " ".join(words[:2]) if " ".join(words[:2]) in REQUIRED else words[0]
            for option, values in re.findall(r"(--[a-z-]+) ([A-Za-z0-9]+(?:\\\|[A-Za-z0-9]+)+)", part):
                out.append((command, option, values.split("\\|")))
    return out


CHOICES = documented_choices()


def test_the_readme_documents_the_choice_options() -> None:
    options = {(c, o) for c, o, _ in CHOICES}
    assert {("lint", "--format"), ("diff", "--fail-on"), ("serve", "--mode"), ("keys generate", "--alg"),
            ("jwks show", "--format"), ("decode", "--format")} <= options
    assert len(CHOICES) >= 13


@pytest.mark.parametrize(("command", "option", "choices"), CHOICES, ids=[f"{c} {o}" for c, o, _ in CHOICES])
def test_a_bad_choice_is_one_clear_error(command: str, option: str, choices: list[str]) -> None:
    result = invoke([*command.split(), *REQUIRED[command], option, "bogus"])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"error: {option} 'bogus' is not one of {', '.join(choices)} [usage.invalid]\n"


@pytest.mark.parametrize(("args", "stderr"), [
    (["lint", KC, "--format", "jsn"],
     "error: --format 'jsn' is not one of text, json, sarif, github, gitlab [usage.invalid]\n"
     "  hint: did you mean --format json?\n"),
    (["diff", KC, KC, "--fail-on", "widem"],
     "error: --fail-on 'widem' is not one of widen, any [usage.invalid]\n  hint: did you mean --fail-on widen?\n"),
    (["lint", KC, "--severity", "JG104=loud"],
     "error: --severity level 'loud' is not one of error, warning, info [usage.invalid]\n"),
    (["lint", KC, "--severity", "JG104"],
     "error: --severity 'JG104' is not CODE=LEVEL [usage.invalid]\n  hint: e.g. --severity JG208=error\n"),
    (["token", "mint", "--key", "never-read.pem", "--alg", "HS256"],
     "error: --alg 'HS256' is not one of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA "
     "[usage.invalid]\n  hint: did you mean --alg RS256?\n"),
], ids=["near-miss-hint", "fail-on-hint", "severity-level", "severity-shape", "mint-alg"])
def test_near_misses_and_severity_levels(args: list[str], stderr: str) -> None:
    result = invoke(args)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", stderr)
