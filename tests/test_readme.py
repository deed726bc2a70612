"""The README's rule table is the registry, exactly."""

from __future__ import annotations

from pathlib import Path

from jwtgate.lint import rules_table


def test_readme_rule_table_matches_rules() -> None:
    readme = Path("README.md").read_text(encoding="utf-8")
    section = readme.split("## Lint rules", 1)[1]
    table = [line for line in section.splitlines() if line.startswith("|")]
    assert "\n".join(table) == rules_table()
