"""The README stays true: its rule table, reason codes, set-up commands and examples match the code."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest
import typer

from jwtgate.cli.app import app
from jwtgate.config.loader import load_policy
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


def _lint_blocks() -> list[str]:
    return _blocks(_section("Lint rules"), "yaml")


@pytest.mark.parametrize("command", [line.split("jwtgate lint ", 1)[1].split(" >")[0].split("  #")[0]
                                     for block in _lint_blocks() for line in block.splitlines()
                                     if "jwtgate lint " in line and not line.lstrip().startswith("#")])
def test_readme_ci_recipe_commands_run(command: str) -> None:
    args = command.replace("config.yaml", "sample_configs/broken/unknown-model.yaml").split()
    result = invoke(["lint", *args])
    assert result.exit_code == 1, result.output
    parsed = json.loads(result.stdout)
    assert parsed["runs"][0]["results"] if isinstance(parsed, dict) else parsed


def test_readme_suppression_and_settings_examples_are_accepted() -> None:
    comment, settings = (b for b in _lint_blocks() if "jwtgate" in b and "repos:" not in b
                         and "jobs:" not in b and "script:" not in b)
    broken = Path("sample_configs/broken/rbac-flag.yaml").read_text(encoding="utf-8")
    text = broken.replace("  role_permissions:\n", comment.split("general_settings:\n", 1)[1]) + dedent(settings)
    assert load_policy(text, "x.yaml", {}).settings.lint_severity["JG302"]["reason"]
    result = invoke(["lint", "-", "--format", "json", "--now", "2027-01-01"], input=text,
                    env={"JWT_AUDIENCE": "", "JWT_ISSUER": ""})
    doc = json.loads(result.stdout)
    assert [s["code"] for s in doc["suppressed"]] == ["JG201"]
    assert {f["code"] for f in doc["findings"]} == {"JG202"}


@pytest.mark.parametrize(("command", "transcript"), re.findall(
    r"```bash\n(jwtgate lint [^\n]+)\n```\n\n```text\n(.*?)```", _section("Lint rules"), flags=re.S))
def test_readme_lint_transcripts_are_real(command: str, transcript: str) -> None:
    result = invoke(command.split()[1:], env={"JWT_AUDIENCE": "", "JWT_ISSUER": "", "JWT_PUBLIC_KEY_URL": ""})
    assert result.exit_code == 1
    assert result.stdout == transcript


def test_readme_prepares_the_whole_suite_as_ci_does() -> None:
    """A new user following the README runs the LiteLLM and real-provider tests, not skips: .ci/run's steps."""
    prepare = _blocks(README, "bash")[2]
    ci = Path(".ci/run").read_text(encoding="utf-8")
    assert "export JWTGATE_LITELLM_PYTHON=$(.ci/setup-litellm .venv-litellm)" in prepare
    assert 'JWTGATE_LITELLM_PYTHON=$(.ci/setup-litellm "$PWD/.venv-litellm")' in ci
    assert "(cd tests/idp && npm ci)" in prepare and "(cd tests/idp && npm ci " in ci
    assert "/work/" not in README, "the README names a path of one machine"


def test_readme_differences_table_matches_the_registry() -> None:
    from jwtgate.policy.litellm_differences import LITELLM_VERSION, differences_table

    section = _section("Fidelity to LiteLLM")
    table = [line for line in section.splitlines() if line.startswith("|")]
    assert "\n".join(table) == differences_table()
    assert f"LiteLLM **{LITELLM_VERSION}**" in section
