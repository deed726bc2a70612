"""create_app(state) -> a raw ASGI app: routes each request to the proxy, the models list, forward-auth or ops.

The gated routes share one pipeline (``server/pipeline.py``: authenticate -> decide -> identity).

A raw ASGI callable rather than a framework: on the request path every microsecond is the gateway's
overhead (see README "Performance"). Every refusal is an OpenAI-shaped error carrying jwtgate's reason
code; anything unexpected is a 500 from jwtgate and a logged traceback, never an allow.
"""

from __future__ import annotations

import asyncio
import json
import signal
import threading
import time
from typing import Any

from jwtgate.model import ModelEntry, VerifiedToken
from jwtgate.policy.decision import allowed_models
from jwtgate.policy.forwarding import forwarding, refusal_reason
from jwtgate.policy.routing import provider_of
from jwtgate.server import forward_auth, reload
from jwtgate.server.context import Ctx
from jwtgate.server.inbound import (
    BadRequest,
    Body,
    check_headers,
    check_path,
    header,
    parse_body,
    path_model,
    takes_body_model,
)
from jwtgate.server.metrics import CONTENT_TYPE
from jwtgate.server.pipeline import Pipeline
from jwtgate.server.proxy import Forwarder
from jwtgate.server.responses import ClientGone, Refusal, is_anthropic, send_bytes, send_json, send_refusal
from jwtgate.server.state import AppState, Gate
from jwtgate.server.types import Receive, Scope, Send

MODEL_LIST_PATHS = ("/v1/models", "/models")


