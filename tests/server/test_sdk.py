"""The official openai and anthropic SDKs against a real ``jwtgate serve``, with and without a real LiteLLM behind.

Every test runs in both worlds of tests/server/front.py: serve in front of the mock provider, and serve in
front of LiteLLM OSS (the README's commands, the same config file) in front of the mock provider. Refusals
are checked as the SDK's exception class with jwtgate's reason code; streams as arriving chunk by chunk;
and the client's token never reaches anything behind jwtgate.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import openai
import pytest

from tests.security.served import ROOT
from tests.server.front import World, readme_block

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
TEXT = "Hello from the mock provider!"
ALICE_MODELS = ["gpt-4o-mini", "text-embedding-3-small", "claude-sonnet"]  # internal_user in litellm-front.yaml


_OPEN: list[openai.OpenAI | anthropic.Anthropic] = []  # closed after each test (their sockets, filterwarnings=error)


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()
    gc.collect()  # anything left unclosed warns here, in this test, not in whichever test runs next


def oai(world: World, who: str = "alice-user", **kw: Any) -> openai.OpenAI:
    retries = kw.pop("max_retries", 0)
    client = openai.OpenAI(base_url=f"{world.url}/v1", api_key=world.token(who), max_retries=retries, **kw)
    _OPEN.append(client)
    return client


def claude(world: World, who: str = "alice-user") -> anthropic.Anthropic:
    client = anthropic.Anthropic(base_url=world.url, api_key=world.token(who), max_retries=0)
    _OPEN.append(client)
    return client


HI = [{"role": "user", "content": "hi"}]


def test_chat_plain(world: World) -> None:
    reply = oai(world).chat.completions.create(model="gpt-4o-mini", messages=HI)  # type: ignore[arg-type]
    assert reply.choices[0].message.content == TEXT


@pytest.fixture
def held(world: World) -> Iterator[World]:
    """The provider stops each stream half-way until the test releases it."""
    log = world.provider.log
    log.release.clear()
    log.hold = True
    try:
        yield world
    finally:
        log.hold = False
        log.release.set()


def _first_then_rest(world: World, chunks: Iterator[str]) -> str:
    """The first piece of text arrives while the provider still holds the rest of the stream."""
    done = world.provider.log.streams_done
    first = next(c for c in chunks if c)
    assert world.provider.log.streams_done == done, "the first chunk came only after the whole stream"
    world.provider.log.release.set()
    return first + "".join(chunks)


def test_chat_stream_arrives_chunk_by_chunk_with_usage(held: World) -> None:
    stream = oai(held).chat.completions.create(model="gpt-4o-mini", messages=HI, stream=True,  # type: ignore[arg-type]
                                               stream_options={"include_usage": True})
    usage: list[int] = []

    def texts() -> Iterator[str]:
        for chunk in stream:
            if chunk.usage is not None:
                usage.append(chunk.usage.total_tokens)
            for choice in chunk.choices:
                yield choice.delta.content or ""

    assert _first_then_rest(held, texts()) == TEXT
    assert usage == [11]


def test_legacy_completions(world: World) -> None:
    reply = oai(world).completions.create(model="gpt-4o-mini", prompt="hi")
    assert reply.choices[0].text == TEXT


def test_embeddings(world: World) -> None:
    reply = oai(world).embeddings.create(model="text-embedding-3-small", input=["a", "b"])
    assert [d.embedding for d in reply.data] == [[0.1, 0.2, 0.3]] * 2


def test_responses_plain(world: World) -> None:
    reply = oai(world).responses.create(model="gpt-4o-mini", input="hi")
    assert reply.output_text == TEXT


def test_responses_stream_arrives_chunk_by_chunk(held: World) -> None:
    stream = oai(held).responses.create(model="gpt-4o-mini", input="hi", stream=True)

    def texts() -> Iterator[str]:
        for event in stream:
            if event.type == "response.output_text.delta":
                yield event.delta

    assert _first_then_rest(held, texts()) == TEXT


def test_models_list_and_retrieve_show_only_the_callers_models(world: World) -> None:
    client = oai(world)
    assert [m.id for m in client.models.list()] == ALICE_MODELS
    assert client.models.retrieve("gpt-4o-mini").id == "gpt-4o-mini"
    with pytest.raises(openai.NotFoundError) as caught:
        client.models.retrieve("gpt-4o")
    assert caught.value.code == "model_not_found"


def test_anthropic_messages_plain(world: World) -> None:
    reply = claude(world).messages.create(model="claude-sonnet", max_tokens=16, messages=HI)  # type: ignore[arg-type]
    assert [b.text for b in reply.content if b.type == "text"] == [TEXT]


def test_anthropic_messages_stream_arrives_chunk_by_chunk(held: World) -> None:
    with claude(held).messages.stream(model="claude-sonnet", max_tokens=16, messages=HI) as stream:  # type: ignore[arg-type]
        assert _first_then_rest(held, iter(stream.text_stream)) == TEXT


def test_azure_openai_client_sends_its_key_as_api_key(world: World) -> None:
    client = openai.AzureOpenAI(azure_endpoint=world.url, api_key=world.token("alice-user"), api_version="2024-10-21",
                                max_retries=0)
    _OPEN.append(client)
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=HI)  # type: ignore[arg-type]
    assert reply.choices[0].message.content == TEXT


# --- refusals: the SDK's exception class, jwtgate's reason code, no retry ------------------------------


@pytest.mark.parametrize(("who", "model", "error", "code"), [
    ("alice-user", "gpt-4o", openai.PermissionDeniedError, "policy.model_not_allowed"),
    ("carol-norole", "gpt-4o-mini", openai.PermissionDeniedError, "policy.no_role"),
    ("wrong-audience", "gpt-4o-mini", openai.AuthenticationError, "token.audience_mismatch"),
    ("expired", "gpt-4o-mini", openai.AuthenticationError, "token.expired"),
    ("forged", "gpt-4o-mini", openai.AuthenticationError, "token.signature_invalid"),
], ids=["model", "no-role", "audience", "expired", "forged"])
def test_openai_refusals(world: World, who: str, model: str, error: type[openai.APIStatusError], code: str) -> None:
    with pytest.raises(error) as caught:
        oai(world, who, max_retries=3).chat.completions.create(model=model, messages=HI)  # type: ignore[arg-type]
    assert caught.value.code == code
    assert caught.value.response.headers["x-should-retry"] == "false"
    assert not oai(world)._should_retry(caught.value.response)  # the SDK's own retry rule


def test_anthropic_refusal_has_anthropics_error_shape(world: World) -> None:
    with pytest.raises(anthropic.PermissionDeniedError) as caught:
        claude(world, "carol-norole").messages.create(model="claude-sonnet", max_tokens=16, messages=HI)  # type: ignore[arg-type]
    body = caught.value.body
    assert isinstance(body, dict) and body["type"] == "error"
    assert body["error"]["type"] == "permission_error" and body["error"]["code"] == "policy.no_role"
    assert not claude(world)._should_retry(caught.value.response)


def test_nothing_behind_jwtgate_ever_sees_a_client_token(world: World) -> None:
    oai(world).chat.completions.create(model="gpt-4o-mini", messages=HI)  # type: ignore[arg-type]
    claude(world).messages.create(model="claude-sonnet", max_tokens=16, messages=HI)  # type: ignore[arg-type]
    tokens = {world.token(n) for n in ("alice-user", "admin")}
    seen = list(world.provider.log.all_header_values())
    assert seen and not any(t in v for t in tokens for v in seen)
    last = world.provider.log.last("/chat/completions")["headers"]
    expected = world.upstream_key if world.name == "mock" else "sk-provider-openai"
    assert last["Authorization"] == f"Bearer {expected}"


# --- route groups: the upstream credential never widens the caller's access ----------------------------


def get(world: World, path: str, who: str) -> httpx.Response:
    return httpx.get(f"{world.url}{path}", headers={"Authorization": f"Bearer {world.token(who)}"}, timeout=30)


@pytest.mark.parametrize("path", ["/model/info", "/v1/model/info", "/v2/model/info"])
def test_model_info_is_answered_by_jwtgate_with_the_callers_models_only(world: World, path: str) -> None:
    before = len(world.provider.log.requests)
    resp = get(world, path, "alice-user")
    assert resp.status_code == 200
    assert [m["model_name"] for m in resp.json()["data"]] == ALICE_MODELS
    assert "api_base" not in resp.text and "sk-" not in resp.text
    assert len(world.provider.log.requests) == before


@pytest.mark.parametrize("path", ["/health", "/key/list", "/key/info", "/user/info", "/team/list", "/team/info",
                                  "/v2/key/info", "/organization/list"])
def test_identity_scoped_routes_are_refused_for_a_user(world: World, path: str) -> None:
    resp = get(world, path, "alice-user")
    assert resp.status_code == 403
    assert resp.json()["error"]["code"] == "policy.upstream_scope"
    assert resp.headers["x-should-retry"] == "false"


@pytest.mark.parametrize("path", ["/spend/logs", "/global/spend", "/key/generate"])
def test_spend_and_management_routes_are_not_a_users(world: World, path: str) -> None:
    resp = get(world, path, "alice-user")
    assert resp.status_code == 403
    assert resp.json()["error"]["code"] == "policy.route_not_allowed"


@pytest.mark.parametrize("path", ["/health", "/key/list", "/spend/logs"])
def test_an_admin_reaches_the_upstream_on_admin_routes(world: World, path: str) -> None:
    resp = get(world, path, "admin")
    assert "policy." not in resp.text  # whatever the upstream answers, jwtgate did not refuse
    assert resp.status_code != 403


def test_an_admin_chat_goes_through_with_the_upstream_credential(world: World) -> None:
    reply = oai(world, "admin").chat.completions.create(model="gpt-4o", messages=HI)  # type: ignore[arg-type]
    assert reply.choices[0].message.content == TEXT


# --- the README's "jwtgate in front of LiteLLM" section, run as written -------------------------------------


def test_readme_python_example_prints_the_reply(world: World) -> None:
    """The README's snippet, with its base_url pointed at this world's serve (its only change)."""
    code = readme_block("jwtgate in front of LiteLLM", "python").replace("http://127.0.0.1:4000", world.url)
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={**os.environ, "OPENAI_MAX_RETRIES": "0"})
    assert (result.returncode, result.stdout, result.stderr) == (0, TEXT + "\n", "")


def test_readme_start_up_transcript_is_what_serve_prints(world: World) -> None:
    expected = readme_block("jwtgate in front of LiteLLM", "text").replace("http://127.0.0.1:4001",
                                                                           world.upstream_url).splitlines()
    printed = [line.rstrip("\n") for line in world.served.seen if line.startswith("jwtgate: m")]
    assert printed == expected
