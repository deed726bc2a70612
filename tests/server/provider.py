"""A loopback mock of the OpenAI and Anthropic provider APIs (JSON and SSE streams), recording what it saw.

It answers chat completions, legacy completions, embeddings, responses and Anthropic messages with
small but well-formed replies, so the official SDKs (and LiteLLM, which speaks the providers' APIs)
parse them. Each stream is written one event at a time with a loop turn in between, so a proxy that
buffered would be seen doing so. Every request is recorded (path, headers, body) for the tests.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.server.conftest import WAIT, ServerThread

WORDS = ("Hello", " from", " the", " mock", " provider", "!")
USAGE = {"prompt_tokens": 5, "completion_tokens": len(WORDS), "total_tokens": 5 + len(WORDS)}


@dataclass
class ProviderLog:
    """What the provider was sent, oldest first."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    # When set, a stream stops half-way (some text sent) until ``release`` is set (bounded by WAIT), and
    # ``streams_done`` counts the streams written to the end: a test can see its first chunk arrive first.
    hold: bool = False
    release: threading.Event = field(default_factory=threading.Event)
    streams_done: int = 0

    def last(self, path_end: str) -> dict[str, Any]:
        return next(r for r in reversed(self.requests) if r["path"].endswith(path_end))

    def all_header_values(self) -> Iterator[str]:
        for r in self.requests:
            yield from r["headers"].values()


def _sse(event: dict[str, Any], name: str | None = None) -> bytes:
    head = f"event: {name}\n" if name else ""
    return f"{head}data: {json.dumps(event)}\n\n".encode()


async def _stream(request: web.Request, events: list[bytes], log: ProviderLog) -> web.StreamResponse:
    resp = web.StreamResponse(headers={"content-type": "text/event-stream", "cache-control": "no-cache"})
    await resp.prepare(request)
    for i, event in enumerate(events):
        await resp.write(event)
        if i == len(events) // 2 - 1 and log.hold:
            await asyncio.get_running_loop().run_in_executor(None, log.release.wait, WAIT)
        await asyncio.sleep(0.005)
    await resp.write_eof()
    log.streams_done += 1
    return resp


def _chat(body: dict[str, Any]) -> list[bytes] | dict[str, Any]:
    model = body.get("model", "?")
    if not body.get("stream"):
        return {"id": "chatcmpl-mock", "object": "chat.completion", "created": 1700000000, "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(WORDS)},
                             "finish_reason": "stop"}], "usage": USAGE}
    base = {"id": "chatcmpl-mock", "object": "chat.completion.chunk", "created": 1700000000, "model": model}
    events = [_sse({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": w},
                                         "finish_reason": None}]}) for w in WORDS]
    events.append(_sse({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}))
    if (body.get("stream_options") or {}).get("include_usage"):
        events.append(_sse({**base, "choices": [], "usage": USAGE}))
    return [*events, b"data: [DONE]\n\n"]


def _completion(body: dict[str, Any]) -> list[bytes] | dict[str, Any]:
    model = body.get("model", "?")
    base = {"id": "cmpl-mock", "object": "text_completion", "created": 1700000000, "model": model}
    if not body.get("stream"):
        return {**base, "choices": [{"index": 0, "text": "".join(WORDS), "logprobs": None,
                                     "finish_reason": "stop"}], "usage": USAGE}
    events = [_sse({**base, "choices": [{"index": 0, "text": w, "logprobs": None, "finish_reason": None}]})
              for w in WORDS]
    return [*events, b"data: [DONE]\n\n"]


def _embeddings(body: dict[str, Any]) -> dict[str, Any]:
    inputs = body.get("input")
    count = len(inputs) if isinstance(inputs, list) else 1
    return {"object": "list", "model": body.get("model", "?"), "usage": {"prompt_tokens": 3, "total_tokens": 3},
            "data": [{"object": "embedding", "index": i, "embedding": [0.1, 0.2, 0.3]} for i in range(count)]}


