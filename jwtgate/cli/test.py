"""``jwtgate test``: run YAML policy test files against a config."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import typer

from jwtgate.cli.options import check_format, dump_json, load_config
from jwtgate.errors import UsageError

if TYPE_CHECKING:
    from jwtgate.model import Decision, Policy, Request
    from jwtgate.policy.cases import TokenDecider


def test(
    files: list[str] = typer.Argument(..., metavar="FILE...", help="YAML test files."),
    config: str | None = typer.Option(None, "--config", "-c", help="Config to test (overrides the files' "
                                      "'config:')."),
    fmt: str = typer.Option("text", "--format", "-f", help="text, json or junit."),
    min_coverage: str | None = typer.Option(None, "--min-coverage", metavar="PERCENT",
                                            help="Fail when fewer than PERCENT of role_permissions/role_mappings/"
                                            "scope_mappings entries are exercised: a percentage from 0 to 100 "
                                            "('90' or '90%'; a fraction such as 0.9 is refused)."),
) -> None:
    """Run table-driven policy tests; print failing cases, coverage and 'N passed, N failed'.

    Exit codes: 0 all passed, 1 a case failed or coverage is below --min-coverage, 2 bad test file.
    """
    from jwtgate.model import Location
    from jwtgate.policy.cases import CaseResult, load_test_file, run_case
    from jwtgate.policy.coverage import coverage
    from jwtgate.render import policytest as R

    check_format(fmt, ("text", "json", "junit"))
    minimum = parse_percent(min_coverage) if min_coverage is not None else None
    loaded = [load_test_file(f) for f in files]
    policies: dict[str, Policy] = {}
    results: list[CaseResult] = []
    for tf in loaded:
        path = config or tf.config
        if path is None:
            raise UsageError("the test file names no config", location=Location(tf.path, 1, 1),
                             hint="add 'config: <path>' to the file or pass --config")
        path = os.path.normpath(path)
        policy = policies.get(path) or policies.setdefault(path, load_config(path))
        results.extend(run_case(policy, case, tf.keys, _token_decider()) for case in tf.cases)
    covs = [coverage(p, [r.decision for r in results if r.config == p.file]) for p in policies.values()]
    if fmt == "json":
        dump_json(R.as_json(results, covs))
    elif fmt == "junit":
        typer.echo(R.junit(results), nl=False)
    else:
        typer.echo(R.text(results, covs), nl=False)
    low = [c for c in covs if minimum is not None and c.percent < minimum]
    for c in low:
        typer.echo(f"error: coverage of {c.config} is {c.percent:.0f}%, below --min-coverage {minimum:g}%",
                   err=True)
    raise typer.Exit(1 if low or not all(r.passed for r in results) else 0)


def parse_percent(text: str) -> float:
    """``--min-coverage``: ``90`` or ``90%`` -> 90.0; outside 0-100 or a fraction in (0, 1] is a UsageError."""
    import math

    raw = text.strip().removesuffix("%").strip()
    try:
        value = float(raw)
    except ValueError:
        raise UsageError(f"--min-coverage must be a percentage such as 90 or 90%, not {text!r}") from None
    if not math.isfinite(value) or not 0 <= value <= 100:
        raise UsageError(f"--min-coverage must be between 0 and 100, not {text!r}")
    if 0 < value <= 1 and not text.strip().endswith("%"):
        raise UsageError(f"--min-coverage {text} looks like a fraction; it is a percentage from 0 to 100",
                         hint=f"did you mean {value * 100:g} for {value:g}? (write {raw}% for {value:g} percent)")
    return value


def _token_decider() -> TokenDecider:
    """Token cases: the same check as check-token, the file's ``jwks:`` as the key source."""
    from jwtgate.cli.check_token import run_check

    def decide_case(policy: Policy, token: str, keys: str | None, request: Request, now: float | None) -> Decision:
        return run_check(policy, token, request, sources=[keys] if keys else [], now=now).decision

    return decide_case
