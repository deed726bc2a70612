"""Token verification: one function, used by ``check-token``, ``explain`` and ``serve``.

``verify_token`` checks a ``ParsedToken`` (see ``jwtgate.tokens.compact``) against configured keys and rules:
header (alg, crit, typ, kid), key selection, signature, then claims. Every refusal is a ``TokenError``
with a stable code and a message that says what is wrong and how to fix it. The token never chooses
its own key: ``jku``, ``x5u``, ``jwk`` and ``x5c`` are ignored for lookup.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, NoReturn

from jwtgate.errors import TokenError
from jwtgate.model import TokenRules, VerificationKey, VerifiedToken
from jwtgate.timefmt import exact_seconds, iso
from jwtgate.tokens.algorithms import (
    ALGORITHMS,
    DEFAULT_ALGORITHMS,
    HMAC_ALGORITHMS,
    SUPPORTED_ALGORITHMS,
    Verifier,
    check_hmac,
    make_verifier,
)
from jwtgate.tokens.cache import VerifiedCache
from jwtgate.tokens.compact import ParsedToken, parse_token
from jwtgate.tokens.hints import id_token_hint, issuer_hint

__all__ = [
    "ParsedToken",
    "VerifiedCache",
    "allowed_algorithms",
    "check_claims",
    "parse_token",
    "verify_compact",
    "verify_token",
]


_TYPES = frozenset({"jwt", "at+jwt", "application/jwt", "application/at+jwt"})
_HMAC = frozenset(HMAC_ALGORITHMS)
_HMAC_KEY_SOURCE = "jwtgate.hmac_secret"
_MAX_TIME = 2**53  # larger integers are no time and would overflow a float


def _fail(code: str, message: str) -> TokenError:
    return TokenError(message, code=code)


def _show(value: Any, limit: int = 60) -> str:
    """A short repr of an attacker-controlled value for a message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@lru_cache(maxsize=64)
def allowed_algorithms(configured: tuple[str, ...] | None, has_hmac_secret: bool) -> frozenset[str]:
    """The effective algorithm allow-list: the configured one, or jwtgate's default (HS* with a secret)."""
    if configured is None:
        return frozenset(DEFAULT_ALGORITHMS + (HMAC_ALGORITHMS if has_hmac_secret else ()))
    return frozenset(a for a in configured if a in ALGORITHMS or (has_hmac_secret and a in HMAC_ALGORITHMS))


# --- header -----------------------------------------------------------------------------------------


def _check_alg(header: dict[str, Any], rules: TokenRules, has_secret: bool) -> str:
    alg = header.get("alg")
    if type(alg) is not str or alg not in allowed_algorithms(rules.algorithms, has_secret):
        _refuse_alg(alg, rules, has_secret)  # "none" is never in the allow-list
    if "crit" in header or "typ" in header or type(header.get("kid", "")) is not str:
        _check_header(header)
    return alg


def _refuse_alg(alg: Any, rules: TokenRules, has_secret: bool) -> NoReturn:
    if not isinstance(alg, str) or not alg:
        raise _fail("token.malformed", "the header has no 'alg' (a string naming the signature algorithm)")
    if alg.lower() == "none":
        raise _fail("token.alg_none", f"alg {_show(alg)} (an unsigned token) is always refused")
    if alg in HMAC_ALGORITHMS and not has_secret:
        hint = "HMAC needs a shared secret in jwtgate.hmac_secret; keys from a JWKS or PEM never verify it"
    elif alg not in SUPPORTED_ALGORITHMS:
        hint = f"jwtgate supports {', '.join(sorted(SUPPORTED_ALGORITHMS))}"
    else:
        hint = "add it to jwtgate.algorithms if your IdP really signs with it"
    allowed = ", ".join(sorted(allowed_algorithms(rules.algorithms, has_secret)))
    raise _fail("token.alg_not_allowed", f"alg {_show(alg)} is not allowed (allowed: {allowed}); {hint}")


def _check_header(header: dict[str, Any]) -> None:
    if "crit" in header:
        raise _fail(
            "token.crit_unsupported",
            f"the header marks {_show(header['crit'])} as critical (crit); jwtgate implements no JWS "
            "extensions, so it must refuse the token; ask the IdP to issue plain JWS tokens",
        )
    typ = header.get("typ")
    if typ is not None and (not isinstance(typ, str) or typ.lower() not in _TYPES):
        raise _fail(
            "token.typ_invalid",
            f"typ {_show(typ)} is not an access-token type (JWT or at+jwt); a token of another kind "
            "(ID token for another use, logout token, DPoP proof …) must not be used here",
        )
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise _fail("token.kid_invalid", f"kid must be a string, got {type(kid).__name__} {_show(kid)}")


# --- key selection ----------------------------------------------------------------------------------


def _describe(keys: Sequence[VerificationKey]) -> str:
    kids = [repr(k.kid) if k.kid is not None else "(no kid)" for k in keys]
    listed = ", ".join(kids[:8]) + (f" and {len(kids) - 8} more" if len(kids) > 8 else "")
    sources = sorted({k.source for k in keys})
    return f"{len(keys)} usable key(s) [{listed}] from {', '.join(sources) or 'no source'}"


