"""Raw HTTP/1.1 to a real ``jwtgate serve``: requests written as bytes, as an attacker or a broken client sends
them, and replies parsed with httptools (llhttp) rather than by hand. Every read is bounded."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httptools

from tests.security.kit import write_world
from tests.security.served import WAIT, Served, serve_args
from tests.security.upstream import Upstream

Address = tuple[str, int]
BODY = b'{"model": "small", "messages": []}'
TE = b"Transfer-Encoding: chunked\r\n"


def serving(directory: Path, upstream: Upstream) -> Iterator[Address]:
    """A ``jwtgate serve`` on the security kit's default world in front of ``upstream``, for a module
    fixture: yields its address and stops it after."""
    config, _ = write_world(directory)
    served = Served(serve_args(config, upstream.url), {"JWTGATE_CACHE_DIR": str(directory / "cache")})
    try:
        host, port = served.listening().url.removeprefix("http://").split(":")
        yield host, int(port)
    finally:
        served.stop()


def request(token: str, *, target: bytes = b"/v1/chat/completions", host: bytes = b"Host: gw\r\n",
            extra: bytes = b"", framing: bytes | None = None, body: bytes = BODY, version: bytes = b"HTTP/1.1",
            close: bool = True) -> bytes:
    """A POST with ``token`` as its bearer credential; ``framing`` replaces the Content-Length line."""
    framing = b"Content-Length: %d\r\n" % len(body) if framing is None else framing
    return (b"POST " + target + b" " + version + b"\r\n" + host + b"Authorization: Bearer " + token.encode()
            + b"\r\nContent-Type: application/json\r\n" + (b"Connection: close\r\n" if close else b"") + extra
            + framing + b"\r\n" + body)


def chat(model: str = "small", ident: str = "", *, stream: bool = False) -> bytes:
    """A chat body; the fake upstream records its ``id``."""
    return json.dumps({"model": model, "messages": [], "id": ident, "stream": stream}).encode()


def chunked(body: bytes, size: bytes | None = None) -> bytes:
    return (size or b"%x" % len(body)) + b"\r\n" + body + b"\r\n0\r\n\r\n"


@dataclass
class Talk:
    """What the server sent, and whether it closed the connection (False: still open when the wait ended)."""

    data: bytes
    closed: bool


def read_to_close(sock: socket.socket, within: float = WAIT) -> Talk:
    """Read until the server closes the connection (a reset counts as closed) or ``within`` seconds pass."""
    data = b""
    deadline = time.monotonic() + within
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        except ConnectionResetError:
            return Talk(data, True)
        if not chunk:
            return Talk(data, True)
        data += chunk
    return Talk(data, False)


def talk(address: Address, raw: bytes, within: float = WAIT) -> Talk:
    """Send ``raw`` on a new connection and read until the server closes it (or ``within`` passes)."""
    with socket.create_connection(address, timeout=WAIT) as sock:
        sock.sendall(raw)
        return read_to_close(sock, within)


def exchange(address: Address, raw: bytes) -> bytes:
    return talk(address, raw).data


def status(reply: bytes) -> int:
    return int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/1.") else 0


@dataclass
class Reply:
    """One parsed response: status, headers (lower-case names) and the de-chunked body."""

    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    complete: bool = False

    def error_code(self) -> str | None:
        """jwtgate's reason code in an error body, else None."""
        try:
            doc = json.loads(self.body)
        except ValueError:
            return None
        error = doc.get("error") if isinstance(doc, dict) else None
        return error.get("code") if isinstance(error, dict) else None


class _Replies:
    """httptools callbacks: each response on the connection, interim (1xx) ones included."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.parser = httptools.HttpResponseParser(self)

    def on_message_begin(self) -> None:
        self.replies.append(Reply())

    def on_header(self, name: bytes, value: bytes) -> None:
        self.replies[-1].headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self.replies[-1].status = self.parser.get_status_code()

    def on_body(self, body: bytes) -> None:
        self.replies[-1].body += body

    def on_message_complete(self) -> None:
        self.replies[-1].complete = True

    def feed(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if not any(r.complete for r in self.replies):
                raise


def replies(data: bytes) -> list[Reply]:
    """Every response in ``data`` (bytes read from one connection), the last one possibly incomplete."""
    parsed = _Replies()
    parsed.feed(data)
    return parsed.replies


def reply(data: bytes) -> Reply:
    """The first response in ``data``; an AssertionError when there is none."""
    found = replies(data)
    assert found, f"no HTTP response in {data[:200]!r}"
    return found[0]


def read_reply(sock: socket.socket, within: float = WAIT) -> Reply:
    """One whole response from a connection that stays open (keep-alive)."""
    parsed = _Replies()
    deadline = time.monotonic() + within
    while not (parsed.replies and parsed.replies[-1].complete and parsed.replies[-1].status >= 200):
        left = deadline - time.monotonic()
        assert left > 0, "no whole response in time"
        sock.settimeout(left)
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection before a whole response"
        parsed.feed(chunk)
    return parsed.replies[-1]


def read_until(sock: socket.socket, marker: bytes, within: float = WAIT) -> bytes:
    """Read until ``marker`` has arrived (a stream's first chunk); what was read."""
    data = b""
    deadline = time.monotonic() + within
    while marker not in data:
        left = deadline - time.monotonic()
        assert left > 0, f"{marker!r} did not arrive; got {data[:300]!r}"
        sock.settimeout(left)
        chunk = sock.recv(65536)
        assert chunk, f"closed before {marker!r}; got {data[:300]!r}"
        data += chunk
    return data
