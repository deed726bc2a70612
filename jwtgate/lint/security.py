"""Security: who may mint accepted tokens, and where the keys come from."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from urllib.parse import urlsplit

from jwtgate.config.env import env_reference, resolve_env, unset_issuers_text
from jwtgate.lint.base import LintContext, rule
from jwtgate.model import Finding, Location, Policy

ENABLE = "general_settings.enable_jwt_auth"


def _global_path_open(ctx: LintContext) -> bool:
    """True when some tokens are verified by the global (issuer-less) path."""
    policy = ctx.policy
    return not policy.jwt.issuers or bool(ctx.env.get("JWT_PUBLIC_KEY_URL", "").strip()) or bool(
        policy.settings.jwks)


def global_path_unchecked(ctx: LintContext) -> bool:
    """JG302's case: JWT auth whose global path checks neither audience nor issuer."""
    return (ctx.policy.enable_jwt_auth and _global_path_open(ctx)
            and not (ctx.env.get("JWT_AUDIENCE") or ctx.env.get("JWT_ISSUER")))


@rule("JG302", "error", "JWT auth with no audience and no issuer configured anywhere")
def no_audience_or_issuer(ctx: LintContext) -> Iterator[Finding]:
    policy = ctx.policy
    if not global_path_unchecked(ctx):
        return
    if policy.jwt.issuers:
        msg = ("tokens whose iss matches no issuers entry fall back to JWT_PUBLIC_KEY_URL, and JWT_AUDIENCE "
               "and JWT_ISSUER are unset: any app on those identity providers is accepted")
    else:
        msg = ("JWT auth is on but JWT_AUDIENCE and JWT_ISSUER are unset and there are no issuers: tokens "
               "minted for any app on the same identity provider are accepted")
    hint = "set JWT_AUDIENCE and ideally JWT_ISSUER, or configure litellm_jwtauth.issuers"
    msg, hint = _unset_issuers_first(policy, msg, hint)
    yield no_audience_or_issuer.finding(msg, ctx.where(ENABLE), hint)


def _unset_issuers_first(policy: Policy, msg: str, hint: str) -> tuple[str, str]:
    """When issuers entries were dropped for an unset os.environ/ issuer, say that first: it is the cause."""
    if policy.jwt.issuers or not policy.jwt.unset_issuers:
        return msg, hint
    why, fix = unset_issuers_text(policy.jwt.unset_issuers)
    return f"{why}: {msg}", fix


@rule("JG303", "warning", "audience validation disabled (disable_audience_validation and the like)")
def audience_disabled(ctx: LintContext) -> Iterator[Finding]:
    for cfg in ctx.policy.jwt.issuers:
        if cfg.disable_audience_validation:
            path = f"{ctx.issuer_path(cfg)}.disable_audience_validation"
            yield audience_disabled.finding(
                f"issuer '{cfg.issuer}' accepts tokens minted for any audience", ctx.where(path),
                "set audience to this gateway's client id instead")
    if ctx.policy.settings.insecure_skip_audience:
        yield audience_disabled.finding(
            "jwtgate.insecure_skip_audience accepts tokens minted for any audience",
            ctx.where("jwtgate.insecure_skip_audience"), "configure an audience instead")


