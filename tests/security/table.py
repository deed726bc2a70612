"""The attack table's shape: ``Attack`` and the registry the attack modules add to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from tests.security.kit import Kit

Stage = Literal["token", "policy"]
CliOutcome = Literal["same", "usage", "stripped"]

# Sources, by short name (cited in each entry).
RFC8725 = "RFC 8725 (JWT Best Current Practices)"
OWASP = "OWASP JSON Web Token Cheat Sheet for Java/Python"
PS = "PortSwigger Web Security Academy, JWT labs"
JWT_TOOL = "ticarpi/jwt_tool"


@dataclass(frozen=True)
class Attack:
    """One attack: ``build(kit)`` gives the token; ``code`` is the reason jwtgate must give.

    ``model`` is what the request asks for; ``config`` the gateway variant (kit.policy_yaml);
    ``cli`` how ``check-token`` sees it: 'same' (exit 1, same code), 'usage' (the TOKEN argument itself is
    refused, exit 2), 'stripped' (check-token, like HTTP (RFC 9110 §5.5), strips surrounding whitespace, so
    the token is the valid one there: replayed only against the Authenticator).
    ``header_safe``: the token can travel in an HTTP Authorization header as is.
    """

    name: str
    source: str
    build: Callable[[Kit], str]
    code: str
    model: str = "small"
    config: str = "default"
    cli: CliOutcome = "same"
    header_safe: bool = True

    @property
    def stage(self) -> Stage:
        return "policy" if self.code.startswith("policy.") else "token"


ATTACKS: list[Attack] = []


def add(name: str, source: str, code: str, build: Callable[[Kit], str], **kw: Any) -> None:
    ATTACKS.append(Attack(name, source, build, code, **kw))


def segments(token: str) -> list[str]:
    return token.split(".")
