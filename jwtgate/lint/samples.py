"""JG120: claim paths checked against real claims (``lint --claims FILE`` / ``--token TOKEN``).

Each path the config reads (globally, or the override of the issuers entry a sample's ``iss`` selects)
must resolve in at least one sample; where it stops, the finding names the segment and offers the
closest key found there. The walk is policy.claims.resolve_path, the one decisions use.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from jwtgate.config.yaml_text import did_you_mean
from jwtgate.lint.base import CLAIM_PATH_KEYS, JWT, ClaimSample, LintContext, rule
from jwtgate.model import Finding, IssuerConfig
from jwtgate.policy.claims import Resolved, resolve_path, split_path
from jwtgate.policy.decision import issuer_config


@dataclass(frozen=True, slots=True)
class _Read:
    config_path: str  # where the path is configured
    key: str  # the litellm_jwtauth key
    path: str  # the claim path


def _reads(ctx: LintContext, sample: ClaimSample) -> Iterator[_Read]:
    """The claim paths a token like ``sample`` is read with."""
    cfg = issuer_config(ctx.policy, sample.claims)
    entry_path = _entry_path(ctx, cfg)
    raw = ctx.policy.jwt.raw
    for key in CLAIM_PATH_KEYS:
        if cfg is not None and entry_path is not None and key in cfg.fields:
            yield _Read(f"{entry_path}.{key}", key, cfg.fields[key])
        elif isinstance(raw.get(key), str):
            yield _Read(f"{JWT}.{key}", key, raw[key])
    if ctx.policy.jwt.enforce_scope_based_access:
        yield _Read(f"{JWT}.enforce_scope_based_access", "enforce_scope_based_access", "scope")


def _entry_path(ctx: LintContext, cfg: IssuerConfig | None) -> str | None:
    if cfg is None:
        return None
    for entry in ctx.raw_entries("issuers"):
        if entry.get("__location__") == cfg.location:
            return str(entry["__path__"])
    return None


def _join(parts: tuple[str, ...]) -> str:
    return ".".join(p.replace(".", "\\.") for p in parts)


def describe_miss(path: str, miss: Resolved) -> tuple[str, str]:
    """(what stopped the walk, a hint with a did-you-mean from the keys there)."""
    parts = split_path(path)
    walked = _join(parts[:miss.depth])
    if not miss.keys_there and miss.depth:
        return f"'{walked}' is not an object, so '{miss.stopped_at}' can't be read in it", \
            f"the claim at '{walked}' holds a value, not claims; point the path at '{walked}' or a sibling"
    where = f"'{walked}'" if walked else "the claims"
    stop = f"{where} {'have' if not walked else 'has'} no key '{miss.stopped_at}'"
    shown = ", ".join(sorted(miss.keys_there)[:8]) + (" …" if len(miss.keys_there) > 8 else "")
    guess = did_you_mean(miss.stopped_at or "", miss.keys_there)
    if guess is None:
        return stop, f"keys there: {shown or 'none'}"
    suggestion = _join((*parts[:miss.depth], guess, *parts[miss.depth + 1:]))
    return stop, f"did you mean '{suggestion}'? (keys there: {shown})"


@rule("JG120", "error", "a claim path that resolves in none of the sample claims (lint --claims/--token)")
def claim_path_unresolved(ctx: LintContext) -> Iterator[Finding]:
    misses: dict[str, tuple[_Read, ClaimSample, Resolved]] = {}
    hits: set[str] = set()
    for sample in ctx.samples:
        for read in _reads(ctx, sample):
            result = resolve_path(sample.claims, read.path)
            if result.found:
                hits.add(read.config_path)
            else:
                misses.setdefault(read.config_path, (read, sample, result))
    for config_path, (read, sample, result) in misses.items():
        if config_path in hits:
            continue
        stop, hint = describe_miss(read.path, result)
        others = f" (nor in {len(ctx.samples) - 1} other sample{'s' if len(ctx.samples) > 2 else ''})" \
            if len(ctx.samples) > 1 else ""
        yield claim_path_unresolved.finding(
            f"{read.key} reads claim '{read.path}', which does not resolve in {sample.name}{others}: {stop}",
            ctx.where(config_path, JWT), hint)


RULES = (claim_path_unresolved,)
