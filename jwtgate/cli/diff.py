"""``jwtgate diff``: the effective access change between two configs."""

from __future__ import annotations

import typer

from jwtgate.cli.options import check_fail_on, check_format, emit_change_report, load_config


def diff(
    old: str = typer.Argument(..., metavar="OLD", help="The config before the change."),
    new: str = typer.Argument(..., metavar="NEW", help="The config after the change."),
    fmt: str = typer.Option("text", "--format", "-f", help="text, json or markdown (for a PR comment)."),
    fail_on: str | None = typer.Option(None, "--fail-on", help="Exit 1 on 'widen' (access gained or security "
                                       "weakened) or on 'any' change."),
) -> None:
    """Compare the effective decisions of two configs: models and routes gained and lost, weakened settings.

    Exit codes: 0 no --fail-on given or its condition not met, 1 the --fail-on condition met, 2 unreadable input.
    """
    from jwtgate.policy.diff import diff_policies
    from jwtgate.render import diff as R

    check_format(fmt, ("text", "json", "markdown"))
    check_fail_on(fail_on)
    result = diff_policies(load_config(old), load_config(new))
    emit_change_report(fmt, R.as_json(result), R.text(result), R.markdown(result), empty=result.empty,
                       widens=result.widens, fail_on=fail_on)
