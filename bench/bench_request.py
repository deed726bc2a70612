"""jwtgate's own work on one allowed request, without the network: one function, timed and profiled.

The steps ``jwtgate serve`` runs for a small chat-completions call once its caches are warm, each the
server's own code on a state built from a real config (``build_state``) exactly as ``serve`` builds it:
Host and header-size rules, the bearer token, a verified-token cache hit, the model from the JSON body,
the cached decision, the identity and forwarded headers, the upstream URL and response headers, the
metrics and the access-log record (batched, as ``serve`` writes it). The token cache hit is an
``async`` call that never suspends; it is driven without an event loop (``coro.send``), so the figure
is jwtgate's work and not the loop's. Run:

    python bench/bench_request.py [--seconds 2] [--profile] [--format json]

Target (issue 16): <= 20 µs per request. Exit status 0 when it is met.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import serve_kit as K
import uvloop

from jwtgate.server.app import create_app
from jwtgate.server.context import Ctx
from jwtgate.server.inbound import check_headers, check_path, path_model, takes_body_model
from jwtgate.server.process import tune_gc
from jwtgate.server.upstream import forward_headers, response_headers, target_url
from jwtgate.server.wiring import ServeOptions, build_state

TARGET_US = 20.0
UPSTREAM_HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"250"),
                    (b"date", b"Tue, 01 Dec 2026 08:00:00 GMT"), (b"server", b"uvicorn")]


def run_sync(coro: Coroutine[Any, Any, Any]) -> Any:
    """The result of a coroutine that completes without suspending (a cache hit)."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    coro.close()
    raise RuntimeError("the coroutine suspended: the verified-token cache was not hit")


class _Sink(io.TextIOBase):
    def write(self, text: str) -> int:
        return len(text)


async def request_steps(tmp: Path) -> Callable[[], None]:
    """The per-request function, on a state built from a bench config (RS256 token, one model)."""
    world = K.World(tmp).make()
    env = {"JWT_ISSUER": K.ISSUER, "JWT_AUDIENCE": K.AUDIENCE, "JWTGATE_CACHE_DIR": str(tmp / "cache")}
    state, _ = build_state(ServeOptions(config=str(world.policy("http://127.0.0.1:9"))), env,
                           access_stream=_Sink(), batch_log=True)
    app = create_app(state)
    pipeline, forwarder = app.pipeline, app.forwarder
    body = K.JSON_BODY.encode()
    scope: dict[str, Any] = {
        "type": "http", "method": "POST", "path": K.PATH, "query_string": b"", "http_version": "1.1",
        "headers": [(b"host", b"127.0.0.1:8080"), (b"user-agent", b"OpenAI/Python 1.54.0"),
                    (b"content-type", b"application/json"), (b"authorization", f"Bearer {world.token}".encode()),
                    (b"accept", b"application/json"), (b"content-length", str(len(body)).encode())],
    }

    def steps() -> None:
        ctx = Ctx(scope["method"], scope["path"], time.perf_counter())
        check_headers(scope["headers"], scope["http_version"])
        path: str = scope["path"]
        check_path(path)
        gate = state.holder.gate
        auth = run_sync(pipeline.authenticate(gate, scope, ctx))
        needs_model = takes_body_model(scope["method"], path)
        parsed = app.read_model(body, scope["headers"], path, needs_model)
        ctx.model = parsed.model if parsed.model is not None else path_model(path)
        decision = pipeline.decide(gate, auth, ctx.model, path, ctx, needs_model)
        target = gate.targets.for_model(ctx.model)
        assert target is not None
        identity, _ = pipeline.identity(decision, gate.policy, auth[1].claims)
        headers = forward_headers(scope["headers"], forwarder.blocked_for(gate.policy), identity, target.api_key,
                                  "authorization")
        target_url(target, path, scope["query_string"])
        response_headers(UPSTREAM_HEADERS)
        ctx.upstream_status = ctx.status = 200
        state.metrics.upstream_latency.observe(0.001)
        ctx.started = ctx.complete = True
        assert headers
        app.finish(ctx)

    await state.holder.gate.authenticator.aauthenticate(world.token)  # the first verification fills the cache
    steps()
    tune_gc()  # as serve does before it takes requests
    return steps


async def measure(steps: Callable[[], None], seconds: float, rounds: int = 7) -> list[float]:
    """CPU microseconds per call (process time: steadier than wall time on a shared host), one figure per
    round. Inside the event loop, as in ``serve``: after each batch of 64 calls (a loop turn at 64
    connections) the loop runs once, and the access log writes that turn's lines."""
    batch = 64
    out = []
    for _ in range(rounds):
        calls, spent = 0, 0.0
        while spent < seconds / rounds:
            start = time.process_time()
            for _ in range(batch):
                steps()
            await asyncio.sleep(0)
            spent += time.process_time() - start
            calls += batch
        out.append(spent / calls * 1e6)
    return out


async def profile(steps: Callable[[], None], calls: int = 50_000) -> str:
    prof = cProfile.Profile()
    prof.enable()
    for i in range(calls):
        steps()
        if i % 64 == 63:
            await asyncio.sleep(0)
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(15)
    return out.getvalue()


async def run(tmp: Path, args: argparse.Namespace) -> tuple[list[float], str]:
    steps = await request_steps(tmp)
    per_round = await measure(steps, args.seconds)
    return per_round, await profile(steps) if args.profile else ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the steps (tottime)")
    parser.add_argument("--format", choices=["text", "json"], default="text")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="jwtgate-bench-request-") as tmp:
        per_round, report = uvloop.run(run(Path(tmp), args))
    median, best = statistics.median(per_round), min(per_round)
    ok = median <= TARGET_US
    if args.format == "json":
        print(json.dumps({"median_us": median, "best_us": best, "rounds_us": per_round, "target_us": TARGET_US,
                          "met": ok}, indent=2))
    else:
        print(report, end="")
        print(f"bench_request: jwtgate's own work per request {median:.1f} µs (median of {len(per_round)} rounds, "
              f"best {best:.1f}) -> target <= {TARGET_US:.0f} µs {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
