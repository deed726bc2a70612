"""The README stays true: its rule table, reason codes, set-up commands and examples match the code."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from jwtgate.cli.app import app
from jwtgate.lint.registry import rules_table
from jwtgate.reasons import REASONS, reasons_table
from tests.kit.cli import invoke

README = Path("README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    return README.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def _blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)


def test_readme_rule_table_matches_rules() -> None:
    table = [line for line in _section("Lint rules").splitlines() if line.startswith("|")]
    assert "\n".join(table) == rules_table()


def test_readme_starts_with_exactly_the_two_commands() -> None:
    first, second = _blocks(README, "bash")[:2]
    assert first.startswith("pip install . && jwtgate check-token @sample_tokens/")
    assert second.strip() == "pip install -e '.[test]' && pytest"
    ci = Path(".ci/run").read_text(encoding="utf-8")
    assert "\n" + second.strip() + "\n" in ci, ".ci/run must run the README's test command verbatim"


def test_readme_first_command_runs_and_allows() -> None:
    cmd = _blocks(README, "bash")[0].strip().split(" && ", 1)[1].split()
    assert cmd[0] == "jwtgate"
    result = invoke(cmd[1:])
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip().endswith("ALLOWED")
    transcript = _blocks(README, "text")[0]
    assert result.stdout == transcript, "the README's transcript of the first command is out of date"


def _codes_in_source() -> set[str]:
    found: set[str] = set()
    prefixes = "token|key|jwks|policy|claims|config|usage|request|upstream|test"
    for path in Path("jwtgate").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        found |= set(re.findall(rf'"((?:{prefixes})\.[a-z_]+)"', text))
    return {c for c in found if c != "jwks.json"}


def test_every_reason_code_in_the_source_is_registered() -> None:
    missing = _codes_in_source() - set(REASONS)
    assert not missing, f"reason codes not in jwtgate/reasons.py: {sorted(missing)}"


def test_readme_reason_table_matches_the_registry() -> None:
    table = [line for line in _section("Reason codes").splitlines() if line.startswith("|")]
    assert "\n".join(table) == reasons_table()


def test_token_missing_row_names_the_realm() -> None:
    assert 'WWW-Authenticate: Bearer realm="jwtgate"' in REASONS["token.missing"]


@pytest.mark.parametrize("block", _blocks(_section("Commands"), "yaml"))
def test_readme_policy_test_example_passes(block: str, tmp_path: Path) -> None:
    config = Path("sample_configs/keycloak.yaml").resolve()
    example = tmp_path / "example.yaml"
    example.write_text(block.replace("../keycloak.yaml", str(config)), encoding="utf-8")
    result = invoke(["test", str(example)])
    assert result.exit_code == 0, result.output
    assert "2 passed, 0 failed" in result.stdout


def _leaf_commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    subs = getattr(command, "commands", None)
    if subs is None:
        yield "jwtgate " + " ".join(path), command
        return
    for name, sub in subs.items():
        yield from _leaf_commands(sub, (*path, name))


@pytest.mark.parametrize(("name", "command"), list(_leaf_commands(typer.main.get_command(app))))
def test_commands_table_lists_every_option(name: str, command: Any) -> None:
    table = _section("Commands").split("\n### ", 1)[0]
    rows = [line for line in table.splitlines() if f"`{name} " in line or f"`{name}`" in line]
    assert rows, f"{name} is not in the README's command table"
    options = [p.opts[0] for p in command.params if p.opts and p.opts[0].startswith("--") and p.opts[0] != "--help"]
    missing = [o for o in options if not any(o in row for row in rows)]
    assert not missing, f"{name}: options not in the README's command table: {missing}"


def test_example_blocks_that_name_a_sample_file_match_it() -> None:
    for block in _blocks(README, "yaml"):
        first = block.splitlines()[0]
        named = re.match(r"# (sample_configs/\S+\.yaml)", first)
        if named:
            assert block == Path(named.group(1)).read_text(encoding="utf-8"), f"README block differs from {first}"
