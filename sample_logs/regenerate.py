"""Regenerate sample_logs/keycloak-access.log: a real ``jwtgate serve`` run (sample_configs/keycloak-identity.yaml,
log_claims on, sample_configs/keycloak-change.yaml as the shadow config) in front of a loopback stand-in
for LiteLLM, called with the sample tokens.

Run from the repository root:  python sample_logs/regenerate.py
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPLY = json.dumps({"id": "c1", "object": "chat.completion", "created": 0, "model": "m", "choices": [
    {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "hi"}}]}).encode()
# (token file, model): what the sample users ask for
CALLS = [("alice-user", "gpt-4o-mini"), ("alice-user", "gpt-4o-mini"), ("alice-user", "gpt-4o"),
         ("bob-admin", "gpt-4o"), ("carol-norole", "gpt-4o-mini"), ("dave-user-es256", "gpt-4o-mini"),
         ("dave-user-es256", "gpt-4o"), ("expired", "gpt-4o-mini")]


class Upstream(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(REPLY)))
        self.end_headers()
        self.wfile.write(REPLY)

    def log_message(self, *args: object) -> None:
        pass


def main() -> int:
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    argv = [sys.executable, "-m", "jwtgate", "serve", "--config", "sample_configs/keycloak-identity.yaml",
            "--shadow-config", "sample_configs/keycloak-change.yaml", "--jwks", "sample_tokens/jwks.json",
            "--upstream", f"http://127.0.0.1:{upstream.server_port}", "--port", "0"]
    proc = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        lines: list[str] = []
        while not (m := re.search(r"listening on (\S+)", lines[-1] if lines else "")):
            line = proc.stderr.readline()
            if not line:
                raise SystemExit(f"serve exited: {''.join(lines)}")
            lines.append(line)
        url = m.group(1)
        for name, model in CALLS:
            token = Path(f"sample_tokens/{name}.jwt").read_text().strip()
            body = json.dumps({"model": model, "messages": [{"role": "user", "content": "hi"}]}).encode()
            request = urllib.request.Request(url + "/v1/chat/completions", data=body, method="POST", headers={
                "authorization": f"Bearer {token}", "content-type": "application/json"})
            try:
                urllib.request.urlopen(request, timeout=10).read()
            except urllib.error.HTTPError as err:
                err.read()
    finally:
        proc.terminate()
        rest = proc.communicate(timeout=30)[1]
        upstream.shutdown()
    access = [line for line in (*lines, *rest.splitlines(keepends=True)) if line.startswith("{")]
    Path("sample_logs/keycloak-access.log").write_text("".join(access))
    print(f"wrote {len(access)} access lines to sample_logs/keycloak-access.log")
    return 0


if __name__ == "__main__":
    sys.exit(main())
