"""The cost of ``serve --shadow-config`` (and of ``log_claims``) against ``serve`` without them, same run.

Contenders, each ``jwtgate serve`` pinned to core 1 in front of the same mock upstream (core 0), with the
same token and JSON chat request (wrk -t2 -c64, unpinned):

- off: the config alone;
- shadow: ``--shadow-config`` with a config that denies the model (the worst case: every request differs,
  so every access line carries the shadow's outcome and the counter moves);
- shadow+claims: the same with ``jwtgate.serve.log_claims: true`` (replayable access lines);
- baseline (``--baseline CHECKOUT``, e.g. /work/main): a checkout without these features, to show
  that ``off`` costs nothing measurable.

CPU time per request (the server's user+system time over the requests wrk completed; steadier than req/s
on a shared host) and req/s, medians of ``--rounds`` interleaved rounds. Then the same three in-process:
the pipeline's decide step (a decision-cache hit, then the shadow and the record) and the encoding of the
access line, per request, with nothing else in the loop (steadier still on a busy host). Run:

    python bench/bench_shadow.py [--rounds 5] [--seconds 5] [--baseline /work/main] [--format json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import serve_kit as K

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent


def configs(world: K.World, upstream: str) -> dict[str, Path]:
    base = world.policy(upstream)
    text = base.read_text()
    shadow = world.tmp / "shadow.yaml"
    shadow.write_text(text.replace(f'models: ["{K.MODEL}"]', "models: []"))
    claims = world.tmp / "claims.yaml"
    claims.write_text(text.replace("  serve:\n", "  serve:\n    log_claims: true\n"))
    return {"base": base, "shadow": shadow, "claims": claims}


def start_all(world: K.World, baseline: str | None) -> dict[str, K.Proc]:
    up_port = K.free_port()
    procs = {"upstream": K.start("upstream", [sys.executable, str(BENCH / "mock_upstream.py"), str(up_port)],
                                 up_port, world.tmp, cores="0")}
    files = configs(world, f"http://127.0.0.1:{up_port}")
    env = {"JWT_ISSUER": K.ISSUER, "JWT_AUDIENCE": K.AUDIENCE, "JWTGATE_CACHE_DIR": str(world.tmp / "cache")}
    variants = {"off": (ROOT, ["--config", str(files["base"])]),
                "shadow": (ROOT, ["--config", str(files["base"]), "--shadow-config", str(files["shadow"])]),
                "shadow+claims": (ROOT, ["--config", str(files["claims"]), "--shadow-config", str(files["shadow"])])}
    if baseline:
        variants = {"baseline": (Path(baseline), ["--config", str(files["base"])]), **variants}
    for name, (checkout, args) in variants.items():
        port = K.free_port()
        argv = [sys.executable, "-m", "jwtgate", "serve", *args, "--port", str(port)]
        procs[name] = K.start(name, argv, port, world.tmp, cores="1", env={**env, "PYTHONPATH": str(checkout)},
                              cwd=checkout, ready_path="/healthz")
    return procs


def measure(proc: K.Proc, script: Path, seconds: float) -> tuple[float, float, int]:
    before = proc.cpu_seconds()
    result = K.wrk(f"http://127.0.0.1:{proc.port}{K.PATH}", script, connections=64, seconds=seconds)
    cpu_us = (proc.cpu_seconds() - before) * 1e6 / max(result.requests, 1)
    return cpu_us, result.rps, result.errors


def in_process(world: K.World, rounds: int, n: int = 100_000) -> dict[str, float]:
    """µs per request of Pipeline.decide + the access line's encoding, per variant (medians of rounds)."""
    import time

    from jwtgate.config.loader import load_policy
    from jwtgate.model import VerifiedToken
    from jwtgate.policy.decision import decision_claim_paths
    from jwtgate.server.context import Ctx
    from jwtgate.server.metrics import Metrics
    from jwtgate.server.pipeline import Pipeline
    from jwtgate.server.state import Gate, _encode

    files = configs(world, "http://127.0.0.1:9")
    policy, shadow = (load_policy(files[k].read_text(), k, {}) for k in ("base", "shadow"))
    claims = {"iss": K.ISSUER, "aud": K.AUDIENCE, "sub": "bench-user", "roles": ["llm-user"], "exp": 2**31}
    auth = (world.token, VerifiedToken({}, claims, None, "fingerprint"))
    gates = {"off": Gate(policy, None, None), "shadow": Gate(policy, None, None, shadow=shadow),  # type: ignore[arg-type]
             "shadow+claims": Gate(policy, None, None, shadow=shadow, log_paths=decision_claim_paths(policy))}  # type: ignore[arg-type]
    pipeline = Pipeline(policy.settings.serve, Metrics())

    def once(gate: Gate) -> float:
        t0 = time.perf_counter()
        for _ in range(n):
            ctx = Ctx("POST", K.PATH, t0)
            pipeline.decide(gate, auth, K.MODEL, K.PATH, ctx, True)
            _encode(ctx.record(1.0))
        return (time.perf_counter() - t0) / n * 1e6

    samples: dict[str, list[float]] = {name: [] for name in gates}
    for _ in range(rounds):
        for name, gate in gates.items():
            samples[name].append(once(gate))
    return {name: round(statistics.median(v), 2) for name, v in samples.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--baseline", help="a jwtgate checkout without shadow mode (e.g. /work/main)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        world = K.World(Path(tmp)).make()
        script = world.wrk_script("json", world.token, 0)
        procs = start_all(world, args.baseline)
        names = [n for n in procs if n != "upstream"]
        try:
            for name in names:  # warm-up
                K.wrk(f"http://127.0.0.1:{procs[name].port}{K.PATH}", script, connections=64, seconds=1)
            samples: dict[str, list[tuple[float, float, int]]] = {n: [] for n in names}
            for index in range(args.rounds):
                for name in names:
                    print(f"round {index + 1}/{args.rounds}: {name} ...", file=sys.stderr, flush=True)
                    samples[name].append(measure(procs[name], script, args.seconds))
        finally:
            for proc in procs.values():
                proc.stop()
        inproc = in_process(world, args.rounds)
    rows = {n: {"cpu_us": round(statistics.median(s[0] for s in rows), 1),
                "rps": round(statistics.median(s[1] for s in rows)), "errors": sum(s[2] for s in rows)}
            for n, rows in samples.items()}
    off = rows["off"]["cpu_us"]
    for row in rows.values():
        row["vs_off_us"] = round(row["cpu_us"] - off, 1)
    if args.format == "json":
        print(json.dumps({"rows": rows, "in_process_us": inproc, "rounds": args.rounds, "cpus": os.cpu_count()},
                         indent=2))
        return 0
    print(f"{'contender':<15} {'CPU µs/req':>10} {'vs off':>7} {'req/s':>7} errors")
    for name, row in rows.items():
        print(f"{name:<15} {row['cpu_us']:>10} {row['vs_off_us']:>+7} {row['rps']:>7} {row['errors']}")
    print("in-process, decide step + access line, µs/request: "
          + ", ".join(f"{name} {us} ({us - inproc['off']:+.2f})" for name, us in inproc.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
