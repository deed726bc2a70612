"""What ``jwtgate.identity`` would send upstream, as text lines and JSON (check-token, explain)."""

from __future__ import annotations

from typing import Any

from jwtgate.policy.identity import Identity

USER_FIELDS = "body 'user' (chat, completions, embeddings, responses; Anthropic metadata.user_id)"


def identity_lines(identity: Identity) -> list[str]:
    """One line per header, then the end-user value (or why serve would refuse the request)."""
    lines = [f"upstream header {name}: {value}" for name, value in identity.headers]
    if identity.problem:
        lines.append(f"upstream header refused: {identity.problem} (serve answers 403 policy.identity_invalid)")
    if identity.user is not None:
        lines.append(f"upstream {USER_FIELDS}: {identity.user}")
    elif identity.user_problem:
        lines.append(f"upstream {USER_FIELDS}: none: {identity.user_problem} (serve answers 403 "
                     "policy.identity_missing)")
    return lines


def identity_json(identity: Identity) -> dict[str, Any]:
    return {"headers": dict(identity.headers), "user": identity.user, "user_problem": identity.user_problem,
            "problem": identity.problem}
