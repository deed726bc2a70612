"""`jwtgate serve` as a user runs it: lint at start, flags over the file, SIGHUP reload, SIGTERM stop."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import jwt
import pytest

from jwtgate.config.loader import load_policy
from jwtgate.errors import UsageError
from jwtgate.server.state import ConfigRejected
from jwtgate.server.wiring import ServeOptions, effective_settings, load_checked
from tests.kit.cli import invoke
from tests.server.conftest import WAIT, FakeUpstream, Keys, write_policy

DEV = {"roles": ["gw-dev"]}


def test_flags_override_the_file() -> None:
    policy = load_policy("jwtgate:\n  serve:\n    port: 5000\n    upstream: http://a\n    hide_reasons: true\n",
                         "c.yaml", {})
    settings = effective_settings(policy, ServeOptions("c.yaml", upstream="http://b", hide_reasons=False))
    assert (settings.port, settings.upstream, settings.hide_reasons, settings.host) == (5000, "http://b", False,
                                                                                       "127.0.0.1")


def test_config_with_errors_refuses_to_start(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("model_list: [broken\n")
    result = invoke(["serve", "--config", str(config)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert re.search(rf"^{re.escape(str(config))}:\d+:\d+: JG001 error: ", result.stderr, re.M)  # lint's format
    assert "not starting" in result.stderr


def test_a_non_positive_slow_client_timeout_refuses_to_start(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("jwtgate:\n  jwks: [jwks.json]\n  serve:\n    upstream: http://127.0.0.1:9\n"
                      "    body_timeout: 0\n")
    result = invoke(["serve", "--config", str(config)])
    assert result.exit_code == 2
    assert f"{config}:5:19: JG103 error: 'jwtgate.serve.body_timeout' is 0; it must be a positive number" in (
        result.stderr)
    assert "not starting" in result.stderr and "Traceback" not in result.stderr


def test_the_configs_own_suppressions_apply_at_start(tmp_path: Path) -> None:
    text = Path("sample_configs/broken/rbac-flag.yaml").read_text(encoding="utf-8")
    config = tmp_path / "c.yaml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigRejected) as rejected:
        load_checked(str(config), {})
    assert [f.code for f in rejected.value.findings] == ["JG201"]
    config.write_text(text.replace("  role_permissions:\n", "  role_permissions:  # jwtgate: ignore[JG201] "
                                   "staging, RBAC off until=2027-01-31\n"), encoding="utf-8")
    _, warnings = load_checked(str(config), {}, today=date(2027, 1, 31))
    assert [f.code for f in warnings] == ["JG202"]
    with pytest.raises(ConfigRejected):
        load_checked(str(config), {}, today=date(2027, 2, 1))


def test_no_upstream_refuses_to_start(tmp_path: Path, keys: Keys, env: dict[str, str]) -> None:
    config = write_policy(tmp_path / "c.yaml", "http://127.0.0.1:9", keys.jwks_path)
    result = invoke(["serve", "--config", str(config), "--port", "0"], env=env)
    assert result.exit_code == 2
    assert "no upstream for ['gpt-4o', 'o1-secret']" in result.stderr


def test_an_unset_api_base_variable_refuses_to_start(tmp_path: Path, keys: Keys, env: dict[str, str]) -> None:
    config = write_policy(tmp_path / "c.yaml", "os.environ/LLAMA_BASE", keys.jwks_path).read_text()
    (tmp_path / "c.yaml").write_text(config.replace("os.environ/LLAMA_BASE/v1", "os.environ/LLAMA_BASE"))
    argv = ["serve", "--config", str(tmp_path / "c.yaml"), "--upstream", "http://127.0.0.1:9", "--port", "0"]
    result = invoke(argv, env=env)
    assert result.exit_code == 2
    assert re.search(r"c\.yaml:8:7: JG307 error: .*LLAMA_BASE", result.stderr)
    assert "not starting" in result.stderr


class Served:
    """A `jwtgate serve` subprocess whose stderr lines are read on a thread (every wait bounded)."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "jwtgate", "serve", *args], env=env,
                                     stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.put(line)

    def wait_for(self, pattern: str) -> re.Match[str]:
        seen = []
        while True:
            try:
                line = self.lines.get(timeout=WAIT)
            except queue.Empty:
                raise AssertionError(f"no line matching {pattern!r}; got {seen}") from None
            seen.append(line)
            m = re.search(pattern, line)
            if m:
                return m

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=WAIT)
        self.reader.join(WAIT)
        if self.proc.stderr is not None:
            self.proc.stderr.close()
        return code


@pytest.fixture
def served(tmp_path: Path, keys: Keys, upstream: FakeUpstream, env: dict[str, str]) -> Iterator[tuple[Served, Path]]:
    config = write_policy(tmp_path / "config.yaml", upstream.url, keys.jwks_path)
    root = str(Path(__file__).resolve().parents[2])
    proc_env = {**os.environ, **env, "PYTHONPATH": root}
    s = Served(["--config", str(config), "--port", "0", "--upstream", upstream.url,
                "--upstream-key-env", "UPSTREAM_KEY"], proc_env)
    try:
        yield s, config
    finally:
        s.stop()


