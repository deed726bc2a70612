"""`jwtgate serve` as a subprocess (its own HTTP server on 127.0.0.1, port 0), its stderr read on a thread."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

WAIT = 15.0
ROOT = Path(__file__).resolve().parents[2]


class Served:
    """Start with the given flags; ``url`` once listening; ``stop()`` is bounded."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        full_env = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen([sys.executable, "-m", "jwtgate", "serve", *args], env=full_env,
                                     stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.url = ""

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.put(line)

    def wait_for(self, pattern: str, timeout: float = WAIT) -> re.Match[str]:
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no line matching {pattern!r}; got {self.seen[-20:]}") from None
            self.seen.append(line)
            match = re.search(pattern, line)
            if match:
                return match

    def listening(self) -> Served:
        self.url = self.wait_for(r"listening on (http://\S+)").group(1)
        return self

    def drain(self) -> list[str]:
        """Lines printed since the last look (access lines, warnings)."""
        while True:
            try:
                self.seen.append(self.lines.get_nowait())
            except queue.Empty:
                return self.seen

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(timeout=WAIT)
        self.reader.join(WAIT)
        if self.proc.stderr is not None:
            self.proc.stderr.close()
        return code


def serve_args(config: Path, upstream: str) -> list[str]:
    return ["--config", str(config), "--port", "0", "--upstream", upstream]
