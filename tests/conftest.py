"""Suite-wide settings: hypothesis never times examples (these 2-core CI machines are noisy); the kit's fixtures."""

from __future__ import annotations

from hypothesis import settings

pytest_plugins = ["tests.kit.cli"]

settings.register_profile("jwtgate", deadline=None, print_blob=True)
settings.load_profile("jwtgate")
