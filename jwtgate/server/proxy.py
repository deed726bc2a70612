"""Relaying an allowed request to its upstream: chunk by chunk, cancelled when the client goes away."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

from jwtgate.model import Decision, Policy
from jwtgate.policy.identity import Identity, removed_headers
from jwtgate.server.context import Ctx
from jwtgate.server.http_client import ConnectFailed, Response, Timeout, UpstreamError
from jwtgate.server.inbound import Body, path_model, rewrite_model, rewrite_path_model, user_field
from jwtgate.server.pipeline import Pipeline
from jwtgate.server.responses import Refusal
from jwtgate.server.state import AppState, Gate
from jwtgate.server.types import Receive, Scope, Send
from jwtgate.server.upstream import Target, blocked_headers, forward_headers, response_headers, target_url

BUFFER_LIMIT = 256 * 1024  # a non-streaming reply up to this size is read whole and sent in one message
WATCH_AFTER = 0.05  # seconds before a request's client-disconnect watcher starts


class Forwarder:
    """Sends allowed requests upstream and relays the replies."""

    def __init__(self, state: AppState, pipeline: Pipeline) -> None:
        self.state, self.pipeline = state, pipeline
        s = state.settings
        self.blocked = blocked_headers((s.subject_header, s.role_header))
        self._blocked_for: tuple[Policy | None, frozenset[bytes]] = (None, self.blocked)

    def blocked_for(self, policy: Policy) -> frozenset[bytes]:
        """Client headers never forwarded under ``policy``: the fixed ones and those jwtgate.identity owns."""
        cached, blocked = self._blocked_for
        if cached is not policy:
            blocked = self.blocked | {n.encode("latin-1") for n in removed_headers(policy)}
            self._blocked_for = (policy, blocked)
        return blocked

    async def forward(self, scope: Scope, receive: Receive, send: Send, gate: Gate, decision: Decision,
                      body: Body, ctx: Ctx, claims: Mapping[str, Any], credential: str | None = None) -> None:
        """Forward and relay; a client disconnect cancels the upstream request (this task).

        ``credential``: the role whose ``upstream_keys`` entry replaces the shared upstream credential.
        """
        model = ctx.model
        target = gate.targets.for_model(model)
        if target is None:
            raise Refusal(502, "upstream.not_configured", "no upstream for this request: pass --upstream or give "
                          "the model an api_base", "error")
        identity_headers, identity = self.pipeline.identity(decision, gate.policy, claims)
        path, data = self._rewrite(scope, target, model, body, _end_user(scope["path"], body, identity))
        key_header = "x-api-key" if path.endswith("/messages") and _sent(scope, b"x-api-key") else "authorization"
        api_key = target.api_key
        if credential is not None and not target.strip_version:  # the upstream, not a model's api_base
            api_key = gate.policy.settings.serve.upstream_keys[credential]
        headers = forward_headers(scope["headers"], self.blocked_for(gate.policy), identity_headers, api_key,
                                  key_header)
        url = target_url(target, path, scope.get("query_string", b""))
        with _DisconnectWatch(receive, ctx):
            await self.relay(send, scope["method"], url, headers, data, ctx)

    def _rewrite(self, scope: Scope, target: Target, model: str | None, body: Body,
                 user: tuple[str, str] | None) -> tuple[str, bytes]:
        """The upstream path and body: the upstream's model name, and the verified end user (one JSON pass)."""
        path: str = scope["path"]
        if target.model is None or model is None or target.model == model:
            if user is None:
                return path, body.data
            return path, rewrite_model(body, None, None, user)
        if path_model(path) == model:  # Azure-style: the path names the model as the body does
            path = rewrite_path_model(path, model, target.model)
        if body.model is not None:
            ctype = next((v for k, v in scope["headers"] if k == b"content-type"), None)
            return path, rewrite_model(body, target.model, ctype, user)
        return path, rewrite_model(body, None, None, user) if user else body.data

    async def relay(self, send: Send, method: str, url: str, headers: list[tuple[str, str]], data: bytes,
                    ctx: Ctx) -> None:
        """Send upstream; map failures before the reply starts to 502/504; relay the reply as it comes."""
        t0 = time.perf_counter()
        try:
            resp = await self.state.upstream.send(method, url, headers, data)
            try:
                self.state.metrics.upstream_latency.observe(time.perf_counter() - t0)
                await self._relay_response(send, resp, ctx)
            finally:  # back to the pool only when the reply was read to its end
                self.state.upstream.release(resp.conn)
        except Timeout:
            self._upstream_failed(ctx, 504, "upstream.timeout", "the upstream did not answer in time")
        except ConnectFailed as exc:
            self._upstream_failed(ctx, 502, "upstream.unreachable", f"cannot connect to the upstream ({exc})")
        except UpstreamError as exc:
            self._upstream_failed(ctx, 502, "upstream.reset", f"the upstream connection failed ({exc})")

    def _upstream_failed(self, ctx: Ctx, status: int, code: str, message: str) -> None:
        self.state.metrics.upstream_errors.labels(code).inc()
        if not ctx.started:
            raise Refusal(status, code, message, "error")
        ctx.reason = code  # the reply had started: end the connection so the client sees it was cut short
        self.state.events.warning("upstream failed mid-reply: %s", message)

    async def _relay_response(self, send: Send, resp: Response, ctx: Ctx) -> None:
        ctx.upstream_status = ctx.status = resp.status
        headers = response_headers(resp.headers)
        length = resp.content_length
        stream = length is None or length > BUFFER_LIMIT or resp.content_type == "text/event-stream"
        if not stream:
            payload = await resp.read()
            ctx.started = True
            await send({"type": "http.response.start", "status": resp.status, "headers": headers})
            ctx.complete = True
            await send({"type": "http.response.body", "body": payload, "more_body": False})
            return
        ctx.started = True
        await send({"type": "http.response.start", "status": resp.status, "headers": headers})
        async for chunk in resp.iter_chunks():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        ctx.complete = True
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def _end_user(path: str, body: Body, identity: Identity) -> tuple[str, str] | None:
    """(field, value) for the body's end user under ``jwtgate.identity.user_field``; None when not set or
    the body is not a JSON object on an endpoint that names one. No usable claim: refused (403)."""
    if identity.user is None and identity.user_problem is None:
        return None
    where = user_field(path)
    if where is None or body.kind != "json" or body.parsed is None:
        return None
    if identity.user is None:
        raise Refusal(403, "policy.identity_missing", f"{identity.user_problem}, so the request's end user cannot "
                      "be set")
    return where, identity.user


