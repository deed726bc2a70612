"""``jwtgate test``: sample tests pass, the failing example fails, bad files exit 2, JSON/JUnit, coverage."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from tests.kit.cli import invoke

TESTS = "sample_configs/tests"


def run(*args: str) -> Any:
    return invoke(["test", *args])


def write(tmp_path: Path, text: str, name: str = "t.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(("name", "summary"), [("keycloak", "6 passed, 0 failed"), ("azure-ad", "5 passed, 0 failed")])
def test_shipped_tests_pass(name: str, summary: str) -> None:
    result = run(f"{TESTS}/{name}.yaml")
    assert result.exit_code == 0, result.stdout
    assert result.stdout.splitlines()[-1] == summary
    assert "FAIL" not in result.stdout


def test_failing_example_shows_expected_actual_reason_and_trace() -> None:
    result = run(f"{TESTS}/failing-example.yaml")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == f"FAIL {TESTS}/failing-example.yaml:10 litellm-user may use gpt-4o (wrong - role_permissions " \
                       "does not list it)"
    assert "  expected: allow" in lines
    assert "  actual:   deny [policy.model_not_allowed] as internal_user" in lines
    assert any(x.startswith("  reason:   internal_user may not use model 'gpt-4o'") for x in lines)
    assert any(x.startswith("    ✗ decision") for x in lines)  # the trace as check-token prints it
    assert lines[-1] == "1 passed, 1 failed"


def test_several_files_and_coverage_per_config() -> None:
    result = run(f"{TESTS}/keycloak.yaml", f"{TESTS}/azure-ad.yaml")
    assert result.exit_code == 0
    out = result.stdout
    assert "coverage of sample_configs/keycloak.yaml: 4/5 entries (80%)" in out
    assert "  not exercised: sample_configs/keycloak.yaml:40 role_permissions[2] (team) - unreachable: no condition " \
           "in the config grants team" in out
    assert "coverage of sample_configs/azure-ad.yaml: 1/1 entries (100%)" in out
    assert out.splitlines()[-1] == "11 passed, 0 failed"


@pytest.mark.parametrize(("minimum", "code"), [("50", 0), ("90", 1), ("90%", 1), ("1%", 0)],
                         ids=["above", "below", "percent-sign", "one-percent-with-sign"])
def test_min_coverage(minimum: str, code: int) -> None:
    result = run(f"{TESTS}/keycloak.yaml", "--min-coverage", minimum)
    assert result.exit_code == code
    assert ("below --min-coverage 90%" in result.stderr) == (code == 1)


@pytest.mark.parametrize(("minimum", "message"), [
    ("0.9", "hint: did you mean 90 for 0.9?"),
    ("1", "hint: did you mean 100 for 1?"),
    ("150", "--min-coverage must be between 0 and 100, not '150'"),
    ("-5", "--min-coverage must be between 0 and 100, not '-5'"),
    ("ninety", "--min-coverage must be a percentage such as 90 or 90%"),
], ids=["fraction", "one", "over-100", "negative", "not-a-number"])
def test_min_coverage_rejects_fractions_and_out_of_range(minimum: str, message: str) -> None:
    result = run(f"{TESTS}/keycloak.yaml", f"--min-coverage={minimum}")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in result.stderr


def test_min_coverage_help_says_it_is_a_percentage() -> None:
    result = run("--help")
    assert "'90' or '90%'" in " ".join(result.stdout.split())


def test_unknown_expected_reason_exits_2_with_a_guess(tmp_path: Path) -> None:
    path = write(tmp_path, "cases:\n  - name: x\n    claims: {}\n    model: gpt-4o\n    expect: deny\n"
                 "    reason: policy.model_not_alowed\n")
    result = run(path, "--config", "sample_configs/keycloak.yaml")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"error: {path}:6:5: case 'x': unknown reason code 'policy.model_not_alowed'" in result.stderr
    assert "did you mean 'policy.model_not_allowed'?" in result.stderr


@pytest.mark.parametrize(("target", "message"), [
    ("missing.yaml", "missing.yaml: no such file"),
    (".", "is a directory; pass a YAML policy test file"),
], ids=["missing", "directory"])
def test_unreadable_test_file_is_called_a_test_file(tmp_path: Path, target: str, message: str) -> None:
    result = run(str(tmp_path / target))
    assert result.exit_code == 2
    assert message in result.stderr
    assert "config" not in result.stderr


def test_json_output() -> None:
    result = run(f"{TESTS}/failing-example.yaml", "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert (data["passed"], data["failed"]) == (1, 1)
    bad = next(c for c in data["cases"] if not c["passed"])
    assert bad["mismatches"] == ["decision"]
    assert bad["expected"]["decision"] == "allow"
    assert bad["actual"]["reason"]["code"] == "policy.model_not_allowed"
    assert bad["location"]["line"] == 10
    assert data["coverage"][0]["percent"] == 40.0


def test_junit_is_valid_xml_with_failures() -> None:
    result = run(f"{TESTS}/keycloak.yaml", f"{TESTS}/failing-example.yaml", "--format", "junit")
    assert result.exit_code == 1
    root = ET.fromstring(result.stdout)
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures")) == ("8", "1")
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    failing = suites[f"{TESTS}/failing-example.yaml"]
    assert failing.get("failures") == "1"
    failure = failing.find("testcase/failure")
    assert failure is not None
    assert failure.get("message") == "expected allow, got deny [policy.model_not_allowed] as internal_user"
    assert "✗ decision" in (failure.text or "")


CASE = "    claims: {sub: a}\n    model: gpt-4o\n    expect: allow\n"


@pytest.mark.parametrize(("text", "where", "message"), [
    ("cases:\n  - name: x\n    claim: {}\n    expect: allow\n    model: m\n", ":3:", "unknown key 'claim' in case 1"),
    ("cases:\n  - name: x\n    claims: {}\n    model: m\n    expect: maybe\n", ":5:", "'expect' must be allow or deny"),
    ("cases:\n  - claims: {}\n    model: m\n    expect: allow\n", ":2:", "case 1 needs a 'name'"),
    ("cases:\n  - name: x\n    claims: {}\n    token: t.jwt\n    model: m\n    expect: allow\n", ":2:",
     "needs exactly one of 'claims' and 'token'"),
    ("cases:\n  - name: x\n    claims: {}\n    expect: deny\n", ":2:", "needs a 'model' and/or a 'route'"),
    ("cases:\n  - name: x\n    claims: [a]\n    model: m\n    expect: deny\n", ":3:", "'claims' must be a mapping"),
    ("cases: [\n", ":2:", "not valid YAML"),
    ("config: x.yaml\n", ":1:", "needs a non-empty 'cases' list"),
    ("cases:\n  - just a string\n", ":2:", "case 1 must be a mapping"),
    ("cases: []\nextra: 1\n", ":2:", "unknown key 'extra' in the test file"),
], ids=["unknown-key", "bad-expect", "no-name", "claims-and-token", "no-request", "claims-not-mapping",
        "not-yaml", "no-cases", "case-not-mapping", "unknown-file-key"])
def test_bad_test_file_exits_2_with_line(tmp_path: Path, text: str, where: str, message: str) -> None:
    path = write(tmp_path, text)
    result = run(path, "--config", "sample_configs/keycloak.yaml")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"error: {path}{where}" in result.stderr
    assert message in result.stderr


def test_did_you_mean_for_a_typo(tmp_path: Path) -> None:
    path = write(tmp_path, "cases:\n  - name: x\n    claims: {}\n    model: m\n    expcet: allow\n")
    result = run(path, "--config", "sample_configs/keycloak.yaml")
    assert result.exit_code == 2
    assert "did you mean 'expect'?" in result.stderr


def test_config_option_overrides_and_is_required(tmp_path: Path) -> None:
    path = write(tmp_path, "cases:\n  - name: x\n" + CASE)
    result = run(path)
    assert result.exit_code == 2
    assert "the test file names no config" in result.stderr
    result = run(path, "--config", "sample_configs/azure-ad.yaml")
    assert result.exit_code == 1
    assert "actual:   deny [policy.no_role]" in result.stdout


def test_role_and_reason_expectations(tmp_path: Path) -> None:
    text = ("config: " + str(Path("sample_configs/keycloak.yaml").resolve()) + "\ncases:\n"
            "  - name: wrong role\n    claims: {scope: litellm_proxy_admin}\n    model: gpt-4o\n"
            "    expect: allow\n    role: team\n"
            "  - name: wrong reason\n    claims: {}\n    model: gpt-4o\n    expect: deny\n"
            "    reason: policy.model_not_allowed\n")
    data = json.loads(run(write(tmp_path, text), "--format", "json").stdout)
    assert [c["mismatches"] for c in data["cases"]] == [["role"], ["reason"]]


SCOPED = """\
model_list:
  - {model_name: m1, litellm_params: {model: openai/m1}}
  - {model_name: m2, litellm_params: {model: openai/m2}}
