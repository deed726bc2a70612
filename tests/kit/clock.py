"""A fake clock: components take ``clock=`` and tests move it, never ``time.sleep``."""

from __future__ import annotations

START = 1_800_000_000.0


class FakeClock:
    """A wall clock that moves only when told."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
