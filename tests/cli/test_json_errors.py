"""``--format json``: a config that cannot be used gives one JSON error document on stdout, the same in every
command (lint's ``errors`` entries), with the human message on stderr and the exit code unchanged (2)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.kit.cli import invoke

KC = "sample_configs/keycloak.yaml"
TOKEN = "@sample_tokens/alice-user.jwt"


def commands(config: str) -> dict[str, list[str]]:
    """Every command that reads a config, with CONFIG as its config and JSON output."""
    return {
        "explain": ["explain", "--config", config],
        "explain --claims": ["explain", "--config", config, "--claims", "{}"],
        "check-token": ["check-token", TOKEN, "--config", config, "--offline"],
        "test": ["test", "sample_configs/tests/keycloak.yaml", "--config", config],
        "diff OLD": ["diff", config, KC],
        "diff NEW": ["diff", KC, config],
        "replay": ["replay", "-", "--config", config],
        "jwks fetch": ["jwks", "fetch", "--config", config],
        "jwks show": ["jwks", "show", "--config", config],
    }


CONFIGS = {  # name -> (file text or None for a missing file, the expected entry but for 'file')
    "missing": (None, {"message": "no such file (check the path to the config file)", "code": "usage.invalid",
                       "line": None, "column": None}),
    "yaml": ("model_list: [\n", {
        "message": "JG001 YAML syntax error: expected the node content, but found '<stream end>' "
                   "(while parsing a flow node) (run 'jwtgate lint' on the config)",
        "code": "config.invalid", "line": 2, "column": 1}),
    "refused": ("general_settings:\n  role_permissions:\n    - {role: internal_user, model: [gpt-4o]}\n", {
        "message": "JG101 unknown key 'model' in role_permissions entry (LiteLLM rejects or ignores it) (LiteLLM "
                   "refuses to load this config, so jwtgate does not decide on it) (did you mean 'models'?)",
        "code": "config.litellm_refuses", "line": 3, "column": 29}),
}
CASES = [(c, k) for k in CONFIGS for c in commands("x")]


@pytest.mark.parametrize(("command", "kind"), CASES, ids=[f"{c}-{k}" for c, k in CASES])
def test_an_unusable_config_is_one_json_error_document(tmp_path: Path, command: str, kind: str) -> None:
    text, expected = CONFIGS[kind]
    config = tmp_path / "c.yaml"
    if text is not None:
        config.write_text(text, encoding="utf-8")
    result = invoke([*commands(str(config))[command], "--format", "json"], input="",
                    env={"JWTGATE_CACHE_DIR": str(tmp_path / "cache")})
    assert result.exit_code == 2
    doc = json.loads(result.stdout)
    assert list(doc) == ["errors"] and len(doc["errors"]) == 1
    entry = doc["errors"][0]
    assert list(entry) == ["file", "message", "code", "line", "column"]
    assert entry == {"file": str(config), **expected}
    assert result.stderr.startswith(f"error: {config}")  # the human message, unchanged, on stderr
    assert "Traceback" not in result.stderr


def test_text_output_prints_nothing_on_stdout(tmp_path: Path) -> None:
    result = invoke(["explain", "--config", str(tmp_path / "none.yaml")])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (f"error: {tmp_path / 'none.yaml'}: no such file [usage.invalid]\n"
                             "  hint: check the path to the config file\n")


def test_lint_lists_an_unreadable_file_with_the_same_entry(tmp_path: Path) -> None:
    missing = str(tmp_path / "none.yaml")
    lint = json.loads(invoke(["lint", missing, "--format", "json"]).stdout)["errors"]
    explain = json.loads(invoke(["explain", "--config", missing, "--format", "json"]).stdout)["errors"]
    assert lint == explain == [{"file": missing, "message": "no such file (check the path to the config file)",
                                "code": "usage.invalid", "line": None, "column": None}]


@pytest.mark.parametrize("args", [
    ["decode", "not-a-token"],
    ["check-token", TOKEN, "--config", KC, "--jwks", "missing-keys.json"],
    ["explain", "--config", KC, "--claims", "[1]"],
    ["test", "missing-tests.yaml"],
    ["jwks", "show", "missing-keys.json"],
    ["lint", "sample_configs/keycloak.yaml", "--select", "JG9"],
], ids=["decode-malformed", "missing-key-file", "claims-not-object", "missing-test-file", "jwks-missing-key-file",
        "lint-bad-select"])
def test_other_bad_input_in_json_mode_is_the_same_document(args: list[str]) -> None:
    result = invoke([*args, "--format", "json"])
    assert result.exit_code == 2
    (entry,) = json.loads(result.stdout)["errors"]
    assert result.stderr.startswith("error: ") and f"[{entry['code']}]" in result.stderr
    assert entry["message"].split(" (")[0] in result.stderr  # the same error, said once for people, once for scripts


def test_the_readme_transcript_is_real_output() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("```text\n$ jwtgate explain --config sample_configs/broken/syntax.yaml --format json\n")[1]
    result = invoke(["explain", "--config", "sample_configs/broken/syntax.yaml", "--format", "json"])
    assert result.exit_code == 2
    assert result.stdout == block.split("```")[0]
