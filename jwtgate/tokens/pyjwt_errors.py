"""PyJWT's exceptions translated into jwtgate's reason codes, where PyJWT is used (key parsing, tests)."""

from __future__ import annotations

from jwt import exceptions as jwt_exc

from jwtgate.errors import TokenError

# Every PyJWTError subclass, explicitly: tests/test_tokens.py fails when PyJWT adds one.
PYJWT_ERROR_CODES: dict[type[jwt_exc.PyJWTError], str] = {
    jwt_exc.PyJWTError: "token.invalid",
    jwt_exc.InvalidTokenError: "token.invalid",
    jwt_exc.DecodeError: "token.malformed",
    jwt_exc.InvalidSignatureError: "token.signature_invalid",
    jwt_exc.ExpiredSignatureError: "token.expired",
    jwt_exc.InvalidAudienceError: "token.audience_mismatch",
    jwt_exc.InvalidIssuerError: "token.issuer_mismatch",
    jwt_exc.InvalidIssuedAtError: "token.claim_type",
    jwt_exc.ImmatureSignatureError: "token.not_yet_valid",
    jwt_exc.InvalidKeyError: "key.invalid",
    jwt_exc.InvalidAlgorithmError: "token.alg_not_allowed",
    jwt_exc.MissingRequiredClaimError: "token.claim_missing",
    jwt_exc.InvalidSubjectError: "token.claim_type",
    jwt_exc.InvalidJTIError: "token.claim_type",
    jwt_exc.MissingCryptographyError: "key.invalid",
    jwt_exc.PyJWKError: "key.invalid",
    jwt_exc.PyJWKSetError: "jwks.invalid",
    jwt_exc.PyJWKClientError: "jwks.unavailable",
    jwt_exc.PyJWKClientConnectionError: "jwks.unavailable",
}


def pyjwt_code(exc: BaseException) -> str:
    """The reason code of a PyJWT exception (its most specific mapped class)."""
    for cls in type(exc).__mro__:
        code = PYJWT_ERROR_CODES.get(cls)
        if code is not None:
            return code
    return "token.invalid"


def translate_pyjwt_error(exc: BaseException) -> TokenError:
    """A ``TokenError`` carrying the reason code and PyJWT's message (which never contains the token)."""
    text = str(exc)[:200] or type(exc).__name__
    error = TokenError(f"{text} (PyJWT {type(exc).__name__})", code=pyjwt_code(exc))
    error.__cause__ = exc
    return error
