"""Every sample config gives exactly the findings (code and severity) its '# expect:' comment names.

Samples are linted as ``jwtgate lint`` does (their suppression comments and jwtgate.lint settings apply);
a '# suppressed:' line names the codes their comments or settings suppress.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from jwtgate.config.loader import load_policy
from jwtgate.lint.registry import lint_report

# Policy test files (sample_configs/tests/) are exercised by tests/test_cli_test.py.
SAMPLES = sorted(p for p in Path("sample_configs").rglob("*.yaml") if "tests" not in p.parts[1:])
ENV: dict[str, str] = {}  # samples promise their findings for an environment without JWT_* variables
TODAY = date(2026, 12, 1)  # suppressions with until= dates are judged on this day
EXPECT = re.compile(r"# expect: JG\d{3} (error|warning|info)(, JG\d{3} (error|warning|info))*")


def comment_value(path: Path, prefix: str) -> str | None:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith(prefix):
            return line.removeprefix(prefix).strip()
    return None


def expected(path: Path) -> set[tuple[str, str]]:
    value = comment_value(path, "# expect:")
    assert value is not None, f"{path} has no '# expect:' line"
    pairs = [c.split() for c in value.split(",")] if value != "(no findings)" else []
    return {(code, severity) for code, severity in pairs}


@pytest.mark.parametrize("path", SAMPLES, ids=[str(p) for p in SAMPLES])
def test_sample_produces_exactly_its_expected_findings(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    report = lint_report(load_policy(text, str(path), ENV), ENV, text=text, today=TODAY)
    assert {(f.code, f.severity) for f in report.findings} == expected(path)
    suppressed = comment_value(path, "# suppressed:")
    assert {s.finding.code for s in report.suppressed} == ({c.strip() for c in suppressed.split(",")}
                                                           if suppressed else set())


@pytest.mark.parametrize("path", sorted(Path("sample_configs/broken").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_broken_samples_name_their_findings_on_the_first_line(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert EXPECT.fullmatch(first)


def test_there_are_samples_of_every_kind() -> None:
    names = {p.name for p in SAMPLES}
    assert {"keycloak.yaml", "azure-ad.yaml", "litellm-docs-example.yaml", "multi-issuer.yaml",
            "scopes.yaml", "suppressions.yaml"} <= names
    assert len(list(Path("sample_configs/broken").glob("*.yaml"))) >= 10
