"""``jwtgate lint PATH...``: find what makes a policy silently wrong, with its place in the file."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, cast

import typer

from jwtgate.cli.options import check_choice, check_format
from jwtgate.errors import JwtgateError, UsageError

if TYPE_CHECKING:
    from datetime import date

    from jwtgate.lint.base import ClaimSample
    from jwtgate.lint.settings import LintOptions
    from jwtgate.model import Finding, Severity, Suppressed
    from jwtgate.render.errors import FileError


LINT_FORMATS = ("text", "json", "sarif", "github", "gitlab")


PATHS_HELP = "Config files to lint; '-' reads standard input."
FORMAT_HELP = ("text (findings on stdout, summary on stderr), json, sarif (2.1.0), github (annotations) or "
               "gitlab (code quality report).")
CLAIMS_HELP = "A JSON file (or inline JSON object) of claims your IdP issues: every claim path must resolve."
TOKEN_HELP = "A token your IdP issued (itself, '-' or '@file'); only its claims are read, NOT verified."


def lint_command(
    paths: list[str] = typer.Argument(None, metavar="CONFIG...", help=PATHS_HELP, show_default=False),
    fmt: str = typer.Option("text", "--format", "-f", help=FORMAT_HELP),
    strict: bool = typer.Option(False, "--strict", help="Warnings fail too (exit 1)."),
    select: list[str] = typer.Option([], "--select", metavar="CODE", help="Report only these codes or "
                                     "prefixes (JG2); repeat or comma-separate."),
    ignore: list[str] = typer.Option([], "--ignore", metavar="CODE", help="Do not report these codes or "
                                     "prefixes (not JG3xx: those need a reason, in the config)."),
    severity: list[str] = typer.Option([], "--severity", metavar="CODE=LEVEL", help="Re-grade a rule: "
                                       "error, warning or info (JG3xx: only up)."),
    claims: list[str] = typer.Option([], "--claims", metavar="FILE", help=CLAIMS_HELP),
    tokens: list[str] = typer.Option([], "--token", metavar="TOKEN", help=TOKEN_HELP),
    now: str | None = typer.Option(None, "--now", metavar="TIME", help="Judge until= dates at TIME "
                                   "(ISO 8601 or epoch s; default: today, UTC)."),
    list_rules: bool = typer.Option(False, "--list-rules", help="Print every rule code and exit."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Print the summary even when clean, and "
                                 "list suppressed findings with why."),
) -> None:
    """Lint LiteLLM/jwtgate policy configs.

    Exit codes: 0 no errors (warnings allowed unless --strict), 1 failing findings, 2 unreadable file
    or misuse. Variables (os.environ/NAME, JWT_AUDIENCE, JWT_ISSUER, JWT_PUBLIC_KEY_URL) are read from
    this process's environment. Suppress a finding with '# jwtgate: ignore[CODE] reason' on its line or
    the line above (optionally 'until=YYYY-MM-DD'); project settings go under jwtgate.lint in the config.
    """
    import os

    from jwtgate.lint.registry import DEFAULT_SEVERITY, RULES
    from jwtgate.lint.settings import parse_options
    from jwtgate.render import findings as render

    check_format(fmt, LINT_FORMATS)
    if list_rules:
        typer.echo(render.render_rules_json(RULES) if fmt == "json" else render.render_rules(RULES))
        return
    if not paths:
        raise UsageError("no config given", hint="jwtgate lint CONFIG.yaml (or '-' for stdin)")
    options = parse_options(_split(select), _split(ignore), _levels(severity), DEFAULT_SEVERITY)
    samples = _samples(claims, tokens)
    findings, suppressed, unreadable = _lint_all(paths, dict(os.environ), options, samples, _today(now))
    _emit(findings, suppressed, unreadable, fmt, len(paths), verbose)
    failing = {"error", "warning"} if strict else {"error"}
    if unreadable:
        raise typer.Exit(2)
    if any(f.severity in failing for f in findings):
        raise typer.Exit(1)


def _split(values: list[str]) -> list[str]:
    return [v for value in values for v in value.split(",") if v.strip()]


def _levels(values: list[str]) -> list[tuple[str, Severity]]:
    """``--severity CODE=LEVEL`` -> (CODE, LEVEL); LEVEL is a choice, checked as every choice option is."""
    from jwtgate.config.schema import LINT_LEVELS

    pairs: list[tuple[str, Severity]] = []
    for item in _split(values):
        code, sep, level = item.partition("=")
        if not sep or not code.strip():
            raise UsageError(f"--severity {item!r} is not CODE=LEVEL", hint="e.g. --severity JG208=error")
        pairs.append((code, cast("Severity", check_choice("--severity level", level.strip().lower(), LINT_LEVELS))))
    return pairs


def _today(now: str | None) -> date:
    from datetime import UTC, datetime

    if now is None:
        return datetime.now(UTC).date()
    from jwtgate.timefmt import parse_instant

    return datetime.fromtimestamp(parse_instant(now), UTC).date()


def _samples(claims: list[str], tokens: list[str]) -> list[ClaimSample]:
    """``--claims`` files (or inline JSON) and ``--token`` tokens as claim samples."""
    from jwtgate.cli.options import read_claims
    from jwtgate.lint.base import ClaimSample

    inline = ("{", "[")
    out = [ClaimSample("--claims" if c.lstrip().startswith(inline) else c.removeprefix("@"),
                       read_claims(c if c.lstrip().startswith((*inline, "@")) else "@" + c)) for c in claims]
    out += [_token_sample(arg, i + 1) for i, arg in enumerate(tokens)]
    if tokens:
        typer.echo("note: --token: only the token's claims are read; its signature is NOT verified "
                   "(use check-token for that)", err=True)
    return out


def _token_sample(arg: str, number: int) -> ClaimSample:
    """A token's claims, unverified; named by its file or number and fingerprint, never the token."""
    from jwtgate.cli.token_arg import read_token_arg
    from jwtgate.lint.base import ClaimSample
    from jwtgate.tokens.compact import parse_token

    name = arg[1:] if arg.startswith("@") else f"--token #{number}"
    try:
        parsed = parse_token(read_token_arg(arg))
    except UsageError:
        raise
    except JwtgateError as err:  # a malformed token is bad input here (exit 2), not a refused token
        raise UsageError(f"{name}: {err.message}", hint=err.hint) from None
    return ClaimSample(f"{name} (fingerprint {parsed.fingerprint})", parsed.claims)


