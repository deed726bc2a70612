"""Access reports: every matrix cell and model answer agrees with decide() on the grant's example claims."""

from __future__ import annotations

from pathlib import Path

import pytest

from jwtgate.config.loader import load_policy_file
from jwtgate.model import Request
from jwtgate.policy import grants
from jwtgate.policy.decision import decide
from jwtgate.policy.reports import matrix, model_access

SAMPLES = sorted(str(p) for p in Path("sample_configs").glob("*.yaml"))
ROUTE = "/v1/chat/completions"


@pytest.mark.parametrize("config", SAMPLES, ids=[Path(p).stem for p in SAMPLES])
def test_matrix_cells_agree_with_decide(config: str) -> None:
    policy = load_policy_file(config, {})
    models, rows = matrix(policy)
    for row in rows:
        bare = grants.example_claims(policy, row.grant)
        for model in models:
            allowed_bare = decide(policy, bare, Request(model, ROUTE)).allowed
            assert allowed_bare == (model in row.allowed), (row.grant.label, model)
            if model in row.with_scope:
                scoped = grants.example_claims(policy, row.grant, (row.with_scope[model],))
                assert decide(policy, scoped, Request(model, ROUTE)).allowed


def test_scopes_matrix_says_a_scope_is_needed() -> None:
    policy = load_policy_file("sample_configs/scopes.yaml", {})
    _, rows = matrix(policy)
    anyone = next(r for r in rows if r.grant.kind == "any")
    assert anyone.allowed == ()
    assert anyone.with_scope == {"gpt-4o": "llm.chat", "gpt-4o-mini": "llm.chat",
                                 "text-embedding-3-small": "llm.embeddings"}


def test_scoped_model_is_not_open_to_everyone() -> None:
    policy = load_policy_file("sample_configs/scopes.yaml", {})
    ma = model_access(policy, "gpt-4o")
    assert not decide(policy, {}, Request("gpt-4o", ROUTE)).allowed
    assert not ma.everyone
    assert [p.scopes for p in ma.allowed] == [("llm.chat",)]


def test_multi_issuer_rows_are_labelled_by_issuer() -> None:
    policy = load_policy_file("sample_configs/multi-issuer.yaml", {})
    labels = [r.grant.label for r in matrix(policy)[1]]
    assert len(labels) == len(set(labels))
    assert "internal_user <- user_id (iss https://acme.okta.com/oauth2/default)" in labels
