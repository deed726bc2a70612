"""The world the attack table runs in: the IdP's keys and JWKS, an attacker's keys, the gateway config,
and byte-exact token assembly. Shared by the Authenticator, ``check-token`` and ``serve`` replays.

Keys, signing and base64url come from the shared kit (tests/kit): 'rsa', 'ec', 'ed', 'evil-rsa', 'evil-ec' and
'rsa-1024' are session keys of ``tests.kit.keys.private_key``."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from jwtgate.keys.jwk import public_jwk
from tests.kit.keys import named_jwk, private_key
from tests.kit.tokens import DROP, b64, dumps, sign

ISS = "https://idp.example.test/realms/acme"
AUD = "llm-gateway"
ROLES_PATH = "resource_access.app.roles"
STRONG_SECRET = "k7Q2vX9pL4mN8rT1wY6zB3cF5hJ0dG2sA9eU4iO7qK1xV8nM3bR6tW5yZ0pL2cH9jD4fG7"  # 71 bytes
WEAK_SECRET = "secret1"  # a jwt_tool wordlist entry
MODELS = ("small", "big")


def _jwk(name: str, kid: str, **extra: Any) -> dict[str, Any]:
    return named_jwk(name, kid, **extra)


def _forgeable_e1_jwk() -> dict[str, Any]:
    """An RSA key with e = 1: a 'signature' is then just the padded hash, which anyone can compute."""
    return {"kty": "RSA", "kid": "e-one", "n": public_jwk(private_key("rsa").public_key())["n"], "e": "AQ"}


def _off_curve_jwk() -> dict[str, Any]:
    good = public_jwk(private_key("evil-ec").public_key())
    y = int.from_bytes(base64.urlsafe_b64decode(good["y"] + "=="), "big") ^ 1
    return {**good, "kid": "off-curve", "y": b64(y.to_bytes(32, "big"))}


def idp_jwks() -> dict[str, Any]:
    """The IdP's published set: three good keys, then the unsafe ones an attacker hopes we use."""
    return {"keys": [
        _jwk("rsa", "rsa-1", use="sig", alg="RS256"),
        _jwk("ec", "ec-1", use="sig"),
        _jwk("ed", "ed-1", use="sig"),
        _jwk("evil-rsa", "enc-1", use="enc"),
        _jwk("rsa-1024", "small-1"),
        _forgeable_e1_jwk(),
        _off_curve_jwk(),
        _jwk("evil-rsa", "dup"),
        _jwk("rsa", "dup"),
        {"kty": "oct", "kid": "oct-1", "k": b64(b"known-to-everyone")},
        {**_jwk("evil-ec", "with-d"), "d": b64(b"\x01" * 32)},
    ]}


def policy_yaml(jwks_source: str, variant: str = "default", serve: str = "") -> str:
    """The gateway config; ``variant`` 'hmac' adds a strong shared secret, 'weak-hmac' a guessable one;
    ``serve`` is YAML for the ``jwtgate.serve`` section (indented by 4)."""
    secret = {"hmac": STRONG_SECRET, "weak-hmac": WEAK_SECRET}.get(variant)
    extra = (f"  hmac_secret: \"{secret}\"\n" if secret else "") + (f"  serve:\n{serve}" if serve else "")
    extra = f"jwtgate:\n{extra}" if extra else ""
    return f"""\
model_list:
  - {{model_name: small, litellm_params: {{model: openai/small}}}}
  - {{model_name: big, litellm_params: {{model: openai/big}}}}
general_settings:
  enable_jwt_auth: true
  litellm_jwtauth:
    enforce_rbac: true
    roles_jwt_field: {ROLES_PATH}
    role_mappings:
      - {{role: llm-admin, internal_role: proxy_admin}}
      - {{role: llm-user, internal_role: internal_user}}
    issuers:
      - {{issuer: "{ISS}", audience: {AUD}, jwks_url: "{jwks_source}"}}
  role_permissions:
    - {{role: internal_user, models: [small]}}
    - {{role: proxy_admin, models: [small, big]}}
{extra}"""


@dataclass
class Kit:
    """Builds tokens at ``now``; ``attacker_url`` is a loopback server that must never be asked anything."""

    now: float
    attacker_url: str = "http://127.0.0.1:9"
    notes: dict[str, Any] = field(default_factory=dict)

    def claims(self, **over: Any) -> dict[str, Any]:
        """A user's claims: maps to internal_user, so a forged token that verified would be ALLOWED 'small'."""
        base: dict[str, Any] = {
            "iss": ISS, "aud": AUD, "sub": "alice", "exp": int(self.now) + 600, "iat": int(self.now) - 10,
            "resource_access": {"app": {"roles": ["llm-user"]}},
        }  # fmt: skip
        base.update(over)
        return {k: v for k, v in base.items() if v is not DROP}

    def raw(self, header: bytes | dict[str, Any], payload: bytes | dict[str, Any], alg: str = "RS256",
            key: Any = "rsa") -> str:
        """A token from exact header and payload bytes, signed for ``alg`` with ``key`` (a name or bytes)."""
        head = header if isinstance(header, bytes) else dumps(header)
        body = payload if isinstance(payload, bytes) else dumps(payload)
        signing_input = f"{b64(head)}.{b64(body)}".encode("ascii")
        return f"{signing_input.decode()}.{b64(sign(alg, key, signing_input))}"

    def token(self, alg: str = "RS256", key: str = "rsa", kid: Any = "rsa-1", header: dict[str, Any] | None = None,
              **claims: Any) -> str:
        """A JSON token with the given header members on top of ``{alg, kid}`` (DROP removes one)."""
        head = {k: v for k, v in {"alg": alg, "kid": kid, **(header or {})}.items() if v is not DROP}
        return self.raw(head, self.claims(**claims), alg, key)

    def payload(self, **claims: Any) -> bytes:
        return dumps(self.claims(**claims))


def pkcs1_padded_hash(data: bytes, n_bytes: int) -> bytes:
    """EMSA-PKCS1-v1_5(SHA-256(data)): with e = 1 this is a valid 'RS256 signature' for anyone."""
    digest_info = bytes.fromhex("3031300d060960864801650304020105000420") + hashlib.sha256(data).digest()
    return b"\x00\x01" + b"\xff" * (n_bytes - len(digest_info) - 3) + b"\x00" + digest_info


def self_signed_cert_b64(name: str) -> str:
    """A base64 (standard, padded: as x5c carries it) DER certificate for the attacker's key."""
    from datetime import UTC, datetime, timedelta

    key = private_key(name)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ISS)])
    start = datetime(2024, 1, 1, tzinfo=UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(1).not_valid_before(start).not_valid_after(start + timedelta(days=3650))
            .sign(key, hashes.SHA256()))
    from cryptography.hazmat.primitives.serialization import Encoding

    return base64.b64encode(cert.public_bytes(Encoding.DER)).decode("ascii")


def write_world(directory: Path, variant: str = "default", serve: str = "") -> tuple[Path, Path]:
    """The IdP's JWKS file and the config pointing at it; returns (config, jwks)."""
    jwks = directory / "idp-jwks.json"
    jwks.write_text(json.dumps(idp_jwks()), encoding="utf-8")
    config = directory / f"gateway-{variant}.yaml"
    config.write_text(policy_yaml(str(jwks), variant, serve), encoding="utf-8")
    return config, jwks
