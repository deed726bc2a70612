"""JG120: every claim path the config reads, checked against real claims (lint --claims / --token)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from jwtgate.cli.app import app
from jwtgate.config.loader import load_policy, load_policy_file
from jwtgate.lint.base import ClaimSample
from jwtgate.lint.registry import lint_policy
from tests import tokenkit

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
        21, "roles_jwt_field reads claim 'resource_access.litellm.roles', which does not resolve in sample 1: "
            "'resource_access' has no key 'litellm'",
        "did you mean 'resource_access.litelm.roles'? (keys there: account, litelm)")]


def test_a_path_is_fine_when_any_sample_resolves_it() -> None:
    with_email = {"iss": "x", "email": "a@x", "resource_access": {"litellm": {"roles": []}}}
    without = {"iss": "x", "resource_access": {"litellm": {"roles": []}}}
    assert jg120(KEYCLOAK, without, with_email) == []
    (line, message, hint) = jg120(KEYCLOAK, without, without)[0]
    assert (line, hint) == (22, "keys there: iss, resource_access")
    assert message.endswith("in sample 1 (nor in 1 other sample): the claims have no key 'email'")


def test_issuer_overrides_are_checked_for_the_samples_of_that_issuer() -> None:
    okta = {"iss": "https://acme.okta.com/oauth2/default", "sub": "00u1", "userid": "alice", "groups": ["g"]}
    found = jg120(MULTI, okta)
    assert [(line, hint) for line, _, hint in found] == [(24, "did you mean 'userid'? (keys there: groups, iss, "
                                                              "sub, userid)")]
    assert found[0][1].startswith("user_id_jwt_field reads claim 'uid'")


def test_a_value_in_the_way_is_named() -> None:
    flat = {"iss": "x", "email": "a@x", "resource_access": ["litellm"]}
    (_, message, _) = jg120(KEYCLOAK, flat)[0]
    assert message.endswith("'resource_access' is not an object, so 'litellm' can't be read in it")


def test_scope_is_checked_when_scope_based_access_is_enforced() -> None:
    text = Path("sample_configs/scopes.yaml").read_text(encoding="utf-8")
    policy = load_policy(text, "scopes.yaml", {})
    found = lint_policy(policy, {}, [ClaimSample("t", {"iss": "x", "scp": "chat"})])
    assert any(f.code == "JG120" and "reads claim 'scope'" in f.message and "'scp'" in (f.hint or "")
               for f in found)


def run(*args: str, stdin: str | None = None) -> Result:
    env = {"COLUMNS": "200", "JWT_AUDIENCE": "", "JWT_ISSUER": "", "JWT_PUBLIC_KEY_URL": ""}
    return CliRunner().invoke(app, ["lint", *args], input=stdin, env=env)


def test_cli_claims_file_reports_at_the_config_line(tmp_path: Path) -> None:
    sample = tmp_path / "okta.json"
    sample.write_text(json.dumps({"iss": "https://acme.okta.com/oauth2/default", "user_id": "a", "groups": []}),
                      encoding="utf-8")
    result = run(MULTI, "--claims", str(sample))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{MULTI}:24:9: JG120 error: user_id_jwt_field reads claim 'uid', which does not resolve in {sample}: the "
        "claims have no key 'uid' (did you mean 'user_id'? (keys there: groups, iss, user_id))"]


def test_cli_token_is_read_unverified_and_says_so() -> None:
    result = run(KEYCLOAK, "--token", f"@{ALICE}")
    assert (result.exit_code, result.stdout) == (0, "")
    assert "signature is NOT verified" in result.stderr


def test_cli_token_with_other_claims_is_a_finding_without_the_token_in_the_output() -> None:
    token = tokenkit.mint(iss="https://sso.example.com/realms/acme", realm_access={"roles": ["litellm-user"]},
                          email="e@x")
    result = run(KEYCLOAK, "--token", token)
    assert result.exit_code == 1
    assert "JG120 error: roles_jwt_field reads claim 'resource_access.litellm.roles', which does not resolve in " \
           "--token #1 (fingerprint " in result.stdout
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
