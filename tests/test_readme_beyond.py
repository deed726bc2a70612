"""The README's identity, shadow/replay and overage sections: every command runs and prints what is shown."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from tests.kit.cli import invoke

README = Path("README.md").read_text(encoding="utf-8")
SECTIONS = ("Verified identity for the upstream", "Shadow decisions and replay", "Entra ID group overage")


def section(title: str) -> str:
    return README.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def examples() -> list[tuple[str, str]]:
    """(command, the text block after it) for each one-line jwtgate command followed by a text block."""
    out = []
    for title in SECTIONS:
        out += re.findall(r"```bash\n(jwtgate [^\n]+)\n```\n\n```text\n(.*?)```", section(title), flags=re.S)
    return out


@pytest.mark.parametrize(("command", "shown"), examples(), ids=[c.split()[1] for c, _ in examples()])
def test_section_example_prints_what_the_readme_shows(command: str, shown: str, tmp_path: Path) -> None:
    argv = shlex.split(command)[1:]
    if argv[0] == "check-token":
        argv += ["--offline", "--cache-dir", str(tmp_path)]
    result = invoke(argv)
    assert result.exit_code in (0, 1), result.output
    assert result.stdout.endswith(shown), f"README output of '{command}' is out of date:\n{result.stdout}"


def test_every_section_has_a_tested_example() -> None:
    commands = [c.split()[1] for c, _ in examples()]
    assert commands == ["check-token", "replay", "explain", "lint"]


def test_identity_example_is_the_sample_config() -> None:
    block = re.findall(r"```yaml\n(.*?)```", section(SECTIONS[0]), flags=re.S)[0]
    assert block.split("\n", 1)[1] in Path("sample_configs/keycloak-identity.yaml").read_text(encoding="utf-8")


def test_access_line_example_is_a_line_of_the_sample_log() -> None:
    line = re.findall(r"```json\n(.*?)\n```", section(SECTIONS[1]), flags=re.S)[0]
    logged = Path("sample_logs/keycloak-access.log").read_text(encoding="utf-8").splitlines()
    assert line in logged
    record = json.loads(line)
    assert set(record["claims"]) == {"iss", "sub", "email", "resource_access"}
    assert record["shadow"]["decision"] != record["decision"]
