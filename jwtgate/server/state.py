"""What create_app() is given: the swappable loaded config (Gate), the upstream client, settings, metrics, log."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO

from jwtgate.model import Decision, Finding, Policy, ServeSettings, VerifiedToken
from jwtgate.server.metrics import Metrics
from jwtgate.server.upstream import Targets, UpstreamClient


class Authenticator(Protocol):
    """What the server needs of jwtgate.tokens.authenticator.Authenticator."""

    async def aauthenticate(self, token: str) -> VerifiedToken: ...

    def clear_cache(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Gate:
    """One loaded config: its policy, the authenticator built for it and its forwarding table.

    Swapped as a whole on reload, so a request sees one consistent config from start to end.
    """

    policy: Policy
    authenticator: Authenticator
    targets: Targets
    keys_ready: Callable[[], Awaitable[bool]] = field(default=lambda: _true())
    aclose: Callable[[], Awaitable[None]] | None = None
    decisions: DecisionCache = field(default_factory=lambda: DecisionCache(10_000))
    files: tuple[str, ...] = ()  # the config and key files it was built from (watched for changes)
    shadow: Policy | None = None  # serve --shadow-config: a second policy deciding every request, not enforced
    log_paths: tuple[str, ...] | None = None  # jwtgate.serve.log_claims: the claim paths an access line keeps
    observed: dict[Any, Any] = field(default_factory=dict)  # server/shadow.py: what it computed, per decision key


class DecisionCache:
    """decide() results by (token, model, route) for one config: decide() reads nothing but the claims,
    the request and the policy, and the token is verified again (cache, expiry) before each lookup.
    Bounded: the oldest entry goes first.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: dict[tuple[str, str | None, str, bool], Decision] = {}

    def get(self, key: tuple[str, str | None, str, bool]) -> Decision | None:
        return self.entries.get(key)

    def put(self, key: tuple[str, str | None, str, bool], decision: Decision) -> None:
        entries = self.entries
        if len(entries) >= self.size:
            del entries[next(iter(entries))]
        entries[key] = decision


async def _true() -> bool:
    return True


class ConfigRejected(Exception):
    """A reloaded config has errors; the running one stays."""

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__(f"{len(findings)} error(s) in the new config")
        self.findings = findings


class GateHolder:
    """The current Gate; ``swap`` replaces it in one assignment (atomic for the event loop)."""

    def __init__(self, gate: Gate) -> None:
        self.gate = gate

    def swap(self, new: Gate) -> Gate:
        old, self.gate = self.gate, new
        return old


_encode = json.JSONEncoder(separators=(",", ":")).encode  # json.dumps(separators=...) builds one per call


class AccessLog:
    """One JSON line per request: written straight to ``stream`` (``jwtgate serve``: stderr), else on the
    ``jwtgate.access`` logger (embedding, tests).

    With ``batch``, the lines of one event-loop turn are written together, once the turn's callbacks
    have run: one write (one system call on an unbuffered stderr) for many requests under load, at the
    cost of a line reaching the stream a loop turn later. ``flush()`` writes what is pending.
    """

    def __init__(self, logger: logging.Logger | None = None, clock: Callable[[], float] = time.time,
                 stream: TextIO | None = None, *, batch: bool = False) -> None:
        self.logger = logger or logging.getLogger("jwtgate.access")
        self.clock = clock
        self.stream = stream
        self.batch = batch
        self._pending: list[tuple[str, dict[str, Any]]] = []
        self._second = -1
        self._stamp = ""

    def __call__(self, record: dict[str, Any]) -> None:
        if self.stream is None and not self.logger.isEnabledFor(logging.INFO):
            return
        if self.batch and self.stream is not None:  # encoded in flush(): one tight loop per turn, not per request
            self._pending.append((self._time(), record))
            if len(self._pending) == 1:
                self._schedule()
            return
        line = _encode({"time": self._time(), **record})
        if self.stream is None:
            self.logger.info(line)
        else:
            self.stream.write(line + "\n")

    def _time(self) -> str:
        """ISO 8601 UTC to the second, formatted once per second."""
        second = int(self.clock())
        if second != self._second:
            self._second, self._stamp = second, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))
        return self._stamp

    def _schedule(self) -> None:
        try:
            asyncio.get_running_loop().call_soon(self.flush)
        except RuntimeError:  # no loop running: write now
            self.flush()

    def flush(self) -> None:
        """Write the pending lines in one go."""
        if self._pending and self.stream is not None:
            pending, self._pending = self._pending, []
            self.stream.write("".join([_encode({"time": stamp, **record}) + "\n" for stamp, record in pending]))


@dataclass
class AppState:
    """Everything the app uses; built by ``jwtgate serve`` (or a test) and passed to create_app()."""

    holder: GateHolder
    upstream: UpstreamClient
    settings: ServeSettings
    metrics: Metrics = field(default_factory=Metrics)
    access_log: Callable[[dict[str, Any]], None] = field(default_factory=AccessLog)
    loader: Callable[[], Gate] | None = None
    events: logging.Logger = field(default_factory=lambda: logging.getLogger("jwtgate.server"))
    install_sighup: bool = True