def is_insecure_url(url: str) -> bool:
    """An ``http://`` URL whose host is not loopback."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    if parts.scheme.lower() != "http":
        return False
    host = (parts.hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True


def _key_urls(ctx: LintContext) -> Iterator[tuple[str, str, Location]]:
    """(what, url, location) for every place signing keys are fetched from."""
    enable_loc = ctx.where(ENABLE)
    for url in ctx.env.get("JWT_PUBLIC_KEY_URL", "").split(","):
        if url.strip():
            yield "JWT_PUBLIC_KEY_URL entry", url.strip(), enable_loc
    for cfg in ctx.policy.jwt.issuers:
        path = ctx.issuer_path(cfg)
        if cfg.jwks_url is not None:
            yield "issuers jwks_url", cfg.jwks_url, ctx.where(f"{path}.jwks_url", path)
        else:
            yield "issuer (its discovery document)", cfg.issuer, ctx.where(f"{path}.issuer", path)
    for i, url in enumerate(ctx.policy.settings.jwks):
        yield "jwtgate.jwks entry", url, ctx.where(f"jwtgate.jwks[{i}]", "jwtgate.jwks")


@rule("JG304", "error", "a key URL over plain http to a host that is not loopback")
def insecure_key_url(ctx: LintContext) -> Iterator[Finding]:
    for what, url, loc in _key_urls(ctx):
        if is_insecure_url(url):
            yield insecure_key_url.finding(
                f"{what} '{url}' is plain http: anyone on the network path can substitute signing keys", loc,
                "use https; plain http is fine only for 127.0.0.1 or localhost")


@rule("JG305", "warning", "JWT auth needs JWT_PUBLIC_KEY_URL (or issuers, jwtgate.jwks), which is unset")
def no_key_source(ctx: LintContext) -> Iterator[Finding]:
    policy = ctx.policy
    settings = policy.settings
    if not policy.enable_jwt_auth or policy.jwt.issuers or settings.jwks or settings.hmac_secret:
        return
    if ctx.env.get("JWT_PUBLIC_KEY_URL", "").strip():
        return
    msg, hint = _unset_issuers_first(
        policy, "JWT auth is on but JWT_PUBLIC_KEY_URL is not set and no issuers are configured: every token "
        "fails with 'Missing JWT Public Key URL'",
        "export JWT_PUBLIC_KEY_URL=<JWKS or discovery URL> where the gateway and this lint run")
    yield no_key_source.finding(msg, ctx.where(ENABLE), hint)


def _hmac_algorithms(configured: tuple[str, ...] | None) -> tuple[str, ...]:
    """The HMAC algorithms the secret must serve: those in jwtgate.algorithms, else (no list) the weakest."""
    from jwtgate.tokens.algorithms import HMAC_ALGORITHMS
    from jwtgate.tokens.verify import allowed_algorithms

    if configured is None:
        return HMAC_ALGORITHMS[:1]
    return tuple(a for a in HMAC_ALGORITHMS if a in allowed_algorithms(configured, True))


@rule("JG306", "error", "jwtgate.hmac_secret shorter than its HMAC algorithms need (HS256 32, HS384 48, HS512 64 "
      "bytes), or a public key")
def weak_hmac_secret(ctx: LintContext) -> Iterator[Finding]:
    """The verifier's own rule (``hmac_secret_problem``) for every HMAC algorithm the config accepts."""
    secret = ctx.policy.settings.hmac_secret
    if not secret:
        return
    from jwtgate.tokens.algorithms import HMAC_MIN_SECRET_BYTES, hmac_secret_problem

    data = secret.encode("utf-8")
    problems = [(alg, p) for alg in _hmac_algorithms(ctx.policy.settings.algorithms)
                if (p := hmac_secret_problem(alg, data)) is not None]
    if not problems:
        return
    alg, problem = problems[-1]
    loc = ctx.where("jwtgate.hmac_secret", "jwtgate")
    hint = "configure a random secret of at least 64 bytes, e.g. from 'openssl rand -base64 48'"
    if problem.code == "key.weak_secret":
        message = (f"jwtgate.hmac_secret is {len(data)} bytes; {alg} needs at least {HMAC_MIN_SECRET_BYTES[alg]} "
                   f"(RFC 7518 §3.2): a short secret is cracked offline from one token, and jwtgate refuses "
                   f"{'/'.join(a for a, _ in problems)} tokens with it ({problem.code})")
    else:
        message = ("jwtgate.hmac_secret looks like a public key (PEM, SSH or JWK): anyone holding the public key "
                   "could mint HMAC tokens; jwtgate refuses every HMAC token with it")
    yield weak_hmac_secret.finding(message, loc, hint)


@rule("JG307", "error", "a model_list api_base from an os.environ/NAME whose variable is not set")
def unset_api_base(ctx: LintContext) -> Iterator[Finding]:
    if ctx.policy.settings.serve.mode != "direct":
        return  # in litellm mode the api_base is LiteLLM's to read, not jwtgate's
    for entry in ctx.policy.models:
        value = entry.params.get("api_base")
        name = env_reference(value)
        if name is None or resolve_env(value, ctx.env):
            continue
        path = f"{ctx.model_path(entry)}.litellm_params.api_base"
        yield unset_api_base.finding(
            f"model '{entry.name}' takes its api_base from environment variable {name}, which is not set: "
            "serve would send this model's requests to --upstream instead", ctx.where(path, ctx.model_path(entry)),
            f"export {name}=<the model's API base URL> where the gateway and this lint run")


RULES = (no_audience_or_issuer, audience_disabled, insecure_key_url, no_key_source, weak_hmac_secret,
         unset_api_base)
