"""check-token / explain show the identity sent upstream and refuse Entra group overage (tokens minted with
``_claim_names``); ``jwtgate replay`` reads files, gzip and stdin, and exits like ``diff``."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path
from typing import Any

import pytest

from jwtgate.keys.jwk import public_jwk
from tests.kit.cli import invoke
from tests.kit.keys import private_key
from tests.kit.tokens import AUD, ISS, mint

CONFIG = f"""\
model_list:
  - {{model_name: gpt-4o, litellm_params: {{model: openai/gpt-4o}}}}
general_settings:
  enable_jwt_auth: true
  litellm_jwtauth:
    roles_jwt_field: groups
    enforce_rbac: true
    role_mappings:
      - {{role: g-llm, internal_role: internal_user}}
    issuers:
      - {{issuer: "{ISS}", audience: {AUD}}}
  role_permissions:
    - {{role: internal_user, models: [gpt-4o]}}
jwtgate:
  identity:
    headers: {{x-litellm-end-user-id: sub, X-Groups: groups}}
    user_field: email
"""
OVERAGE = {"_claim_names": {"groups": "src1"},
           "_claim_sources": {"src1": {"endpoint": "https://graph.microsoft.com/v1.0/users/u1/getMemberObjects"}}}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("beyond")
    jwks = tmp / "jwks.json"
    jwk = {**public_jwk(private_key("RSA").public_key()), "kid": "k1", "alg": "RS256", "use": "sig"}
    jwks.write_text(json.dumps({"keys": [jwk]}))
    config = tmp / "c.yaml"
    config.write_text(CONFIG)
    return {"jwks": jwks, "config": config, "cache": tmp / "cache"}


def token(**claims: Any) -> str:
    return mint(exp=time.time() + 3600, iat=time.time() - 10, nbf=time.time() - 10, **claims)


def check(files: dict[str, Path], tok: str, *args: str) -> tuple[int, str]:
    result = invoke(["check-token", tok, "--config", str(files["config"]), "--jwks", str(files["jwks"]),
                                 "--offline", "--cache-dir", str(files["cache"]), "--model", "gpt-4o", *args])
    return result.exit_code, result.stdout


def test_check_token_shows_the_identity_sent_upstream(files: dict[str, Path]) -> None:
    code, out = check(files, token(groups=["g-llm", "g-x"], email="alice@acme.example"))
    assert code == 0
    assert out.splitlines()[-4:] == [
        "upstream header x-litellm-end-user-id: user-1", "upstream header X-Groups: g-llm,g-x",
        "upstream body 'user' (chat, completions, embeddings, responses; Anthropic metadata.user_id): "
        "alice@acme.example", "ALLOWED"]
    code, out = check(files, token(groups=["g-llm"]), "--format", "json")
    assert json.loads(out)["upstream"] == {
        "headers": {"x-litellm-end-user-id": "user-1", "X-Groups": "g-llm"}, "user": None, "problem": None,
        "user_problem": "the token's claim 'email' (jwtgate.identity.user_field) is absent"}


def test_explain_token_shows_the_identity_sent_upstream(files: dict[str, Path]) -> None:
    result = invoke(["explain", "--config", str(files["config"]), "--jwks", str(files["jwks"]),
                                 "--model", "gpt-4o", "--token", token(groups=["g-llm"], email="a@x")])
    assert result.exit_code == 0, result.output
    assert "upstream header X-Groups: g-llm\n" in result.stdout
    assert "Anthropic metadata.user_id): a@x\n" in result.stdout


@pytest.mark.parametrize("claims", [OVERAGE, {"hasgroups": True}], ids=["claim-names", "hasgroups"])
def test_overage_token_is_refused_with_its_code_and_hint(files: dict[str, Path], claims: dict[str, Any]) -> None:
    code, out = check(files, token(**claims), "--format", "json")
    doc = json.loads(out)
    assert code == 1 and doc["verified"] is True and doc["reason"]["code"] == "claims.overage"
    assert "upstream" not in doc
    code, text = check(files, token(**claims))
    assert text.rstrip().splitlines()[-1].startswith("DENIED [claims.overage] the token's 'groups' claim was left out")
    assert any(line.startswith("note: ") and "app roles" in line for line in text.splitlines())


# --- replay ------------------------------------------------------------------------------------------

def record(allowed: bool, model: str, groups: list[str], sub: str = "alice") -> str:
    reason = None if allowed else "policy.model_not_allowed"
    return json.dumps({"path": "/v1/chat/completions", "model": model, "subject": sub, "role": "internal_user",
                       "decision": "allow" if allowed else "deny", "reason": reason,
                       "decided": {"route": "/v1/chat/completions", "model": model, "model_call": True,
                                   "allowed": allowed, "reason": reason},
                       "claims": {"iss": ISS, "sub": sub, "groups": groups}}) + "\n"


LOG = record(True, "gpt-4o", ["g-llm"]) * 3 + record(False, "gpt-4o", ["g-none"], "bob") + "jwtgate: INFO x\n"


def replay(files: dict[str, Path], *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = invoke(["replay", *args, "--config", str(files["config"])], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_replay_reads_files_gzip_and_stdin_alike(files: dict[str, Path], tmp_path: Path) -> None:
    plain = tmp_path / "a.log"
    plain.write_text(LOG)
    zipped = tmp_path / "a.log.gz"
    zipped.write_bytes(gzip.compress(LOG.encode()))
    outs = [replay(files, str(plain), "--format", "json")[1], replay(files, str(zipped), "--format", "json")[1],
            replay(files, "-", "--format", "json", stdin=LOG)[1]]
    docs = [json.loads(o) for o in outs]
    assert docs[0] == docs[1] == docs[2]
    assert (docs[0]["replayed"], docs[0]["other"], docs[0]["empty"]) == (4, 1, True)


def test_replay_reports_flips_and_exits_like_diff(files: dict[str, Path], tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_text(record(False, "gpt-4o", ["g-llm"]) + record(True, "gpt-4o", ["g-none"], "bob") * 2)
    code, out, _ = replay(files, str(log))
    assert code == 0
    assert out == (
        f"replay with {files['config']}: 3 logged decisions of 3 lines\n3 would change:\nallowed -> denied:\n"
        "  internal_user  model gpt-4o  subject 81b637d8fcd2: 2 requests (now policy.no_role) on "
        "/v1/chat/completions\ndenied -> allowed: (widens)\n"
        "  internal_user  model gpt-4o  subject 2bd806c97f0e: 1 request (was policy.model_not_allowed) on "
        "/v1/chat/completions\n")
    assert replay(files, str(log), "--fail-on", "widen")[0] == 1
    assert replay(files, str(log), "--fail-on", "any")[0] == 1
    markdown = replay(files, str(log), "--format", "markdown")[1]
    assert markdown.startswith(f"**jwtgate replay** `{files['config']}`: 3 of 3 decisions change; :warning:")


@pytest.mark.parametrize(("args", "message"), [
    (["missing.log"], "missing.log: cannot read the log (No such file or directory)"),
    (["-", "--fail-on", "more"], "--fail-on 'more' is not one of widen, any"),
    (["-", "--format", "sarif"], "--format 'sarif' is not one of text, json, markdown"),
], ids=["missing-file", "bad-fail-on", "bad-format"])
def test_replay_usage_errors_exit_2(files: dict[str, Path], args: list[str], message: str) -> None:
    code, _, err = replay(files, *args, stdin="")
    assert code == 2
    assert message in err


def test_replay_of_a_log_without_claims_says_why(files: dict[str, Path]) -> None:
    line = json.dumps({"path": "/v1/chat/completions", "model": "gpt-4o", "decision": "allow", "reason": None})
    code, out, _ = replay(files, "-", stdin=line + "\n")
    assert code == 0
    assert out.splitlines()[-1] == ("note: no line carries claims: was jwtgate.serve.log_claims on when the log was "
                                    "written?")
