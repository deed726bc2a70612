"""Start-up checks of ``jwtgate serve`` beyond lint: safe defaults refuse to start, and a report of where
each model's traffic goes.

Refuses (UsageError, exit 2): a trust with no audience unless the config disables it explicitly
(``jwtgate.tokens.authenticator.audience_gaps``); an unset ``os.environ/NAME`` in anything serve reads
(the loader's JG301 findings, refused by ``wiring.load_checked``: issuers, jwtgate settings; in direct
mode, each api_base and api_key);
litellm mode without an upstream. Warns: no upstream credential.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from jwtgate.config.env import env_reference, resolve_env
from jwtgate.errors import UsageError
from jwtgate.model import Policy, ServeSettings
from jwtgate.policy.routing import LITELLM, model_routes
from jwtgate.tokens.authenticator import audience_gaps, describe_trust

FATAL_AT_START = frozenset({"JG301"})  # lint warnings that refuse serve: an unset os.environ/ variable


def check_audience(policy: Policy, extra_sources: Sequence[str]) -> None:
    gaps = [describe_trust(t) for t in audience_gaps(policy, extra_sources)]
    if gaps:
        raise UsageError(f"{policy.file}: no audience is checked for {'; '.join(gaps)}: tokens minted for any "
                         "application on the identity provider would be accepted; not starting",
                         hint="set JWT_AUDIENCE (or issuers[].audience) to this gateway's client id, or write "
                         "'jwtgate: {insecure_skip_audience: true}' to accept any audience on purpose")


def unset_variables(policy: Policy, settings: ServeSettings, env: Mapping[str, str]) -> list[str]:
    """The ``os.environ/`` model_list variables direct mode reads that are unset (the loader's are JG301)."""
    unset: list[str] = []
    if settings.mode == LITELLM:
        return unset
    for route in model_routes(policy, settings.mode):
        for what, value in (("api_base", route.api_base), ("api_key", route.api_key)):
            name = env_reference(value)
            if name is not None and not resolve_env(value, env):
                unset.append(f"environment variable {name} is not set (model '{route.name}' {what})")
    return unset


def check_environment(policy: Policy, settings: ServeSettings, env: Mapping[str, str]) -> None:
    unset = unset_variables(policy, settings, env)
    if unset:
        names = ", ".join(sorted({m.split()[2] for m in unset}))
        raise UsageError(f"{policy.file}: {'; '.join(unset)}; not starting", hint=f"export {names}")
    if settings.mode == LITELLM and settings.upstream is None:
        raise UsageError("mode litellm sends every request to the LiteLLM proxy, and no upstream is set",
                         hint="pass --upstream http://HOST:PORT (the LiteLLM proxy reading this file), or set "
                         "jwtgate.serve.mode: direct to send each model to its api_base")


def warnings(settings: ServeSettings, env: Mapping[str, str]) -> list[str]:
    """Start-up warnings: a missing upstream credential."""
    out = []
    if settings.upstream is not None and not (settings.upstream_key_env and env.get(settings.upstream_key_env)):
        which = f"{settings.upstream_key_env} is not set" if settings.upstream_key_env else "no --upstream-key-env"
        out.append(f"{which}: requests go to {settings.upstream} without a credential (LiteLLM answers 401 "
                   "unless it runs without a master key)")
    return out


def routes_report(policy: Policy, settings: ServeSettings, env: Mapping[str, str]) -> list[str]:
    """One line per model: where its traffic goes, under which name, with which credential."""
    lines = [f"mode {settings.mode}: " + ("every allowed request goes to the LiteLLM proxy at "
                                          f"{settings.upstream}" if settings.mode == LITELLM else
                                          "models with an api_base go there; others to the upstream")]
    upstream_cred = settings.upstream_key_env or "none"
    for route in model_routes(policy, settings.mode):
        if route.api_base is None:
            where = settings.upstream or "(no upstream)"
            lines.append(f"model '{route.name}' -> {where} as '{route.sent_model}' (key: {upstream_cred})")
        else:
            key = env_reference(route.api_key) or ("literal api_key" if route.api_key else "none")
            lines.append(f"model '{route.name}' -> {resolve_env(route.api_base, env)} as '{route.sent_model}' "
                         f"(key: {key})")
    for role in sorted(settings.upstream_keys):
        lines.append(f"role '{role}' -> the upstream with its own key (jwtgate.serve.upstream_keys)")
    return lines
