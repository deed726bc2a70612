"""``jwtgate check-token`` on every sample token: exit codes, JSON fields, text marks, never the whole token."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.kit.cli import invoke

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_tokens"
CONFIG = ROOT / "sample_configs" / "keycloak.yaml"
JWKS = SAMPLES / "jwks.json"


def run(tmp_path: Path, token: str, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    argv = ["check-token", token, "--config", str(CONFIG), "--jwks", str(JWKS), "--offline",
            "--cache-dir", str(tmp_path / "cache"), *args]
    result = invoke(argv, input=stdin)
    return result.exit_code, result.stdout, result.stderr


def run_json(tmp_path: Path, token: str, *args: str) -> tuple[int, dict[str, Any]]:
    code, out, _ = run(tmp_path, token, *args, "--format", "json")
    return code, json.loads(out)


CASES = [
    # (token file, model, exit code, reason code, role, verified)
    ("alice-user.jwt", "gpt-4o-mini", 0, None, "internal_user", True),
    ("alice-user.jwt", "gpt-4o", 1, "policy.model_not_allowed", "internal_user", True),
    ("alice-user.jwt", None, 0, None, "internal_user", True),
    ("bob-admin.jwt", "gpt-4o", 0, None, "proxy_admin", True),
    ("carol-norole.jwt", "gpt-4o-mini", 1, "policy.no_role", None, True),
    ("carol-norole.jwt", None, 1, "policy.no_role", None, True),
    ("dave-user-es256.jwt", "gpt-4o-mini", 0, None, "internal_user", True),
    ("expired.jwt", "gpt-4o-mini", 1, "token.expired", None, False),
    ("wrong-audience.jwt", "gpt-4o-mini", 1, "token.audience_mismatch", None, False),
    ("forged.jwt", "gpt-4o", 1, "token.signature_invalid", None, False),
]


@pytest.mark.parametrize(
    ("name", "model", "exit_code", "reason", "role", "verified"),
    CASES,
    ids=["alice-allowed-mini", "alice-denied-gpt4o", "alice-no-model", "bob-admin-gpt4o", "carol-no-role",
         "carol-no-model", "dave-es256", "expired", "wrong-audience", "forged-same-kid"],
)
def test_sample_tokens_json(tmp_path: Path, name: str, model: str | None, exit_code: int, reason: str | None,
                            role: str | None, verified: bool) -> None:
    code, doc = run_json(tmp_path, f"@{SAMPLES / name}", *(["--model", model] if model else []))
    assert code == exit_code
    assert doc["allowed"] is (exit_code == 0)
    assert doc["verified"] is verified
    assert (doc["reason"] or {}).get("code") == reason
    assert doc["role"] == role
    assert (doc["claims"] is not None) is verified
    assert all({"name", "status", "detail", "location"} <= s.keys() for s in doc["steps"])
    assert isinstance(doc["notes"], list)


def test_allowed_user_json_details(tmp_path: Path) -> None:
    code, doc = run_json(tmp_path, f"@{SAMPLES / 'alice-user.jwt'}", "--model", "gpt-4o-mini")
    assert code == 0
    assert doc["models"] == ["gpt-4o-mini", "llama-3-70b"]
    assert doc["claims"]["sub"] == "alice" and doc["reason"] is None
    assert doc["request"] == {"model": "gpt-4o-mini", "route": "/v1/chat/completions"}
    assert [s["status"] for s in doc["steps"]].count("fail") == 0


def test_denied_model_reason_points_at_the_config(tmp_path: Path) -> None:
    code, doc = run_json(tmp_path, f"@{SAMPLES / 'alice-user.jwt'}", "--model", "gpt-4o")
    assert code == 1
    assert "may not use model 'gpt-4o'" in doc["reason"]["message"]
    assert doc["reason"]["location"]["file"].endswith("keycloak.yaml")


def test_text_allowed(tmp_path: Path) -> None:
    code, out, err = run(tmp_path, f"@{SAMPLES / 'alice-user.jwt'}", "--model", "gpt-4o-mini")
    assert code == 0
    assert out.rstrip().splitlines()[-1] == "ALLOWED"
    assert "✓" in out and "✗" not in out
    assert "internal_user" in out and "gpt-4o-mini" in out
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("name", "model", "verdict"),
    [("alice-user.jwt", "gpt-4o", "DENIED [policy.model_not_allowed]"),
     ("carol-norole.jwt", None, "DENIED [policy.no_role]"),
     ("expired.jwt", None, "DENIED [token.expired]"),
     ("forged.jwt", None, "DENIED [token.signature_invalid]"),
     ("wrong-audience.jwt", None, "DENIED [token.audience_mismatch]")],
    ids=["model-denied", "no-role", "expired", "forged", "wrong-audience"],
)
def test_text_denied_has_a_failed_step_and_verdict(tmp_path: Path, name: str, model: str | None,
                                                   verdict: str) -> None:
    code, out, _ = run(tmp_path, f"@{SAMPLES / name}", *(["--model", model] if model else []))
    assert code == 1
    assert "✗" in out
    assert any(line.startswith(verdict) for line in out.splitlines())


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES.glob("*.jwt")))
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_never_prints_the_whole_token(tmp_path: Path, name: str, fmt: str) -> None:
    token = (SAMPLES / name).read_text().strip()
    code, out, err = run(tmp_path, token, "--model", "gpt-4o", "--format", fmt)
    assert code in (0, 1)
    for stream in (out, err):
        assert token not in stream and token.split(".")[2] not in stream


def test_token_from_stdin(tmp_path: Path) -> None:
    token = (SAMPLES / "bob-admin.jwt").read_text()
    code, out, _ = run(tmp_path, "-", "--format", "json", stdin=f"Bearer {token}")
    assert code == 0 and json.loads(out)["role"] == "proxy_admin"


def test_now_makes_the_expired_token_valid(tmp_path: Path) -> None:
    code, doc = run_json(tmp_path, f"@{SAMPLES / 'expired.jwt'}", "--now", "2026-01-01T00:30:00Z")
    assert code == 0 and doc["verified"] is True and doc["role"] == "internal_user"
    code, doc = run_json(tmp_path, f"@{SAMPLES / 'expired.jwt'}", "--now", "1767229201", "--leeway", "0")
    assert code == 1 and doc["reason"]["code"] == "token.expired"


def test_leeway_stretches_expiry(tmp_path: Path) -> None:
    code, _ = run_json(tmp_path, f"@{SAMPLES / 'expired.jwt'}", "--now", "2026-01-01T01:00:50Z", "--leeway", "60")
    assert code == 0
    code, _ = run_json(tmp_path, f"@{SAMPLES / 'expired.jwt'}", "--now", "2026-01-01T01:00:50Z", "--leeway", "10")
    assert code == 1


def test_route_option(tmp_path: Path) -> None:
    code, doc = run_json(tmp_path, f"@{SAMPLES / 'alice-user.jwt'}", "--route", "/key/generate")
    assert code == 1 and doc["reason"]["code"] == "policy.route_not_allowed"
    assert doc["request"]["route"] == "/key/generate"


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--now", "soon"], "--now 'soon' is neither epoch seconds nor an ISO 8601 time"),
     (["--format", "yaml"], "--format"),
     (["--leeway", "-1"], "--leeway")],
    ids=["bad-now", "bad-format", "negative-leeway"],
)
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    code, out, err = run(tmp_path, f"@{SAMPLES / 'alice-user.jwt'}", *args)
    assert (code, out) == (2, "")
    assert message in err


def test_unreadable_config_exits_2(tmp_path: Path) -> None:
    result = invoke(["check-token", f"@{SAMPLES / 'alice-user.jwt'}", "--config",
                     str(tmp_path / "missing.yaml")])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("error: ")


def test_broken_config_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("model_list: [\n")
    result = invoke(["check-token", f"@{SAMPLES / 'alice-user.jwt'}", "--config", str(bad)])
    assert result.exit_code == 2 and result.stdout == ""
    assert "JG001" in result.stderr and "bad.yaml" in result.stderr


def test_missing_token_file_exits_2(tmp_path: Path) -> None:
    code, out, err = run(tmp_path, "@/nonexistent/x.jwt")
    assert (code, out) == (2, "")
    assert "cannot read token file" in err


def test_readme_first_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's first command, run from the repository root, offline."""
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("JWTGATE_CACHE_DIR", str(tmp_path))
    result = invoke(["check-token", "@sample_tokens/alice-user.jwt", "--config",
                     "sample_configs/keycloak.yaml", "--jwks", "sample_tokens/jwks.json",
                     "--model", "gpt-4o-mini"])
    assert result.exit_code == 0, result.stdout + result.stderr
    assert result.stdout.rstrip().endswith("ALLOWED")


