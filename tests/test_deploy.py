"""The example Kubernetes manifests (deploy/kubernetes/): valid for Kubernetes, and what they run is valid."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from jwtgate.config.loader import load_policy
from jwtgate.lint.registry import lint_policy
from jwtgate.server.app import OPS

DEPLOY = Path(__file__).resolve().parents[1] / "deploy" / "kubernetes"
MANIFESTS = sorted(DEPLOY.glob("*.yaml"))
ENV = {"JWT_ISSUER": "https://idp.example.com/realms/acme", "JWT_AUDIENCE": "llm-gateway",
       "JWT_PUBLIC_KEY_URL": "https://idp.example.com/realms/acme/protocol/openid-connect/certs",
       "LITELLM_MASTER_KEY": "sk-example"}


def manifest(name: str) -> Any:
    return YAML(typ="safe").load((DEPLOY / name).read_text())


def kubernetes_validate() -> str:
    found = shutil.which("kubernetes-validate", path=str(Path(sys.executable).parent))
    assert found, "kubernetes-validate is in the test extra (pip install -e '.[test]')"
    return found


@pytest.mark.parametrize("path", MANIFESTS, ids=[p.name for p in MANIFESTS])
def test_manifest_is_valid_kubernetes(path: Path) -> None:
    result = subprocess.run([kubernetes_validate(), "--strict", str(path)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed" in result.stdout


def test_the_configmaps_policy_lints_clean_and_reloads_itself() -> None:
    text = manifest("configmap.yaml")["data"]["config.yaml"]
    policy = load_policy(text, "configmap.yaml", ENV)
    # only JG214 (info): a serve config with restricted models can reach LD001 (a model call without a model)
    assert [(f.code, f.severity) for f in lint_policy(policy, ENV)] == [("JG214", "info")]
    assert policy.settings.serve.reload_interval > 0 and policy.settings.serve.host == "0.0.0.0"


def test_the_deployment_probes_ops_endpoints_and_mounts_the_configmap_as_a_directory() -> None:
    spec = manifest("deployment.yaml")["spec"]["template"]["spec"]
    container = spec["containers"][0]
    assert (container["readinessProbe"]["httpGet"]["path"], container["livenessProbe"]["httpGet"]["path"]) == (
        "/readyz", "/healthz")
    assert {"/readyz", "/healthz"} <= set(OPS)
    mount = next(m for m in container["volumeMounts"] if m["name"] == "config")
    assert "subPath" not in mount  # a subPath mount never sees ConfigMap updates
    assert container["args"][:3] == ["serve", "--config", f"{mount['mountPath']}/config.yaml"]
    pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]  # endpoints go before SIGTERM comes
    assert pre_stop > 0
    assert spec["terminationGracePeriodSeconds"] > pre_stop + 30  # and the default shutdown_timeout after it
