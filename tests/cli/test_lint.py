"""``jwtgate lint`` through the CLI: exit codes, formats, stdin, unreadable and odd files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result

from jwtgate.config import yaml_text as yamlio
from jwtgate.lint.registry import RULES
from tests.kit.cli import invoke

CLEAN = "sample_configs/keycloak.yaml"
BROKEN = "sample_configs/broken/unknown-model.yaml"
WARN_ONLY = "sample_configs/broken/roles.yaml"


def run(*args: str, stdin: str | bytes | None = None, env: dict[str, str] | None = None) -> Result:
    base = {"JWT_AUDIENCE": "", "JWT_ISSUER": "", "JWT_PUBLIC_KEY_URL": ""}
    return invoke(["lint", *args], input=stdin, env={**base, **(env or {})})


def test_clean_file_prints_nothing() -> None:
    result = run(CLEAN)
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "")


def test_verbose_prints_summary_on_clean_file() -> None:
    result = run(CLEAN, "--verbose")
    assert result.exit_code == 0 and result.stdout == ""
    assert result.stderr == "0 errors, 0 warnings, 0 info in 1 file\n"


def test_errors_exit_1_with_sorted_lines_and_summary_on_stderr() -> None:
    result = run(BROKEN)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{BROKEN}:19:16: JG104 error: model 'gpt4o' in role_permissions is not in model_list "
        "(did you mean 'gpt-4o'?)",
        f"{BROKEN}:20:7: JG105 error: role 'internal_user' is listed twice in role_permissions (first at "
        "line 18) (merge the entries; LiteLLM uses only the first)",
    ]
    assert result.stderr == "2 errors, 0 warnings, 0 info in 1 file\n"


def test_warnings_pass_unless_strict() -> None:
    assert run(WARN_ONLY).exit_code == 0
    strict = run(WARN_ONLY, "--strict")
    assert strict.exit_code == 1
    assert "JG208 warning" in strict.stdout


def test_json_format() -> None:
    result = run(BROKEN, CLEAN, "--format", "json")
    assert result.exit_code == 1 and result.stderr == ""
    doc = json.loads(result.stdout)
    assert doc["counts"] == {"error": 2, "warning": 0, "info": 0, "total": 2}
    places = {(f["code"], f["line"], f["column"]) for f in doc["findings"]}
    assert places == {("JG104", 19, 16), ("JG105", 20, 7)}


def test_json_on_clean_file_is_still_json() -> None:
    result = run(CLEAN, "-f", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"findings": [], "counts": {"error": 0, "warning": 0, "info": 0,
                                                                    "total": 0}, "errors": [], "suppressed": []}


def test_sarif_format() -> None:
    result = run(BROKEN, "--format", "sarif")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert [r["ruleId"] for r in doc["runs"][0]["results"]] == ["JG104", "JG105"]


def test_github_format() -> None:
    result = run(BROKEN, "--format", "github")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0].startswith(f"::error file={BROKEN},line=19,col=16,title=JG104::")


def test_unknown_format_is_misuse() -> None:
    result = run(CLEAN, "--format", "xml")
    assert result.exit_code == 2 and result.stdout == ""
    assert "xml" in result.stderr


def test_no_path_is_misuse() -> None:
    result = run()
    assert result.exit_code == 2
    assert result.stderr.startswith("error: no config given")


def test_list_rules() -> None:
    result = run("--list-rules")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == len(RULES) and lines[0].startswith("JG001  error")
    as_json = json.loads(run("--list-rules", "--format", "json").stdout)
    assert len(as_json["rules"]) == len(RULES)


def test_stdin() -> None:
    text = Path(BROKEN).read_text(encoding="utf-8")
    result = run("-", stdin=text)
    assert result.exit_code == 1
    assert result.stdout.startswith("<stdin>:19:16: JG104 error:")


def test_yaml_syntax_error_is_a_finding() -> None:
    result = run("-", stdin="general_settings:\n  enable_jwt_auth: [true\n")
    assert result.exit_code == 1
    assert result.stdout.startswith("<stdin>:3:1: JG001 error: YAML syntax error")
    assert "Traceback" not in result.stderr


def test_missing_file_exits_2_but_lints_the_others(tmp_path: Path) -> None:
    result = run(str(tmp_path / "nope.yaml"), BROKEN)
    assert result.exit_code == 2
    assert "nope.yaml: no such file" in result.stderr
    assert "JG104" in result.stdout


def test_directory_is_unreadable(tmp_path: Path) -> None:
    result = run(str(tmp_path))
    assert result.exit_code == 2
    assert "is a directory" in result.stderr


def test_binary_garbage_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "garbage.yaml"
    path.write_bytes(bytes(range(256)) * 4)
    result = run(str(path))
    assert (result.exit_code, result.stdout) == (2, "")
    assert "binary data" in result.stderr


def test_non_utf8_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("general_settings: {x: 'caf\u00e9'}\n".encode("latin-1"))
    result = run(str(path))
    assert result.exit_code == 2
    assert "not UTF-8" in result.stderr


def test_empty_file_is_a_finding(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("", encoding="utf-8")
    result = run(str(path))
    assert result.exit_code == 1
    assert result.stdout.startswith(f"{path}:1:1: JG003 error: the config is empty")


def test_huge_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlio, "MAX_CONFIG_BYTES", 1024)
    path = tmp_path / "huge.yaml"
    path.write_text("model_list:\n" + "  - model_name: m\n" * 200, encoding="utf-8")
    result = run(str(path))
    assert result.exit_code == 2
    assert "larger than" in result.stderr


def test_large_config_lints(tmp_path: Path) -> None:
    entry = "  - model_name: m{0}\n    litellm_params: {{model: openai/m{0}}}\n"
    entries = "".join(entry.format(i) for i in range(2000))
    path = tmp_path / "large.yaml"
    path.write_text("model_list:\n" + entries + "general_settings:\n  enforce_rbac: true\n", encoding="utf-8")
    result = run(str(path))
    assert result.exit_code == 0
    assert result.stdout.startswith(f"{path}:4003:3: JG202 warning: general_settings.enforce_rbac only")
    assert result.stdout.count("\n") == 1


def test_environment_is_read(tmp_path: Path) -> None:
    env_audience = {"JWT_AUDIENCE": "litellm", "JWT_PUBLIC_KEY_URL": "https://idp.example.com/jwks"}
    assert run("sample_configs/broken/no-audience.yaml").exit_code == 1
    result = run("sample_configs/broken/no-audience.yaml", env=env_audience)
    assert (result.exit_code, result.stdout) == (0, "")


def _unreadable_in(fmt: str, out: str) -> list[str]:
    if fmt == "json":
        return [e["file"] + ": " + e["message"] for e in json.loads(out)["errors"]]
    if fmt == "sarif":
        invocation = json.loads(out)["runs"][0]["invocations"][0]
        assert invocation["executionSuccessful"] is False
        return [n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] + ": " + n["message"]["text"]
                for n in invocation["toolExecutionNotifications"] if n["level"] == "error"]
    return [line for line in out.splitlines() if line.startswith("::error file=") and "title=JG" not in line]


@pytest.mark.parametrize("fmt", ["json", "sarif", "github"])
def test_machine_formats_report_an_unreadable_file(fmt: str, tmp_path: Path) -> None:
    missing = (tmp_path / "nope.yaml").as_posix()
    result = run(missing, CLEAN, "--format", fmt)
    assert result.exit_code == 2
    reported = _unreadable_in(fmt, result.stdout)
    assert len(reported) == 1
    assert "nope.yaml" in reported[0] and "no such file" in reported[0]


SUPPRESSED_TEXT = Path(BROKEN).read_text(encoding="utf-8").replace(
    '      models: ["gpt4o", "gpt-4o-mini"]\n',
    '      models: ["gpt4o", "gpt-4o-mini"]  # jwtgate: ignore[JG104] until=2027-03-31 renamed next sprint\n')


def test_a_suppressed_finding_is_counted_and_listed_with_verbose() -> None:
    result = run("-", stdin=SUPPRESSED_TEXT)
    assert result.exit_code == 1
    assert [line.split(": ")[1] for line in result.stdout.splitlines()] == ["JG105 error"]
    assert result.stderr == "1 error, 0 warnings, 0 info in 1 file; 1 suppressed (-v lists them)\n"
    verbose = run("-", "-v", stdin=SUPPRESSED_TEXT)
    assert verbose.stderr.splitlines()[1] == (
        "suppressed: <stdin>:19:16: JG104 error: model 'gpt4o' in role_permissions is not in model_list (did you "
        "mean 'gpt-4o'?) — renamed next sprint (comment at line 19)")


def test_now_decides_when_a_suppression_has_expired() -> None:
    assert "JG104" not in run("-", "--now", "2027-03-31T23:00:00Z", stdin=SUPPRESSED_TEXT).stdout
    late = run("-", "--now", "2027-04-01", stdin=SUPPRESSED_TEXT)
    assert "expired on 2027-03-31: renamed next sprint]" in late.stdout


def test_select_ignore_and_severity_options() -> None:
    assert [line.split(": ")[1] for line in run(BROKEN, "--select", "JG105").stdout.splitlines()] == ["JG105 error"]
    ignored = run(BROKEN, "--ignore", "JG104,JG105")
    assert (ignored.exit_code, ignored.stdout) == (0, "")
    assert ignored.stderr == "0 errors, 0 warnings, 0 info in 1 file; 2 suppressed (-v lists them)\n"
    regraded = run(BROKEN, "--severity", "JG104=warning", "--severity", "JG105=info")
    assert regraded.exit_code == 0
    assert "JG104 warning:" in regraded.stdout and "JG105 info:" in regraded.stdout
    assert run(BROKEN, "--severity", "JG104=warning", "--severity", "JG105=info", "--strict").exit_code == 1


def test_security_rules_cannot_be_quieted_from_the_command_line() -> None:
    result = run("sample_configs/broken/no-audience.yaml", "--ignore", "JG302")
    assert (result.exit_code, result.stdout) == (2, "")
    assert "quieted only with a reason on record" in result.stderr


def test_sarif_marks_suppressed_results() -> None:
    doc = json.loads(run("-", "--format", "sarif", stdin=SUPPRESSED_TEXT).stdout)
    suppressed = [r for r in doc["runs"][0]["results"] if r.get("suppressions")]
    assert [(r["ruleId"], r["suppressions"][0]["justification"]) for r in suppressed] == [
        ("JG104", "renamed next sprint")]


def test_gitlab_format() -> None:
    result = run(BROKEN, "--format", "gitlab")
    assert result.exit_code == 1
    issues = json.loads(result.stdout)
    assert [(i["check_name"], i["location"]["path"], i["location"]["lines"]["begin"]) for i in issues] == [
        ("JG104", BROKEN, 19), ("JG105", BROKEN, 20)]
