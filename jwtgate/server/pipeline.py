"""The request pipeline every gated route shares: authenticate the bearer token, read the body (bounded),
decide for the request, and the identity headers an allowed request carries.

The proxy, ``/v1/models`` and forward-auth (``/auth/verify``) each read their request their own way and
then go through these same steps, so a token and a request get the same answer on every route.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from jwtgate.check import decide_token
from jwtgate.errors import JwtgateError
from jwtgate.model import Decision, Policy, Request, ServeSettings, VerifiedToken
from jwtgate.policy.identity import NO_IDENTITY, Identity, identity_for
from jwtgate.server import shadow
from jwtgate.server.context import Ctx
from jwtgate.server.inbound import bearer_token, header
from jwtgate.server.metrics import Metrics
from jwtgate.server.responses import Refusal, read_body
from jwtgate.server.state import Gate
from jwtgate.server.types import Receive, Scope
from jwtgate.tokens.compact import token_facts

Auth = tuple[str, VerifiedToken]  # the bearer token as sent and its verification
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # what cannot travel in a header value


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


class Pipeline:
    """authenticate -> body -> decide -> identity, for one request against one Gate (read once per request)."""

    def __init__(self, settings: ServeSettings, metrics: Metrics) -> None:
        self.subject_header, self.role_header = settings.subject_header, settings.role_header
        self.max_body = settings.max_body_bytes
        self.metrics = metrics

    async def authenticate(self, gate: Gate, scope: Scope, ctx: Ctx) -> Auth:
        """The token and its verification, or a Refusal: 401 missing/invalid, 503 when keys cannot be had."""
        token = bearer_token(scope["headers"])
        if token is None:
            raise Refusal(401, "token.missing", "no credentials: send 'Authorization: Bearer <JWT>'")
        try:
            verified = await gate.authenticator.aauthenticate(token)
        except JwtgateError as err:
            facts = token_facts(token, max_bytes=gate.policy.settings.max_token_bytes)
            ctx.fingerprint, ctx.kid, ctx.iss = facts.fingerprint, facts.kid, facts.iss
            status = 503 if err.code.startswith("jwks.") else 401
            raise Refusal(status, err.code, err.message, "deny" if status == 401 else "error") from None
        ctx.fingerprint, ctx.kid = verified.fingerprint, _text(verified.header.get("kid"))
        ctx.iss = _text(verified.claims.get("iss"))
        return token, verified

    async def body(self, scope: Scope, receive: Receive) -> bytes:
        """The whole request body; 413 past ``max_body_bytes``, declared or received."""
        return await read_body(receive, self.max_body, header(scope["headers"], b"content-length"))

    def decide(self, gate: Gate, auth: Auth, model: str | None, route: str, ctx: Ctx, needs_model: bool) -> Decision:
        """decide() (cached per config); a denial is a 403 Refusal."""
        key = (auth[0], model, route, needs_model)
        decision = gate.decisions.get(key)
        if decision is None:
            decision = decide_token(gate.policy, auth[1], Request(model, route, needs_model))
            gate.decisions.put(key, decision)
        ctx.subject, ctx.role = decision.subject, decision.role
        if gate.shadow is not None or gate.log_paths is not None:
            shadow.observe(gate, auth[1].claims, key, decision, ctx, self.metrics)
        if not decision.allowed:
            reason = decision.reason
            raise Refusal(403, reason.code if reason else "policy.denied", reason.message if reason else "denied")
        ctx.decision = "allow"
        return decision

    def identity(self, decision: Decision, policy: Policy, claims: Mapping[str, Any]) -> tuple[dict[str, str],
                                                                                                Identity]:
        """Identity headers for the upstream (subject, role, ``jwtgate.identity.headers``) and the end-user
        value (``jwtgate.identity.user_field``); a value that cannot travel in a header is refused (403)."""
        out = {}
        for name, value in ((self.subject_header, decision.subject), (self.role_header, decision.role)):
            if not value:
                continue
            if _CONTROL.search(value):
                raise Refusal(403, "policy.identity_invalid",
                              f"the token's identity cannot be sent upstream as {name}: it contains control characters")
            out[name] = value
        identity = identity_for(policy, claims)
        if identity is NO_IDENTITY:
            return out, identity
        if identity.problem is not None:
            raise Refusal(403, "policy.identity_invalid", f"the token's identity cannot be sent upstream: "
                          f"{identity.problem}")
        out.update(identity.headers)
        return out, identity
