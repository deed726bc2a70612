"""The app in-process (httpx.ASGITransport) with the real Authenticator, a real JWKS file and a real upstream."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from jwtgate.model import Request
from jwtgate.policy.decision import decide
from jwtgate.server.app import JwtgateApp, create_app
from jwtgate.server.state import AppState
from jwtgate.tokens.compact import fingerprint
from tests.server.conftest import ISSUER, KID, FakeUpstream, Keys, StateFactory

Client = httpx.AsyncClient
Scenario = Callable[[Client], Awaitable[None]]
ROLE_CLAIMS = {"dev": {"roles": ["gw-dev"]}, "team": {"roles": ["gw-team"]}, "none": {},
               "admin": {"scope": "litellm_proxy_admin"}}


def run(state: AppState, scenario: Scenario) -> JwtgateApp:
    """Run a scenario against the app in this thread's event loop; the upstream session is closed after."""
    app = create_app(state)

    async def main() -> None:
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://gateway", timeout=10) as client:
                await scenario(client)
        finally:
            await state.upstream.close()

    asyncio.run(main())
    return app


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body["error"]) == {"message", "type", "param", "code"}
    return dict(body["error"])


# --- decisions -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "model", "status", "code"), [
    ("dev", "gpt-4o", 200, None),
    ("dev", "llama", 200, None),
    ("dev", "o1-secret", 403, "policy.model_not_allowed"),
    ("team", "gpt-4o", 403, "policy.route_not_allowed"),
    ("none", "gpt-4o", 403, "policy.no_role"),
    ("admin", "gpt-4o", 403, "policy.route_not_allowed"),
], ids=["dev-allowed", "dev-api-base-model", "dev-other-model", "team-route", "no-role", "admin-no-llm-routes"])
def test_chat_decisions(make_state: StateFactory, keys: Keys, upstream: FakeUpstream, role: str, model: str,
                        status: int, code: str | None) -> None:
    async def scenario(client: Client) -> None:
        token = keys.token(ROLE_CLAIMS[role])
        r = await client.post("/v1/chat/completions", json={"model": model}, headers=bearer(token))
        assert r.status_code == status, r.text
        if code:
            assert error_of(r)["code"] == code
            assert error_of(r)["type"] == "permission_error"
        else:
            assert r.json()["object"] == "echo"

    run(make_state(), scenario)
    assert len(upstream.log.requests) == (1 if status == 200 else 0)


@pytest.mark.parametrize(("make_token", "code"), [
    (lambda k: None, "token.missing"),
    (lambda k: "not-a-jwt", None),
    (lambda k: k.token(ROLE_CLAIMS["dev"], key=k.other), None),
    (lambda k: k.token(ROLE_CLAIMS["dev"], ttl=-3600), "token.expired"),
    (lambda k: k.token({**ROLE_CLAIMS["dev"], "aud": "someone-else"}), None),
], ids=["missing", "garbage", "wrong-key", "expired", "wrong-audience"])
def test_bad_credentials_are_401_with_a_bearer_challenge(make_state: StateFactory, keys: Keys,
                                                          upstream: FakeUpstream, make_token: Any,
                                                          code: str | None) -> None:
    token = make_token(keys)

    async def scenario(client: Client) -> None:
        r = await client.post("/v1/chat/completions", json={"model": "gpt-4o"},
                              headers=bearer(token) if token else {})
        assert r.status_code == 401
        err = error_of(r)
        assert err["type"] == "authentication_error"
        assert err["code"].startswith(("token.", "key."))
        if code:
            assert err["code"] == code
        challenge = r.headers["www-authenticate"]
        assert challenge.startswith('Bearer realm="jwtgate"')
        assert ("error=" in challenge) is (token is not None)

    run(make_state(), scenario)
    assert upstream.log.requests == []


