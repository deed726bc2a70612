"""``explain --token``: verify a token (jwtgate.auth) and render its full trace."""

from __future__ import annotations

from jwtgate.errors import UsageError
from jwtgate.model import Policy, Request


def trace_token(policy: Policy, token: str, keys: list[str], request: Request, fmt: str) -> int:
    """Placeholder until jwtgate.auth lands: refuse clearly."""
    raise UsageError("--token needs token verification (jwtgate.auth), which this build does not have yet",
                     hint="use --claims with the token's payload meanwhile")
