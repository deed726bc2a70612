"""``/auth/verify``: the decision alone, for nginx ``auth_request``, Traefik ForwardAuth and Envoy ``ext_authz``.

The token comes from ``Authorization``; the route from ``X-Original-URI`` (nginx) or ``X-Forwarded-Uri``
(Traefik) or the path after ``/auth/verify`` (Envoy), the method from ``X-Original-Method`` /
``X-Forwarded-Method`` (POST when absent); the model
from the path, a forwarded body (Envoy ``with_request_body``) or ``X-Model``; when several name a
model they must agree. 200 carries the identity headers; 401/403 carry ``X-Jwtgate-Reason``.
Gateways treat any other status as a failure, so a malformed request is a 403 here, never a 400.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from jwtgate.model import Decision
from jwtgate.policy.forwarding import PROXY_ADMIN, SHARED_OK, UPSTREAM_SCOPE, forwarding
from jwtgate.server.context import Ctx
from jwtgate.server.inbound import BadRequest, check_path, header, parse_body, path_model, takes_body_model
from jwtgate.server.pipeline import Pipeline
from jwtgate.server.responses import Refusal, send_bytes
from jwtgate.server.state import Gate
from jwtgate.server.types import Headers, Receive, Scope, Send

PATH = "/auth/verify"


def is_verify(path: str) -> bool:
    return path == PATH or path.startswith(PATH + "/")


def original_route(scope: Scope) -> tuple[str, str]:
    """(method, path) of the request the gateway is asking about.

    Envoy's HTTP ext_authz calls ``/auth/verify/<original path>`` with the original method.
    """
    headers: Headers = scope["headers"]
    uri = header(headers, b"x-original-uri") or header(headers, b"x-forwarded-uri")
    suffix = scope["path"][len(PATH):]
    if not uri and suffix:
        return scope["method"], suffix
    if not uri:
        raise Refusal(403, "request.no_original_uri", "forward-auth needs X-Original-URI or X-Forwarded-Uri")
    method = header(headers, b"x-original-method") or header(headers, b"x-forwarded-method") or b"POST"
    path = unquote(urlsplit(uri.decode("latin-1")).path) or "/"
    return method.decode("latin-1").upper(), path


def request_model(path: str, body_model: str | None, header_model: str | None) -> str | None:
    """The one model the path, body and X-Model name; 403 when they disagree."""
    named = {m for m in (path_model(path), body_model, header_model) if m}
    if len(named) > 1:
        raise Refusal(403, "request.model_mismatch", f"the request names several models: {sorted(named)}")
    return named.pop() if named else None


def _check_gateway_credential(gate: Gate, decision: Decision, route: str) -> None:
    """The forwarding rule (``policy.forwarding``) where jwtgate neither answers nor picks the credential: the
    gateway sends its own, so a route it would answer for that credential is admin-only (403)."""
    how = forwarding(gate.policy, decision, route)
    if how.group in SHARED_OK or (how.how == "forward" and decision.role == PROXY_ADMIN):
        return
    raise Refusal(403, UPSTREAM_SCOPE, f"{route} ({how.group} route) is answered by the upstream for the "
                  "gateway's credential, not the caller's: through forward-auth only proxy_admin may call it "
                  "(jwtgate serve answers /v1/models and /model/info itself)")


async def verify(pipeline: Pipeline, gate: Gate, scope: Scope, receive: Receive, send: Send, ctx: Ctx) -> None:
    """Answer the gateway's question about the request it holds: 200 with identity headers, else a Refusal."""
    headers = scope["headers"]
    method, route = original_route(scope)
    ctx.method, ctx.path = method, route  # the log line is about the request the gateway holds
    auth = await pipeline.authenticate(gate, scope, ctx)
    data = await pipeline.body(scope, receive)
    try:
        check_path(route)
        body_model = parse_body(data, header(headers, b"content-type")).model if data.strip() else None
    except BadRequest as bad:
        raise Refusal(403, bad.code, bad.message) from None
    x_model = header(headers, b"x-model")
    ctx.model = request_model(route, body_model, x_model.decode("utf-8", "replace") if x_model else None)
    needs_model = takes_body_model(method, route) or ctx.model is not None
    decision = pipeline.decide(gate, auth, ctx.model, route, ctx, needs_model)
    _check_gateway_credential(gate, decision, route)
    identity, _ = pipeline.identity(decision, gate.policy, auth[1].claims)
    out = [(k.encode("latin-1"), v.encode("utf-8")) for k, v in identity.items()]
    ctx.status = 200
    await send_bytes(send, 200, b"", out)
