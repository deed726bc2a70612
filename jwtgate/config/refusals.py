"""Configs LiteLLM refuses to load: jwtgate refuses them too (check-token exits 2, serve does not start).

LiteLLM validates ``role_permissions`` (``RoleBasedPermissions``, extra keys forbidden) and builds
``LiteLLM_JWTAuth(**litellm_jwtauth)`` at start-up; either raising stops the proxy. The schema half is
recorded by the loader (``Policy.refusals``); the paired-key half (``LiteLLM_JWTAuth.__init__``) is here,
and the lint rules JG107-JG109 report the same problems by calling these functions.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from jwtgate.model import Finding, JwtAuth, Location, Policy

JWT = "general_settings.litellm_jwtauth"


@dataclass(frozen=True, slots=True)
class PairProblem:
    """A key LiteLLM_JWTAuth requires another key for: the rule code, the key at fault, the message, the fix."""

    code: str
    path: str
    message: str
    hint: str


def pair_problems(jwt: JwtAuth) -> Iterator[PairProblem]:
    """The checks of ``LiteLLM_JWTAuth.__init__`` that raise (LiteLLM then refuses to start)."""
    if jwt.user_roles_jwt_field and jwt.user_allowed_roles is None:
        yield PairProblem("JG107", f"{JWT}.user_roles_jwt_field",
                          "user_roles_jwt_field is set without user_allowed_roles; LiteLLM refuses to start",
                          "add user_allowed_roles: [the IdP roles that may call]")
    elif jwt.user_allowed_roles is not None and not jwt.user_roles_jwt_field:
        yield PairProblem("JG107", f"{JWT}.user_allowed_roles",
                          "user_allowed_roles is set without user_roles_jwt_field; LiteLLM refuses to start",
                          "add user_roles_jwt_field: the claim holding the roles")
    if jwt.object_id_jwt_field and "role_mappings" not in _set_keys(jwt):
        yield PairProblem("JG108", f"{JWT}.object_id_jwt_field",
                          "object_id_jwt_field is set without role_mappings; LiteLLM refuses to start",
                          "add role_mappings so the caller's role, team or internal_user, can be inferred")
    if "scope_mappings" in _set_keys(jwt) and not jwt.enforce_scope_based_access:
        yield PairProblem("JG109", f"{JWT}.scope_mappings",
                          "scope_mappings is set but enforce_scope_based_access is not true; LiteLLM refuses "
                          "to start", "add enforce_scope_based_access: true")


def _set_keys(jwt: JwtAuth) -> set[str]:
    """Keys given a non-null value in the file (LiteLLM tests ``is not None``, so ``[]`` counts)."""
    return {k for k, v in jwt.raw.items() if v is not None}


def litellm_refusals(policy: Policy) -> tuple[Finding, ...]:
    """Every reason LiteLLM would refuse to load this config, first in file order; empty when it loads."""
    fallback = Location(policy.file, 1, 1)
    pairs = tuple(Finding(p.code, "error", p.message, policy.where(p.path) or fallback, p.hint)
                  for p in pair_problems(policy.jwt))
    return tuple(sorted((*policy.refusals, *pairs), key=Finding.sort_key))
