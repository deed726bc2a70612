"""grants.grants() against decide(): every role decide() gives is granted by some enumerated condition, and
each grant's example claims reach its role unless an earlier condition (LiteLLM's order) shadows it."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jwtgate.config.loader import load_policy
from jwtgate.model import Policy, Request
from jwtgate.policy import grants
from jwtgate.policy.decision import decide

VALUES = ["v-admin", "v-user", "v-team", "v-x"]
TARGET = {"v-admin": "proxy_admin", "v-user": "internal_user", "v-team": "team"}


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    jwt = ["enforce_rbac: true", "roles_jwt_field: realm.groups"]
    mappings = draw(st.lists(st.sampled_from(list(TARGET)), unique=True))
    if mappings:
        jwt += ["role_mappings:", *(f"  - {{role: {v}, internal_role: {TARGET[v]}}}" for v in mappings)]
    for key, value in (("user_id_jwt_field", "uid"), ("team_id_jwt_field", "org.tid"),
                       ("team_id_default", "default-team")):
        if draw(st.booleans()):
            jwt.append(f"{key}: {value}")
    if draw(st.booleans()):
        allowed = draw(st.lists(st.sampled_from(VALUES), min_size=1, unique=True))
        jwt += ["user_roles_jwt_field: approles", f"user_allowed_roles: [{', '.join(allowed)}]"]
    text = "\n".join(["general_settings:", "  litellm_jwtauth:", *(f"    {x}" for x in jwt)]) + "\n"
    return load_policy(text, "p.yaml", {})


claims_st = st.fixed_dictionaries({}, optional={
    "realm": st.fixed_dictionaries({"groups": st.lists(st.sampled_from(VALUES))}),
    "approles": st.lists(st.sampled_from(VALUES)),
    "uid": st.just("u"),
    "org": st.fixed_dictionaries({"tid": st.just("t")}),
    "scope": st.sampled_from(["litellm_proxy_admin", "other"]),
})


@settings(max_examples=200, deadline=None)
@given(policy=policies(), claims=claims_st)
def test_every_decided_role_has_a_grant(policy: Policy, claims: dict[str, Any]) -> None:
    role = decide(policy, claims, Request("m")).role
    assert role in {g.role for g in grants.grants(policy)}


@settings(max_examples=200, deadline=None)
@given(policy=policies())
def test_grant_claims_reach_the_grant_or_an_earlier_one(policy: Policy) -> None:
    found = grants.grants(policy)
    for i, grant in enumerate(found):
        role = decide(policy, grants.example_claims(policy, grant), Request(None)).role
        assert role == grant.role or role in {g.role for g in found[:i]}, grant


def test_claim_at_nests_and_keeps_escaped_dots() -> None:
    assert grants.claim_at("a.b", 1) == {"a": {"b": 1}}
    assert grants.claim_at(r"kubernetes\.io.ns", "x") == {"kubernetes.io": {"ns": "x"}}


@pytest.mark.parametrize(("sets", "merged"), [
    (({"a": {"b": 1}}, {"a": {"c": 2}}), {"a": {"b": 1, "c": 2}}),
    (({"scope": "x y"}, {"scope": "y z"}), {"scope": "x y z"}),
    (({"k": 1}, {"k": 2}), {"k": 2}),
], ids=["nested", "scopes-joined", "scalar-later-wins"])
def test_merge(sets: tuple[dict[str, Any], ...], merged: dict[str, Any]) -> None:
    assert grants.merge(*sets) == merged


def test_requirements_add_email_and_team_claims() -> None:
    text = ("general_settings:\n  litellm_jwtauth:\n    user_email_jwt_field: mail\n"
            "    user_allowed_email_domain: acme.com\n    enforce_team_based_model_access: true\n"
            "    team_ids_jwt_field: groups\n")
    policy = load_policy(text, "p.yaml", {})
    anyone = grants.grants(policy)[-1]
    claims = grants.example_claims(policy, anyone)
    assert claims["mail"] == "user@acme.com"
    assert claims["groups"] == ["example"]
    assert decide(policy, claims, Request("m")).allowed
