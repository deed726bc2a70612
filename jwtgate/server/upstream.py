"""Where a request goes and with which headers; one pooled client (``http_client``) sends it.

``build_targets`` turns ``model_list`` into a forwarding table once per loaded config: a model with
``litellm_params.api_base`` goes there (its ``model`` rewritten to ``litellm_params.model`` less an
OpenAI-compatible provider prefix), anything else goes to ``--upstream`` unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

from jwtgate.config.env import resolve_env
from jwtgate.model import Policy
from jwtgate.policy import identity
from jwtgate.server.http_client import HttpClient

# LiteLLM provider prefixes whose API is OpenAI's, so the request can be sent to api_base as it is.
OPENAI_COMPATIBLE = frozenset({
    "openai", "hosted_vllm", "vllm", "openai_like", "custom_openai", "text-completion-openai", "lm_studio",
    "llamafile", "xinference", "litellm_proxy", "ollama_chat", "deepinfra", "together_ai", "groq", "fireworks_ai",
    "deepseek", "mistral", "openrouter", "perplexity", "nvidia_nim", "cerebras", "sambanova", "github",
})
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


def upstream_model_name(litellm_model: str) -> str:
    """``openai/gpt-4o`` -> ``gpt-4o``; a prefix that is not OpenAI-compatible stays."""
    provider, sep, rest = litellm_model.partition("/")
    return rest if sep and provider in OPENAI_COMPATIBLE else litellm_model


def build_targets(policy: Policy, env: Mapping[str, str], upstream: str | None, key_env: str | None) -> Targets:
    """The forwarding table: per-model targets for entries with ``api_base``, else the default upstream.

    The default upstream (a LiteLLM proxy, usually) gets the ``key_env`` credential, falling back to the
    model's ``api_key``; an ``api_base`` target gets the model's ``api_key``, falling back to ``key_env``.
    The first ``model_list`` entry of a name is used.
    """
    env_key = env.get(key_env) if key_env else None
    default = Target(upstream.rstrip("/"), False, None, env_key) if upstream else None
    by_model: dict[str, Target] = {}
    for entry in policy.models:
        if entry.name in by_model:
            continue
        params = entry.params
        model_key = resolve_env(params.get("api_key"), env)
        base = resolve_env(params.get("api_base"), env)
        if base:
            litellm_model = params.get("model")
            name = upstream_model_name(litellm_model) if isinstance(litellm_model, str) else None
            by_model[entry.name] = Target(base.rstrip("/"), True, name, model_key or env_key)
        elif default is not None and model_key and not env_key:
            by_model[entry.name] = Target(default.base, False, None, model_key)
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
