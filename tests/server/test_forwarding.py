"""The server applying the forwarding rule and the client-compatibility fixes, in-process (httpx.ASGITransport)."""

from __future__ import annotations

import socket

import pytest

from jwtgate.config.loader import load_policy
from jwtgate.server.app import _model_info
from tests.server.conftest import FakeUpstream, Keys, StateFactory
from tests.server.test_app import ROLE_CLAIMS, Client, bearer, run

USER_KEYS = "    upstream_keys:\n      internal_user: os.environ/USER_KEY\n"


def test_azure_path_and_body_are_rewritten_and_api_key_is_accepted(make_state: StateFactory, keys: Keys,
                                                                   upstream: FakeUpstream) -> None:
    async def scenario(client: Client) -> None:
        r = await client.post("/openai/deployments/llama/chat/completions?api-version=2024-10-21",
                              json={"model": "llama", "messages": []},
                              headers={"api-key": keys.token(ROLE_CLAIMS["dev"])})
        assert r.status_code == 200

    run(make_state(), scenario)
    seen = upstream.log.requests[0]
    assert seen["path"] == "/v1/openai/deployments/meta/llama-3/chat/completions?api-version=2024-10-21"
    assert seen["body"] == {"model": "meta/llama-3", "messages": []}
    assert seen["headers"]["Authorization"] == "Bearer vllm-secret"
    assert "api-key" not in {k.lower() for k in seen["headers"]}


def test_a_role_with_its_own_upstream_key_uses_it_and_reaches_identity_routes(
        make_state: StateFactory, keys: Keys, upstream: FakeUpstream, env: dict[str, str]) -> None:
    env["USER_KEY"] = "sk-user-virtual"

    async def scenario(client: Client) -> None:
        dev = bearer(keys.token(ROLE_CLAIMS["dev"]))
        assert (await client.get("/key/info", headers=dev)).status_code == 200
        assert (await client.post("/v1/chat/completions", json={"model": "gpt-4o"}, headers=dev)).status_code == 200
        assert (await client.post("/v1/chat/completions", json={"model": "llama"}, headers=dev)).status_code == 200

    run(make_state(extra=USER_KEYS), scenario)
    sent = [(r["path"], r["headers"]["Authorization"]) for r in upstream.log.requests]
    assert sent == [("/key/info", "Bearer sk-user-virtual"), ("/v1/chat/completions", "Bearer sk-user-virtual"),
                    ("/v1/chat/completions", "Bearer vllm-secret")]  # a model's api_base keeps its own key


def test_without_its_own_key_a_user_is_refused_identity_routes_and_an_admin_is_not(
        make_state: StateFactory, keys: Keys, upstream: FakeUpstream) -> None:
    async def scenario(client: Client) -> None:
        r = await client.get("/key/info", headers=bearer(keys.token(ROLE_CLAIMS["dev"])))
        assert (r.status_code, r.json()["error"]["code"]) == (403, "policy.upstream_scope")
        r = await client.get("/key/info", headers=bearer(keys.token(ROLE_CLAIMS["admin"])))
        assert r.status_code == 200

    run(make_state(), scenario)
    assert [(r["path"], r["headers"]["Authorization"]) for r in upstream.log.requests] == [
        ("/key/info", "Bearer proxy-secret")]


def test_model_info_lists_only_the_callers_models_without_api_base(make_state: StateFactory, keys: Keys,
                                                                   upstream: FakeUpstream) -> None:
    async def scenario(client: Client) -> None:
        r = await client.get("/model/info", headers=bearer(keys.token(ROLE_CLAIMS["dev"])))
        assert r.status_code == 200
        assert [m["model_name"] for m in r.json()["data"]] == ["gpt-4o", "llama"]
        assert "api_base" not in r.text and "VLLM" not in r.text
        r = await client.get("/model_group/info", headers=bearer(keys.token(ROLE_CLAIMS["dev"])))
        assert [(g["model_group"], g["providers"]) for g in r.json()["data"]] == [("gpt-4o", ["openai"]),
                                                                                 ("llama", ["hosted_vllm"])]

    run(make_state(), scenario)
    assert upstream.log.requests == []


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(("claims", "upstream_up", "status", "retry"), [
    ("dev", True, 200, None), ("none", True, 403, "false"), ("dev", False, 502, None),
], ids=["allowed", "refused-for-good", "upstream-down-stays-retryable"])
def test_x_should_retry_only_on_refusals_a_retry_cannot_cure(make_state: StateFactory, keys: Keys,
                                                             upstream: FakeUpstream, claims: str, upstream_up: bool,
                                                             status: int, retry: str | None) -> None:
    async def scenario(client: Client) -> None:
        r = await client.post("/v1/chat/completions", json={"model": "gpt-4o"},
                              headers=bearer(keys.token(ROLE_CLAIMS[claims])))
        assert (r.status_code, r.headers.get("x-should-retry")) == (status, retry)

    target = upstream.url if upstream_up else f"http://127.0.0.1:{_closed_port()}"
    run(make_state(upstream=target), scenario)


def test_errors_on_messages_have_anthropics_shape(make_state: StateFactory, keys: Keys) -> None:
    async def scenario(client: Client) -> None:
        r = await client.post("/v1/messages", json={"model": "o1-secret", "max_tokens": 5},
                              headers={"x-api-key": keys.token(ROLE_CLAIMS["dev"])})
        assert r.status_code == 403
        assert r.json() == {"type": "error", "error": {"type": "permission_error", "code": "policy.model_not_allowed",
                                                       "message": r.json()["error"]["message"]}}
        r = await client.post("/v1/messages", json={"model": "gpt-4o"})
        assert (r.status_code, r.json()["error"]["type"]) == (401, "authentication_error")

    run(make_state(), scenario)


def test_model_info_values_that_are_not_json_become_strings() -> None:
    policy = load_policy("model_list:\n  - model_name: a\n    litellm_params: {model: openai/a, api_key: sk-1}\n"
                         "    model_info: {released: 2024-01-01, mode: chat}\n", "c.yaml", {})
    assert _model_info(policy.models[0]) == {"model_name": "a", "litellm_params": {"model": "openai/a"},
                                             "model_info": {"released": "2024-01-01", "mode": "chat"}}
