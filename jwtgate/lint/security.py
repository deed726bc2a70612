"""Security: who may mint accepted tokens, and where the keys come from."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from urllib.parse import urlsplit

from jwtgate.lint.base import LintContext, rule
from jwtgate.model import Finding, Location

ENABLE = "general_settings.enable_jwt_auth"


def _global_path_open(ctx: LintContext) -> bool:
    """True when some tokens are verified by the global (issuer-less) path."""
    policy = ctx.policy
    return not policy.jwt.issuers or bool(ctx.env.get("JWT_PUBLIC_KEY_URL", "").strip()) or bool(
        policy.settings.jwks)


@rule("JG302", "error", "JWT auth with no audience and no issuer configured anywhere")
def no_audience_or_issuer(ctx: LintContext) -> Iterator[Finding]:
    policy = ctx.policy
    if not policy.enable_jwt_auth or not _global_path_open(ctx):
        return
    if ctx.env.get("JWT_AUDIENCE") or ctx.env.get("JWT_ISSUER"):
        return
    if policy.jwt.issuers:
        msg = ("tokens whose iss matches no issuers entry fall back to JWT_PUBLIC_KEY_URL, and JWT_AUDIENCE "
               "and JWT_ISSUER are unset: any app on those identity providers is accepted")
    else:
        msg = ("JWT auth is on but JWT_AUDIENCE and JWT_ISSUER are unset and there are no issuers: tokens "
               "minted for any app on the same identity provider are accepted")
    hint = "set JWT_AUDIENCE and ideally JWT_ISSUER, or configure litellm_jwtauth.issuers"
    yield no_audience_or_issuer.finding(msg, ctx.where(ENABLE), hint)


@rule("JG303", "warning", "audience validation disabled (disable_audience_validation and the like)")
def audience_disabled(ctx: LintContext) -> Iterator[Finding]:
    for entry in ctx.raw_entries("issuers"):
        if entry.get("disable_audience_validation"):
            path = f"{entry['__path__']}.disable_audience_validation"
            yield audience_disabled.finding(
                f"issuer '{entry.get('issuer')}' accepts tokens minted for any audience", ctx.where(path),
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
    for entry in ctx.raw_entries("issuers"):
        path = entry["__path__"]
        jwks_url = entry.get("jwks_url")
        if isinstance(jwks_url, str):
            yield "issuers jwks_url", jwks_url, ctx.where(f"{path}.jwks_url", path)
        elif isinstance(entry.get("issuer"), str):
            yield "issuer (its discovery document)", entry["issuer"], ctx.where(f"{path}.issuer", path)
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
    yield no_key_source.finding(
        "JWT auth is on but JWT_PUBLIC_KEY_URL is not set and no issuers are configured: every token fails "
        "with 'Missing JWT Public Key URL'", ctx.where(ENABLE),
        "export JWT_PUBLIC_KEY_URL=<JWKS or discovery URL> where the gateway and this lint run")


# RFC 7518 §3.2: an HMAC key at least as long as the hash output (HS256: 32 bytes; HS384 48, HS512 64).
MIN_HMAC_SECRET_BYTES = 32
_PUBLIC_KEY_MARKERS = (b"-----BEGIN", b"ssh-", b"ecdsa-sha2-", b"{")


@rule("JG306", "error", "jwtgate.hmac_secret shorter than 32 bytes, or a public key")
def weak_hmac_secret(ctx: LintContext) -> Iterator[Finding]:
    secret = ctx.policy.settings.hmac_secret
    if not secret:
        return
    data = secret.encode("utf-8")
    loc = ctx.where("jwtgate.hmac_secret", "jwtgate")
    hint = "configure a random secret of at least 64 bytes, e.g. from 'openssl rand -base64 48'"
    if data.lstrip().startswith(_PUBLIC_KEY_MARKERS):
        yield weak_hmac_secret.finding(
            "jwtgate.hmac_secret looks like a public key (PEM, SSH or JWK): anyone holding the public key "
            "could mint HS256 tokens; jwtgate refuses every HMAC token with it", loc, hint)
    elif len(data) < MIN_HMAC_SECRET_BYTES:
        yield weak_hmac_secret.finding(
            f"jwtgate.hmac_secret is {len(data)} bytes; HS256 needs at least {MIN_HMAC_SECRET_BYTES} (HS384 48, "
            "HS512 64, RFC 7518 §3.2): a short secret is cracked offline from one token, and jwtgate refuses "
            "HMAC tokens with it", loc, hint)


RULES = (no_audience_or_issuer, audience_disabled, insecure_key_url, no_key_source, weak_hmac_secret)
