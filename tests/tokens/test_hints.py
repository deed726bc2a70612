"""Refusals that name a setup mistake: an ID token sent as an access token, a near-miss issuer."""

from __future__ import annotations

from typing import Any

import pytest

from jwtgate.errors import TokenError
from jwtgate.model import TokenRules
from jwtgate.tokens.authenticator import Trust, select_trust
from jwtgate.tokens.verify import check_claims
from tests.kit.tokens import NOW, claims

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
V1 = f"https://sts.windows.net/{TENANT}/"
V2 = f"https://login.microsoftonline.com/{TENANT}/v2.0"


def _refusal(token_claims: dict[str, Any], rules: TokenRules, header: dict[str, Any] | None = None) -> TokenError:
    with pytest.raises(TokenError) as err:
        check_claims(token_claims, rules, now=NOW, header=header or {"alg": "RS256", "typ": "JWT"})
    return err.value


@pytest.mark.parametrize(
    ("extra", "header", "says"),
    [
        pytest.param({"nonce": "n-0S6", "at_hash": "77QmUPtjPfzWtF2AnpK9RQ"}, None,
                     "this looks like an ID token ('nonce' and 'at_hash' present; an ID token's aud is the client id):"
                     " send the access token of the token response, not its id_token", id="nonce-and-at-hash"),
        pytest.param({"at_hash": "x"}, None, "this looks like an ID token ('at_hash' present", id="at-hash"),
        pytest.param({}, None, "the token was issued for another client, or the config's audience is wrong",
                     id="plain-access-token-for-another-api"),
        pytest.param({"nonce": "n"}, {"alg": "RS256", "typ": "at+jwt"},
                     "the token was issued for another client", id="typed-access-token-is-not-called-an-id-token"),
    ],
)
def test_audience_refusal_recognises_an_id_token(extra: dict[str, Any], header: dict[str, Any] | None,
                                                 says: str) -> None:
    rules = TokenRules(issuer=None, audiences=("llm-gateway",))
    err = _refusal(claims(aud="my-spa-client-id", **extra), rules, header)
    assert err.code == "token.audience_mismatch" and says in err.message


@pytest.mark.parametrize(
    ("actual", "configured", "says"),
    [
        pytest.param("https://idp.example/realms/acme/", "https://idp.example/realms/acme",
                     "differs from 'https://idp.example/realms/acme' only by a trailing slash; issuers match "
                     "exactly: write 'https://idp.example/realms/acme/' in the config", id="trailing-slash"),
        pytest.param("https://IDP.example/realms/acme", "https://idp.example/realms/acme", "only in case or scheme",
                     id="case"),
        pytest.param(V1, V2, "the token is an Entra ID v1 access token (iss sts.windows.net) and the config "
                     "expects v2 (login.microsoftonline.com/<tenant>/v2.0): set \"accessTokenAcceptedVersion\": 2",
                     id="entra-v1-token-v2-config"),
        pytest.param(V2, V1, f"the token is an Entra ID v2 token and the config expects the v1 issuer {V1!r}",
                     id="entra-v2-token-v1-config"),
    ],
)
def test_near_miss_issuer_gets_a_hint_on_both_paths(actual: str, configured: str, says: str) -> None:
    err = _refusal(claims(iss=actual, aud="llm-gateway"), TokenRules(issuer=configured, audiences=("llm-gateway",)))
    assert err.code == "token.issuer_mismatch" and says in err.message
    trust = Trust(TokenRules(issuer=configured, audiences=("llm-gateway",)), ("https://idp/jwks",), True)
    with pytest.raises(TokenError) as unknown:
        select_trust([trust], {"iss": actual})
    assert unknown.value.code == "token.issuer_unknown" and says in unknown.value.message


def test_unrelated_issuer_gets_no_near_miss_hint() -> None:
    err = _refusal(claims(iss="https://evil.example", aud="a"), TokenRules(issuer=V2, audiences=("a",)))
    assert err.message.endswith("check the issuer URL in the config (exact match: scheme, host, path, trailing slash)")
