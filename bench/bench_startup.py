"""CLI start-up time: ``jwtgate --version``, ``--help``, ``lint`` and ``check-token`` vs bare imports.

A small hyperfine-like runner in pure Python: every command is run ``--runs`` times as a fresh process,
interleaved round-robin (so drift on a noisy machine hits every command alike), after ``--warmup`` runs
each; the figure is the median wall time. Baselines in the same run: ``python -c pass``,
``python -c "import jwt"`` and ``python -c "import typer"``. Run from a checkout:

    /work/venv/bin/python bench/bench_startup.py [--runs 21] [--python /path/to/python] [--format json]

``JWTGATE_CHECKOUT=DIR`` times another checkout (e.g. an older commit) with the same runner.

Targets (issue 7): check-token offline <= 1.6x ``import jwt``; --version and --help <= 1.3x
``import typer``. Prints a table and one summary line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(os.environ.get("JWTGATE_CHECKOUT", Path(__file__).resolve().parent.parent))
TOKEN = "@sample_tokens/alice-user.jwt"
CHECK = ["check-token", TOKEN, "--config", "sample_configs/keycloak.yaml", "--jwks", "sample_tokens/jwks.json",
         "--model", "gpt-4o-mini", "--offline"]
BASELINES = {"python -c pass": ["-c", "pass"], "import jwt": ["-c", "import jwt"],
             "import typer": ["-c", "import typer"]}
COMMANDS = {"jwtgate --version": ["--version"], "jwtgate --help": ["--help"],
            "jwtgate lint": ["lint", "sample_configs/keycloak.yaml"], "jwtgate check-token": CHECK}
TARGETS = {"jwtgate check-token": ("import jwt", 1.6), "jwtgate --version": ("import typer", 1.3),
           "jwtgate --help": ("import typer", 1.3)}


def argv_table(python: str) -> dict[str, list[str]]:
    """Name -> full argv; jwtgate runs as ``python -m jwtgate`` from the checkout (what the script does)."""
    table = {name: [python, *args] for name, args in BASELINES.items()}
    table.update({name: [python, "-m", "jwtgate", *args] for name, args in COMMANDS.items()})
    return table


def run_once(argv: list[str], env: dict[str, str]) -> float:
    """Wall time of one run in seconds; a command that fails (exit >= 2) aborts the benchmark."""
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode >= 2:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.decode()[-500:]}")
    return elapsed


def measure(table: dict[str, list[str]], runs: int, warmup: int) -> dict[str, float]:
    """Median seconds per name, runs interleaved round-robin."""
    with tempfile.TemporaryDirectory(prefix="jwtgate-bench-") as cache:
        return _measure(table, runs, warmup, cache)


def _measure(table: dict[str, list[str]], runs: int, warmup: int, cache: str) -> dict[str, float]:
    env = {**os.environ, "COLUMNS": "100", "JWTGATE_CACHE_DIR": cache}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed jwtgate has .pyc files: let the warm-up write them
    times: dict[str, list[float]] = {name: [] for name in table}
    for index in range(warmup + runs):
        for name, argv in table.items():
            elapsed = run_once(argv, env)
            if index >= warmup:
                times[name].append(elapsed)
    return {name: statistics.median(values) for name, values in times.items()}


def report(medians: dict[str, float]) -> tuple[list[str], str, bool]:
    """Table lines, the summary line, and whether every target is met."""
    floor, jwt_ms = medians["python -c pass"], medians["import jwt"]
    lines = [f"{'command':<22} {'median ms':>10} {'x pass':>8} {'x import jwt':>13} {'x import typer':>15}"]
    for name, value in medians.items():
        lines.append(f"{name:<22} {value * 1000:>10.1f} {value / floor:>8.2f} {value / jwt_ms:>13.2f} "
                     f"{value / medians['import typer']:>15.2f}")
    verdicts, ok = [], True
    for name, (base, limit) in TARGETS.items():
        ratio = medians[name] / medians[base]
        ok &= ratio <= limit
        verdicts.append(f"{name.removeprefix('jwtgate ')} {ratio:.2f}x {base} (<= {limit}x "
                        f"{'ok' if ratio <= limit else 'MISSED'})")
    return lines, "summary: " + "; ".join(verdicts), ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="timed runs per command (median taken)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs per command first")
    parser.add_argument("--python", default=sys.executable, help="interpreter with jwtgate's dependencies")
    parser.add_argument("--format", choices=["text", "json"], default="text")
    args = parser.parse_args()
    medians = measure(argv_table(args.python), args.runs, args.warmup)
    lines, summary, ok = report(medians)
    if args.format == "json":
        print(json.dumps({"median_ms": {k: round(v * 1000, 2) for k, v in medians.items()}, "ok": ok}, indent=2))
    else:
        print("\n".join(lines))
    print(summary)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
