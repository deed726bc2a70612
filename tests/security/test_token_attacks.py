"""Every known JWT attack (tests/security/attacks.py) through the Authenticator and decide(), sync and async.

Each case is one test, named after its attack; the source of each attack is in its table entry. The
injected jku/x5u URLs point at a loopback server that must receive zero requests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from jwtgate.keys.jwk import public_jwk
from tests.kit.cli import invoke
from tests.kit.idp import IdP
from tests.kit.keys import private_key
from tests.security.attacks import ATTACKS, Attack
from tests.security.kit import STRONG_SECRET, Kit, write_world
from tests.security.replay import NOW, Gateway, run_async, run_sync

PWNED = Path("/tmp/jwtgate-pwned")
KNOWN_PREFIXES = ("token.", "key.", "jwks.", "policy.")


@pytest.fixture(scope="module")
def attacker() -> Iterator[IdP]:
    """The attacker's server: serves the attacker's keys at every injected URL, and counts."""
    server = IdP().start()
    evil = {**public_jwk(private_key("evil-rsa").public_key()), "kid": "evil"}
    for path in ("/jku/jwks.json", "/x5u/jwks.json", "/key"):
        server.set_jwks(path, [evil, {**evil, "kid": "rsa-1"}])
    yield server
    server.stop()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    directory = tmp_path_factory.mktemp("world")
    for variant in ("default", "hmac", "weak-hmac"):
        write_world(directory, variant)
    gw = Gateway(directory)
    yield gw
    gw.close()


@pytest.fixture(scope="module")
def kit(attacker: IdP) -> Kit:
    return Kit(now=NOW, attacker_url=attacker.base)


def test_control_tokens_are_allowed(gateway: Gateway, kit: Kit) -> None:
    """The refusals below mean something: the same kit's honest tokens pass."""
    auth = gateway.auth("default")
    for alg, key, kid in (("RS256", "rsa", "rsa-1"), ("ES256", "ec", "ec-1"), ("EdDSA", "ed", "ed-1")):
        outcome = run_sync(auth, kit.token(alg, key, kid), "small")
        assert outcome.allowed and outcome.role == "internal_user", (alg, outcome)
    admin = kit.token(resource_access={"app": {"roles": ["llm-admin"]}})
    assert run_sync(auth, admin, "big").allowed
    assert run_async(auth, admin, "big").allowed
    assert run_sync(gateway.auth("hmac"), kit.token("HS256", key=STRONG_SECRET, kid=None), "small").allowed


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
def test_attack_is_refused(attack: Attack, gateway: Gateway, kit: Kit, attacker: IdP) -> None:
    token = attack.build(kit)
    auth = gateway.auth(attack.config)
    for run in (run_sync, run_async):
        outcome = run(auth, token, attack.model)
        assert not outcome.allowed, f"{attack.name} was ALLOWED ({run.__name__}); source: {attack.source}"
        assert outcome.code == attack.code, f"{attack.name} ({run.__name__}): {outcome.code}: {outcome.message}"
        assert outcome.message, "every refusal says why"
        if len(token) > 40:
            assert token not in outcome.message, "a refusal never echoes the whole token"
    assert sum(attacker.hits.values()) == 0, f"the token made jwtgate fetch {attacker.hits}"
    assert not PWNED.exists()


def test_attack_table_is_well_formed() -> None:
    names = [a.name for a in ATTACKS]
    assert len(names) == len(set(names))
    assert len(ATTACKS) >= 150
    for a in ATTACKS:
        assert a.source.strip() and a.code.startswith(KNOWN_PREFIXES), a
        assert a.config in ("default", "hmac", "weak-hmac"), a


def test_injected_key_urls_were_never_fetched(attacker: IdP, gateway: Gateway, kit: Kit) -> None:
    """After the whole table (module order), the attacker's server still saw nothing at all."""
    auth = gateway.auth("default")
    for member in ("jku", "x5u"):
        token = kit.token("RS256", "evil-rsa", "evil", {member: f"{attacker.base}/{member}/jwks.json"})
        assert run_sync(auth, token, "small").code == "key.not_found"
    assert attacker.hits == {}
    assert json.loads(json.dumps(attacker.hits)) == {}


# --- the same table through `jwtgate check-token` -------------------------------------------------------

CLI_ATTACKS = [a for a in ATTACKS if a.cli != "stripped"]  # check-token strips surrounding blanks by design


@pytest.mark.parametrize("attack", CLI_ATTACKS, ids=[a.name for a in CLI_ATTACKS])
def test_check_token_refuses_attack(attack: Attack, gateway: Gateway, kit: Kit, attacker: IdP,
                                    tmp_path: Path) -> None:
    config = gateway.directory / f"gateway-{attack.config}.yaml"
    argv = ["check-token", "--config", str(config), "--now", str(int(NOW)), "--offline", "--cache-dir",
            str(tmp_path), "--model", attack.model, "--format", "json", "--", attack.build(kit)]
    result = invoke(argv)
    if attack.cli == "usage":  # whitespace inside: the TOKEN argument itself is refused
        assert result.exit_code == 2 and result.stderr.startswith("error: ")
        (error,) = json.loads(result.stdout)["errors"]  # --format json: the error document, never the token
        assert error["code"] == "usage.invalid" and attack.build(kit) not in result.stdout
        return
    assert result.exit_code == 1, (result.stdout, result.stderr)
    doc = json.loads(result.stdout)
    assert doc["allowed"] is False
    assert doc["verified"] is (attack.stage == "policy")
    assert doc["reason"]["code"] == attack.code
    assert "Traceback" not in result.stderr
    assert attacker.hits == {}
