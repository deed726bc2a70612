"""Where the pinned LiteLLM lives for the tests that run it (the oracle, the real upstream proxy).

``.ci/run`` creates it with ``.ci/setup-litellm`` and exports ``JWTGATE_LITELLM_PYTHON``. Locally, a test
needing it is skipped when the variable is unset; under CI (``CI=true``) a missing LiteLLM is a failure,
so a green CI run always means LiteLLM was consulted.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def litellm_python() -> Path:
    """The pinned LiteLLM venv's python, or skip (locally) / fail (CI) with how to get it."""
    value = os.environ.get("JWTGATE_LITELLM_PYTHON", "")
    if value and Path(value).is_file():
        return Path(value)
    why = "JWTGATE_LITELLM_PYTHON is unset or missing: run `.ci/setup-litellm DIR` and export DIR/bin/python"
    if os.environ.get("CI") == "true":
        pytest.fail(why)
    pytest.skip(why)
