"""Pieces of the serve benchmark: the world (key, token, configs), processes pinned to cores, wrk, probes.

Used by ``bench/bench_serve.py``; nothing here is part of jwtgate.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ISSUER, AUDIENCE, KID, MODEL = "https://idp.bench", "jwtgate-bench", "bench-rs256", "gpt-4o-mini"
MASTER_KEY = "sk-bench-master"
CHAT = {"model": MODEL, "messages": [{"role": "user", "content": "Hello"}]}
JSON_BODY = json.dumps(CHAT)
STREAM_BODY = json.dumps({**CHAT, "stream": True})
PATH = "/v1/chat/completions"

POLICY = """\
model_list:
  - model_name: {model}
    litellm_params:
      model: openai/{model}
general_settings:
  enable_jwt_auth: true
  litellm_jwtauth:
    roles_jwt_field: roles
    role_mappings:
      - role: llm-user
        internal_role: internal_user
    enforce_rbac: true
  role_permissions:
    - role: internal_user
      models: ["{model}"]
jwtgate:
  jwks: ["{jwks}"]
  serve:
    upstream: "{upstream}"
"""

LITELLM = """\
model_list:
  - model_name: {model}
    litellm_params:
      model: openai/{model}
      api_base: {upstream}/v1
      api_key: sk-upstream
general_settings:
  master_key: {master}
litellm_settings:
  telemetry: false
"""

NGINX = """\
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/nginx-body;
  proxy_temp_path {tmp}/nginx-proxy;
  fastcgi_temp_path {tmp}/nginx-fastcgi;
  uwsgi_temp_path {tmp}/nginx-uwsgi;
  scgi_temp_path {tmp}/nginx-scgi;
  upstream mock {{ server 127.0.0.1:{upstream_port}; keepalive 128; }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }}
  }}
}}
"""

WRK_LUA = """\
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {auth}"
local bodies = {{ [[{json}]], [[{stream}]] }}
local every = {every}
local n = 0
request = function()
  n = n + 1
  local body = bodies[1]
  if every > 0 and n % every == 0 then body = bodies[2] end
  return wrk.format(nil, nil, nil, body)
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class World:
    """A temp dir with an RSA key's JWKS, a token for a role allowed the model, and wrk scripts."""

    tmp: Path
    token: str = ""

    def make(self) -> World:
        import jwt
        from cryptography.hazmat.primitives.asymmetric import rsa

        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
        jwk.update({"kid": KID, "alg": "RS256", "use": "sig"})
        (self.tmp / "jwks.json").write_text(json.dumps({"keys": [jwk]}))
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "bench-user", "roles": ["llm-user"], "iat": now,
                  "exp": now + 6 * 3600}
        self.token = jwt.encode(claims, private, algorithm="RS256", headers={"kid": KID})
        return self

    def policy(self, upstream: str) -> Path:
        path = self.tmp / "jwtgate.yaml"
        path.write_text(POLICY.format(model=MODEL, jwks=self.tmp / "jwks.json", upstream=upstream))
        return path

    def litellm_config(self, upstream: str) -> Path:
        path = self.tmp / "litellm.yaml"
        path.write_text(LITELLM.format(model=MODEL, upstream=upstream, master=MASTER_KEY))
        return path

    def nginx_config(self, port: int, upstream_port: int) -> Path:
        path = self.tmp / "nginx.conf"
        path.write_text(NGINX.format(tmp=self.tmp, port=port, upstream_port=upstream_port))
        return path

    def wrk_script(self, name: str, auth: str, every: int) -> Path:
        """``every`` = 0: JSON only; 1: streaming only; n: every n-th request streams."""
        path = self.tmp / f"{name}.lua"
        path.write_text(WRK_LUA.format(auth=auth, json=JSON_BODY, stream=STREAM_BODY, every=every))
        return path


@dataclass
class Proc:
    """A server process in its own session (so workers it forks are stopped with it)."""

    name: str
    port: int
    popen: subprocess.Popen[bytes]
    log: Path
    children: list[int] = field(default_factory=list)

    def stop(self) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)

    def cpu_seconds(self) -> float:
        """User + system CPU time of the process and its descendants so far."""
        total = 0.0
        for pid in [self.popen.pid, *descendants(self.popen.pid)]:
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def rss_kib(self) -> int:
        """Resident set of the process and its descendants (the workers of ``--workers N``), KiB."""
        total = 0
        for pid in [self.popen.pid, *descendants(self.popen.pid)]:
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        return total


