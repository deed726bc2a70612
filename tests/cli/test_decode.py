"""``jwtgate decode``: header and claims with readable times, a NOT VERIFIED banner, never the whole token."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.kit.cli import invoke

SAMPLES = Path(__file__).resolve().parents[2] / "sample_tokens"
ALICE = SAMPLES / "alice-user.jwt"
NOW = "2026-11-26T10:00:00Z"


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = invoke(["decode", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def token_of(path: Path) -> str:
    return path.read_text().strip()


def test_text_output() -> None:
    code, out, err = run(f"@{ALICE}", "--now", NOW)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith("NOT VERIFIED: decoded only")
    assert "alg  RS256" in out and "kid  sample-rs256" in out
    assert "iss              https://sso.example.com/realms/acme" in out
    assert "exp              4070908800  2099-01-01T00:00:00Z (in 72 y)" in out
    assert "iat              1767225600  2026-01-01T00:00:00Z (329 d ago)" in out
    assert 'resource_access  {"litellm": {"roles": ["litellm-user"]}}' in out


def test_never_prints_the_token_or_its_signature() -> None:
    token = token_of(ALICE)
    for fmt in ("text", "json"):
        code, out, _ = run(token, "--format", fmt)
        assert code == 0
        assert token not in out and token.split(".")[2] not in out
        assert "fingerprint" in out


def test_json_output() -> None:
    code, out, err = run(f"@{ALICE}", "--format", "json", "--now", NOW)
    assert (code, err) == (0, "")
    doc = json.loads(out)
    assert doc["verified"] is False and "NOT VERIFIED" in doc["warning"]
    assert doc["header"] == {"alg": "RS256", "kid": "sample-rs256", "typ": "JWT"}
    assert doc["claims"]["resource_access"] == {"litellm": {"roles": ["litellm-user"]}}
    assert doc["times"]["exp"] == {"value": 4070908800, "iso": "2099-01-01T00:00:00Z", "relative": "in 72 y"}
    assert len(doc["fingerprint"]) == 12


def test_expired_token_still_decodes_with_relative_past() -> None:
    code, out, _ = run(f"@{SAMPLES / 'expired.jwt'}", "--now", "2026-01-01T01:00:42Z")
    assert code == 0
    assert "2026-01-01T01:00:00Z (42 s ago)" in out


@pytest.mark.parametrize(
    ("arg", "stdin"),
    [("-", None), (None, None), ("-", "bearer")],
    ids=["stdin", "literal-bearer", "stdin-bearer"],
)
def test_token_sources(arg: str | None, stdin: str | None) -> None:
    token = token_of(ALICE)
    if arg is None:
        code, out, _ = run(f"Bearer {token}", "--format", "json")
    else:
        code, out, _ = run(arg, "--format", "json", stdin=f"{stdin + ' ' if stdin else ''}{token}\n")
    assert code == 0
    assert json.loads(out)["claims"]["sub"] == "alice"


@pytest.mark.parametrize(
    ("arg", "message"),
    [("not-a-token", "cannot decode the token"), ("a.b.c.d.e", "encrypted"), ("@/nonexistent/t.jwt", "cannot read"),
     ("eyJhbGciOiJub25lIn0.e30=.", "cannot decode the token")],
    ids=["garbage", "jwe", "missing-file", "padded-base64"],
)
def test_bad_input_exits_2(arg: str, message: str) -> None:
    code, out, err = run(arg)
    assert (code, out) == (2, "")
    assert err.startswith("error: ") and message in err and "Traceback" not in err


def test_bad_now_is_a_usage_error() -> None:
    code, out, err = run(f"@{ALICE}", "--now", "yesterday")
    assert (code, out) == (2, "")
    assert "--now 'yesterday' is neither epoch seconds nor an ISO 8601 time" in err
