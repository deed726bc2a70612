"""The loader: YAML -> Policy with defaults, environment resolution, locations and schema findings."""

from __future__ import annotations

from pathlib import Path

import pytest

from jwtgate.config import schema as S
from jwtgate.config.loader import load_policy, load_policy_file, require_loadable
from jwtgate.config.yaml_text import read_text
from jwtgate.errors import ConfigError, UsageError
from jwtgate.model import Location, Policy

CONFIG = """\
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
general_settings:
  enable_jwt_auth: true
  litellm_jwtauth:
    team_id_jwt_field: os.environ/TEAM_FIELD
    user_allowed_roles: [a, os.environ/EXTRA_ROLE]
    issuers:
      - issuer: https://idp.example.com
        audience: [one, two]
  role_permissions:
    - role: team
      models: [gpt-4o]
"""


def load(text: str, env: dict[str, str] | None = None) -> Policy:
    return load_policy(text, "c.yaml", env or {})


def codes(policy: Policy) -> list[tuple[str, str, int, int]]:
    return [(f.code, f.severity, f.location.line, f.location.column) for f in policy.findings]


def test_values_and_locations() -> None:
    policy = load(CONFIG, {"TEAM_FIELD": "groups", "EXTRA_ROLE": "b"})
    assert policy.findings == ()
    assert policy.enable_jwt_auth is True
    assert policy.model_names == ("gpt-4o",)
    assert policy.models[0].location == Location("c.yaml", 2, 5)
    assert policy.jwt.team_id_jwt_field == "groups"
    assert policy.jwt.user_allowed_roles == ("a", "b")
    assert policy.jwt.issuers[0].audience == ("one", "two")
    assert policy.role_permissions[0].models == ("gpt-4o",)
    assert policy.where("general_settings.litellm_jwtauth.team_id_jwt_field") == Location("c.yaml", 8, 5)
    assert policy.where("general_settings.role_permissions[0].models[0]") == Location("c.yaml", 15, 16)


def test_unset_environment_variables_are_findings_not_values() -> None:
    policy = load(CONFIG)
    assert codes(policy) == [("JG301", "warning", 8, 24), ("JG301", "warning", 9, 29)]
    assert policy.jwt.team_id_jwt_field is None
    assert policy.jwt.user_allowed_roles == ("a",)


def test_jwt_environment_is_read() -> None:
    env = {"JWT_PUBLIC_KEY_URL": " https://a/jwks, ,https://b/jwks ", "JWT_AUDIENCE": "aud", "JWT_ISSUER": ""}
    policy = load(CONFIG, env)
    assert policy.public_key_urls == ("https://a/jwks", "https://b/jwks")
    assert (policy.env_audience, policy.env_issuer) == ("aud", None)


def test_defaults_come_from_the_schema() -> None:
    policy = load("general_settings: {}\n")
    assert policy.enable_jwt_auth is False
    assert policy.jwt.admin_jwt_scope == "litellm_proxy_admin"
    assert policy.jwt.admin_allowed_routes == S.DEFAULT_ADMIN_ROUTES
    assert policy.jwt.team_allowed_routes == S.DEFAULT_TEAM_ROUTES
    assert policy.jwt.public_key_ttl == 600.0
    assert policy.settings.leeway == 30.0 and policy.settings.require == ("exp",)
    assert policy.settings.serve.port == 4000


LAX = [
    ("quoted-true", 'enable_jwt_auth: "true"', True),
    ("yes-string", "enable_jwt_auth: 'yes'", True),
    ("zero-int", "enable_jwt_auth: 0", False),
]


@pytest.mark.parametrize(("line", "value"), [(c[1], c[2]) for c in LAX], ids=[c[0] for c in LAX])
def test_quoted_booleans_load_like_litellm_with_a_warning(line: str, value: bool) -> None:
    policy = load(f"general_settings:\n  {line}\n")
    assert policy.enable_jwt_auth is value
    assert [(f.code, f.severity) for f in policy.findings] == [("JG111", "warning")]


def test_quoted_number_loads_with_a_warning() -> None:
    policy = load("general_settings:\n  litellm_jwtauth:\n    public_key_ttl: '120'\n")
    assert policy.jwt.public_key_ttl == 120.0
    assert policy.findings[0].hint == "write 120.0 without quotes"


