"""``jwtgate diff``: the effective access change between two configs."""

from __future__ import annotations

import typer

from jwtgate.cli.options import check_format, dump_json, load_config
from jwtgate.errors import UsageError


def diff(
    old: str = typer.Argument(..., help="The config before the change."),
    new: str = typer.Argument(..., help="The config after the change."),
    fmt: str = typer.Option("text", "--format", "-f", help="text, json or markdown (for a PR comment)."),
    fail_on: str | None = typer.Option(None, "--fail-on", help="Exit 1 on 'widen' (access gained or security "
                                       "weakened) or on 'any' change."),
) -> None:
    """Compare the effective decisions of two configs: models and routes gained and lost, weakened settings.

    Exit codes: 0 (or no --fail-on condition met), 1 when the --fail-on condition is met, 2 unreadable input.
    """
    from jwtgate.policy.diff import diff_policies
    from jwtgate.render import diff as R

    check_format(fmt, ("text", "json", "markdown"))
    if fail_on not in (None, "widen", "any"):
        raise UsageError(f"--fail-on must be 'widen' or 'any', not '{fail_on}'")
    result = diff_policies(load_config(old), load_config(new))
    if fmt == "json":
        dump_json(R.as_json(result))
    else:
        typer.echo(R.markdown(result) if fmt == "markdown" else R.text(result), nl=False)
    failed = (fail_on == "any" and not result.empty) or (fail_on == "widen" and result.widens)
    raise typer.Exit(1 if failed else 0)
