"""Fixtures shared by the serve-level security tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.security.upstream import Upstream


@pytest.fixture(scope="module")
def upstream() -> Iterator[Upstream]:
    """The misbehaving fake upstream (its own thread), one per test module."""
    server = Upstream().start()
    yield server
    server.stop()
