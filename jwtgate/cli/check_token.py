"""``jwtgate check-token TOKEN --config C``: verify a token, decide, and print every step with its mark."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from jwtgate.cli.decode import TOKEN_HELP
from jwtgate.cli.options import check_format, dump_json

if TYPE_CHECKING:
    from jwtgate.model import Decision, Policy, Request
    from jwtgate.policy.identity import Identity
    from jwtgate.tokens.authenticator import AuthTrace

DEFAULT_ROUTE = "/v1/chat/completions"


def run_check(policy: Policy, token: str, request: Request, *, sources: list[str], now: float | None,
              leeway: float | None, cache_dir: Path | None, offline: bool) -> tuple[AuthTrace, Decision | None]:
    """Authenticator.trace, then decide() on the verified claims (no decision for a refused token).

    Keys come from the on-disk cache (``cache_dir``, else ``$JWTGATE_CACHE_DIR`` or the XDG cache dir),
    fetched when missing unless ``offline``; store warnings go to stderr. An error whose exit code is 2
    (a key file that cannot be read, a usage error) is raised, not turned into a denial.
    """
    from jwtgate.keys.disk_cache import default_cache_dir
    from jwtgate.keys.store import KeyStore, KeyStoreOptions
    from jwtgate.policy.decision import decide
    from jwtgate.tokens.authenticator import Authenticator

    directory = cache_dir if cache_dir is not None else default_cache_dir(os.environ, Path.home())
    with KeyStore(clock=time.time, cache_dir=directory, options=KeyStoreOptions.from_policy(policy),
                  offline=offline) as store:
        trace = Authenticator(policy, store, extra_sources=sources, leeway=leeway).trace(token, now=now)
    for warning in store.warnings:
        typer.echo(f"warning: {warning}", err=True)
    if trace.error is not None and trace.error.exit_code == 2:
        raise trace.error
    if trace.verified is None:
        return trace, None
    return trace, decide(policy, trace.verified.claims, request)


def trace_json(trace: AuthTrace, decision: Decision | None, request: Request, now: float | None,
               token: str | None = None, policy: Policy | None = None) -> dict[str, Any]:
    """The check-token JSON document (see ``render.decision.decision_to_json``).

    ``header`` and ``fingerprint`` are filled whenever the token parsed, even if it was then refused.
    """
    from jwtgate.render.decision import decision_to_json

    verified = trace.verified
    steps = (*trace.steps, *(decision.steps if decision else ()))
    header, fingerprint = _parsed(trace, token)
    extra: dict[str, Any] = {"header": header, "fingerprint": fingerprint, "now": now}
    upstream = _upstream(policy, trace, decision)
    if upstream is not None:
        from jwtgate.render.identity import identity_json

        extra["upstream"] = identity_json(upstream)
    return decision_to_json(decision, steps=steps, verified=verified is not None,
                            claims=verified.claims if verified else None, error=trace.error, request=request,
                            extra=extra)


def _parsed(trace: AuthTrace, token: str | None) -> tuple[dict[str, Any] | None, str | None]:
    """The header and fingerprint of a token that parsed (the "token" step), else (None, None)."""
    from jwtgate.tokens.compact import fingerprint

    if trace.verified is not None:
        return dict(trace.verified.header), trace.verified.fingerprint
    step = next((s for s in trace.steps if s.name == "token" and s.status == "ok"), None)
    if step is None or not isinstance(step.data.get("header"), dict):
        return None, None
    return dict(step.data["header"]), fingerprint(token) if token is not None else None


def _upstream(policy: Policy | None, trace: AuthTrace, decision: Decision | None) -> Identity | None:
    """What ``jwtgate.identity`` would send for an allowed request (None: not configured or not allowed)."""
    from jwtgate.policy.identity import NO_IDENTITY, identity_for

    if policy is None or decision is None or not decision.allowed or trace.verified is None:
        return None
    identity = identity_for(policy, trace.verified.claims)
    return None if identity is NO_IDENTITY else identity


def render_text(trace: AuthTrace, decision: Decision | None, policy: Policy | None = None) -> None:
    """Every step with its mark, the notes, then ALLOWED or DENIED [code] (and the error's hint)."""
    from jwtgate.render.decision import render_trace_text, render_verdict_text, stdout_console
    from jwtgate.render.identity import identity_lines

    out = stdout_console()
    steps = (*trace.steps, *(decision.steps if decision else ()))
    render_trace_text(steps, decision.notes if decision else (), out)
    upstream = _upstream(policy, trace, decision)
    for line in identity_lines(upstream) if upstream is not None else ():
        out.print(line)
    allowed = trace.error is None and decision is not None and decision.allowed
    render_verdict_text(allowed, trace.error or (decision.reason if decision else None), out)
    if trace.error is not None and trace.error.hint:
        out.print(f"hint: {trace.error.hint}")


def check_token(
    token: str = typer.Argument(..., metavar="TOKEN", help=TOKEN_HELP, show_default=False),
    config: Path = typer.Option(..., "--config", "-c", help="The gateway config (LiteLLM YAML)."),
    jwks: list[str] = typer.Option([], "--jwks", metavar="SRC",
                                   help="Key source instead of the config's: a JWKS file, JWKS URL or OIDC "
                                        "discovery URL. Repeatable."),
    model: str | None = typer.Option(None, "--model", help="The model the request asks for."),
    route: str = typer.Option(DEFAULT_ROUTE, "--route", help="The route the request calls."),
    now: str | None = typer.Option(None, "--now", metavar="TIME", help="Evaluate at TIME (ISO 8601 or epoch s)."),
    leeway: float | None = typer.Option(None, "--leeway", metavar="S", min=0,
                                        help="Clock leeway in seconds (default: jwtgate.leeway, 30 s)."),
    offline: bool = typer.Option(False, "--offline", help="Use only cached keys and local files; never fetch."),
    cache_dir: Path | None = typer.Option(None, "--cache-dir", help="Key cache dir (default: $JWTGATE_CACHE_DIR "
                                          "or the XDG cache dir)."),
    output: str = typer.Option("text", "--format", "-f", help="text or json (for scripts; never coloured)."),
) -> None:
    """Verify TOKEN against the config's keys and rules, then decide as the gateway would.

    Exit codes: 0 allowed (without --model: verified and, when RBAC is enforced, mapped to a role),
    1 denied or invalid token, 2 usage or config error.
    """
    from jwtgate.cli.token_arg import read_token_arg
    from jwtgate.config.loader import load_policy_file, require_loadable
    from jwtgate.model import Request
    from jwtgate.timefmt import parse_instant

    check_format(output, ("text", "json"))
    when = parse_instant(now) if now is not None else None
    policy = require_loadable(load_policy_file(str(config), os.environ))
    request = Request(model=model, route=route)
    text = read_token_arg(token)
    trace, decision = run_check(policy, text, request, sources=jwks, now=when, leeway=leeway,
                                cache_dir=cache_dir, offline=offline)
    if output == "json":
        dump_json(trace_json(trace, decision, request, when, text, policy))
    else:
        render_text(trace, decision, policy)
    raise typer.Exit(0 if trace.error is None and decision is not None and decision.allowed else 1)
