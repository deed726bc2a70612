"""LiteLLM's route groups and its route matching (group templates, exact paths, trailing ``*``).

The group contents follow LiteLLM's ``LiteLLMRoutes`` for the routes a gateway in front of models
serves; matching follows ``auth_checks._allowed_routes_check``.
"""

from __future__ import annotations

import re
from functools import lru_cache

DEFAULT_ROUTE = "/v1/chat/completions"  # the route a command checks when none is given

_V1 = ("chat/completions", "completions", "embeddings", "images/generations", "images/edits",
       "audio/transcriptions", "audio/speech", "moderations", "batches", "batches/{batch_id}",
       "batches/{batch_id}/cancel", "files", "files/{file_id}", "files/{file_id}/content", "fine_tuning/jobs",
       "fine_tuning/jobs/{fine_tuning_job_id}/cancel", "assistants", "assistants/{assistant_id}", "threads",
       "threads/{thread_id}", "threads/{thread_id}/messages", "threads/{thread_id}/runs", "models", "rerank",
       "realtime", "responses", "responses/{response_id}", "responses/{response_id}/input_items",
       "responses/{response_id}/cancel", "vector_stores", "vector_stores/{vector_store_id}",
       "vector_stores/{vector_store_id}/search", "videos", "videos/{video_id}", "search", "ocr")

OPENAI_ROUTES: tuple[str, ...] = (
    *(f"/{p}" for p in _V1),
    *(f"/v1/{p}" for p in _V1),
    "/engines/{model}/chat/completions", "/openai/deployments/{model}/chat/completions",
    "/engines/{model}/completions", "/openai/deployments/{model}/completions",
    "/engines/{model}/embeddings", "/openai/deployments/{model}/embeddings",
    "/utils/token_counter", "/utils/transform_request", "/v2/rerank", "/openai/v1/responses",
)
ANTHROPIC_ROUTES = ("/v1/messages", "/v1/messages/count_tokens")
GOOGLE_ROUTES = (
    "/v1beta/models/{model_name:path}:countTokens", "/v1beta/models/{model_name:path}:generateContent",
    "/v1beta/models/{model_name:path}:streamGenerateContent", "/models/{model_name:path}:countTokens",
    "/models/{model_name:path}:generateContent", "/models/{model_name:path}:streamGenerateContent",
)
MCP_ROUTES = ("/mcp", "/mcp/", "/mcp/{subpath}", "/mcp/tools", "/mcp/tools/list", "/mcp/tools/call",
              "/mcp-rest/tools/list", "/mcp-rest/tools/call", "/v1/mcp/tools", "/v1/mcp/server",
              "/v1/mcp/server/{path:path}")
MAPPED_PASS_THROUGH = ("/bedrock", "/vertex-ai", "/vertex_ai", "/cohere", "/gemini", "/anthropic", "/azure",
                       "/azure_ai", "/openai", "/openai_passthrough", "/vllm", "/mistral", "/watsonx")
MODEL_INFO_ROUTES = ("/model/info", "/v1/model/info")
INFO_ROUTES = ("/key/info", "/key/health", "/team/info", "/team/list", "/v2/team/list", "/organization/list",
               "/team/available", "/user/info", "/v2/user/info", "/model/info", "/v1/model/info", "/v2/model/info",
               "/v2/key/info", "/model_group/info", "/health", "/health/services", "/key/list", "/models",
               "/v1/models")
MANAGEMENT_ROUTES = ("/user/new", "/user/update", "/user/delete", "/user/info", "/user/list", "/team/new",
                     "/team/update", "/team/{team_id}", "/team/delete", "/team/list", "/team/info", "/team/block",
                     "/team/unblock", "/model/new", "/model/update", "/model/delete", "/model/info",
                     "/key/generate", "/key/update", "/key/delete", "/key/info", "/key/regenerate", "/key/list",
                     "/key/block", "/key/unblock", "/v1/mcp/server", "/v1/mcp/server/{path:path}")
SPEND_TRACKING_ROUTES = ("/spend/keys", "/spend/users", "/spend/tags", "/spend/calculate", "/spend/logs",
                         "/spend/logs/v2", "/key/spend/report", "/user/spend/report", "/team/spend/report")
