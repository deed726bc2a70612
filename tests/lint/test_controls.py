"""Inline suppressions, jwtgate.lint settings and select/ignore/severity: what a team sees in its report."""

from __future__ import annotations

from datetime import date

import pytest

from jwtgate.config.loader import load_policy
from jwtgate.errors import UsageError
from jwtgate.lint.controls import LintReport
from jwtgate.lint.registry import DEFAULT_SEVERITY, lint_report
from jwtgate.lint.settings import LintOptions, parse_options
from jwtgate.lint.suppress import comment_start
from jwtgate.model import Severity
from tests.lint.test_rules import BASE

TODAY = date(2026, 12, 1)

# BASE plus role_permissions without litellm_jwtauth.enforce_rbac (JG201, line 10); with JWT_PUBLIC_KEY_URL set,
# tokens of other issuers fall back to it without an audience (JG302, line 7).
CONFIG = BASE + "{comment}  role_permissions:{trailing}\n    - role: internal_user\n      models: [gpt-4o]\n"


def report(comment: str = "", trailing: str = "", extra: str = "", options: LintOptions = LintOptions(),
           today: date = TODAY) -> LintReport:
    text = CONFIG.replace("{comment}", comment).replace("{trailing}", trailing) + extra
    env = {"JWT_PUBLIC_KEY_URL": "https://idp.example.com/jwks"}
    return lint_report(load_policy(text, "c.yaml", env), env, text=text, today=today, options=options)


def codes(r: LintReport) -> list[tuple[str, int, str]]:
    return [(f.code, f.location.line, f.severity) for f in r.findings]


def test_without_controls_both_findings_are_reported() -> None:
    assert codes(report()) == [("JG302", 7, "error"), ("JG201", 10, "error")]


@pytest.mark.parametrize(("comment", "trailing"), [
    ("  # jwtgate: ignore[JG201] staging keeps the table while RBAC is off\n", ""),
    ("", "  # jwtgate: ignore[JG201] staging keeps the table while RBAC is off"),
    ("  # jwtgate: ignore[JG201, JG202] staging keeps the table while RBAC is off\n  # another comment\n", ""),
], ids=["line-above", "same-line", "two-codes-with-a-comment-between"])
def test_a_suppression_with_a_reason_hides_the_finding_and_says_why(comment: str, trailing: str) -> None:
    r = report(comment, trailing)
    assert [f.code for f in r.findings if f.code != "JG011"] == ["JG302"]
    (s,) = r.suppressed
    assert (s.finding.code, s.kind, s.justification) == ("JG201", "inSource",
                                                        "staging keeps the table while RBAC is off")
    assert s.location is not None and s.location.line == 10


def test_an_unused_code_in_a_suppression_is_stale() -> None:
    r = report("  # jwtgate: ignore[JG201, JG202] staging keeps the table\n")
    assert [(f.code, f.location.line) for f in r.findings] == [("JG302", 7), ("JG011", 10)]
    assert "suppression of JG202 matches no finding on line 11" in r.findings[1].message


def test_a_suppression_without_a_reason_is_its_own_finding_and_not_applied() -> None:
    r = report("", "  # jwtgate: ignore[JG201]")
    assert codes(r) == [("JG302", 7, "error"), ("JG201", 10, "error"), ("JG010", 10, "warning")]
    assert r.findings[2].message == "suppression of JG201 gives no reason, so it is not applied"
    assert r.suppressed == ()


def test_until_in_the_future_suppresses_and_the_date_is_not_part_of_the_reason() -> None:
    r = report("", "  # jwtgate: ignore[JG201] until=2027-03-31 staging only")
    assert [s.justification for s in r.suppressed] == ["staging only"]


def test_after_until_the_finding_is_back_and_says_the_suppression_expired() -> None:
    r = report("", "  # jwtgate: ignore[JG201] until=2026-11-30 staging only")
    assert r.suppressed == ()
    back = [f for f in r.findings if f.code == "JG201"]
    assert len(back) == 1 and back[0].severity == "error"
    assert back[0].message.endswith("[its suppression on line 10 expired on 2026-11-30: staging only]")
    assert report("", "  # jwtgate: ignore[JG201] until=2026-11-30 x", today=date(2026, 11, 30)).suppressed


def test_a_suppression_on_a_line_without_a_finding_is_stale() -> None:
    r = report(extra="  # jwtgate: ignore[JG104] left over from an old model name\n  enforce_rbac: false\n")
    stale = [f for f in r.findings if f.code == "JG011"]
    assert [(f.location.line, f.location.column) for f in stale] == [(13, 3)]
    assert stale[0].message == "suppression of JG104 matches no finding on line 14"


@pytest.mark.parametrize(("trailing", "message"), [
    ("  # jwtgate: ignore because reasons", "suppression comment without [CODE]: it suppresses nothing"),
    ("  # jwtgate: ignore[JG999] typo", "suppression comment names unknown rule code 'JG999': it suppresses "
                                       "nothing"),
    ("  # jwtgate: ignore[JG201] until=31.03.2027 staging", "suppression of JG201 has until='31.03.2027', "
                                                             "which is not a date: it suppresses nothing"),
], ids=["no-brackets", "unknown-code", "bad-date"])
def test_a_malformed_suppression_is_reported_and_suppresses_nothing(trailing: str, message: str) -> None:
    r = report("", trailing)
    assert [(f.code, f.message) for f in r.findings if f.code == "JG012"] == [("JG012", message)]
    assert "JG201" in {f.code for f in r.findings}


