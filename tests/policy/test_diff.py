"""diff core: route summaries and probes."""

from __future__ import annotations

from jwtgate.config.loader import load_policy
from jwtgate.policy import routes
from jwtgate.policy.diff import _instantiate, probe_paths, summarize_routes


def test_a_whole_group_is_named_once() -> None:
    anthropic = [_instantiate(t) for t in routes.ANTHROPIC_ROUTES]
    assert summarize_routes([*anthropic, "/custom"]) == ("anthropic_routes", "/custom")


def test_a_group_only_partly_changed_is_not_named() -> None:
    info = {_instantiate(t) for t in routes.INFO_ROUTES}
    kept = {"/models", "/v1/models"}
    model_info = {_instantiate(t) for t in routes.GROUPS["model_info_routes"]}  # a whole group in info_routes
    assert summarize_routes(info - kept) == ("model_info_routes", *sorted(info - kept - model_info))


def test_a_group_inside_a_named_group_is_not_repeated() -> None:
    llm = {_instantiate(t) for t in routes.GROUPS["llm_api_routes"]}
    assert summarize_routes(llm) == ("llm_api_routes",)


def test_probes_include_literal_routes_of_both_configs() -> None:
    policy = load_policy("general_settings:\n  litellm_jwtauth:\n    team_allowed_routes: [/custom/*, /exact]\n",
                         "c.yaml", {})
    probes = probe_paths(policy)
    assert "/custom/x" in probes and "/exact" in probes
    assert "/v1/chat/completions" in probes
