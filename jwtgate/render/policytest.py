"""Text, JSON and JUnit XML for ``jwtgate test``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jwtgate.policy.cases import CaseResult
from jwtgate.policy.coverage import Coverage
from jwtgate.render.decision import decision_to_json, location_to_json, trace_lines
from jwtgate.render.explain import line_of


def _expected(r: CaseResult) -> str:
    c = r.case
    out = "allow" if c.expect_allow else "deny"
    if c.reason:
        out += f" [{c.reason}]"
    if c.role:
        out += f" as {c.role}"
    return out


def _actual(r: CaseResult) -> str:
    d = r.decision
    out = "allow" if d.allowed else "deny"
    if d.reason is not None:
        out += f" [{d.reason.code}]"
    return out + (f" as {d.role}" if d.role else " (no role)")


def failure_text(r: CaseResult) -> list[str]:
    """The lines for one failing case: expected vs actual, the reason and the trace."""
    c = r.case
    what = f"model '{c.request.model}' on {c.request.route}" if c.request.model else c.request.route
    lines = [f"FAIL {line_of(c.location)} {c.name}",
             f"  request:  {what}",
             f"  expected: {_expected(r)}",
             f"  actual:   {_actual(r)}"]
    if r.decision.reason is not None:
        where = f"  [{line_of(r.decision.reason.location)}]" if r.decision.reason.location else ""
        lines.append(f"  reason:   {r.decision.reason.message}{where}")
    lines.append("  trace:")
    lines.extend(trace_lines(r.decision.steps, r.decision.notes, indent="    "))
    return lines


def coverage_text(cov: Coverage) -> list[str]:
    lines = [f"coverage of {cov.config}: {len(cov.covered)}/{len(cov.entries)} entries ({cov.percent:.0f}%)"]
    lines.extend(f"  not exercised: {line_of(e.location)} {e.name}" + (f" - unreachable: {e.unreachable}"
                 if e.unreachable else "") for e in cov.uncovered)
    return lines


def summary(results: Sequence[CaseResult]) -> str:
    passed = sum(r.passed for r in results)
    return f"{passed} passed, {len(results) - passed} failed"


def text(results: Sequence[CaseResult], coverages: Sequence[Coverage]) -> str:
    lines: list[str] = []
    for r in results:
        if not r.passed:
            lines.extend(failure_text(r))
    for cov in coverages:
        lines.extend(coverage_text(cov))
    lines.append(summary(results))
    return "\n".join(lines) + "\n"


def _coverage_json(cov: Coverage) -> dict[str, Any]:
    return {"config": cov.config, "covered": len(cov.covered), "total": len(cov.entries),
            "percent": round(cov.percent, 1),
            "uncovered": [{"kind": e.kind, "index": e.index, "label": e.label, "location": location_to_json(e.location),
                           "unreachable": e.unreachable}
                          for e in cov.uncovered]}


def as_json(results: Sequence[CaseResult], coverages: Sequence[Coverage]) -> dict[str, Any]:
    passed = sum(r.passed for r in results)
    return {"passed": passed, "failed": len(results) - passed,
            "cases": [{"name": r.case.name, "location": location_to_json(r.case.location), "config": r.config,
                       "passed": r.passed, "mismatches": list(r.mismatches),
                       "request": {"model": r.case.request.model, "route": r.case.request.route},
                       "expected": {"decision": "allow" if r.case.expect_allow else "deny",
                                    "reason": r.case.reason, "role": r.case.role},
                       "actual": decision_to_json(r.decision)} for r in results],
            "coverage": [_coverage_json(c) for c in coverages]}


def junit(results: Sequence[CaseResult]) -> str:
    """JUnit XML: a testsuite per test file, a testcase per case, a failure with the trace."""
    import xml.etree.ElementTree as ET

    root = ET.Element("testsuites", name="jwtgate test", tests=str(len(results)),
                      failures=str(sum(not r.passed for r in results)))
    suites: dict[str, ET.Element] = {}
    for r in results:
        file = r.case.location.file
        suite = suites.get(file)
        if suite is None:
            suite = suites[file] = ET.SubElement(root, "testsuite", name=file, tests="0", failures="0")
        suite.set("tests", str(int(suite.get("tests", "0")) + 1))
        case = ET.SubElement(suite, "testcase", name=r.case.name, classname=file, file=file,
                             line=str(r.case.location.line))
        if not r.passed:
            suite.set("failures", str(int(suite.get("failures", "0")) + 1))
            fail = ET.SubElement(case, "failure", type=",".join(r.mismatches),
                                 message=f"expected {_expected(r)}, got {_actual(r)}")
            fail.text = "\n".join(failure_text(r))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
