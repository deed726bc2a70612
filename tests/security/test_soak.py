"""A short soak of `jwtgate serve` (bench/soak.py, ≈10 s): mixed traffic with SIGHUP reloads, nothing lost."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

SOAK = Path(__file__).resolve().parents[2] / "bench" / "soak.py"


def test_short_soak_loses_nothing_and_survives_reloads() -> None:
    spec = importlib.util.spec_from_file_location("jwtgate_bench_soak", SOAK)
    assert spec is not None and spec.loader is not None
    soak = importlib.util.module_from_spec(spec)
    sys.modules["jwtgate_bench_soak"] = soak  # dataclasses look their module up there
    spec.loader.exec_module(soak)
    summary = soak.run(duration=10.0, connections=16, reload_every=1.5)
    assert summary["problems"] == [] and summary["jwtgate_5xx"] == 0
    assert summary["requests"] > 400
    assert {k.split(":")[0] for k in summary["statuses"]} == {"allowed", "denied", "invalid", "stream"}
    assert summary["reloads_applied"] >= 1 and summary["reloads_refused"] >= 1
    assert summary["ok"], summary