class JwtgateApp:
    """The ASGI callable. ``state.holder.gate`` is read once per request (reload swaps it)."""

    def __init__(self, state: AppState) -> None:
        self.state = state
        self.hide = state.settings.hide_reasons
        self.pipeline = Pipeline(state.settings, state.metrics)
        self.forwarder = Forwarder(state, self.pipeline)
        self.watcher: asyncio.Future[None] | None = None  # polls the config's files (reload_interval)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self.http(scope, receive, send)
        elif kind == "lifespan":
            await self.lifespan(receive, send)
        elif kind == "websocket":
            await send({"type": "websocket.close", "code": 1008})

    # --- lifespan -------------------------------------------------------------------------------------

    async def lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:  # reported to the server, which refuses to start
                    await send({"type": "lifespan.startup.failed", "message": repr(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.watcher is not None:
                    self.watcher.cancel()
                await self.state.upstream.close()
                gate = self.state.holder.gate
                if gate.aclose is not None:
                    await gate.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def startup(self) -> None:
        await self.state.upstream.start()
        if self.state.settings.reload_interval > 0:
            self.watcher = asyncio.ensure_future(reload.watch(self.state, self.state.settings.reload_interval))
        if self.state.install_sighup and threading.current_thread() is threading.main_thread():
            loop = asyncio.get_running_loop()
            loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(self.reload()))

    async def reload(self) -> bool:
        """Re-read, re-lint and swap the config (SIGHUP); False when the running one was kept."""
        return await reload.reload(self.state)

    # --- requests -------------------------------------------------------------------------------------

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        ctx = Ctx(scope["method"], scope["path"], time.perf_counter())
        try:
            check_headers(scope["headers"], scope["http_version"])
            await self.dispatch(scope, receive, send, ctx)
        except Refusal as refusal:
            await self.refuse(send, refusal, ctx, reason_header=forward_auth.is_verify(scope["path"]))
        except BadRequest as bad:
            await self.refuse(send, Refusal(bad.status, bad.code, bad.message, "error"), ctx)
        except ClientGone:
            self._client_gone(ctx, cancelled=False)
        except asyncio.CancelledError:
            if not ctx.disconnected:  # the server is shutting down, not a client gone
                raise
            self._client_gone(ctx, cancelled=True)
        except Exception:
            self.state.events.exception("bug: unhandled error on %s %s", ctx.method, ctx.path)
            await self.refuse(send, Refusal(500, "jwtgate.internal", "internal error in jwtgate", "error"), ctx)
        finally:
            self.finish(ctx)

    def _client_gone(self, ctx: Ctx, *, cancelled: bool) -> None:
        task = asyncio.current_task()
        if task is not None and cancelled:
            task.uncancel()
        ctx.disconnected = True
        ctx.reason = ctx.reason or "client.disconnected"
        ctx.status = ctx.status or 499

    async def refuse(self, send: Send, refusal: Refusal, ctx: Ctx, *, reason_header: bool = False) -> None:
        ctx.decision, ctx.reason, ctx.status = refusal.decision, refusal.code, refusal.status
        if ctx.started:
            return
        ctx.started = True
        await send_refusal(send, refusal, hide=self.hide, reason_header=reason_header,
                           anthropic=is_anthropic(ctx.path))

    def connection_refused(self, status: int, code: str) -> None:
        """A request jwtgate's HTTP server answered itself (malformed, too large, too slow) before this app saw
        it: logged and counted like any other refusal."""
        ctx = Ctx("", "", time.perf_counter())
        ctx.decision, ctx.reason, ctx.status = "error", code, status
        self.finish(ctx)

    def finish(self, ctx: Ctx) -> None:
        self.state.metrics.count_request(ctx.decision, ctx.reason or "ok")
        self.state.access_log(ctx.record((time.perf_counter() - ctx.t0) * 1000.0))

    async def dispatch(self, scope: Scope, receive: Receive, send: Send, ctx: Ctx) -> None:
        path: str = scope["path"]
        if path in OPS:
            ctx.decision = "ops"
            await OPS[path](self, send, ctx)
        elif forward_auth.is_verify(path):
            gate = self.state.holder.gate
            await forward_auth.verify(self.pipeline, gate, scope, receive, send, ctx)
        elif path in MODEL_LIST_PATHS or (path.startswith(("/v1/models/", "/models/")) and ":" not in path):
            await self.models(scope, send, ctx)
        else:
            await self.proxy(scope, receive, send, ctx)

    async def proxy(self, scope: Scope, receive: Receive, send: Send, ctx: Ctx) -> None:
        path: str = scope["path"]
        check_path(path)
        gate = self.state.holder.gate
        auth = await self.pipeline.authenticate(gate, scope, ctx)
        headers = scope["headers"]
        data = await self.pipeline.body(scope, receive)
        needs_model = takes_body_model(scope["method"], path)
        body = self.read_model(data, headers, path, needs_model)
        ctx.model = body.model if body.model is not None else path_model(path)
        decision = self.pipeline.decide(gate, auth, ctx.model, path, ctx, needs_model)
        how = forwarding(gate.policy, decision, path)
        if how.how == "refuse":
            reason = refusal_reason(how)
            raise Refusal(403, reason.code, reason.message)
        if how.how == "answer":
            await self.model_info(scope, send, gate, auth, ctx)
            return
        await self.forwarder.forward(scope, receive, send, gate, decision, body, ctx, auth[1].claims,
                                     how.credential)

    def read_model(self, data: bytes, headers: Any, path: str, needs_model: bool) -> Body:
        """The body and the model it names. Every body is looked at, not only those of known model routes:
        a pass-through route (``/openai/*``) must not become a way around the model check.
        """
        if not data:
            return Body(data, "raw", None)
        encoding = header(headers, b"content-encoding")
        if encoding is not None and encoding.strip().lower() != b"identity":
            raise BadRequest(415, "request.encoded_body", "a compressed request body cannot be checked; send it "
                             "uncompressed")
        try:
            body = parse_body(data, header(headers, b"content-type"))
        except BadRequest:
            if needs_model or b"model" in data:
                raise
            return Body(data, "raw", None)
        in_path = path_model(path)
        if in_path is not None and body.model is not None and in_path != body.model:
            raise BadRequest(400, "request.model_mismatch", f"the path names model '{in_path}' and the body "
                             f"'{body.model}'")
        return body

    async def models(self, scope: Scope, send: Send, ctx: Ctx) -> None:
        """``/v1/models`` (and ``/models``, ``/v1/models/{id}``): model_list filtered by decide() per caller."""
        if scope["method"] not in ("GET", "HEAD"):
            raise Refusal(405, "request.method", "use GET", "error")
        gate = self.state.holder.gate
        auth = await self.pipeline.authenticate(gate, scope, ctx)
        self.pipeline.decide(gate, auth, None, "/v1/models", ctx, False)
        names = allowed_models(gate.policy, auth[1].claims)
        path: str = scope["path"]
        if path in MODEL_LIST_PATHS:
            ctx.status = 200
            await send_json(send, 200, {"object": "list", "data": [_model_object(n) for n in names]})
            return
        wanted = path.split("/models/", 1)[1]
        if wanted not in names:
            raise Refusal(404, "model_not_found", f"the model '{wanted}' does not exist or is not available to you",
                          "allow")
        ctx.model, ctx.status = wanted, 200
        await send_json(send, 200, _model_object(wanted))

    async def model_info(self, scope: Scope, send: Send, gate: Gate, auth: tuple[str, VerifiedToken],
                         ctx: Ctx) -> None:
        """``/model/info`` and ``/model_group/info``, answered from the config for the caller's models only."""
        if scope["method"] not in ("GET", "HEAD"):
            raise Refusal(405, "request.method", "use GET", "error")
        names = set(allowed_models(gate.policy, auth[1].claims))
        entries = [e for e in gate.policy.models if e.name in names]
        if scope["path"] == "/model_group/info":
            groups = {e.name: e for e in entries}
            data = [{"model_group": name, "providers": [provider_of(e) or "openai"]} for name, e in groups.items()]
        else:
            data = [_model_info(e) for e in entries]
        ctx.status = 200
        await send_json(send, 200, {"data": data})


def _model_info(entry: ModelEntry) -> dict[str, Any]:
    """LiteLLM's /model/info entry as a non-admin sees it: no api_base, no api_key."""
    model = entry.params.get("model")
    info = json.loads(json.dumps(entry.info, default=str))  # YAML dates and the like as strings
    return {"model_name": entry.name, "litellm_params": {"model": model if isinstance(model, str) else entry.name},
            "model_info": info}


def _model_object(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": 0, "owned_by": "jwtgate"}


async def _healthz(app: JwtgateApp, send: Send, ctx: Ctx) -> None:
    ctx.status = 200
    await send_json(send, 200, {"status": "ok"})


async def _readyz(app: JwtgateApp, send: Send, ctx: Ctx) -> None:
    gate = app.state.holder.gate
    try:
        keys = await gate.keys_ready()
    except Exception:
        app.state.events.exception("readiness check failed")
        keys = False
    ctx.status = 200 if keys else 503
    await send_json(send, ctx.status, {"status": "ready" if keys else "keys unavailable", "policy": gate.policy.file,
                                       "keys": keys})


async def _metrics(app: JwtgateApp, send: Send, ctx: Ctx) -> None:
    ctx.status = 200
    await send_bytes(send, 200, app.state.metrics.render(), [(b"content-type", CONTENT_TYPE.encode())])


OPS = {"/healthz": _healthz, "/readyz": _readyz, "/metrics": _metrics}


def create_app(state: AppState) -> JwtgateApp:
    """The ASGI app for ``state`` (policy holder, upstream client, settings, metrics, log)."""
    return JwtgateApp(state)
