"""The config schema: every key jwtgate knows, its type and its default. Defaults live here only."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Value kinds understood by the loader.
STR = "string"
BOOL = "boolean"
NUM = "number"
INT = "integer"
STR_LIST = "list of strings"
STR_OR_LIST = "string or list of strings"
MAPPING = "mapping"
ANY = "any"

# The gateway roles (LiteLLM's RBAC roles): the only place their names are spelled.
PROXY_ADMIN, TEAM, INTERNAL_USER = "proxy_admin", "team", "internal_user"
RBAC_ROLES = (PROXY_ADMIN, TEAM, INTERNAL_USER)
LITELLM_USER_ROLES = (
    "proxy_admin",
    "proxy_admin_viewer",
    "org_admin",
    "internal_user",
    "internal_user_viewer",
    "team",
    "customer",
)


@dataclass(frozen=True)
class Field:
    """One key of a mapping: its kind, default and, for nested objects, the item schema."""

    kind: str
    default: Any = None
    required: bool = False
    items: Schema | None = None  # for lists of mappings / nested mappings
    choices: tuple[str, ...] | None = None
    positive: bool = False  # a number that must be finite and above 0 (a duration, a size)


@dataclass(frozen=True)
class Schema:
    """A mapping's known keys. ``closed`` mappings report unknown keys as errors."""

    name: str
    fields: dict[str, Field] = field(default_factory=dict)
    closed: bool = True


def _list_of(schema: Schema) -> Field:
    return Field("list", default=None, items=schema)


ROLE_PERMISSION = Schema(
    "role_permissions entry",
    {
        "role": Field(STR, required=True, choices=RBAC_ROLES),
        "models": Field(STR_LIST),
        "routes": Field(STR_LIST),
    },
)

ROLE_MAPPING = Schema(
    "role_mappings entry",
    {
        "role": Field(STR, required=True),
        "internal_role": Field(STR, required=True, choices=RBAC_ROLES),
    },
)

SCOPE_MAPPING = Schema(
    "scope_mappings entry",
    {"scope": Field(STR, required=True), "models": Field(STR_LIST), "routes": Field(STR_LIST)},
)

JWT_ROLE_MAP = Schema(
    "jwt_litellm_role_map entry",
    {
        "jwt_role": Field(STR, required=True),
        "litellm_role": Field(STR, required=True, choices=LITELLM_USER_ROLES),
    },
)

ROUTING_OVERRIDE = Schema(
    "routing_overrides entry",
    {
        "iss": Field(STR, required=True),
        "client_id": Field(STR),
        "aud": Field(STR),
        "scope": Field(STR),
        "path": Field(STR, default="oauth2"),
    },
)

ISSUER_FIELD_OVERRIDES = (
    "team_id_jwt_field",
    "team_ids_jwt_field",
    "user_id_jwt_field",
    "user_email_jwt_field",
    "org_id_jwt_field",
    "end_user_id_jwt_field",
)

ISSUER = Schema(
    "issuers entry",
    {
        "issuer": Field(STR, required=True),
        "audience": Field(STR_OR_LIST),
        "disable_audience_validation": Field(BOOL, default=False),
        "jwks_url": Field(STR),
        "virtual_key_claim_field": Field(STR),
        **{name: Field(STR) for name in ISSUER_FIELD_OVERRIDES},
    },
)

DEFAULT_ADMIN_ROUTES = (
    "management_routes",
    "spend_tracking_routes",
    "global_spend_tracking_routes",
    "info_routes",
)
DEFAULT_TEAM_ROUTES = ("openai_routes", "info_routes", "mcp_routes", "/v1/messages", "/v1/messages/count_tokens")

