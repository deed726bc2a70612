"""identity_for(): the headers and end-user value sent upstream; decide() refuses Entra group overage."""

from __future__ import annotations

from typing import Any

import pytest

from jwtgate.config.loader import load_policy
from jwtgate.model import Policy, Request
from jwtgate.policy.decision import decide, decision_claim_paths
from jwtgate.policy.identity import NO_IDENTITY, identity_for, removed_headers

CONFIG = """
model_list:
  - {model_name: gpt-4o, litellm_params: {model: openai/gpt-4o}}
general_settings:
  enable_jwt_auth: true
  litellm_jwtauth:
    roles_jwt_field: groups
    user_id_jwt_field: oid
    enforce_rbac: true
    role_mappings:
      - {role: g-llm, internal_role: internal_user}
  role_permissions:
    - {role: internal_user, models: [gpt-4o]}
jwtgate:
  identity:
    headers:
      X-End-User: sub
      X-Groups: groups
      X-Tenant: org.tenant
      X-Admin: admin
    user_field: preferred_username
"""


def policy(text: str = CONFIG) -> Policy:
    return load_policy(text, "c.yaml", {})


@pytest.mark.parametrize(("claims", "headers", "user"), [
    ({"sub": "alice", "preferred_username": "alice@acme.example"},
     {"X-End-User": "alice"}, "alice@acme.example"),
    ({"sub": "bob", "groups": ["g-llm", "g-ops"], "org": {"tenant": 42}, "admin": True, "preferred_username": 7},
     {"X-End-User": "bob", "X-Groups": "g-llm,g-ops", "X-Tenant": "42", "X-Admin": "true"}, "7"),
    ({"sub": "carol", "org": {"tenant": {"id": 1}}, "groups": [{"id": "x"}], "preferred_username": "carol"},
     {"X-End-User": "carol"}, "carol"),
], ids=["scalars", "list-number-bool", "objects-left-out"])
def test_headers_and_user_from_claims(claims: dict[str, Any], headers: dict[str, str], user: str) -> None:
    identity = identity_for(policy(), claims)
    assert dict(identity.headers) == headers
    assert identity.user == user and identity.user_problem is None and identity.problem is None


def test_missing_user_claim_and_control_characters_are_problems() -> None:
    missing = identity_for(policy(), {"sub": "alice"})
    assert missing.user is None
    assert missing.user_problem == ("the token's claim 'preferred_username' (jwtgate.identity.user_field) is absent")
    bad = identity_for(policy(), {"sub": "alice\r\nX-Injected: 1", "preferred_username": "a"})
    assert "X-End-User" not in dict(bad.headers)
    assert bad.problem == "claim 'sub' for header X-End-User contains control characters"


def test_nothing_configured_is_no_identity_and_removes_nothing() -> None:
    plain = policy(CONFIG.split("jwtgate:")[0])
    assert identity_for(plain, {"sub": "alice"}) is NO_IDENTITY
    assert removed_headers(plain) == frozenset()


def test_removed_headers_cover_configured_names_and_litellm_end_user_headers() -> None:
    assert removed_headers(policy()) == {"x-end-user", "x-groups", "x-tenant", "x-admin", "x-litellm-customer-id",
                                         "x-litellm-end-user-id"}
    header = "  user_header_name: X-OpenWebUI-User-Id\n"
    with_header = policy(CONFIG.replace("  litellm_jwtauth:", header + "  litellm_jwtauth:"))
    assert "x-openwebui-user-id" in removed_headers(with_header)  # LiteLLM reads it before the body's user


# --- Entra ID group overage --------------------------------------------------------------------------

OVERAGE = {"_claim_names": {"groups": "src1"},
           "_claim_sources": {"src1": {"endpoint": "https://graph.microsoft.com/v1.0/users/x/getMemberObjects"}}}


@pytest.mark.parametrize(("claims", "code"), [
    ({"sub": "a", **OVERAGE}, "claims.overage"),
    ({"sub": "a", "hasgroups": True}, "claims.overage"),
    ({"sub": "a", "groups": ["g-llm"]}, None),
    ({"sub": "a", "groups": ["g-llm"], "_claim_names": {"groups": "src1"}}, None),
    ({"sub": "a", "_claim_names": {"wids": "src1"}}, "policy.no_role"),
], ids=["claim-names", "hasgroups", "groups-present", "claim-names-but-present", "other-claim-moved"])
def test_overage_is_refused_with_its_own_code(claims: dict[str, Any], code: str | None) -> None:
    d = decide(policy(), claims, Request("gpt-4o"))
    assert (d.reason.code if d.reason else None) == code


def test_overage_names_the_claim_setting_and_fixes() -> None:
    d = decide(policy(), {"sub": "a", **OVERAGE}, Request("gpt-4o"))
    assert d.reason is not None
    assert d.reason.message == ("the token's 'groups' claim was left out by the identity provider (group overage: "
                                "_claim_names) and roles_jwt_field reads 'groups'")
    assert d.reason.location is not None and d.reason.location.line == 7
    assert any("app roles" in n and "app registration" in n for n in d.notes)


def test_overage_applies_to_any_claim_the_config_reads() -> None:
    d = decide(policy(), {"sub": "a", "groups": ["g-llm"], "_claim_names": {"oid": "src1"}}, Request("gpt-4o"))
    assert d.reason is not None and d.reason.code == "claims.overage" and "user_id_jwt_field" in d.reason.message


def test_decision_claim_paths_are_those_the_config_names() -> None:
    assert decision_claim_paths(policy()) == ("iss", "sub", "scope", "_claim_names", "hasgroups", "oid", "groups")
