"""``explain --token`` and token cases in ``jwtgate test``: the check of jwtgate/check.py, as check-token runs it."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import jwt
import pytest

from tests.kit.cli import Invoke, invoke
from tests.kit.keys import jwk_of, private_key

ISS = "https://idp.test/realms/acme"

CONFIG = f"""\
model_list:
  - {{model_name: small, litellm_params: {{model: openai/small}}}}
  - {{model_name: big, litellm_params: {{model: openai/big}}}}
general_settings:
  enable_jwt_auth: true
  litellm_jwtauth:
    enforce_rbac: true
    roles_jwt_field: roles
    role_mappings:
      - {{role: user, internal_role: internal_user}}
    issuers:
      - {{issuer: "{ISS}", audience: gateway}}
  role_permissions:
    - {{role: internal_user, models: [small]}}
"""


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("tok")
    key = private_key("rsa-explain")
    jwks = tmp / "jwks.json"
    jwks.write_text(json.dumps({"keys": [jwk_of(key, "k1", use="sig", alg="RS256")]}), encoding="utf-8")
    config = tmp / "c.yaml"
    config.write_text(CONFIG, encoding="utf-8")

    def mint(**claims: Any) -> str:
        base = {"iss": ISS, "aud": "gateway", "sub": "bob", "roles": ["user"], "exp": int(time.time()) + 600}
        base.update(claims)
        return str(jwt.encode({k: v for k, v in base.items() if v is not None}, key, "RS256",
                              headers={"kid": "k1"}))

    return {"dir": tmp, "jwks": str(jwks), "config": str(config), "mint": mint}


def explain(setup: dict[str, Any], token: str, *args: str) -> Any:
    return invoke(["explain", "--config", setup["config"], "--token", token, "--jwks", setup["jwks"],
                   *args])


def test_verified_token_trace(setup: dict[str, Any]) -> None:
    result = explain(setup, setup["mint"](), "--model", "small")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("✓ token        parsed: alg RS256, kid 'k1'")
    assert any(line.startswith("✓ signature    RS256 signature is valid") for line in lines)
    assert lines[-1] == "ALLOWED"
    data = json.loads(explain(setup, setup["mint"](), "--model", "big", "--format", "json").stdout)
    assert data["verified"] is True
    assert data["reason"]["code"] == "policy.model_not_allowed"


ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_tokens"
KEYCLOAK = ["--config", str(ROOT / "sample_configs" / "keycloak.yaml"), "--jwks", str(SAMPLES / "jwks.json")]


@pytest.mark.parametrize(("name", "model"), [
    ("alice-user.jwt", "gpt-4o-mini"), ("alice-user.jwt", "gpt-4o"), ("alice-user.jwt", None),
    ("carol-norole.jwt", None), ("expired.jwt", "gpt-4o-mini"), ("wrong-audience.jwt", None),
    ("forged.jwt", "gpt-4o"),
], ids=["allowed", "model-denied", "no-model", "no-role", "expired", "wrong-audience", "forged"])
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_check_token_and_explain_token_print_the_same(cli: Invoke, tmp_path: Path, name: str, model: str | None,
                                                      fmt: str) -> None:
    token = (SAMPLES / name).read_text().strip()
    extra = [*(["--model", model] if model else []), "--format", fmt]
    env = {"COLUMNS": "200", "JWTGATE_CACHE_DIR": str(tmp_path)}
    check = cli(["check-token", token, *KEYCLOAK, *extra], env=env)
    explained = cli(["explain", "--token", token, *KEYCLOAK, *extra], env=env)
    assert (check.exit_code, check.stderr) == (explained.exit_code, explained.stderr)
    assert check.exit_code in (0, 1)
    if fmt == "json":
        assert json.loads(check.stdout) == json.loads(explained.stdout)
    else:
        # the two commands run a moment apart: an expired token's age may tick over a second between them
        assert _aged(check.stdout) == _aged(explained.stdout)
        assert check.stdout.splitlines()[-1].startswith(("ALLOWED", "DENIED ["))


def _aged(text: str) -> list[str]:
    return re.sub(r"expired \d+ s \(", "expired N s (", text).splitlines()


def test_a_refused_token_carries_the_litellm_difference_in_both_commands(tmp_path: Path) -> None:
    token = f"@{SAMPLES / 'wrong-audience.jwt'}"
    env = {"COLUMNS": "200", "JWTGATE_CACHE_DIR": str(tmp_path)}
    for argv in (["check-token", token], ["explain", "--token", token]):
        result = invoke([*argv, *KEYCLOAK, "--format", "json"], env=env)
        doc = json.loads(result.stdout)
        assert (doc["reason"]["code"], doc["verified"]) == ("token.audience_mismatch", False)
        assert doc["notes"] == ["LiteLLM checks aud only when JWT_AUDIENCE (or issuers[].audience) is set"]


@pytest.mark.parametrize(("claims", "code"), [
    ({"exp": 1000}, "token.expired"),
    ({"aud": "other"}, "token.audience_mismatch"),
    ({"exp": None}, "token.claim_missing"),
], ids=["expired", "wrong-audience", "no-exp"])
def test_refused_token_is_a_denial_with_the_token_code(setup: dict[str, Any], claims: dict[str, Any],
                                                       code: str) -> None:
    result = explain(setup, setup["mint"](**claims), "--model", "small", "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["verified"] is False
    assert data["reason"]["code"] == code
    assert setup["mint"]() not in result.stdout


def test_token_cases_in_a_test_file(setup: dict[str, Any]) -> None:
    tmp: Path = setup["dir"]
    (tmp / "good.jwt").write_text(setup["mint"](exp=2_000_000_000), encoding="utf-8")
    (tmp / "old.jwt").write_text(setup["mint"](exp=1_000_000_000), encoding="utf-8")
    tests = tmp / "t.yaml"
    tests.write_text(f"config: c.yaml\njwks: {setup['jwks']}\ncases:\n"
                     "  - {name: good token, token: good.jwt, model: small, expect: allow, role: internal_user}\n"
                     "  - {name: expired, token: old.jwt, model: small, expect: deny, reason: token.expired}\n",
                     encoding="utf-8")
    result = invoke(["test", str(tests)])
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "2 passed, 0 failed"


def test_missing_jwks_file_exits_2(setup: dict[str, Any]) -> None:
    result = invoke(["explain", "--config", setup["config"], "--token", setup["mint"](),
                     "--jwks", str(setup["dir"] / "missing.json")])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "missing.json: no such key file [jwks.file_unreadable]" in result.stderr


def test_missing_jwks_file_in_a_test_file_names_the_case(setup: dict[str, Any]) -> None:
    tmp: Path = setup["dir"]
    (tmp / "good.jwt").write_text(setup["mint"](exp=2_000_000_000), encoding="utf-8")
    tests = tmp / "t-missing.yaml"
    tests.write_text("config: c.yaml\njwks: missing.json\ncases:\n"
                     "  - {name: good token, token: good.jwt, model: small, expect: allow}\n", encoding="utf-8")
    result = invoke(["test", str(tests)])
    assert result.exit_code == 2
    assert f"error: {tests}:4:5: case 'good token': " in result.stderr
    assert "no such key file [jwks.file_unreadable]" in result.stderr


def test_a_failing_token_case_prints_the_check_token_trace(setup: dict[str, Any], cli: Invoke) -> None:
    tmp: Path = setup["dir"]
    (tmp / "other-aud.jwt").write_text(setup["mint"](aud="other"), encoding="utf-8")
    tests = tmp / "t-trace.yaml"
    tests.write_text(f"config: c.yaml\njwks: {setup['jwks']}\ncases:\n"
                     "  - {name: other audience, token: other-aud.jwt, model: small, expect: allow}\n",
                     encoding="utf-8")
    failed = cli(["test", str(tests)])
    checked = cli(["check-token", f"@{tmp / 'other-aud.jwt'}", "--config", setup["config"], "--jwks", setup["jwks"],
                   "--model", "small"])
    assert (failed.exit_code, checked.exit_code) == (1, 1)
    trace = checked.stdout.splitlines()[:-1]  # the steps and notes, without the closing DENIED line
    assert any(line.startswith("✗ audience") for line in trace)
    lines = failed.stdout.splitlines()
    start = lines.index("  trace:") + 1
    assert lines[start:start + len(trace)] == ["    " + line for line in trace]


def test_both_commands_load_the_config_alike_and_warn_of_its_errors(setup: dict[str, Any], cli: Invoke) -> None:
    config = setup["dir"] / "typo.yaml"
    config.write_text(CONFIG.replace("enforce_rbac: true", "enforce_rbac: true\n    enforce_rback: true"),
                      encoding="utf-8")
    token, keys = setup["mint"](), ["--config", str(config), "--jwks", setup["jwks"]]
    checked, explained = cli(["check-token", token, *keys]), cli(["explain", "--token", token, *keys])
    assert checked.stderr == explained.stderr
    # an unknown litellm_jwtauth key: LiteLLM refuses to start, so neither command decides (exit 2)
    assert checked.exit_code == explained.exit_code == 2
    assert "JG101 unknown key 'enforce_rback'" in checked.stderr and "LiteLLM refuses" in checked.stderr
    assert checked.stdout == explained.stdout == ""