def _sent(scope: Scope, name: bytes) -> bool:
    return any(k == name for k, _ in scope["headers"])


class _DisconnectWatch:
    """Cancels the current task (the upstream request) when the client disconnects.

    ASGI reports a disconnect only through ``receive()``, so a task must wait on it. Most replies are
    done within ``WATCH_AFTER``; the watcher task is only started for those that are not (streams,
    slow generations), which keeps a task per request off the fast path.
    """

    def __init__(self, receive: Receive, ctx: Ctx) -> None:
        self.receive, self.ctx = receive, ctx
        self.task = asyncio.current_task()
        self.watcher: asyncio.Task[None] | None = None
        self.timer: asyncio.TimerHandle | None = None

    def __enter__(self) -> None:
        if self.task is not None:
            self.timer = self.task.get_loop().call_later(WATCH_AFTER, self._start)

    def __exit__(self, *exc: object) -> None:
        if self.timer is not None:
            self.timer.cancel()
        if self.watcher is not None:
            self.watcher.cancel()

    def _start(self) -> None:
        self.watcher = asyncio.ensure_future(self._wait())
        self.watcher.add_done_callback(self._done)

    async def _wait(self) -> None:
        while (await self.receive())["type"] != "http.disconnect":
            pass

    def _done(self, watcher: asyncio.Task[None]) -> None:
        if watcher.cancelled() or watcher.exception() is not None or self.ctx.complete or self.task is None:
            return
        self.ctx.disconnected = True
        self.task.cancel()
