"""``jwtgate replay`` speed: lines per second on a synthetic access log, against a plain ``json.loads`` loop
over the same file (the floor for any reader of JSON lines), at two sizes to show it is linear. Run:

    python bench/bench_replay.py [--lines 1000000] [--subjects 5000] [--rounds 3] [--format json]

The log has the shape ``serve`` writes with ``jwtgate.serve.log_claims: true``: Keycloak-style roles,
``--subjects`` distinct subjects over 3 roles, 4 models and 3 routes, plus 1% server events, 0.1% cut
lines and 5% refusals before a decision (401s, no claims). The new config narrows one role's models.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jwtgate.config.loader import load_policy
from jwtgate.policy.replay import Replayer

CONFIG = """\
model_list:
  - {{model_name: gpt-4o, litellm_params: {{model: openai/gpt-4o}}}}
  - {{model_name: gpt-4o-mini, litellm_params: {{model: openai/gpt-4o-mini}}}}
  - {{model_name: llama-3-70b, litellm_params: {{model: hosted_vllm/llama}}}}
  - {{model_name: o1, litellm_params: {{model: openai/o1}}}}
general_settings:
  enable_jwt_auth: true
  litellm_jwtauth:
    roles_jwt_field: resource_access.litellm.roles
    enforce_rbac: true
    role_mappings:
      - {{role: llm-admin, internal_role: proxy_admin}}
      - {{role: llm-user, internal_role: internal_user}}
      - {{role: llm-team, internal_role: team}}
  role_permissions:
    - {{role: internal_user, models: [{user_models}]}}
    - {{role: team, models: [gpt-4o-mini]}}
"""
MODELS = ("gpt-4o", "gpt-4o-mini", "llama-3-70b", "o1")
ROUTES = ("/v1/chat/completions", "/v1/chat/completions", "/v1/embeddings", "/v1/models")
ROLES = {"llm-admin": "proxy_admin", "llm-user": "internal_user", "llm-team": "team"}
_encode = json.JSONEncoder(separators=(",", ":")).encode


def write_log(path: Path, lines: int, subjects: int, seed: int = 7) -> None:
    rnd = random.Random(seed)
    old = load_policy(CONFIG.format(user_models="gpt-4o, gpt-4o-mini, llama-3-70b"), "old.yaml", {})
    from jwtgate.model import Request
    from jwtgate.policy.decision import decide

    people = [(f"user-{i:05d}", rnd.choice(list(ROLES))) for i in range(subjects)]
    outcomes: dict[tuple[str, str, str | None], tuple[bool, str | None]] = {}
    with path.open("w", encoding="utf-8") as out:
        for n in range(lines):
            x = rnd.random()
            if x < 0.01:
                out.write("jwtgate: INFO config reloaded from old.yaml (4 models)\n")
                continue
            if x < 0.011:
                out.write('{"time":"2026-12-01T08:00:00Z","method":"POST","path":"/v1/ch\n')
                continue
            sub, role = people[rnd.randrange(subjects)]
            route = ROUTES[rnd.randrange(len(ROUTES))]
            model = None if route == "/v1/models" else MODELS[rnd.randrange(len(MODELS))]
            record: dict[str, Any] = {"time": "2026-12-01T08:00:00Z", "method": "POST", "path": route,
                                      "model": model, "subject": sub, "role": ROLES[role], "decision": "deny",
                                      "reason": "token.expired", "status": 401, "upstream_status": None,
                                      "latency_ms": 0.2, "token": f"{n:012x}"}
            if x > 0.06:
                claims = {"iss": "https://sso.example.com/realms/acme", "sub": sub,
                          "resource_access": {"litellm": {"roles": [role]}}}
                key = (role, route, model)
                if key not in outcomes:
                    d = decide(old, claims, Request(model, route, model is not None))
                    outcomes[key] = (d.allowed, d.reason.code if d.reason else None)
                allowed, code = outcomes[key]
                record.update(decision="allow" if allowed else "deny", reason=code,
                              status=200 if allowed else 403, upstream_status=200 if allowed else None)
                record["decided"] = {"route": route, "model": model, "model_call": model is not None,
                                     "allowed": allowed, "reason": code}
                record["claims"] = claims
            out.write(_encode(record) + "\n")


def plain(path: Path) -> float:
    t0 = time.perf_counter()
    with path.open(encoding="utf-8") as f:
        for line in f:
            try:  # noqa: SIM105  (suppress() would slow the baseline down)
                json.loads(line)
            except ValueError:
                pass
    return time.perf_counter() - t0


def replayed(path: Path) -> tuple[float, int]:
    new = load_policy(CONFIG.format(user_models="gpt-4o-mini, llama-3-70b"), "new.yaml", {})
    t0 = time.perf_counter()
    replayer = Replayer(new)
    with path.open(encoding="utf-8") as f:
        for line in f:
            replayer.feed(line)
    report = replayer.report()
    return time.perf_counter() - t0, report.changed


def measure(lines: int, subjects: int, rounds: int, tmp: Path) -> dict[str, float]:
    path = tmp / f"access-{lines}.log"
    write_log(path, lines, subjects)
    plain_s, replay_s, changed = [], [], 0
    for _ in range(rounds):  # interleaved
        plain_s.append(plain(path))
        seconds, changed = replayed(path)
        replay_s.append(seconds)
    p, r = statistics.median(plain_s), statistics.median(replay_s)
    return {"lines": lines, "bytes": path.stat().st_size, "json_loads_s": round(p, 3), "replay_s": round(r, 3),
            "replay_us_per_line": round(r / lines * 1e6, 2), "json_loads_us_per_line": round(p / lines * 1e6, 2),
            "ratio": round(r / p, 2), "changed": changed}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--subjects", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--format", choices=("text", "json"), default="text")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = [measure(n, args.subjects, args.rounds, Path(tmp)) for n in (args.lines // 10, args.lines)]
    if args.format == "json":
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'lines':>9} {'MB':>6} {'json.loads s':>12} {'replay s':>9} {'µs/line':>8} {'ratio':>6} changed")
    for r in rows:
        print(f"{r['lines']:>9} {r['bytes'] / 1e6:>6.0f} {r['json_loads_s']:>12} {r['replay_s']:>9} "
              f"{r['replay_us_per_line']:>8} {r['ratio']:>5}x {r['changed']}")
    small, big = rows
    print(f"per line at {small['lines']} vs {big['lines']} lines: {small['replay_us_per_line']} vs "
          f"{big['replay_us_per_line']} µs (linear when these agree)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