def _by_kid(kid: str, keys: Sequence[VerificationKey]) -> VerificationKey:
    match = None
    for key in keys:
        if key.kid == kid and key.problem is None:
            if match is not None:
                raise _fail("key.ambiguous", f"several usable keys share kid {_show(kid)}; fix the key set")
            match = key
    if match is None:
        raise _kid_not_found(kid, keys)
    return match


def _kid_not_found(kid: str, keys: Sequence[VerificationKey]) -> TokenError:
    usable = [k for k in keys if k.problem is None]
    unusable = next((k for k in keys if k.kid == kid), None)
    why = (
        f"; the key with that kid from {unusable.source} is not usable: {unusable.problem}"
        if unusable
        else ""
    )
    return _fail(
        "key.not_found",
        f"no usable key has kid {_show(kid)} ({_describe(usable)}){why}; jwtgate refetches the set on an "
        "unknown kid (in serve too, at most once per source per key_refetch_cooldown), so a newly published "
        "key needs no restart: retry after the cooldown; else the token was not issued by a trusted issuer",
    )


def _select_key(kid: str | None, keys: Sequence[VerificationKey], rules: TokenRules) -> VerificationKey:
    if kid is not None:
        return _by_kid(kid, keys)
    usable = [k for k in keys if k.problem is None]
    if len(usable) == 1 and rules.allow_kidless_single_key:
        return usable[0]
    why = (
        "jwtgate.allow_kidless_single_key is off"
        if len(usable) == 1
        else f"the key set has {_describe(usable)}, so a token without kid cannot choose one"
    )
    raise _fail("key.ambiguous", f"the token has no kid and {why}; ask the IdP to put a kid in the header")


# Verifiers bound to a key, per (key, alg): the fit check and the key's constants run once per key.
# Entries hold the key itself, so an id() is never reused while its entry lives.
_VERIFIERS: dict[int, tuple[VerificationKey, dict[str, Verifier]]] = {}
_VERIFIERS_SIZE = 1024


def _prepare_verifier(key: VerificationKey, alg: str) -> Verifier:
    spec = ALGORITHMS[alg]
    if key.kty == "oct":
        raise _fail(
            "token.alg_key_mismatch",
            f"key {_show(key.kid)} from {key.source} is a symmetric (oct) key; keys from a key set never "
            "verify tokens, configure HMAC secrets in jwtgate.hmac_secret",
        )
    made = make_verifier(spec, key.kty, key.key)
    if not isinstance(made, str) and key.alg is not None and key.alg != alg:
        made = f"the key declares alg {key.alg}, the token says {alg}"
    if isinstance(made, str):
        raise _fail("token.alg_key_mismatch", f"{made} (key {_show(key.kid)} from {key.source})")
    if len(_VERIFIERS) >= _VERIFIERS_SIZE:
        _VERIFIERS.clear()
    entry = _VERIFIERS.get(id(key))
    if entry is None or entry[0] is not key:
        entry = _VERIFIERS[id(key)] = (key, {})
    entry[1][alg] = made
    return made


def _hmac_key(alg: str, kid: str | None) -> VerificationKey:
    return VerificationKey(
        kid=kid, kty="oct", alg=alg, use="sig", key=None, source=_HMAC_KEY_SOURCE, thumbprint="",
        detail="configured shared secret",
    )  # fmt: skip


def _check_signature(
    parsed: ParsedToken, alg: str, keys: Sequence[VerificationKey], rules: TokenRules, secret: bytes | None
) -> VerificationKey:
    kid = parsed.header.get("kid")
    if alg in _HMAC:
        if not secret:  # unreachable: _check_alg allows HS* only with a secret
            raise _fail("token.alg_not_allowed", f"{alg} needs jwtgate.hmac_secret")
        key = _hmac_key(alg, kid)
        valid = check_hmac(alg, secret, parsed.signature, parsed.signing_input)
    else:
        key = _select_key(kid, keys, rules)
        entry = _VERIFIERS.get(id(key))  # inlined _verifier() fast path
        verifier = entry[1].get(alg) if entry is not None and entry[0] is key else None
        valid = (verifier or _prepare_verifier(key, alg))(parsed.signature, parsed.signing_input)
    if not valid:
        raise _fail(
            "token.signature_invalid",
            f"the {alg} signature does not verify with key {_show(key.kid)} from {key.source}; the token "
            "was altered, or signed by another key (wrong issuer or environment?)",
        )
    return key


# --- claims -----------------------------------------------------------------------------------------


