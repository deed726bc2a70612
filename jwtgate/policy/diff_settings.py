"""Security-relevant setting changes between two policies (audience, issuer, RBAC switches, leeway, keys, and
the serve settings that change who reaches what: the mode and the roles with their own upstream credential)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from jwtgate.config.schema import RBAC_ROLES
from jwtgate.model import IssuerConfig, Policy
from jwtgate.policy.forwarding import PROXY_ADMIN
from jwtgate.policy.routing import DIRECT, model_routes

# Switching these OFF weakens security.
_SWITCHES: tuple[tuple[str, str], ...] = (
    ("general_settings.enable_jwt_auth", "enable_jwt_auth"),
    ("general_settings.litellm_jwtauth.enforce_rbac", "jwt.enforce_rbac"),
    ("general_settings.enforce_rbac", "general_enforce_rbac"),
    ("general_settings.litellm_jwtauth.enforce_scope_based_access", "jwt.enforce_scope_based_access"),
    ("general_settings.litellm_jwtauth.enforce_team_based_model_access", "jwt.enforce_team_based_model_access"),
)
# Switching these ON weakens security.
_RISKS: tuple[tuple[str, str], ...] = (
    ("jwtgate.insecure_skip_audience", "settings.insecure_skip_audience"),
    ("jwtgate.allow_kidless_single_key", "settings.allow_kidless_single_key"),
)
# Claim paths and names: a change is worth a look but says nothing by itself.
_INFO: tuple[str, ...] = (
    "admin_jwt_scope", "roles_jwt_field", "user_roles_jwt_field", "team_id_jwt_field", "team_ids_jwt_field",
    "user_id_jwt_field", "user_email_jwt_field", "object_id_jwt_field", "team_id_default",
)


@dataclass(frozen=True, slots=True)
class SettingChange:
    """A changed security-relevant setting; ``weakens`` when the new value accepts more."""

    setting: str
    old: str
    new: str
    weakens: bool
    message: str


def _get(policy: Policy, dotted: str) -> Any:
    value: Any = policy
    for part in dotted.split("."):
        value = getattr(value, part)
    return value


def _show(value: Any) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


def _switches(old: Policy, new: Policy) -> Iterator[SettingChange]:
    for setting, attr in _SWITCHES:
        a, b = _get(old, attr), _get(new, attr)
        if a != b:
            yield SettingChange(setting, _show(a), _show(b), bool(a) and not b,
                                f"{setting.rsplit('.', 1)[-1]} switched {'off' if a else 'on'}")
    for setting, attr in _RISKS:
        a, b = _get(old, attr), _get(new, attr)
        if a != b:
            yield SettingChange(setting, _show(a), _show(b), bool(b) and not a,
                                f"{setting.rsplit('.', 1)[-1]} switched {'on' if b else 'off'}")
    for name in _INFO:
        a, b = getattr(old.jwt, name), getattr(new.jwt, name)
        if a != b:
            yield SettingChange(f"general_settings.litellm_jwtauth.{name}", _show(a), _show(b), False,
                                f"{name} changed")


def _token_rules(old: Policy, new: Policy) -> Iterator[SettingChange]:
    a, b = old.settings, new.settings
    if b.leeway > a.leeway:
        yield SettingChange("jwtgate.leeway", _show(a.leeway), _show(b.leeway), True, "clock leeway raised")
    elif b.leeway < a.leeway:
        yield SettingChange("jwtgate.leeway", _show(a.leeway), _show(b.leeway), False, "clock leeway lowered")
    dropped = [c for c in a.require if c not in b.require]
    if dropped or set(b.require) - set(a.require):
        yield SettingChange("jwtgate.require", _show(a.require), _show(b.require), bool(dropped),
                            f"required claims no longer include {dropped}" if dropped else "more claims required")
    if a.algorithms != b.algorithms:
        wider = b.algorithms is None or not set(b.algorithms) <= set(a.algorithms or ())
        yield SettingChange("jwtgate.algorithms", _show(a.algorithms), _show(b.algorithms),
                            wider and a.algorithms is not None, "accepted algorithms changed")
    if (a.hmac_secret is None) != (b.hmac_secret is None):
        yield SettingChange("jwtgate.hmac_secret", "set" if a.hmac_secret else "(unset)",
                            "set" if b.hmac_secret else "(unset)", b.hmac_secret is not None,
                            "an HMAC secret now verifies tokens" if b.hmac_secret else "HMAC secret removed")
    domain_a, domain_b = old.jwt.user_allowed_email_domain, new.jwt.user_allowed_email_domain
    if domain_a != domain_b:
        yield SettingChange("general_settings.litellm_jwtauth.user_allowed_email_domain", _show(domain_a),
                            _show(domain_b), domain_a is not None, "allowed email domain changed")


def _plain_http(url: str | None) -> bool:
    return url is not None and url.lower().startswith("http://")


def _key_sources(old: Policy, new: Policy) -> Iterator[SettingChange]:
    for url in new.settings.jwks:
        if url not in old.settings.jwks:
            yield SettingChange("jwtgate.jwks", "", url, _plain_http(url),
                                "key source over plain http" if _plain_http(url) else "key source added")


def _issuer(old: IssuerConfig, new: IssuerConfig) -> Iterator[SettingChange]:
    where = f"issuers[{new.issuer}]"
    if old.audience != new.audience:
        removed = old.audience is not None and new.audience is None
        wider = new.audience is not None and not set(new.audience) <= set(old.audience or ())
        yield SettingChange(f"{where}.audience", _show(old.audience), _show(new.audience), removed or wider,
                            "audience removed: tokens for any app of this issuer are accepted" if removed
                            else "audience changed")
    if old.disable_audience_validation != new.disable_audience_validation:
        yield SettingChange(f"{where}.disable_audience_validation", _show(old.disable_audience_validation),
                            _show(new.disable_audience_validation), new.disable_audience_validation,
                            "audience validation switched " + ("off" if new.disable_audience_validation else "on"))
    if old.jwks_url != new.jwks_url:
        yield SettingChange(f"{where}.jwks_url", _show(old.jwks_url), _show(new.jwks_url),
                            _plain_http(new.jwks_url) and not _plain_http(old.jwks_url),
                            "key source changed to plain http" if _plain_http(new.jwks_url) else "key source changed")


def _issuers(old: Policy, new: Policy) -> Iterator[SettingChange]:
    before = {c.issuer: c for c in old.jwt.issuers}
    after = {c.issuer: c for c in new.jwt.issuers}
    if before and not after:
        yield SettingChange("general_settings.litellm_jwtauth.issuers", _show(tuple(before)), "(unset)", True,
                            "issuer binding removed: 'iss' is no longer checked against a trusted issuer")
        return
    for name in after.keys() - before.keys():
        yield SettingChange(f"issuers[{name}]", "(absent)", "trusted", True, f"new trusted issuer {name}")
    for name in before.keys() - after.keys():
        yield SettingChange(f"issuers[{name}]", "trusted", "(absent)", False, f"issuer {name} no longer trusted")
    for name in sorted(before.keys() & after.keys()):
        yield from _issuer(before[name], after[name])


def _go(models: list[str]) -> str:
    return f"{', '.join(models)} {'goes' if len(models) == 1 else 'go'}"


def _their(models: list[str]) -> str:
    return "its" if len(models) == 1 else "their"


def _direct_models(policy: Policy) -> list[str]:
    """The models serve sends straight to their api_base (past the LiteLLM proxy) in the policy's mode."""
    return [r.name for r in model_routes(policy, policy.settings.serve.mode) if r.api_base is not None]