@pytest.mark.parametrize(("model", "exit_code"), [("gpt-4o-mini", 0), ("gpt-4o", 1)], ids=["mini-allowed", "4o-denied"])
def test_azure_sample(tmp_path: Path, model: str, exit_code: int) -> None:
    result = invoke(["check-token", f"@{SAMPLES / 'azure-user.jwt'}", "--config",
                     str(ROOT / "sample_configs" / "azure-ad.yaml"), "--jwks", str(JWKS), "--offline",
                     "--cache-dir", str(tmp_path), "--model", model, "--format", "json"])
    assert result.exit_code == exit_code, result.stderr
    doc = json.loads(result.stdout)
    assert doc["verified"] is True and doc["role"] == "internal_user"


@pytest.mark.parametrize("source", ["missing.json", "."], ids=["missing-file", "directory"])
def test_unreadable_jwks_is_a_usage_error_not_a_denial(tmp_path: Path, source: str) -> None:
    argv = ["check-token", f"@{SAMPLES / 'alice-user.jwt'}", "--config", str(CONFIG), "--offline",
            "--cache-dir", str(tmp_path / "cache"), "--jwks", str(tmp_path / source)]
    result = invoke(argv)
    assert result.exit_code == 2
    assert result.stdout == ""
    first = result.stderr.splitlines()[0]
    assert first.startswith("error: ") and first.endswith("[jwks.file_unreadable]")
    assert "DENIED" not in result.stderr


