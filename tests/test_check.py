"""jwtgate/check.py: verify-then-decide for one token, one TokenCheck, with a real key store over a JWKS file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from jwtgate.check import LITELLM_TOKEN_NOTES, TokenCheck, check_token
from jwtgate.config.loader import load_policy
from jwtgate.errors import JwtgateError
from jwtgate.keys.store import KeyStore
from jwtgate.model import Policy, Request
from tests.kit.clock import FakeClock
from tests.kit.keys import named_jwk
from tests.kit.tokens import AUD, ISS, NOW, mint

CONFIG = f"""\
model_list:
  - {{model_name: small, litellm_params: {{model: openai/small}}}}
  - {{model_name: big, litellm_params: {{model: openai/big}}}}
general_settings:
  enable_jwt_auth: true
  litellm_jwtauth:
    enforce_rbac: true
    user_id_jwt_field: sub
    issuers:
      - {{issuer: "{ISS}", audience: {AUD}, jwks_url: JWKS}}
  role_permissions:
    - {{role: internal_user, models: [small]}}
"""


@pytest.fixture
def policy(tmp_path: Path) -> Policy:
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [named_jwk("RSA", "k1", use="sig", alg="RS256")]}), encoding="utf-8")
    return load_policy(CONFIG.replace("JWKS", str(jwks)), "c.yaml", {})


@pytest.fixture
def store() -> Iterator[KeyStore]:
    with KeyStore(clock=FakeClock(NOW), cache_dir=None, offline=True) as s:
        yield s


def check(policy: Policy, store: KeyStore, token: str, model: str | None = "small",
          extra_sources: tuple[str, ...] = ()) -> TokenCheck:
    return check_token(policy, store, token, Request(model), extra_sources=extra_sources, now=NOW)


def test_a_verified_token_is_decided_with_the_verification_first(policy: Policy, store: KeyStore) -> None:
    result = check(policy, store, mint())
    assert result.allowed and result.error is None and result.verified is not None
    assert (result.decision.role, result.header, result.fingerprint) == (
        "internal_user", {"alg": "RS256", "kid": "k1", "typ": "JWT"}, result.verified.fingerprint)
    names = [s.name for s in result.decision.steps]
    assert names[0] == "token" and names.index("signature") < names.index("decision")


def test_a_denied_model_is_the_decisions_reason(policy: Policy, store: KeyStore) -> None:
    result = check(policy, store, mint(), "big")
    assert not result.allowed and result.verified is not None
    assert result.decision.reason is not None and result.decision.reason.code == "policy.model_not_allowed"


@pytest.mark.parametrize(("overrides", "code"), [
    ({"exp": NOW - 3600}, "token.expired"),
    ({"aud": "someone-else"}, "token.audience_mismatch"),
    ({"iss": "https://other.example"}, "token.issuer_unknown"),
], ids=["expired", "audience", "issuer"])
def test_a_refused_token_is_a_denial_with_its_code_and_litellms_difference(
        policy: Policy, store: KeyStore, overrides: dict[str, object], code: str) -> None:
    result = check(policy, store, mint(**overrides))
    assert not result.allowed and result.verified is None and result.error is not None
    assert result.decision.reason is not None and result.decision.reason.code == code == result.error.code
    assert result.decision.notes == ((LITELLM_TOKEN_NOTES[code],) if code in LITELLM_TOKEN_NOTES else ())
    assert result.header is not None and result.decision.steps[-1].status == "fail"


def test_an_unparsable_token_has_no_header(policy: Policy, store: KeyStore) -> None:
    result = check(policy, store, "not.a.token")
    assert (result.header, result.fingerprint) == (None, None)
    assert result.decision.reason is not None and result.decision.reason.code == "token.malformed"


def test_an_unreadable_key_file_is_raised_not_a_denial(policy: Policy, store: KeyStore, tmp_path: Path) -> None:
    with pytest.raises(JwtgateError) as caught:
        check(policy, store, mint(), extra_sources=(str(tmp_path / "missing.json"),))
    assert (caught.value.exit_code, caught.value.code) == (2, "jwks.file_unreadable")