def _lint_all(paths: list[str], env: Mapping[str, str], options: LintOptions, samples: list[ClaimSample],
              today: date) -> tuple[list[Finding], list[Suppressed], list[FileError]]:
    """Lint every path; unreadable ones are reported on stderr and returned."""
    from jwtgate.cli.errors import fail
    from jwtgate.config.loader import load_policy
    from jwtgate.config.yaml_text import read_text
    from jwtgate.lint.registry import lint_report
    from jwtgate.render.errors import file_error

    findings: list[Finding] = []
    suppressed: list[Suppressed] = []
    unreadable: list[FileError] = []
    for path in paths:
        try:
            text, name = read_text(path)
        except JwtgateError as err:
            fail(err)
            unreadable.append(file_error(err))
            continue
        report = lint_report(load_policy(text, name, env), env, text=text, today=today, options=options,
                             samples=samples)
        findings.extend(report.findings)
        suppressed.extend(report.suppressed)
    return findings, suppressed, unreadable


def _emit(findings: list[Finding], suppressed: list[Suppressed], errors: list[FileError], fmt: str,
          files: int, verbose: bool) -> None:
    from jwtgate.lint.registry import RULES
    from jwtgate.render import findings as render

    if fmt == "json":
        typer.echo(render.render_json(findings, errors, suppressed))
    elif fmt == "sarif":
        typer.echo(render.render_sarif(findings, RULES, errors, suppressed))
    elif fmt == "gitlab":
        typer.echo(render.render_gitlab(findings))
    elif fmt == "github":
        if findings or errors or suppressed:
            typer.echo(render.render_github(findings, errors, suppressed))
    else:
        if findings:
            typer.echo(render.render_text(findings))
        if findings or suppressed or verbose:
            typer.echo(render.summary_line(findings, files, len(suppressed), listed=verbose), err=True)
        if suppressed and verbose:
            typer.echo(render.suppressed_lines(suppressed), err=True)
