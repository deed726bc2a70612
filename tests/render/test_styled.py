"""Styled lines: colour only on a colour terminal (NO_COLOR / FORCE_COLOR / TERM=dumb), text unchanged."""

from __future__ import annotations

import io

import pytest

from jwtgate.render.styled import Styled, sgr, wants_color


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("tty", "env", "expected"),
    [(True, {}, True), (False, {}, False), (True, {"NO_COLOR": "1"}, False), (False, {"FORCE_COLOR": "1"}, True),
     (True, {"TERM": "dumb"}, False), (True, {"NO_COLOR": "1", "FORCE_COLOR": "1"}, False)],
    ids=["terminal", "pipe", "no-color", "force-color", "dumb-terminal", "no-color-wins"],
)
def test_wants_color(tty: bool, env: dict[str, str], expected: bool) -> None:
    assert wants_color(Tty() if tty else io.StringIO(), env) is expected


def test_plain_output_has_no_escapes() -> None:
    buf = io.StringIO()
    Styled(buf, color=False).print(("✓", "green"), " name  ", ("[bold]x[/bold]", "dim"))
    assert buf.getvalue() == "✓ name  [bold]x[/bold]\n"


def test_coloured_output_wraps_styled_runs_only() -> None:
    buf = io.StringIO()
    Styled(buf, color=True).print(("DENIED", "bold red"), " because")
    assert buf.getvalue() == "\x1b[1;31mDENIED\x1b[0m because\n"


def test_unknown_style_words_are_ignored() -> None:
    assert sgr("bold sparkly") == "\x1b[1m"
    assert sgr("sparkly") == ""


def test_default_stream_is_looked_up_at_print_time(capsys: pytest.CaptureFixture[str]) -> None:
    out = Styled(color=False)
    print("before")
    out.print("after")
    assert capsys.readouterr().out == "before\nafter\n"
