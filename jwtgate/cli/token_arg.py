"""The TOKEN argument every command shares: the token itself, ``-`` (stdin) or ``@path`` (a file).

The text is stripped and a leading ``Bearer `` (any case) is tolerated, so a copied Authorization header
works. Anything else that cannot be one compact token is a ``UsageError`` that says how to pass it.
Structure (segments, base64url, JSON) is checked later by ``tokens.parse_token``.
"""

from __future__ import annotations

import os
import re
import sys
from typing import TextIO

from jwtgate.errors import UsageError

MAX_INPUT_BYTES = 1024 * 1024
_BEARER = re.compile(r"(?i)^bearer(?:\s+|$)")
_HEADER_NAME = re.compile(r"(?i)^(?:authorization|x-api-key)\s*:")
_HOW = "pass the token itself, '-' to read it from stdin, or '@FILE' to read it from a file"


def read_token_arg(arg: str, *, stdin: TextIO | None = None) -> str:
    """Resolve a TOKEN argument to the compact token text (stripped, without ``Bearer ``)."""
    if arg == "-":
        text, where = _read_stdin(stdin), "stdin"
    elif arg.startswith("@"):
        text, where = _read_file(arg[1:]), arg[1:]
    else:
        _refuse_bare_path(arg)
        text, where = arg, "the TOKEN argument"
    return clean_token(text, where)


def clean_token(text: str, where: str) -> str:
    """Strip whitespace and a ``Bearer`` prefix; refuse empty input or more than one token."""
    token = _BEARER.sub("", text.strip(), count=1).strip()
    if not token:
        raise UsageError(f"no token in {where}", hint=_HOW)
    name = _HEADER_NAME.match(token)
    if name:
        header = name.group(0).rstrip(": \t")
        raise UsageError(f"{where} starts with the header name '{header}:'",
                         hint=f"pass only the token, without the '{header}:' header name (a 'Bearer ' prefix is fine)")
    if any(ch.isspace() for ch in token):
        raise UsageError(f"{where} holds more than one word (whitespace inside the token)",
                         hint="a TOKEN must be one compact JWT (header.payload.signature); remove line breaks")
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "\"'":
        raise UsageError(f"the token in {where} is wrapped in quotes", hint="remove the quotes around the token")
    return token


def _read_stdin(stdin: TextIO | None) -> str:
    stream = stdin if stdin is not None else sys.stdin
    text = stream.read(MAX_INPUT_BYTES + 1)
    if len(text) > MAX_INPUT_BYTES:
        raise UsageError(f"stdin holds more than {MAX_INPUT_BYTES} bytes; that is not a token", hint=_HOW)
    return text


def _read_file(path: str) -> str:
    if not path:
        raise UsageError("'@' must be followed by a file name", hint=_HOW)
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_INPUT_BYTES + 1)
    except IsADirectoryError:
        raise UsageError(f"{path} is a directory, not a token file", hint=_HOW) from None
    except OSError as exc:
        raise UsageError(f"cannot read token file {path}: {exc.strerror or exc}", hint=_HOW) from None
    if len(data) > MAX_INPUT_BYTES:
        raise UsageError(f"{path} is larger than {MAX_INPUT_BYTES} bytes; that is not a token file", hint=_HOW)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not UTF-8 text; a token file holds one compact JWT", hint=_HOW) from None


def _refuse_bare_path(arg: str) -> None:
    """A file name given without '@' is a common slip: say so rather than 'malformed token'."""
    if arg.count(".") != 2 and os.path.isfile(arg):
        raise UsageError(f"'{arg}' is a file name, not a token", hint=f"use '@{arg}' to read the token from it")
