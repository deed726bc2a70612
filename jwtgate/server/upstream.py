"""Where a request goes and with which headers; one pooled client (``http_client``) sends it.

``build_targets`` turns the serve mode's model routes (``jwtgate.policy.routing``) into a forwarding table
once per loaded config.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

from jwtgate.config.env import resolve_env
from jwtgate.model import Policy
from jwtgate.policy import identity
from jwtgate.policy.routing import model_routes
from jwtgate.server.http_client import HttpClient

HOP_BY_HOP = frozenset(name.encode("latin-1") for name in identity.HOP_BY_HOP)
CLIENT_CREDENTIALS = frozenset({b"authorization", b"x-api-key", b"api-key"})
PATH_SAFE = "/:@!$&'()*+,;=-._~"


@dataclass(frozen=True, slots=True)
class Target:
    """One upstream: a base URL, whether the client's ``/v1`` prefix is dropped, the model to send."""

    base: str
    strip_version: bool
    model: str | None
    api_key: str | None


@dataclass(frozen=True, slots=True)
class Targets:
    """The forwarding table of one loaded config."""

    default: Target | None
    by_model: dict[str, Target] = field(default_factory=dict)

    def for_model(self, model: str | None) -> Target | None:
        if model is not None:
            target = self.by_model.get(model)
            if target is not None:
                return target
        return self.default


def build_targets(policy: Policy, env: Mapping[str, str], upstream: str | None, key_env: str | None,
                  mode: str) -> Targets:
    """The forwarding table for a serve mode (``jwtgate.policy.routing.model_routes``): per-model targets for
    direct-mode entries with ``api_base``, else the default upstream.

    Each credential goes only where it belongs: the upstream gets the ``key_env`` credential, an ``api_base``
    target its model's ``api_key`` (never the other's).
    """
    env_key = env.get(key_env) or None if key_env else None
    default = Target(upstream.rstrip("/"), False, None, env_key) if upstream else None
    by_model: dict[str, Target] = {}
    for route in model_routes(policy, mode):
        base = resolve_env(route.api_base, env) if route.api_base else None
        if base:
            key = resolve_env(route.api_key, env) if route.api_key else None
            by_model[route.name] = Target(base.rstrip("/"), True, route.sent_model, key or None)
    return Targets(default, by_model)


def target_url(target: Target, path: str, query: bytes) -> str:
    """The upstream URL: the base, the (re-quoted) decided path, the client's query string."""
    if target.strip_version:
        for prefix in ("/openai/v1/", "/v1/"):
            if path.startswith(prefix):
                path = path[len(prefix) - 1:]
                break
    url = target.base + quote(path, safe=PATH_SAFE)
    return f"{url}?{query.decode('latin-1')}" if query else url


def blocked_headers(identity_names: Iterable[str]) -> frozenset[bytes]:
    """What is never forwarded: hop-by-hop headers, client credentials, client-sent identity headers."""
    return HOP_BY_HOP | CLIENT_CREDENTIALS | {n.lower().encode("latin-1") for n in identity_names}


def forward_headers(headers: Iterable[tuple[bytes, bytes]], blocked: frozenset[bytes], identity: dict[str, str],
                    api_key: str | None, key_header: str) -> list[tuple[str, str]]:
    """Client headers less ``blocked`` ones and those named in ``Connection``; then jwtgate's own."""
    out = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers if k not in blocked]
    if any(k == b"connection" for k, _ in headers):
        listed = {n.decode("latin-1") for n in _connection_listed(headers)}
        out = [(k, v) for k, v in out if k not in listed]
    out.extend(identity.items())
    if api_key:
        out.append(("x-api-key", api_key) if key_header == "x-api-key" else ("Authorization", f"Bearer {api_key}"))
    return out


def _connection_listed(headers: Iterable[tuple[bytes, bytes]]) -> frozenset[bytes]:
    names: set[bytes] = set()
    for k, v in headers:
        if k == b"connection":
            names.update(p.strip().lower() for p in v.split(b","))
    return frozenset(names)


RESPONSE_DROP = (HOP_BY_HOP - {b"content-length"}) | {b"date", b"server"}


def response_headers(raw: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """Upstream response headers less hop-by-hop ones, ``date`` and ``server`` (the server sets its own).

    ``content-length`` is kept: the body is relayed byte for byte (the client does not decompress it).
    """
    out = [(k, v) for k, v in ((k.lower(), v) for k, v in raw) if k not in RESPONSE_DROP]
    if any(k == b"connection" for k, _ in out):
        listed = _connection_listed(out)
        out = [(k, v) for k, v in out if k not in listed]
    return out


class UpstreamClient(HttpClient):
    """The one pooled upstream client (``http_client.HttpClient``) for the life of the server."""

    async def start(self) -> None:
        """Nothing to open ahead: connections are made on first use, inside the running loop."""
