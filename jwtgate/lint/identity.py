"""Identity rules: the headers ``jwtgate.identity`` sets, and Entra ID's group overage."""

from __future__ import annotations

from collections.abc import Iterator

from jwtgate.lint.base import JWT, LintContext, rule
from jwtgate.model import Finding
from jwtgate.policy.claims import split_path
from jwtgate.policy.decision import GLOBAL_FIELDS, OVERAGE_HINT, read_paths
from jwtgate.policy.identity import header_name_problem

HEADERS = "jwtgate.identity.headers"
ENTRA_HOSTS = ("login.microsoftonline.com", "sts.windows.net", "login.microsoft.com")


@rule("JG130", "error", "a jwtgate.identity header name that cannot be set from a claim (hop-by-hop, "
      "credential, invalid or repeated)")
def identity_headers(ctx: LintContext) -> Iterator[Finding]:
    policy = ctx.policy
    names = [p[len(HEADERS) + 1:] for p in policy.locations if p.startswith(HEADERS + ".")]
    serve = policy.settings.serve
    own = {serve.subject_header.lower(): "jwtgate.serve.subject_header", serve.role_header.lower():
           "jwtgate.serve.role_header"}
    seen: set[str] = set()
    for name in names:
        where = ctx.where(f"{HEADERS}.{name}", HEADERS)
        problem = header_name_problem(name)
        if problem is None and name.lower() in seen:
            problem = "is configured twice (header names are case-insensitive)"
        if problem is None and name.lower() in own:
            problem = f"is already set by jwtgate ({own[name.lower()]})"
        seen.add(name.lower())
        if problem is not None:
            yield identity_headers.finding(f"identity header '{name}' {problem}", where,
                                           "choose another name, e.g. X-Jwtgate-User or x-litellm-end-user-id")


@rule("JG131", "warning", "general_settings.user_header_name (LiteLLM's end-user header) that clients can set: "
      "jwtgate.identity does not own it")
def litellm_user_header(ctx: LintContext) -> Iterator[Finding]:
    identity = ctx.policy.settings.identity
    name = identity.litellm_user_header
    if name is None or identity.user_field is not None:
        return
    if name.lower() in {n.lower() for n, _ in identity.headers}:
        return
    yield litellm_user_header.finding(
        f"LiteLLM takes the request's end user from header '{name}', which jwtgate forwards as the client sent "
        "it: any caller can be billed as someone else", ctx.where("general_settings.user_header_name"),
        f"set it from the token: jwtgate.identity.headers: {{{name}: sub}} (or set jwtgate.identity.user_field)")


def _entra_issuers(ctx: LintContext) -> list[str]:
    policy = ctx.policy
    urls = [c.issuer for c in policy.jwt.issuers] + [c.jwks_url or "" for c in policy.jwt.issuers]
    urls += [policy.env_issuer or "", *policy.public_key_urls, *policy.settings.jwks]
    return [u for u in urls if any(host in u for host in ENTRA_HOSTS)]


@rule("JG220", "info", "an Entra ID issuer whose roles come from 'groups' (users in many groups get no "
      "'groups' claim: group overage)")
def entra_groups(ctx: LintContext) -> Iterator[Finding]:
    if not _entra_issuers(ctx):
        return
    for setting, path in read_paths(ctx.policy, None):
        if setting in GLOBAL_FIELDS and setting != "object_id_jwt_field" and split_path(path)[0] == "groups":
            yield entra_groups.finding(
                f"{setting} reads '{path}' from Entra ID tokens: a user in more than 200 groups (150 in SAML) gets "
                "no 'groups' claim, and jwtgate refuses the token (claims.overage)",
                ctx.where(f"{JWT}.{setting}", JWT), OVERAGE_HINT)

RULES = (identity_headers, litellm_user_header, entra_groups)
