"""JG214: the config can reach an intended difference from LiteLLM (the registry in policy/)."""

from __future__ import annotations

from collections.abc import Iterator

from jwtgate.lint.base import JWT, LintContext, rule
from jwtgate.model import Finding
from jwtgate.policy.litellm_differences import LITELLM_VERSION, reachable


@rule("JG214", "info", "the config can reach an intended difference from LiteLLM (see README, Fidelity)")
def intended_difference(ctx: LintContext) -> Iterator[Finding]:
    where = ctx.where(JWT)
    for d in reachable(ctx.policy):
        yield intended_difference.finding(
            f"[{d.id}] {d.title}: LiteLLM {LITELLM_VERSION} {d.litellm}; jwtgate {d.jwtgate}", where,
            f"why: {d.why}")


RULES = (intended_difference,)
