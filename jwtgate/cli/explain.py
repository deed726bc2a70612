"""``jwtgate explain``: who may use a model, what a role gets, a claim/token trace, the access matrix."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from jwtgate.cli.options import check_format, dump_json, load_config, read_claims
from jwtgate.errors import UsageError
from jwtgate.policy.routes import DEFAULT_ROUTE

if TYPE_CHECKING:
    from jwtgate.model import Policy, Request

def explain(
    config: str = typer.Option(..., "--config", "-c", help="The gateway config (LiteLLM YAML)."),
    model: str | None = typer.Option(None, "--model", "-m", help="Who may use this model (or the request's model "
                                     "with --claims/--token)."),
    role: str | None = typer.Option(None, "--role", "-r", help="Models and routes of a gateway role or JWT role "
                                    "value."),
    claims: str | None = typer.Option(None, "--claims", help="Trace an UNVERIFIED claim set: JSON or @file.json."),
    token: str | None = typer.Option(None, "--token", help="Trace a token after full verification."),
    jwks: list[str] = typer.Option([], "--jwks", help="Key source for --token (JWKS/PEM file, JWKS or discovery "
                                   "URL); replaces the config's sources."),
    route: str = typer.Option(DEFAULT_ROUTE, "--route", help="The request route."),
    fmt: str = typer.Option("text", "--format", "-f", help="text or json."),
) -> None:
    """Explain a policy: who may use a model, a role's access, a decision trace, or the access matrix.

    With no selector, print the access matrix (roles and the JWT values leading to them x models).
    Exit codes: 0 allowed / reachable, 1 denied / nobody, 2 usage or unreadable input.
    """
    from jwtgate.model import Request

    check_format(fmt, ("text", "json"))
    if sum(x is not None for x in (role, claims, token)) > 1:
        raise UsageError("choose one of --role, --claims and --token")
    if role is not None and model is not None:
        raise UsageError("--model and --role answer different questions; pass one")
    policy = load_config(config)
    if claims is not None:
        code = _trace_claims(policy, read_claims(claims), Request(model, route), fmt)
    elif token is not None:
        code = _trace_token(policy, token, jwks, Request(model, route), fmt)
    elif model is not None:
        code = _model(policy, model, route, fmt)
    elif role is not None:
        code = _role(policy, role, route, fmt)
    else:
        code = _matrix(policy, route, fmt)
    raise typer.Exit(code)


def _emit(fmt: str, text: str, data: Any) -> None:
    if fmt == "json":
        dump_json(data)
    else:
        typer.echo(text, nl=False)


def _trace_claims(policy: Policy, claims: dict[str, Any], request: Request, fmt: str) -> int:
    """decide() on claims taken as given, printed as check-token prints a token, under a warning line."""
    from jwtgate.check import check_claims
    from jwtgate.cli.check_token import print_check

    if fmt != "json":
        from jwtgate.render.decision import stdout_console

        stdout_console().print(("UNVERIFIED claims (no signature, expiry or audience checked)", "yellow"))
    return print_check(check_claims(policy, claims, request), fmt)


def _trace_token(policy: Policy, token: str, keys: list[str], request: Request, fmt: str) -> int:
    """The same check, trace and document as ``check-token TOKEN --jwks ...``."""
    from jwtgate.cli.check_token import print_check, run_check
    from jwtgate.cli.token_arg import read_token_arg

    return print_check(run_check(policy, read_token_arg(token), request, sources=keys), fmt)


def _model(policy: Policy, model: str, route: str, fmt: str) -> int:
    from jwtgate.policy.reports import model_access
    from jwtgate.render import explain as R

    ma = model_access(policy, model, route)
    _emit(fmt, R.model_text(ma), R.model_json(ma))
    return 0 if ma.reachable else 1


def _role(policy: Policy, role: str, route: str, fmt: str) -> int:
    from jwtgate.policy.reports import role_access
    from jwtgate.render import explain as R

    items = role_access(policy, role, route)
    _emit(fmt, R.role_text(role, items), R.role_json(role, items))
    return 0 if items else 1


def _matrix(policy: Policy, route: str, fmt: str) -> int:
    from jwtgate.policy.reports import matrix
    from jwtgate.render import explain as R

    models, rows = matrix(policy, route)
    _emit(fmt, R.matrix_text(models, rows, route), R.matrix_json(models, rows, route))
    return 0
