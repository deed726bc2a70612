"""Frozen value types shared by the core, the CLI and the server."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]


@dataclass(frozen=True, slots=True)
class Location:
    """A 1-based place in a file."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Finding:
    """One lint result."""

    code: str
    severity: Severity
    message: str
    location: Location
    hint: str | None = None

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.location.file, self.location.line, self.location.column, self.code)


@dataclass(frozen=True, slots=True)
class Suppressed:
    """A finding lint does not report, and why: an inline comment (inSource) or a setting (external)."""

    finding: Finding
    kind: Literal["inSource", "external"]
    justification: str
    source: str  # "comment", "jwtgate.lint.ignore", "--ignore", "--select"
    location: Location | None = None  # where the suppression is written (None: the command line)


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a token was refused or a request denied: a stable code and a message a person can act on."""

    code: str
    message: str
    location: Location | None = None


@dataclass(frozen=True, slots=True)
class Request:
    """What the caller asks for: a model (or none) on a route."""

    model: str | None = None
    route: str = "/v1/chat/completions"  # policy.routes.DEFAULT_ROUTE (a leaf imports nothing; a test keeps them equal)
    model_expected: bool = False  # a model call (its body should name a model), as serve sees POST /v1/chat/...


StepStatus = Literal["ok", "fail", "skip", "info", "warn"]


@dataclass(frozen=True, slots=True)
class Step:
    """One line of a decision trace."""

    name: str
    status: StepStatus
    detail: str
    location: Location | None = None
    data: dict[str, Any] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------------
# The loaded policy: what config.py builds and every command and the server read.


@dataclass(frozen=True, slots=True)
class ModelEntry:
    """A ``model_list`` entry."""

    name: str
    params: dict[str, Any]
    info: dict[str, Any]
    location: Location


@dataclass(frozen=True, slots=True)
class RolePermission:
    """A ``role_permissions`` entry; ``None`` means unrestricted."""

    role: str
    models: tuple[str, ...] | None
    routes: tuple[str, ...] | None
    location: Location


@dataclass(frozen=True, slots=True)
class RoleMapping:
    """``role_mappings``: an IdP role value -> a gateway role."""

    role: str
    internal_role: str
    location: Location


@dataclass(frozen=True, slots=True)
class ScopeMapping:
    """``scope_mappings``: a scope -> the models it unlocks."""

    scope: str
    models: tuple[str, ...] | None
    routes: tuple[str, ...] | None
    location: Location


@dataclass(frozen=True, slots=True)
class IssuerConfig:
    """One trusted issuer: where its keys are and which audience its tokens must carry."""

    issuer: str
    audience: tuple[str, ...] | None
    disable_audience_validation: bool
    jwks_url: str | None
    fields: dict[str, str]
    location: Location | None


@dataclass(frozen=True, slots=True)
class JwtAuth:
    """``general_settings.litellm_jwtauth`` with LiteLLM's defaults applied."""

    admin_jwt_scope: str
    admin_allowed_routes: tuple[str, ...]
    team_allowed_routes: tuple[str, ...]
    team_id_jwt_field: str | None
    team_ids_jwt_field: str | None
    team_id_default: str | None
    team_alias_jwt_field: str | None
    user_id_jwt_field: str | None
    user_email_jwt_field: str | None
    user_allowed_email_domain: str | None
    user_roles_jwt_field: str | None
    user_allowed_roles: tuple[str, ...] | None
    org_id_jwt_field: str | None
    end_user_id_jwt_field: str | None
    object_id_jwt_field: str | None
    roles_jwt_field: str | None
    role_mappings: tuple[RoleMapping, ...]
    scope_mappings: tuple[ScopeMapping, ...]
    enforce_rbac: bool
    enforce_scope_based_access: bool
    enforce_team_based_model_access: bool
    public_key_ttl: float
    public_key_stale_ttl: float
    issuers: tuple[IssuerConfig, ...]
    raw: dict[str, Any]
    unset_issuers: tuple[str, ...] = ()  # variables of issuers entries dropped: issuer is an unset os.environ/


