"""Token -> verified claims, exactly as the gateway does it: trust selection, keys, verification.

One implementation for the CLI (sync, with a step trace) and the server (async, with the verified-token
cache). Keys come only from configured sources (issuers' JWKS/discovery, JWT_PUBLIC_KEY_URL, the
``jwtgate.keys.store`` setting, or ``--jwks``); the token never chooses where its key comes from.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jwtgate.config import schema as S
from jwtgate.config.env import unset_issuers_text
from jwtgate.errors import JwtgateError, KeySourceError, TokenError
from jwtgate.keys.sources import discovery_url_for
from jwtgate.model import Policy, Step, StepStatus, TokenRules, VerificationKey, VerifiedToken
from jwtgate.tokens.hints import id_token_hint, issuer_hint

if TYPE_CHECKING:
    from jwtgate.keys.store import KeyStore
    from jwtgate.tokens.verify import ParsedToken, VerifiedCache


@dataclass(frozen=True, slots=True)
class Trust:
    """One trusted issuer (or the global, issuer-less trust): its rules and key sources."""

    rules: TokenRules
    sources: tuple[str, ...]
    scoped: bool  # True for an ``issuers`` entry: selected by exact ``iss``


@dataclass(frozen=True, slots=True)
class AuthTrace:
    """What check-token shows: the verified token or the error, and each step on the way."""

    verified: VerifiedToken | None
    error: JwtgateError | None
    steps: tuple[Step, ...]
    rules: TokenRules | None


# Which step a failure code belongs to, for the trace.
_STEP_OF = {
    "token.expired": "time claims", "token.not_yet_valid": "time claims", "token.issued_in_future": "time claims",
    "token.claim_type": "time claims", "token.claim_missing": "claims", "token.issuer_mismatch": "issuer",
    "token.audience_mismatch": "audience", "token.audience_missing": "audience",
    "token.signature_invalid": "signature", "token.alg_not_allowed": "algorithm", "token.alg_none": "algorithm",
    "token.alg_key_mismatch": "algorithm",
}


def _failed_step(stage: str, code: str) -> str:
    """The label of the step that failed, never a repeat of one that passed: the stage (``token`` parsing,
    ``trust`` choosing the issuer, ``keys`` getting the key set), or in verification the check that refused."""
    if code.startswith("jwks."):
        return "keys"
    if stage != "verify":
        return stage
    return _STEP_OF.get(code) or ("header" if code.startswith("token.") else code.split(".")[0])


def build_trusts(policy: Policy, extra_sources: Sequence[str] = (), leeway: float | None = None) -> tuple[Trust, ...]:
    """Trusts from the config: one per ``issuers`` entry, plus the global one when keys are configured."""
    s = policy.settings
    common: dict[str, Any] = {
        "leeway": s.leeway if leeway is None else leeway, "require": s.require, "algorithms": s.algorithms,
        "allow_kidless_single_key": s.allow_kidless_single_key, "max_token_bytes": s.max_token_bytes,
    }
    extra = tuple(extra_sources)
    trusts: list[Trust] = []
    for cfg in policy.jwt.issuers:
        aud = None if cfg.disable_audience_validation else cfg.audience
        sources = extra or ((cfg.jwks_url,) if cfg.jwks_url else (discovery_url_for(cfg.issuer),))
        trusts.append(Trust(TokenRules(issuer=cfg.issuer, audiences=aud, **common), sources, True))
    global_sources = tuple(policy.public_key_urls) + tuple(s.jwks)
    if global_sources or (extra and not policy.jwt.issuers):
        aud = (policy.env_audience,) if policy.env_audience else None
        rules = TokenRules(issuer=policy.env_issuer, audiences=aud, **common)
        trusts.append(Trust(rules, extra or global_sources, False))
    return tuple(trusts)


def audience_gaps(policy: Policy, extra_sources: Sequence[str] = ()) -> tuple[Trust, ...]:
    """The trusts that would accept a token minted for any application, without the config saying so.

    An ``issuers`` entry with ``disable_audience_validation`` and ``jwtgate.insecure_skip_audience: true``
    say so explicitly; the global trust (JWT_PUBLIC_KEY_URL, ``jwtgate.jwks``, ``--jwks``) without
    ``JWT_AUDIENCE`` does not. ``serve`` refuses to start on a gap; lint reports it (JG110, JG302, JG308).
    """
    if policy.settings.insecure_skip_audience:
        return ()
    return tuple(t for t in build_trusts(policy, extra_sources) if not t.rules.audiences
                 and not (t.scoped and _audience_disabled(policy, t.rules.issuer)))


def describe_trust(trust: Trust) -> str:
    if trust.scoped:
        return f"issuer '{trust.rules.issuer}'"
    return "tokens verified with JWT_PUBLIC_KEY_URL, jwtgate.jwks or --jwks (JWT_AUDIENCE is unset)"


def _audience_disabled(policy: Policy, issuer: str | None) -> bool:
    return any(cfg.issuer == issuer and cfg.disable_audience_validation for cfg in policy.jwt.issuers)


def select_trust(trusts: Sequence[Trust], claims: dict[str, Any], unset_issuers: Sequence[str] = ()) -> Trust:
    """The issuer entry whose issuer equals the (unverified) ``iss``; else the global trust; else refuse.

    ``unset_issuers``: variables of issuers entries dropped because they are unset (named in the refusal).
    """
    iss = claims.get("iss")
    for trust in trusts:
        if trust.scoped and trust.rules.issuer == iss:
            return trust
    for trust in trusts:
        if not trust.scoped:
            return trust
    if not trusts and unset_issuers:
        why, fix = unset_issuers_text(unset_issuers)
        raise KeySourceError(f"no key source is configured: {why}", code="jwks.not_configured", hint=fix)
    if not trusts:
        raise KeySourceError("no key source is configured: set issuers[].jwks_url, JWT_PUBLIC_KEY_URL, "
                             "jwtgate.jwks, or pass --jwks", code="jwks.not_configured")
    known = [t.rules.issuer for t in trusts if t.rules.issuer is not None]
    near = issuer_hint(iss, known)
    raise TokenError(f"issuer {iss!r} is not a configured issuer (configured: {', '.join(map(repr, known))})"
                     + (f"; {near}" if near else ""), code="token.issuer_unknown")


_Served = tuple[int, float, frozenset[tuple[str | None, str]]]  # (store generation, valid until, kid+thumbprint)


class Authenticator:
    """Verifies tokens against the policy's trusts, refetching keys once (rate-limited) on an unknown kid."""

    def __init__(self, policy: Policy, store: KeyStore, *, extra_sources: Sequence[str] = (),
                 clock: Callable[[], float] = time.time, leeway: float | None = None,
                 cache_size: int = S.default(S.SERVE, "verified_cache_size"),
                 cache_ttl: float = S.default(S.SERVE, "verified_cache_ttl")) -> None:
        from jwtgate.tokens.verify import VerifiedCache

        self.policy = policy
        self.store = store
        self.clock = clock
        self.trusts = build_trusts(policy, extra_sources, leeway)
        secret = policy.settings.hmac_secret
        self.hmac_secret = secret.encode() if secret else None
        self.cache: VerifiedCache = VerifiedCache(max_size=cache_size, ttl=cache_ttl)
        self._served: dict[int, _Served] = {}  # id(trust) -> its current keys, while the store has not changed

    # --- sync (CLI) --------------------------------------------------------------------------------

    def authenticate(self, token: str, *, now: float | None = None) -> VerifiedToken:
        """Verify or raise TokenError / KeySourceError."""
        trace = self.trace(token, now=now)
        if trace.error is not None:
            raise trace.error
        assert trace.verified is not None
        return trace.verified

    def trace(self, token: str, *, now: float | None = None) -> AuthTrace:
        """Verify, recording each step; never raises a token or key error."""
        steps: list[Step] = []
        rules: TokenRules | None = None
        stage = "token"
        try:
            parsed = self._parse(token, steps)
            stage = "trust"
            trust = select_trust(self.trusts, parsed.claims, self.policy.jwt.unset_issuers)
            rules = trust.rules
            steps.append(_trust_step(trust))
            stage = "keys"
            keys = self._keys(trust, steps)
            at = now if now is not None else self.clock()
            stage = "verify"
            verified = self._verify(parsed, keys, trust, at, steps)
        except (TokenError, KeySourceError) as err:
            steps.append(Step(_failed_step(stage, err.code), "fail", err.message, data={"code": err.code}))
            return AuthTrace(None, err, tuple(steps), rules)
        steps.extend(_success_steps(verified, rules, at))
        return AuthTrace(verified, None, tuple(steps), rules)

    def _parse(self, token: str, steps: list[Step]) -> ParsedToken:
        from jwtgate.tokens.verify import parse_token

        parsed = parse_token(token, max_bytes=self.policy.settings.max_token_bytes)
        h = parsed.header
        steps.append(Step("token", "ok", f"parsed: alg {h.get('alg')}, kid {h.get('kid')!r}, "
                          f"fingerprint {parsed.fingerprint}", data={"header": dict(h)}))
        return parsed

    def _keys(self, trust: Trust, steps: list[Step]) -> list[VerificationKey]:
        keys: list[VerificationKey] = []
        for source in trust.sources:
            info = self.store.get_keys(source, issuer=trust.rules.issuer if trust.scoped else None)
            keys.extend(info.keys)
            age = max(0.0, self.clock() - info.fetched_at)
            status: StepStatus = "warn" if info.stale else "ok"
            steps.append(Step("keys", status, f"{len(info.keys)} key(s) from {source} (age {age:.0f} s"
                              + (f", {self._why_stale()}" if info.stale else "") + ")"))
        return keys

    def _why_stale(self) -> str:
        if self.store.offline:
            return "STALE: expired, used offline inside the stale window (nothing was fetched)"
        return "STALE: the source is failing; served inside the stale window"

    def _verify(self, parsed: ParsedToken, keys: list[VerificationKey], trust: Trust, now: float,
                steps: list[Step]) -> VerifiedToken:
        from jwtgate.tokens.verify import verify_token

        try:
            return verify_token(parsed, keys, trust.rules, now=now, hmac_secret=self.hmac_secret)
        except TokenError as err:
            if err.code != "key.not_found" or not self._refresh(trust, parsed.header.get("kid")):
                raise
        steps.append(Step("keys", "info", "kid not in the cached set: refetched the key set once"))
        return verify_token(parsed, self._keys(trust, steps), trust.rules, now=now, hmac_secret=self.hmac_secret)

    def _refresh(self, trust: Trust, kid: Any) -> bool:
        if not isinstance(kid, str):
            return False
        issuer = trust.rules.issuer if trust.scoped else None
        return any([self.store.refresh_for_unknown_kid(src, kid, issuer=issuer) for src in trust.sources])

    # --- async (server) ---------------------------------------------------------------------------

    async def aauthenticate(self, token: str) -> VerifiedToken:
        """Verify with the verified-token cache; raises TokenError / KeySourceError."""
        now = self.clock()
        hit = self.cache.get(token, now)
        if hit is not None and await self._key_still_served(hit, now):
            return hit
        from jwtgate.tokens.verify import parse_token, verify_token

        parsed = parse_token(token, max_bytes=self.policy.settings.max_token_bytes)
        trust = select_trust(self.trusts, parsed.claims, self.policy.jwt.unset_issuers)
        keys = await self._akeys(trust)
        try:
            verified = verify_token(parsed, keys, trust.rules, now=now, hmac_secret=self.hmac_secret)
        except TokenError as err:
            kid = parsed.header.get("kid")
            if err.code != "key.not_found" or not await self._arefresh(trust, kid if isinstance(kid, str) else None):
                raise
            verified = verify_token(parsed, await self._akeys(trust), trust.rules, now=now,
                                    hmac_secret=self.hmac_secret)
        self.cache.put(token, verified, now)
        return verified

    async def _key_still_served(self, hit: VerifiedToken, now: float) -> bool:
        """A cached token stays valid only while its key is in the current set (refreshed on expiry; an
        outage past the stale window raises, so the cache never outlives the keys). The set is looked up
        in the store again whenever the store's generation moved or a source's keys reached their expiry.
        """
        k = hit.key
        if k.kty == "oct":  # the configured HMAC secret: changes only with the config, which clears the cache
            return True
        trust = select_trust(self.trusts, hit.claims, self.policy.jwt.unset_issuers)
        served = self._served.get(id(trust))
        if served is None or served[0] != self.store.generation or now >= served[1]:
            served = await self._served_keys(trust)
        return (k.kid, k.thumbprint) in served[2]

    async def _served_keys(self, trust: Trust) -> _Served:
        generation = self.store.generation  # read first: a change while fetching invalidates the memo
        issuer = trust.rules.issuer if trust.scoped else None
        infos = [await self.store.aget_keys(source, issuer=issuer) for source in trust.sources]
        until = min((info.expires_at for info in infos), default=float("-inf"))
        served = (generation, until, frozenset((x.kid, x.thumbprint) for info in infos for x in info.keys))
        self._served[id(trust)] = served
        return served

    async def _akeys(self, trust: Trust) -> list[VerificationKey]:
        keys: list[VerificationKey] = []
        for source in trust.sources:
            info = await self.store.aget_keys(source, issuer=trust.rules.issuer if trust.scoped else None)
            keys.extend(info.keys)
        return keys

    async def _arefresh(self, trust: Trust, kid: str | None) -> bool:
        if kid is None:
            return False
        issuer = trust.rules.issuer if trust.scoped else None
        results = [await self.store.arefresh_for_unknown_kid(src, kid, issuer=issuer) for src in trust.sources]
        return any(results)

    def clear_cache(self) -> None:
        """Forget verified tokens (keys changed, config reloaded)."""
        self.cache.clear()
        self._served.clear()


