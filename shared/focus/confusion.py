"""Confusion episodes: a sustained furrowed brow, reported as high-cognitive-load moments.

Theory of operation
-------------------
The tracker is fed one "is the brow furrowed" flag per frame (see
:func:`shared.focus.attention.brow_furrowed`: mean browDownLeft/Right above its calibrated neutral
by ``confusion_brow_level``; an absent or uncertain face counts as relaxed) and holds each flag
until the next frame. A candidate starts at the first furrowed frame. It ends at the first relaxed
frame after which the brow stayed relaxed for ``relax_s`` (1 s); shorter dips are bridged, so a
brow that flickers around the level stays one episode. A gap longer than ``gap_cap_s`` between
frames counts as relaxed from the last frame before it. A finished candidate lasting at least
``min_s`` (3 s) from start to end is reported as a :class:`ConfusionEpisode`; shorter ones are
dropped.

Episodes carry times only; which subject was being studied is the caller's knowledge, passed in as
an optional ``subject`` label that is copied onto every episode.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from shared.focus.attention import CONFUSION_MIN_S, CONFUSION_RELAX_S, TIME_EPSILON_S
from shared.focus.errors import InvalidSettingsError, OutOfOrderSampleError

CONFUSION_GAP_CAP_S: Final[float] = 1.0
"""Frame gap beyond which the brow is taken as relaxed from the last frame seen (tracking lost)."""


@dataclass(frozen=True, slots=True)
class ConfusionEpisode:
    """A stretch of sustained furrowed brow, from its first furrowed frame to when it relaxed."""

    start: float
    end: float
    subject: str | None = None

    @property
    def t(self) -> float:
        """When the episode ended (every focus event has a ``t``)."""
        return self.end

    @property
    def duration(self) -> float:
        """Length of the episode in seconds."""
        return self.end - self.start


class ConfusionTracker:
    """Turns per-frame furrowed-brow flags into :class:`ConfusionEpisode` values."""

    __slots__ = (
        "_gap_cap_s",
        "_last_t",
        "_min_s",
        "_relax_s",
        "_relaxed_since",
        "_start",
        "_started",
        "subject",
    )

    def __init__(
        self,
        *,
        min_s: float = CONFUSION_MIN_S,
        relax_s: float = CONFUSION_RELAX_S,
        gap_cap_s: float = CONFUSION_GAP_CAP_S,
        subject: str | None = None,
    ) -> None:
        for name, value in (("min_s", min_s), ("relax_s", relax_s), ("gap_cap_s", gap_cap_s)):
            if not (math.isfinite(value) and value > 0.0):
                raise InvalidSettingsError(f"confusion {name} must be finite and positive")
        self._min_s = min_s
        self._relax_s = relax_s
        self._gap_cap_s = gap_cap_s
        self.subject = subject
        self._start: float | None = None
        self._relaxed_since: float | None = None
        self._started = False
        self._last_t = 0.0

    def update(self, furrowed: bool, t: float) -> ConfusionEpisode | None:
        """Take one frame; returns the episode that this frame finished, if any."""
        if not self._started:
            self._started = True
        elif t < self._last_t:
            raise OutOfOrderSampleError(f"confusion sample at t={t} is before t={self._last_t}")
        episode = None
        start = self._start
        if start is not None:
            if self._relaxed_since is None and t - self._last_t > self._gap_cap_s:
                self._relaxed_since = self._last_t
            relaxed_since = self._relaxed_since
            if relaxed_since is not None and t - relaxed_since >= self._relax_s - TIME_EPSILON_S:
                if relaxed_since - start >= self._min_s - TIME_EPSILON_S:
                    episode = ConfusionEpisode(start, relaxed_since, self.subject)
                self._start = self._relaxed_since = None
        if furrowed:
            if self._start is None:
                self._start = t
            self._relaxed_since = None
        elif self._start is not None and self._relaxed_since is None:
            self._relaxed_since = t
        self._last_t = t
        return episode

    def active(self, now: float) -> bool:
        """An episode is under way at ``now``: furrowed (dips bridged) for at least ``min_s``."""
        if self._start is None:
            return False
        end = self._relaxed_since if self._relaxed_since is not None else now
        return end - self._start >= self._min_s - TIME_EPSILON_S

    def open_episode(self, now: float) -> ConfusionEpisode | None:
        """The episode under way at ``now`` as if it ended there (for summaries), if long enough."""
        if self._started and now < self._last_t:
            raise OutOfOrderSampleError(f"confusion asked at t={now}, before t={self._last_t}")
        start = self._start
        if start is None:
            return None
        if self._relaxed_since is not None:
            end = self._relaxed_since
        elif now - self._last_t > self._gap_cap_s:
            end = self._last_t
        else:
            end = now
        if end - start < self._min_s - TIME_EPSILON_S:
            return None
        return ConfusionEpisode(start, end, self.subject)
