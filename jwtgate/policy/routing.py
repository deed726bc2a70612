"""Where each model's traffic goes, for a serve mode: the LiteLLM proxy behind jwtgate, or the model's api_base.

``litellm`` mode (the default): jwtgate is in front of a LiteLLM proxy that reads the same file; every
allowed request goes to ``jwtgate.serve.upstream`` with the model name unchanged, and only the upstream
credential (``upstream_key_env`` or the role's ``upstream_keys`` entry). A model's ``api_key`` is never
sent: it is LiteLLM's to use. ``direct`` mode: a model with ``litellm_params.api_base`` goes there, its
``model`` rewritten to ``litellm_params.model`` less an OpenAI-compatible provider prefix, with its own
``api_key``; other models go to the upstream. Pure: raw config values in, routes out (the server resolves
``os.environ/`` values with ``jwtgate.config.env``).
"""

from __future__ import annotations

from dataclasses import dataclass

from jwtgate.model import ModelEntry, Policy

LITELLM, DIRECT = "litellm", "direct"
# LiteLLM provider prefixes whose API is OpenAI's, so the request can be sent to api_base as it is.
OPENAI_COMPATIBLE = frozenset({
    "openai", "hosted_vllm", "vllm", "openai_like", "custom_openai", "text-completion-openai", "lm_studio",
    "llamafile", "xinference", "litellm_proxy", "ollama_chat", "deepinfra", "together_ai", "groq", "fireworks_ai",
    "deepseek", "mistral", "openrouter", "perplexity", "nvidia_nim", "cerebras", "sambanova", "github",
})


@dataclass(frozen=True, slots=True)
class ModelRoute:
    """One model's destination: ``api_base`` (the raw config value) or None for the upstream; the model name
    sent; the raw ``api_key`` value sent with it (None: the upstream credential)."""

    name: str
    api_base: str | None
    sent_model: str
    api_key: str | None


def upstream_model_name(litellm_model: str) -> str:
    """``openai/gpt-4o`` -> ``gpt-4o``; a prefix that is not OpenAI-compatible stays."""
    provider, sep, rest = litellm_model.partition("/")
    return rest if sep and provider in OPENAI_COMPATIBLE else litellm_model


def provider_of(entry: ModelEntry) -> str | None:
    """The LiteLLM provider prefix of a model entry (``anthropic`` for ``anthropic/claude``), if any."""
    model = entry.params.get("model")
    if not isinstance(model, str) or "/" not in model:
        return None
    return model.partition("/")[0]


def model_routes(policy: Policy, mode: str) -> tuple[ModelRoute, ...]:
    """Each model name's route (the first model_list entry of a name counts, as in LiteLLM's router)."""
    out: dict[str, ModelRoute] = {}
    for entry in policy.models:
        if entry.name in out:
            continue
        base = entry.params.get("api_base")
        if mode == DIRECT and isinstance(base, str) and base:
            model = entry.params.get("model")
            sent = upstream_model_name(model) if isinstance(model, str) else entry.name
            key = entry.params.get("api_key")
            out[entry.name] = ModelRoute(entry.name, base, sent, key if isinstance(key, str) else None)
        else:
            out[entry.name] = ModelRoute(entry.name, None, entry.name, None)
    return tuple(out.values())


def direct_problems(policy: Policy) -> list[tuple[ModelEntry, str]]:
    """Direct-mode models jwtgate cannot send as they are: a provider whose API is not OpenAI's."""
    problems = []
    for entry in policy.models:
        provider = provider_of(entry)
        if entry.params.get("api_base") and provider is not None and provider not in OPENAI_COMPATIBLE:
            problems.append((entry, provider))
    return problems
