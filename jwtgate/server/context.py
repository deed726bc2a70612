"""The per-request record: what the access log line and the metrics say about one request."""

from __future__ import annotations

from typing import Any


class Ctx:
    """Filled in as a request goes through; one JSON log line is made from it at the end."""

    __slots__ = ("claims", "complete", "decided", "decision", "disconnected", "fingerprint", "iss", "kid", "method",
                 "model", "path", "reason", "role", "shadow", "started", "status", "subject", "t0", "upstream_status")

    def __init__(self, method: str, path: str, t0: float) -> None:
        self.method, self.path, self.t0 = method, path, t0
        self.model: str | None = None
        self.subject: str | None = None
        self.role: str | None = None
        self.decision = "none"
        self.reason: str | None = None
        self.status = 0
        self.upstream_status: int | None = None
        self.fingerprint: str | None = None  # of the bearer token, whenever one was sent (never the token)
        self.kid: str | None = None  # the token's kid and iss: verified when allowed, as sent when refused
        self.iss: str | None = None
        self.started = False
        self.complete = False
        self.disconnected = False
        self.decided: dict[str, Any] | None = None  # log_claims: the request as decided and its outcome
        self.claims: dict[str, Any] | None = None  # log_claims: the verified claims the policies read
        self.shadow: dict[str, Any] | None = None  # --shadow-config: the shadow's outcome, when it differs

    def record(self, latency_ms: float) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method, "path": self.path, "model": self.model,
                               "subject": self.subject, "role": self.role, "decision": self.decision,
                               "reason": self.reason, "status": self.status, "upstream_status": self.upstream_status,
                               "latency_ms": round(latency_ms, 3), "token": self.fingerprint, "kid": self.kid,
                               "iss": self.iss}
        if self.shadow is not None:
            out["shadow"] = self.shadow
        if self.decided is not None:
            out["decided"], out["claims"] = self.decided, self.claims
        return out
