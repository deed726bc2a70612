"""Soak `jwtgate serve`: mixed traffic for a bounded time, SIGHUP reloads (good and bad) during the run.

    python bench/soak.py [--duration 60] [--connections 64] [--reload-every 2]

Starts a fake upstream and a real `jwtgate serve` on 127.0.0.1, then sends, round-robin per connection,
allowed (200), denied (403), invalid (401) and streaming (200, SSE) requests. Checks: every allowed request
reached the upstream exactly once, no denied or invalid one did, zero 5xx from jwtgate, and no request
failed around a reload. Prints file descriptors and RSS of the server at start and end, and a JSON summary.
Exit status 0 when every check holds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from tests.security.kit import Kit, write_world  # noqa: E402
from tests.security.served import Served, serve_args  # noqa: E402
from tests.security.upstream import Upstream  # noqa: E402

KINDS = ("allowed", "denied", "invalid", "stream")
EXPECTED = {"allowed": 200, "denied": 403, "invalid": 401, "stream": 200}


@dataclass
class Tally:
    statuses: Counter[str] = field(default_factory=Counter)
    sent: dict[str, str] = field(default_factory=dict)  # id -> kind, for requests answered as expected
    problems: list[str] = field(default_factory=list)
    jwtgate_5xx: int = 0

    def problem(self, text: str) -> None:
        if len(self.problems) < 50:
            self.problems.append(text)


def proc_stats(pid: int) -> dict[str, int]:
    """Open file descriptors and resident memory (KiB) of a process, from /proc."""
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    rss = next((int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                if line.startswith("VmRSS:")), 0)
    return {"fds": fds, "rss_kib": rss}


async def one(client: httpx.AsyncClient, url: str, kind: str, ident: str, tokens: dict[str, str],
              tally: Tally) -> None:
    body = {"model": "big" if kind == "denied" else "small", "messages": [], "id": ident, "stream": kind == "stream"}
    headers = {"authorization": f"Bearer {tokens[kind]}", "x-test-mode": "stream" if kind == "stream" else ""}
    try:
        async with client.stream("POST", f"{url}/v1/chat/completions", json=body, headers=headers) as resp:
            data = await resp.aread()
    except httpx.HTTPError as exc:
        tally.problem(f"{kind} {ident}: {type(exc).__name__}: {exc}")
        return
    tally.statuses[f"{kind}:{resp.status_code}"] += 1
    if resp.status_code >= 500:
        tally.jwtgate_5xx += 1
    if resp.status_code != EXPECTED[kind]:
        tally.problem(f"{kind} {ident}: HTTP {resp.status_code} {data[:200]!r}")
    elif kind == "stream" and not data.endswith(b"data: [DONE]\n\n"):
        tally.problem(f"stream {ident}: incomplete body")
    else:
        tally.sent[ident] = kind


async def traffic(url: str, connections: int, deadline: float, tokens: dict[str, str], tally: Tally,
                  prefix: str = "") -> None:
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=30.0) as client:

        async def worker(n: int) -> None:
            i = 0
            while time.monotonic() < deadline:
                kind = KINDS[(n + i) % len(KINDS)]
                await one(client, url, kind, f"{prefix}{n}-{i}", tokens, tally)
                i += 1

        await asyncio.gather(*(worker(n) for n in range(connections)))


def reloader(served: Served, config: Path, every: float, stop: threading.Event, counts: Counter[str]) -> None:
    """Alternately rewrite the config badly and well, sending SIGHUP each time; the good one is restored."""
    good = config.read_text(encoding="utf-8")
    bad = good.replace("model_list:", "model_list: [broken", 1)
    flip = False
    while not stop.wait(every):
        flip = not flip
        config.write_text(bad if flip else good + f"# reload {counts.total()}\n", encoding="utf-8")
        served.proc.send_signal(signal.SIGHUP)
        counts["bad" if flip else "good"] += 1
    config.write_text(good, encoding="utf-8")


def check_deliveries(tally: Tally, upstream: Upstream) -> None:
    for ident, kind in tally.sent.items():
        got = upstream.ids[ident]
        want = 1 if kind in ("allowed", "stream") else 0
        if got != want:
            tally.problem(f"{kind} {ident} reached the upstream {got} times (expected {want})")


def run(duration: float = 60.0, connections: int = 64, reload_every: float = 2.0) -> dict[str, Any]:
    """The soak; returns the summary (``ok`` is True when every check held)."""
    with tempfile.TemporaryDirectory(prefix="jwtgate-soak-") as tmp:
        directory = Path(tmp)
        config, _ = write_world(directory, "default", "    upstream_timeout: 30.0\n")
        upstream = Upstream().start()
        served = Served(serve_args(config, upstream.url), {"JWTGATE_CACHE_DIR": str(directory / "cache")})
        try:
            return _soak(served.listening(), upstream, config, duration, connections, reload_every)
        finally:
            served.stop()
            upstream.stop()


def _soak(served: Served, upstream: Upstream, config: Path, duration: float, connections: int,
          reload_every: float) -> dict[str, Any]:
    kit = Kit(now=time.time())
    tokens = {"allowed": kit.token(exp=int(time.time()) + 3600), "stream": kit.token(sub="streamer"),
              "denied": kit.token(sub="bob"), "invalid": kit.token(exp=int(time.time()) - 3600)}
    tally, reloads, stop = Tally(), Counter[str](), threading.Event()
    asyncio.run(traffic(served.url, min(connections, 4), time.monotonic() + 1.0, tokens, Tally(),
                        "warm-"))  # warm up
    start = proc_stats(served.proc.pid)
    thread = threading.Thread(target=reloader, args=(served, config, reload_every, stop, reloads), daemon=True)
    thread.start()
    t0 = time.monotonic()
    asyncio.run(traffic(served.url, connections, t0 + duration, tokens, tally))
    elapsed = time.monotonic() - t0
    stop.set()
    thread.join(10)
    end = proc_stats(served.proc.pid)
    check_deliveries(tally, upstream)
    lines = served.drain()
    summary = {
        "duration_s": round(elapsed, 1), "connections": connections, "requests": sum(tally.statuses.values()),
        "rps": round(sum(tally.statuses.values()) / elapsed), "statuses": dict(sorted(tally.statuses.items())),
        "jwtgate_5xx": tally.jwtgate_5xx, "reloads_sent": dict(reloads),
        "reloads_applied": sum("config reloaded" in line for line in lines),
        "reloads_refused": sum("keeping the running config" in line for line in lines),
        "server_start": start, "server_end": end, "problems": tally.problems,
    }
    summary["ok"] = not tally.problems and tally.jwtgate_5xx == 0 and end["fds"] <= start["fds"] + connections + 16
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of traffic (default 60)")
    parser.add_argument("--connections", type=int, default=64, help="concurrent connections (default 64)")
    parser.add_argument("--reload-every", type=float, default=2.0, help="seconds between SIGHUPs (default 2)")
    args = parser.parse_args()
    summary = run(args.duration, args.connections, args.reload_every)
    start, end = summary["server_start"], summary["server_end"]
    print(f"server fds {start['fds']} -> {end['fds']}, RSS {start['rss_kib']} -> {end['rss_kib']} KiB", file=sys.stderr)
    print(json.dumps(summary, indent=2))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
