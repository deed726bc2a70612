"""policy/replay.py: the claims an access line keeps, and replaying lines of every kind."""

from __future__ import annotations

import json
from typing import Any

import pytest

from jwtgate.config.loader import load_policy
from jwtgate.policy import replay as R
from jwtgate.policy.replay import Replayer, log_claims, replay, subject_fingerprint

CONFIG = """
model_list:
  - {model_name: a, litellm_params: {model: openai/a}}
  - {model_name: b, litellm_params: {model: openai/b}}
general_settings:
  enable_jwt_auth: true
  litellm_jwtauth:
    roles_jwt_field: realm.roles
    team_id_jwt_field: 'kubernetes\\.io.team'
    enforce_rbac: true
    role_mappings:
      - {role: dev, internal_role: internal_user}
  role_permissions:
    - {role: internal_user, models: [MODELS]}
    - {role: team, models: [a]}
"""


def policy(models: str = "a", team_field: bool = True) -> Any:
    text = CONFIG.replace("MODELS", models)
    if not team_field:  # a set team_id_jwt_field makes a team required (LiteLLM: "No team found in token")
        text = "\n".join(line for line in text.splitlines() if "team_id_jwt_field" not in line) + "\n"
    return load_policy(text, "new.yaml", {})


@pytest.mark.parametrize(("claims", "kept"), [
    ({"iss": "i", "sub": "s", "email": "e@x", "realm": {"roles": ["dev"], "other": 1}},
     {"iss": "i", "sub": "s", "realm": {"roles": ["dev"]}}),
    ({"sub": "s", "kubernetes.io": {"team": "t1", "ns": "n"}, "scope": "x y"},
     {"sub": "s", "kubernetes.io": {"team": "t1"}, "scope": "x y"}),
    ({"sub": "s", "realm": "not-an-object", "_claim_names": {"groups": "src1"}, "_claim_sources": {"src1": {}}},
     {"sub": "s", "_claim_names": {"groups": "src1"}}),
], ids=["nested", "escaped-dot", "odd-shapes"])
def test_log_claims_keeps_only_the_paths_the_policy_reads(claims: dict[str, Any], kept: dict[str, Any]) -> None:
    from jwtgate.policy.decision import decision_claim_paths

    assert log_claims(claims, decision_claim_paths(policy())) == kept


def line(model: str, allowed: bool, roles: list[str], sub: str = "alice", **extra: Any) -> str:
    return json.dumps({"path": "/v1/chat/completions", "model": model, "decision": "allow" if allowed else "deny",
                       "subject": sub, "role": "internal_user",
                       "decided": {"route": "/v1/chat/completions", "model": model, "model_call": True,
                                   "allowed": allowed, "reason": None if allowed else "policy.model_not_allowed"},
                       "claims": {"sub": sub, "realm": {"roles": roles}}, **extra})


def test_every_kind_of_line_is_counted() -> None:
    lines = [line("a", True, ["dev"]), line("b", False, ["dev"]), "jwtgate: INFO reloaded", "",
             line("a", True, ["dev"])[:40], '"tail of a cut line"}', "[1, 2]",
             json.dumps({"path": "/healthz", "decision": "ops"}),
             json.dumps({"path": "/v1/x", "decision": "deny", "decided": {"route": 5}, "claims": {}})]
    report = replay(policy("a, b", team_field=False), lines)
    assert (report.lines, report.replayed, report.other, report.unreadable, report.undecided) == (9, 2, 3, 3, 1)
    assert [(c.direction, c.model, c.count) for c in report.changes] == [("denied -> allowed", "b", 1)]
    assert report.widens


def test_memo_is_bounded_and_answers_stay_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(R, "MEMO_SIZE", 2)
    lines = [line("a", True, ["dev"], sub=f"u{i % 5}") for i in range(50)]
    replayer = Replayer(policy("b"))
    for text in lines:
        replayer.feed(text)
    report = replayer.report()
    assert len(replayer.memo) <= 2
    assert sum(c.count for c in report.changes) == 50 and len(report.changes) == 5


def test_claims_the_new_config_reads_but_the_log_lacks_are_named() -> None:
    report = replay(policy(), [line("a", True, ["dev"])])
    assert report.unlogged_paths == ("iss", "kubernetes\\.io.team")


def test_subject_fingerprint_is_short_and_stable() -> None:
    assert subject_fingerprint("alice") == "2bd806c97f0e"
    assert subject_fingerprint(None) == "(no subject)"
