"""How an allowed request may reach the upstream without the upstream's credential widening it.

jwtgate sends allowed requests upstream with ONE credential (LiteLLM's master key, or a virtual key).
LiteLLM scopes the answers of its info, management, health, spend and key/user/team routes to the
caller's own key; behind a shared admin credential they answer as admin. The rule: **the upstream
credential never lets a caller see or do more than the caller's own decision allows.** So, per route group:

- ``inference`` (chat, messages, embeddings …, pass-through) and ``public`` (``/health/liveliness``):
  forwarded for every role (the model was decided; a public answer is the same for anyone);
- ``models`` (``/v1/models``) and ``model_info`` (``/model/info``, ``/model_group/info``): answered by
  jwtgate from the config, listing the caller's models only, without api_base or keys;
- ``health``, ``key``, ``user``, ``team``, ``spend``, ``management`` and any ``other`` route: forwarded for
  proxy_admin; for another role only with its own credential (``jwtgate.serve.upstream_keys``, e.g. a
  LiteLLM virtual key scoped to that role), else refused (``policy.upstream_scope``).

Pure: the caller's decision and the path in, a ``Forwarding`` out; the server applies it, and
``with_forwarding`` records it as the ``forwarding`` step of a Decision (check-token, explain, test), so the
CLI says what serve does: a refusal is the same ``policy.upstream_scope`` and message as serve's 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from jwtgate.model import Decision, Policy, Reason, Step
from jwtgate.policy import routes

PROXY_ADMIN = "proxy_admin"
MODEL_LIST = ("/v1/models", "/models")
MODEL_INFO = ("/model/info", "/v1/model/info", "/v2/model/info", "/model_group/info")
HEALTH = ("/health", "/health/services", "/key/health", "/health/readiness", "/test")
# Checked in this order; the first group whose prefix (or exact path) matches names the route.
_PREFIX_GROUPS = (("spend", ("/spend/", "/global/spend", "/global/predict/", "/key/spend/", "/user/spend/",
                             "/team/spend/")),
                  ("key", ("/key/", "/v2/key/")), ("user", ("/user/", "/v2/user/")),
                  ("team", ("/team/", "/v2/team/", "/organization/")))

UPSTREAM_SCOPE = "policy.upstream_scope"  # the reason code of a refusal
How = Literal["forward", "answer", "refuse"]


@dataclass(frozen=True, slots=True)
class Forwarding:
    """What the server does with an allowed request: forward it (with which credential), answer it, refuse it.

    ``credential`` is None for the shared upstream credential, else the role whose ``upstream_keys``
    entry is used. ``reason`` says why (for a refusal: the message the caller sees).
    """

    how: How
    group: str
    credential: str | None = None
    reason: str = ""


@lru_cache(maxsize=4096)
def route_group(path: str) -> str:
    """The forwarding group of a path: inference, models, model_info, public, health, key, user, team,
    spend, management or other."""
    if path in MODEL_LIST or (path.startswith(("/v1/models/", "/models/")) and ":" not in path):
        return "models"
    if path in MODEL_INFO:
        return "model_info"
    if path in HEALTH:
        return "health"
    if routes.allowed(("public_routes",), path):
        return "public"
    if routes.allowed(("llm_api_routes",), path):
        return "inference"
    for group, prefixes in _PREFIX_GROUPS:
        if path.startswith(prefixes):
            return group
    if routes.allowed(("management_routes",), path):
        return "management"
    return "other"


SHARED_OK = frozenset({"inference", "public"})
_SHARED = {group: Forwarding("forward", group) for group in SHARED_OK}  # the per-request common case, prebuilt


def forwarding(policy: Policy, decision: Decision, path: str) -> Forwarding:
    """How an allowed request for ``path`` reaches the upstream (see the module's docstring)."""
    group = route_group(path)
    keys = policy.settings.serve.upstream_keys
    scoped = decision.role if decision.role in keys else None
    if group in SHARED_OK:
        return _SHARED[group] if scoped is None else Forwarding("forward", group, scoped)
    if group in ("models", "model_info"):
        return Forwarding("answer", group, reason="answered by jwtgate from the caller's allowed models")
    if decision.role == PROXY_ADMIN:
        return Forwarding("forward", group, scoped)
    if scoped is not None:
        return Forwarding("forward", group, scoped, f"with the {scoped} credential (jwtgate.serve.upstream_keys)")
    return Forwarding("refuse", group, reason=(
        f"{path} ({group} route) is answered by the upstream for the credential it is sent with, and jwtgate's "
        f"upstream credential is shared: only proxy_admin may call it through jwtgate, or give the role "
        f"'{decision.role or 'none'}' its own LiteLLM key in jwtgate.serve.upstream_keys"))


def refusal_reason(how: Forwarding) -> Reason:
    """The reason of a refused route: what serve answers (403) and check-token prints."""
    return Reason(UPSTREAM_SCOPE, how.reason)


def forwarding_step(how: Forwarding, path: str) -> Step:
    """The trace line of a forwarding outcome."""
    data = {"how": how.how, "group": how.group, "credential": how.credential}
    if how.how == "refuse":
        return Step("forwarding", "fail", f"refused: {path} ({how.group} route) would be sent with the shared "
                    "upstream credential; only proxy_admin or a role with jwtgate.serve.upstream_keys may",
                    data=data)
    if how.how == "answer":
        return Step("forwarding", "info", f"{path} ({how.group} route) is answered by jwtgate from the config "
                    "(the caller's models only)", data=data)
    key = "the upstream key" if how.credential is None else (f"the {how.credential} credential "
                                                             "(jwtgate.serve.upstream_keys)")
    return Step("forwarding", "ok", f"{path} ({how.group} route) is forwarded to the upstream with {key}",
                data=data)


def with_forwarding(policy: Policy, decision: Decision, path: str) -> Decision:
    """``decision`` with serve's forwarding stage for ``path`` as its last step; a refused route denies
    (``policy.upstream_scope``). A denied decision is returned as it is: serve refuses it before forwarding."""
    if not decision.allowed:
        return decision
    how = forwarding(policy, decision, path)
    steps = (*decision.steps, forwarding_step(how, path))
    reason = refusal_reason(how) if how.how == "refuse" else None
    return Decision(reason is None, reason, decision.role, decision.models, decision.routes, decision.subject,
                    decision.identity, steps, decision.notes)
