"""A real identity provider on loopback: a threaded HTTP server serving JWKS routes and counting requests."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Route:
    """What the fake IdP answers on one path."""

    body: bytes = b"{}"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    hang: bool = False
    no_length: bool = False

    def json(self, doc: Any) -> Route:
        self.body = json.dumps(doc).encode()
        return self


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return None  # a client that hung up (timeout tests) is expected here


class IdP:
    """A threaded HTTP server on 127.0.0.1 (port 0) serving Routes and counting requests per path."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: dict[str, int] = {}
        self.conditional: list[str] = []
        self.release = threading.Event()
        self.dead = False
        self._lock = threading.Lock()
        self.server = _QuietServer(("127.0.0.1", 0), _handler(self))
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def set_jwks(self, path: str, keys: list[dict[str, Any]], **kw: Any) -> Route:
        route = Route(**kw).json({"keys": keys})
        self.routes[path] = route
        return route

    def count(self, path: str) -> int:
        with self._lock:
            return self.hits.get(path, 0)

    def record(self, path: str, conditional: bool) -> None:
        with self._lock:
            self.hits[path] = self.hits.get(path, 0) + 1
            if conditional:
                self.conditional.append(path)

    def start(self) -> IdP:
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop listening; kept-alive connections are dropped without an answer, like a dead IdP."""
        if self.dead:
            return
        self.dead = True
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def _handler(idp: IdP) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return None

        def do_GET(self) -> None:
            if idp.dead:
                self.close_connection = True
                return None
            path = self.path
            inm = self.headers.get("If-None-Match")
            idp.record(path, inm is not None)
            route = idp.routes.get(path)
            if route is None:
                return self._send(404, b'{"error": "not found"}', {})
            if route.hang:
                idp.release.wait(10)
                return None
            if route.etag is not None and inm == route.etag:
                return self._send(304, b"", {"ETag": route.etag, **route.headers})
            headers = dict(route.headers)
            if route.etag is not None:
                headers["ETag"] = route.etag
            return self._send(route.status, route.body, headers, route.no_length)

        def _send(self, status: int, body: bytes, headers: dict[str, str], no_length: bool = False) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            for name, value in headers.items():
                self.send_header(name, value)
            if no_length:
                self.send_header("Connection", "close")
                self.close_connection = True
            elif status != 304:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status != 304:
                self.wfile.write(body)

    return Handler
