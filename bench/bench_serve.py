"""``jwtgate serve`` throughput and latency against its baselines, all in the same run on loopback.

Contenders, each in front of the same mock upstream (``bench/mock_upstream.py``, pinned to core 0; every
proxy pinned to core 1 with taskset, wrk unpinned):

- direct: wrk straight at the mock upstream;
- nginx: a reverse proxy (Debian nginx, keep-alive upstream pool, no buffering), config in a temp dir;
- passthrough: ``bench/passthrough.py``, uvicorn + uvloop + httptools and an aiohttp client (the stack
  jwtgate had before issue 16) with no authentication at all;
- floor: ``bench/raw_passthrough.py``, asyncio Protocols with httptools on both sides and jwtgate's pooled
  upstream client, no authentication: the Python floor;
- jwtgate: ``jwtgate serve`` verifying an RS256 bearer token and checking the model (verified-token
  cache on, as configured by default); jwtgate-w2: the same with ``--workers 2`` (not pinned);
- litellm: LiteLLM's proxy (master key, no database) from a separate venv, when it is installed.

For each: requests/s at 64 connections (wrk -t2 -c64) for a small chat-completions JSON and for a
streamed reply (SSE, 20 chunks); p50/p99 at 1 connection for both; the time to the first streamed
event at 1 connection. Medians of ``--rounds`` rounds (contenders interleaved within a round). Then the
resident set of a fresh ``jwtgate serve`` after 1k and after 100k requests (10% streamed). Run:

    python bench/bench_serve.py [--quick] [--rounds 3] [--seconds 5] [--format json]

LiteLLM (never a jwtgate dependency): ``.ci/setup-litellm .venv-litellm`` (the tests' pinned version); found
beside ``$JWTGATE_LITELLM_PYTHON``, in ``.venv-litellm``, on PATH or with ``--litellm PATH``.
Exit status 0 when every target of issue 16 is met (JSON >= 0.5x nginx, SSE >= 0.9x nginx, p50 at one
connection <= +0.15 ms over nginx, CPU per request <= 2.5x nginx's, RSS growth <= 1.2x).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import serve_kit as K

ROOT = Path(os.environ.get("JWTGATE_CHECKOUT", Path(__file__).resolve().parent.parent))
BENCH = Path(__file__).resolve().parent
UPSTREAM_CORE, PROXY_CORE = "0", "1"
METRICS = ("json_rps", "sse_rps", "json_p50", "json_p99", "sse_p50", "sse_p99", "first_chunk", "json_cpu_us",
           "sse_cpu_us", "errors")
Row = dict[str, float]


def start_contenders(world: K.World, args: argparse.Namespace) -> tuple[dict[str, K.Proc], dict[str, str]]:
    """The upstream and every proxy, ready; plus notes on those that could not run."""
    py, tmp, notes = sys.executable, world.tmp, {}
    up_port = K.free_port()
    procs = {"upstream": K.start("upstream", [py, str(BENCH / "mock_upstream.py"), str(up_port)], up_port, tmp,
                                 cores=UPSTREAM_CORE)}
    upstream = f"http://127.0.0.1:{up_port}"
    nginx = K.ensure_tool("nginx", "nginx-light")
    if nginx is None:
        notes["nginx"] = "nginx is not installed and could not be installed (apt-get install nginx-light)"
    else:
        port = K.free_port()
        conf = world.nginx_config(port, up_port)
        procs["nginx"] = K.start("nginx", [nginx, "-p", str(tmp), "-c", str(conf)], port, tmp, cores=PROXY_CORE)
    port = K.free_port()
    procs["passthrough"] = K.start("passthrough", [py, str(BENCH / "passthrough.py"), str(port), upstream], port, tmp,
                                   cores=PROXY_CORE)
    port = K.free_port()
    procs["floor"] = K.start("floor", [py, str(BENCH / "raw_passthrough.py"), str(port), upstream], port, tmp,
                             cores=PROXY_CORE)
    policy = world.policy(upstream)
    env = {"JWT_ISSUER": K.ISSUER, "JWT_AUDIENCE": K.AUDIENCE, "JWTGATE_CACHE_DIR": str(tmp / "cache")}
    for name, extra, cores in (("jwtgate", [], PROXY_CORE), ("jwtgate-w2", ["--workers", "2"], None)):
        port = K.free_port()
        argv = [py, "-m", "jwtgate", "serve", "--config", str(policy), "--port", str(port), *extra]
        procs[name] = K.start(name, argv, port, tmp, cores=cores, env=env, cwd=ROOT, ready_path="/healthz")
    litellm = args.litellm or shutil.which("litellm")
    if args.no_litellm:
        notes["litellm"] = "skipped (--no-litellm)"
    elif litellm is None or not Path(litellm).exists():
        notes["litellm"] = "not installed: .ci/setup-litellm .venv-litellm (or pass --litellm PATH)"
    else:
        port = K.free_port()
        argv = [litellm, "--config", str(world.litellm_config(upstream)), "--port", str(port), "--host", "127.0.0.1"]
        env = {"LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_TELEMETRY": "False"}
        try:
            procs["litellm"] = K.start("litellm", argv, port, tmp, cores=PROXY_CORE, env=env, cwd=tmp,
                                       ready_path="/health/liveliness", timeout=120)
        except RuntimeError as err:
            notes["litellm"] = f"could not be started: {str(err)[:300]}"
    return procs, notes


def auth_for(name: str, world: K.World) -> str:
    return K.MASTER_KEY if name == "litellm" else world.token


def measure(name: str, proc: K.Proc, world: K.World, args: argparse.Namespace) -> Row:
    """One round for one contender."""
    url, auth = f"http://127.0.0.1:{proc.port}{K.PATH}", auth_for(name, world)
    json_lua, sse_lua = world.wrk_script(f"{name}-json", auth, 0), world.wrk_script(f"{name}-sse", auth, 1)
    cpu: dict[str, float] = {}

    def loaded(key: str, script: Path) -> K.WrkResult:
        """wrk at 64 connections, and the proxy's CPU time per request (steadier than req/s on a shared host)."""
        before = proc.cpu_seconds()
        result = K.wrk(url, script, connections=64, seconds=args.seconds)
        cpu[key] = (proc.cpu_seconds() - before) * 1e6 / max(result.requests, 1)
        return result

    runs = {"json64": loaded("json", json_lua), "sse64": loaded("sse", sse_lua),
            "json1": K.wrk(url, json_lua, connections=1, seconds=args.seconds / 2),
            "sse1": K.wrk(url, sse_lua, connections=1, seconds=args.seconds / 2)}
    failed = {k: r.errors for k, r in runs.items() if r.errors or not r.requests}
    if failed:
        print(f"warning: {name}: errors or non-2xx replies {failed}; see {proc.log}", file=sys.stderr)
    first = statistics.median(K.first_chunk_ms(proc.port, auth, args.first_chunks))
    return {"json_rps": runs["json64"].rps, "sse_rps": runs["sse64"].rps, "json_p50": runs["json1"].p50_ms,
            "json_p99": runs["json1"].p99_ms, "sse_p50": runs["sse1"].p50_ms, "sse_p99": runs["sse1"].p99_ms,
            "first_chunk": first, "json_cpu_us": cpu["json"], "sse_cpu_us": cpu["sse"],
            "errors": sum(r.errors for r in runs.values())}


