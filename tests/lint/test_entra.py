"""JG220: an Entra ID issuer whose roles come from 'groups' gets the group-overage hint."""

from __future__ import annotations

import pytest

from jwtgate.config.loader import load_policy
from jwtgate.lint.registry import lint_policy

CONFIG = """\
model_list:
  - model_name: gpt-4o
    litellm_params: {{model: openai/gpt-4o}}
general_settings:
  enable_jwt_auth: true
  litellm_jwtauth:
    {field}: {path}
    {extra}
    issuers:
      - issuer: {issuer}
        audience: api://gateway
"""
ENTRA = "https://login.microsoftonline.com/7f2c0c3e-0000-4000-8000-000000000000/v2.0"
MAPPINGS = "role_mappings: [{role: 'g-llm', internal_role: internal_user}]"
ALLOWED = "user_allowed_roles: ['g-llm']"


def codes(field: str, path: str, issuer: str, extra: str) -> list[tuple[str, int, str]]:
    text = CONFIG.format(field=field, path=path, issuer=issuer, extra=extra)
    return [(f.code, f.location.line, f.severity) for f in lint_policy(load_policy(text, "c.yaml", {}), {})]


@pytest.mark.parametrize(("field", "path", "issuer", "extra", "expected"), [
    ("roles_jwt_field", "groups", ENTRA, MAPPINGS, [("JG220", 7, "info")]),
    ("user_roles_jwt_field", "groups", ENTRA, ALLOWED, [("JG220", 7, "info")]),
    ("roles_jwt_field", "roles", ENTRA, MAPPINGS, []),
    ("roles_jwt_field", "groups", "https://sso.example.com/realms/acme", MAPPINGS, []),
], ids=["entra-role-mappings", "entra-user-roles", "entra-app-roles-ok", "other-idp-ok"])
def test_entra_groups_hint(field: str, path: str, issuer: str, extra: str,
                           expected: list[tuple[str, int, str]]) -> None:
    assert codes(field, path, issuer, extra) == expected


def test_entra_hint_names_the_fixes() -> None:
    text = CONFIG.format(field="roles_jwt_field", path="groups", issuer=ENTRA, extra=MAPPINGS)
    finding = next(f for f in lint_policy(load_policy(text, "c.yaml", {}), {}) if f.code == "JG220")
    assert "claims.overage" in finding.message
    assert finding.hint is not None and "app roles" in finding.hint and "app registration" in finding.hint
