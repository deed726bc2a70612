"""Route matching (policy/routes.py), as LiteLLM's _allowed_routes_check: group names, literals, ``prefix/*``."""

from __future__ import annotations

import pytest

from jwtgate.model import Request
from jwtgate.policy import routes


@pytest.mark.parametrize(("entry", "path", "admitted"), [
    ("openai_routes", "/v1/chat/completions", True),
    ("openai_routes", "/chat/completions", True),
    ("openai_routes", "/v1/messages", False),
    ("anthropic_routes", "/v1/messages", True),
    ("openai_routes", "/v1/batches/batch_123/cancel", True),
    ("openai_routes", "/v1/batches/a/b/cancel", False),
    ("google_routes", "/v1beta/models/gemini/pro:generateContent", True),
    ("openai_routes", "/openai/deployments/gpt-4o/chat/completions", True),
    # LiteLLM 1.108.7 (the oracle): llm_api_routes' templates do not reach under a pass-through prefix
    ("llm_api_routes", "/bedrock/model/invoke", False),
    ("mapped_pass_through_routes", "/bedrock/model/invoke", False),
    ("mapped_pass_through_routes", "/bedrock", True),
    ("info_routes", "/v1/models", True),
    ("management_routes", "/key/generate", True),
    ("/v1/chat/completions", "/v1/chat/completions", True),
    ("/v1/chat/completions", "/v1/chat/completions/", False),
    ("/openai/*", "/openai/v1/chat/completions", True),
    ("/openai/*", "/openai", False),
    ("/openai*", "/openai-compat/x", True),
    ("no_such_group", "/no_such_group", False),
], ids=["group", "group-unversioned", "other-group", "anthropic", "one-segment-param", "param-is-one-segment",
        "path-param", "deployment-template", "llm-api-wildcard-pass-through", "pass-through-exact-only",
        "pass-through-exact", "info", "management", "literal", "literal-is-exact", "prefix-star",
        "prefix-star-not-the-prefix", "bare-star", "unknown-name-is-a-literal"])
def test_matches_entry(entry: str, path: str, admitted: bool) -> None:
    assert routes.matches_entry(entry, path) is admitted
    assert routes.allowed((entry,), path) is admitted


def test_a_request_defaults_to_the_default_route() -> None:
    assert Request().route == routes.DEFAULT_ROUTE == "/v1/chat/completions"


@pytest.mark.parametrize(("entries", "group", "missing"), [
    (("mcp_routes",), "mcp_routes", ()),
    (("llm_api_routes",), "mcp_routes", ("/v1/mcp/server", "/v1/mcp/server/{path:path}", "/v1/mcp/sessions")),
    (("llm_api_routes",), "openai_routes", ()),
    (("/v1/messages", "/v1/messages/count_tokens", "/claude_code_gateway/*", "/v1/skills*", "/claude-code/*"),
     "anthropic_routes", ()),  # LiteLLM 1.108.7's anthropic_routes hold Claude Code's paths too
    (("anthropic_routes",), "anthropic_routes", ()),
], ids=["itself", "llm-api-lacks-mcp-server", "llm-api-holds-openai", "literals-cover", "one-literal-missing"])
def test_not_admitted(entries: tuple[str, ...], group: str, missing: tuple[str, ...]) -> None:
    assert routes.not_admitted(entries, group) == missing


@pytest.mark.parametrize(("entries", "calls_models"), [
    (("management_routes", "spend_tracking_routes"), False), (("openai_routes",), True),
    (("/v1/messages",), True), (("/v1/embeddings", "info_routes"), False),
], ids=["admin-defaults", "openai", "messages-literal", "embeddings-and-info"])
def test_admits_a_model_call(entries: tuple[str, ...], calls_models: bool) -> None:
    assert routes.admits_any(entries, routes.MODEL_CALL_ROUTES) is calls_models