def rounds(procs: dict[str, K.Proc], world: K.World, args: argparse.Namespace) -> dict[str, Row]:
    """Median per metric over the rounds; contenders interleaved inside each round."""
    names = [n for n in procs if n != "upstream"]
    direct = K.Proc("direct", procs["upstream"].port, procs["upstream"].popen, procs["upstream"].log)
    targets = {"direct": direct, **{n: procs[n] for n in names}}
    for name, proc in targets.items():  # warm-up: pools filled, caches primed
        K.wrk(f"http://127.0.0.1:{proc.port}{K.PATH}", world.wrk_script(f"{name}-mixed", auth_for(name, world), 5),
              connections=64, seconds=1)
    samples: dict[str, list[Row]] = {n: [] for n in targets}
    for index in range(args.rounds):
        for name, proc in targets.items():
            print(f"round {index + 1}/{args.rounds}: {name} ...", file=sys.stderr, flush=True)
            samples[name].append(measure(name, proc, world, args))
    out = {n: {m: statistics.median(r[m] for r in rows) for m in METRICS} for n, rows in samples.items()}
    for name, rows in samples.items():
        out[name]["errors"] = sum(r["errors"] for r in rows)
    return out


def post_many(port: int, auth: str, count: int) -> None:
    """``count`` requests on one keep-alive connection, every 10th streamed."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {auth}"}
    for i in range(count):
        conn.request("POST", K.PATH, body=K.STREAM_BODY if i % 10 == 9 else K.JSON_BODY, headers=headers)
        resp = conn.getresponse()
        resp.read()
        if resp.status != 200:
            raise RuntimeError(f"request {i}: HTTP {resp.status}")
    conn.close()


def memory(procs: dict[str, K.Proc], world: K.World, args: argparse.Namespace) -> dict[str, int]:
    """RSS (KiB) of a fresh single-worker ``jwtgate serve`` after 1k and after ``--memory-requests``."""
    upstream = f"http://127.0.0.1:{procs['upstream'].port}"
    env = {"JWT_ISSUER": K.ISSUER, "JWT_AUDIENCE": K.AUDIENCE, "JWTGATE_CACHE_DIR": str(world.tmp / "cache")}
    port = K.free_port()
    argv = [sys.executable, "-m", "jwtgate", "serve", "--config", str(world.policy(upstream)), "--port", str(port)]
    proc = K.start("jwtgate-memory", argv, port, world.tmp, cores=PROXY_CORE, env=env, cwd=ROOT,
                   ready_path="/healthz")
    try:
        out = {"start": proc.rss_kib()}
        post_many(port, world.token, 1000)
        out["after_1k"], done = proc.rss_kib(), 1000
        script = world.wrk_script("memory", world.token, 10)
        while done < args.memory_requests:
            result = K.wrk(f"http://127.0.0.1:{port}{K.PATH}", script, connections=64, seconds=2)
            if result.errors or not result.requests:
                raise RuntimeError(f"memory run: {result}")
            done += result.requests
        out["after_n"], out["requests"] = proc.rss_kib(), done
        return out
    finally:
        proc.stop()


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def verdicts(res: dict[str, Row], mem: dict[str, int]) -> list[tuple[str, bool | None]]:
    """(text, met) per target of issue 16; met is None for a figure without a target (or no baseline)."""
    gate, floor = res["jwtgate"], res["floor"]
    out: list[tuple[str, bool | None]] = []
    for name in ("jwtgate", "jwtgate-w2"):
        if res.get(name, {}).get("errors"):
            out.append((f"{name}: {res[name]['errors']:.0f} failed requests (socket errors or non-2xx)", False))
    nginx = res.get("nginx")
    if nginx is None:
        out.append(("nginx not measured: no nginx-relative target checked", None))
    else:
        for metric, label, want in (("json_rps", "JSON", 0.5), ("sse_rps", "SSE", 0.9)):
            r = _ratio(gate[metric], nginx[metric])
            out.append((f"{label} {gate[metric]:,.0f} req/s = {r:.2f}x nginx {nginx[metric]:,.0f} (>= {want}x)",
                        r >= want))
        added = gate["json_p50"] - nginx["json_p50"]
        out.append((f"p50 at 1 connection {gate['json_p50']:.3f} ms = {added:+.3f} ms over nginx (<= +0.15 ms)",
                     added <= 0.15))
        r = _ratio(gate["json_cpu_us"], nginx["json_cpu_us"])
        out.append((f"CPU per JSON request {gate['json_cpu_us']:.0f} us = {r:.2f}x nginx's "
                    f"{nginx['json_cpu_us']:.0f} us (<= 2.5x)", r <= 2.5))
    out.append((f"vs the Python floor: JSON {_ratio(gate['json_rps'], floor['json_rps']):.2f}x, SSE "
                f"{_ratio(gate['sse_rps'], floor['sse_rps']):.2f}x; CPU {gate['json_cpu_us']:.0f} vs "
                f"{floor['json_cpu_us']:.0f} us per JSON request", None))
    if "litellm" in res:
        out.append((f"{_ratio(gate['json_rps'], res['litellm']['json_rps']):.0f}x LiteLLM at 64 connections", None))
    growth = _ratio(mem["after_n"], mem["after_1k"])
    out.append((f"RSS {mem['after_1k'] / 1024:.1f} MiB after 1k, {mem['after_n'] / 1024:.1f} MiB after "
                f"{mem['requests'] // 1000}k = {growth:.2f}x (<= 1.2x)", growth <= 1.2))
    if "jwtgate-w2" in res:
        out.append((f"--workers 2: {_ratio(res['jwtgate-w2']['json_rps'], gate['json_rps']):.2f}x one worker (JSON), "
                    f"{_ratio(res['jwtgate-w2']['sse_rps'], gate['sse_rps']):.2f}x (SSE)", None))
    return out


def table(res: dict[str, Row]) -> list[str]:
    bare = res.get("nginx", res["floor"])
    head = (f"{'contender':<12} {'JSON r/s':>9} {'SSE r/s':>8} {'JSON p50':>9} {'p99':>7} {'SSE p50':>8} {'p99':>7} "
            f"{'1st chunk':>9} {'JSON x ngx':>10} {'SSE x ngx':>9} {'JSON x floor':>12} {'CPU us/req':>10} "
            f"{'SSE':>5} {'errors':>6}")
    lines = [head, "-" * len(head)]
    for name, r in res.items():
        lines.append(f"{name:<12} {r['json_rps']:>9,.0f} {r['sse_rps']:>8,.0f} {r['json_p50']:>9.3f} "
                     f"{r['json_p99']:>7.2f} {r['sse_p50']:>8.3f} {r['sse_p99']:>7.2f} {r['first_chunk']:>9.3f} "
                     f"{_ratio(r['json_rps'], bare['json_rps']):>10.2f} {_ratio(r['sse_rps'], bare['sse_rps']):>9.2f} "
                     f"{_ratio(r['json_rps'], res['floor']['json_rps']):>12.2f} {r['json_cpu_us']:>10.0f} "
                     f"{r['sse_cpu_us']:>5.0f} {r['errors']:>6.0f}")
    lines.append("(r/s at 64 connections; p50/p99 and first chunk in ms at 1 connection; medians of the rounds; "
                 "errors: socket errors and non-2xx replies, all rounds)")
    lines.append("(CPU us/req: CPU time of the proxy's processes per request at 64 connections; for direct, the "
                 "upstream's)")
    return lines


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one short round and 20k requests for memory (~1 min)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each wrk run at 64 connections")
    parser.add_argument("--first-chunks", type=int, default=300, help="streamed requests timed to the first event")
    parser.add_argument("--memory-requests", type=int, default=100_000)
    parser.add_argument("--litellm", help="path of LiteLLM's 'litellm' command (default: beside "
                        "$JWTGATE_LITELLM_PYTHON, .venv-litellm, PATH)")
    parser.add_argument("--no-litellm", action="store_true")
    parser.add_argument("--format", choices=["text", "json"], default="text")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.seconds, args.first_chunks, args.memory_requests = 1, 2.0, 100, 20_000
    if args.litellm is None:
        args.litellm = default_litellm()
    return args


def default_litellm() -> str | None:
    """LiteLLM's command beside $JWTGATE_LITELLM_PYTHON (the tests' pinned venv), else in .venv-litellm."""
    python = os.environ.get("JWTGATE_LITELLM_PYTHON")
    for candidate in ([Path(python).with_name("litellm")] if python else []) + [ROOT / ".venv-litellm/bin/litellm"]:
        if candidate.exists():
            return str(candidate)
    return None


def main() -> int:
    args = parse_args()
    if K.ensure_tool("wrk", "wrk") is None:
        print("bench_serve: skipped, wrk is not installed (apt-get install wrk)")
        return 0
    if (os.cpu_count() or 1) < 2:
        print("bench_serve: skipped, needs 2 cores (upstream and proxy pinned to different cores)")
        return 0
    with tempfile.TemporaryDirectory(prefix="jwtgate-bench-serve-") as tmp:
        world = K.World(Path(tmp)).make()
        procs, notes = start_contenders(world, args)
        with K.running(list(procs.values())):
            res = rounds(procs, world, args)
            mem = memory(procs, world, args)
    return report(res, mem, notes, args)


def report(res: dict[str, Row], mem: dict[str, int], notes: dict[str, str], args: argparse.Namespace) -> int:
    checks = verdicts(res, mem)
    ok = all(met is not False for _, met in checks)
    if args.format == "json":
        print(json.dumps({"results": res, "memory_kib": mem, "notes": notes,
                          "targets": [{"check": t, "met": m} for t, m in checks], "ok": ok}, indent=2))
    else:
        emit: Callable[[Any], None] = print
        for line in table(res):
            emit(line)
        for name, note in notes.items():
            emit(f"note: {name}: {note}")
        for text, met in checks:
            emit(f"  {'ok  ' if met else 'MISS' if met is False else '    '} {text}")
    summary = "; ".join(text for text, met in checks if met is not None)
    print(f"bench_serve: {summary} -> {'targets met' if ok else 'targets NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