SCHEMA_CASES = [
    ("unknown-closed", "general_settings:\n  litellm_jwtauth:\n    enforce_rbca: true\n",
     [("JG101", "error", 3, 5)], "did you mean 'enforce_rbac'?"),
    ("typo-open", "general_settings:\n  master_keys: x\n", [("JG112", "warning", 2, 3)],
     "did you mean 'master_key'?"),
    ("unknown-top-not-typo", "my_own_section: {}\n", [], None),
    ("wrong-type", "general_settings:\n  litellm_jwtauth:\n    public_key_ttl: soon\n",
     [("JG102", "error", 3, 21)], None),
    ("bad-role", "general_settings:\n  role_permissions:\n    - role: admin\n", [("JG103", "error", 3, 13)],
     "did you mean 'proxy_admin'?"),
    ("missing-required", "model_list:\n  - litellm_params: {model: x}\n", [("JG106", "error", 2, 5)], None),
    ("not-a-mapping", "- a\n- b\n", [("JG002", "error", 1, 1)], None),
    ("empty", "# only a comment\n", [("JG003", "error", 1, 1)], "add a model_list and general_settings"),
    ("duplicate", "a: 1\na: 2\n", [("JG004", "error", 2, 1)], None),
    ("syntax", "a: [\n", [("JG001", "error", 2, 1)], None),
    ("timeout-zero", "jwtgate:\n  serve:\n    header_timeout: 0\n", [("JG103", "error", 3, 21)],
     "use a finite number above 0, e.g. header_timeout: 10 (the default)"),
    ("timeout-negative", "jwtgate:\n  serve:\n    body_timeout: -5\n", [("JG103", "error", 3, 19)],
     "use a finite number above 0, e.g. body_timeout: 60 (the default)"),
    ("timeout-infinite", "jwtgate:\n  serve:\n    keepalive_timeout: .inf\n", [("JG103", "error", 3, 24)],
     "use a finite number above 0, e.g. keepalive_timeout: 5 (the default)"),
]


@pytest.mark.parametrize(("text", "expected", "hint"), [c[1:] for c in SCHEMA_CASES],
                         ids=[c[0] for c in SCHEMA_CASES])
def test_schema_findings(text: str, expected: list[tuple[str, str, int, int]], hint: str | None) -> None:
    policy = load(text)
    assert codes(policy) == expected
    if expected:
        assert policy.findings[0].hint == hint


def test_duplicate_key_message_does_not_echo_values() -> None:
    policy = load("general_settings:\n  master_key: sk-one\n  master_key: sk-two\n")
    assert "sk-" not in policy.findings[0].message


def test_double_quoted_escaped_dot_gets_a_hint() -> None:
    policy = load('general_settings:\n  litellm_jwtauth:\n    team_alias_jwt_field: "kubernetes\\.io.ns"\n')
    assert policy.findings[0].code == "JG001"
    assert policy.findings[0].hint is not None and "single quotes" in policy.findings[0].hint


def test_require_loadable_refuses_unparsed_configs() -> None:
    with pytest.raises(ConfigError, match="JG001"):
        require_loadable(load("a: [\n"))
    assert require_loadable(load("general_settings: {}\n")).findings == ()


def test_read_text_errors(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file"):
        read_text(str(tmp_path / "missing.yaml"))
    (tmp_path / "nul.yaml").write_bytes(b"a: 1\x00")
    with pytest.raises(UsageError, match="binary data"):
        read_text(str(tmp_path / "nul.yaml"))


def test_load_policy_file_strips_bom(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfgeneral_settings:\n  enable_jwt_auth: true\n")
    policy = load_policy_file(str(path), {})
    assert policy.enable_jwt_auth is True and policy.file == str(path)


def test_slow_client_timeouts_load_with_their_defaults_and_as_set() -> None:
    serve = load("jwtgate:\n  serve: {}\n").settings.serve
    assert (serve.header_timeout, serve.body_timeout, serve.keepalive_timeout) == (10.0, 60.0, 5.0)
    serve = load("jwtgate:\n  serve:\n    header_timeout: 0.5\n    body_timeout: 2\n"
                 "    keepalive_timeout: 75\n").settings.serve
    assert (serve.header_timeout, serve.body_timeout, serve.keepalive_timeout) == (0.5, 2.0, 75.0)


def test_a_non_positive_timeout_names_the_key_and_is_not_used() -> None:
    policy = load("jwtgate:\n  serve:\n    header_timeout: 0\n")
    (finding,) = policy.findings
    assert finding.message == "'jwtgate.serve.header_timeout' is 0; it must be a positive number"
    assert policy.settings.serve.header_timeout == 10.0
