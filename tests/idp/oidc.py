"""A real OpenID Connect provider (npm ``oidc-provider``, run by node) on 127.0.0.1, as a test fixture.

``provider.mjs`` beside this file is the provider; ``.ci/run`` installs its pinned dependency with
``npm ci``. Keys are private JWKs written to a file; rotating restarts the process on the same port (so
the issuer stays) with another key file. Every wait is bounded and the process is stopped by its PID.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from tests.security.kit import private_key

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "provider.mjs"
WAIT = 15.0
SECRET = "s3cret"  # every client's secret (provider.mjs)


def missing() -> str | None:
    """Why the provider cannot run here, or None."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not (HERE / "node_modules" / "oidc-provider" / "package.json").is_file():
        return f"oidc-provider is not installed (run 'npm ci' in {HERE})"
    return None


def require() -> None:
    """Skip when the provider cannot run, except under CI=true, where that is a failure."""
    reason = missing()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the real-provider suite must run in CI: {reason}")
        pytest.skip(reason)


def signing_jwk(name: str, kid: str) -> dict[str, Any]:
    """The private JWK of the shared test key ``name`` (tests/security/kit.py), with ``kid``."""
    key = private_key(name)
    algorithm = RSAAlgorithm if "rsa" in name else ECAlgorithm
    jwk = {**algorithm.to_jwk(key, as_dict=True), "kid": kid, "use": "sig"}
    jwk.pop("key_ops", None)  # PyJWT marks a private JWK 'sign'; the provider would publish that as is
    return jwk


class OidcProvider:
    """``start(keys)``; ``issuer``; ``token(client)``; ``rotate(keys)``; ``stop()``. Port fixed after start."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = 0
        self.issuer = ""
        self.proc: subprocess.Popen[str] | None = None
        self.generation = 0

    def start(self, keys: list[dict[str, Any]]) -> OidcProvider:
        self.generation += 1
        key_file = self.workdir / f"idp-keys-{self.generation}.json"
        key_file.write_text(json.dumps({"keys": keys}))
        log = (self.workdir / f"idp-{self.generation}.log").open("w")
        self.proc = subprocess.Popen(["node", str(SCRIPT), str(self.port), str(key_file)], cwd=HERE, text=True,
                                     stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        line = _first_line(self.proc)
        if not line.startswith("listening "):
            self.stop()
            raise AssertionError(f"the provider did not start: {line!r}; see {self.workdir}/idp-*.log")
        self.issuer = line.split()[1]
        self.port = int(self.issuer.rsplit(":", 1)[1])
        return self

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
        try:
            proc.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=WAIT)
        if proc.stdout is not None:
            proc.stdout.close()

    def rotate(self, keys: list[dict[str, Any]]) -> None:
        """Restart on the same port, publishing (and signing with the first of) ``keys``."""
        self.stop()
        self.start(keys)

    @property
    def discovery(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def token(self, client: str, resource: str | None = None) -> str:
        """An access token (JWT, ``typ: at+jwt``) from the client-credentials grant."""
        data = {"grant_type": "client_credentials", **({"resource": resource} if resource else {})}
        reply = httpx.post(f"{self.issuer}/token", data=data, auth=(client, SECRET), timeout=WAIT)
        assert reply.status_code == 200, reply.text
        return str(reply.json()["access_token"])


def _first_line(proc: subprocess.Popen[str]) -> str:
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    stdout = proc.stdout
    reader = threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True)
    reader.start()
    try:
        return lines.get(timeout=WAIT).strip()
    except queue.Empty:
        return "(no output)"


def gateway_config(issuer: str, roles_field: str = "resource_access.llm-gateway.roles", *,
                   ttl: float = 600, stale_ttl: float = 3600, cooldown: float = 30) -> str:
    """A gateway config trusting ``issuer`` (keys by discovery), audience llm-gateway, one role."""
    return f"""\
model_list:
  - {{model_name: small, litellm_params: {{model: openai/small}}}}
  - {{model_name: big, litellm_params: {{model: openai/big}}}}
general_settings:
  enable_jwt_auth: true
  litellm_jwtauth:
    enforce_rbac: true
    roles_jwt_field: {roles_field}
    public_key_ttl: {ttl}
    public_key_stale_ttl: {stale_ttl}
    role_mappings:
      - {{role: gateway-user, internal_role: internal_user}}
    issuers:
      - {{issuer: "{issuer}", audience: llm-gateway}}
  role_permissions:
    - {{role: internal_user, models: [small]}}
jwtgate:
  key_refetch_cooldown: {cooldown}
  fetch_timeout: 2
"""
