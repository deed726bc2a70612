"""``jwtgate decode TOKEN``: show a token's header and claims, NOT verified."""

from __future__ import annotations

import time

import typer

from jwtgate.cli.options import check_format, dump_json

TOKEN_HELP = "The token, '-' to read it from stdin, or '@FILE' to read it from a file ('Bearer ' is tolerated)."


def decode(
    token: str = typer.Argument(..., metavar="TOKEN", help=TOKEN_HELP, show_default=False),
    fmt: str = typer.Option("text", "--format", "-f", help="text or json (for scripts; never coloured)."),
    now: str | None = typer.Option(None, "--now", metavar="TIME",
                                   help="Show relative times as seen at TIME (ISO 8601 or epoch seconds)."),
) -> None:
    """Show a token's header and claims, times as ISO and relative. Nothing is verified.

    Exit codes: 0 decoded, 2 unreadable or malformed token.
    """
    from jwtgate.cli.token_arg import read_token_arg
    from jwtgate.errors import TokenError, UsageError
    from jwtgate.timefmt import parse_instant
    from jwtgate.tokens.verify import parse_token

    check_format(fmt, ("text", "json"))
    when = parse_instant(now) if now is not None else time.time()
    try:
        parsed = parse_token(read_token_arg(token))
    except TokenError as err:
        raise UsageError(f"cannot decode the token: {err.message}", code=err.code, hint=err.hint) from None
    if fmt == "json":
        from jwtgate.render.token import decoded_to_json

        dump_json(decoded_to_json(parsed.header, parsed.claims, parsed.fingerprint, when))
        return
    from jwtgate.render.decision import stdout_console
    from jwtgate.render.token import render_decoded_text

    render_decoded_text(parsed.header, parsed.claims, parsed.fingerprint, when, stdout_console())
