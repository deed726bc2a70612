"""``os.environ/NAME`` values (LiteLLM's way to keep secrets and URLs out of the file): the one resolver.

The loader resolves typed settings with it (an unset variable is JG301), lint checks the model_list
values serve forwards with (JG307), and the server builds its forwarding table with it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

ENV_PREFIX = "os.environ/"


def env_reference(value: Any) -> str | None:
    """The variable name of an ``os.environ/NAME`` value, else None."""
    if isinstance(value, str) and value.startswith(ENV_PREFIX):
        return value[len(ENV_PREFIX):]
    return None


def resolve_env(value: Any, env: Mapping[str, str]) -> str | None:
    """A literal string as it is, ``os.environ/NAME`` looked up in ``env``; None when unset or not a string."""
    if not isinstance(value, str):
        return None
    name = env_reference(value)
    return value if name is None else env.get(name)


def unset_issuers_text(names: Sequence[str]) -> tuple[str, str]:
    """Why no issuer is configured when ``issuers[].issuer`` names unset variables: (message, hint)."""
    refs = ", ".join(f"os.environ/{n}" for n in names)
    unset = ", ".join(names)
    return (f"issuers[].issuer is {refs}, and {unset} {'is' if len(names) == 1 else 'are'} not set, so that "
            "issuers entry is dropped", f"export {names[0]}=<the issuer URL> where the gateway and jwtgate run")
