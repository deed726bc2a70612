"""``--shadow-config`` in-process: the enforced decision is applied, differences are on the access record and
counted, a reload with a broken shadow config keeps both; ``log_claims`` off keeps records as they were."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from jwtgate.server.app import create_app
from tests.server.conftest import FakeUpstream, Keys, StateFactory, write_policy
from tests.server.test_app import ROLE_CLAIMS, bearer


def test_shadow_differences_are_recorded_and_a_broken_reload_keeps_both(
        make_state: StateFactory, keys: Keys, upstream: FakeUpstream, tmp_path: Path) -> None:
    shadow = write_policy(tmp_path / "shadow.yaml", upstream.url, keys.jwks_path)
    shadow.write_text(shadow.read_text().replace('models: ["gpt-4o", "llama"]', 'models: ["llama"]'))
    state = make_state(shadow_config=str(shadow))
    records: list[dict[str, Any]] = []
    state.access_log = records.append
    app = create_app(state)
    dev = bearer(keys.token(ROLE_CLAIMS["dev"]))

    async def main() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
            ok = await client.post("/v1/chat/completions", json={"model": "gpt-4o"}, headers=dev)
            assert ok.status_code == 200  # enforced: allowed, whatever the shadow says
            shadow.write_text("model_list: [broken")
            assert await app.reload() is False
            again = await client.post("/v1/chat/completions", json={"model": "gpt-4o"}, headers=dev)
            assert again.status_code == 200
        await state.upstream.close()

    asyncio.run(main())
    chats = [r for r in records if r["path"] == "/v1/chat/completions"]
    assert [r["shadow"]["decision"] for r in chats] == ["deny", "deny"]  # the running shadow was kept
    assert all("claims" not in r and "decided" not in r for r in records)  # log_claims is off
    metrics = state.metrics.render().decode()
    assert 'jwtgate_shadow_decisions_total{enforced="allow",shadow="deny"} 2.0' in metrics
    assert 'jwtgate_config_reloads_total{outcome="rejected"} 1.0' in metrics


def test_without_shadow_nothing_is_counted(make_state: StateFactory, keys: Keys, upstream: FakeUpstream) -> None:
    state = make_state()
    records: list[dict[str, Any]] = []
    state.access_log = records.append
    app = create_app(state)

    async def main() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
            r = await client.post("/v1/chat/completions", json={"model": "gpt-4o"},
                                  headers=bearer(keys.token(ROLE_CLAIMS["dev"])))
            assert r.status_code == 200
        await state.upstream.close()

    asyncio.run(main())
    assert "shadow" not in records[-1]
    assert "jwtgate_shadow_decisions_total{" not in state.metrics.render().decode()
