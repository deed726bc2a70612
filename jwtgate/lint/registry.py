"""``lint_policy``: the loader's findings plus every semantic rule, and the rule registry (``RULES``).

Codes: JG0xx the file itself (JG010-JG014: lint's own suppressions and settings), JG1xx schema and
references, JG2xx traps (accepted by LiteLLM but not doing what they seem to), JG3xx security. Loader
rules are reported by config/loader.py while loading. ``lint_report`` adds what the team decided:
inline suppressions, ``jwtgate.lint`` settings and the command line's select/ignore/severity.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from jwtgate.config.loader import UNLOADABLE
from jwtgate.lint import differences, identity, references, samples, security, serving, traps
from jwtgate.lint.base import ClaimSample, LintContext, Rule
from jwtgate.lint.controls import Controls, LintReport, apply_controls
from jwtgate.lint.settings import LintOptions, config_controls
from jwtgate.lint.suppress import parse_suppressions
from jwtgate.model import Finding, Policy, Severity

LOADER_RULES = (
    Rule("JG001", "error", "YAML syntax error"),
    Rule("JG002", "error", "the top level is not a mapping"),
    Rule("JG003", "error", "the config is empty"),
    Rule("JG004", "error", "a duplicate key in a mapping (the later value would silently win)"),
    Rule("JG005", "error", "a jwtgate policy test file given as a config (run 'jwtgate test' on it)"),
    Rule("JG010", "warning", "a '# jwtgate: ignore[CODE]' comment without a reason (not applied)"),
    Rule("JG011", "warning", "a suppression comment that matches no finding (stale)"),
    Rule("JG012", "warning", "a malformed suppression comment: no [CODE], an unknown code, a bad until= date"),
    Rule("JG013", "error", "jwtgate.lint names an unknown rule code or level"),
    Rule("JG014", "warning", "jwtgate.lint ignores or downgrades a security rule (JG3xx) without a reason"),
    Rule("JG101", "error", "an unknown key (did-you-mean), e.g. 'model' for 'model_name' in model_list"),
    Rule("JG102", "error", "a value of the wrong type"),
    Rule("JG103", "error", "a value not allowed, e.g. a role outside proxy_admin, team, internal_user"),
    Rule("JG106", "error", "a required key is missing"),
    Rule("JG111", "warning", "a quoted boolean or number that LiteLLM (pydantic) converts; loaded converted"),
    Rule("JG112", "warning", "a key in general_settings or at the top level that looks like a typo"),
    Rule("JG301", "warning", "an os.environ/NAME value whose variable is not set"),
)

SEMANTIC_RULES: tuple[Rule, ...] = (*references.RULES, *samples.RULES, *traps.RULES, *security.RULES,
                                    *identity.RULES, *serving.RULES, *differences.RULES)

RULES: tuple[Rule, ...] = tuple(sorted((*LOADER_RULES, *SEMANTIC_RULES), key=lambda r: r.code))

RULES_BY_CODE: dict[str, Rule] = {r.code: r for r in RULES}
DEFAULT_SEVERITY: dict[str, Severity] = {r.code: r.severity for r in RULES}


def lint_policy(policy: Policy, env: Mapping[str, str], samples: Sequence[ClaimSample] = ()) -> list[Finding]:
    """Every finding for a loaded policy, sorted by place then code (no suppressions or settings applied)."""
    ctx = LintContext(policy, env, tuple(samples))
    findings = list(policy.findings)
    if not _unparsed(policy):
        for r in SEMANTIC_RULES:
            if r.check is not None:
                findings.extend(r.check(ctx))
    return sorted(set(findings), key=lambda f: (*f.sort_key(), f.message))


def lint_report(policy: Policy, env: Mapping[str, str], *, text: str, today: date,
                options: LintOptions = LintOptions(), samples: Sequence[ClaimSample] = ()) -> LintReport:
    """What ``jwtgate lint`` reports: the findings after the config's comments and ``jwtgate.lint`` settings
    and the command line's options, plus what was suppressed and why. ``text`` is the config's YAML text
    (comments are read from it); ``today`` decides whether an ``until=`` date has passed."""
    findings = lint_policy(policy, env, samples)
    if _unparsed(policy):
        return LintReport(tuple(findings), ())
    suppressions, comment_problems = parse_suppressions(text, policy.file, DEFAULT_SEVERITY)
    config, setting_problems = config_controls(policy, DEFAULT_SEVERITY)
    controls = Controls(tuple(config), options, tuple(suppressions), today, DEFAULT_SEVERITY)
    return apply_controls(findings, [*comment_problems, *setting_problems], controls)


def _unparsed(policy: Policy) -> bool:
    """True when the file could not be parsed at all (the semantic rules would only add noise)."""
    return any(f.code in UNLOADABLE for f in policy.findings)


def rules_table() -> str:
    """The README's Markdown table of every rule."""
    lines = ["| Code | Severity | What it finds |", "|---|---|---|"]
    lines += [f"| {r.code} | {r.severity} | {_cell(r.summary)} |" for r in RULES]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
