"""YAML (ruamel, round-trip to keep line:col) -> validated, immutable Policy.

Loading never raises on a bad value: schema problems become Findings (JG0xx syntax, JG1xx schema,
JG301 unset environment variables) kept on the Policy, and the value falls back to its default.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jwtgate.config import schema as S
from jwtgate.config.env import env_reference, resolve_env
from jwtgate.config.yaml_text import did_you_mean, kind_of, parse_yaml, plain, read_text
from jwtgate.errors import ConfigError
from jwtgate.model import (
    Finding,
    IdentitySettings,
    IssuerConfig,
    JwtAuth,
    Location,
    ModelEntry,
    Policy,
    RoleMapping,
    RolePermission,
    ScopeMapping,
    ServeSettings,
    Settings,
    Severity,
)

# Schema problems for which LiteLLM refuses to load the config (pydantic validation of LiteLLM_JWTAuth and
# RoleBasedPermissions at start-up): an unknown key, a wrong type, a value outside the choices, a missing key.
_REFUSING_CODES = frozenset({"JG101", "JG102", "JG103", "JG106"})
_REFUSING_PATHS = ("general_settings.litellm_jwtauth", "general_settings.role_permissions")


def refused_by_litellm(code: str, path: str) -> bool:
    """Does a loader finding at ``path`` mean LiteLLM refuses to load the config?"""
    return code in _REFUSING_CODES and path.startswith(_REFUSING_PATHS)


@dataclass
class _Ctx:
    file: str
    env: Mapping[str, str]
    findings: list[Finding] = field(default_factory=list)
    locations: dict[str, Location] = field(default_factory=dict)
    refusals: list[Finding] = field(default_factory=list)

    def add(self, code: str, severity: Severity, message: str, loc: Location,
            hint: str | None = None, path: str = "") -> None:
        finding = Finding(code, severity, message, loc, hint)
        self.findings.append(finding)
        if refused_by_litellm(code, path):
            self.refusals.append(finding)


def load_policy_file(path: str, env: Mapping[str, str]) -> Policy:
    """Read and load a config; only an unreadable file raises (UsageError)."""
    text, name = read_text(path)
    return load_policy(text, name, env)


# Findings after which a file is not a config at all (nothing else is checked, no command runs on it).
UNLOADABLE = ("JG001", "JG002", "JG003", "JG004", "JG005")


def load_policy(text: str, file: str, env: Mapping[str, str]) -> Policy:
    """Build the Policy from YAML text; every problem is a Finding on the result."""
    ctx = _Ctx(file, env)
    root, syntax = parse_yaml(text, file)
    ctx.findings.extend(syntax)
    if root is None and not syntax:
        ctx.add("JG003", "error", "the config is empty", Location(file, 1, 1),
                "add a model_list and general_settings")
    if root is not None and not isinstance(root, dict):
        ctx.add("JG002", "error", f"the config's top level is a {kind_of(root)}, not a mapping",
                _loc_of(ctx, root))
        root = None
    if _is_test_file(root):
        ctx.add("JG005", "error", "this looks like a policy test file (top-level 'cases'), not a gateway config",
                _key_loc(ctx, root, "cases"), f"run 'jwtgate test {file}'")
        root = None
    top: dict[str, Any] = root if isinstance(root, dict) else {}
    _check_open_keys(ctx, top, S.TOP_LEVEL_KNOWN, "", "top level")
    general = _mapping_at(ctx, top, "general_settings", "general_settings")
    _check_open_keys(ctx, general, S.GENERAL_SETTINGS_KNOWN, "general_settings", "general_settings")
    jwt_raw = _walk_mapping(ctx, general, "litellm_jwtauth", S.LITELLM_JWTAUTH,
                            "general_settings.litellm_jwtauth")
    jg_raw = _walk_mapping(ctx, top, "jwtgate", S.JWTGATE, "jwtgate")
    _check_identity_paths(ctx, (jg_raw.get("identity") or {}).get("headers") or {})
    return Policy(
        file=file,
        enable_jwt_auth=_scalar(ctx, general, "enable_jwt_auth", S.Field(S.BOOL, False), "general_settings"),
        jwt=_build_jwt(jwt_raw),
        role_permissions=_build_role_permissions(ctx, general),
        general_enforce_rbac=_truthy(ctx, general, "enforce_rbac", "general_settings"),
        models=_build_models(ctx, top),
        settings=_build_settings(jg_raw, _scalar(ctx, general, "user_header_name", S.Field(S.STR),
                                                 "general_settings")),
        public_key_urls=tuple(u.strip() for u in env.get("JWT_PUBLIC_KEY_URL", "").split(",") if u.strip()),
        env_audience=env.get("JWT_AUDIENCE") or None,
        env_issuer=env.get("JWT_ISSUER") or None,
        locations=ctx.locations,
        findings=tuple(sorted(ctx.findings, key=Finding.sort_key)),
        refusals=tuple(ctx.refusals),
    )


# --- positions ---------------------------------------------------------------------------------------


def _loc_of(ctx: _Ctx, node: Any) -> Location:
    lc = getattr(node, "lc", None)
    if lc is not None and lc.line is not None:
        return Location(ctx.file, lc.line + 1, lc.col + 1)
    return Location(ctx.file, 1, 1)


def _key_loc(ctx: _Ctx, node: Any, key: Any) -> Location:
    try:
        line, col = node.lc.key(key)
        return Location(ctx.file, line + 1, col + 1)
    except Exception:
        return _loc_of(ctx, node)


def _value_loc(ctx: _Ctx, node: Any, key: Any) -> Location:
    try:
        line, col = node.lc.value(key)
        return Location(ctx.file, line + 1, col + 1)
    except Exception:
        return _key_loc(ctx, node, key)


def _item_loc(ctx: _Ctx, node: Any, index: int) -> Location:
    try:
        line, col = node.lc.item(index)
        return Location(ctx.file, line + 1, col + 1)
    except Exception:
        return _loc_of(ctx, node)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


# --- validation --------------------------------------------------------------------------------------


def _unknown_key(ctx: _Ctx, node: Any, key: Any, options: Any, where: str, severity: Severity,
                 path: str = "") -> None:
    name = str(key)
    guess = did_you_mean(name, options)
    hint = f"did you mean '{guess}'?" if guess else None
    msg = f"unknown key '{name}' in {where}"
    code = "JG101" if severity == "error" else "JG112"  # JG112: open mapping, looks like a typo
    ctx.add(code, severity, msg + (" (LiteLLM rejects or ignores it)" if severity == "error" else ""),
            _key_loc(ctx, node, key), hint, path)


def _check_open_keys(ctx: _Ctx, node: dict[str, Any], known: Any, path: str, where: str) -> None:
    """Open mappings: report only keys that look like typos of known ones."""
    for key in node:
        ctx.locations[_join(path, str(key))] = _key_loc(ctx, node, key)
        if key not in known and did_you_mean(str(key), known):
            _unknown_key(ctx, node, key, known, where, "warning")


def _mapping_at(ctx: _Ctx, parent: dict[str, Any], key: str, path: str) -> dict[str, Any]:
    value = parent.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        ctx.add("JG102", "error", f"'{path}' must be a mapping, not a {kind_of(value)}",
                _value_loc(ctx, parent, key), path=path)
        return {}
    return value


def _resolve_env(ctx: _Ctx, value: str, loc: Location) -> str | None:
    resolved = resolve_env(value, ctx.env)
    if resolved is not None:
        return resolved
    name = env_reference(value)
    ctx.add("JG301", "warning", f"environment variable {name} is not set (referenced as '{value}')", loc,
            f"export {name}=... before starting the gateway")
    return None


def _coerce(ctx: _Ctx, value: Any, spec: S.Field, path: str, loc: Location) -> tuple[bool, Any]:
    """Check a scalar/list value against its kind; returns (ok, python value)."""
    kind = spec.kind
    if kind == S.STR and isinstance(value, str):
        resolved = _resolve_env(ctx, value, loc)
        if spec.choices is not None and resolved is not None and resolved not in spec.choices:
            guess = did_you_mean(resolved, spec.choices)
            ctx.add("JG103", "error", f"'{path}' is '{resolved}'; allowed: {', '.join(spec.choices)}", loc,
                    f"did you mean '{guess}'?" if guess else None, path)
            return False, None
        return True, resolved
    if kind == S.BOOL and isinstance(value, bool):
        return True, bool(value)
    if kind == S.NUM and isinstance(value, int | float) and not isinstance(value, bool):
        return True, float(value)
    if kind == S.INT and isinstance(value, int) and not isinstance(value, bool):
        return True, int(value)
    if kind in (S.STR_LIST, S.STR_OR_LIST) and isinstance(value, list):
        items: list[str] = []
        for i, item in enumerate(value):
            iloc = _item_loc(ctx, value, i)
            ctx.locations[f"{path}[{i}]"] = iloc
            if not isinstance(item, str):
                ctx.add("JG102", "error", f"'{path}[{i}]' must be a string, not a {kind_of(item)}", iloc,
                        path=path)
                continue
            resolved = _resolve_env(ctx, item, iloc)
            if resolved is not None:
                items.append(resolved)
        return True, tuple(items)
    if kind == S.STR_OR_LIST and isinstance(value, str):
        resolved = _resolve_env(ctx, value, loc)
        return True, None if resolved is None else (resolved,)
    if kind == S.ANY:
        return True, value
    lax = _lax(value, kind)
    if lax is not None:
        msg = f"'{path}' is {value!r}; LiteLLM converts it to {_yaml_scalar(lax)}"
        ctx.add("JG111", "warning", msg, loc,
                f"write {_yaml_scalar(lax)} without quotes")
        return True, lax
    ctx.add("JG102", "error", f"'{path}' must be a {kind}, not a {kind_of(value)}", loc, path=path)
    return False, None


_LAX_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_LAX_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})


def _lax(value: Any, kind: str) -> bool | float | int | None:
    """What pydantic's lax mode (as LiteLLM loads its config) makes of a quoted bool/number, else None."""
    if kind == S.BOOL and isinstance(value, str | int) and not isinstance(value, bool):
        text = str(value).strip().lower()
        return True if text in _LAX_TRUE else False if text in _LAX_FALSE else None
    if kind in (S.NUM, S.INT) and isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        if kind == S.NUM:
            return number
        return int(number) if number.is_integer() else None
    return None


