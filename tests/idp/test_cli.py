"""The CLI against a real OpenID Connect provider (oidc-provider): discovery, ``jwks fetch|show``, tokens it
issued through ``check-token`` and ``explain --token``, each signature algorithm and both role shapes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.idp.oidc import OidcProvider, gateway_config
from tests.kit.cli import invoke


@pytest.fixture
def run(tmp_path: Path) -> Any:
    env = {"JWTGATE_CACHE_DIR": str(tmp_path / "cache"), "JWT_PUBLIC_KEY_URL": ""}

    def run_cli(*args: str) -> Any:
        return invoke(args, env=env)

    return run_cli


@pytest.fixture
def config(tmp_path: Path, shared_idp: OidcProvider) -> Path:
    path = tmp_path / "gateway.yaml"
    path.write_text(gateway_config(shared_idp.issuer))
    return path


def test_config_for_the_provider_lints_clean(run: Any, config: Path) -> None:
    result = run("lint", str(config))
    assert (result.exit_code, result.stdout) == (0, "")


def test_jwks_fetch_discovers_the_provider_then_show_reads_the_cache(
    run: Any, config: Path, shared_idp: OidcProvider
) -> None:
    fetched = run("jwks", "fetch", "--config", str(config), "--format", "json")
    assert fetched.exit_code == 0, fetched.stderr
    doc = json.loads(fetched.stdout)
    source = doc["sources"][0]
    assert (source["source"], source["jwks_url"], source["issuer"]) == (
        shared_idp.discovery, f"{shared_idp.issuer}/jwks", shared_idp.issuer)
    assert [(k["kid"], k["kty"], k["usable"]) for k in source["keys"]] == [("rsa-1", "RSA", True),
                                                                           ("ec-1", "EC", True)]
    shown = run("jwks", "show")
    assert shown.exit_code == 0, shown.stderr
    assert shown.stdout.splitlines()[0].startswith(f"{shared_idp.discovery} -> {shared_idp.issuer}/jwks (fetched")
    assert "rsa-1" in shown.stdout and "ec-1" in shown.stdout


@pytest.mark.parametrize(
    ("client", "resource", "alg"),
    [
        pytest.param("nested-client", "urn:jwtgate:rs256", "RS256", id="rs256-keycloak-style-roles"),
        pytest.param("nested-client", "urn:jwtgate:ps256", "PS256", id="ps256"),
        pytest.param("nested-client", "urn:jwtgate:es256", "ES256", id="es256"),
    ],
)
def test_issued_access_token_is_allowed_its_model_only(
    run: Any, config: Path, shared_idp: OidcProvider, client: str, resource: str, alg: str
) -> None:
    token = shared_idp.token(client, resource)
    allowed = run("check-token", "--config", str(config), "--model", "small", "--format", "json", token)
    assert allowed.exit_code == 0, allowed.stdout
    doc = json.loads(allowed.stdout)
    assert (doc["allowed"], doc["role"], doc["steps"][0]["data"]["header"]["alg"]) == (True, "internal_user", alg)
    assert doc["steps"][0]["data"]["header"]["typ"] == "at+jwt"
    denied = run("check-token", "--config", str(config), "--model", "big", token)
    assert denied.exit_code == 1
    assert "DENIED [policy.model_not_allowed] internal_user may not use model 'big'" in denied.stdout


def test_flat_roles_claim(run: Any, tmp_path: Path, shared_idp: OidcProvider) -> None:
    flat = tmp_path / "flat.yaml"
    flat.write_text(gateway_config(shared_idp.issuer, roles_field="roles"))
    result = run("check-token", "--config", str(flat), "--model", "small", shared_idp.token("flat-client"))
    assert result.exit_code == 0, result.stdout
    assert "'roles' has 'gateway-user' -> internal_user" in result.stdout


@pytest.mark.parametrize(
    ("client", "resource", "code"),
    [
        pytest.param("nested-client", "urn:jwtgate:other", "token.audience_mismatch", id="token-for-another-api"),
        pytest.param("bare-client", None, "policy.no_role", id="client-without-roles"),
    ],
)
def test_issued_token_refused_with_its_reason(
    run: Any, config: Path, shared_idp: OidcProvider, client: str, resource: str | None, code: str
) -> None:
    result = run("check-token", "--config", str(config), "--model", "small", "--format", "json",
                 shared_idp.token(client, resource))
    assert result.exit_code == 1
    assert json.loads(result.stdout)["reason"]["code"] == code


def test_explain_token_traces_a_verified_provider_token(run: Any, config: Path, shared_idp: OidcProvider) -> None:
    result = run("explain", "--config", str(config), "--token", shared_idp.token("nested-client", "urn:jwtgate:es256"),
                 "--model", "small")
    assert result.exit_code == 0, result.stdout
    lines = result.stdout.splitlines()
    assert lines[-1] == "ALLOWED"  # the same trace as check-token prints (render/decision.py)
    assert any(line.startswith("✓ role") and "internal_user" in line for line in lines), lines
    assert any("ES256 signature is valid" in line for line in lines)
    assert any(f"iss = '{shared_idp.issuer}'" in line for line in lines)


# --- the provider goes down: honest exit codes and messages (cache rules: ttl 60 s, stale window 60 s) ---


@pytest.fixture
def short_config(tmp_path: Path, idp: OidcProvider) -> Path:
    path = tmp_path / "short.yaml"
    path.write_text(gateway_config(idp.issuer, ttl=60, stale_ttl=60))
    return path


def _age_cache(cache: Path, seconds: float) -> None:
    """Move every cache entry's fetch and expiry ``seconds`` into the past (as if fetched that long ago)."""
    for entry in cache.glob("*.json"):
        doc = json.loads(entry.read_text())
        doc["fetched_at"] -= seconds
        doc["expires_at"] -= seconds
        entry.write_text(json.dumps(doc))