def test_hide_reasons_keeps_details_in_the_log(make_state: StateFactory, keys: Keys,
                                               caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(client: Client) -> None:
        denied = await client.post("/v1/chat/completions", json={"model": "o1-secret"},
                                   headers=bearer(keys.token(ROLE_CLAIMS["dev"])))
        assert error_of(denied) == {"message": "access denied", "type": "permission_error", "param": None,
                                    "code": "policy.denied"}
        expired = await client.post("/v1/chat/completions", json={"model": "gpt-4o"},
                                    headers=bearer(keys.token(ROLE_CLAIMS["dev"], ttl=-3600)))
        assert error_of(expired)["code"] == "token.invalid"
        assert "expired" not in expired.text

    with caplog.at_level(logging.INFO, logger="jwtgate.access"):
        run(make_state(hide_reasons=True), scenario)
    reasons = [json.loads(r.getMessage())["reason"] for r in caplog.records if r.name == "jwtgate.access"]
    assert reasons == ["policy.model_not_allowed", "token.expired"]


def test_access_log_line_has_the_fields_and_never_the_token(make_state: StateFactory, keys: Keys,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    token = keys.token(ROLE_CLAIMS["dev"])

    async def scenario(client: Client) -> None:
        assert (await client.post("/v1/chat/completions", json={"model": "gpt-4o"}, headers=bearer(token))).is_success

    with caplog.at_level(logging.INFO, logger="jwtgate.access"):
        run(make_state(), scenario)
    line = next(r.getMessage() for r in caplog.records if r.name == "jwtgate.access")
    record = json.loads(line)
    assert {k: record[k] for k in ("method", "path", "model", "subject", "role", "decision", "reason", "status",
                                   "upstream_status")} == {
        "method": "POST", "path": "/v1/chat/completions", "model": "gpt-4o", "subject": "alice",
        "role": "internal_user", "decision": "allow", "reason": None, "status": 200, "upstream_status": 200}
    assert record["token"] and record["token"] not in token
    assert token.split(".")[2] not in line and token not in line


def test_access_log_of_a_refused_request_names_the_token_never_shows_it(make_state: StateFactory, keys: Keys,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    cases = {
        "token.expired": keys.token(ROLE_CLAIMS["dev"], ttl=-3600),
        "token.audience_mismatch": keys.token({**ROLE_CLAIMS["dev"], "aud": "another-app"}),
        "key.not_found": keys.token(ROLE_CLAIMS["dev"], kid="rotated-away"),
        "policy.model_not_allowed": keys.token(ROLE_CLAIMS["dev"]),
    }

    async def scenario(client: Client) -> None:
        for token in cases.values():
            reply = await client.post("/v1/chat/completions", json={"model": "o1-secret"}, headers=bearer(token))
            assert reply.is_error
        assert (await client.post("/v1/chat/completions", json={"model": "o1-secret"},
                                  headers=bearer("not.a-token"))).status_code == 401

    with caplog.at_level(logging.INFO, logger="jwtgate.access"):
        run(make_state(), scenario)
    lines = [r.getMessage() for r in caplog.records if r.name == "jwtgate.access"]
    records = [json.loads(line) for line in lines]
    kid_for = {"key.not_found": "rotated-away"}
    assert [(r["reason"], r["token"], r["kid"], r["iss"]) for r in records[:4]] == [
        (code, fingerprint(token), kid_for.get(code, KID), ISSUER) for code, token in cases.items()]
    assert (records[4]["reason"], records[4]["token"], records[4]["kid"]) == (
        "token.malformed", fingerprint("not.a-token"), None)
    for token in cases.values():
        assert not any(token.split(".")[2] in line for line in lines)


# --- what reaches the upstream ---------------------------------------------------------------------


def test_client_credentials_and_spoofed_identity_never_reach_the_upstream(make_state: StateFactory, keys: Keys,
                                                                          upstream: FakeUpstream) -> None:
    token = keys.token(ROLE_CLAIMS["dev"])
    spoof = {**bearer(token), "x-api-key": token, "X-Jwtgate-Subject": "root", "x-jwtgate-role": "proxy_admin",
             "connection": "x-hop", "x-hop": "1"}

    async def scenario(client: Client) -> None:
        r = await client.post("/v1/chat/completions", json={"model": "gpt-4o"}, headers=spoof)
        assert r.status_code == 200

    run(make_state(), scenario)
    seen = upstream.log.requests[0]
    headers = {k.lower(): v for k, v in seen["headers"].items()}
    assert headers["x-jwtgate-subject"] == "alice"
    assert headers["x-jwtgate-role"] == "internal_user"
    assert headers["authorization"] == "Bearer proxy-secret"
    assert "x-api-key" not in headers and "x-hop" not in headers
    assert token not in json.dumps(seen)


def test_api_base_model_is_rewritten_and_gets_its_own_key(make_state: StateFactory, keys: Keys,
                                                          upstream: FakeUpstream) -> None:
    async def scenario(client: Client) -> None:
        r = await client.post("/chat/completions?x=1", json={"model": "llama", "messages": []},
                              headers=bearer(keys.token(ROLE_CLAIMS["dev"])))
        assert r.status_code == 200

    run(make_state(), scenario)
    seen = upstream.log.requests[0]
    assert seen["path"] == "/v1/chat/completions?x=1"
    assert seen["body"] == {"model": "meta/llama-3", "messages": []}
    assert seen["headers"]["Authorization"] == "Bearer vllm-secret"


def test_anthropic_messages_with_x_api_key(make_state: StateFactory, keys: Keys, upstream: FakeUpstream) -> None:
    async def scenario(client: Client) -> None:
        r = await client.post("/v1/messages", json={"model": "gpt-4o", "max_tokens": 5},
                              headers={"x-api-key": keys.token(ROLE_CLAIMS["dev"]), "anthropic-version": "2023-06-01"})
        assert r.status_code == 200

    run(make_state(), scenario)
    headers = upstream.log.requests[0]["headers"]
    assert headers["x-api-key"] == "proxy-secret"
    assert "Authorization" not in headers
    assert headers["anthropic-version"] == "2023-06-01"


@pytest.mark.parametrize(("path", "body", "status", "code"), [
    ("/openai/deployments/o1-secret/chat/completions?api-version=1", {"messages": []}, 403,
     "policy.model_not_allowed"),
    ("/openai/deployments/gpt-4o/chat/completions", {"model": "o1-secret"}, 400, "request.model_mismatch"),
    ("/v1/chat/completions", {"messages": []}, 403, "policy.model_required"),
    ("/v1/chat/completions", {"model": 5}, 400, "request.invalid_model"),
    ("/v1//chat/completions", {"model": "gpt-4o"}, 400, "request.bad_path"),
    ("/openai/chat/completions", {"model": "o1-secret"}, 403, "policy.model_not_allowed"),
], ids=["azure-path-model", "path-body-mismatch", "no-model-for-a-limited-caller", "non-string-model",
        "double-slash", "pass-through-route"])
def test_model_is_never_guessed(make_state: StateFactory, keys: Keys, upstream: FakeUpstream, path: str,
                                body: dict[str, Any], status: int, code: str) -> None:
    async def scenario(client: Client) -> None:
        r = await client.post(path, json=body, headers=bearer(keys.token(ROLE_CLAIMS["dev"])))
        assert (r.status_code, error_of(r)["code"]) == (status, code)

    run(make_state(), scenario)
    assert upstream.log.requests == []


def test_compressed_body_is_refused(make_state: StateFactory, keys: Keys) -> None:
    async def scenario(client: Client) -> None:
        r = await client.post("/v1/chat/completions", content=b"\x1f\x8b...",
                              headers={**bearer(keys.token(ROLE_CLAIMS["dev"])), "content-encoding": "gzip"})
        assert (r.status_code, error_of(r)["code"]) == (415, "request.encoded_body")

    run(make_state(), scenario)


def test_oversize_body_is_413(make_state: StateFactory, keys: Keys, upstream: FakeUpstream) -> None:
    big = json.dumps({"model": "gpt-4o", "pad": "x" * 5000}).encode()

    async def scenario(client: Client) -> None:
        r = await client.post("/v1/chat/completions", content=big, headers=bearer(keys.token(ROLE_CLAIMS["dev"])))
        assert (r.status_code, error_of(r)["code"]) == (413, "request.too_large")

        async def chunks() -> Any:  # no Content-Length: counted as it arrives
            for _ in range(5):
                yield b"x" * 1500

        r = await client.post("/v1/chat/completions", content=chunks(),
                              headers=bearer(keys.token(ROLE_CLAIMS["dev"])))
        assert r.status_code == 413

    run(make_state(extra="    max_body_bytes: 4096\n"), scenario)
    assert upstream.log.requests == []


def test_upstream_status_is_passed_through(make_state: StateFactory, keys: Keys) -> None:
    async def scenario(client: Client) -> None:
        r = await client.post("/v1/chat/completions", json={"model": "gpt-4o", "mode": "status"},
                              headers=bearer(keys.token(ROLE_CLAIMS["dev"])))
        assert (r.status_code, r.json()) == (429, {"error": {"message": "rate limited"}})

    run(make_state(), scenario)


def test_other_routes_are_decided_by_route(make_state: StateFactory, keys: Keys, upstream: FakeUpstream) -> None:
    async def scenario(client: Client) -> None:
        dev = bearer(keys.token(ROLE_CLAIMS["dev"]))
        assert (await client.get("/v1/files/file-1", headers=dev)).status_code == 200
        r = await client.post("/key/generate", json={}, headers=dev)
        assert (r.status_code, error_of(r)["code"]) == (403, "policy.route_not_allowed")

    run(make_state(), scenario)
    assert [r["path"] for r in upstream.log.requests] == ["/v1/files/file-1"]


# --- /v1/models --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["dev", "team", "admin"])
@pytest.mark.parametrize("path", ["/v1/models", "/models"])
def test_models_list_equals_the_decision_for_every_model(make_state: StateFactory, keys: Keys, role: str,
                                                         path: str) -> None:
    state = make_state()
    claims = keys.token(ROLE_CLAIMS[role])
    policy = state.holder.gate.policy

    async def scenario(client: Client) -> None:
        r = await client.get(path, headers=bearer(claims))
        if role == "admin":  # admin_allowed_routes include info_routes, but no model is usable by an admin here
            assert r.status_code == 200
        listed = [m["id"] for m in r.json()["data"]]
        verified = await state.holder.gate.authenticator.aauthenticate(claims)
        expected = [m for m in policy.model_names
                    if decide(policy, verified.claims, Request(m, "/v1/chat/completions")).allowed]
        assert listed == expected
        for name in policy.model_names:
            one = await client.get(f"{path}/{name}", headers=bearer(claims))
            assert one.status_code == (200 if name in expected else 404)

    run(state, scenario)


def test_models_list_needs_a_token(make_state: StateFactory) -> None:
    async def scenario(client: Client) -> None:
        r = await client.get("/v1/models")
        assert (r.status_code, error_of(r)["code"]) == (401, "token.missing")

    run(make_state(), scenario)


# --- operations --------------------------------------------------------------------------------------


def test_health_ready_and_metrics(make_state: StateFactory, keys: Keys) -> None:
    async def scenario(client: Client) -> None:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        ready = await client.get("/readyz")
        assert (ready.status_code, ready.json()["keys"]) == (200, True)
        await client.post("/v1/chat/completions", json={"model": "o1-secret"},
                          headers=bearer(keys.token(ROLE_CLAIMS["dev"])))
        await client.post("/v1/chat/completions", json={"model": "gpt-4o"},
                          headers=bearer(keys.token(ROLE_CLAIMS["dev"])))
        text = (await client.get("/metrics")).text
        assert 'jwtgate_requests_total{decision="deny",reason="policy.model_not_allowed"} 1.0' in text
        assert 'jwtgate_requests_total{decision="allow",reason="ok"} 1.0' in text
        assert "jwtgate_upstream_latency_seconds_count 1.0" in text
        assert "jwtgate_key_cache_age_seconds" in text

    run(make_state(), scenario)


def test_key_outage_is_503_never_an_allow(make_state: StateFactory, keys: Keys, upstream: FakeUpstream) -> None:
    async def scenario(client: Client) -> None:
        r = await client.post("/v1/chat/completions", json={"model": "gpt-4o"},
                              headers=bearer(keys.token(ROLE_CLAIMS["dev"])))
        assert (r.status_code, error_of(r)["type"]) == (503, "service_unavailable")
        assert error_of(r)["code"].startswith("jwks.")
        assert (await client.get("/readyz")).status_code == 503

    state = make_state(jwks=("http://127.0.0.1:9/jwks.json",))
    run(state, scenario)
    assert upstream.log.requests == []


def test_reload_swaps_good_config_and_keeps_the_running_one_on_errors(
        make_state: StateFactory, keys: Keys, upstream: FakeUpstream) -> None:
    state = make_state()
    config = state.holder.gate.policy.file
    dev = bearer(keys.token(ROLE_CLAIMS["dev"]))
    app = create_app(state)

    async def main() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
            assert (await client.post("/v1/chat/completions", json={"model": "o1-secret"}, headers=dev)).status_code \
                == 403
            text = Path(config).read_text().replace('models: ["gpt-4o", "llama"]', 'models: ["gpt-4o", "o1-secret"]')
            Path(config).write_text(text)
            assert await app.reload() is True
            assert (await client.post("/v1/chat/completions", json={"model": "o1-secret"}, headers=dev)).status_code \
                == 200
            Path(config).write_text(text.replace("model_list:", "model_list: [broken"))
            assert await app.reload() is False
            assert (await client.post("/v1/chat/completions", json={"model": "o1-secret"}, headers=dev)).status_code \
                == 200
        await state.upstream.close()

    asyncio.run(main())
    metrics = state.metrics.render().decode()
    assert 'jwtgate_config_reloads_total{outcome="ok"} 1.0' in metrics
    assert 'jwtgate_config_reloads_total{outcome="rejected"} 1.0' in metrics