def _response_obj(model: str, status: str, text: str) -> dict[str, Any]:
    item = {"id": "msg_mock", "type": "message", "status": "completed", "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": []}]}
    return {"id": "resp_mock", "object": "response", "created_at": 1700000000, "status": status, "model": model,
            "output": [item] if text else [], "parallel_tool_calls": True, "tool_choice": "auto", "tools": [],
            "usage": {"input_tokens": 5, "output_tokens": len(WORDS), "total_tokens": 5 + len(WORDS),
                      "input_tokens_details": {"cached_tokens": 0},
                      "output_tokens_details": {"reasoning_tokens": 0}}}


def _responses(body: dict[str, Any]) -> list[bytes] | dict[str, Any]:
    model = body.get("model", "?")
    if not body.get("stream"):
        return _response_obj(model, "completed", "".join(WORDS))
    events = [_sse({"type": "response.created", "sequence_number": 0,
                    "response": _response_obj(model, "in_progress", "")}, "response.created")]
    for i, w in enumerate(WORDS, start=1):
        events.append(_sse({"type": "response.output_text.delta", "sequence_number": i, "item_id": "msg_mock",
                            "output_index": 0, "content_index": 0, "delta": w, "logprobs": []},
                           "response.output_text.delta"))
    events.append(_sse({"type": "response.completed", "sequence_number": len(WORDS) + 1,
                        "response": _response_obj(model, "completed", "".join(WORDS))}, "response.completed"))
    return events


def _message(model: str, text: str) -> dict[str, Any]:
    return {"id": "msg_mock", "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": text}] if text else [], "stop_reason": "end_turn" if text else None,
            "stop_sequence": None, "usage": {"input_tokens": 5, "output_tokens": len(WORDS)}}


def _messages(body: dict[str, Any]) -> list[bytes] | dict[str, Any]:
    model = body.get("model", "?")
    if not body.get("stream"):
        return _message(model, "".join(WORDS))
    events = [_sse({"type": "message_start", "message": _message(model, "")}, "message_start"),
              _sse({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
                   "content_block_start")]
    events += [_sse({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": w}},
                    "content_block_delta") for w in WORDS]
    events += [_sse({"type": "content_block_stop", "index": 0}, "content_block_stop"),
               _sse({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                     "usage": {"output_tokens": len(WORDS)}}, "message_delta"),
               _sse({"type": "message_stop"}, "message_stop")]
    return events


ENDPOINTS = {"chat/completions": _chat, "completions": _completion, "embeddings": _embeddings,
             "responses": _responses, "messages": _messages}


def provider_app(log: ProviderLog) -> web.Application:
    async def handler(request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        body = json.loads(raw) if raw.strip().startswith(b"{") else {}
        log.requests.append({"method": request.method, "path": request.path, "headers": dict(request.headers),
                             "body": body})
        path = re.sub(r"^/(v1/|openai/deployments/[^/]+/|openai/)?", "", request.path)
        answer = ENDPOINTS.get(path)
        if answer is None or request.method != "POST":
            return web.json_response({"error": {"message": f"mock: no {request.method} {request.path}",
                                                "type": "not_found"}}, status=404)
        reply = answer(body)
        if isinstance(reply, list):
            return await _stream(request, reply, log)
        return web.json_response(reply)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    return app


@dataclass
class Provider:
    url: str
    log: ProviderLog
    _thread: ServerThread
    _runner: web.AppRunner

    def stop(self) -> None:
        self._thread.call(self._runner.cleanup())
        self._thread.close()


def start_provider() -> Provider:
    """The mock provider on 127.0.0.1 (any free port), on its own loop thread; ``stop()`` is bounded."""
    log = ProviderLog()
    thread = ServerThread()
    runner = web.AppRunner(provider_app(log), handle_signals=False, shutdown_timeout=0.5)
    thread.call(runner.setup())
    thread.call(web.TCPSite(runner, "127.0.0.1", 0).start())
    return Provider(f"http://127.0.0.1:{runner.addresses[0][1]}", log, thread, runner)
