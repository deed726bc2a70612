"""Findings -> text, JSON, SARIF 2.1.0, GitHub workflow annotations and GitLab code quality. Pure.

Text: one line per finding, ``file:line:col: CODE severity: message (hint)``, sorted; the summary line
(``summary_line``) is meant for stderr so that stdout holds only findings. Suppressed findings are in
JSON (``suppressed``) and SARIF (``suppressions``); text counts them (``suppressed_lines`` lists them).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import PurePath
from typing import Any, Protocol
from urllib.parse import quote

from jwtgate import __version__
from jwtgate.model import Finding, Suppressed
from jwtgate.render.errors import FileError

SEVERITIES = ("error", "warning", "info")
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
GITHUB_COMMAND = {"error": "error", "warning": "warning", "info": "notice"}
GITLAB_SEVERITY = {"error": "major", "warning": "minor", "info": "info"}


class RuleInfo(Protocol):
    """What the renderers need of a rule (jwtgate.lint.base.Rule fits)."""

    @property
    def code(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def summary(self) -> str: ...


def _sorted(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (*f.sort_key(), f.message))


def counts(findings: Sequence[Finding]) -> dict[str, int]:
    """Number of findings per severity, plus the total."""
    out = {s: 0 for s in SEVERITIES}
    for f in findings:
        out[f.severity] += 1
    out["total"] = len(findings)
    return out


def text_line(f: Finding) -> str:
    """``file:line:col: CODE severity: message (hint)``."""
    hint = f" ({f.hint})" if f.hint else ""
    return f"{f.location}: {f.code} {f.severity}: {f.message}{hint}"


def render_text(findings: Sequence[Finding]) -> str:
    """All findings, sorted, one per line ('' when there are none)."""
    return "\n".join(text_line(f) for f in _sorted(findings))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def summary_line(findings: Sequence[Finding], files: int, suppressed: int = 0, listed: bool = False) -> str:
    """``2 errors, 1 warning, 0 info in 3 files`` (``; 1 suppressed`` when some were)."""
    c = counts(findings)
    line = (f"{_plural(c['error'], 'error')}, {_plural(c['warning'], 'warning')}, {c['info']} info "
            f"in {_plural(files, 'file')}")
    if suppressed:
        line += f"; {suppressed} suppressed" + ("" if listed else " (-v lists them)")
    return line


def suppressed_lines(suppressed: Sequence[Suppressed]) -> str:
    """``suppressed: file:line:col: CODE severity: message — why (comment at line 4)``, one per line."""
    out = []
    for s in sorted(suppressed, key=lambda s: (*s.finding.sort_key(), s.finding.message)):
        where = f" (comment at line {s.location.line})" if s.source == "comment" and s.location else ""
        out.append(f"suppressed: {text_line(s.finding)} — {s.justification}{where}")
    return "\n".join(out)


def finding_dict(f: Finding) -> dict[str, Any]:
    """The stable JSON shape of one finding."""
    return {"code": f.code, "severity": f.severity, "message": f.message, "file": f.location.file,
            "line": f.location.line, "column": f.location.column, "hint": f.hint}


def suppressed_dict(s: Suppressed) -> dict[str, Any]:
    """A suppressed finding in JSON: the finding, plus kind, justification, source and where it is written."""
    at = None if s.location is None else {"file": s.location.file, "line": s.location.line,
                                          "column": s.location.column}
    return {**finding_dict(s.finding), "kind": s.kind, "justification": s.justification, "source": s.source,
            "suppression": at}


def render_json(findings: Sequence[Finding], errors: Sequence[FileError] = (),
                suppressed: Sequence[Suppressed] = ()) -> str:
    """``{"findings": [...], "counts": {...}, "errors": [{file, message, code, line, column}], "suppressed": [...]}``
    (``errors``: files that could not be read, as every command's ``--format json`` error document)."""
    doc = {"findings": [finding_dict(f) for f in _sorted(findings)], "counts": counts(findings),
           "errors": [e._asdict() for e in errors], "suppressed": [suppressed_dict(s) for s in suppressed]}
    return json.dumps(doc, indent=2)


def _artifact_uri(file: str) -> str:
    if file == "<stdin>":
        return "stdin"
    return quote(PurePath(file).as_posix(), safe="/:._-~")


def _sarif_rule(rule: RuleInfo) -> dict[str, Any]:
    return {
        "id": rule.code,
        "shortDescription": {"text": rule.summary},
        "defaultConfiguration": {"level": SARIF_LEVEL.get(rule.severity, "warning")},
    }


def _sarif_result(f: Finding, index: dict[str, int]) -> dict[str, Any]:
    hint = f" ({f.hint})" if f.hint else ""
    result: dict[str, Any] = {
        "ruleId": f.code,
        "level": SARIF_LEVEL[f.severity],
        "message": {"text": f.message + hint},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": _artifact_uri(f.location.file)},
            "region": {"startLine": f.location.line, "startColumn": f.location.column},
        }}],
    }
    if f.code in index:
        result["ruleIndex"] = index[f.code]
    return result


