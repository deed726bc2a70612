"""The forwarding table and the headers that go upstream and come back."""

from __future__ import annotations

import pytest

from jwtgate.config.loader import load_policy
from jwtgate.policy.routing import upstream_model_name
from jwtgate.server.upstream import (
    Target,
    blocked_headers,
    build_targets,
    forward_headers,
    response_headers,
    target_url,
)

CONFIG = """\
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o}
  - model_name: llama
    litellm_params: {model: hosted_vllm/meta/llama-3, api_base: "http://vllm:8000/v1/", api_key: os.environ/VLLM}
  - model_name: llama
    litellm_params: {model: hosted_vllm/other, api_base: "http://second:8000/v1"}
  - model_name: claude
    litellm_params: {model: anthropic/claude-3, api_base: "https://anthropic.example"}
  - model_name: keyed
    litellm_params: {model: openai/gpt-4o-mini, api_key: sk-literal}
"""


@pytest.mark.parametrize(("litellm", "sent"), [
    ("openai/gpt-4o", "gpt-4o"), ("hosted_vllm/meta/llama-3", "meta/llama-3"),
    ("anthropic/claude-3", "anthropic/claude-3"),
    ("gpt-4o", "gpt-4o"),
], ids=["openai", "hosted-vllm-keeps-org", "not-openai-compatible", "no-prefix"])
def test_upstream_model_name(litellm: str, sent: str) -> None:
    assert upstream_model_name(litellm) == sent


def test_direct_mode_routes_api_base_models_each_with_its_own_key() -> None:
    policy = load_policy(CONFIG, "c.yaml", {})
    targets = build_targets(policy, {"VLLM": "vk", "PROXY": "pk"}, "http://litellm:4000/", "PROXY", "direct")
    assert targets.for_model("llama") == Target("http://vllm:8000/v1", True, "meta/llama-3", "vk")
    # the upstream's key never goes to a model's api_base, nor a model's key to the upstream
    assert targets.for_model("claude") == Target("https://anthropic.example", True, "anthropic/claude-3", None)
    assert targets.for_model("gpt-4o") == Target("http://litellm:4000", False, None, "pk")
    assert targets.for_model("keyed") == Target("http://litellm:4000", False, None, "pk")
    assert targets.for_model(None) == targets.default


def test_litellm_mode_sends_every_model_to_the_upstream_with_the_upstream_key_only() -> None:
    policy = load_policy(CONFIG, "c.yaml", {})
    targets = build_targets(policy, {"VLLM": "vk", "PROXY": "pk"}, "http://litellm:4000", "PROXY", "litellm")
    assert targets.by_model == {}
    for model in ("llama", "claude", "gpt-4o", "keyed"):
        assert targets.for_model(model) == Target("http://litellm:4000", False, None, "pk")
    no_key = build_targets(policy, {}, "http://litellm:4000", None, "litellm")
    assert no_key.for_model("keyed") == Target("http://litellm:4000", False, None, None)


@pytest.mark.parametrize(("target", "path", "query", "url"), [
    (Target("http://vllm/v1", True, None, None), "/v1/chat/completions", b"", "http://vllm/v1/chat/completions"),
    (Target("http://vllm/v1", True, None, None), "/chat/completions", b"a=1", "http://vllm/v1/chat/completions?a=1"),
    (Target("http://proxy", False, None, None), "/v1/chat/completions", b"", "http://proxy/v1/chat/completions"),
    (Target("http://proxy", False, None, None), "/v1/files/a b", b"", "http://proxy/v1/files/a%20b"),
], ids=["api-base-drops-v1", "api-base-query", "proxy-unchanged", "re-quoted"])
def test_target_url(target: Target, path: str, query: bytes, url: str) -> None:
    assert target_url(target, path, query) == url


def test_forward_headers_drop_credentials_hop_by_hop_and_spoofed_identity() -> None:
    client = [(b"authorization", b"Bearer client.jwt.token"), (b"x-api-key", b"client"), (b"api-key", b"c"),
              (b"connection", b"keep-alive, x-secret-hop"), (b"x-secret-hop", b"1"), (b"keep-alive", b"5"),
              (b"host", b"gw"), (b"content-length", b"10"), (b"x-jwtgate-subject", b"root"),
              (b"x-jwtgate-role", b"proxy_admin"), (b"content-type", b"application/json"), (b"x-trace", b"t")]
    blocked = blocked_headers(["X-Jwtgate-Subject", "X-Jwtgate-Role"])
    out = forward_headers(client, blocked, {"X-Jwtgate-Subject": "alice"}, "upstream-key", "authorization")
    assert out == [("content-type", "application/json"), ("x-trace", "t"), ("X-Jwtgate-Subject", "alice"),
                   ("Authorization", "Bearer upstream-key")]


def test_forward_headers_anthropic_key_header() -> None:
    assert forward_headers([], frozenset(), {}, "k", "x-api-key") == [("x-api-key", "k")]


def test_response_headers_keep_length_drop_hop_by_hop() -> None:
    raw = [(b"Content-Type", b"text/event-stream"), (b"Transfer-Encoding", b"chunked"), (b"Content-Length", b"5"),
           (b"Connection", b"close"), (b"Date", b"x"), (b"X-Request-Id", b"r")]
    assert response_headers(raw) == [(b"content-type", b"text/event-stream"), (b"content-length", b"5"),
                                     (b"x-request-id", b"r")]

