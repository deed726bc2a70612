"""``jwtgate decode`` output: header and claims of an unverified token, times made readable."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from jwtgate.render.styled import Part, Styled
from jwtgate.timefmt import time_claims

BANNER = ("NOT VERIFIED: decoded only; the signature, issuer, audience and times were not checked "
          "(use 'jwtgate check-token')")


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _section(title: str, members: Mapping[str, Any], times: Mapping[str, Mapping[str, Any]],
             console: Styled) -> None:
    console.print((title, "bold"))
    width = max((len(k) for k in members), default=0)
    for name, value in members.items():
        line: list[Part] = [f"  {name.ljust(width)}  ", _value(value)]
        when = times.get(name)
        if when is not None:
            extra = f"{when['iso']} ({when['relative']})" if when["iso"] else when["problem"]
            line.append((f"  {extra}", "cyan"))
        console.print(*line)


def render_decoded_text(header: Mapping[str, Any], claims: dict[str, Any], fingerprint: str, now: float,
                        console: Styled) -> None:
    """Banner, fingerprint, header, claims (time claims as ISO and relative)."""
    console.print((BANNER, "bold yellow"))
    console.print(f"fingerprint  {fingerprint}")
    _section("header", header, {}, console)
    _section("claims", claims, time_claims(claims, now), console)


def decoded_to_json(header: Mapping[str, Any], claims: dict[str, Any], fingerprint: str,
                    now: float) -> dict[str, Any]:
    """``{verified: false, warning, fingerprint, header, claims, times}``."""
    return {"verified": False, "warning": BANNER, "fingerprint": fingerprint, "header": dict(header),
            "claims": claims, "times": time_claims(claims, now)}
