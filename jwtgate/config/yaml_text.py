"""Reading YAML config text: files and stdin, positions kept (ruamel round-trip), syntax errors as findings."""

from __future__ import annotations

import difflib
import sys
from pathlib import Path
from typing import Any

from jwtgate.errors import UsageError
from jwtgate.model import Finding, Location

MAX_CONFIG_BYTES = 64 * 1024 * 1024


def read_text(path: str, what: str = "config file") -> tuple[str, str]:
    """Read a YAML file (``-`` for stdin) as UTF-8; returns (text, display name).

    ``what`` names the file in messages ("config file", "policy test file").
    """
    if path == "-":
        data = sys.stdin.buffer.read(MAX_CONFIG_BYTES + 1)
        name = "<stdin>"
    else:
        p = Path(path)
        try:
            if p.is_dir():
                raise UsageError(f"{path}: is a directory; pass a YAML {what}", file=path)
            with p.open("rb") as fh:
                data = fh.read(MAX_CONFIG_BYTES + 1)
        except FileNotFoundError:
            raise UsageError(f"{path}: no such file", hint=f"check the path to the {what}", file=path) from None
        except PermissionError:
            raise UsageError(f"{path}: permission denied", file=path) from None
        except OSError as exc:
            raise UsageError(f"{path}: cannot read ({exc.strerror or exc})", file=path) from None
        name = path
    if len(data) > MAX_CONFIG_BYTES:
        raise UsageError(f"{name}: larger than {MAX_CONFIG_BYTES // (1024 * 1024)} MiB; not a {what}", file=name)
    if b"\x00" in data:
        raise UsageError(f"{name}: binary data (NUL bytes); expected a YAML {what}", file=name)
    try:
        return data.decode("utf-8-sig"), name
    except UnicodeDecodeError as exc:
        raise UsageError(f"{name}: not UTF-8 text (byte {exc.start}); save the {what} as UTF-8",
                         file=name) from None


def parse_yaml(text: str, file: str) -> tuple[Any, list[Finding]]:
    """Parse YAML keeping positions; syntax errors become JG001/JG004 findings."""
    from ruamel.yaml import YAML
    from ruamel.yaml.constructor import DuplicateKeyError
    from ruamel.yaml.error import MarkedYAMLError

    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        return yaml.load(text), []
    except DuplicateKeyError as exc:
        mark = exc.problem_mark
        loc = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file, 1, 1)
        msg = (exc.problem or "duplicate key").split("\n")[0]
        msg = msg.split(" with value ")[0]  # ruamel quotes both values; they may hold secrets
        return None, [Finding("JG004", "error", f"{msg}; the later value would silently win", loc)]
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file, 1, 1)
        problem = exc.problem or "invalid YAML"
        ctx = f" ({exc.context})" if exc.context else ""
        hint = ("in YAML double quotes '\\.' is not an escape: write the claim path in single quotes"
                if "unknown escape character '.'" in problem else None)
        return None, [Finding("JG001", "error", f"YAML syntax error: {problem}{ctx}", loc, hint)]
    except Exception as exc:  # ruamel raises a few unmarked errors (reader, recursion)
        return None, [Finding("JG001", "error", f"YAML error: {exc}".split("\n")[0], Location(file, 1, 1))]


def did_you_mean(word: str, options: Any) -> str | None:
    """The closest known word, for hints."""
    match = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return match[0] if match else None


def plain(value: Any) -> Any:
    """ruamel containers -> plain dicts/lists (resolving nothing)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def kind_of(value: Any) -> str:
    """A YAML/JSON value's kind for messages: null, boolean, number, string, mapping, list."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, list):
        return "list"
    return type(value).__name__
