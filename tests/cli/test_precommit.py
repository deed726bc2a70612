"""The pre-commit hook, run by the real pre-commit tool on a temporary git repository (like a user's)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRE_COMMIT = [sys.executable, "-m", "pre_commit"]
BROKEN = ROOT / "sample_configs/broken/unknown-model.yaml"
CLEAN = ROOT / "sample_configs/keycloak.yaml"
TIMEOUT = 600  # the first run builds the hook's virtualenv (pip install of this checkout)

def _env(home: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("JWT_", "GIT_", "PRE_COMMIT"))}
    return {**keep, "PRE_COMMIT_HOME": str(home), "OPENAI_API_KEY": "sk-test", "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}


@pytest.fixture(scope="module")
def user_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    """A git repository holding a broken and a clean LiteLLM config, and a YAML file that is not one."""
    assert shutil.which("git"), "pre-commit needs git (.ci/run installs it)"
    repo = tmp_path_factory.mktemp("user-repo")
    env = _env(tmp_path_factory.mktemp("pre-commit-home"))
    (repo / "deploy").mkdir()
    shutil.copy(BROKEN, repo / "deploy/litellm-config.yaml")
    shutil.copy(CLEAN, repo / "config.yaml")
    (repo / "mkdocs.yml").write_text("site_name: docs\nnav: [index.md]\n", encoding="utf-8")
    for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "configs"]):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True, timeout=60, capture_output=True)
    yield repo, env


def try_repo(repo: Path, env: dict[str, str], *files: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PRE_COMMIT, "try-repo", str(ROOT), "jwtgate-lint", "--files", *files], cwd=repo,
                          env=env, capture_output=True, text=True, timeout=TIMEOUT)


def test_the_hook_fails_on_a_broken_config_and_names_the_finding(user_repo: tuple[Path, dict[str, str]]) -> None:
    repo, env = user_repo
    result = try_repo(repo, env, "deploy/litellm-config.yaml", "config.yaml")
    assert result.returncode == 1, result.stdout + result.stderr
    assert re.search(r"jwtgate lint\.+Failed", result.stdout)
    assert ("deploy/litellm-config.yaml:19:16: JG104 error: model 'gpt4o' in role_permissions is not in "
            "model_list (did you mean 'gpt-4o'?)") in result.stdout
    assert "config.yaml:" not in result.stdout.replace("litellm-config.yaml:", "")


def test_the_hook_passes_a_clean_config(user_repo: tuple[Path, dict[str, str]]) -> None:
    repo, env = user_repo
    result = try_repo(repo, env, "config.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"jwtgate lint\.+Passed", result.stdout)


def test_the_hook_skips_yaml_that_is_not_a_litellm_config(user_repo: tuple[Path, dict[str, str]]) -> None:
    repo, env = user_repo
    result = try_repo(repo, env, "mkdocs.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"jwtgate lint\.+\(no files to check\)Skipped", result.stdout)


def _readme_block() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"```yaml\n(# \.pre-commit-config\.yaml\n.*?)```", text, flags=re.S)
    assert match, "README has no .pre-commit-config.yaml example"
    return match.group(1)


def test_the_readme_recipe_is_a_valid_config_for_this_hook(tmp_path: Path) -> None:
    block = _readme_block()
    assert len([line for line in block.splitlines() if line.strip() and not line.startswith("#")]) <= 4
    assert "id: jwtgate-lint" in block
    config = tmp_path / ".pre-commit-config.yaml"
    config.write_text(block, encoding="utf-8")
    for cmd, path in (("validate-config", config), ("validate-manifest", ROOT / ".pre-commit-hooks.yaml")):
        result = subprocess.run([*PRE_COMMIT, cmd, str(path)], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("path", "linted"), [
    ("config.yaml", True), ("proxy_config.yaml", True), ("proxy-config.yml", True), ("litellm.yaml", True),
    ("deploy/litellm-config.yml", True), ("k8s/litellm_proxy.yaml", True), ("mkdocs.yml", False),
    (".github/workflows/ci.yaml", False), ("helm/values.yaml", False), ("app/config.json", False),
    ("sample_configs/tests/keycloak.yaml", False),
])
def test_the_hook_files_pattern(path: str, linted: bool) -> None:
    from ruamel.yaml import YAML

    (hook,) = YAML(typ="safe").load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert (hook["id"], hook["entry"]) == ("jwtgate-lint", "jwtgate lint")
    assert bool(re.search(hook["files"], path)) is linted
