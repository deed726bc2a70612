"""An error that stops a command, as JSON: ``{"errors": [{file, line, column, message, code}]}``. Pure.

``lint --format json`` lists the files it could not read under the same ``errors`` key with the same
entries, so a script reads one shape from every command run with ``--format json``.
"""

from __future__ import annotations

import json
from typing import NamedTuple

from jwtgate.errors import JwtgateError


class FileError(NamedTuple):
    """An input that could not be used (unreadable, not YAML, refused): exit 2, reported in every format.

    ``message`` is self-contained (the hint in parentheses), without the file name in front.
    """

    file: str | None
    message: str
    code: str
    line: int | None = None
    column: int | None = None


def file_error(err: JwtgateError) -> FileError:
    """The entry for ``err``: the file it is about, the place in it, and the message with its hint."""
    where = err.location
    message = err.message.removeprefix(f"{err.file}: ") if err.file else err.message
    hint = f" ({err.hint})" if err.hint else ""
    return FileError(err.file, message + hint, err.code, where.line if where else None,
                     where.column if where else None)


def errors_json(err: JwtgateError) -> str:
    """The one JSON document a command prints on stdout, in ``--format json``, when ``err`` stops it."""
    return json.dumps({"errors": [file_error(err)._asdict()]}, indent=2)
