"""`jwtgate serve` refuses bad arguments before it binds anything: exit 2, one clear line, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.kit.cli import invoke

BASE = ["serve", "--config", "sample_configs/keycloak.yaml", "--jwks", "sample_tokens/jwks.json"]


@pytest.mark.parametrize(("args", "message"), [
    (["--upstream", "notaurl"], "is not an http(s) URL with a host"),
    (["--upstream", "127.0.0.1:4801"], "is not an http(s) URL with a host"),
    (["--upstream", "ftp://example.com"], "is not an http(s) URL with a host"),
    (["--upstream", "http://"], "is not an http(s) URL with a host"),
    (["--upstream", "http://127.0.0.1:99999"], "is not a valid URL"),
], ids=["no-scheme-word", "host-port-without-scheme", "ftp", "no-host", "bad-port"])
def test_bad_upstream_is_a_usage_error(args: list[str], message: str) -> None:
    result = invoke([*BASE, *args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("port", ["99999", "-1", "65536"])
def test_port_out_of_range_is_a_usage_error(port: str) -> None:
    result = invoke([*BASE, "--upstream", "http://127.0.0.1:4801", "--port", port])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_missing_serve_extra_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "prometheus_client" else real(name, *a))
    result = invoke([*BASE, "--upstream", "http://127.0.0.1:4801"])
    assert result.exit_code == 2
    readme = Path("README.md").read_text(encoding="utf-8")
    install = readme.split("## Serve\n\n```bash\n", 1)[1].splitlines()[0]
    assert install == "pip install '.[serve]'"
    assert f"hint: in the jwtgate checkout: {install} " in result.stderr  # the README's command, not PyPI's name


@pytest.mark.parametrize(("shadow", "message"), [
    ("sample_configs/broken/types.yaml", "error(s); not starting"),
    ("missing-shadow.yaml", "missing-shadow.yaml"),
], ids=["lint-errors", "missing-file"])
def test_shadow_config_is_linted_like_the_enforced_one(shadow: str, message: str) -> None:
    result = invoke([*BASE, "--upstream", "http://127.0.0.1:4801", "--shadow-config", shadow])
    assert result.exit_code == 2
    assert message in result.stderr and shadow in result.stderr
    assert "Traceback" not in result.output


def test_help_says_jwks_replaces_the_issuers_key_sources() -> None:
    result = invoke(["serve", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())  # rich wraps the help: compare with the line breaks folded
    assert "REPLACES the issuers' configured key sources for this run (audience and issuer checks stay)" in text
    assert "Extra key source" not in text
