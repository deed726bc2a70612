"""``jwtgate replay LOG... --config NEW``: what a new policy would have decided about logged requests."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import typer

from jwtgate.cli.options import check_fail_on, check_format, emit_change_report, load_config
from jwtgate.errors import UsageError


def _lines(path: str) -> Iterator[str]:
    """The lines of a log file (``-`` = stdin, ``*.gz`` read compressed); unreadable files are usage errors."""
    if path == "-":
        yield from sys.stdin
        return
    import gzip

    try:
        stream = gzip.open(path, "rt", encoding="utf-8", errors="replace") if path.endswith(".gz") else \
            open(path, encoding="utf-8", errors="replace")  # noqa: SIM115
        with stream:
            yield from stream
    except (OSError, EOFError) as exc:
        raise UsageError(f"{path}: cannot read the log ({getattr(exc, 'strerror', None) or exc})",
                         hint="pass access-log files written by 'jwtgate serve', or '-' for stdin") from None


def replay(
    logs: list[str] = typer.Argument(..., metavar="LOG...", help="Access logs of 'jwtgate serve' (files, *.gz, "
                                     "or '-' for stdin)."),
    config: str = typer.Option(..., "--config", "-c", help="The new config to re-decide the requests with."),
    fmt: str = typer.Option("text", "--format", "-f", help="text, json or markdown (for a PR comment)."),
    fail_on: str | None = typer.Option(None, "--fail-on", help="Exit 1 on 'widen' (a denied request would be "
                                       "allowed) or on 'any' change."),
) -> None:
    """Re-decide logged requests with a new config: which would flip, by role, model and subject.

    Needs access lines written with jwtgate.serve.log_claims: true (the verified claims the policy reads;
    signatures are not re-checked). Unreadable, truncated and non-access lines are counted, not fatal.
    Exit codes: 0 no --fail-on given or its condition not met, 1 the --fail-on condition met, 2 unreadable input.
    """
    from jwtgate.policy.replay import Replayer
    from jwtgate.render import replay as R

    check_format(fmt, ("text", "json", "markdown"))
    check_fail_on(fail_on)
    replayer = Replayer(load_config(config))
    for path in logs:
        for line in _lines(path):
            replayer.feed(line)
    result = replayer.report()
    emit_change_report(fmt, R.as_json(result), R.text(result), R.markdown(result), empty=result.empty,
                       widens=result.widens, fail_on=fail_on)