def test_sighup_reloads_a_good_config_and_keeps_the_old_on_errors(served: tuple[Served, Path], keys: Keys) -> None:
    server, config = served
    url = server.wait_for(r"listening on (http://\S+)").group(1)
    headers = {"authorization": f"Bearer {keys.token(DEV)}"}

    def status(model: str) -> int:
        return httpx.post(url + "/v1/chat/completions", json={"model": model}, headers=headers,
                          timeout=WAIT).status_code

    assert status("o1-secret") == 403
    text = config.read_text()
    config.write_text(text.replace('models: ["gpt-4o", "llama"]', 'models: ["gpt-4o", "o1-secret"]'))
    server.proc.send_signal(signal.SIGHUP)
    server.wait_for(r"config reloaded")
    assert status("o1-secret") == 200
    config.write_text(text.replace("model_list:", "model_list: [broken"))
    server.proc.send_signal(signal.SIGHUP)
    server.wait_for(r"keeping the running config")
    assert status("o1-secret") == 200
    assert server.stop() == 0  # a graceful drain on SIGTERM ends with status 0


def _publish(configmap: Path, version: str, files: dict[str, str]) -> None:
    """What the kubelet does to a mounted ConfigMap: a new ``..<version>`` directory, then an atomic
    swap of the ``..data`` symlink; the visible ``name -> ..data/name`` links never change."""
    new = configmap / f"..{version}"
    new.mkdir(parents=True)
    for name, text in files.items():
        (new / name).write_text(text)
    staged = configmap / "..data_tmp"
    staged.symlink_to(new.name)
    os.replace(staged, configmap / "..data")
    for name in files:
        if not (configmap / name).is_symlink():
            (configmap / name).symlink_to(f"..data/{name}")


def test_a_configmap_symlink_swap_is_reloaded_without_a_signal(tmp_path: Path, keys: Keys, upstream: FakeUpstream,
                                                                env: dict[str, str]) -> None:
    configmap = tmp_path / "configmap"
    config = write_policy(tmp_path / "v1.yaml", upstream.url, configmap / "jwks.json",
                          extra="    reload_interval: 0.2\n")
    text, jwks = config.read_text(), keys.jwks_path.read_text()
    _publish(configmap, "v1", {"config.yaml": text, "jwks.json": jwks})
    rotated = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(keys.other.public_key()))
    rotated.update({"kid": "test-key-2", "alg": "RS256", "use": "sig"})
    both = json.dumps({"keys": [*json.loads(jwks)["keys"], rotated]})
    proc_env = {**os.environ, **env, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    server = Served(["--config", str(configmap / "config.yaml"), "--port", "0", "--upstream", upstream.url], proc_env)
    try:
        url = server.wait_for(r"listening on (http://\S+)").group(1)

        def status(model: str, token: str) -> int:
            return httpx.post(url + "/v1/chat/completions", json={"model": model}, timeout=WAIT,
                              headers={"authorization": f"Bearer {token}"}).status_code

        new_token = keys.token(DEV, key=keys.other, kid="test-key-2")
        assert (status("o1-secret", keys.token(DEV)), status("gpt-4o", new_token)) == (403, 401)
        allowing = text.replace('models: ["gpt-4o", "llama"]', 'models: ["gpt-4o", "o1-secret"]')
        _publish(configmap, "v2", {"config.yaml": allowing, "jwks.json": both})
        server.wait_for(r"config reloaded")
        assert (status("o1-secret", keys.token(DEV)), status("gpt-4o", new_token)) == (200, 200)
        _publish(configmap, "v3", {"config.yaml": text.replace("model_list:", "model_list: [broken"),
                                   "jwks.json": both})
        server.wait_for(r"keeping the running config")
        assert status("o1-secret", keys.token(DEV)) == 200
    finally:
        server.stop()


def test_reload_interval_out_of_range_is_a_usage_error() -> None:
    policy = load_policy("jwtgate:\n  serve:\n    reload_interval: 0.01\n", "c.yaml", {})
    with pytest.raises(UsageError, match="reload_interval"):
        effective_settings(policy, ServeOptions("c.yaml"))


def test_tune_gc_freezes_start_up_objects_and_raises_the_young_threshold() -> None:
    import gc

    from jwtgate.server.process import GC_THRESHOLD, tune_gc

    before = gc.get_threshold()
    try:
        tune_gc()
        assert gc.get_threshold() == GC_THRESHOLD
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_metrics_add_up_across_two_workers(tmp_path: Path, keys: Keys, upstream: FakeUpstream,
                                           env: dict[str, str]) -> None:
    """Whichever worker answers a scrape, /metrics counts every worker's requests; the shared metrics
    directory lives in the supervisor's temp dir and is gone after it stops."""
    from concurrent.futures import ThreadPoolExecutor

    config = write_policy(tmp_path / "config.yaml", upstream.url, keys.jwks_path)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    proc_env = {**os.environ, **env, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "TMPDIR": str(scratch)}
    server = Served(["--config", str(config), "--port", "0", "--workers", "2", "--upstream", upstream.url], proc_env)
    try:
        url = server.wait_for(r"listening on (http://\S+) with 2 workers").group(1)
        for _ in range(int(WAIT / 0.1)):  # until a worker answers
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(url + "/healthz", timeout=WAIT).status_code == 200:
                    break
            time.sleep(0.1)
        token = keys.token(DEV)

        def call(_: int) -> int:  # a new connection each: the kernel hands them to either worker
            return httpx.post(url + "/v1/chat/completions", json={"model": "gpt-4o"}, timeout=WAIT,
                              headers={"authorization": f"Bearer {token}"}).status_code

        with ThreadPoolExecutor(8) as pool:
            assert set(pool.map(call, range(40))) == {200}
        assert len(list(scratch.glob("jwtgate-metrics-*/counter_*.db"))) == 2  # one file per worker
        for _ in range(6):
            text = httpx.get(url + "/metrics", timeout=WAIT).text
            assert 'jwtgate_requests_total{decision="allow",reason="ok"} 40.0' in text
    finally:
        server.stop()
    assert list(scratch.iterdir()) == []
