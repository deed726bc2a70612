"""The "jwtgate in front of LiteLLM" worlds the SDK tests drive, built from the README's own commands.

``mock`` world: ``jwtgate serve`` (real, 127.0.0.1, port 0) reading sample_configs/litellm-front.yaml with
``--upstream`` = the loopback mock provider, which speaks the OpenAI and Anthropic APIs as LiteLLM does.
``litellm`` world: the same ``serve`` in front of a real LiteLLM OSS proxy (pinned, own venv, master key,
no database) started with the README's ``litellm`` command on the SAME file, itself in front of the mock.
Every process is started once per session and stopped by its PID; every wait is bounded.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.litellm_env import litellm_python
from tests.security.served import ROOT, Served
from tests.server.provider import Provider

MASTER_KEY = "sk-master-for-tests"
PROVIDER_KEYS = {"OPENAI_API_KEY": "sk-provider-openai", "ANTHROPIC_API_KEY": "sk-provider-anthropic"}
LITELLM_START = 90.0  # LiteLLM's proxy imports a lot: its start-up is bounded by this, not expected to take it
TOKENS = ROOT / "sample_tokens"


def token(name: str) -> str:
    return (TOKENS / f"{name}.jwt").read_text().strip()


def readme_block(heading: str, lang: str, index: int = 0) -> str:
    """The ``index``-th fenced block of ``lang`` under a README ``## heading``."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(rf"```{lang}\n(.*?)```", section, re.S)[index]


def readme_commands() -> dict[str, list[str]]:
    """The README's front commands by program: ``export`` assignments, ``litellm``, ``jwtgate``."""
    out: dict[str, list[str]] = {"export": []}
    for line in readme_block("jwtgate in front of LiteLLM", "bash").splitlines():
        words = shlex.split(line)
        if words and words[0] == "export":
            out["export"] += words[1:]
        elif words:
            out[words[0]] = words[1:]
    return out


def world_env(provider: Provider) -> dict[str, str]:
    """The README's exported variables, with keys and bases pointed at the loopback mock provider."""
    env = dict(a.split("=", 1) for a in readme_commands()["export"])
    env.update({"LITELLM_MASTER_KEY": MASTER_KEY, **PROVIDER_KEYS, "OPENAI_API_BASE": f"{provider.url}/v1",
                "ANTHROPIC_API_BASE": provider.url, "JWTGATE_CACHE_DIR": tempfile.mkdtemp(prefix="jwtgate-cache-")})
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def with_option(args: list[str], option: str, value: str) -> list[str]:
    """``args`` with ``option``'s value replaced (or the option added)."""
    if option in args:
        i = args.index(option)
        return [*args[:i + 1], value, *args[i + 2:]]
    return [*args, option, value]


@dataclass
class LiteLLM:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=15)
        self.log.unlink(missing_ok=True)


def start_litellm(env: dict[str, str]) -> LiteLLM:
    """The README's ``litellm`` command (its port replaced by a free one), ready when /health/liveliness is."""
    python = litellm_python()
    args = with_option(readme_commands()["litellm"], "--port", str(free_port()))
    port = args[args.index("--port") + 1]
    log = Path(tempfile.mkstemp(prefix="litellm-", suffix=".log")[1])
    full_env = {**os.environ, **env, "LITELLM_LOG": "ERROR", "DISABLE_SCHEMA_UPDATE": "true",
                "LITELLM_TELEMETRY": "False", "NO_DOCS": "True",
                "LITELLM_LOCAL_MODEL_COST_MAP": "True"}  # no fetch of the cost map from GitHub: loopback only
    full_env.pop("DATABASE_URL", None)
    script = python.parent / "litellm"
    with log.open("wb") as out:
        proc = subprocess.Popen([str(script), *args], cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    server = LiteLLM(f"http://127.0.0.1:{port}", proc, log)
    deadline = time.monotonic() + LITELLM_START
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            if httpx.get(f"{server.url}/health/liveliness", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    tail = log.read_text(errors="replace")[-3000:]
    server.stop()
    raise AssertionError(f"LiteLLM did not start (exit {proc.poll()}); its log:\n{tail}")


def start_serve(env: dict[str, str], upstream: str, config: Path | None = None, *extra: str) -> Served:
    """The README's ``jwtgate serve`` command on port 0 with ``--upstream`` (flags win over the file)."""
    args = readme_commands()["jwtgate"]
    assert args[0] == "serve"
    args = with_option(with_option(args[1:], "--port", "0"), "--upstream", upstream)
    if config is not None:
        args = with_option(args, "--config", str(config))
    served = Served([*args, *extra], env)
    return served.listening()


@dataclass
class World:
    """A running serve (and what is behind it): ``url`` is jwtgate's; ``provider`` sees what reaches it."""

    name: str
    url: str
    provider: Provider
    served: Served
    upstream_url: str
    upstream_key: str
    admin_token: str

    def token(self, who: str) -> str:
        """A sample token by name, or ``admin`` (a proxy_admin by the admin scope)."""
        return self.admin_token if who == "admin" else token(who)
