"""Fixtures for the real-provider suite: skipped where node or oidc-provider is missing, failed under CI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.idp.oidc import OidcProvider, require, signing_jwk

FIRST_KEYS = [signing_jwk("rsa", "rsa-1"), signing_jwk("ec", "ec-1")]


@pytest.fixture(scope="module")
def shared_idp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    """One provider for the read-only tests of a module (RS256 + ES256 keys)."""
    require()
    idp = OidcProvider(tmp_path_factory.mktemp("idp")).start(FIRST_KEYS)
    try:
        yield idp
    finally:
        idp.stop()


@pytest.fixture
def idp(tmp_path: Path) -> Iterator[OidcProvider]:
    """A provider of the test's own, to rotate, stop and restart."""
    require()
    server = OidcProvider(tmp_path).start(FIRST_KEYS)
    try:
        yield server
    finally:
        server.stop()
