"""An ``issuer: os.environ/IDP_ISSUER`` whose variable is unset: lint, check-token and serve name it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import Result

from tests.kit.cli import invoke
from tests.kit.tokens import mint

CONFIG = """\
model_list:
  - {model_name: small, litellm_params: {model: openai/small}}
general_settings:
  enable_jwt_auth: true
  litellm_jwtauth:
    enforce_rbac: true
    roles_jwt_field: roles
    role_mappings:
      - {role: gateway-user, internal_role: internal_user}
    issuers:
      - {issuer: os.environ/IDP_ISSUER, audience: llm-gateway}
  role_permissions:
    - {role: internal_user, models: [small]}
"""
SAYS = "issuers[].issuer is os.environ/IDP_ISSUER, and IDP_ISSUER is not set, so that issuers entry is dropped"
FIX = "export IDP_ISSUER=<the issuer URL>"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "gateway.yaml"
    path.write_text(CONFIG)
    return path


def _run(*args: str) -> Result:
    unset: dict[str, str | None] = dict.fromkeys(("IDP_ISSUER", "JWT_PUBLIC_KEY_URL", "JWT_AUDIENCE", "JWT_ISSUER"))
    return invoke(args, env=unset)


def test_lint_names_the_variable(config: Path) -> None:
    result = _run("lint", str(config))
    assert result.exit_code == 1
    errors = [line for line in result.stdout.splitlines() if " JG302 error: " in line]
    assert len(errors) == 1 and SAYS in errors[0] and FIX in errors[0]


def test_check_token_names_the_variable(config: Path) -> None:
    result = _run("check-token", "--config", str(config), "--model", "small", mint("RS256"))
    assert result.exit_code == 1
    out = result.stdout
    assert f"DENIED [jwks.not_configured] no key source is configured: {SAYS}" in out
    assert FIX in out + result.stderr


def test_serve_refuses_naming_the_variable(config: Path) -> None:
    result = _run("serve", "--config", str(config), "--port", "0", "--upstream", "http://127.0.0.1:9")
    assert result.exit_code == 2
    assert SAYS in result.stderr and "not starting" in result.stderr