def _number(claims: dict[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    kind = type(value)  # exact types: bool (an int subclass) is refused
    if (kind is int and -_MAX_TIME < value < _MAX_TIME) or (kind is float and math.isfinite(value)):
        return value  # type: ignore[no-any-return]
    raise _fail(
        "token.claim_type",
        f"claim {name!r} must be a finite JSON number of seconds since the epoch, got "
        f"{kind.__name__} {_show(value)}; fix the IdP's token mapper",
    )


def _check_times(claims: dict[str, Any], now: float, leeway: float) -> None:
    exp, nbf, iat = claims.get("exp"), claims.get("nbf"), claims.get("iat")
    if not (  # fast path: three integers in range; anything else gets the careful per-claim check
        type(exp) is type(nbf) is type(iat) is int
        and -_MAX_TIME < exp < _MAX_TIME
        and -_MAX_TIME < nbf < _MAX_TIME
        and -_MAX_TIME < iat < _MAX_TIME
    ):
        exp, nbf, iat = _number(claims, "exp"), _number(claims, "nbf"), _number(claims, "iat")
    if exp is not None and now - leeway >= exp:
        raise _fail(
            "token.expired",
            f"expired {exact_seconds(now - exp)} ago at {iso(exp)}; leeway {exact_seconds(leeway)}; get a fresh token",
        )
    if nbf is not None and nbf > now + leeway:
        raise _fail(
            "token.not_yet_valid",
            f"not valid before {iso(nbf)} ({exact_seconds(nbf - now)} from now); leeway {exact_seconds(leeway)}; "
            "check the clocks of the IdP and this host",
        )
    if iat is not None and iat > now + leeway:
        raise _fail(
            "token.issued_in_future",
            f"issued at {iso(iat)}, {exact_seconds(iat - now)} in the future; leeway {exact_seconds(leeway)}; "
            "check the clocks of the IdP and this host",
        )


def _check_required(claims: dict[str, Any], require: Sequence[str]) -> None:
    missing = [name for name in require if claims.get(name) is None]
    if missing:
        raise _fail(
            "token.claim_missing",
            f"required claim(s) {', '.join(map(repr, missing))} missing; the IdP must include them "
            "(jwtgate.require lists what is required)",
        )


def _check_issuer(claims: dict[str, Any], issuer: str) -> None:
    actual = claims.get("iss")
    if actual != issuer:
        shown = "no 'iss' claim" if actual is None else f"iss {_show(actual, 120)}"
        near = issuer_hint(actual, (issuer,))
        raise _fail(
            "token.issuer_mismatch",
            f"expected iss {issuer!r}, the token has {shown}; "
            + (near or "check the issuer URL in the config (exact match: scheme, host, path, trailing slash)"),
        )


def _aud_type(aud: Any) -> TokenError:
    return _fail("token.claim_type", f"claim 'aud' must be a string or a list of strings, got {_show(aud)}")


def _check_audience(claims: dict[str, Any], audiences: tuple[str, ...], header: dict[str, Any]) -> None:
    aud = claims.get("aud")
    if aud is None:
        raise _fail(
            "token.audience_missing", f"the token has no 'aud' claim; expected one of {list(audiences)}"
        )
    if type(aud) is str:
        if aud in audiences:
            return
    elif type(aud) is list:
        found = False
        for value in aud:
            if type(value) is not str:
                raise _aud_type(aud)
            found = found or value in audiences
        if found:
            return
    else:
        raise _aud_type(aud)
    why = id_token_hint(header, claims) or "the token was issued for another client, or the config's audience is wrong"
    raise _fail("token.audience_mismatch",
                f"aud {_show(aud, 120)} contains none of the configured audiences {list(audiences)}; {why}")


def check_claims(claims: dict[str, Any], rules: TokenRules, *, now: float,
                 header: dict[str, Any] | None = None) -> None:
    """Check required claims, time claims, issuer and audience; raise ``TokenError`` on the first failure."""
    for name in rules.require:
        if claims.get(name) is None:
            _check_required(claims, rules.require)
    _check_times(claims, now, rules.leeway)
    if rules.issuer is not None and claims.get("iss") != rules.issuer:
        _check_issuer(claims, rules.issuer)
    if rules.audiences is not None and not (type(aud := claims.get("aud")) is str and aud in rules.audiences):
        _check_audience(claims, rules.audiences, header or {})


# --- the one entry point ----------------------------------------------------------------------------


def verify_token(
    parsed: ParsedToken,
    keys: Sequence[VerificationKey],
    rules: TokenRules,
    *,
    now: float,
    hmac_secret: bytes | None = None,
) -> VerifiedToken:
    """Verify header, key, signature and claims of a parsed token; raise ``TokenError`` on any failure."""
    header = parsed.header
    alg = _check_alg(header, rules, bool(hmac_secret))
    key = _check_signature(parsed, alg, keys, rules, hmac_secret)
    check_claims(parsed.claims, rules, now=now, header=parsed.header)
    return VerifiedToken(header, parsed.claims, key, parsed.fingerprint)


def verify_compact(
    token: str,
    keys: Sequence[VerificationKey],
    rules: TokenRules,
    *,
    now: float,
    hmac_secret: bytes | None = None,
    cache: VerifiedCache | None = None,
) -> VerifiedToken:
    """``parse_token`` + ``verify_token`` through ``cache`` when given (one cache per key set and rules)."""
    if cache is not None:
        hit = cache.get(token, now)
        if hit is not None:
            return hit
    parsed = parse_token(token, max_bytes=rules.max_token_bytes)
    verified = verify_token(parsed, keys, rules, now=now, hmac_secret=hmac_secret)
    if cache is not None:
        cache.put(token, verified, now)
    return verified
