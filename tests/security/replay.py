"""Run an attack token the way the gateway does: Authenticator (sync or async), then decide()."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jwtgate.config.loader import load_policy_file
from jwtgate.errors import JwtgateError
from jwtgate.keys.store import KeyStore, KeyStoreOptions
from jwtgate.model import Request
from jwtgate.policy.decision import decide
from jwtgate.tokens.authenticator import Authenticator
from tests.kit.clock import FakeClock

NOW = 1_800_000_000.0


@dataclass(frozen=True)
class Outcome:
    """What a caller would see: allowed or not, the reason code, and the error message (if refused)."""

    allowed: bool
    code: str | None
    message: str = ""
    role: str | None = None


@dataclass
class Gateway:
    """An Authenticator per config variant, all on one fake clock."""

    directory: Path
    clock: FakeClock = field(default_factory=lambda: FakeClock(NOW))
    auths: dict[str, Authenticator] = field(default_factory=dict)

    def auth(self, variant: str) -> Authenticator:
        if variant not in self.auths:
            policy = load_policy_file(str(self.directory / f"gateway-{variant}.yaml"), {})
            assert not [f for f in policy.findings if f.severity == "error"], policy.findings
            store = KeyStore(clock=self.clock, cache_dir=None, options=KeyStoreOptions.from_policy(policy))
            self.auths[variant] = Authenticator(policy, store, clock=self.clock)
        return self.auths[variant]

    def close(self) -> None:
        for auth in self.auths.values():
            auth.store.close()


def run_sync(auth: Authenticator, token: Any, model: str | None) -> Outcome:
    try:
        verified = auth.authenticate(token)
    except JwtgateError as err:
        return Outcome(False, err.code, err.message)
    return _decide(auth, verified.claims, model)


def run_async(auth: Authenticator, token: Any, model: str | None) -> Outcome:
    async def go() -> Outcome:
        try:
            verified = await auth.aauthenticate(token)
        except JwtgateError as err:
            return Outcome(False, err.code, err.message)
        finally:
            await auth.store.aclose()  # the async HTTP client belongs to this event loop
        return _decide(auth, verified.claims, model)

    return asyncio.run(go())


def _decide(auth: Authenticator, claims: dict[str, Any], model: str | None) -> Outcome:
    decision = decide(auth.policy, claims, Request(model=model))
    reason = decision.reason
    return Outcome(decision.allowed, reason.code if reason else None, reason.message if reason else "", decision.role)
