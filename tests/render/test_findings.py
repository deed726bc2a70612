"""Findings rendered as text, JSON, SARIF 2.1.0 (validated against the official schema) and GitHub lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from jwtgate.lint.registry import RULES
from jwtgate.model import Finding, Location, Suppressed
from jwtgate.render import findings as render

SCHEMA = Path(__file__).parents[1] / "data" / "sarif-schema-2.1.0.json"

FINDINGS = [
    Finding("JG301", "warning", "environment variable X is not set", Location("b.yaml", 3, 1)),
    Finding("JG104", "error", "model 'gpt4o' in role_permissions is not in model_list",
            Location("a.yaml", 14, 9), "did you mean 'gpt-4o'?"),
    Finding("JG206", "info", "line one\nline two, 100% odd: yes", Location("dir with space/c.yaml", 2, 5)),
    Finding("JG001", "error", "YAML syntax error", Location("<stdin>", 1, 1)),
]


def test_text_is_sorted_with_hints() -> None:
    assert render.render_text(FINDINGS).splitlines() == [
        "<stdin>:1:1: JG001 error: YAML syntax error",
        "a.yaml:14:9: JG104 error: model 'gpt4o' in role_permissions is not in model_list "
        "(did you mean 'gpt-4o'?)",
        "b.yaml:3:1: JG301 warning: environment variable X is not set",
        "dir with space/c.yaml:2:5: JG206 info: line one",
        "line two, 100% odd: yes",
    ]
    assert render.render_text([]) == ""


def test_summary_line() -> None:
    assert render.summary_line(FINDINGS, 3) == "2 errors, 1 warning, 1 info in 3 files"
    assert render.summary_line([], 1) == "0 errors, 0 warnings, 0 info in 1 file"


def test_json_has_stable_shape_and_counts() -> None:
    doc = json.loads(render.render_json(FINDINGS))
    assert doc["counts"] == {"error": 2, "warning": 1, "info": 1, "total": 4}
    assert doc["findings"][1] == {
        "code": "JG104", "severity": "error",
        "message": "model 'gpt4o' in role_permissions is not in model_list",
        "file": "a.yaml", "line": 14, "column": 9, "hint": "did you mean 'gpt-4o'?",
    }
    assert [f["file"] for f in doc["findings"]] == ["<stdin>", "a.yaml", "b.yaml", "dir with space/c.yaml"]


def _validate_sarif(text: str) -> dict[str, Any]:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    doc: dict[str, Any] = json.loads(text)
    jsonschema.Draft4Validator(schema).validate(doc)
    return doc


@pytest.mark.parametrize("findings", [FINDINGS, []], ids=["findings", "clean"])
def test_sarif_validates_against_official_schema(findings: list[Finding]) -> None:
    doc = _validate_sarif(render.render_sarif(findings, RULES))
    run = doc["runs"][0]
    assert doc["version"] == "2.1.0"
    assert run["tool"]["driver"]["name"] == "jwtgate"
    assert len(run["results"]) == len(findings)


def test_sarif_results_point_at_rules_and_places() -> None:
    doc = _validate_sarif(render.render_sarif(FINDINGS, RULES))
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    results = {r["ruleId"]: r for r in doc["runs"][0]["results"]}
    jg104 = results["JG104"]
    assert rules[jg104["ruleIndex"]]["id"] == "JG104"
    assert jg104["level"] == "error" and results["JG206"]["level"] == "note"
    assert jg104["message"]["text"].endswith("(did you mean 'gpt-4o'?)")
    place = jg104["locations"][0]["physicalLocation"]
    assert place == {"artifactLocation": {"uri": "a.yaml"}, "region": {"startLine": 14, "startColumn": 9}}
    spaced = results["JG206"]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert spaced == "dir%20with%20space/c.yaml"


def test_sarif_schema_is_the_official_one() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert schema["id"].startswith("https://docs.oasis-open.org/sarif/sarif/v2.1.0/")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(schema).validate({"version": "2.1.0", "runs": [{"results": []}]})


def test_github_annotations() -> None:
    lines = render.render_github(FINDINGS).splitlines()
    assert lines[0] == "::error file=<stdin>,line=1,col=1,title=JG001::YAML syntax error"
    assert lines[1] == ("::error file=a.yaml,line=14,col=9,title=JG104::model 'gpt4o' in role_permissions is "
                        "not in model_list (did you mean 'gpt-4o'?)")
    assert lines[2].startswith("::warning file=b.yaml,line=3,col=1,title=JG301::")
    assert lines[3] == ("::notice file=dir with space/c.yaml,line=2,col=5,title=JG206::"
                        "line one%0Aline two, 100%25 odd: yes")
    assert render.render_github([]) == ""


def test_github_escapes_property_separators() -> None:
    f = Finding("JG101", "error", "m", Location("a,b:c.yaml", 1, 2))
    assert render.github_line(f) == "::error file=a%2Cb%3Ac.yaml,line=1,col=2,title=JG101::m"


def test_rule_listings() -> None:
    text = render.render_rules(RULES).splitlines()
    assert text[0] == "JG001  error    YAML syntax error"
    assert len(text) == len(RULES)
    listed = json.loads(render.render_rules_json(RULES))["rules"]
    assert [r["code"] for r in listed] == [r.code for r in RULES]


UNREADABLE = [render.FileError("gone.yaml", "no such file", "usage.invalid")]


def test_sarif_reports_unreadable_files_as_failed_execution() -> None:
    doc = _validate_sarif(render.render_sarif(FINDINGS, RULES, UNREADABLE))
    invocation = doc["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    note = invocation["toolExecutionNotifications"][0]
    assert (note["level"], note["message"]["text"]) == ("error", "no such file")
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "gone.yaml"


def test_json_and_github_report_unreadable_files() -> None:
    assert json.loads(render.render_json([], UNREADABLE))["errors"] == [
        {"file": "gone.yaml", "message": "no such file", "code": "usage.invalid", "line": None, "column": None}]
    assert render.render_github([], UNREADABLE) == "::error file=gone.yaml,title=usage.invalid::no such file"


SUPPRESSED = [
    Suppressed(Finding("JG201", "error", "role_permissions are never applied", Location("a.yaml", 9, 3)),
               "inSource", "staging keeps the table while RBAC is off", "comment", Location("a.yaml", 9, 22)),
    Suppressed(Finding("JG207", "warning", "role 'team' has models: []", Location("a.yaml", 20, 7)),
               "external", "jwtgate.lint.ignore lists JG207 (line 30)", "jwtgate.lint.ignore",
               Location("a.yaml", 30, 14)),
    Suppressed(Finding("JG213", "warning", "litellm_jwtauth unused", Location("a.yaml", 5, 3)),
               "external", "not selected by --select JG3", "--select"),
]


def test_sarif_suppressions_validate_and_carry_the_justification() -> None:
    doc = _validate_sarif(render.render_sarif(FINDINGS, RULES, (), SUPPRESSED))
    results = doc["runs"][0]["results"]
    assert len(results) == len(FINDINGS) + len(SUPPRESSED)
    marked = {r["ruleId"]: r["suppressions"] for r in results if "suppressions" in r}
    assert marked["JG201"] == [{"kind": "inSource", "status": "accepted",
                                "justification": "staging keeps the table while RBAC is off",
                                "location": {"physicalLocation": {"artifactLocation": {"uri": "a.yaml"},
                                                                  "region": {"startLine": 9, "startColumn": 22}}}}]
    assert marked["JG207"] == [{"kind": "external", "status": "accepted",
                                "justification": "jwtgate.lint.ignore lists JG207 (line 30)"}]
    assert marked["JG213"][0]["kind"] == "external"
    assert not any("suppressions" in r for r in results if r["ruleId"] in {"JG104", "JG001"})


def test_json_lists_what_was_suppressed_and_why() -> None:
    doc = json.loads(render.render_json([], (), SUPPRESSED))
    assert doc["counts"]["total"] == 0
    assert doc["suppressed"][0] == {
        "code": "JG201", "severity": "error", "message": "role_permissions are never applied", "file": "a.yaml",
        "line": 9, "column": 3, "hint": None, "kind": "inSource",
        "justification": "staging keeps the table while RBAC is off", "source": "comment",
        "suppression": {"file": "a.yaml", "line": 9, "column": 22}}
    assert doc["suppressed"][2]["suppression"] is None


def test_text_counts_suppressed_and_lists_them_when_asked() -> None:
    assert render.summary_line([], 1, 3) == "0 errors, 0 warnings, 0 info in 1 file; 3 suppressed (-v lists them)"
    assert render.summary_line([], 1, 3, listed=True) == "0 errors, 0 warnings, 0 info in 1 file; 3 suppressed"
    assert render.suppressed_lines(SUPPRESSED).splitlines() == [
        "suppressed: a.yaml:5:3: JG213 warning: litellm_jwtauth unused — not selected by --select JG3",
        "suppressed: a.yaml:9:3: JG201 error: role_permissions are never applied — staging keeps the table while "
        "RBAC is off (comment at line 9)",
        "suppressed: a.yaml:20:7: JG207 warning: role 'team' has models: [] — jwtgate.lint.ignore lists JG207 "
        "(line 30)",
    ]


def test_gitlab_code_quality_report() -> None:
    issues = json.loads(render.render_gitlab(FINDINGS))
    assert [set(i) for i in issues] == [{"description", "check_name", "fingerprint", "severity", "location"}] * 4
    jg104 = issues[1]
    assert jg104["description"] == ("JG104: model 'gpt4o' in role_permissions is not in model_list "
                                    "(did you mean 'gpt-4o'?)")
    assert (jg104["check_name"], jg104["severity"]) == ("JG104", "major")
    assert jg104["location"] == {"path": "a.yaml", "lines": {"begin": 14}}
    assert [i["severity"] for i in issues] == ["major", "major", "minor", "info"]
    assert len({i["fingerprint"] for i in issues}) == 4
    moved = Finding("JG104", "error", FINDINGS[1].message, Location("a.yaml", 40, 9), FINDINGS[1].hint)
    assert json.loads(render.render_gitlab([moved]))[0]["fingerprint"] == jg104["fingerprint"]
    twice = json.loads(render.render_gitlab([FINDINGS[1], moved]))
    assert twice[0]["fingerprint"] != twice[1]["fingerprint"]
    assert render.render_gitlab([]) == "[]"


def test_github_counts_suppressed_findings_in_one_notice() -> None:
    lines = render.render_github([], (), SUPPRESSED).splitlines()
    assert lines == ["::notice title=jwtgate lint::3 findings suppressed (jwtgate lint -v lists them with why)"]
