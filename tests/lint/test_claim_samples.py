"""JG120: every claim path the config reads, checked against real claims (lint --claims / --token)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from jwtgate.config.loader import load_policy, load_policy_file
from jwtgate.lint.base import ClaimSample
from jwtgate.lint.registry import lint_policy
from tests import tokenkit
from tests.kit.cli import invoke

KEYCLOAK = "sample_configs/keycloak.yaml"
MULTI = "sample_configs/multi-issuer.yaml"
ALICE = "sample_tokens/alice-user.jwt"


def jg120(path: str, *samples: dict[str, Any]) -> list[tuple[int, str, str | None]]:
    policy = load_policy_file(path, {})
    found = lint_policy(policy, {}, [ClaimSample(f"sample {i + 1}", c) for i, c in enumerate(samples)])
    return [(f.location.line, f.message, f.hint) for f in found if f.code == "JG120"]


def test_a_matching_sample_gives_no_finding() -> None:
    alice = {"iss": "https://sso.example.com/realms/acme", "email": "a@x",
             "resource_access": {"litellm": {"roles": ["litellm-user"]}}}
    assert jg120(KEYCLOAK, alice) == []


def test_a_path_that_stops_names_the_segment_and_suggests_a_key() -> None:
    wrong_client = {"iss": "https://sso.example.com/realms/acme", "email": "a@x",
                    "resource_access": {"litelm": {"roles": ["litellm-user"]}, "account": {"roles": []}}}
    assert jg120(KEYCLOAK, wrong_client) == [(
        21, "roles_jwt_field: in sample 1, claim 'resource_access.litellm.roles' is absent: the path stops at "
            "segment 'litellm': no 'litellm' inside 'resource_access', which has ['litelm', 'account']; did you mean "
            "'resource_access.litelm.roles'?",
        "if that is the claim, set roles_jwt_field: 'resource_access.litelm.roles'")]


def test_a_path_is_fine_when_any_sample_resolves_it() -> None:
    with_email = {"iss": "x", "email": "a@x", "resource_access": {"litellm": {"roles": []}}}
    without = {"iss": "x", "resource_access": {"litellm": {"roles": []}}}
    assert jg120(KEYCLOAK, without, with_email) == []
    (line, message, hint) = jg120(KEYCLOAK, without, without)[0]
    assert (line, hint) == (22, "fix the path, or lint with a sample of the tokens that carry this claim")
    assert message == ("user_email_jwt_field: in sample 1 (nor in 1 other sample), claim 'email' is absent: the path "
                       "stops at segment 'email': no 'email' at the top level, which has ['iss', 'resource_access']")


def test_issuer_overrides_are_checked_for_the_samples_of_that_issuer() -> None:
    okta = {"iss": "https://acme.okta.com/oauth2/default", "sub": "00u1", "userid": "alice", "groups": ["g"]}
    found = jg120(MULTI, okta)
    assert [(line, hint) for line, _, hint in found] == [(24, "if that is the claim, set user_id_jwt_field: 'userid'")]
    assert found[0][1].startswith("user_id_jwt_field: in sample 1, claim 'uid' is absent")
    auth0 = {"iss": "https://acme.eu.auth0.com/", "sub": "auth0|1", "groups": [], "https://acme.example/email": "e"}
    assert jg120(MULTI, auth0) == []


def test_a_value_in_the_way_is_named() -> None:
    flat = {"iss": "x", "email": "a@x", "resource_access": ["litellm"]}
    (_, message, _) = jg120(KEYCLOAK, flat)[0]
    assert message.endswith("the path stops at segment 'litellm': 'resource_access' is a list, not an object")


def test_scope_is_checked_when_scope_based_access_is_enforced() -> None:
    text = Path("sample_configs/scopes.yaml").read_text(encoding="utf-8")
    policy = load_policy(text, "scopes.yaml", {})
    found = [f for f in lint_policy(policy, {}, [ClaimSample("t", {"iss": "x", "scp": "chat"})]) if f.code == "JG120"]
    assert [(f.message.split(",")[0], f.hint) for f in found] == [
        ("enforce_scope_based_access: in t", "if that is the claim, set enforce_scope_based_access: 'scp'")]


def run(*args: str, stdin: str | None = None) -> Result:
    env = {"JWT_AUDIENCE": "", "JWT_ISSUER": "", "JWT_PUBLIC_KEY_URL": ""}
    return invoke(["lint", *args], input=stdin, env=env)


def test_cli_claims_file_reports_at_the_config_line(tmp_path: Path) -> None:
    sample = tmp_path / "okta.json"
    sample.write_text(json.dumps({"iss": "https://acme.okta.com/oauth2/default", "user_id": "a", "groups": []}),
                      encoding="utf-8")
    result = run(MULTI, "--claims", str(sample))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{MULTI}:24:9: JG120 error: user_id_jwt_field: in {sample}, claim 'uid' is absent: the path stops at segment "
        "'uid': no 'uid' at the top level, which has ['iss', 'user_id', 'groups']; did you mean 'user_id'? (if that "
        "is the claim, set user_id_jwt_field: 'user_id')"]


def test_cli_token_is_read_unverified_and_says_so() -> None:
    result = run(KEYCLOAK, "--token", f"@{ALICE}")
    assert (result.exit_code, result.stdout) == (0, "")
    assert "signature is NOT verified" in result.stderr


def test_cli_token_with_other_claims_is_a_finding_without_the_token_in_the_output() -> None:
    token = tokenkit.mint(iss="https://sso.example.com/realms/acme", realm_access={"roles": ["litellm-user"]},
                          email="e@x")
    result = run(KEYCLOAK, "--token", token)
    assert result.exit_code == 1
    assert "JG120 error: roles_jwt_field: in --token #1 (fingerprint " in result.stdout
    assert ("claim 'resource_access.litellm.roles' is absent: the path stops at segment 'resource_access'"
            in result.stdout)
    assert token not in result.stdout + result.stderr


@pytest.mark.parametrize(("args", "message"), [
    (("--token", "not-a-token"), "--token #1: a compact JWT has 3 dot-separated segments"),
    (("--claims", "missing.json"), "missing.json: cannot read claims file"),
    (("--claims", "[1]"), "claims must be a JSON object"),
], ids=["bad-token", "missing-claims-file", "claims-not-an-object"])
def test_cli_bad_samples_exit_2(args: tuple[str, ...], message: str) -> None:
    result = run(KEYCLOAK, *args)
    assert result.exit_code == 2 and result.stdout == ""
    assert message in result.stderr
