"""diff core: route summaries and probes."""

from __future__ import annotations

from jwtgate import routes
from jwtgate.config import load_policy
from jwtgate.diff import _instantiate, probe_paths, summarize_routes


def test_a_whole_group_is_named_once() -> None:
    anthropic = [_instantiate(t) for t in routes.ANTHROPIC_ROUTES]
    assert summarize_routes([*anthropic, "/custom"]) == ("anthropic_routes", "/custom")


def test_a_group_partly_kept_elsewhere_is_still_named() -> None:
    info = {_instantiate(t) for t in routes.INFO_ROUTES}
    kept = {"/models", "/v1/models"}
    assert summarize_routes(info - kept, kept) == ("info_routes",)


def test_probes_include_literal_routes_of_both_configs() -> None:
    policy = load_policy("general_settings:\n  litellm_jwtauth:\n    team_allowed_routes: [/custom/*, /exact]\n",
                         "c.yaml", {})
    probes = probe_paths(policy)
    assert "/custom/x" in probes and "/exact" in probes
    assert "/v1/chat/completions" in probes