LITELLM_JWTAUTH = Schema(
    "litellm_jwtauth",
    {
        "admin_jwt_scope": Field(STR, default="litellm_proxy_admin"),
        "admin_allowed_routes": Field(STR_LIST, default=DEFAULT_ADMIN_ROUTES),
        "team_id_jwt_field": Field(STR),
        "team_id_upsert": Field(BOOL, default=False),
        "team_ids_jwt_field": Field(STR),
        "upsert_sso_user_to_team": Field(BOOL, default=False),
        "team_allowed_routes": Field(STR_LIST, default=DEFAULT_TEAM_ROUTES),
        "team_id_default": Field(STR),
        "team_alias_jwt_field": Field(STR),
        "org_id_jwt_field": Field(STR),
        "org_alias_jwt_field": Field(STR),
        "user_id_jwt_field": Field(STR),
        "user_email_jwt_field": Field(STR),
        "user_allowed_email_domain": Field(STR),
        "user_roles_jwt_field": Field(STR),
        "user_allowed_roles": Field(STR_LIST),
        "user_id_upsert": Field(BOOL, default=False),
        "end_user_id_jwt_field": Field(STR),
        "public_key_ttl": Field(NUM, default=600.0),
        "public_key_stale_ttl": Field(NUM, default=3600.0),
        "public_allowed_routes": Field(STR_LIST, default=("public_routes",)),
        "enforce_rbac": Field(BOOL, default=False),
        "roles_jwt_field": Field(STR),
        "role_mappings": _list_of(ROLE_MAPPING),
        "object_id_jwt_field": Field(STR),
        "scope_mappings": _list_of(SCOPE_MAPPING),
        "enforce_scope_based_access": Field(BOOL, default=False),
        "enforce_team_based_model_access": Field(BOOL, default=False),
        "custom_validate": Field(STR),
        "jwt_litellm_role_map": _list_of(JWT_ROLE_MAP),
        "sync_user_role_and_teams": Field(BOOL, default=False),
        "oidc_userinfo_endpoint": Field(STR),
        "oidc_userinfo_enabled": Field(BOOL, default=False),
        "oidc_userinfo_cache_ttl": Field(NUM, default=300.0),
        "virtual_key_claim_field": Field(STR),
        "virtual_key_mapping_cache_ttl": Field(NUM, default=300.0),
        "routing_overrides": _list_of(ROUTING_OVERRIDE),
        "issuers": _list_of(ISSUER),
        "agent_id_jwt_field": Field(STR),
        "team_claim_fallback": Field(BOOL, default=False),
        "fallback_to_db_teams": Field(BOOL, default=False),
    },
)

SERVE_MODES = ("litellm", "direct")
UPSTREAM_KEYS = Schema("jwtgate.serve.upstream_keys", {role: Field(STR) for role in RBAC_ROLES})

SERVE = Schema(
    "jwtgate.serve",
    {
        # litellm: every allowed request goes to `upstream` (a LiteLLM proxy reading the same file), with
        # the upstream key only; direct: a model with an api_base goes there with its api_key.
        "mode": Field(STR, default="litellm", choices=SERVE_MODES),
        "upstream": Field(STR),
        # A LiteLLM key per gateway role (os.environ/NAME), used for that role's requests upstream.
        "upstream_keys": Field(MAPPING, items=UPSTREAM_KEYS),
        "upstream_key_env": Field(STR),
        "host": Field(STR, default="127.0.0.1"),
        "port": Field(INT, default=4000),
        "workers": Field(INT, default=1),
        "hide_reasons": Field(BOOL, default=False),
        "subject_header": Field(STR, default="X-Jwtgate-Subject"),
        "role_header": Field(STR, default="X-Jwtgate-Role"),
        "max_body_bytes": Field(INT, default=10 * 1024 * 1024),
        "upstream_timeout": Field(NUM, default=600.0),
        "upstream_connect_timeout": Field(NUM, default=10.0),
        "shutdown_timeout": Field(NUM, default=30.0),
        "verified_cache_size": Field(INT, default=10_000),
        "verified_cache_ttl": Field(NUM, default=300.0),
        "reload_interval": Field(NUM, default=0.0),
        # slow clients (seconds): a request head must arrive within header_timeout of its first byte; a body
        # may pause at most body_timeout between two reads (both 408 request.timeout); an idle keep-alive
        # connection is closed after keepalive_timeout.
        "header_timeout": Field(NUM, default=10.0, positive=True),
        "body_timeout": Field(NUM, default=60.0, positive=True),
        "keepalive_timeout": Field(NUM, default=5.0, positive=True),
        "log_claims": Field(BOOL, default=False),
    },
)

# jwtgate.identity: what the upstream is told about the verified caller (header name -> claim path).
IDENTITY = Schema(
    "jwtgate.identity",
    {
        "headers": Field(MAPPING, items=Schema("jwtgate.identity.headers", closed=False)),
        "user_field": Field(STR),
    },
)

LINT_LEVELS = ("error", "warning", "info")

# jwtgate.lint: project settings of ``jwtgate lint``. severity values are a level or {level, reason};
# lint/settings.py checks codes and levels (it knows the rules).
LINT = Schema(
    "jwtgate.lint",
    {
        "ignore": Field(STR_LIST, default=()),
        "severity": Field(MAPPING, items=Schema("jwtgate.lint.severity", closed=False)),
    },
)

