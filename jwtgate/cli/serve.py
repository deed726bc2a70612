"""``jwtgate serve``: the gateway. The server stack (uvloop, httptools) is imported inside the command."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from jwtgate.cli.options import check_choice
from jwtgate.errors import UsageError

CONFIG = typer.Option(..., "--config", "-c", help="LiteLLM-style config (YAML) with the policy.")
UPSTREAM = typer.Option(None, "--upstream", help="Where allowed requests go: in mode litellm (the default) every "
                        "allowed request (the LiteLLM proxy); in mode direct those of models without an api_base. "
                        "[jwtgate.serve.upstream]")
HOST = typer.Option(None, "--host", help="Address to listen on. [default: 127.0.0.1]")
PORT = typer.Option(None, "--port", min=0, max=65535, help="Port to listen on (0 = any free port). [default: 4000]")
WORKERS = typer.Option(None, "--workers", min=1, help="Worker processes sharing the socket. [default: 1]")
JWKS = typer.Option(None, "--jwks", help="Key source (JWKS URL, discovery URL or file) that REPLACES the issuers' "
                    "configured key sources for this run (audience and issuer checks stay); repeatable.")
KEY_ENV = typer.Option(None, "--upstream-key-env", help="Environment variable holding the upstream's API key.")
MODE = typer.Option(None, "--mode", help="litellm: every request to --upstream (a LiteLLM proxy reading the same "
                    "config); direct: models with an api_base go there. [jwtgate.serve.mode; default: litellm]")
SHADOW = typer.Option(None, "--shadow-config", help="A second config that decides every request too, without "
                      "being enforced: differences are logged and counted (jwtgate_shadow_decisions).")
HIDE = typer.Option(None, "--hide-reasons/--show-reasons", help="Keep denial details out of responses (logs only).")


def serve(
    config: Path = CONFIG,
    upstream: str | None = UPSTREAM,
    host: str | None = HOST,
    port: int | None = PORT,
    workers: int | None = WORKERS,
    jwks: list[str] | None = JWKS,
    upstream_key_env: str | None = KEY_ENV,
    hide_reasons: bool | None = HIDE,
    shadow_config: Path | None = SHADOW,
    mode: str | None = MODE,
) -> None:
    """Run the gateway: verify the bearer JWT, decide with the policy, forward allowed requests.

    The config is linted first: errors refuse to start (exit 2) with the findings printed.
    SIGHUP re-reads the config and the shadow config (both kept when either has errors); SIGTERM stops
    gracefully.
    """
    _require_serve_extra()
    from jwtgate.config.schema import SERVE_MODES
    from jwtgate.render.findings import render_text
    from jwtgate.server import startup
    from jwtgate.server.process import run_worker, supervise
    from jwtgate.server.state import ConfigRejected
    from jwtgate.server.wiring import ServeOptions, check_upstream, effective_settings, load_checked

    if mode is not None:
        check_choice("--mode", mode, SERVE_MODES)
    opts = ServeOptions(str(config), upstream, host, port, workers, tuple(jwks or ()), upstream_key_env, hide_reasons,
                        str(shadow_config) if shadow_config is not None else None, mode)
    env = dict(os.environ)
    policies = []
    for path in (opts.config, *([opts.shadow_config] if opts.shadow_config else [])):
        try:
            loaded, warnings = load_checked(path, env)
        except ConfigRejected as rejected:
            typer.echo(render_text(rejected.findings), err=True)
            raise UsageError(f"{path}: {len(rejected.findings)} error(s); not starting",
                             code="config.invalid", hint="run 'jwtgate lint' on the config") from None
        if warnings:
            typer.echo(render_text(warnings), err=True)
        policies.append(loaded)
    policy = policies[0]
    settings = effective_settings(policy, opts)
    check_upstream(policy, settings, env, opts.jwks)
    for line in startup.warnings(settings, env):
        typer.echo(f"jwtgate: warning: {line}", err=True)
    for line in startup.routes_report(policy, settings, env):
        typer.echo(f"jwtgate: {line}", err=True)
    if settings.workers > 1:
        raise typer.Exit(supervise(opts, env, settings, lambda line: typer.echo(f"jwtgate: {line}", err=True)))
    run_worker(opts, env, announce=lambda line: typer.echo(f"jwtgate: {line}", err=True))


def _require_serve_extra() -> None:
    """The server stack is an extra: say how to install it instead of a ModuleNotFoundError."""
    import importlib.util

    missing = [m for m in ("uvloop", "httptools", "prometheus_client") if importlib.util.find_spec(m) is None]
    if missing:
        raise UsageError(f"'jwtgate serve' needs the serve extra ({', '.join(missing)} not installed)",
                         hint="in the jwtgate checkout: pip install '.[serve]' (from git: pip install "
                              "'jwtgate[serve] @ git+URL')")
