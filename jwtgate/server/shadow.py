"""After each decision: the shadow config's decision (``--shadow-config``) and the replayable record
(``jwtgate.serve.log_claims``), both kept on the request's Ctx for its access line. Off, neither costs
more than the two ``None`` checks in ``JwtgateApp.decide``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jwtgate.model import Decision, Request
from jwtgate.policy.decision import decide
from jwtgate.policy.replay import log_claims
from jwtgate.server.context import Ctx
from jwtgate.server.metrics import Metrics
from jwtgate.server.state import Gate

Key = tuple[str, str | None, str, bool]


def _code(d: Decision) -> str | None:
    return d.reason.code if d.reason is not None else None


def _outcome(allowed: bool) -> str:
    return "allow" if allowed else "deny"


def observe(gate: Gate, claims: Mapping[str, Any], key: Key, decision: Decision, ctx: Ctx,
            metrics: Metrics) -> None:
    """Decide with the shadow config (counted; noted on the line when it differs) and keep the record."""
    _, model, route, model_call = key
    shadow = gate.shadow
    if shadow is not None:
        other = shadow.decisions.get(key)
        if other is None:
            other = decide(shadow.policy, claims, Request(model, route, model_call))
            shadow.decisions.put(key, other)
        metrics.count_shadow(decision.allowed, other.allowed)
        if (decision.allowed, _code(decision)) != (other.allowed, _code(other)):
            ctx.shadow = {"decision": _outcome(other.allowed), "reason": _code(other),
                          "enforced_decision": _outcome(decision.allowed), "enforced_reason": _code(decision)}
    if gate.log_paths is not None:
        ctx.decided = {"route": route, "model": model, "model_call": model_call, "allowed": decision.allowed,
                       "reason": _code(decision)}
        ctx.claims = log_claims(claims, gate.log_paths)
