"""Suite-wide settings: hypothesis never times examples (these 2-core CI machines are noisy)."""

from __future__ import annotations

from hypothesis import settings

settings.register_profile("jwtgate", deadline=None, print_blob=True)
settings.load_profile("jwtgate")
