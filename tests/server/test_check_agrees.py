"""check-token says what serve answers: the same decision and reason code, route group by route group.

Every (role, route) case goes through ``jwtgate check-token --format json`` and through the real app
(in-process, ``httpx.ASGITransport``) with the same config file, environment and token.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from jwtgate.policy.forwarding import route_group
from tests.kit.cli import invoke
from tests.server.conftest import FakeUpstream, Keys, StateFactory
from tests.server.test_app import ROLE_CLAIMS, Client, bearer, run

# (method, route, model): one or more routes of every forwarding group
ROUTES = [("POST", "/v1/chat/completions", "gpt-4o"), ("POST", "/v1/chat/completions", "o1-secret"),
          ("POST", "/v1/embeddings", "gpt-4o"), ("GET", "/health/liveliness", None), ("GET", "/v1/models", None),
          ("GET", "/model/info", None), ("GET", "/model_group/info", None), ("GET", "/health", None),
          ("GET", "/key/info", None), ("GET", "/key/list", None), ("GET", "/user/info", None),
          ("GET", "/team/list", None), ("GET", "/organization/list", None), ("GET", "/spend/logs", None),
          ("POST", "/model/new", None), ("POST", "/config/update", None)]
GROUPS = {"inference", "public", "models", "model_info", "health", "key", "user", "team", "spend", "management",
          "other"}
USER_KEYS = "    upstream_keys:\n      internal_user: os.environ/USER_KEY\n"


def _serve_answers(state: Any, tokens: dict[str, str]) -> dict[tuple[str, str, str | None], tuple[bool, str | None]]:
    out: dict[tuple[str, str, str | None], tuple[bool, str | None]] = {}

    async def scenario(client: Client) -> None:
        for role, token in tokens.items():
            for method, route, model in ROUTES:
                body = {"model": model, "messages": [], "input": "x"} if model else None
                r = await client.request(method, route, json=body, headers=bearer(token))
                assert r.status_code in (200, 403), (role, route, r.status_code, r.text)
                out[role, route, model] = (r.status_code == 200,
                                           r.json()["error"]["code"] if r.status_code == 403 else None)

    run(state, scenario)
    return out


def _cli_answers(config: Path, env: dict[str, str], tokens: dict[str, str]) -> dict[tuple[str, str, str | None],
                                                                                   tuple[bool, str | None]]:
    out = {}
    for role, token in tokens.items():
        for _, route, model in ROUTES:
            args = ["check-token", token, "--config", str(config), "--route", route, "--format", "json"]
            result = invoke([*args, "--model", model] if model else args, env=env)
            doc = json.loads(result.stdout)
            assert result.exit_code == (0 if doc["allowed"] else 1), result.output
            assert doc["steps"][-1]["name"] == ("forwarding" if doc["steps"][-2]["name"] == "decision"
                                                and doc["steps"][-2]["status"] == "ok" else "decision")
            out[role, route, model] = (doc["allowed"], (doc["reason"] or {}).get("code"))
    return out


@pytest.mark.parametrize("extra", ["", USER_KEYS], ids=["shared-credential", "user-upstream-key"])
def test_check_token_gives_serves_answer_on_every_route_group(make_state: StateFactory, keys: Keys,
                                                              upstream: FakeUpstream, env: dict[str, str],
                                                              tmp_path: Path, extra: str) -> None:
    env["USER_KEY"] = "sk-user-virtual"
    tokens = {role: keys.token(claims) for role, claims in ROLE_CLAIMS.items()}
    state = make_state(extra=extra)
    served = _serve_answers(state, tokens)
    checked = _cli_answers(tmp_path / "config.yaml", env, tokens)
    assert checked == served
    assert {route_group(route) for _, route, _ in ROUTES} == GROUPS
    codes = {code for _, code in served.values()}
    assert {None, "policy.model_not_allowed"} | (set() if extra else {"policy.upstream_scope"}) <= codes
    key_info = served["dev", "/key/info", None]
    assert key_info == ((True, None) if extra else (False, "policy.upstream_scope"))
