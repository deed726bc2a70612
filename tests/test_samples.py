"""Every sample config produces exactly the finding codes its '# expect:' comment names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from jwtgate.config.loader import load_policy_file
from jwtgate.lint.registry import lint_policy

# Policy test files (sample_configs/tests/) are exercised by tests/test_cli_test.py.
SAMPLES = sorted(p for p in Path("sample_configs").rglob("*.yaml") if "tests" not in p.parts[1:])
ENV: dict[str, str] = {}  # samples promise their findings for an environment without JWT_* variables


def expected_codes(path: Path) -> set[str]:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# expect:"):
            value = line.removeprefix("# expect:").strip()
            return set() if value == "(no findings)" else {c.strip() for c in value.split(",")}
    raise AssertionError(f"{path} has no '# expect:' line")


@pytest.mark.parametrize("path", SAMPLES, ids=[str(p) for p in SAMPLES])
def test_sample_produces_exactly_its_expected_codes(path: Path) -> None:
    findings = lint_policy(load_policy_file(str(path), ENV), ENV)
    assert {f.code for f in findings} == expected_codes(path)


@pytest.mark.parametrize("path", sorted(Path("sample_configs/broken").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_broken_samples_name_their_codes_on_the_first_line(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert re.fullmatch(r"# expect: JG\d{3}(, JG\d{3})*", first)


def test_there_are_samples_of_every_kind() -> None:
    names = {p.name for p in SAMPLES}
    assert {"keycloak.yaml", "azure-ad.yaml", "litellm-docs-example.yaml", "multi-issuer.yaml",
            "scopes.yaml"} <= names
    assert len(list(Path("sample_configs/broken").glob("*.yaml"))) >= 10
