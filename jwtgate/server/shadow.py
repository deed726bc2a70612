"""After each decision: the shadow config's decision (``--shadow-config``) and the replayable record
(``jwtgate.serve.log_claims``), kept on the request's Ctx for its access line.

Both depend only on the decision key (token, model, route, model call) and the Gate, so they are computed
once per key and kept on the Gate (bounded, like its decision cache): a repeated request costs a lookup
and the counter. Off, neither costs more than the two ``None`` checks in ``Pipeline.decide``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jwtgate.model import Decision, Request
from jwtgate.policy.decision import decide
from jwtgate.policy.replay import log_claims
from jwtgate.server.context import Ctx
from jwtgate.server.metrics import Metrics
from jwtgate.server.state import Gate

Key = tuple[str, str | None, str, bool]
OBSERVED_SIZE = 10_000


@dataclass(frozen=True, slots=True)
class Observed:
    """For one decision key: the (enforced, shadow) outcome pair, the shadow's difference, the record."""

    pair: tuple[bool, bool] | None
    shadow: dict[str, Any] | None
    decided: dict[str, Any] | None
    claims: dict[str, Any] | None


def _code(d: Decision) -> str | None:
    return d.reason.code if d.reason is not None else None


def _outcome(allowed: bool) -> str:
    return "allow" if allowed else "deny"


def observe(gate: Gate, claims: Mapping[str, Any], key: Key, decision: Decision, ctx: Ctx,
            metrics: Metrics) -> None:
    """Count the shadow's outcome, and put its difference and the replayable record on ``ctx``."""
    seen = gate.observed.get(key)
    if seen is None:
        seen = _observed(gate, claims, key, decision)
        if len(gate.observed) >= OBSERVED_SIZE:
            del gate.observed[next(iter(gate.observed))]
        gate.observed[key] = seen
    if seen.pair is not None:
        metrics.count_shadow(*seen.pair)
    ctx.shadow, ctx.decided, ctx.claims = seen.shadow, seen.decided, seen.claims


def _observed(gate: Gate, claims: Mapping[str, Any], key: Key, decision: Decision) -> Observed:
    _, model, route, model_call = key
    pair = difference = decided = kept = None
    if gate.shadow is not None:
        other = decide(gate.shadow, claims, Request(model, route, model_call))
        pair = (decision.allowed, other.allowed)
        if (decision.allowed, _code(decision)) != (other.allowed, _code(other)):
            difference = {"decision": _outcome(other.allowed), "reason": _code(other),
                          "enforced_decision": _outcome(decision.allowed), "enforced_reason": _code(decision)}
    if gate.log_paths is not None:
        decided = {"route": route, "model": model, "model_call": model_call, "allowed": decision.allowed,
                   "reason": _code(decision)}
        kept = log_claims(claims, gate.log_paths)
    return Observed(pair, difference, decided, kept)
