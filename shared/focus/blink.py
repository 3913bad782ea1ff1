"""Blink counting and blink rate over a sliding window.

Theory of operation
-------------------
The counter is fed each frame's :class:`Attention`. ``eyes_closed`` means closed, ``no_face`` and
``uncertain`` mean *unknown*, anything else means open. A blink is an open → closed edge followed
by closed → open within :data:`BLINK_MAX_S` (sample-and-hold: the closure lasts from the first
closed sample to the first open one). Longer closures are not blinks (dozing, resting the eyes).
An unknown frame cancels a closure in progress and a new edge needs an observed open frame first,
so tracking loss never invents blinks. A blink is dated at its closing edge.

The rate is the number of blinks dated within the window ``(now − 60 s, now]`` per minute of that
window; while less than 60 s have been observed the window is the observed span, so the rate is
meaningful early in a session.
"""

from __future__ import annotations

from collections import deque
from typing import Final

from shared.face import Attention
from shared.focus.attention import BLINK_MAX_S, TIME_EPSILON_S
from shared.focus.errors import InvalidSettingsError, OutOfOrderSampleError

__all__ = ["BLINK_MAX_S", "BLINK_WINDOW_S", "BlinkCounter"]

BLINK_WINDOW_S: Final[float] = 60.0
"""Length of the sliding window the blink rate is measured over."""


class BlinkCounter:
    """Counts blinks from per-frame attention and reports blinks per minute."""

    __slots__ = (
        "_closed_at",
        "_first_t",
        "_last_t",
        "_max_s",
        "_open",
        "_times",
        "_total",
        "_window_s",
    )

    def __init__(self, *, max_s: float = BLINK_MAX_S, window_s: float = BLINK_WINDOW_S) -> None:
        if not (0.0 < max_s < float("inf")) or not (0.0 < window_s < float("inf")):
            raise InvalidSettingsError(
                f"blink max_s and window_s must be finite and positive, got {max_s}, {window_s}"
            )
        self._max_s = max_s
        self._window_s = window_s
        self._times: deque[float] = deque()
        self._closed_at: float | None = None
        self._open = False
        self._total = 0
        self._first_t: float | None = None
        self._last_t = 0.0

    @property
    def total(self) -> int:
        """Blinks counted since the start."""
        return self._total

    def update(self, attention: Attention, t: float) -> bool:
        """Take one frame; true if it completed a blink."""
        if self._first_t is None:
            self._first_t = t
        elif t < self._last_t:
            raise OutOfOrderSampleError(f"blink sample at t={t} is before t={self._last_t}")
        self._last_t = t
        blinked = False
        if attention is Attention.EYES_CLOSED:
            if self._open:
                self._closed_at = t
            self._open = False
        elif attention is Attention.NO_FACE or attention is Attention.UNCERTAIN:
            self._closed_at = None
            self._open = False
        else:
            closed_at = self._closed_at
            if closed_at is not None and t - closed_at <= self._max_s + TIME_EPSILON_S:
                self._times.append(closed_at)
                self._total += 1
                blinked = True
            self._closed_at = None
            self._open = True
        cutoff = t - self._window_s
        times = self._times
        while times and times[0] <= cutoff:
            times.popleft()
        return blinked

    def rate(self, now: float) -> float:
        """Blinks per minute over the window ending at ``now`` (0 before any time has passed)."""
        if self._first_t is None:
            return 0.0
        if now < self._last_t:
            raise OutOfOrderSampleError(f"blink rate asked at t={now}, before t={self._last_t}")
        span = min(self._window_s, now - self._first_t)
        if span <= 0.0:
            return 0.0
        cutoff = now - self._window_s
        count = sum(1 for b in self._times if b > cutoff)
        return count * 60.0 / span
