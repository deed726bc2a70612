"""``jwtgate keys generate`` and ``jwtgate token mint``: test keys and tokens, no identity provider needed."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from jwtgate.cli.options import check_choice
from jwtgate.errors import UsageError

if TYPE_CHECKING:
    from jwtgate.keys.mint import PrivateKey


def _write_private(path: Path, data: bytes, force: bool) -> None:
    """Create ``path`` with mode 0600 (never readable by others, even for a moment)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise UsageError(f"{path} already exists", hint="choose another --out directory or pass --force") from None
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "wb") as fh:
        os.fchmod(fh.fileno(), 0o600)
        fh.write(data)


def _write_public(path: Path, text: str, force: bool) -> None:
    if path.exists() and not force:
        raise UsageError(f"{path} already exists", hint="choose another --out directory or pass --force")
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def keys_generate(
    alg: str = typer.Option(..., "--alg", help="RS256 (RSA 2048), ES256 (P-256) or EdDSA (Ed25519)."),
    out: Path = typer.Option(..., "--out", help="Directory for private.pem and jwks.json (created if missing)."),
    kid: str | None = typer.Option(None, "--kid", help="Key id; default: the key's RFC 7638 thumbprint."),
    force: bool = typer.Option(False, "--force", help="Overwrite existing files."),
) -> None:
    """Write a private key (private.pem, mode 0600) and its public JWKS (jwks.json) for test tokens."""
    from jwtgate.keys import mint

    check_choice("--alg", alg, mint.GENERATE_ALGORITHMS)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create directory {out}: {exc.strerror or exc}") from None
    key = mint.generate_private_key(alg)
    key_id = kid or mint.thumbprint(key)
    jwks = {"keys": [mint.public_jwk(key, kid=key_id, alg=alg)]}
    _write_public(out / "jwks.json", json.dumps(jwks, indent=2) + "\n", force)
    _write_private(out / "private.pem", mint.private_pem(key), force)
    typer.echo(f"wrote {out / 'private.pem'} ({alg} private key, mode 0600: keep it out of version control)")
    typer.echo(f"wrote {out / 'jwks.json'} (public key, kid {key_id})")


def _claims_option(text: str | None) -> dict[str, object] | None:
    from jwtgate.keys.mint import parse_claims_object

    if text is None:
        return None
    if not text.startswith("@"):
        return parse_claims_object(text, "--claims")
    try:
        data = Path(text[1:]).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read --claims file {text[1:]}: {exc}") from None
    return parse_claims_object(data, text[1:])


def _expiry(text: str) -> float | None:
    from jwtgate.timefmt import parse_duration

    return None if text.strip().lower() == "never" else parse_duration(text, "--expires-in")


def _signing(key: PrivateKey, alg: str | None, kid: str | None) -> tuple[str, str]:
    from jwtgate.keys import mint

    algorithm = mint.default_algorithm(key) if alg is None else alg
    mint.check_key_fits(key, algorithm)
    return algorithm, kid or mint.thumbprint(key)


def token_mint(
    key: Path = typer.Option(..., "--key", help="Private key PEM (from 'jwtgate keys generate'). No default."),
    kid: str | None = typer.Option(None, "--kid", help="Header kid; default: the key's RFC 7638 thumbprint."),
    alg: str | None = typer.Option(None, "--alg", help="Default: RS256, ES256/384/512 or EdDSA by key type."),
    claim: list[str] = typer.Option([], "--claim", metavar="NAME=VALUE",
                                    help="A claim; VALUE is JSON when it parses, else a string. NAME is literal "
                                         "(no dotted nesting: use a JSON value). Repeatable; wins over the rest."),
    claims: str | None = typer.Option(None, "--claims", metavar="JSON|@FILE", help="A JSON object of claims."),
    expires_in: str = typer.Option("1h", "--expires-in", help="exp = now + this (s, m, h, d), or 'never'."),
    issuer: str | None = typer.Option(None, "--issuer", help="The iss claim."),
    audience: list[str] = typer.Option([], "--audience", help="The aud claim; repeat for a list."),
    now: str | None = typer.Option(None, "--now", metavar="TIME", help="Mint as at TIME (iat; exp base)."),
) -> None:
    """Sign a test token with a named key and print it. Claims: iat/exp, then --claims, then
    --issuer/--audience, then each --claim (later wins)."""
    from jwtgate.keys import mint
    from jwtgate.timefmt import parse_instant

    if alg is not None:
        check_choice("--alg", alg, mint.ALGORITHMS)
    private = mint.load_private_key(str(key))
    algorithm, key_id = _signing(private, alg, kid)
    body = mint.build_claims(now=parse_instant(now) if now else time.time(), expires_in=_expiry(expires_in),
                             base=_claims_option(claims), issuer=issuer, audiences=audience,
                             pairs=[mint.parse_claim(c) for c in claim])
    typer.echo(mint.sign(body, private, alg=algorithm, kid=key_id))
