"""JG120: claim paths checked against real claims (``lint --claims FILE`` / ``--token TOKEN``).

Each path the config reads (globally, or the override of the issuers entry a sample's ``iss`` selects)
must resolve in at least one sample; where it stops, the finding names the segment and offers the
closest key found there. The walk and its words are policy.claims.path_stop, as in check-token traces.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from jwtgate.lint.base import CLAIM_PATH_KEYS, JWT, ClaimSample, LintContext, rule
from jwtgate.model import Finding
from jwtgate.policy.claims import PathStop, path_stop


@dataclass(frozen=True, slots=True)
class _Read:
    config_path: str  # where the path is configured
    key: str  # the litellm_jwtauth key
    path: str  # the claim path


def _reads(ctx: LintContext, sample: ClaimSample) -> Iterator[_Read]:
    """The claim paths a token like ``sample`` is read with."""
    from jwtgate.policy.decision import issuer_config  # only with samples: lint's start-up stays light

    cfg = issuer_config(ctx.policy, sample.claims)
    raw = ctx.policy.jwt.raw
    for key in CLAIM_PATH_KEYS:
        if cfg is not None and key in cfg.fields:
            yield _Read(f"{ctx.issuer_path(cfg)}.{key}", key, cfg.fields[key])
        elif isinstance(raw.get(key), str):
            yield _Read(f"{JWT}.{key}", key, raw[key])
    if ctx.policy.jwt.enforce_scope_based_access:
        yield _Read(f"{JWT}.enforce_scope_based_access", "enforce_scope_based_access", "scope")


@rule("JG120", "error", "a claim path that resolves in none of the sample claims (lint --claims/--token)")
def claim_path_unresolved(ctx: LintContext) -> Iterator[Finding]:
    misses: dict[str, tuple[_Read, ClaimSample, PathStop]] = {}
    hits: set[str] = set()
    for sample in ctx.samples:
        for read in _reads(ctx, sample):
            stop = path_stop(sample.claims, read.path)
            if stop is None:
                hits.add(read.config_path)
            else:
                misses.setdefault(read.config_path, (read, sample, stop))
    for config_path, (read, sample, stop) in misses.items():
        if config_path in hits:
            continue
        others = f" (nor in {len(ctx.samples) - 1} other sample{'s' if len(ctx.samples) > 2 else ''})" \
            if len(ctx.samples) > 1 else ""
        hint = (f"if that is the claim, set {read.key}: '{stop.suggestion}'" if stop.suggestion
                else "fix the path, or lint with a sample of the tokens that carry this claim")
        yield claim_path_unresolved.finding(
            f"{read.key}: in {sample.name}{others}, {stop.describe()}", ctx.where(config_path, JWT), hint)


RULES = (claim_path_unresolved,)