@pytest.mark.parametrize("name", ["expired.jwt", "wrong-audience.jwt", "forged.jwt"])
def test_refused_token_json_still_names_header_and_fingerprint(tmp_path: Path, name: str) -> None:
    code, doc = run_json(tmp_path, f"@{SAMPLES / name}")
    _, text, _ = run(tmp_path, f"@{SAMPLES / name}")
    assert code == 1 and doc["verified"] is False
    assert doc["header"]["kid"] == "sample-rs256"
    assert doc["header"]["alg"] == "RS256"
    assert f"fingerprint {doc['fingerprint']}" in text


def test_unparsable_token_json_has_no_header(tmp_path: Path) -> None:
    code, doc = run_json(tmp_path, "not.a.token")
    assert code == 1
    assert (doc["header"], doc["fingerprint"]) == (None, None)


@pytest.mark.parametrize("now", ["-5", "1969-07-20T20:17:00Z", "300000000000"], ids=["negative", "1969", "year-11476"])
def test_now_outside_1970_to_9999_is_a_usage_error(tmp_path: Path, now: str) -> None:
    code, out, err = run(tmp_path, f"@{SAMPLES / 'alice-user.jwt'}", f"--now={now}")
    assert code == 2 and out == ""
    assert f"error: --now '{now}' is outside the years 1970 to 9999" in err


def test_garbage_token_says_it_is_not_base64url_json(tmp_path: Path) -> None:
    code, out, _ = run(tmp_path, "not.a.token")
    assert code == 1
    assert "DENIED [token.malformed] the header segment is not base64url-encoded JSON; is this a JWT?" in out
    assert "trailing bits" not in out