def _sarif_notification(e: FileError) -> dict[str, Any]:
    where = [] if e.file is None else [{"physicalLocation": {"artifactLocation": {"uri": _artifact_uri(e.file)}}}]
    return {"level": "error", "message": {"text": e.message}, "descriptor": {"id": e.code}, "locations": where}


def _sarif_suppressed(s: Suppressed, index: dict[str, int]) -> dict[str, Any]:
    suppression: dict[str, Any] = {"kind": s.kind, "status": "accepted", "justification": s.justification}
    if s.location is not None and s.kind == "inSource":
        suppression["location"] = {"physicalLocation": {
            "artifactLocation": {"uri": _artifact_uri(s.location.file)},
            "region": {"startLine": s.location.line, "startColumn": s.location.column}}}
    return {**_sarif_result(s.finding, index), "suppressions": [suppression]}


def render_sarif(findings: Sequence[Finding], rules: Sequence[RuleInfo], errors: Sequence[FileError] = (),
                 suppressed: Sequence[Suppressed] = ()) -> str:
    """A SARIF 2.1.0 log with one run; every rule is listed so code scanning can show its summary.

    Unreadable files are tool execution notifications (level error) and make the invocation unsuccessful.
    Suppressed findings are results with ``suppressions`` (kind inSource or external, a justification).
    """
    index = {r.code: i for i, r in enumerate(rules)}
    driver = {"name": "jwtgate", "version": __version__, "rules": [_sarif_rule(r) for r in rules]}
    invocation = {"executionSuccessful": not errors,
                  "toolExecutionNotifications": [_sarif_notification(e) for e in errors]}
    run = {"tool": {"driver": driver}, "invocations": [invocation],
           "results": [*(_sarif_result(f, index) for f in _sorted(findings)),
                       *(_sarif_suppressed(s, index) for s in suppressed)]}
    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2)


def _gh_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(text: str) -> str:
    return _gh_data(text).replace(":", "%3A").replace(",", "%2C")


def github_line(f: Finding) -> str:
    """``::error file=…,line=…,col=…,title=JG104::message (hint)``."""
    hint = f" ({f.hint})" if f.hint else ""
    loc = f.location
    props = f"file={_gh_prop(loc.file)},line={loc.line},col={loc.column},title={_gh_prop(f.code)}"
    return f"::{GITHUB_COMMAND[f.severity]} {props}::{_gh_data(f.message + hint)}"


def render_github(findings: Sequence[Finding], errors: Sequence[FileError] = (),
                  suppressed: Sequence[Suppressed] = ()) -> str:
    """GitHub Actions workflow commands, one per unreadable file then one per finding ('' when none), and one
    notice counting the suppressed findings (annotating each would put them back on the pull request)."""
    lines = [f"::error {'' if e.file is None else f'file={_gh_prop(e.file)},'}title={_gh_prop(e.code)}::"
             f"{_gh_data(e.message)}" for e in errors]
    lines += [github_line(f) for f in _sorted(findings)]
    if suppressed:
        lines.append(f"::notice title=jwtgate lint::{_plural(len(suppressed), 'finding')} suppressed "
                     "(jwtgate lint -v lists them with why)")
    return "\n".join(lines)


def render_gitlab(findings: Sequence[Finding]) -> str:
    """GitLab code quality (a Code Climate JSON array): description, check_name, fingerprint, severity,
    location.path and location.lines.begin. The fingerprint leaves out the line, so a finding keeps its
    identity when lines above it move; equal findings in one file are told apart by a counter."""
    import hashlib

    seen: dict[str, int] = {}
    issues = []
    for f in _sorted(findings):
        base = f"{f.location.file}\0{f.code}\0{f.message}"
        seen[base] = seen.get(base, 0) + 1
        fingerprint = hashlib.sha256(f"{base}\0{seen[base]}".encode()).hexdigest()
        hint = f" ({f.hint})" if f.hint else ""
        issues.append({"description": f"{f.code}: {f.message}{hint}", "check_name": f.code,
                       "fingerprint": fingerprint, "severity": GITLAB_SEVERITY[f.severity],
                       "location": {"path": f.location.file, "lines": {"begin": f.location.line}}})
    return json.dumps(issues, indent=2)


def render_rules(rules: Sequence[RuleInfo]) -> str:
    """``--list-rules``: ``CODE  severity  summary`` per line."""
    return "\n".join(f"{r.code}  {r.severity:<7}  {r.summary}" for r in rules)


def render_rules_json(rules: Sequence[RuleInfo]) -> str:
    """``--list-rules --format json``."""
    return json.dumps({"rules": [{"code": r.code, "severity": r.severity, "summary": r.summary}
                                 for r in rules]}, indent=2)