def test_failed_fetch_is_exit_1_whatever_the_cache_holds(run: Any, short_config: Path, idp: OidcProvider,
                                                         tmp_path: Path) -> None:
    assert run("jwks", "fetch", "--config", str(short_config)).exit_code == 0
    idp.stop()
    fresh = run("jwks", "fetch", "--config", str(short_config), "--format", "json")
    assert fresh.exit_code == 1
    source = json.loads(fresh.stdout)["sources"][0]
    assert (source["ok"], source["error"]["code"]) == (False, "jwks.unavailable")
    assert (source["cached"]["usable"], source["cached"]["stale"]) == (True, False)
    _age_cache(tmp_path / "cache", 90)  # past the key lifetime, inside the stale window
    stale = run("jwks", "fetch", "--config", str(short_config))
    assert stale.exit_code == 1 and stale.stdout == ""
    error = stale.stderr.splitlines()[0]  # the URL said once: what failed, where
    assert error.startswith(f"error: cannot fetch discovery document {idp.discovery}: ")
    assert error.count(idp.discovery) == 1
    assert re.search(r"note: \S+: the cached set \(fetched 9\d s ago\) is still used, stale, for \d+ s more",
                     stale.stderr), stale.stderr
    _age_cache(tmp_path / "cache", 60)  # past the stale window
    gone = run("jwks", "fetch", "--config", str(short_config), "--format", "json")
    assert gone.exit_code == 1
    assert json.loads(gone.stdout)["sources"][0]["cached"]["usable"] is False


def test_check_token_past_the_stale_window_says_one_true_thing(run: Any, short_config: Path, idp: OidcProvider,
                                                               tmp_path: Path) -> None:
    token = idp.token("nested-client")
    assert run("check-token", "--config", str(short_config), "--model", "small", token).exit_code == 0
    idp.stop()
    _age_cache(tmp_path / "cache", 90)  # expired 30 s ago: inside the 60 s stale window
    stale = run("check-token", "--config", str(short_config), "--model", "small", token)
    assert stale.exit_code == 0, stale.stdout
    assert "STALE: the source is failing; served inside the stale window" in stale.stdout
    _age_cache(tmp_path / "cache", 60)  # expired 90 s ago: past the window
    result = run("check-token", "--config", str(short_config), "--model", "small", token)
    assert result.exit_code == 1
    assert "DENIED [jwks.unavailable]" in result.stdout
    assert "serving the cached set" not in result.stdout + result.stderr


def test_offline_inside_the_stale_window_says_nothing_was_fetched(run: Any, short_config: Path,
                                                                  idp: OidcProvider, tmp_path: Path) -> None:
    token = idp.token("nested-client")
    assert run("jwks", "fetch", "--config", str(short_config)).exit_code == 0
    _age_cache(tmp_path / "cache", 90)
    result = run("check-token", "--config", str(short_config), "--model", "small", "--offline", token)
    assert result.exit_code == 0, result.stdout
    assert "used offline inside the stale window (nothing was fetched)" in result.stdout
    assert "failing" not in result.stdout


def test_show_past_the_stale_window_does_not_call_the_keys_usable(run: Any, short_config: Path,
                                                                   tmp_path: Path) -> None:
    assert run("jwks", "fetch", "--config", str(short_config)).exit_code == 0
    _age_cache(tmp_path / "cache", 150)
    shown = run("jwks", "show", "--config", str(short_config))
    assert shown.exit_code == 1
    assert "PAST THE STALE WINDOW: not used" in shown.stdout.splitlines()[0]
    assert " yes" not in shown.stdout and "no: the set is past its stale window" in shown.stdout
    doc = json.loads(run("jwks", "show", "--config", str(short_config), "--format", "json").stdout)
    assert doc["sources"][0]["usable"] is False


@pytest.mark.parametrize(
    ("roles_field", "client", "says"),
    [
        pytest.param("resource_access.llm_gateway.roles", "nested-client",
                     "claim 'resource_access.llm_gateway.roles' is absent: the path stops at segment 'llm_gateway': "
                     "no 'llm_gateway' inside 'resource_access', which has ['llm-gateway']; did you mean "
                     "'resource_access.llm-gateway.roles'?", id="typo-underscore-for-dash"),
        pytest.param("resource_access.llm-gateway.roles", "flat-client",
                     "claim 'resource_access.llm-gateway.roles' is absent: the path stops at segment "
                     "'resource_access': no 'resource_access' at the top level, which has ['roles', ",
                     id="token-without-resource-access"),
    ],
)
def test_trace_names_where_the_roles_path_stopped(run: Any, tmp_path: Path, shared_idp: OidcProvider,
                                                  roles_field: str, client: str, says: str) -> None:
    config = tmp_path / "roles.yaml"
    config.write_text(gateway_config(shared_idp.issuer, roles_field=roles_field))
    token = shared_idp.token(client)
    checked = run("check-token", "--config", str(config), "--model", "small", token)
    assert checked.exit_code == 1
    assert says in checked.stdout
    explained = run("explain", "--config", str(config), "--token", token, "--format", "json")
    step = next(s for s in json.loads(explained.stdout)["steps"] if "path_stop" in s.get("data", {}))
    assert says in step["detail"] and step["status"] == "warn"
