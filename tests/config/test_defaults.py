"""Defaults live in config/schema.py: what a component does without a config is what an empty config gives."""

from __future__ import annotations

from jwtgate.config.loader import load_policy
from jwtgate.config.schema import SERVE, default
from jwtgate.keys.sources import KeyStoreOptions
from jwtgate.model import ServeSettings, TokenRules
from jwtgate.tokens.authenticator import build_trusts
from jwtgate.tokens.cache import VerifiedCache
from jwtgate.tokens.compact import DEFAULT_MAX_TOKEN_BYTES

EMPTY = load_policy("jwtgate:\n  jwks: [jwks.json]\n", "c.yaml", {})


def test_key_store_options_default_to_the_schema() -> None:
    assert KeyStoreOptions() == KeyStoreOptions.from_policy(EMPTY)


def test_token_rules_default_to_the_schema() -> None:
    (trust,) = build_trusts(EMPTY)
    assert TokenRules(issuer=None, audiences=None, algorithms=None) == trust.rules
    assert EMPTY.settings.max_token_bytes == DEFAULT_MAX_TOKEN_BYTES


def test_verified_cache_defaults_to_the_schema() -> None:
    cache = VerifiedCache()
    serve = EMPTY.settings.serve
    assert (cache.max_size, cache.ttl) == (serve.verified_cache_size, serve.verified_cache_ttl)


def test_serve_settings_class_defaults_are_the_schemas() -> None:
    """The server reads ``ServeSettings`` class defaults when it is built without a config (tests, embedding)."""
    fields = ServeSettings.__dataclass_fields__
    for name in ("reload_interval", "header_timeout", "body_timeout", "keepalive_timeout"):
        assert fields[name].default == default(SERVE, name) == getattr(EMPTY.settings.serve, name), name
