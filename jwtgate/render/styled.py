"""Lines of styled text without rich: ANSI colours on a colour terminal, plain text everywhere else.

``check-token`` and ``decode`` print a few coloured lines; importing rich for that costs ~15 ms of a
~150 ms command. Colour follows the usual conventions: ``NO_COLOR`` turns it off, ``FORCE_COLOR`` on,
``TERM=dumb`` or a stream that is not a terminal means plain text.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import TextIO

Part = str | tuple[str, str]
"""A run of text, or ``(text, style)`` with a style such as ``"bold red"``."""

_SGR = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}


def wants_color(stream: TextIO, env: Mapping[str, str]) -> bool:
    """Colour on a terminal unless NO_COLOR or TERM=dumb; FORCE_COLOR forces it."""
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return env.get("TERM") != "dumb" and bool(isatty and isatty())


def sgr(style: str) -> str:
    """The escape sequence of a space-separated style (unknown words are ignored)."""
    codes = [_SGR[word] for word in style.split() if word in _SGR]
    return f"\x1b[{';'.join(codes)}m" if codes else ""


class Styled:
    """Prints lines made of parts; the stream is looked up at each print (so test runners can swap it)."""

    def __init__(self, file: TextIO | None = None, *, color: bool | None = None) -> None:
        self._file = file
        self._color = color

    @property
    def file(self) -> TextIO:
        return self._file if self._file is not None else sys.stdout

    def print(self, *parts: Part) -> None:
        """Write the parts as one line."""
        stream = self.file
        color = self._color if self._color is not None else wants_color(stream, os.environ)
        out: list[str] = []
        for part in parts:
            text, style = (part, "") if isinstance(part, str) else part
            code = sgr(style) if color else ""
            out.append(f"{code}{text}\x1b[0m" if code else text)
        stream.write("".join(out) + "\n")
