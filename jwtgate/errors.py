"""One exception tree: every error jwtgate raises carries a stable code and, where known, a place."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # not imported at run time: `jwtgate --version` need not build the model classes
    from jwtgate.model import Location


class JwtgateError(Exception):
    """Base of every error jwtgate reports to a person. ``code`` is stable and documented; ``location`` is a
    place in a file, ``file`` the file a whole-file error (missing, not YAML, not a key file) is about."""

    code: str = "jwtgate.error"
    exit_code: int = 2

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        location: Location | None = None,
        hint: str | None = None,
        file: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.location = location
        self.hint = hint
        self.file = file if file is not None else (location.file if location is not None else None)
        """The input the error is about (a config, test or key file), when it is one: for ``--format json``."""

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        hint = f" ({self.hint})" if self.hint else ""
        return f"{where}{self.message}{hint}"


class UsageError(JwtgateError):
    """The command was called wrongly (bad option value, unreadable input)."""

    code = "usage.invalid"


class ConfigError(JwtgateError):
    """The config cannot be loaded at all (unreadable, not YAML, not a mapping)."""

    code = "config.invalid"


class TokenError(JwtgateError):
    """A token was refused. Codes start with ``token.``, ``key.`` or ``jwks.``."""

    code = "token.invalid"
    exit_code = 1


class KeySourceError(JwtgateError):
    """Keys could not be obtained from a configured source (``jwks.*``)."""

    code = "jwks.unavailable"
    exit_code = 1
