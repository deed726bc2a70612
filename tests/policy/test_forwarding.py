"""The confused-deputy rule: how an allowed request may reach the upstream, per route group and role."""

from __future__ import annotations

import pytest

from jwtgate.config.loader import load_policy
from jwtgate.model import Request
from jwtgate.policy.decision import decide
from jwtgate.policy.forwarding import forwarding, route_group

CONFIG = """\
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o}
general_settings:
  enable_jwt_auth: true
  litellm_jwtauth:
    roles_jwt_field: roles
    role_mappings:
      - {role: dev, internal_role: internal_user}
      - {role: ops, internal_role: team}
    team_allowed_routes: [llm_api_routes, info_routes]
jwtgate:
  serve:
    upstream_keys: {team: sk-team-virtual-key}
"""
CLAIMS = {"user": {"roles": ["dev"]}, "team": {"roles": ["ops"]}, "admin": {"scope": "litellm_proxy_admin"}}


@pytest.mark.parametrize(("path", "group"), [
    ("/v1/chat/completions", "inference"), ("/v1/messages", "inference"), ("/openai/deployments/x/embeddings",
                                                                          "inference"),
    ("/v1/models", "models"), ("/models/gpt-4o", "models"), ("/model/info", "model_info"),
    ("/v2/model/info", "model_info"), ("/model_group/info", "model_info"), ("/health", "health"),
    ("/health/services", "health"), ("/health/liveliness", "public"), ("/key/info", "key"), ("/v2/key/info", "key"),
    ("/key/list", "key"), ("/user/info", "user"), ("/team/list", "team"), ("/organization/list", "team"),
    ("/spend/logs", "spend"), ("/global/spend/keys", "spend"), ("/key/spend/report", "spend"),
    ("/model/new", "management"), ("/config/update", "other"),
])
def test_route_groups(path: str, group: str) -> None:
    assert route_group(path) == group


@pytest.mark.parametrize(("who", "path", "how", "credential"), [
    ("user", "/v1/chat/completions", "forward", None),
    ("user", "/model/info", "answer", None),
    ("user", "/key/info", "refuse", None),
    ("user", "/health", "refuse", None),
    ("user", "/team/list", "refuse", None),
    ("team", "/key/info", "forward", "team"),
    ("team", "/v1/chat/completions", "forward", "team"),
    ("admin", "/key/info", "forward", None),
    ("admin", "/health", "forward", None),
    ("admin", "/model/info", "answer", None),
])
def test_forwarding_never_lets_the_shared_credential_answer_for_a_non_admin(who: str, path: str, how: str,
                                                                            credential: str | None) -> None:
    policy = load_policy(CONFIG, "c.yaml", {})
    decision = decide(policy, CLAIMS[who], Request(None, path))
    assert decision.allowed, decision.reason
    result = forwarding(policy, decision, path)
    assert (result.how, result.credential) == (how, credential)
    if how == "refuse":
        assert "upstream_keys" in result.reason and path in result.reason
