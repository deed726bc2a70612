"""What users see of the LiteLLM fidelity: the version followed, difference notes, refused configs (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from jwtgate.cli.app import app
from jwtgate.policy.litellm_differences import LITELLM_VERSION

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner(env={"COLUMNS": "200"})


def test_the_constant_is_the_pinned_litellm() -> None:
    pinned = (ROOT / ".ci" / "litellm-requirements.txt").read_text(encoding="utf-8")
    assert f"litellm[proxy]=={LITELLM_VERSION}\n" in pinned


def test_version_names_the_litellm_it_follows() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip().endswith(f"(decides as LiteLLM {LITELLM_VERSION})")


def test_an_intended_difference_is_noted_in_the_trace(tmp_path: Path) -> None:
    """A non-admin on /team/update: LiteLLM lets the endpoint decide (it would see jwtgate's master key)."""
    config = tmp_path / "c.yaml"
    config.write_text(json.dumps({"general_settings": {"litellm_jwtauth": {"user_id_jwt_field": "sub"}}}))
    result = runner.invoke(app, ["explain", "--config", str(config), "--claims", '{"sub": "u1"}',
                                 "--route", "/team/update", "--format", "json"])
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    assert doc["reason"]["code"] == "policy.route_not_allowed"
    assert any(n.startswith("[LD003] ") for n in doc["notes"])


def test_check_token_refuses_a_config_litellm_refuses(tmp_path: Path) -> None:
    """role_permissions with 'model' for 'models': LiteLLM does not start, so jwtgate does not decide (exit 2)."""
    from jwt.algorithms import RSAAlgorithm

    from tests.tokenkit import AUD, ISS, mint, private_key

    jwk = {**json.loads(RSAAlgorithm.to_jwk(private_key("RSA").public_key())), "kid": "k1", "use": "sig"}
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [jwk]}))
    config = tmp_path / "c.yaml"
    config.write_text("general_settings:\n  role_permissions:\n    - {role: internal_user, model: [gpt-4o]}\n")
    result = runner.invoke(app, ["check-token", mint(), "--config", str(config), "--jwks", str(tmp_path / "jwks.json"),
                                 "--offline", "--cache-dir", str(tmp_path / "cache")],
                           env={"JWT_AUDIENCE": AUD, "JWT_ISSUER": ISS})
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "c.yaml:3:" in result.stderr and "unknown key 'model'" in result.stderr
    assert "LiteLLM refuses to load this config" in result.stderr
