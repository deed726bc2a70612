"""Verify-then-decide for one token: what check-token, explain --token, ``jwtgate test`` and serve call.

``check_token`` verifies with a step trace (``Authenticator.trace``) and decides on the verified claims;
the result is one :class:`TokenCheck` whose ``decision`` always exists: a refused token is a denying
Decision whose reason is the token error (with a note where LiteLLM would decide differently), and the
trace lists the verification steps, then decide()'s. ``decide_token`` is the policy half, which serve calls
on its cached verification (it authenticates before reading the body and decides once the model is known).
No I/O of its own: the key store is passed in and does whatever fetching its owner allowed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from jwtgate.model import Decision, Policy, Reason, Request, Step, VerifiedToken

if TYPE_CHECKING:
    from jwtgate.errors import JwtgateError
    from jwtgate.keys.store import KeyStore
    from jwtgate.policy.identity import Identity
    from jwtgate.tokens.authenticator import AuthTrace

# Where LiteLLM would decide differently about a refused token, by error code.
LITELLM_TOKEN_NOTES = {
    "token.claim_missing": "LiteLLM accepts a token without exp/iat (PyJWT checks them only when present); "
                           "jwtgate requires what jwtgate.require lists",
    "token.audience_mismatch": "LiteLLM checks aud only when JWT_AUDIENCE (or issuers[].audience) is set",
    "token.audience_missing": "LiteLLM checks aud only when JWT_AUDIENCE (or issuers[].audience) is set",
    "token.issuer_unknown": "LiteLLM's global JWT_PUBLIC_KEY_URL path accepts any iss whose key it finds; "
                            "jwtgate binds keys to configured issuers",
    "token.alg_key_mismatch": "LiteLLM ignores the JWK's declared alg (an RSA key verifies RS* and PS*); "
                              "jwtgate requires the declared alg",
}


@dataclass(frozen=True, slots=True)
class TokenCheck:
    """One token checked against one request.

    ``decision`` carries the whole trace (verification steps first). ``error`` is the refusal (None when
    verified), ``verified`` the token that passed; ``header`` and ``fingerprint`` are set whenever the token
    parsed, even if it was then refused; ``upstream`` is set when ``jwtgate.identity`` is configured and
    the request is allowed.
    """

    decision: Decision
    request: Request
    verified: VerifiedToken | None = None
    error: JwtgateError | None = None
    header: dict[str, Any] | None = None
    fingerprint: str | None = None
    upstream: Identity | None = None  # what jwtgate.identity sends upstream for an allowed request

    @property
    def allowed(self) -> bool:
        return self.error is None and self.decision.allowed


def check_token(policy: Policy, store: KeyStore, token: str, request: Request, *, extra_sources: Sequence[str] = (),
                now: float | None = None, leeway: float | None = None) -> TokenCheck:
    """Verify ``token`` with the policy's trusts (keys from ``store``), then decide ``request``.

    A token or key-source error becomes a denying Decision; an error whose exit code is 2 (a key file that
    cannot be read, a usage error) is raised instead, since it says nothing about the token.
    """
    from jwtgate.tokens.authenticator import Authenticator

    trace = Authenticator(policy, store, extra_sources=extra_sources, leeway=leeway).trace(token, now=now)
    if trace.error is not None and trace.error.exit_code == 2:
        raise trace.error
    return from_trace(policy, trace, request, token)


def from_trace(policy: Policy, trace: AuthTrace, request: Request, token: str) -> TokenCheck:
    """The TokenCheck of a verification trace: decide() on the verified claims, or the refusal."""
    header, fingerprint = _parsed(trace, token)
    if trace.verified is None:
        assert trace.error is not None
        return TokenCheck(refusal(trace.error, trace.steps), request, None, trace.error, header, fingerprint)
    from jwtgate.policy.forwarding import with_forwarding

    d = with_forwarding(policy, decide_token(policy, trace.verified, request), request.route)
    decision = Decision(d.allowed, d.reason, d.role, d.models, d.routes, d.subject, d.identity,
                        (*trace.steps, *d.steps), d.notes)
    upstream = upstream_identity(policy, decision, trace.verified.claims)
    return TokenCheck(decision, request, trace.verified, None, header, fingerprint, upstream)


def check_claims(policy: Policy, claims: Mapping[str, Any], request: Request) -> TokenCheck:
    """decide() on claims taken as given (``explain --claims``): the same result, never ``verified``."""
    from jwtgate.policy.decision import decide
    from jwtgate.policy.forwarding import with_forwarding

    decision = with_forwarding(policy, decide(policy, claims, request), request.route)
    return TokenCheck(decision, request, upstream=upstream_identity(policy, decision, claims))


def upstream_identity(policy: Policy, decision: Decision, claims: Mapping[str, Any]) -> Identity | None:
    """What ``jwtgate.identity`` sends upstream for an allowed request (None: not configured, or denied)."""
    if not decision.allowed:
        return None
    from jwtgate.policy.identity import NO_IDENTITY, identity_for

    identity = identity_for(policy, claims)
    return None if identity is NO_IDENTITY else identity


def decide_token(policy: Policy, verified: VerifiedToken, request: Request) -> Decision:
    """The policy half of a check: decide() on a verified token's claims."""
    from jwtgate.policy.decision import decide

    return decide(policy, verified.claims, request)


def refusal(error: JwtgateError, steps: Sequence[Step] = ()) -> Decision:
    """A refused token as a denying Decision: the error's code and message, and LiteLLM's difference."""
    note = LITELLM_TOKEN_NOTES.get(error.code)
    return Decision(False, Reason(error.code, error.message, error.location), None, None, None, None, {},
                    tuple(steps), (note,) if note else ())


def _parsed(trace: AuthTrace, token: str) -> tuple[dict[str, Any] | None, str | None]:
    """The header and fingerprint of a token that parsed (the "token" step), else (None, None)."""
    if trace.verified is not None:
        return dict(trace.verified.header), trace.verified.fingerprint
    step = next((s for s in trace.steps if s.name == "token" and s.status == "ok"), None)
    if step is None or not isinstance(step.data.get("header"), dict):
        return None, None
    from jwtgate.tokens.compact import fingerprint

    return dict(step.data["header"]), fingerprint(token)
