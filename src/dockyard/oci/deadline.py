"""The overall deadline of a run's registry operations (pure: the clock is injected).

Per-phase timeouts (session.Timeouts) bound one silence; they do not bound a
registry that drips a byte every 20 s, nor a long chain of retries. A
`Deadline` bounds the total: every request attempt checks it, every socket
read and write gets at most the time left (deadlinenet), and the retry loop
never sleeps past it. It runs from the session's start; a driver whose
registry work comes after a long local phase (release builds first) calls
`restart` when that work begins.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from dockyard.config.durations import format_duration
from dockyard.errors import DeadlineExceeded

# 30 minutes: a multi-GB layer over a slow link fits; a hung CI job does not
# wait for the runner's own 6-hour limit.
DEFAULT_DEADLINE = 30 * 60.0
HOW_TO_RAISE = "give it more time with --timeout or [retry] deadline"


class Deadline:
    """`seconds` from start (None: no deadline) for what `phase` names."""

    def __init__(
        self,
        seconds: float | None = DEFAULT_DEADLINE,
        *,
        phase: str = "registry operations",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds = seconds
        self.phase = phase
        self._clock = clock
        self._start = clock()

    def restart(self, phase: str) -> None:
        """Start the clock again for `phase` (release: the publish after the builds)."""
        self.phase = phase
        self._start = self._clock()

    def remaining(self) -> float:
        if self.seconds is None:
            return float("inf")
        return self.seconds - (self._clock() - self._start)

    def expired(self) -> bool:
        return self.remaining() <= 0

    def error(self, doing: str, *, moved: int | None = None, total: int | None = None) -> DeadlineExceeded:
        """The one-line error for `doing` (the request or blob), with the bytes it had moved."""
        limit = format_duration(self.seconds) if self.seconds is not None else "no"
        text = f"{doing}: the {limit} deadline for {self.phase} passed"
        if moved is not None:
            text += f" after {moved} bytes" + (f" of {total}" if total is not None else "")
        return DeadlineExceeded(f"{text}; {HOW_TO_RAISE}")

    def check(self, doing: str, *, moved: int | None = None) -> None:
        if self.expired():
            raise self.error(doing, moved=moved)