GLOBAL_SPEND_TRACKING_ROUTES = ("/global/spend/logs", "/global/spend", "/global/spend/keys",
                                "/global/spend/teams", "/global/spend/end_users", "/global/spend/models",
                                "/global/predict/spend/logs", "/global/spend/report", "/global/spend/provider",
                                "/global/spend/tags")
PUBLIC_ROUTES = ("/routes", "/", "/health/liveliness", "/health/liveness", "/test")

GROUPS: dict[str, tuple[str, ...]] = {
    "openai_routes": OPENAI_ROUTES,
    "anthropic_routes": ANTHROPIC_ROUTES,
    "google_routes": GOOGLE_ROUTES,
    "mcp_routes": MCP_ROUTES,
    "mapped_pass_through_routes": MAPPED_PASS_THROUGH,
    "passthrough_routes_wildcard": tuple(f"{r}/*" for r in MAPPED_PASS_THROUGH),
    "model_info_routes": MODEL_INFO_ROUTES,
    "info_routes": INFO_ROUTES,
    "management_routes": MANAGEMENT_ROUTES,
    "key_management_routes": tuple(r for r in MANAGEMENT_ROUTES if r.startswith("/key/")),
    "spend_tracking_routes": SPEND_TRACKING_ROUTES,
    "global_spend_tracking_routes": GLOBAL_SPEND_TRACKING_ROUTES,
    "public_routes": PUBLIC_ROUTES,
    "ui_routes": ("/sso", "/login", "/config", "/spend", "/global/spend", *INFO_ROUTES),
    "llm_api_routes": OPENAI_ROUTES + ANTHROPIC_ROUTES + GOOGLE_ROUTES + MAPPED_PASS_THROUGH
    + tuple(f"{r}/*" for r in MAPPED_PASS_THROUGH) + MCP_ROUTES[:9] + MODEL_INFO_ROUTES,
}

_PARAM = re.compile(r"{([a-zA-Z_][a-zA-Z0-9_]*)(:path)?}")


@lru_cache(maxsize=4096)
def _compile(template: str) -> re.Pattern[str]:
    """Starlette-style template -> end-anchored regex (``{x}`` one segment, ``{x:path}`` any)."""
    out, pos = [], 0
    for m in _PARAM.finditer(template):
        out.append(re.escape(template[pos : m.start()]))
        out.append(".*" if m.group(2) else "[^/]+")
        pos = m.end()
    out.append(re.escape(template[pos:]))
    return re.compile("^" + "".join(out) + "$")


def matches_entry(entry: str, path: str) -> bool:
    """Does one allowed-routes entry (group name, literal, or ``prefix/*``) admit the path?"""
    group = GROUPS.get(entry)
    if group is not None:
        return any(_template_matches(t, path) for t in group)
    if entry.endswith("*"):
        return path.startswith(entry[:-1]) and path != entry[:-1].rstrip("/")
    return entry == path


def _template_matches(template: str, path: str) -> bool:
    if template.endswith("/*"):
        return path.startswith(template[:-1])
    if "{" not in template:
        return template == path
    return _compile(template).match(path) is not None


@lru_cache(maxsize=8192)
def allowed(entries: tuple[str, ...], path: str) -> bool:
    """True when any entry admits the path."""
    return any(matches_entry(e, path) for e in entries)


def not_admitted(entries: tuple[str, ...], group: str) -> tuple[str, ...]:
    """The routes of ``group`` that ``entries`` do not admit (a template stands for the paths it matches)."""
    return tuple(t for t in GROUPS[group] if not allowed(entries, t))


# The routes that call a model (chat, completions, responses, messages, generateContent).
MODEL_CALL_ROUTES = ("/v1/chat/completions", "/chat/completions", "/v1/completions", "/completions",
                     "/v1/responses", "/responses", "/openai/v1/responses", "/v1/messages",
                     "/engines/{model}/chat/completions", "/openai/deployments/{model}/chat/completions",
                     "/v1beta/models/{model_name:path}:generateContent")


def admits_any(entries: tuple[str, ...], templates: tuple[str, ...]) -> bool:
    """True when ``entries`` admit at least one of the route templates."""
    return any(allowed(entries, t) for t in templates)

