"""Both sides of the differential suite: LiteLLM's answers (the oracle subprocess) and jwtgate's.

``litellm_answers`` runs tests/litellm/oracle.py once, in the pinned LiteLLM venv, for a whole batch.
``jwtgate_answer`` builds the same scenario as a YAML config through the normal loader and calls
``decide()``; ``compare`` says where they disagree, outside the registry of intended differences.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jwtgate.config.loader import load_policy
from jwtgate.config.refusals import litellm_refusals
from jwtgate.model import Decision, Policy, Request
from jwtgate.policy.decision import decide
from jwtgate.policy.litellm_differences import BY_ID, DIFFERENCES, ids_in

ORACLE = Path(__file__).with_name("oracle.py")
ORACLE_TIMEOUT = 900.0  # seconds, for the whole batch (LiteLLM's import alone takes ~10 s of CPU)


@dataclass(frozen=True)
class OracleRun:
    """One oracle process: LiteLLM's version, its answers by scenario id, its route groups."""

    version: str
    answers: dict[str, dict[str, Any]]
    routes: dict[str, Any]


def litellm_answers(python: Path, scenarios: list[dict[str, Any]]) -> OracleRun:
    """Everything one oracle process answers for a batch."""
    batch = json.dumps({"scenarios": scenarios})
    done = subprocess.run([str(python), str(ORACLE)], input=batch, capture_output=True, text=True,
                          timeout=ORACLE_TIMEOUT, check=False)
    if done.returncode != 0:
        raise AssertionError(f"the oracle failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
    out = json.loads(done.stdout)
    return OracleRun(out["litellm_version"], {a["id"]: a for a in out["answers"]}, out["routes"])


def config_yaml(scenario: dict[str, Any]) -> str:
    """The scenario as a LiteLLM proxy config (JSON is YAML)."""
    models = [{"model_name": n, "litellm_params": {"model": f"openai/{n}"}} for n in scenario["model_list"]]
    return json.dumps({"model_list": models, "general_settings": scenario["general_settings"]}, indent=1)


def request_of(scenario: dict[str, Any]) -> Request:
    return Request(model=scenario.get("model"), route=scenario["route"])


@dataclass
class Answer:
    """jwtgate's answer in the oracle's terms."""

    refused: bool
    role: str | None = None
    allowed: bool | None = None
    message: str | None = None
    differences: tuple[str, ...] = ()
    decision: Decision | None = field(default=None, repr=False)


def load(scenario: dict[str, Any]) -> Policy:
    return load_policy(config_yaml(scenario), "scenario.yaml", {})


def jwtgate_answer(scenario: dict[str, Any]) -> Answer:
    policy = load(scenario)
    refusals = litellm_refusals(policy)
    if refusals:
        return Answer(True, message=refusals[0].message)
    decision = decide(policy, scenario["claims"], request_of(scenario))
    message = decision.reason.message if decision.reason else None
    return Answer(False, decision.role, decision.allowed, message, ids_in(decision.notes), decision)


@dataclass(frozen=True)
class Disagreement:
    scenario: dict[str, Any]
    what: str
    litellm: dict[str, Any]
    jwtgate: Answer

    def __str__(self) -> str:
        lite = {k: self.litellm.get(k) for k in ("refused", "role", "allowed", "message", "stage")}
        ours = {"refused": self.jwtgate.refused, "role": self.jwtgate.role, "allowed": self.jwtgate.allowed,
                "message": self.jwtgate.message, "differences": self.jwtgate.differences}
        scen = {k: v for k, v in self.scenario.items() if k != "model_list"}
        return (f"{self.scenario['id']}: {self.what}\n  scenario: {json.dumps(scen)}\n"
                f"  LiteLLM:  {json.dumps(lite)}\n  jwtgate:  {json.dumps(ours)}")


def compare(scenario: dict[str, Any], lite: dict[str, Any], ours: Answer) -> Disagreement | None:
    """None when jwtgate agrees with LiteLLM on refusal, role and decision, or the difference is intended."""
    if lite["refused"] or ours.refused:
        return None if lite["refused"] == ours.refused else Disagreement(scenario, "refusal", lite, ours)
    what = "role" if lite["role"] != ours.role else None
    if what is None and not lite["needs_db"] and lite["allowed"] != ours.allowed:
        what = "decision"
    if what is None:
        return None
    if ours.differences and _explains(ours):
        return None  # an intended difference applies: counted by id, never more permissive without a reason
    return Disagreement(scenario, what, lite, ours)


def _explains(ours: Answer) -> bool:
    """The noted differences account for jwtgate's answer: a denial, or a more permissive one said to be."""
    return not ours.allowed or any(BY_ID[i].more_permissive for i in ours.differences if i in BY_ID)


def known_ids() -> set[str]:
    return {d.id for d in DIFFERENCES}
