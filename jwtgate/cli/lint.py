"""``jwtgate lint PATH...``: find what makes a policy silently wrong, with its place in the file."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING

import typer

from jwtgate.errors import JwtgateError, UsageError

if TYPE_CHECKING:
    from jwtgate.model import Finding

if TYPE_CHECKING:
    from jwtgate.render.findings import FileError


class LintFormat(StrEnum):
    """Output formats of ``lint``."""

    text = "text"
    json = "json"
    sarif = "sarif"
    github = "github"


PATHS_HELP = "Config files to lint; '-' reads standard input."
FORMAT_HELP = "text (findings on stdout, summary on stderr), json, sarif (2.1.0) or github (annotations)."


def lint_command(
    paths: list[str] = typer.Argument(None, help=PATHS_HELP, show_default=False),
    fmt: LintFormat = typer.Option(LintFormat.text, "--format", "-f", help=FORMAT_HELP),
    strict: bool = typer.Option(False, "--strict", help="Warnings fail too (exit 1)."),
    list_rules: bool = typer.Option(False, "--list-rules", help="Print every rule code and exit."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Print the summary even when clean."),
) -> None:
    """Lint LiteLLM/jwtgate policy configs.

    Exit codes: 0 no errors (warnings allowed unless --strict), 1 failing findings, 2 unreadable file
    or misuse. Variables (os.environ/NAME, JWT_AUDIENCE, JWT_ISSUER, JWT_PUBLIC_KEY_URL) are read from
    this process's environment.
    """
    import os

    from jwtgate.lint.registry import RULES
    from jwtgate.render import findings as render

    if list_rules:
        typer.echo(render.render_rules_json(RULES) if fmt is LintFormat.json else render.render_rules(RULES))
        return
    if not paths:
        raise UsageError("no config given", hint="jwtgate lint CONFIG.yaml (or '-' for stdin)")
    findings, unreadable = _lint_all(paths, dict(os.environ))
    _emit(findings, unreadable, fmt, len(paths), verbose)
    failing = {"error", "warning"} if strict else {"error"}
    if unreadable:
        raise typer.Exit(2)
    if any(f.severity in failing for f in findings):
        raise typer.Exit(1)


def _lint_all(paths: list[str], env: Mapping[str, str]) -> tuple[list[Finding], list[FileError]]:
    """Lint every path; unreadable ones are reported on stderr and returned."""
    from jwtgate.cli.errors import fail
    from jwtgate.config.loader import load_policy
    from jwtgate.config.yaml_text import read_text
    from jwtgate.lint.registry import lint_policy
    from jwtgate.render.findings import FileError

    findings: list[Finding] = []
    unreadable: list[FileError] = []
    for path in paths:
        try:
            text, name = read_text(path)
        except JwtgateError as err:
            fail(err)
            message = err.message.removeprefix(f"{path}: ") + (f" ({err.hint})" if err.hint else "")
            unreadable.append(FileError(path, message, err.code))
            continue
        findings.extend(lint_policy(load_policy(text, name, env), env))
    return findings, unreadable


def _emit(findings: list[Finding], errors: list[FileError], fmt: LintFormat, files: int, verbose: bool) -> None:
    from jwtgate.lint.registry import RULES
    from jwtgate.render import findings as render

    if fmt is LintFormat.json:
        typer.echo(render.render_json(findings, errors))
    elif fmt is LintFormat.sarif:
        typer.echo(render.render_sarif(findings, RULES, errors))
    elif fmt is LintFormat.github:
        if findings or errors:
            typer.echo(render.render_github(findings, errors))
    else:
        if findings:
            typer.echo(render.render_text(findings))
        if findings or verbose:
            typer.echo(render.summary_line(findings, files), err=True)
