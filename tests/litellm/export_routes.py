"""Print LiteLLM's route groups (``LiteLLMRoutes``) as jwtgate/data/litellm_routes.json holds them.

Run by the pinned LiteLLM venv's python: ``python tests/litellm/export_routes.py > jwtgate/data/litellm_routes.json``
after bumping .ci/litellm-requirements.txt; tests/litellm/test_routes.py checks the file is current.
"""

from __future__ import annotations

import json
import os
from importlib.metadata import version

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from litellm.proxy._types import LiteLLMRoutes


def export() -> dict[str, object]:
    groups: dict[str, list[str]] = {}
    for name, member in LiteLLMRoutes.__members__.items():
        value = member.value
        groups[name] = sorted(value) if isinstance(value, set | frozenset) else list(value)
    return {"litellm_version": version("litellm"), "groups": groups}


if __name__ == "__main__":
    print(json.dumps(export(), indent=1))
