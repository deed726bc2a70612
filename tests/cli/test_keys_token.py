"""``jwtgate keys generate`` and ``jwtgate token mint`` through the CLI, and the round trip via check-token."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import jwt
import pytest

from tests.kit.cli import invoke


def run(*args: str) -> tuple[int, str, str]:
    result = invoke(list(args))
    return result.exit_code, result.stdout, result.stderr


def generate(tmp_path: Path, alg: str, kid: str | None = None) -> Path:
    out = tmp_path / alg
    code, stdout, stderr = run("keys", "generate", "--alg", alg, "--out", str(out), *(["--kid", kid] if kid else []))
    assert (code, stderr) == (0, "")
    assert f"wrote {out / 'private.pem'}" in stdout
    return out


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
def test_generate_writes_private_key_0600_and_public_jwks(tmp_path: Path, alg: str) -> None:
    out = generate(tmp_path, alg, kid="my-kid")
    assert stat.S_IMODE((out / "private.pem").stat().st_mode) == 0o600
    assert (out / "private.pem").read_text().startswith("-----BEGIN PRIVATE KEY-----")
    jwks = json.loads((out / "jwks.json").read_text())
    [key] = jwks["keys"]
    assert (key["kid"], key["alg"], key["use"]) == ("my-kid", alg, "sig")
    assert not {"d", "p", "q"} & key.keys()


def test_generate_default_kid_is_thumbprint_and_mint_uses_it(tmp_path: Path) -> None:
    out = generate(tmp_path, "ES256")
    [key] = json.loads((out / "jwks.json").read_text())["keys"]
    code, token, _ = run("token", "mint", "--key", str(out / "private.pem"))
    assert code == 0
    assert jwt.get_unverified_header(token.strip())["kid"] == key["kid"]
    assert len(key["kid"]) == 43


def test_generate_refuses_to_overwrite(tmp_path: Path) -> None:
    out = generate(tmp_path, "RS256")
    before = (out / "private.pem").read_bytes()
    code, stdout, stderr = run("keys", "generate", "--alg", "RS256", "--out", str(out))
    assert (code, stdout) == (2, "")
    assert "already exists" in stderr and "--force" in stderr
    assert (out / "private.pem").read_bytes() == before
    code, _, _ = run("keys", "generate", "--alg", "RS256", "--out", str(out), "--force")
    assert code == 0 and (out / "private.pem").read_bytes() != before


def test_generate_refuses_unknown_alg(tmp_path: Path) -> None:
    code, stdout, stderr = run("keys", "generate", "--alg", "HS256", "--out", str(tmp_path))
    assert (code, stdout) == (2, "")
    assert "error: --alg 'HS256' is not one of RS256, ES256, EdDSA [usage.invalid]" in stderr


def test_mint_claims(tmp_path: Path) -> None:
    out = generate(tmp_path, "RS256", kid="k1")
    claims_file = tmp_path / "claims.json"
    claims_file.write_text(json.dumps({"resource_access": {"litellm": {"roles": ["litellm-user"]}}, "sub": "x"}))
    code, token, stderr = run(
        "token", "mint", "--key", str(out / "private.pem"), "--claims", f"@{claims_file}", "--claim", "sub=alice",
        "--claim", "n=3", "--claim", "https://example.com/roles=[\"a\"]", "--issuer", "https://sso",
        "--audience", "litellm", "--expires-in", "2h", "--now", "2026-01-01T00:00:00Z")
    assert (code, stderr) == (0, "")
    claims = jwt.decode(token.strip(), options={"verify_signature": False})
    assert claims == {"iat": 1767225600, "exp": 1767225600 + 7200, "sub": "alice", "n": 3,
                      "https://example.com/roles": ["a"], "iss": "https://sso", "aud": "litellm",
                      "resource_access": {"litellm": {"roles": ["litellm-user"]}}}


def test_mint_expires_never_omits_exp(tmp_path: Path) -> None:
    out = generate(tmp_path, "EdDSA")
    code, token, _ = run("token", "mint", "--key", str(out / "private.pem"), "--expires-in", "never")
    assert code == 0
    assert "exp" not in jwt.decode(token.strip(), options={"verify_signature": False})


@pytest.mark.parametrize(
    ("extra", "message"),
    [(["--claim", "novalue"], "is not name=value"), (["--claims", "[1]"], "must be a JSON object"),
     (["--claims", "{"], "--claims is not valid JSON"), (["--claims", "@/nonexistent.json"], "cannot read --claims"),
     (["--expires-in", "soon"], "--expires-in 'soon' is not a duration"), (["--alg", "ES256"], "does not fit"),
     (["--alg", "none"], "--alg 'none' is not one of RS256"), (["--now", "later"], "--now 'later' is neither")],
    ids=["claim-no-equals", "claims-not-object", "claims-bad-json", "claims-missing-file", "bad-duration",
         "alg-key-mismatch", "alg-none", "bad-now"],
)
def test_mint_usage_errors(tmp_path: Path, extra: list[str], message: str) -> None:
    out = generate(tmp_path, "RS256")
    code, stdout, stderr = run("token", "mint", "--key", str(out / "private.pem"), *extra)
    assert (code, stdout) == (2, "")
    assert message in stderr and "Traceback" not in stderr


def test_mint_requires_a_key() -> None:
    code, stdout, stderr = run("token", "mint", "--claim", "sub=a")
    assert code == 2 and stdout == ""
    assert "--key" in stderr


def test_mint_refuses_public_jwks_as_key(tmp_path: Path) -> None:
    out = generate(tmp_path, "RS256")
    code, _, stderr = run("token", "mint", "--key", str(out / "jwks.json"))
    assert code == 2
    assert "is not an unencrypted PEM private key" in stderr


CONFIG = Path(__file__).resolve().parents[2] / "sample_configs" / "keycloak.yaml"
ISSUER = "https://sso.example.com/realms/acme"


def mint_for_keycloak(out: Path, role: str, *extra: str) -> str:
    code, token, stderr = run("token", "mint", "--key", str(out / "private.pem"), "--kid", "rt", "--issuer", ISSUER,
                              "--audience", "litellm", "--claims",
                              json.dumps({"resource_access": {"litellm": {"roles": [role]}}}), *extra)
    assert (code, stderr) == (0, "")
    return token.strip()


def check(tmp_path: Path, token: str, jwks: Path, *args: str) -> tuple[int, dict[str, object]]:
    code, out, _ = run("check-token", token, "--config", str(CONFIG), "--jwks", str(jwks), "--offline",
                       "--cache-dir", str(tmp_path / "cache"), "--format", "json", *args)
    return code, json.loads(out)


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
def test_round_trip_generate_mint_check(tmp_path: Path, alg: str) -> None:
    out = generate(tmp_path, alg, kid="rt")
    token = mint_for_keycloak(out, "litellm-user")
    code, doc = check(tmp_path, token, out / "jwks.json", "--model", "gpt-4o-mini")
    assert code == 0
    assert (doc["verified"], doc["role"], doc["allowed"]) == (True, "internal_user", True)
    code, doc = check(tmp_path, token, out / "jwks.json", "--model", "gpt-4o")
    assert code == 1 and doc["reason"]["code"] == "policy.model_not_allowed"  # type: ignore[index]


@pytest.mark.parametrize("alg", ["RS256", "ES256", "EdDSA"])
def test_round_trip_other_key_same_kid_is_refused(tmp_path: Path, alg: str) -> None:
    real = generate(tmp_path / "real", alg, kid="rt")
    attacker = generate(tmp_path / "attacker", alg, kid="rt")
    code, doc = check(tmp_path, mint_for_keycloak(attacker, "litellm-admin"), real / "jwks.json")
    assert code == 1 and doc["verified"] is False
    assert doc["reason"]["code"] == "token.signature_invalid"  # type: ignore[index]


def test_round_trip_expiry(tmp_path: Path) -> None:
    out = generate(tmp_path, "ES256", kid="rt")
    token = mint_for_keycloak(out, "litellm-user", "--now", "2026-01-01T00:00:00Z", "--expires-in", "15m")
    code, _ = check(tmp_path, token, out / "jwks.json", "--now", "2026-01-01T00:10:00Z")
    assert code == 0
    code, doc = check(tmp_path, token, out / "jwks.json", "--now", "2026-01-01T00:16:00Z")
    assert code == 1 and doc["reason"]["code"] == "token.expired"  # type: ignore[index]


def test_regenerate_script_rebuilds_working_samples(tmp_path: Path) -> None:
    """sample_tokens/regenerate.sh, run on a copy, yields tokens that behave like the committed ones."""
    import os
    import shutil
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    (tmp_path / "sample_tokens").mkdir()
    shutil.copy(root / "sample_tokens" / "regenerate.sh", tmp_path / "sample_tokens" / "regenerate.sh")
    env = {**os.environ, "JWTGATE": f"{sys.executable} -m jwtgate", "PYTHONPATH": str(root)}
    done = subprocess.run(["bash", str(tmp_path / "sample_tokens" / "regenerate.sh")], env=env, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    made = tmp_path / "sample_tokens"
    assert sorted(p.name for p in made.iterdir()) == sorted(p.name for p in (root / "sample_tokens").iterdir())
    assert not list(made.glob("*.pem"))
    kids = [k["kid"] for k in json.loads((made / "jwks.json").read_text())["keys"]]
    assert kids == ["sample-rs256", "sample-es256"]
    for name, expected in [("alice-user.jwt", 0), ("carol-norole.jwt", 1), ("forged.jwt", 1), ("expired.jwt", 1)]:
        code, _ = check(tmp_path, f"@{made / name}", made / "jwks.json")
        assert code == expected, name