@dataclass(frozen=True, slots=True)
class ServeSettings:
    """``jwtgate.serve``: how the gateway listens and forwards."""

    mode: str
    upstream: str | None
    upstream_keys: dict[str, str]  # gateway role -> its upstream credential (resolved)
    upstream_key_env: str | None
    host: str
    port: int
    workers: int
    hide_reasons: bool
    subject_header: str
    role_header: str
    max_body_bytes: int
    upstream_timeout: float
    upstream_connect_timeout: float
    shutdown_timeout: float
    verified_cache_size: int
    verified_cache_ttl: float
    log_claims: bool
    reload_interval: float = 0.0  # seconds between checks of the config and key files; 0 = off (SIGHUP only)
    header_timeout: float = 10.0
    body_timeout: float = 60.0
    keepalive_timeout: float = 5.0


@dataclass(frozen=True, slots=True)
class IdentitySettings:
    """``jwtgate.identity``: headers set from verified claims, and the claim that replaces the body's ``user``."""

    headers: tuple[tuple[str, str], ...]
    user_field: str | None
    litellm_user_header: str | None  # general_settings.user_header_name: LiteLLM reads the end user there


@dataclass(frozen=True, slots=True)
class Settings:
    """The top-level ``jwtgate:`` section (keys LiteLLM has no place for)."""

    leeway: float
    require: tuple[str, ...]
    max_token_bytes: int
    key_refetch_cooldown: float
    fetch_timeout: float
    max_jwks_bytes: int
    allow_kidless_single_key: bool
    algorithms: tuple[str, ...] | None
    hmac_secret: str | None
    jwks: tuple[str, ...]
    insecure_skip_audience: bool
    serve: ServeSettings
    identity: IdentitySettings
    lint_ignore: tuple[str, ...] = ()
    lint_severity: dict[str, Any] = field(default_factory=dict)  # code -> level or {level, reason} (plain)


@dataclass(frozen=True, slots=True)
class Policy:
    """Everything a decision needs, loaded once and never mutated."""

    file: str
    enable_jwt_auth: bool
    jwt: JwtAuth
    role_permissions: tuple[RolePermission, ...]
    general_enforce_rbac: bool
    models: tuple[ModelEntry, ...]
    settings: Settings
    public_key_urls: tuple[str, ...]
    env_audience: str | None
    env_issuer: str | None
    locations: dict[str, Location]
    findings: tuple[Finding, ...]
    refusals: tuple[Finding, ...] = ()  # the findings for which LiteLLM refuses to load this config

    def where(self, path: str) -> Location | None:
        """Location of a dotted config path such as ``general_settings.litellm_jwtauth.enforce_rbac``."""
        return self.locations.get(path)

    @property
    def model_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.models)

    def permission_for(self, role: str) -> RolePermission | None:
        """The first ``role_permissions`` entry for a gateway role (LiteLLM reads the first)."""
        for perm in self.role_permissions:
            if perm.role == role:
                return perm
        return None


# ---------------------------------------------------------------------------------------------------
# Keys and verified tokens.


@dataclass(frozen=True, slots=True)
class VerificationKey:
    """A public key (or configured HMAC secret) that may verify tokens, with where it came from.

    ``key`` is a ``cryptography`` public key object, or ``bytes`` for a configured HMAC secret.
    ``problem`` is None for a usable key, else why it must not be used (``use: enc``, RSA < 2048 …).
    """

    kid: str | None
    kty: str
    alg: str | None
    use: str | None
    key: Any
    source: str
    thumbprint: str
    detail: str
    problem: str | None = None

    @property
    def usable(self) -> bool:
        return self.problem is None


@dataclass(frozen=True, slots=True)
class TokenRules:
    """What a token must satisfy for one trusted issuer (or the global, issuer-less trust)."""

    issuer: str | None
    audiences: tuple[str, ...] | None
    leeway: float = 30.0
    require: tuple[str, ...] = ("exp",)
    algorithms: tuple[str, ...] | None = None
    allow_kidless_single_key: bool = True
    max_token_bytes: int = 16 * 1024


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    """A token whose signature and claims passed every check."""

    header: dict[str, Any]
    claims: dict[str, Any]
    key: VerificationKey
    fingerprint: str


# ---------------------------------------------------------------------------------------------------
# Decisions.


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of decide(): allow or deny, for whom, why, and the trace that led there.

    ``models`` is the set of model names this caller may use (None = unrestricted); ``routes`` the
    route entries (group names or literal paths) it may call (None = unrestricted). ``notes`` say
    where LiteLLM would decide differently.
    """

    allowed: bool
    reason: Reason | None
    role: str | None
    models: tuple[str, ...] | None
    routes: tuple[str, ...] | None
    subject: str | None
    identity: dict[str, str]
    steps: tuple[Step, ...]
    notes: tuple[str, ...]
