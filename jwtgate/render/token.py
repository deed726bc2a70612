"""``jwtgate decode`` output: header and claims of an unverified token, times made readable."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.text import Text

from jwtgate.timefmt import time_claims

BANNER = ("NOT VERIFIED: decoded only; the signature, issuer, audience and times were not checked "
          "(use 'jwtgate check-token')")


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _section(title: str, members: Mapping[str, Any], times: Mapping[str, Mapping[str, Any]],
             console: Console) -> None:
    console.print(Text(title, style="bold"))
    width = max((len(k) for k in members), default=0)
    for name, value in members.items():
        line = Text(f"  {name.ljust(width)}  ")
        line.append(_value(value))
        when = times.get(name)
        if when is not None:
            extra = f"{when['iso']} ({when['relative']})" if when["iso"] else when["problem"]
            line.append(f"  {extra}", style="cyan")
        console.print(line)


def render_decoded_text(header: Mapping[str, Any], claims: dict[str, Any], fingerprint: str, now: float,
                        console: Console) -> None:
    """Banner, fingerprint, header, claims (time claims as ISO and relative)."""
    console.print(Text(BANNER, style="bold yellow"))
    console.print(Text(f"fingerprint  {fingerprint}"))
    _section("header", header, {}, console)
    _section("claims", claims, time_claims(claims, now), console)


def decoded_to_json(header: Mapping[str, Any], claims: dict[str, Any], fingerprint: str,
                    now: float) -> dict[str, Any]:
    """``{verified: false, warning, fingerprint, header, claims, times}``."""
    return {"verified": False, "warning": BANNER, "fingerprint": fingerprint, "header": dict(header),
            "claims": claims, "times": time_claims(claims, now)}
