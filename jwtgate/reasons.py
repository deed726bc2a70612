"""Every reason code jwtgate emits, with its one-line meaning: the one registry.

``jwtgate test`` checks an expected ``reason:`` against it, and the README's reason table is
``reasons_table()`` (tests/test_readme.py keeps them equal, and checks that every code in the source is here).
"""

from __future__ import annotations

REASONS: dict[str, str] = {
    # --- the token itself --------------------------------------------------------------------------------
    "token.missing": "`serve`: no `Authorization: Bearer` (or `x-api-key`) header; 401 with the challenge "
                     "`WWW-Authenticate: Bearer realm=\"jwtgate\"`",
    "token.malformed": "not a compact JWS (three base64url segments of JSON objects) or not strict: padding, "
                       "whitespace, BOM, non-UTF-8, duplicate JSON members",
    "token.too_large": "over `jwtgate.max_token_bytes` (16 KiB)",
    "token.encrypted": "a JWE (five segments): encrypted tokens are not supported",
    "token.alg_none": "`alg: none`, in any casing: always refused",
    "token.alg_not_allowed": "an algorithm outside the allowed list (HS* only with `jwtgate.hmac_secret`)",
    "token.alg_key_mismatch": "the algorithm does not fit the key's type, or differs from the JWK's declared `alg`",
    "token.crit_unsupported": "a `crit` header jwtgate does not implement",
    "token.typ_invalid": "`typ` present and not `JWT` / `at+jwt`",
    "token.kid_invalid": "a `kid` that is not a string",
    # --- keys --------------------------------------------------------------------------------------------
    "key.not_found": "no usable key has the token's `kid`, even after one refetch",
    "key.ambiguous": "no `kid` and more than one usable key, or several usable keys share the kid",
    "key.invalid": "a key that cannot be used (from PyJWT's key parsing)",
    "key.weak_secret": "an HS* token while `jwtgate.hmac_secret` is shorter than the hash (32/48/64 bytes, "
                       "RFC 7518 §3.2); lint reports it as JG306",
    # --- signature and claims ----------------------------------------------------------------------------
    "token.signature_invalid": "the signature does not verify",
    "token.claim_type": "`exp`, `nbf` or `iat` is not a finite JSON number",
    "token.claim_missing": "a required claim (`jwtgate.require`, default `exp`) is missing",
    "token.expired": "`exp` is past (with the leeway)",
    "token.not_yet_valid": "`nbf` is in the future (with the leeway)",
    "token.issued_in_future": "`iat` is in the future (with the leeway)",
    "token.issuer_mismatch": "`iss` differs from the configured issuer",
    "token.issuer_unknown": "`iss` matches no configured issuer",
    "token.audience_mismatch": "`aud` lacks the configured audience",
    "token.audience_missing": "`aud` is absent while an audience is configured",
    "token.invalid": "any other token error reported by PyJWT (and, with `serve --hide-reasons`, every 401)",
    "claims.scope_type": "the `scope` claim is neither a string nor a list (LiteLLM fails the request)",
    "claims.unreadable": "a claim LiteLLM cannot read (a number as roles, a nested list as team ids, a "
                         "non-string email): LiteLLM fails the request, jwtgate denies it",
    "claims.overage": "a claim the config reads (e.g. `groups`) was left out by the identity provider: Entra ID "
                      "group overage (`_claim_names`/`_claim_sources`, or `hasgroups: true`); use app roles or "
                      "group filtering",
    # --- key sources -------------------------------------------------------------------------------------
    "jwks.unavailable": "the key source failed and no last-good set is inside the stale window (fail closed; "
                        "`serve` answers 503)",
    "jwks.not_configured": "no key source is configured for this token",
    "jwks.http_status": "fetching a key source got an HTTP error status",
    "jwks.timeout": "fetching a key source timed out",
    "jwks.too_large": "a key source is over the size cap",
    "jwks.invalid": "a key source is not a JWKS, JWK or PEM public key (a local file: exit 2)",
    "jwks.issuer_mismatch": "the discovery document is for another issuer",
    "jwks.not_cached": "`--offline` with nothing in the cache for the source",
    "jwks.stale_expired": "`--offline` with a cached set past its stale window",
    "jwks.file_unreadable": "a key file that cannot be read: missing, a directory, no permission (exit 2)",
    # --- policy ------------------------------------------------------------------------------------------
    "policy.no_role": "`enforce_rbac` is on and no admin scope, team id, user id or role mapping matched",
    "policy.model_not_allowed": "the role's `role_permissions` (or the token's `scope_mappings`) do not list "
                                "the model",
    "policy.route_not_allowed": "the route is outside the role's allowed routes",
    "policy.no_team": "`enforce_team_based_model_access` is on and the token names no team",
    "policy.no_identity": "`general_settings.enforce_rbac` is on and the token has neither user id nor team id",
    "policy.email_domain": "`user_allowed_email_domain` is set and the token's email is not in it",
    "policy.model_required": "`serve`: a model call names no model, and the caller may use only some models",
    "policy.denied": "`serve --hide-reasons`: what a caller sees instead of the `policy.*` detail",
    "policy.upstream_scope": "`serve`: a route the upstream answers for the credential it is sent with (info, "
                             "health, key/user/team, spend, management) called by a role with no own upstream key "
                             "(`jwtgate.serve.upstream_keys`); only proxy_admin may use the shared one (403; "
                             "`check-token`, `explain` and `test` show it as the `forwarding` step)",
    "policy.identity_invalid": "`serve`: the verified subject or role cannot be sent upstream in an identity "
                               "header (control characters)",
    "policy.identity_missing": "`serve`: `jwtgate.identity.user_field` is set and the token has no usable value "
                               "for it, so the request's end user cannot be set",
    # --- the request (serve, before any decision) --------------------------------------------------------
    "request.bad_path": "`serve`: a path with empty, `.` or `..` segments (400)",
    "request.invalid_json": "`serve`: a JSON body that is not valid JSON or not an object (400)",
    "request.invalid_model": "`serve`: `model` is not a string, or a form names it more than once (400)",
    "request.invalid_form": "`serve`: a form body that is not UTF-8, or multipart without a boundary (400)",
    "request.model_mismatch": "`serve`: the path, body (or forward-auth `X-Model`) name different models "
                              "(400; forward-auth 403)",
    "request.encoded_body": "`serve`: a compressed body, which cannot be checked (415)",
    "request.too_large": "`serve`: a body over the size limit (413)",
    "request.bad_length": "`serve`: an invalid `Content-Length` (400)",
    "request.bad_host": "`serve`: an HTTP/1.1 request without a `Host` header, or with more than one (400)",
    "request.header_too_large": "`serve`: a header line over 8 KiB, or headers over 32 KiB in all (400, as nginx); "
                                "more than 128 headers, or a head over 256 KiB while it arrives (431)",
    "request.method": "`serve`: a method the endpoint does not take, e.g. POST to `/v1/models` (405)",
    "request.malformed": "`serve`: a request the HTTP parser refuses: bad framing (Content-Length with "
                         "Transfer-Encoding, a duplicate or invalid length, a bad chunk), obs-fold, bare LF (400)",
    "request.bad_target": "`serve`: a request target that is neither a path nor an absolute URL, e.g. `*` (400)",
    "request.uri_too_long": "`serve`: a request target over 8 KiB (414)",
    "request.upgrade": "`serve`: `Connection: upgrade` (websocket, h2c) on a request with a body (400)",
    "request.timeout": "`serve`: the request head did not arrive within `header_timeout`, or its body paused "
                       "longer than `body_timeout` (408)",
    "request.no_original_uri": "`serve` forward-auth: neither `X-Original-URI` nor `X-Forwarded-Uri` (403)",
    "model_not_found": "`serve`: `/v1/models/{id}` for a model that does not exist or the caller may not use "
                       "(404, OpenAI's code)",
    # --- the upstream (serve) ----------------------------------------------------------------------------
    "upstream.not_configured": "`serve`: no upstream for the request (no `--upstream`, no `api_base`) (502)",
    "upstream.unreachable": "`serve`: cannot connect to the upstream (502)",
    "upstream.reset": "`serve`: the upstream connection failed mid-request (502)",
    "upstream.timeout": "`serve`: the upstream did not answer in time (504)",
    "jwtgate.internal": "`serve`: a bug in jwtgate (500); the log has the details",
    # --- the command line (exit 2) -----------------------------------------------------------------------
    "config.invalid": "the config cannot be loaded (exit 2)",
    "config.litellm_refuses": "LiteLLM refuses to load the config (unknown key, wrong type, unpaired key): exit 2",
    "usage.invalid": "the command was misused or an input cannot be read (exit 2)",
    "test.invalid_file": "`jwtgate test`: a test file that is not valid (exit 2, with file:line)",
}


def reasons_table() -> str:
    """The README's reason table (Markdown), one row per code."""
    rows = ["| Code | Meaning |", "|---|---|"]
    rows.extend(f"| `{code}` | {meaning} |" for code, meaning in REASONS.items())
    return "\n".join(rows)