def descendants(pid: int) -> list[int]:
    out: list[int] = []
    with contextlib.suppress(OSError):
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            out += [int(child), *descendants(int(child))]
    return out


def start(name: str, argv: list[str], port: int, tmp: Path, *, cores: str | None, env: dict[str, str] | None = None,
          cwd: Path | None = None, ready_path: str | None = None, timeout: float = 60.0) -> Proc:
    """Start ``argv`` (pinned to ``cores`` with taskset when given) and wait until it answers on ``port``."""
    log = tmp / f"{name}.log"
    full = ["taskset", "-c", cores, *argv] if cores is not None else argv
    with log.open("wb") as out:
        popen = subprocess.Popen(full, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
                                 cwd=cwd, start_new_session=True)
    proc = Proc(name, port, popen, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            raise RuntimeError(f"{name} exited {popen.returncode}: {log.read_text()[-2000:]}")
        if _answers(port, ready_path):
            return proc
        time.sleep(0.1)
    proc.stop()
    raise RuntimeError(f"{name} did not start within {timeout:.0f} s: {log.read_text()[-2000:]}")


def _answers(port: int, path: str | None) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            if path is None:
                return True
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".encode())
            return sock.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


@dataclass(frozen=True)
class WrkResult:
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(match.group(1)) * _UNITS[match.group(2)] if match else float("nan")


def wrk(url: str, script: Path, *, connections: int, seconds: float, threads: int = 2) -> WrkResult:
    """Run wrk and parse requests, requests/s, p50/p99 and errors (socket errors + non-2xx)."""
    argv = ["wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
            "--latency", "--timeout", "30s", "-s", str(script), url]
    out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=seconds + 60).stdout
    find = lambda pattern: re.search(pattern, out)  # noqa: E731
    done, rps = find(r"(\d+) requests in"), find(r"Requests/sec:\s+([\d.]+)")
    p50, p99 = find(r"(?m)^\s+50%\s+(\S+)"), find(r"(?m)^\s+99%\s+(\S+)")  # not "99.50%" of a stats line
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non2xx = find(r"Non-2xx or 3xx responses: (\d+)")
    return WrkResult(int(done.group(1)) if done else 0, float(rps.group(1)) if rps else 0.0,
                     _ms(p50.group(1)) if p50 else float("nan"), _ms(p99.group(1)) if p99 else float("nan"),
                     errors + (int(non2xx.group(1)) if non2xx else 0))


def first_chunk_ms(port: int, auth: str, count: int) -> list[float]:
    """Milliseconds from sending a streaming request to the first SSE event, on one keep-alive connection."""
    body = STREAM_BODY.encode()
    request = (f"POST {PATH} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
               f"Authorization: Bearer {auth}\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
    times: list[float] = []
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for _ in range(count):
            t0 = time.perf_counter()
            sock.sendall(request)
            buf, first = b"", None
            while not buf.endswith(b"0\r\n\r\n"):
                data = sock.recv(65536)
                if not data:
                    raise RuntimeError(f"connection closed after {buf[:300]!r}")
                buf += data
                if first is None and b"data:" in buf:
                    first = time.perf_counter() - t0
            if not buf.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"streaming request failed: {buf[:300]!r}")
            times.append((first or 0.0) * 1000)
    return times


def ensure_tool(binary: str, package: str) -> str | None:
    """Path of ``binary``; installs the Debian ``package`` with apt-get when missing (root only)."""
    found = shutil.which(binary) or (f"/usr/sbin/{binary}" if Path(f"/usr/sbin/{binary}").exists() else None)
    if found or os.geteuid() != 0 or shutil.which("apt-get") is None:
        return found
    print(f"installing {package} (apt-get) ...", file=sys.stderr)
    subprocess.run(["apt-get", "install", "-y", "-q", package], capture_output=True, check=False)
    return shutil.which(binary) or (f"/usr/sbin/{binary}" if Path(f"/usr/sbin/{binary}").exists() else None)


@contextlib.contextmanager
def running(procs: list[Proc]) -> Iterator[list[Proc]]:
    try:
        yield procs
    finally:
        for proc in reversed(procs):
            proc.stop()
