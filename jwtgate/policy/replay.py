"""Replay: re-decide the requests of a ``serve`` access log with another policy and report what would change.

An access line written with ``jwtgate.serve.log_claims: true`` holds what was decided (``decided``: the
route, the model, whether it was a model call, the outcome and its reason code) and the verified claims
the policy reads (``claims``, see ``log_claims``); that is all decide() needs, so signatures are not
re-checked. Lines that are not access lines, cannot be parsed (truncated
or rotated mid-line) or carry no policy decision are counted, never fatal. Linear in
the log: one JSON parse per line and one decide() per distinct (claims, route, model).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jwtgate.model import Policy, Request
from jwtgate.policy.claims import lookup, split_path
from jwtgate.policy.decision import decide, decision_claim_paths

ALLOWED_TO_DENIED, DENIED_TO_ALLOWED = "allowed -> denied", "denied -> allowed"
OPTIONAL_PATHS = frozenset({"scope", "_claim_names", "hasgroups"})  # usually absent; not worth a warning
MEMO_SIZE = 100_000
_encode = json.JSONEncoder(separators=(",", ":")).encode  # serve writes claims in one order


def log_claims(claims: Mapping[str, Any], paths: Iterable[str]) -> dict[str, Any]:
    """The part of verified ``claims`` at ``paths`` (nested as in the token): what an access line keeps."""
    out: dict[str, Any] = {}
    for path in paths:
        found, value = lookup(claims, path)
        if not found:
            continue
        parts = split_path(path)
        node = out
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                break
            node = child
        else:
            node[parts[-1]] = value
    return out


def subject_fingerprint(subject: str | None) -> str:
    """A short, stable stand-in for a subject in reports (the log itself names it)."""
    if not subject:
        return "(no subject)"
    return hashlib.sha256(subject.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class ReplayChange:
    """Logged requests of one (direction, role, model, subject) whose outcome the new policy flips."""

    direction: str
    role: str | None
    new_role: str | None
    model: str | None
    subject: str
    count: int
    routes: tuple[str, ...]
    old_reasons: tuple[str, ...]
    new_reasons: tuple[str, ...]

    @property
    def widens(self) -> bool:
        return self.direction == DENIED_TO_ALLOWED


@dataclass(frozen=True, slots=True)
class ReplayReport:
    """What replaying a log with ``config`` found; the counts say which lines were not replayed."""

    config: str
    lines: int
    replayed: int
    unreadable: int
    other: int
    undecided: int
    changes: tuple[ReplayChange, ...]
    unlogged_paths: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not self.changes

    @property
    def widens(self) -> bool:
        return any(c.widens for c in self.changes)

    @property
    def changed(self) -> int:
        return sum(c.count for c in self.changes)


@dataclass
class _Group:
    count: int = 0
    routes: dict[str, None] = field(default_factory=dict)
    old: dict[str, None] = field(default_factory=dict)
    new: dict[str, None] = field(default_factory=dict)


class Replayer:
    """Feed it log lines (``feed``), then ask for the ``report()``."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.paths = decision_claim_paths(policy)
        self.seen_paths: set[str] = set()
        self.memo: dict[tuple[str, str | None, bool, str], tuple[bool, str | None, str | None]] = {}
        self.groups: dict[tuple[str, str | None, str | None, str | None, str], _Group] = {}
        self.counts = {"lines": 0, "replayed": 0, "unreadable": 0, "other": 0, "undecided": 0}

    def feed(self, line: str) -> None:
        """One log line; anything but a decided access line with claims is only counted."""
        counts = self.counts
        counts["lines"] += 1
        text = line.strip()
        if not text.startswith("{"):  # a server event, or the tail of a line cut by rotation
            counts["unreadable" if text.endswith("}") else "other"] += 1
            return
        try:
            record = json.loads(text)
        except ValueError:
            counts["unreadable"] += 1
            return
        kind = _kind(record)
        if kind != "replay":
            counts[kind] += 1
            return
        counts["replayed"] += 1
        self._replay(record)

    def _replay(self, record: dict[str, Any]) -> None:
        claims, decided = record["claims"], record["decided"]
        route, model, model_call = decided["route"], decided.get("model"), decided.get("model_call") is True
        key = (route, model, model_call, _encode(claims))
        outcome = self.memo.get(key)
        if outcome is None:
            d = decide(self.policy, claims, Request(model, route, model_call))
            outcome = (d.allowed, d.reason.code if d.reason else None, d.role)
            if len(self.memo) >= MEMO_SIZE:
                self.memo.clear()
            self.memo[key] = outcome
            self.seen_paths.update(p for p in self.paths if lookup(claims, p)[0])
        allowed, code, new_role = outcome
        was_allowed = decided.get("allowed") is True
        if allowed == was_allowed:
            return
        direction = DENIED_TO_ALLOWED if allowed else ALLOWED_TO_DENIED
        subject = subject_fingerprint(record.get("subject"))
        group = self.groups.setdefault((direction, record.get("role"), new_role, model, subject), _Group())
        group.count += 1
        group.routes.setdefault(route)
        group.old.setdefault(str(decided.get("reason") or "allowed"))
        group.new.setdefault(code or "allowed")

    def report(self) -> ReplayReport:
        changes = tuple(
            ReplayChange(direction, role, new_role, model, subject, g.count, tuple(g.routes), tuple(g.old),
                         tuple(g.new))
            for (direction, role, new_role, model, subject), g in sorted(
                self.groups.items(), key=lambda kv: (kv[0][0], str(kv[0][1]), str(kv[0][3]), -kv[1].count)))
        unlogged = tuple(p for p in self.paths if p not in self.seen_paths and p not in OPTIONAL_PATHS)
        c = self.counts
        return ReplayReport(self.policy.file, c["lines"], c["replayed"], c["unreadable"], c["other"],
                            c["undecided"], changes,
                            unlogged if c["replayed"] else ())


def _kind(record: Any) -> str:
    """'replay' for an access line with a policy decision and claims, else the counter it goes to."""
    if not isinstance(record, dict) or not isinstance(record.get("path"), str) or "decision" not in record:
        return "other"
    decided = record.get("decided")
    if decided is None:  # refused before a decision (401, 400), ops, or logged without log_claims
        return "undecided"
    if not isinstance(decided, dict) or not isinstance(decided.get("route"), str) \
            or not isinstance(decided.get("model", None), str | None) or not isinstance(record.get("claims"), dict):
        return "unreadable"
    return "replay"


def replay(policy: Policy, lines: Iterable[str]) -> ReplayReport:
    """Replay every line with ``policy``."""
    replayer = Replayer(policy)
    for line in lines:
        replayer.feed(line)
    return replayer.report()