JWTGATE = Schema(
    "jwtgate",
    {
        "leeway": Field(NUM, default=30.0),
        "require": Field(STR_LIST, default=("exp",)),
        "max_token_bytes": Field(INT, default=16 * 1024),
        "key_refetch_cooldown": Field(NUM, default=30.0),
        "fetch_timeout": Field(NUM, default=5.0),
        "max_jwks_bytes": Field(INT, default=1024 * 1024),
        "allow_kidless_single_key": Field(BOOL, default=True),
        "algorithms": Field(STR_LIST),
        "hmac_secret": Field(STR),
        "jwks": Field(STR_LIST),
        "insecure_skip_audience": Field(BOOL, default=False),
        "serve": Field(MAPPING, items=SERVE),
        "identity": Field(MAPPING, items=IDENTITY),
        "lint": Field(MAPPING, items=LINT),
    },
)

def default(schema: Schema, key: str) -> Any:
    """The default of ``key`` in ``schema``, for code that needs one without a loaded config."""
    return schema.fields[key].default


MODEL_ENTRY = Schema(
    "model_list entry",
    {
        "model_name": Field(STR, required=True),
        "litellm_params": Field(MAPPING, items=Schema("litellm_params", closed=False)),
        "model_info": Field(MAPPING, items=Schema("model_info", closed=False)),
    },
)

# general_settings is a large open mapping in LiteLLM; these are the keys it documents. An unknown key
# here is reported only when it looks like a typo of one of them.
GENERAL_SETTINGS_KNOWN = (
    "master_key", "database_url", "database_connection_pool_limit", "database_connection_timeout",
    "allow_requests_on_db_unavailable", "disable_spend_logs", "disable_master_key_return",
    "store_model_in_db", "store_prompts_in_spend_logs", "enable_jwt_auth", "litellm_jwtauth",
    "role_permissions", "enforce_rbac", "allowed_routes", "admin_only_routes", "enable_oauth2_auth",
    "enable_oauth2_proxy_auth", "oauth2_config_mappings", "ui_access_mode", "alerting",
    "alerting_threshold", "alerting_args", "alert_types", "alert_to_webhook_url", "proxy_batch_write_at",
    "proxy_budget_rescheduler_min_time", "proxy_budget_rescheduler_max_time", "custom_auth",
    "custom_auth_settings", "custom_sso", "custom_ui_sso_sign_in_handler", "max_parallel_requests",
    "global_max_parallel_requests", "infer_model_from_keys", "background_health_checks",
    "health_check_interval", "health_check_details", "public_routes", "allowed_ips", "enforce_user_param",
    "pass_through_endpoints", "litellm_license", "disable_reset_budget", "forward_openai_org_id",
    "forward_client_headers_to_llm_api", "use_x_forwarded_for", "key_management_system",
    "key_management_settings", "max_request_size_mb", "max_response_size_mb", "user_header_name",
    "use_redis_transaction_buffer", "use_shared_health_check",
    "disable_retry_on_max_parallel_request_limit_error",
    "disable_prisma_schema_update", "disable_adding_master_key_hash_to_db", "disable_responses_id_security",
    "embedding_model", "default_team_disabled", "default_team_settings", "cache_params",
    "maximum_spend_logs_retention_period", "maximum_spend_logs_retention_interval",
    "service_account_settings",
    "allow_client_side_credentials", "moderation_model", "reject_clientside_metadata_tags",
    "mcp_client_side_auth_header_name", "supported_db_objects", "enforced_params", "otel",
    "user_api_key_cache_ttl", "spend_report_frequency", "disable_error_logs", "enable_public_model_hub",
)

TOP_LEVEL_KNOWN = (
    "model_list", "general_settings", "litellm_settings", "router_settings", "environment_variables",
    "jwtgate", "include", "mcp_servers", "mcp_aliases", "guardrails", "credential_list", "search_tools",
    "vector_store_registry", "assistant_settings", "finetune_settings", "files_settings", "prompts",
    "callback_settings", "agents", "pass_through_endpoints", "model_group_settings",
)

# The top-level keys of a ``jwtgate test`` file (policy/cases.py); the loader uses them to tell a test
# file given as a config apart from a config.
TEST_FILE_KEYS = ("config", "jwks", "cases")