def _trust_step(trust: Trust) -> Step:
    r = trust.rules
    if trust.scoped:
        return Step("trust", "ok", f"iss matches configured issuer {r.issuer!r}; keys from {', '.join(trust.sources)}")
    return Step("trust", "info", "no issuers entry matched: using the global key sources "
                f"({', '.join(trust.sources)})")


def _success_steps(verified: VerifiedToken, rules: TokenRules | None, now: float) -> list[Step]:
    k = verified.key
    steps = [
        Step("key", "ok", f"kid {k.kid!r} ({k.detail}) from {k.source}, thumbprint {k.thumbprint[:12]}"),
        Step("signature", "ok", f"{verified.header.get('alg')} signature is valid"),
        Step("time claims", "ok", _times(verified.claims, rules, now)),
    ]
    if rules is None or rules.issuer is None:
        steps.append(Step("issuer", "warn", "no issuer configured: 'iss' was not checked (set JWT_ISSUER or issuers)"))
    else:
        steps.append(Step("issuer", "ok", f"iss = {rules.issuer!r}"))
    if rules is None or rules.audiences is None:
        steps.append(Step("audience", "warn", "no audience configured: 'aud' was not checked; any application on "
                          "this identity provider is accepted (set JWT_AUDIENCE or issuers[].audience)"))
    else:
        steps.append(Step("audience", "ok", f"aud contains one of {list(rules.audiences)}"))
    id_token = id_token_hint(verified.header, verified.claims)
    if id_token is not None:  # accepted (its aud is configured), but an API should be sent access tokens
        steps.append(Step("token", "warn", f"{id_token} (the configured audience is that client id, so it passed; "
                          "LiteLLM accepts it too)"))
    return steps


def _times(claims: dict[str, Any], rules: TokenRules | None, now: float) -> str:
    from jwtgate.timefmt import is_number, iso, relative

    leeway = rules.leeway if rules else 0
    exp = claims.get("exp")
    if not is_number(exp) or exp is None:
        return f"no exp claim (not required by this config); nbf/iat not in the future (leeway {leeway:g} s)"
    return f"expires {iso(float(exp))} ({relative(float(exp), now)}); nbf/iat not in the future (leeway {leeway:g} s)"
