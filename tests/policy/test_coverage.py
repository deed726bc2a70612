"""coverage(): which entries a set of decisions exercised, and which no token can reach."""

from __future__ import annotations

from jwtgate.config.loader import load_policy
from jwtgate.model import Request
from jwtgate.policy.coverage import coverage
from jwtgate.policy.decision import decide

CONFIG = """\
general_settings:
  litellm_jwtauth:
    enforce_rbac: true
    roles_jwt_field: groups
    role_mappings:
      - {role: dev, internal_role: internal_user}
  role_permissions:
    - {role: internal_user, models: [m1]}
    - {role: internal_user, models: [m2]}
    - {role: team, models: [m1]}
"""


def test_duplicate_and_unreachable_entries_are_explained() -> None:
    policy = load_policy(CONFIG, "c.yaml", {})
    cov = coverage(policy, [decide(policy, {"groups": ["dev"]}, Request("m1"))])
    assert [e.name for e in cov.covered] == ["role_permissions[0] (internal_user)", "role_mappings[0] (dev -> "
                                             "internal_user)"]
    assert [(e.location.line, e.unreachable) for e in cov.uncovered] == [
        (9, "an earlier entry for internal_user wins"), (10, "no condition in the config grants team")]
    assert round(cov.percent) == 50


def test_no_entries_is_full_coverage() -> None:
    policy = load_policy("general_settings: {}\n", "c.yaml", {})
    assert coverage(policy, []).percent == 100.0
