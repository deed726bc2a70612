"""A loopback identity provider that misbehaves on demand, and counts every request it receives.

Modes: ok, down (nothing listens: connection refused), status500, hang (reads the request, never
answers), reset (closes the connection without a word), garbage (200 with non-JSON), html (200 with an
HTML login page), oversize (2 MiB body with Content-Length), oversize_chunked (2 MiB without a length),
trickle (headers, then one byte every 0.2 s).
"""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODES = ("ok", "down", "status500", "hang", "reset", "garbage", "html", "oversize", "oversize_chunked", "trickle")
BIG = 2 * 1024 * 1024


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return None  # clients that time out and hang up are expected


class FaultIdP:
    """Serves ``{"keys": keys}`` at ``/jwks`` in mode 'ok'; any other mode is a fault."""

    def __init__(self, keys: list[dict[str, Any]]) -> None:
        self.keys = keys
        self.mode = "ok"
        self.hits = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server: _Server | None = None
        self.port = self._start(0)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/jwks"

    def set_mode(self, mode: str) -> None:
        assert mode in MODES, mode
        if mode == "down" and self._server is not None:
            self._close()
        elif mode != "down" and self._server is None:
            self._start(self.port)
        self.mode = mode

    def count(self) -> int:
        with self._lock:
            return self.hits

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._close()

    def _start(self, port: int) -> int:
        server = _Server(("127.0.0.1", port), _handler(self))
        threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
        self._server = server
        return int(server.server_address[1])

    def _close(self) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()
        self._server = None

    def record(self) -> None:
        with self._lock:
            self.hits += 1

    def wait(self, seconds: float) -> None:
        self._stop.wait(seconds)

    def stopped(self, within: float) -> bool:
        """Wait up to ``within`` seconds; True once the IdP is being torn down."""
        return self._stop.wait(within)


def _handler(idp: FaultIdP) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return None

        def do_GET(self) -> None:
            idp.record()
            mode = idp.mode
            if mode == "hang":
                idp.wait(10)
                self.close_connection = True
            elif mode == "reset":
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                self.close_connection = True
            elif mode == "trickle":
                self._trickle()
            else:
                self._answer(mode)

        def _answer(self, mode: str) -> None:
            status, body, sized = {
                "ok": (200, json.dumps({"keys": idp.keys}).encode(), True),
                "status500": (500, b'{"error": "internal"}', True),
                "garbage": (200, b"\x00\xffnot json at all{{{", True),
                "html": (200, b"<html><body>Please log in</body></html>", True),
                "oversize": (200, b'{"keys": [' + b" " * BIG + b"]}", True),
                "oversize_chunked": (200, b'{"keys": [' + b" " * BIG + b"]}", False),
            }[mode]
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            if sized:
                self.send_header("Content-Length", str(len(body)))
            else:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            try:
                self.wfile.write(body)
            except OSError:
                return None

        def _trickle(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.close_connection = True
            for _ in range(200):
                try:
                    self.wfile.write(b" ")
                    self.wfile.flush()
                except OSError:
                    return
                if idp.stopped(0.2):
                    return

    return Handler
