"""How ``jwtgate serve`` would route this config: the serve mode's contradictions and the audience it needs."""

from __future__ import annotations

from collections.abc import Iterator

from jwtgate.lint.base import LintContext, rule
from jwtgate.lint.security import global_path_unchecked
from jwtgate.model import Finding
from jwtgate.policy.routing import DIRECT, direct_problems
from jwtgate.tokens.authenticator import audience_gaps, describe_trust

MODE = "jwtgate.serve.mode"


def _mode(ctx: LintContext) -> str:
    return ctx.policy.settings.serve.mode


@rule("JG140", "error", "jwtgate.serve.mode: direct while no model_list entry has an api_base")
def direct_without_api_base(ctx: LintContext) -> Iterator[Finding]:
    models = ctx.policy.models
    if _mode(ctx) != DIRECT or not models or any(m.params.get("api_base") for m in models):
        return
    yield direct_without_api_base.finding(
        "mode direct sends a model with an api_base straight to it, and no model has one: every request would "
        "go to the upstream", ctx.where(MODE), "use mode: litellm (the default) with --upstream set to the "
        "LiteLLM proxy, or give the models an api_base")


@rule("JG141", "error", "jwtgate.serve.mode: direct with an api_base model whose provider API is not OpenAI's")
def direct_foreign_provider(ctx: LintContext) -> Iterator[Finding]:
    if _mode(ctx) != DIRECT:
        return
    for entry, provider in direct_problems(ctx.policy):
        path = f"{ctx.model_path(entry)}.litellm_params.model"
        yield direct_foreign_provider.finding(
            f"model '{entry.name}' is a '{provider}/' model: LiteLLM translates its requests, jwtgate in direct "
            "mode would send them to its api_base as they are (wrong path, prefix kept, a Bearer header)",
            ctx.where(path, ctx.model_path(entry)), "use mode: litellm with a LiteLLM proxy behind jwtgate, or "
            "drop the api_base so the model goes to the upstream")


@rule("JG308", "error", "tokens accepted without an audience check (JWT_AUDIENCE unset) and no explicit opt-out")
def no_audience(ctx: LintContext) -> Iterator[Finding]:
    """``audience_gaps`` (what serve refuses to start on) for a JWT config that JG302 does not already flag."""
    policy = ctx.policy
    if not policy.enable_jwt_auth or global_path_unchecked(ctx):
        return  # not JWT auth, or JG302 reports it
    for gap in audience_gaps(policy):
        if gap.scoped:
            continue  # an issuers entry without audience is JG110
        yield no_audience.finding(
            f"no audience is checked for {describe_trust(gap)}: tokens minted for any application on the "
            "identity provider are accepted; jwtgate serve refuses to start",
            ctx.where("general_settings.enable_jwt_auth"),
            "set JWT_AUDIENCE (or issuers[].audience) to this gateway's client id, or set "
            "jwtgate.insecure_skip_audience: true to accept any audience on purpose")


# Above these (seconds) a client holds a connection that long by being slow or idle, and a few such clients
# exhaust the gateway (slowloris); nginx's defaults are 60 s (client_header_timeout, client_body_timeout)
# and 75 s (keepalive_timeout).
SLOW_CLIENT_LIMITS = {
    "header_timeout": (60.0, "a client may take that long to send a request's headers"),
    "body_timeout": (300.0, "a client may pause that long between two parts of a request body"),
    "keepalive_timeout": (300.0, "an idle keep-alive connection stays open that long"),
}


@rule("JG142", "warning", "a slow-client timeout (header, body, keep-alive) long enough for a few slow "
      "clients to hold every connection")
def slow_client_timeout(ctx: LintContext) -> Iterator[Finding]:
    serve = ctx.policy.settings.serve
    for name, (limit, what) in SLOW_CLIENT_LIMITS.items():
        value = getattr(serve, name)
        if value > limit:
            yield slow_client_timeout.finding(
                f"{name} is {value:g} s: {what}, so a few slow clients can hold every connection (slowloris)",
                ctx.where(f"jwtgate.serve.{name}", "jwtgate.serve"), f"use at most {limit:g} s")


RULES = (direct_without_api_base, direct_foreign_provider, no_audience, slow_client_timeout)