@pytest.mark.parametrize(("line", "start"), [
    ("key: value  # c", 12), ("key: 'a # not a comment'", None), ('key: "a # no \\" # still"', None),
    ("url: http://x/#frag", None), ("# top", 0), ("key: 'it''s' # c", 13),
])
def test_comments_are_found_outside_quotes_only(line: str, start: int | None) -> None:
    assert comment_start(line) == start


def test_a_suppression_inside_a_quoted_value_is_not_a_comment() -> None:
    r = report(extra="  ui_access_mode: 'all # jwtgate: ignore[JG201] quoted'\n")
    assert "JG201" in {f.code for f in r.findings} and r.suppressed == ()


SETTINGS = "jwtgate:\n  lint:\n"


def test_project_severity_regrades_a_rule() -> None:
    r = report(extra=SETTINGS + "    severity: {JG201: warning}\n")
    assert ("JG201", 10, "warning") in codes(r)


def test_security_rules_are_downgraded_only_with_a_reason() -> None:
    without = report(extra=SETTINGS + "    severity: {JG302: warning}\n")
    assert ("JG302", 7, "error") in codes(without)
    jg014 = [f for f in without.findings if f.code == "JG014"]
    assert [f.location.line for f in jg014] == [15]
    assert jg014[0].message == ("jwtgate.lint.severity downgrades to warning security rule JG302 without a reason, "
                                "so not for it")
    reason = "    severity:\n      JG302: {level: warning, reason: 'single-app IdP, audience checked upstream'}\n"
    assert ("JG302", 7, "warning") in codes(report(extra=SETTINGS + reason))
    assert ("JG302", 7, "error") in codes(report(extra=SETTINGS + "    severity: {JG302: error}\n"))


def test_project_ignore_is_an_external_suppression_but_not_for_security_rules() -> None:
    r = report(extra=SETTINGS + "    ignore: [JG2, JG302]\n")
    assert [f.code for f in r.findings] == ["JG302", "JG014"]
    assert [(s.finding.code, s.kind, s.justification) for s in r.suppressed] == [
        ("JG201", "external", "jwtgate.lint.ignore lists JG2 (line 15)")]


@pytest.mark.parametrize(("settings", "message"), [
    ("    ignore: [JG9999]\n", "jwtgate.lint.ignore names 'JG9999', which is not a rule code or prefix"),
    ("    severity: {JG201: loud}\n", "jwtgate.lint.severity.JG201 is 'loud', not a level"),
    ("    severity: {JG777: info}\n", "jwtgate.lint.severity names 'JG777', which is not a rule code or prefix"),
    ("    severity: {JG201: {level: info, why: x}}\n", "unknown key 'why' in jwtgate.lint.severity.JG201"),
], ids=["ignore-unknown-code", "bad-level", "severity-unknown-code", "unknown-key"])
def test_bad_settings_are_errors_at_their_line(settings: str, message: str) -> None:
    r = report(extra=SETTINGS + settings)
    assert [(f.code, f.severity, f.location.line, f.message) for f in r.findings if f.code == "JG013"] == [
        ("JG013", "error", 15, message)]


def test_an_unknown_key_under_jwtgate_lint_is_a_schema_error() -> None:
    r = report(extra=SETTINGS + "    ignored: [JG201]\n")
    assert ("JG101", 15, "error") in codes(r)


def test_select_and_ignore_from_the_command_line() -> None:
    selected = report(options=parse_options(["JG3"], [], [], DEFAULT_SEVERITY))
    assert [f.code for f in selected.findings] == ["JG302"]
    assert [(s.finding.code, s.justification) for s in selected.suppressed] == [
        ("JG201", "not selected by --select JG3")]
    ignored = report(options=parse_options([], ["jg201"], [], DEFAULT_SEVERITY))
    assert [f.code for f in ignored.findings] == ["JG302"]
    assert ignored.suppressed[0].justification == "--ignore lists JG201 on the command line"
    regraded = report(options=parse_options([], [], [("JG201", "info")], DEFAULT_SEVERITY))
    assert ("JG201", 10, "info") in codes(regraded)


def test_security_rules_may_be_raised_or_kept_from_the_command_line() -> None:
    options = parse_options([], [], [("JG3", "error"), ("JG301", "warning")], DEFAULT_SEVERITY)
    assert options.severity == (("JG3", "error"), ("JG301", "warning"))


def test_the_command_line_overrides_the_file() -> None:
    options = parse_options([], [], [("JG201", "error")], DEFAULT_SEVERITY)
    assert ("JG201", 10, "error") in codes(report(extra=SETTINGS + "    severity: {JG201: info}\n",
                                                 options=options))


@pytest.mark.parametrize(("select", "ignore", "severity", "message"), [
    ([], ["JG302"], [], "JG302 covers security rules (JG3xx), which are quieted only with a reason on record"),
    ([], ["JG"], [], "JG covers security rules (JG3xx), which are quieted only with a reason on record"),
    ([], [], [("JG304", "warning")], "JG304 covers security rules"),
    ([], [], [("JG3", "info")], "JG3 covers security rules"),
    (["JG9"], [], [], "--select 'JG9': not a rule code or prefix"),
    ([], ["E501"], [], "--ignore 'E501': not a rule code or prefix"),
], ids=["ignore-security", "ignore-all", "downgrade-security", "downgrade-prefix", "select-unknown",
        "ignore-foreign"])
def test_bad_command_line_controls_are_usage_errors(select: list[str], ignore: list[str],
                                                    severity: list[tuple[str, Severity]],
                                                    message: str) -> None:
    with pytest.raises(UsageError) as err:
        parse_options(select, ignore, severity, DEFAULT_SEVERITY)
    assert err.value.message.startswith(message)
