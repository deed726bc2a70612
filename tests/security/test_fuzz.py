"""Fuzzing (hypothesis): random and mutated tokens, headers, claim sets, claim paths and YAML configs.

Properties: nothing raises except a ``JwtgateError`` subclass; every refusal and denial carries a stable
code; a mutated token never verifies; a config never crashes the loader. The example budget per test is
``JWTGATE_FUZZ_EXAMPLES`` (default 200, which keeps this file well under 30 s on 2 cores); CI runs the
default, a larger budget runs with the variable set.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jwtgate.config.loader import load_policy
from jwtgate.errors import JwtgateError
from jwtgate.keys.store import KeyStore
from jwtgate.model import Request
from jwtgate.policy.claims import lookup, split_path
from jwtgate.policy.decision import decide
from jwtgate.tokens.authenticator import Authenticator
from tests.kit.tokens import b64
from tests.security.kit import ROLES_PATH, Kit, policy_yaml, write_world
from tests.security.replay import NOW, Gateway

EXAMPLES = int(os.environ.get("JWTGATE_FUZZ_EXAMPLES", "200"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
CODE = re.compile(r"^(token|key|jwks|policy|claims|config|usage)\.[a-z_]+$")
FINDING = re.compile(r"^JG\d{3}$")
KIT = Kit(now=NOW)
VALID = KIT.token()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
CLAIM_NAMES = ["iss", "aud", "exp", "nbf", "iat", "sub", "scope", "scp", "resource_access", ROLES_PATH, "email"]
HEADER_NAMES = ["alg", "kid", "typ", "crit", "jku", "x5u", "jwk", "x5c", "cty", "enc", "zip", "b64"]


@pytest.fixture(scope="module")
def auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Authenticator]:
    directory = tmp_path_factory.mktemp("fuzz")
    write_world(directory)
    gateway = Gateway(directory)
    yield gateway.auth("default")
    gateway.close()


def outcome(auth: Authenticator, token: Any, model: str | None = "small") -> tuple[bool, str | None]:
    """(allowed, code); fails the test on anything but a JwtgateError."""
    try:
        verified = auth.authenticate(token)
    except JwtgateError as err:
        assert CODE.match(err.code), err.code
        assert err.message
        return False, err.code
    decision = decide(auth.policy, verified.claims, Request(model=model))
    if not decision.allowed:
        assert decision.reason is not None and CODE.match(decision.reason.code), decision.reason
    return decision.allowed, decision.reason.code if decision.reason else None


@FUZZ
@given(st.text(max_size=300))
def test_random_text_is_refused_with_a_code(auth: Authenticator, text: str) -> None:
    allowed, code = outcome(auth, text)
    assert not allowed and code is not None


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 10_000), st.characters(codec="utf-8")), min_size=1, max_size=6))
def test_mutated_token_never_verifies(auth: Authenticator, edits: list[tuple[int, str]]) -> None:
    chars = list(VALID)
    for index, char in edits:
        chars[index % len(chars)] = char
    token = "".join(chars)
    allowed, _ = outcome(auth, token)
    assert not allowed or token == VALID


@FUZZ
@given(st.binary(max_size=200), st.binary(max_size=200), st.binary(max_size=300))
def test_random_segments_are_refused(auth: Authenticator, head: bytes, body: bytes, sig: bytes) -> None:
    allowed, code = outcome(auth, f"{b64(head)}.{b64(body)}.{b64(sig)}")
    assert not allowed and code is not None


@FUZZ
@given(st.dictionaries(st.sampled_from(HEADER_NAMES), json_values, max_size=6))
def test_random_headers_signed_by_the_idp(auth: Authenticator, header: dict[str, Any]) -> None:
    """A correctly signed token with any header: verifies only with alg RS256 and a fitting kid."""
    token = KIT.raw(header, KIT.payload(), "RS256", "rsa")
    allowed, _ = outcome(auth, token)
    if allowed:
        assert header.get("alg") == "RS256" and header.get("kid") in ("rsa-1", None)
        assert "crit" not in header


@FUZZ
@given(st.dictionaries(st.sampled_from(CLAIM_NAMES) | st.text(max_size=10), json_values, max_size=8),
       st.sampled_from(["small", "big", None]))
def test_random_claims_signed_by_the_idp(auth: Authenticator, overrides: dict[str, Any], model: str | None) -> None:
    """Any claim set through verification and decide(): an allowed admin model needs the admin role."""
    claims = {**KIT.claims(), **overrides}  # a plain dict: any claim name, even 'self' or 'alg'
    token = KIT.raw({"alg": "RS256", "kid": "rsa-1"}, json.dumps(claims).encode(), "RS256", "rsa")
    allowed, _ = outcome(auth, token, model)
    if allowed and model == "big":
        found, roles = lookup(claims, ROLES_PATH)
        assert found and "llm-admin" in (roles if isinstance(roles, list) else str(roles).replace(",", " ").split())


@FUZZ
@given(st.text(alphabet=st.sampled_from("ab.\\-_é\u200b "), max_size=20), json_values)
def test_random_claim_paths(path: str, value: Any) -> None:
    parts = split_path(path)
    claims: dict[str, Any] = {path: value}
    found, got = lookup(claims, path)
    assert isinstance(found, bool)
    if len(parts) == 1 and found:
        assert got == value or parts[0] != path
    policy = load_policy(policy_yaml("unused.json").replace(ROLES_PATH, json.dumps(path)), "fuzz.yaml", {})
    if not any(f.severity == "error" for f in policy.findings):
        decision = decide(policy, {"sub": "x", **claims}, Request(model="big"))
        assert decision.allowed is False or decision.role == "proxy_admin"


# --- YAML configs -----------------------------------------------------------------------------------

CONFIG_KEYS = ["model_list", "general_settings", "litellm_jwtauth", "role_permissions", "enable_jwt_auth",
               "enforce_rbac", "roles_jwt_field", "role_mappings", "issuers", "jwtgate", "hmac_secret", "leeway",
               "algorithms", "model_name", "models", "role", "internal_role", "audience", "jwks_url", "serve",
               "lint", "ignore", "severity", "level", "reason", "JG201", "JG302", "JG3"]
config_trees = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10**6) | st.text(max_size=10) | st.sampled_from(CONFIG_KEYS),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(CONFIG_KEYS) | st.text(max_size=6),
                                                                 inner, max_size=4),
    max_leaves=16,
)
BASE_CONFIG = policy_yaml("jwks.json", "hmac")


def load_checked(text: str) -> None:
    try:
        policy = load_policy(text, "fuzz.yaml", {"JWT_AUDIENCE": "x"})
    except JwtgateError as err:
        assert err.code and err.message
        return
    from jwtgate.lint.registry import lint_report

    report = lint_report(policy, {"JWT_AUDIENCE": "x"}, text=text, today=date(2026, 12, 1))
    for finding in (*report.findings, *(s.finding for s in report.suppressed)):
        assert FINDING.match(finding.code) and finding.message and finding.location.line >= 1, finding
    assert all(s.justification for s in report.suppressed)
    if not any(f.severity == "error" for f in policy.findings):
        store = KeyStore(clock=lambda: NOW, cache_dir=None, offline=True)
        auth = Authenticator(policy, store, clock=lambda: NOW)
        try:
            auth.authenticate(VALID)
        except JwtgateError as err:
            assert CODE.match(err.code), err.code
        decide(policy, KIT.claims(), Request(model="small"))


@FUZZ
@given(st.dictionaries(st.sampled_from(CONFIG_KEYS), config_trees, max_size=5))
def test_random_config_trees_load_without_crashing(tree: dict[str, Any]) -> None:
    load_checked(json.dumps(tree))


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(BASE_CONFIG)), st.integers(0, 8), st.text(max_size=6)),
                min_size=1, max_size=5))
def test_mutated_config_text_loads_without_crashing(edits: list[tuple[int, int, str]]) -> None:
    text = BASE_CONFIG
    for at, cut, insert in edits:
        text = text[:at] + insert + text[at + cut:]
    load_checked(text)



SUPPRESSION_PARTS = ["# jwtgate: ignore", "[", "]", "JG201", "JG302", ",", "until=", "2026-01-31", "9999-99-99",
                     " ", "reason", "'", '"', "#", ":", "\n"]


@FUZZ
@given(st.integers(0, BASE_CONFIG.count("\n")), st.lists(st.sampled_from(SUPPRESSION_PARTS) | st.text(max_size=4),
                                                          max_size=10))
def test_random_suppression_comments_never_crash_lint(line: int, parts: list[str]) -> None:
    lines = BASE_CONFIG.split("\n")
    lines[line] = lines[line] + "  " + "".join(parts)
    load_checked("\n".join(lines))
