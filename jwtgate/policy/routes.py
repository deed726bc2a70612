"""LiteLLM's route groups and its route matching, as LiteLLM ``LITELLM_VERSION`` has them.

The groups are ``LiteLLMRoutes`` of the pinned LiteLLM, exported to jwtgate/data/litellm_routes.json by
tests/litellm/export_routes.py (a test checks the file against LiteLLM itself). Matching follows
``auth_checks._allowed_routes_check`` (a group name: its templates, compiled as Starlette does; any other
entry: exact, or a prefix when it ends in ``*``) and ``RouteChecks.is_llm_api_route`` (the routes every
authenticated caller reaches).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib.resources import files

_DATA = json.loads(files("jwtgate").joinpath("data/litellm_routes.json").read_text(encoding="utf-8"))
ROUTES_LITELLM_VERSION: str = _DATA["litellm_version"]
GROUPS: dict[str, tuple[str, ...]] = {name: tuple(paths) for name, paths in _DATA["groups"].items()}
DEFAULT_ROUTE = "/v1/chat/completions"  # the route a command checks when none is given

# The groups that hold paths (``openai_route_names`` holds call types, not paths).
PATH_GROUPS: dict[str, tuple[str, ...]] = {k: v for k, v in GROUPS.items() if all(t.startswith("/") for t in v)}
OPENAI_ROUTES = GROUPS["openai_routes"]
ANTHROPIC_ROUTES = GROUPS["anthropic_routes"]
GOOGLE_ROUTES = GROUPS["google_routes"]
MAPPED_PASS_THROUGH = GROUPS["mapped_pass_through_routes"]
INFO_ROUTES = GROUPS["info_routes"]
SELF_MANAGED_ROUTES = GROUPS["self_managed_routes"]

_PARAM = re.compile(r"{([a-zA-Z_][a-zA-Z0-9_]*)(:[a-z]+)?}")
_CONVERTORS = {None: "[^/]+", ":str": "[^/]+", ":path": ".*", ":int": "[0-9]+", ":float": r"[0-9]+(\.[0-9]+)?",
               ":uuid": "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"}
_AZURE = (re.compile(r"^/openai/deployments/[^/]+/[^/]+/chat/completions$"),
          re.compile(r"^/engines/[^/]+/chat/completions$"))


@lru_cache(maxsize=4096)
def _compile(template: str) -> re.Pattern[str]:
    """Starlette's ``compile_path``: ``{x}`` one segment, ``{x:path}`` anything, end-anchored."""
    out, pos = [], 0
    for m in _PARAM.finditer(template):
        out.append(re.escape(template[pos : m.start()]))
        out.append(_CONVERTORS.get(m.group(2), "[^/]+"))
        pos = m.end()
    out.append(re.escape(template[pos:]))
    return re.compile("^" + "".join(out) + "$")


def _wildcard(entry: str, path: str) -> bool:
    """``RouteChecks.route_matches_wildcard_pattern``: a trailing ``*`` is a prefix, else exact."""
    return path.startswith(entry[:-1]) if entry.endswith("*") else entry == path


def matches_entry(entry: str, path: str) -> bool:
    """Does one allowed-routes entry (group name, literal, or ``prefix*``) admit the path?"""
    group = GROUPS.get(entry)
    if group is not None:
        return any(_compile(t).match(path) is not None for t in group)
    return _wildcard(entry, path)


@lru_cache(maxsize=8192)
def allowed(entries: tuple[str, ...], path: str) -> bool:
    """True when any entry admits the path."""
    return any(matches_entry(e, path) for e in entries)


def _access(path: str, entries: tuple[str, ...]) -> bool:
    """``RouteChecks.check_route_access``: exact, or a ``*`` entry as a prefix (templates do not expand)."""
    return path in entries or any(_wildcard(e, path) for e in entries if e.endswith("*"))


def _placeholders(template: str) -> re.Pattern[str]:
    """``RouteChecks._route_matches_pattern``: ``{x}`` one segment, ``{x:path}`` anything (up to a ':')."""
    def one(m: re.Match[str]) -> str:
        if not m.group(0).strip("{}").endswith(":path"):
            return r"[^/]+"
        return r"[^:]+" if ":" in m.string[m.end():] else r"[\s\S]+"

    return re.compile("^" + re.sub(r"\{[^}]+\}", one, template) + "$")


@lru_cache(maxsize=8192)
def is_llm_api_route(path: str) -> bool:
    """``RouteChecks.is_llm_api_route``: the inference routes any authenticated caller may call."""
    if path in OPENAI_ROUTES or path in ANTHROPIC_ROUTES or path in GOOGLE_ROUTES:
        return True
    if any(_access(path, GROUPS[g]) for g in ("mcp_inference_routes", "agent_inference_routes",
                                               "litellm_native_routes")):
        return True
    templated = (t for group in (OPENAI_ROUTES, GOOGLE_ROUTES, ANTHROPIC_ROUTES) for t in group if "{" in t)
    if any(_placeholders(t).match(path) for t in templated):
        return True
    if any(_wildcard(t, path) for t in OPENAI_ROUTES if t.endswith("*")):
        return True
    if any(p.match(path) for p in _AZURE):
        return True
    return any(path == p or path.startswith(p + "/") for p in MAPPED_PASS_THROUGH)


def non_admin_allowed(path: str) -> bool:
    """A caller that is not a proxy admin reaches the LLM API routes and the info routes."""
    return is_llm_api_route(path) or path in INFO_ROUTES


def passed_to_endpoint(path: str) -> bool:
    """Routes LiteLLM's gate lets any caller through to, for the endpoint to check the caller itself."""
    return (path == "/lens" or path.startswith(("/lens/", "/v1/mcp/", "/mcp-rest/"))
            or _access(path, SELF_MANAGED_ROUTES))


def not_admitted(entries: tuple[str, ...], group: str) -> tuple[str, ...]:
    """The routes of ``group`` that ``entries`` do not admit (a template stands for the paths it matches)."""
    return tuple(t for t in GROUPS.get(group, (group,)) if not allowed(entries, t))


# The routes that call a model (chat, completions, responses, messages, generateContent).
MODEL_CALL_ROUTES = ("/v1/chat/completions", "/chat/completions", "/v1/completions", "/completions",
                     "/v1/responses", "/responses", "/openai/v1/responses", "/v1/messages",
                     "/engines/{model}/chat/completions", "/openai/deployments/{model}/chat/completions",
                     "/v1beta/models/{model_name:path}:generateContent")


def admits_any(entries: tuple[str, ...], templates: tuple[str, ...]) -> bool:
    """True when ``entries`` admit at least one of the route templates."""
    return any(allowed(entries, t) for t in templates)