def _yaml_scalar(value: bool | float | int) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _scalar(ctx: _Ctx, node: dict[str, Any], key: str, spec: S.Field, path: str) -> Any:
    if key in node and node[key] is None and spec.default is not None and refused_by_litellm("JG102", path):
        full = _join(path, key)
        ctx.add("JG102", "error", f"'{full}' is null; LiteLLM requires a {spec.kind} here and refuses to start",
                _value_loc(ctx, node, key), f"remove the key to get the default ({_default_text(spec.default)})",
                full)
        return spec.default
    if key not in node or node[key] is None:
        return spec.default
    full = _join(path, key)
    loc = _value_loc(ctx, node, key)
    ctx.locations[full] = _key_loc(ctx, node, key)
    ok, value = _coerce(ctx, node[key], spec, full, loc)
    if ok and spec.positive and not _is_positive(value):
        ctx.add("JG103", "error", f"'{full}' is {node[key]!r}; it must be a positive number", loc,
                f"use a finite number above 0, e.g. {key}: {spec.default:g} (the default)", full)
        return spec.default
    return value if ok else spec.default


def _is_positive(value: float | int) -> bool:
    return math.isfinite(value) and value > 0


def _truthy(ctx: _Ctx, node: dict[str, Any], key: str, path: str) -> bool:
    """A flag LiteLLM reads as ``bool(value)``: any non-empty string, even "false", is on."""
    if key not in node:
        return False
    full = _join(path, key)
    ctx.locations[full] = _key_loc(ctx, node, key)
    value = node[key]
    if value is not None and not isinstance(value, bool):
        ctx.add("JG111", "warning", f"'{full}' is {value!r}; LiteLLM reads it as bool(value), which is "
                f"{_yaml_scalar(bool(value))}", _value_loc(ctx, node, key),
                f"write {_yaml_scalar(bool(value))} without quotes")
    return bool(value)


