"""The TOKEN argument: literal, '-' (stdin), '@file'; Bearer tolerated; clear usage errors."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from jwtgate.cli.token_arg import MAX_INPUT_BYTES, clean_token, read_token_arg
from jwtgate.errors import UsageError

TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln"


@pytest.mark.parametrize(
    "raw",
    [TOKEN, f"  {TOKEN}\n", f"Bearer {TOKEN}", f"bearer   {TOKEN}", f"BEARER {TOKEN}\r\n"],
    ids=["plain", "whitespace", "bearer", "bearer-lowercase-spaces", "bearer-upper-crlf"],
)
def test_clean_token_accepts(raw: str) -> None:
    assert clean_token(raw, "x") == TOKEN


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "no token in x"),
        ("   \n", "no token in x"),
        ("Bearer ", "no token in x"),
        (f"{TOKEN}\n{TOKEN}", "more than one word"),
        (f"Bearer {TOKEN} extra", "more than one word"),
        (f'"{TOKEN}"', "wrapped in quotes"),
        (f"Authorization: Bearer {TOKEN}", "starts with the header name 'Authorization:'"),
        (f"x-api-key: {TOKEN}", "starts with the header name 'x-api-key:'"),
    ],
    ids=["empty", "blank", "bearer-only", "two-tokens", "trailing-word", "quoted", "authorization-header",
         "api-key-header"],
)
def test_clean_token_refuses(raw: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        clean_token(raw, "x")


def test_header_line_hint_says_to_drop_the_header_name() -> None:
    with pytest.raises(UsageError) as info:
        clean_token(f"Authorization: Bearer {TOKEN}", "x")
    assert info.value.hint is not None
    assert "pass only the token, without the 'Authorization:' header name" in info.value.hint
    assert "line breaks" not in info.value.hint


def test_literal_argument() -> None:
    assert read_token_arg(f"Bearer {TOKEN}") == TOKEN


def test_stdin() -> None:
    assert read_token_arg("-", stdin=io.StringIO(f"{TOKEN}\n")) == TOKEN


def test_stdin_empty_names_stdin() -> None:
    with pytest.raises(UsageError, match="no token in stdin"):
        read_token_arg("-", stdin=io.StringIO(""))


def test_stdin_too_large() -> None:
    with pytest.raises(UsageError, match="more than"):
        read_token_arg("-", stdin=io.StringIO("a" * (MAX_INPUT_BYTES + 1)))


@pytest.mark.parametrize("content", [f"Bearer {TOKEN}\n", f"\ufeff{TOKEN}\r\n"], ids=["bearer", "bom-crlf"])
def test_file(tmp_path: Path, content: str) -> None:
    path = tmp_path / "t.jwt"
    path.write_bytes(content.encode("utf-8"))
    assert read_token_arg(f"@{path}") == TOKEN


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: str(p / "missing.jwt"), "cannot read token file"),
        (lambda p: str(p), "is a directory"),
        (lambda p: "", "must be followed by a file name"),
    ],
    ids=["missing-file", "directory", "bare-at"],
)
def test_file_errors(tmp_path: Path, make: object, message: str) -> None:
    arg = "@" + make(tmp_path)  # type: ignore[operator]
    with pytest.raises(UsageError, match=message):
        read_token_arg(arg)


def test_file_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "t.jwt"
    path.write_bytes(b"\xff\xfe" + TOKEN.encode("utf-16-le"))
    with pytest.raises(UsageError, match="not UTF-8"):
        read_token_arg(f"@{path}")


def test_file_empty(tmp_path: Path) -> None:
    path = tmp_path / "t.jwt"
    path.write_text("\n")
    with pytest.raises(UsageError, match=f"no token in {path}"):
        read_token_arg(f"@{path}")


def test_bare_file_name_suggests_at(tmp_path: Path) -> None:
    path = tmp_path / "alice.jwt"
    path.write_text(TOKEN)
    with pytest.raises(UsageError) as info:
        read_token_arg(str(path))
    assert info.value.hint == f"use '@{path}' to read the token from it"