general_settings:
  litellm_jwtauth:
    enforce_scope_based_access: true
    scope_mappings:
      - {scope: read.m1, models: [m1]}
      - {scope: read.m2, models: [m2]}
"""


def test_scope_mapping_coverage(tmp_path: Path) -> None:
    config = write(tmp_path, SCOPED, "c.yaml")
    tests = write(tmp_path, "config: c.yaml\ncases:\n  - name: m1 by scope\n    claims: {scope: read.m1}\n"
                  "    model: m1\n    expect: allow\n")
    result = run(tests, "--format", "json")
    assert result.exit_code == 0, result.stdout
    cov = json.loads(result.stdout)["coverage"][0]
    assert cov["config"] == config
    assert (cov["covered"], cov["total"]) == (1, 2)
    assert [u["label"] for u in cov["uncovered"]] == ["read.m2"]


def test_bad_format_exits_2() -> None:
    result = run(f"{TESTS}/keycloak.yaml", "--format", "tap")
    assert result.exit_code == 2
    assert "--format 'tap' is not one of text, json, junit" in result.stderr


def test_a_gateway_config_given_as_a_test_file_is_named_so() -> None:
    result = run("sample_configs/keycloak.yaml")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("error: sample_configs/keycloak.yaml:4:1: this looks like a gateway config "
                                    "(top-level 'model_list'), not a policy test file [test.invalid_file]")
    assert "  hint: run 'jwtgate lint sample_configs/keycloak.yaml'" in result.stderr


def test_a_case_can_expect_serves_upstream_scope_refusal(tmp_path: Path) -> None:
    user = "{resource_access: {litellm: {roles: [litellm-user]}}}"
    cases = f"""\
config: {Path('sample_configs/keycloak.yaml').resolve()}
cases:
  - name: a user may not list keys through jwtgate's shared upstream credential
    claims: {user}
    route: /key/list
    expect: deny
    reason: policy.upstream_scope
  - name: its model info is answered by jwtgate
    claims: {user}
    route: /model/info
    expect: allow
  - name: this one is wrong on purpose
    claims: {user}
    route: /user/info
    expect: allow
"""
    result = run(write(tmp_path, cases))
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert "  actual:   deny [policy.upstream_scope] as internal_user" in lines
    assert any(x.startswith("    ✗ forwarding  refused: /user/info (user route)") for x in lines)
    assert lines[-1] == "2 passed, 1 failed"