def test_authorization_header_line_gets_a_fitting_hint(tmp_path: Path) -> None:
    code, out, err = run(tmp_path, "Authorization: Bearer abc.def.ghi")
    assert code == 2 and out == ""
    assert "hint: pass only the token, without the 'Authorization:' header name" in err
    assert "line breaks" not in err


KC_ISS, KC_AUD = "https://sso.example.com/realms/acme", "litellm"


def kc_claims(**overrides: Any) -> dict[str, Any]:
    from tests.kit.tokens import claims

    return claims(**{"iss": KC_ISS, "aud": KC_AUD, "exp": 4_102_444_800, **overrides})


def trace_of(tmp_path: Path, token: str, jwks: str | None = None) -> list[tuple[str, str]]:
    """(step name, status) of check-token's JSON trace, keys from a JWKS file of the session's RSA key."""
    from tests.kit.keys import named_jwk

    if jwks is None:
        jwks = str(tmp_path / "keys.json")
        Path(jwks).write_text(json.dumps({"keys": [named_jwk("RSA", "k1")]}))
    result = invoke(["check-token", token, "--config", str(CONFIG), "--jwks", jwks, "--cache-dir",
                     str(tmp_path / "cache"), "--format", "json"])
    assert result.exit_code == 1, result.stdout
    return [(s["name"], s["status"]) for s in json.loads(result.stdout)["steps"]]


def test_an_unknown_issuer_fails_the_trust_step_after_the_token_parsed(tmp_path: Path) -> None:
    from tests.kit.tokens import mint

    token = mint(**kc_claims(iss="https://other.example/"))
    keys = tmp_path / "keys.json"
    trace_of(tmp_path, token)  # writes keys.json
    result = invoke(["check-token", token, "--config", str(CONFIG), "--jwks", str(keys), "--offline",
                     "--cache-dir", str(tmp_path / "cache")])
    assert result.exit_code == 1
    issuer = f"issuer 'https://other.example/' is not a configured issuer (configured: '{KC_ISS}')"
    assert result.stdout.splitlines()[1:2] == [f"✗ trust  {issuer}"]
    assert result.stdout.splitlines()[0].startswith("✓ token  parsed: alg RS256, kid 'k1', fingerprint ")
    assert f"DENIED [token.issuer_unknown] {issuer}" in result.stdout


def _failures() -> list[Any]:
    from tests.kit.tokens import mint, sign_raw

    head = {"alg": "RS256", "kid": "k1"}
    return [
        pytest.param(mint(**kc_claims(iss="https://other.example/")), None, "trust", id="unknown-issuer"),
        pytest.param(sign_raw({**head, "typ": "JWE"}, kc_claims()), None, "header", id="typ"),
        pytest.param(sign_raw({**head, "kid": 7}, kc_claims()), None, "header", id="kid-not-a-string"),
        pytest.param(sign_raw({**head, "crit": ["b64"]}, kc_claims()), None, "header", id="crit"),
        pytest.param(sign_raw({"kid": "k1"}, kc_claims()), None, "header", id="no-alg"),
        pytest.param(mint(headers={"kid": "k9"}, **kc_claims()), None, "key", id="unknown-kid"),
        pytest.param(mint(**kc_claims(exp=1_000_000)), None, "time claims", id="expired"),
        pytest.param(mint(**kc_claims(aud="other")), None, "audience", id="audience"),
        pytest.param(mint(**kc_claims()), "http://127.0.0.1:1/jwks", "keys", id="key-source-down"),
    ]


@pytest.mark.parametrize(("token", "jwks", "failed"), _failures())
def test_a_failing_step_is_named_for_its_check_never_a_repeat(tmp_path: Path, token: str, jwks: str | None,
                                                              failed: str) -> None:
    steps = trace_of(tmp_path, token, jwks)
    assert steps[-1] == (failed, "fail")
    assert steps[0] == ("token", "ok")
    assert len({name for name, _ in steps}) == len(steps), steps