def _mode(old: Policy, new: Policy) -> Iterator[SettingChange]:
    a, b = old.settings.serve.mode, new.settings.serve.mode
    if a == b == DIRECT:
        yield from _direct_change(old, new)
    if a == b:
        return
    direct = _direct_models(new)
    if b == DIRECT:
        message = (f"serve mode switched to direct: {_go(direct)} straight to {_their(direct)} api_base with the "
                   "config's api_key, past the LiteLLM proxy and its keys, budgets and limits" if direct else
                   "serve mode switched to direct (no model has an api_base: every request still goes upstream)")
    else:
        message = f"serve mode switched to {b}: every request goes to the upstream LiteLLM proxy"
    yield SettingChange("jwtgate.serve.mode", a, b, bool(direct), message)


def _direct_change(old: Policy, new: Policy) -> Iterator[SettingChange]:
    """In direct mode both times: models that start or stop going past the LiteLLM proxy (an api_base)."""
    before, after = _direct_models(old), _direct_models(new)
    gained = [m for m in after if m not in before]
    if gained or len(after) != len(before):
        message = (f"{_go(gained)} straight to {_their(gained)} api_base now, past the LiteLLM proxy" if gained
                   else "fewer models go straight to their api_base")
        yield SettingChange("jwtgate.serve.mode (direct): models with an api_base", _show(tuple(before)),
                            _show(tuple(after)), bool(gained), message)


_SCOPED = "health, key, user, team, spend and management"  # forwarding.py's groups that need the role's own key


def _keyed_roles(policy: Policy) -> set[str]:
    """Roles the config gives an upstream credential, also when its os.environ/ variable is not set here
    (diff runs where the gateway's secrets usually are not)."""
    named = {r for r in RBAC_ROLES if policy.where(f"jwtgate.serve.upstream_keys.{r}") is not None}
    return named | set(policy.settings.serve.upstream_keys)


def _upstream_keys(old: Policy, new: Policy) -> Iterator[SettingChange]:
    """Roles that gained or lost their own upstream credential; the credentials themselves are never shown."""
    a, b = old.settings.serve.upstream_keys, new.settings.serve.upstream_keys
    before, after = _keyed_roles(old), _keyed_roles(new)
    for role in sorted(before | after, key=RBAC_ROLES.index):
        setting = f"jwtgate.serve.upstream_keys.{role}"
        if role not in before:
            wider = role != PROXY_ADMIN
            reach = (f": its allowed {_SCOPED} routes are now forwarded instead of refused" if wider else "")
            yield SettingChange(setting, "(unset)", "set", wider,
                                f"{role} requests go upstream with the role's own credential{reach}")
        elif role not in after:
            reach = f" (its {_SCOPED} routes are refused again)" if role != PROXY_ADMIN else ""
            yield SettingChange(setting, "set", "(unset)", False,
                                f"{role} requests go upstream with the shared credential again{reach}")
        elif role in a and role in b and a[role] != b[role]:
            yield SettingChange(setting, "set", "set (another)", False,
                                f"{role}'s upstream credential changed (credentials are never shown)")


def setting_changes(old: Policy, new: Policy) -> tuple[SettingChange, ...]:
    """Every security-relevant setting that differs, weakening ones flagged."""
    return (*_switches(old, new), *_token_rules(old, new), *_key_sources(old, new), *_issuers(old, new),
            *_mode(old, new), *_upstream_keys(old, new))
