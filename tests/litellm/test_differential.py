"""jwtgate against LiteLLM's own code: 100% agreement on refusal, role and decision, outside the registry.

One oracle process answers every scenario (tests/litellm/oracle.py in the pinned LiteLLM venv); each
scenario also goes through jwtgate's loader and ``decide()``, and a sample through ``check-token
--format json`` on a signed token. ``JWTGATE_ORACLE_EXAMPLES=5000 pytest tests/litellm`` runs a larger
budget.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from jwtgate.cli.app import app
from jwtgate.policy import routes
from jwtgate.policy.litellm_differences import BY_ID, LITELLM_VERSION
from tests.litellm import scenarios
from tests.litellm.differential import Answer, compare, config_yaml, jwtgate_answer, litellm_answers
from tests.litellm_env import litellm_python
from tests.tokenkit import AUD, DROP, ISS, NOW, mint

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner(env={"COLUMNS": "200"})
CLI_SAMPLE = 24  # scenarios also run through check-token (a process-free CliRunner, but a real signed token)


@pytest.fixture(scope="module")
def oracle() -> tuple[list[dict[str, Any]], str, dict[str, dict[str, Any]], dict[str, Any]]:
    batch = scenarios.all_scenarios()
    run = litellm_answers(litellm_python(), batch)
    return batch, run.version, run.answers, run.routes


def test_oracle_runs_the_pinned_litellm(oracle: Any) -> None:
    _, version, _, _ = oracle
    pinned = (ROOT / ".ci" / "litellm-requirements.txt").read_text()
    assert f"litellm[proxy]=={version}" in pinned
    assert version == LITELLM_VERSION


def test_route_groups_are_litellms(oracle: Any) -> None:
    """jwtgate/data/litellm_routes.json is LiteLLM's LiteLLMRoutes (regenerate: tests/litellm/export_routes.py)."""
    *_, live = oracle
    shipped = json.loads((ROOT / "jwtgate" / "data" / "litellm_routes.json").read_text())
    assert shipped == live, "route groups differ from the pinned LiteLLM's: run tests/litellm/export_routes.py"
    assert routes.ROUTES_LITELLM_VERSION == LITELLM_VERSION


def test_jwtgate_agrees_with_litellm(oracle: Any, capsys: pytest.CaptureFixture[str]) -> None:
    batch, version, answers, _ = oracle
    disagreements: list[str] = []
    intended: Counter[str] = Counter()
    agreed = role_only = refused = 0
    for scenario in batch:
        lite, ours = answers[scenario["id"]], jwtgate_answer(scenario)
        unknown = [i for i in ours.differences if i not in BY_ID]
        assert not unknown, f"{scenario['id']}: notes name differences not in the registry: {unknown}"
        problem = compare(scenario, lite, ours)
        if problem is not None:
            disagreements.append(str(problem))
        elif _differs(lite, ours):
            intended.update(ours.differences)
        else:
            agreed += 1
            role_only += bool(lite["needs_db"] and not lite["refused"])
            refused += bool(lite["refused"])
    summary = (f"LiteLLM {version}: {len(batch)} scenarios, {agreed} agree ({refused} refused configs, "
               f"{role_only} role only: need a database), {sum(intended.values())} intended differences "
               f"{dict(sorted(intended.items()))}, {len(disagreements)} disagreements")
    with capsys.disabled():
        print(f"\n{summary}")
    assert not disagreements, summary + "\n\n" + "\n\n".join(disagreements)


def _differs(lite: dict[str, Any], ours: Answer) -> bool:
    if lite["refused"] != ours.refused:
        return True
    if lite["refused"]:
        return False
    return lite["role"] != ours.role or (not lite["needs_db"] and lite["allowed"] != ours.allowed)


def test_every_intended_difference_is_safe_or_says_why() -> None:
    for d in BY_ID.values():
        assert d.litellm and d.jwtgate and d.why
        if d.more_permissive:
            assert "safe" in d.why, f"{d.id} is more permissive than LiteLLM without saying why that is safe"


def _cli_sample(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    usable = [s for s in batch if isinstance(s["claims"].get("sub", ""), str)]
    step = max(1, len(usable) // CLI_SAMPLE)
    return usable[::step][:CLI_SAMPLE]


def test_check_token_decides_as_decide(oracle: Any, tmp_path: Path) -> None:
    """check-token --format json on a signed token: the same refusal, role and decision as decide()."""
    from tests.tokenkit import private_key

    batch, _, answers, _ = oracle
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [_public_jwk(private_key("RSA"))]}))
    for scenario in _cli_sample(batch):
        cfg = tmp_path / f"{scenario['id']}.yaml"
        cfg.write_text(config_yaml(scenario))
        token = mint(**{"sub": DROP, **scenario["claims"]})  # tokenkit adds only iss, aud, exp, iat, nbf
        args = ["check-token", token, "--config", str(cfg), "--jwks", str(jwks), "--route", scenario["route"],
                "--format", "json", "--now", str(int(NOW)), "--offline", "--cache-dir", str(tmp_path / "cache")]
        if scenario.get("model") is not None:
            args += ["--model", scenario["model"]]
        result = runner.invoke(app, args, env={"JWT_AUDIENCE": AUD, "JWT_ISSUER": ISS})
        ours = jwtgate_answer(scenario)
        if ours.refused:
            assert result.exit_code == 2, (scenario["id"], result.stdout, result.stderr)
            assert "LiteLLM refuses" in result.stderr
            continue
        doc = json.loads(result.stdout)
        assert (doc["allowed"], doc.get("role")) == (ours.allowed, ours.role), (scenario["id"], doc)
        assert doc["litellm_version"] == LITELLM_VERSION
        lite = answers[scenario["id"]]
        assert result.exit_code == (0 if ours.allowed else 1), (scenario["id"], lite)


def _public_jwk(key: Any) -> dict[str, Any]:
    from jwt.algorithms import RSAAlgorithm

    jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}
