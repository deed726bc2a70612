"""serve's safe defaults at start: no audience, unset variables, litellm mode without an upstream; the report."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from jwtgate.cli.app import app
from jwtgate.config.loader import load_policy_file
from jwtgate.errors import UsageError
from jwtgate.server import startup
from jwtgate.server.metrics import Metrics
from jwtgate.server.wiring import GateBuilder, ServeOptions, check_upstream, effective_settings
from tests.server.conftest import Keys

MODELS = """\
model_list:
  - model_name: gpt-4o
    litellm_params: {model: openai/gpt-4o, api_key: os.environ/OPENAI_API_KEY}
"""
LLAMA = """\
  - model_name: llama
    litellm_params: {model: hosted_vllm/llama, api_base: "http://127.0.0.1:8000/v1", api_key: os.environ/VLLM_KEY}
"""
GENERAL = "general_settings:\n  master_key: os.environ/LITELLM_MASTER_KEY\n"
LITELLM_ONLY = MODELS + GENERAL
ISSUER = LITELLM_ONLY + """\
  enable_jwt_auth: true
  litellm_jwtauth:
    issuers:
      - issuer: os.environ/OIDC_ISSUER
        audience: gw
"""
DIRECT = MODELS + LLAMA + GENERAL + "jwtgate: {serve: {mode: direct}}\n"


def serve(tmp_path: Path, text: str, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    config = tmp_path / "c.yaml"
    config.write_text(text)
    result = CliRunner(env={"COLUMNS": "200", "JWT_AUDIENCE": "", **(env or {})}).invoke(
        app, ["serve", "--config", str(config), "--port", "0", *args])
    return result.exit_code, result.stderr


@pytest.mark.parametrize(("text", "args", "env", "message"), [
    (LITELLM_ONLY, ["--upstream", "http://127.0.0.1:9"], {},
     "no audience is checked for tokens verified with JWT_PUBLIC_KEY_URL, jwtgate.jwks or --jwks"),
    (ISSUER, ["--upstream", "http://127.0.0.1:9"], {}, "environment variable OIDC_ISSUER is not set"),
    (DIRECT, ["--upstream", "http://127.0.0.1:9"], {"JWT_AUDIENCE": "gw"},
     "environment variable VLLM_KEY is not set (model 'llama' api_key)"),
    (LITELLM_ONLY, [], {"JWT_AUDIENCE": "gw"}, "mode litellm sends every request to the LiteLLM proxy, and no "
     "upstream is set"),
], ids=["litellm-file-without-audience", "unset-issuer-variable", "direct-unset-api-key", "litellm-no-upstream"])
def test_unsafe_configs_refuse_to_start(tmp_path: Path, keys: Keys, text: str, args: list[str],
                                        env: dict[str, str], message: str) -> None:
    code, stderr = serve(tmp_path, text, "--jwks", str(keys.jwks_path), *args, env=env)
    assert code == 2
    assert message in " ".join(stderr.split())


def test_insecure_skip_audience_is_the_explicit_opt_out(tmp_path: Path, keys: Keys) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(LITELLM_ONLY + "jwtgate: {insecure_skip_audience: true}\n")
    policy = load_policy_file(str(config), {})
    settings = effective_settings(policy, ServeOptions(str(config), upstream="http://127.0.0.1:9"))
    check_upstream(policy, settings, {}, (str(keys.jwks_path),))  # does not raise


def test_report_says_where_each_model_goes_and_warns_without_an_upstream_key(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(DIRECT)
    policy = load_policy_file(str(config), {})
    direct = effective_settings(policy, ServeOptions(str(config), upstream="http://litellm:4001",
                                                     upstream_key_env="LITELLM_MASTER_KEY"))
    assert startup.routes_report(policy, direct, {}) == [
        "mode direct: models with an api_base go there; others to the upstream",
        "model 'gpt-4o' -> http://litellm:4001 as 'gpt-4o' (key: LITELLM_MASTER_KEY)",
        "model 'llama' -> http://127.0.0.1:8000/v1 as 'llama' (key: VLLM_KEY)",
    ]
    litellm = effective_settings(policy, ServeOptions(str(config), upstream="http://litellm:4001", mode="litellm"))
    report = startup.routes_report(policy, litellm, {})
    assert report[2] == "model 'llama' -> http://litellm:4001 as 'llama' (key: none)"
    assert startup.warnings(litellm, {}) == [
        "no --upstream-key-env: requests go to http://litellm:4001 without a credential (LiteLLM answers 401 unless "
        "it runs without a master key)"]
    assert startup.warnings(direct, {"LITELLM_MASTER_KEY": "sk"}) == []


def test_a_reload_to_a_config_without_audience_is_refused(tmp_path: Path, keys: Keys) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(LITELLM_ONLY)
    opts = ServeOptions(str(config), upstream="http://127.0.0.1:9", jwks=(str(keys.jwks_path),))
    env = {"JWT_AUDIENCE": "gw"}
    policy = load_policy_file(str(config), env)
    builder = GateBuilder(opts, env, effective_settings(policy, opts), Metrics())
    builder.load()  # fine with an audience
    builder.env = {}
    with pytest.raises(UsageError, match="no audience is checked"):
        builder.load()
