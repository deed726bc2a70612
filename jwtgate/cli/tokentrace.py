"""Token cases for ``explain --token`` and ``jwtgate test``: verify (jwtgate.auth), then decide().

A refused token becomes a denying Decision whose reason is the token error, so explain and test render
verification and policy the same way. The verification steps come first in the trace.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from jwtgate.model import Decision, Policy, Reason, Request

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


def verify_and_decide(policy: Policy, token: str, keys: list[str], request: Request, now: float | None,
                      cache_dir: Path | None) -> tuple[Decision, dict[str, Any] | None]:
    """check-token's verify-then-decide, as one Decision (a refused token denies with its error code),
    and the verified claims (None for a refused token)."""
    from jwtgate.cli.check_token import run_check

    trace, d = run_check(policy, token, request, sources=keys, now=now, leeway=None, cache_dir=cache_dir,
                         offline=False)
    if d is None:
        err = trace.error
        assert err is not None
        note = LITELLM_TOKEN_NOTES.get(err.code)
        return Decision(False, Reason(err.code, err.message, err.location), None, None, None, None, {},
                        tuple(trace.steps), (note,) if note else ()), None
    assert trace.verified is not None
    return Decision(d.allowed, d.reason, d.role, d.models, d.routes, d.subject, d.identity,
                    (*trace.steps, *d.steps), d.notes), trace.verified.claims


def trace_token(policy: Policy, token: str, keys: list[str], request: Request, fmt: str) -> int:
    """``explain --token``: the verification and decision trace; exit 0 allowed, 1 denied or refused."""
    import typer

    from jwtgate.cli.options import dump_json
    from jwtgate.cli.token_arg import read_token_arg
    from jwtgate.keys.disk_cache import default_cache_dir
    from jwtgate.render import explain as R

    decision, claims = verify_and_decide(policy, read_token_arg(token), keys, request, None,
                                         default_cache_dir(os.environ, Path.home()))
    label = "VERIFIED token" if claims is not None else "token REFUSED"
    upstream = R.upstream_identity(policy, decision, claims)
    if fmt == "json":
        dump_json(R.trace_json(decision, request, verified=claims is not None, upstream=upstream))
    else:
        typer.echo(R.trace_text(decision, request, label, upstream), nl=False)
    return 0 if decision.allowed else 1


def token_case_decider(policy: Policy, token: str, keys: str | None, request: Request,
                       now: float | None) -> Decision:
    """``jwtgate test`` token cases: no disk cache, the file's ``jwks:`` as an extra source."""
    return verify_and_decide(policy, token, [keys] if keys else [], request, now, None)[0]

