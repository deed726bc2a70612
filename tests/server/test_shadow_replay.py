"""A real ``jwtgate serve --shadow-config`` run: differences logged and counted, SIGHUP reloads both, and
``jwtgate replay`` on the log it wrote finds exactly the decisions the new config changes."""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path
from typing import Any

import httpx

from tests.kit.cli import invoke
from tests.security.served import Served, serve_args
from tests.server.conftest import WAIT, FakeUpstream, Keys, write_policy

LOG_CLAIMS = "    log_claims: true\n"
DEV = {"roles": ["gw-dev"], "email": "alice@acme.example", "name": "Alice"}


def new_config(enforced: Path, out: Path) -> Path:
    """The change under test: internal_user loses gpt-4o and gains o1-secret."""
    text = enforced.read_text().replace('models: ["gpt-4o", "llama"]', 'models: ["o1-secret", "llama"]')
    out.write_text(text)
    return out


def chat(url: str, token: str, model: str) -> httpx.Response:
    return httpx.post(url + "/v1/chat/completions", json={"model": model, "messages": []}, timeout=WAIT,
                      headers={"authorization": f"Bearer {token}"})


def access_lines(lines: list[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in lines if line.startswith("{")]


def test_shadow_serve_then_replay_its_log(tmp_path: Path, keys: Keys, upstream: FakeUpstream,
                                          env: dict[str, str]) -> None:
    config = write_policy(tmp_path / "config.yaml", upstream.url, keys.jwks_path, extra=LOG_CLAIMS)
    shadow = new_config(config, tmp_path / "new.yaml")
    served = Served([*serve_args(config, upstream.url), "--shadow-config", str(shadow)], env).listening()
    try:
        dev, team = keys.token(DEV), keys.token({"roles": ["gw-team"]})
        statuses = [chat(served.url, dev, m).status_code for m in ("gpt-4o", "o1-secret", "llama", "gpt-4o")]
        statuses.append(chat(served.url, team, "gpt-4o").status_code)
        statuses.append(chat(served.url, "not.a.token", "gpt-4o").status_code)
        assert statuses == [200, 403, 200, 200, 403, 401]  # team: route not allowed (both configs)
        metrics = httpx.get(served.url + "/metrics", timeout=WAIT).text
        pairs = dict(re.findall(r'jwtgate_shadow_decisions_total\{(enforced="\w+",shadow="\w+")\} (\S+)', metrics))
        assert pairs == {'enforced="allow",shadow="deny"': "2.0", 'enforced="deny",shadow="allow"': "1.0",
                         'enforced="allow",shadow="allow"': "1.0", 'enforced="deny",shadow="deny"': "1.0"}
        shadow.write_text(config.read_text())  # the shadow now agrees with the enforced config
        served.proc.send_signal(signal.SIGHUP)
        served.wait_for(r"config reloaded")
        assert chat(served.url, dev, "gpt-4o").status_code == 200
    finally:
        served.stop()
    lines = served.drain()
    records = access_lines(lines)
    chats = [r for r in records if r["path"] == "/v1/chat/completions"]
    denied = "policy.model_not_allowed"
    assert [r.get("shadow") for r in chats[:2]] == [
        {"decision": "deny", "reason": denied, "enforced_decision": "allow", "enforced_reason": None},
        {"decision": "allow", "reason": None, "enforced_decision": "deny", "enforced_reason": denied},
    ]
    assert "shadow" not in chats[2] and "shadow" not in chats[-1]  # agreed, and after the reload
    assert chats[0]["claims"] == {"iss": "https://idp.test", "sub": "alice", "roles": ["gw-dev"]}
    assert chats[0]["decided"] == {"route": "/v1/chat/completions", "model": "gpt-4o", "model_call": True,
                                   "allowed": True, "reason": None}
    assert all(dev not in line and "acme.example" not in line for line in lines)

    log = tmp_path / "access.log"
    cut = json.dumps(chats[0])
    log.write_text(cut[-30:] + "\n" + "".join(lines) + cut[:50])  # rotated mid-line at the start, truncated at the end
    result = invoke(["replay", str(log), "--config", str(new_config(config, tmp_path / "new2.yaml")),
                     "--format", "json", "--fail-on", "widen"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert (report["replayed"], report["unreadable"], report["undecided"]) == (6, 2, 2)
    assert report["other"] >= 1  # the server's own lines ("jwtgate: listening on ...")
    changes = {(c["direction"], c["model"]): (c["count"], c["role"], c["new_reasons"], c["old_reasons"])
               for c in report["changes"]}
    assert changes == {
        ("allowed -> denied", "gpt-4o"): (3, "internal_user", ["policy.model_not_allowed"], ["allowed"]),
        ("denied -> allowed", "o1-secret"): (1, "internal_user", ["allowed"], ["policy.model_not_allowed"]),
    }
    same = invoke(["replay", str(log), "--config", str(config), "--fail-on", "any"])
    assert same.exit_code == 0, same.output
    assert "no decision would change" in same.stdout
