"""``jwtgate.identity`` in serve and forward-auth: verified headers and end user reach the upstream, client
copies never do; a token whose claims Entra ID left out (group overage) is refused."""

from __future__ import annotations

from typing import Any

import pytest

from tests.server.conftest import FakeUpstream, Keys, StateFactory
from tests.server.test_app import Client, bearer, error_of, run

IDENTITY = """\
  identity:
    headers:
      X-End-User: sub
      X-Groups: roles
      X-Tenant: org.tenant
    user_field: email
"""
CLAIMS = {"roles": ["gw-dev", "gw-extra"], "email": "alice@acme.example", "org": {"tenant": 7}}
SPOOF = {"x-end-user": "mallory", "X-Groups": "admins", "x-litellm-end-user-id": "mallory",
         "x-litellm-customer-id": "mallory"}


@pytest.fixture
def send(make_state: StateFactory, keys: Keys) -> Any:
    """POST a JSON body with spoofed identity headers to an in-process gateway; (status, {"response": r})."""

    def post(path: str, body: Any, claims: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
        out: dict[str, Any] = {}

        async def scenario(client: Client) -> None:
            token = keys.token(claims if claims is not None else CLAIMS)
            out["response"] = await client.post(path, json=body, headers={**bearer(token), **SPOOF})

        run(make_state(extra=IDENTITY), scenario)
        return out["response"].status_code, out

    return post


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/v1/chat/completions", {"model": "gpt-4o", "messages": [], "user": "mallory"}, "user"),
    ("/v1/completions", {"model": "gpt-4o", "prompt": "hi"}, "user"),
    ("/v1/embeddings", {"model": "gpt-4o", "input": "hi", "user": 12}, "user"),
    ("/v1/responses", {"model": "gpt-4o", "input": "hi", "user": "mallory"}, "user"),
    ("/openai/deployments/gpt-4o/chat/completions", {"messages": [], "user": "mallory"}, "user"),
], ids=["chat", "completions", "embeddings", "responses", "azure-path"])
def test_verified_end_user_replaces_the_clients(send: Any, upstream: FakeUpstream, path: str,
                                                body: dict[str, Any], field: str) -> None:
    status, _ = send(path, body)
    assert status == 200
    seen = upstream.log.requests[-1]
    assert seen["body"][field] == "alice@acme.example"
    assert {k: v for k, v in seen["body"].items() if k != "user"} == {k: v for k, v in body.items() if k != "user"}
    headers = {k.lower(): v for k, v in seen["headers"].items()}
    assert headers["x-end-user"] == "alice" and headers["x-groups"] == "gw-dev,gw-extra" and headers["x-tenant"] == "7"
    assert "x-litellm-end-user-id" not in headers and "x-litellm-customer-id" not in headers


def test_anthropic_messages_get_metadata_user_id(send: Any, upstream: FakeUpstream) -> None:
    body = {"model": "gpt-4o", "max_tokens": 5, "messages": [], "user": "mallory",
            "metadata": {"user_id": "mallory", "trace": "t1"}, "litellm_metadata": {"user": "mallory", "tags": ["a"]}}
    status, _ = send("/v1/messages", body)
    assert status == 200
    seen = upstream.log.requests[-1]["body"]
    assert seen["metadata"] == {"user_id": "alice@acme.example", "trace": "t1"}
    assert "user" not in seen and seen["litellm_metadata"] == {"tags": ["a"]}


def test_model_rewrite_and_end_user_in_one_body(send: Any, upstream: FakeUpstream) -> None:
    status, _ = send("/v1/chat/completions", {"model": "llama", "messages": [], "user": "mallory"})
    assert status == 200
    seen = upstream.log.requests[-1]
    assert seen["path"] == "/v1/chat/completions"
    assert seen["body"] == {"model": "meta/llama-3", "messages": [], "user": "alice@acme.example"}


def test_streaming_request_gets_the_end_user_and_streams(send: Any, upstream: FakeUpstream) -> None:
    status, out = send("/v1/chat/completions", {"model": "gpt-4o", "messages": [], "stream": True, "user": "m"})
    assert status == 200
    assert upstream.log.requests[-1]["body"]["user"] == "alice@acme.example"
    assert out["response"].text.endswith("data: [DONE]\n\n")


def test_other_endpoints_keep_their_body(send: Any, upstream: FakeUpstream) -> None:
    status, _ = send("/v1/moderations", {"model": "gpt-4o", "input": "x", "user": "mallory"})
    assert status == 200
    seen = upstream.log.requests[-1]
    assert seen["body"]["user"] == "mallory"
    assert {k.lower(): v for k, v in seen["headers"].items()}["x-end-user"] == "alice"


def test_absent_claims_leave_headers_out_and_a_missing_end_user_is_refused(send: Any, upstream: FakeUpstream) -> None:
    status, out = send("/v1/chat/completions", {"model": "gpt-4o", "messages": []}, claims={"roles": ["gw-dev"]})
    assert status == 403
    assert error_of(out["response"])["code"] == "policy.identity_missing"
    assert upstream.log.requests == []
    status, _ = send("/v1/moderations", {"model": "gpt-4o", "input": "x"}, claims={"roles": ["gw-dev"]})
    assert status == 200
    headers = {k.lower(): v for k, v in upstream.log.requests[-1]["headers"].items()}
    assert headers["x-end-user"] == "alice" and "x-tenant" not in headers and "x-groups" in headers


def test_forward_auth_answers_with_the_identity_headers(make_state: StateFactory, keys: Keys) -> None:
    state = make_state(extra=IDENTITY)

    async def scenario(client: Client) -> None:
        r = await client.get("/auth/verify", headers={**bearer(keys.token(CLAIMS)), "x-original-uri":
                                                      "/v1/chat/completions", "x-model": "gpt-4o"})
        assert r.status_code == 200
        assert r.headers["x-end-user"] == "alice" and r.headers["x-groups"] == "gw-dev,gw-extra"
        assert r.headers["x-tenant"] == "7" and r.headers["x-jwtgate-subject"] == "alice"

    run(state, scenario)


def test_group_overage_is_refused_by_serve_and_forward_auth(make_state: StateFactory, keys: Keys,
                                                            upstream: FakeUpstream) -> None:
    moved = keys.token({"_claim_names": {"roles": "src1"}, "_claim_sources": {"src1": {"endpoint": "https://graph"}}})

    async def scenario(client: Client) -> None:
        r = await client.post("/v1/chat/completions", json={"model": "gpt-4o", "messages": []}, headers=bearer(moved))
        assert r.status_code == 403 and error_of(r)["code"] == "claims.overage"
        v = await client.get("/auth/verify", headers={**bearer(moved), "x-original-uri": "/v1/chat/completions",
                                                      "x-model": "gpt-4o"})
        assert v.status_code == 403 and v.headers["x-jwtgate-reason"] == "claims.overage"

    run(make_state(), scenario)
    assert upstream.log.requests == []
