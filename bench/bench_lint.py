"""Benchmark: ``lint`` (load + rules, in-process) against a plain ruamel round-trip load of the same file.

Generates configs with 1k, 10k and 50k model_list entries (the 10k one also has 1,000
role_permissions entries) in a temp dir, takes the median of 5 rounds of each, and prints the ratio per
size plus one summary line. Target: at most 1.5x, growing linearly.

    python bench/bench_lint.py [--rounds 5] [--sizes 1000,10000,50000]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jwtgate.config.loader import load_policy
from jwtgate.lint.registry import lint_report

ROLES = ("proxy_admin", "team", "internal_user")


def make_config(models: int, permissions: int) -> str:
    """A LiteLLM config with ``models`` model_list entries and ``permissions`` role_permissions entries."""
    lines = ["model_list:"]
    for i in range(models):
        lines += [f"  - model_name: model-{i}", "    litellm_params:", f"      model: openai/model-{i}",
                  "      api_key: os.environ/OPENAI_API_KEY", "    model_info:", f"      id: m{i}"]
    lines += ["general_settings:", "  enable_jwt_auth: true", "  litellm_jwtauth:", "    enforce_rbac: true",
              "    user_id_jwt_field: sub", "    team_id_jwt_field: team_id", "    issuers:",
              "      - issuer: https://idp.example.com", "        audience: litellm",
              "  role_permissions:"]
    for i in range(permissions):
        chosen = ", ".join(f'"model-{(i * 7 + k) % models}"' for k in range(5))
        lines += [f"    - role: {ROLES[i % 3]}", f"      models: [{chosen}]"]
    return "\n".join(lines) + "\n"


def paired_medians(first: Callable[[], object], second: Callable[[], object],
                   rounds: int) -> tuple[float, float]:
    """Median seconds of each function, rounds interleaved (and order alternated) so drift hits both."""
    times: tuple[list[float], list[float]] = ([], [])
    for r in range(rounds):
        order = ((0, first), (1, second)) if r % 2 == 0 else ((1, second), (0, first))
        for slot, fn in order:
            gc.collect()
            start = time.perf_counter()
            fn()
            times[slot].append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def ruamel_load(path: Path) -> object:
    from ruamel.yaml import YAML

    return YAML(typ="rt").load(path.read_text(encoding="utf-8"))


def lint_file(path: Path) -> object:
    """What ``jwtgate lint`` does per file: load, every rule, suppression comments and settings."""
    env = {"OPENAI_API_KEY": "x"}
    text = path.read_text(encoding="utf-8")
    return lint_report(load_policy(text, str(path), env), env, text=text, today=date(2026, 12, 1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sizes", default="1000,10000,50000")
    args = parser.parse_args()
    ratios: list[float] = []
    per_entry: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            perms = 1000 if size == 10_000 else 0
            path = Path(tmp) / f"config-{size}.yaml"
            path.write_text(make_config(size, perms), encoding="utf-8")
            lint_file(path)  # warm imports
            base, lint = paired_medians(partial(ruamel_load, path), partial(lint_file, path), args.rounds)
            ratios.append(lint / base)
            per_entry.append(lint / size * 1e6)
            print(f"{size:>6} models, {perms:>4} role_permissions: ruamel {base:7.3f}s  lint {lint:7.3f}s  "
                  f"ratio {lint / base:4.2f}x  lint {lint / size * 1e6:6.1f} us/model, of which beyond "
                  f"ruamel {(lint - base) / size * 1e6:5.1f} us/model", flush=True)
    growth = per_entry[-1] / per_entry[0] if per_entry[0] else float("nan")
    verdict = "OK" if max(ratios) <= 1.5 else "ABOVE TARGET"
    print(f"summary: worst ratio {max(ratios):.2f}x (target <= 1.5x, {verdict}); lint time per model "
          f"{per_entry[-1]:.1f} us at the largest size vs {per_entry[0]:.1f} us at the smallest "
          f"({growth:.2f}x; 1.00 = linear)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
