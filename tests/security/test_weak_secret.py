"""Weak HMAC secrets: refused at lint time (JG306) and, should the config run anyway, at verification."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jwtgate.config.loader import load_policy
from jwtgate.lint.registry import lint_policy
from tests.kit.cli import invoke
from tests.security.kit import STRONG_SECRET, WEAK_SECRET, Kit, policy_yaml
from tests.security.replay import NOW, Gateway, run_sync

PEM = "-----BEGIN PUBLIC KEY-----\\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\\n-----END PUBLIC KEY-----"
ENV = {"JWT_AUDIENCE": "llm-gateway"}


def _config(secret: str) -> str:
    return policy_yaml("jwks.json") + f'jwtgate:\n  hmac_secret: "{secret}"\n'


@pytest.mark.parametrize(("secret", "flagged"), [
    pytest.param(WEAK_SECRET, True, id="wordlist"),
    pytest.param("x" * 31, True, id="31-bytes"),
    pytest.param(PEM, True, id="public-key-pem"),
    pytest.param('{\\"kty\\": \\"RSA\\"}', True, id="public-key-jwk"),
    pytest.param("x" * 32, False, id="32-bytes"),
    pytest.param(STRONG_SECRET, False, id="strong"),
])
def test_lint_flags_weak_hmac_secrets(secret: str, flagged: bool) -> None:
    policy = load_policy(_config(secret), "c.yaml", ENV)
    found = [f for f in lint_policy(policy, ENV) if f.code == "JG306"]
    assert bool(found) is flagged
    if found:
        line = next(i for i, text in enumerate(_config(secret).splitlines(), 1) if "hmac_secret" in text)
        assert found[0].severity == "error" and found[0].location.line == line
        assert secret.replace("\\", "") not in found[0].message, "the secret is never printed"


@pytest.mark.parametrize(("algorithms", "flagged"), [
    pytest.param("[HS512]", "HS512 needs at least 64", id="hs512-40-bytes"),
    pytest.param("[HS384]", "HS384 needs at least 48", id="hs384-40-bytes"),
    pytest.param("[HS256]", None, id="hs256-40-bytes"),
    pytest.param(None, None, id="no-list-40-bytes"),
])
def test_lint_uses_the_verifiers_minimum_for_each_configured_algorithm(algorithms: str | None,
                                                                       flagged: str | None) -> None:
    secret = "x" * 40
    text = _config(secret) + (f"  algorithms: {algorithms}\n" if algorithms else "")
    found = [f for f in lint_policy(load_policy(text, "c.yaml", ENV), ENV) if f.code == "JG306"]
    assert [f.message for f in found if flagged and flagged in f.message] == [f.message for f in found]
    assert bool(found) is (flagged is not None)


def test_what_lint_flags_the_verifier_refuses(tmp_path: Path) -> None:
    gateway = Gateway(tmp_path)
    (tmp_path / "idp-jwks.json").write_text(json.dumps({"keys": []}), encoding="utf-8")
    config = _config("x" * 40).replace("jwks.json", str(tmp_path / "idp-jwks.json")) + "  algorithms: [HS512]\n"
    (tmp_path / "gateway-weak.yaml").write_text(config, encoding="utf-8")
    assert "JG306" in {f.code for f in lint_policy(load_policy(config, "c.yaml", ENV), ENV)}
    outcome = run_sync(gateway.auth("weak"), Kit(now=NOW).token("HS512", key="x" * 40, kid=None), "small")
    assert not outcome.allowed and outcome.code == "key.weak_secret"


def test_lint_cli_exits_1_on_a_weak_secret(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(_config(WEAK_SECRET), encoding="utf-8")
    result = invoke(["lint", str(config), "--format", "json"], env={"JWT_AUDIENCE": "x"})
    assert result.exit_code == 1
    assert "JG306" in result.stdout and WEAK_SECRET not in result.stdout


def test_weak_secret_refuses_even_a_correctly_signed_token(tmp_path: Path) -> None:
    gateway = Gateway(tmp_path)
    (tmp_path / "idp-jwks.json").write_text(json.dumps({"keys": []}), encoding="utf-8")
    config = _config(WEAK_SECRET).replace("jwks.json", str(tmp_path / "idp-jwks.json"))
    (tmp_path / "gateway-weak.yaml").write_text(config, encoding="utf-8")
    token = Kit(now=NOW).token("HS256", key=WEAK_SECRET, kid=None)
    outcome = run_sync(gateway.auth("weak"), token, "small")
    assert not outcome.allowed and outcome.code == "key.weak_secret"
    assert "at least 32" in outcome.message and WEAK_SECRET not in outcome.message
    gateway.close()