def _default_text(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return _yaml_scalar(value) if isinstance(value, bool | int | float) else str(value)


def _walk_mapping(ctx: _Ctx, parent: dict[str, Any], key: str, schema: S.Schema, path: str) -> dict[str, Any]:
    """Validate ``parent[key]`` against a schema; returns resolved values (defaults filled in)."""
    node = _mapping_at(ctx, parent, key, path)
    if key in parent:
        ctx.locations[path] = _key_loc(ctx, parent, key)
    return _walk_node(ctx, node, schema, path)


def _walk_node(ctx: _Ctx, node: dict[str, Any], schema: S.Schema, path: str) -> dict[str, Any]:
    out: dict[str, Any] = {name: spec.default for name, spec in schema.fields.items()}
    for key in node:
        name = str(key)
        full = _join(path, name)
        spec = schema.fields.get(name)
        if spec is None:
            ctx.locations[full] = _key_loc(ctx, node, key)
            if schema.closed:
                _unknown_key(ctx, node, key, schema.fields, schema.name, "error", full)
            else:
                out[name] = node[key]
            continue
        if spec.kind == "list" and spec.items is not None:
            ctx.locations[full] = _key_loc(ctx, node, key)
            out[name] = _walk_list(ctx, node, name, spec.items, full)
        elif spec.kind == S.MAPPING and spec.items is not None:
            out[name] = _walk_mapping(ctx, node, name, spec.items, full)
        else:
            out[name] = _scalar(ctx, node, name, spec, path)
    for name, spec in schema.fields.items():
        if spec.required and node.get(name) is None:
            ctx.add("JG106", "error", f"{schema.name} is missing required key '{name}'", _loc_of(ctx, node),
                    path=path)
    return out


def _walk_list(ctx: _Ctx, node: dict[str, Any], key: str, item: S.Schema,
               path: str) -> tuple[dict[str, Any], ...] | None:
    value = node.get(key)
    if value is None:
        return None
    if not isinstance(value, list):
        ctx.add("JG102", "error", f"'{path}' must be a list, not a {kind_of(value)}",
                _value_loc(ctx, node, key), path=path)
        return None
    items: list[dict[str, Any]] = []
    for i, entry in enumerate(value):
        ipath = f"{path}[{i}]"
        iloc = _item_loc(ctx, value, i)
        ctx.locations[ipath] = iloc
        if not isinstance(entry, dict):
            ctx.add("JG102", "error", f"'{ipath}' must be a mapping ({item.name}), not a {kind_of(entry)}",
                    iloc, path=ipath)
            continue
        walked = _walk_node(ctx, entry, item, ipath)
        walked["__location__"] = iloc
        walked["__path__"] = ipath
        walked["__unset__"] = tuple(n for k, v in entry.items() if (n := env_reference(v)) and walked.get(k) is None)
        items.append(walked)
    return tuple(items)


# --- building --------------------------------------------------------------------------------------


def _build_models(ctx: _Ctx, top: dict[str, Any]) -> tuple[ModelEntry, ...]:
    value = top.get("model_list")
    if value is None:
        return ()
    if not isinstance(value, list):
        ctx.add("JG102", "error", f"'model_list' must be a list, not a {kind_of(value)}",
                _value_loc(ctx, top, "model_list"))
        return ()
    ctx.locations["model_list"] = _key_loc(ctx, top, "model_list")
    walked = _walk_list(ctx, top, "model_list", S.MODEL_ENTRY, "model_list") or ()
    models: list[ModelEntry] = []
    for entry in walked:
        name = entry.get("model_name")
        if not isinstance(name, str):
            continue
        params = entry.get("litellm_params") or {}
        info = plain(entry.get("model_info") or {})
        models.append(ModelEntry(name, plain(params), info, entry["__location__"]))
        ctx.locations[f"{entry['__path__']}.model_name"] = entry["__location__"]
    return tuple(models)


def _build_role_permissions(ctx: _Ctx, general: dict[str, Any]) -> tuple[RolePermission, ...]:
    if "role_permissions" not in general:
        return ()
    ctx.locations["general_settings.role_permissions"] = _key_loc(ctx, general, "role_permissions")
    walked = _walk_list(ctx, general, "role_permissions", S.ROLE_PERMISSION,
                        "general_settings.role_permissions")
    return tuple(
        RolePermission(e["role"], e["models"], e["routes"], e["__location__"])
        for e in walked or ()
        if isinstance(e.get("role"), str)
    )


# litellm_jwtauth settings JwtAuth takes as the schema gives them (claim paths, names, the email domain)
_JWT_AS_GIVEN = (
    "admin_jwt_scope", "team_id_jwt_field", "team_ids_jwt_field", "team_id_default", "team_alias_jwt_field",
    "user_id_jwt_field", "user_email_jwt_field", "user_allowed_email_domain", "user_roles_jwt_field",
    "user_allowed_roles", "org_id_jwt_field", "end_user_id_jwt_field", "object_id_jwt_field", "roles_jwt_field",
)


def _build_jwt(raw: dict[str, Any]) -> JwtAuth:
    mappings = tuple(
        RoleMapping(e["role"], e["internal_role"], e["__location__"])
        for e in raw.get("role_mappings") or ()
        if isinstance(e.get("role"), str) and isinstance(e.get("internal_role"), str)
    )
    scopes = tuple(
        ScopeMapping(e["scope"], e["models"], e["routes"], e["__location__"])
        for e in raw.get("scope_mappings") or ()
        if isinstance(e.get("scope"), str)
    )
    issuers = tuple(
        IssuerConfig(
            issuer=e["issuer"],
            audience=e["audience"],
            disable_audience_validation=bool(e["disable_audience_validation"]),
            jwks_url=e["jwks_url"],
            fields={k: e[k] for k in S.ISSUER_FIELD_OVERRIDES if e.get(k)},
            location=e["__location__"],
        )
        for e in raw.get("issuers") or ()
        if isinstance(e.get("issuer"), str)
    )
    return JwtAuth(
        **{name: raw[name] for name in _JWT_AS_GIVEN},
        admin_allowed_routes=tuple(raw["admin_allowed_routes"]),
        team_allowed_routes=tuple(raw["team_allowed_routes"]),
        role_mappings=mappings,
        scope_mappings=scopes,
        enforce_rbac=bool(raw["enforce_rbac"]),
        enforce_scope_based_access=bool(raw["enforce_scope_based_access"]),
        enforce_team_based_model_access=bool(raw["enforce_team_based_model_access"]),
        public_key_ttl=float(raw["public_key_ttl"]),
        public_key_stale_ttl=float(raw["public_key_stale_ttl"]),
        issuers=issuers,
        raw={k: v for k, v in raw.items()},
        unset_issuers=tuple(n for e in raw.get("issuers") or () if e.get("issuer") is None
                            for n in e["__unset__"][:1]),
    )


def _build_settings(raw: dict[str, Any], litellm_user_header: str | None) -> Settings:
    serve = raw.get("serve") or {}
    lint = raw.get("lint") or {}
    serve_defaults = {name: spec.default for name, spec in S.SERVE.fields.items()}
    sv = {**serve_defaults, **{k: v for k, v in serve.items() if k in serve_defaults and v is not None}}
    sv["upstream_keys"] = {role: key for role, key in (sv["upstream_keys"] or {}).items() if key}
    return Settings(
        leeway=float(raw["leeway"]),
        require=tuple(raw["require"]),
        max_token_bytes=int(raw["max_token_bytes"]),
        key_refetch_cooldown=float(raw["key_refetch_cooldown"]),
        fetch_timeout=float(raw["fetch_timeout"]),
        max_jwks_bytes=int(raw["max_jwks_bytes"]),
        allow_kidless_single_key=bool(raw["allow_kidless_single_key"]),
        algorithms=tuple(raw["algorithms"]) if raw["algorithms"] is not None else None,
        hmac_secret=raw["hmac_secret"],
        jwks=tuple(raw["jwks"] or ()),
        insecure_skip_audience=bool(raw["insecure_skip_audience"]),
        serve=ServeSettings(**sv),
        identity=_build_identity(raw.get("identity") or {}, litellm_user_header),
        lint_ignore=tuple(lint.get("ignore") or ()),
        lint_severity=plain(dict(lint.get("severity") or {})),
    )


def _check_identity_paths(ctx: _Ctx, headers: dict[str, Any]) -> None:
    for name, path in headers.items():
        if not isinstance(path, str) or not path:
            full = f"jwtgate.identity.headers.{name}"
            ctx.add("JG102", "error", f"'{full}' must be a claim path (a string), not a {kind_of(path)}",
                    ctx.locations.get(full, Location(ctx.file, 1, 1)), f"write e.g. '{name}: sub'")


def _build_identity(raw: dict[str, Any], litellm_user_header: str | None) -> IdentitySettings:
    """Header names and claim paths as written (lint JG130 reports bad names), and LiteLLM's end-user header."""
    headers = raw.get("headers") or {}
    pairs = tuple((str(name), path) for name, path in headers.items() if isinstance(path, str) and path)
    user_field = raw.get("user_field")
    return IdentitySettings(pairs, user_field if isinstance(user_field, str) and user_field else None,
                            litellm_user_header.strip() or None if isinstance(litellm_user_header, str) else None)


def _is_test_file(root: Any) -> bool:
    """A mapping whose keys are those of a ``jwtgate test`` file (a 'cases' list, maybe config/jwks)."""
    return isinstance(root, dict) and isinstance(root.get("cases"), list) and all(k in S.TEST_FILE_KEYS for k in root)


def require_loadable(policy: Policy) -> Policy:
    """For commands other than lint: refuse a config that could not be parsed, or that LiteLLM refuses."""
    from jwtgate.config.refusals import litellm_refusals

    fatal = [f for f in policy.findings if f.code in UNLOADABLE]
    if fatal:
        f = fatal[0]
        raise ConfigError(f"{f.code} {f.message}", code="config.invalid", location=f.location,
                          hint=f.hint if f.code == "JG005" else "run 'jwtgate lint' on the config")
    refused = litellm_refusals(policy)
    if refused:
        f = refused[0]
        raise ConfigError(f"{f.code} {f.message} (LiteLLM refuses to load this config, so jwtgate does not "
                          "decide on it)", code="config.litellm_refuses", location=f.location,
                          hint=f.hint or "run 'jwtgate lint' on the config")
    return policy
