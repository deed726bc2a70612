"""The differential oracle: LiteLLM's own JWT authorization code on a batch of scenarios.

Run by the pinned LiteLLM venv's python (never imported by jwtgate or its test process):
``python oracle.py < scenarios.json > answers.json``. Input: ``{"scenarios": [...]}``, each
``{"id", "general_settings", "claims", "model" (optional), "route"}``. Output: ``{"litellm_version",
"answers", "routes"}``: per scenario ``{"id", "refused", "message", "role", "allowed", "needs_db",
"lookups", "stage", "error_type"}``; ``routes`` are LiteLLM's route groups (export_routes.py).

What it runs, as the proxy does without a database:
1. config load: ``RoleBasedPermissions`` validation of ``role_permissions`` (proxy_server at start-up) and
   ``LiteLLM_JWTAuth(**litellm_jwtauth)`` (initialize_jwt_auth); an exception there is a refused config;
2. ``JWTAuthManager.auth_builder`` (what ``user_api_key_auth`` calls for a JWT) with ``JWTHandler.auth_jwt``
   returning the scenario's claims as verified and the DB loaders ``handle_jwt`` imports replaced by
   recorders: users, orgs, end users and memberships are not found (None), a team id or alias is not found
   (404 / None). Inside it: RBAC role, role_permissions, scope mappings, the admin route check, "No team found
   in token", the email domain check and the top-level ``general_settings.enforce_rbac`` identity check;
3. the route gate of ``common_checks`` for a caller that is not a proxy admin
   (``RouteChecks.non_proxy_admin_allowed_routes_check`` with no user row, as a DB-less proxy has).
An outcome that looked up a team (id or alias) depends on the database: ``needs_db`` is true and only the
role is comparable.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no network: the bundled cost map

import litellm
from fastapi import HTTPException
from litellm.proxy import _types as T
from litellm.proxy.auth import handle_jwt
from litellm.proxy.auth.auth_checks import ROLE_BASED_PERMISSIONS_ADAPTER, TeamNotFoundError
from litellm.proxy.auth.route_checks import RouteChecks
from starlette.requests import Request

TEAM_LOOKUPS = frozenset({"team", "team_alias", "membership"})


class Recorder:
    """The DB loaders handle_jwt imports, answering as a proxy with an empty database."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def install(self) -> None:
        for name, fn in (
            ("get_team_object", self.team), ("get_team_object_by_alias", self.team_alias),
            ("get_user_object", self.user), ("get_org_object", self.org), ("get_org_object_by_alias", self.org),
            ("get_end_user_object", self.end_user), ("get_team_membership", self.membership),
            ("resolve_managed_agent", self.managed_agent),
        ):
            setattr(handle_jwt, name, fn)

    async def team(self, team_id: str, *args: Any, **kwargs: Any) -> Any:
        self.calls.append("team")
        raise TeamNotFoundError(team_id=team_id)

    async def team_alias(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append("team_alias")
        return None

    async def user(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("user_id") is not None:
            self.calls.append("user")
        return None

    async def org(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append("org")
        return None

    async def end_user(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append("end_user")
        return None

    async def membership(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append("membership")
        return None

    async def managed_agent(self, *args: Any, **kwargs: Any) -> Any:
        return None


def _message(exc: BaseException) -> str:
    if isinstance(exc, HTTPException):
        detail = exc.detail
        return detail if isinstance(detail, str) else json.dumps(detail, default=str)
    if isinstance(exc, T.ProxyException):
        return str(exc.message)
    return str(exc)


def load_config(general: dict[str, Any]) -> T.LiteLLM_JWTAuth:
    """What the proxy builds at start-up; raises when it refuses the config."""
    perms = general.get("role_permissions")
    if perms is not None:
        ROLE_BASED_PERMISSIONS_ADAPTER.validate_python(perms)
    declared = general.get("litellm_jwtauth")
    return T.LiteLLM_JWTAuth(**declared) if declared is not None else T.LiteLLM_JWTAuth()


def _role(handler: handle_jwt.JWTHandler, claims: dict[str, Any]) -> tuple[str | None, str | None]:
    try:
        role = handler.get_rbac_role(token=claims)
    except Exception as exc:  # LiteLLM crashing on the claims is an answer too
        return None, f"{type(exc).__name__}: {exc}"
    return (role.value if role is not None else None), None


def _route_gate(result: dict[str, Any], route: str) -> None:
    """common_checks' route check for a non-admin, with no user row (DB-less)."""
    auth = handle_jwt.JWTAuthManager.user_api_key_auth_from_result(result)  # type: ignore[arg-type]
    if auth.user_role == T.LitellmUserRoles.PROXY_ADMIN:
        return
    request = Request({"type": "http", "method": "POST", "path": route, "headers": [], "query_string": b""})
    RouteChecks.non_proxy_admin_allowed_routes_check(
        user_obj=None, _user_role=None, route=route, request=request, valid_token=auth, request_data={})


async def answer(scenario: dict[str, Any]) -> dict[str, Any]:
    general: dict[str, Any] = scenario.get("general_settings") or {}
    out: dict[str, Any] = {"id": scenario["id"], "refused": False, "message": None, "role": None,
                           "role_error": None, "allowed": None, "needs_db": False, "lookups": [],
                           "stage": None, "error_type": None}
    try:
        jwtauth = load_config(general)
    except Exception as exc:
        out.update(refused=True, message=_message(exc), error_type=type(exc).__name__, stage="config")
        return out
    claims = scenario["claims"]
    handler = handle_jwt.JWTHandler()
    handler.update_environment(prisma_client=None, user_api_key_cache=None,  # type: ignore[arg-type]
                               litellm_jwtauth=jwtauth)

    async def verified(token: str) -> dict[str, Any]:
        return dict(claims)

    handler.auth_jwt = verified  # type: ignore[method-assign]
    out["role"], out["role_error"] = _role(handler, claims)
    recorder = Recorder()
    recorder.install()
    request_data: dict[str, Any] = {"model": scenario["model"]} if "model" in scenario else {}
    route = scenario["route"]
    stage = "auth_builder"
    try:
        result = await handle_jwt.JWTAuthManager.auth_builder(
            api_key="header.payload.signature", jwt_handler=handler, request_data=request_data,
            general_settings=general, route=route, prisma_client=None,
            user_api_key_cache=None, parent_otel_span=None, proxy_logging_obj=None)  # type: ignore[arg-type]
        stage = "route_gate"
        _route_gate(dict(result), route)
        out["allowed"] = True
    except Exception as exc:
        out.update(allowed=False, message=_message(exc), error_type=type(exc).__name__)
    out["stage"] = stage
    out["lookups"] = recorder.calls
    out["needs_db"] = bool(TEAM_LOOKUPS & set(recorder.calls))
    return out


async def main() -> None:
    batch = json.load(sys.stdin)
    answers = [await answer(s) for s in batch["scenarios"]]
    from export_routes import export  # the route groups, checked against jwtgate/data (same process)

    json.dump({"litellm_version": _version(), "answers": answers, "routes": export()}, sys.stdout)


def _version() -> str:
    from importlib.metadata import version

    return version("litellm")


if __name__ == "__main__":
    litellm.suppress_debug_info = True
    asyncio.run(main())
