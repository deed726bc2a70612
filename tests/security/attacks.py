"""The attack table: every known JWT attack as data, replayable against the Authenticator, ``check-token``
and ``serve``.

Each ``Attack`` names its source (RFC 8725, the OWASP JWT cheat sheet, PortSwigger's JWT labs,
jwt_tool's modes, CVEs in PyJWT / python-jose / authlib and others), builds its token from a ``Kit``,
and says how jwtgate must refuse it: the reason code and whether the token is refused while verifying
(``token.*``, ``key.*``) or verified and then denied by decide() (``policy.*``). Every attack token
carries the claims of an ordinary user, so a forged token that slipped through verification would be
*allowed* model 'small': a wrong outcome fails loudly.
"""

from __future__ import annotations

from tests.security import attacks_claims, attacks_header
from tests.security.table import ATTACKS, Attack

__all__ = ["ATTACKS", "Attack", "attacks_claims", "attacks_header"]
