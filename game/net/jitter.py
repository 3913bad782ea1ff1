"""Per-member jitter buffers: relayed face frames played out a little late, interpolated.

Theory of operation
-------------------
Each ``frames`` batch stamps its entries with the server's tick time. A member's frames are
kept, decoded, in a short :class:`JitterBuffer` ordered by that time. The game renders
member faces at the *playout time* ``server_now − PLAYOUT_DELAY_S``: far enough behind the
newest batch that the next one has usually arrived, so there are two frames around the
playout time and :func:`interpolate` blends them linearly (blendshapes, confidence, pitch;
yaw and roll along the shorter arc). When the buffer runs dry (the member stopped sending,
or a batch is late) the newest frame is held; before the oldest, the oldest is shown.
``present`` comes from the nearer frame: a face does not half-appear.

Buffers are immutable values; :meth:`JitterBuffer.push` returns a new one, so the network
thread can publish them and the render thread read them without locks.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Final

from shared.face import FaceSample

PLAYOUT_DELAY_S: Final[float] = 0.1
"""How far behind the server's clock member faces are shown: 1.5 relay ticks at 15 Hz, so one
late or lost batch is bridged by interpolation instead of a freeze."""

BUFFER_FRAMES: Final[int] = 16
"""Frames kept per member (about a second at 15 Hz): far more than the playout delay needs."""


@dataclass(frozen=True, slots=True)
class JitterBuffer:
    """One member's recent frames as ``(server_time_s, sample)`` pairs, oldest first."""

    entries: tuple[tuple[float, FaceSample], ...] = ()

    def push(self, server_t: float, sample: FaceSample) -> JitterBuffer:
        """The buffer with a frame stamped ``server_t`` added; a frame not newer than the
        newest one (a duplicate or a reordered batch) is ignored."""
        if self.entries and server_t <= self.entries[-1][0]:
            return self
        kept = self.entries[-(BUFFER_FRAMES - 1) :] if BUFFER_FRAMES > 1 else ()
        return JitterBuffer((*kept, (server_t, sample)))

    @property
    def newest_t(self) -> float | None:
        """Server time of the newest frame, or None when empty."""
        return self.entries[-1][0] if self.entries else None

    def sample_at(self, t: float) -> FaceSample | None:
        """The face at server time ``t``: interpolated between the two frames around it, the
        newest frame after the end (held), the oldest before the start; None when empty.
        The sample's ``t`` is the requested time."""
        entries = self.entries
        if not entries:
            return None
        times = [e[0] for e in entries]
        i = bisect.bisect_right(times, t)
        if i == 0:
            return _restamp(entries[0][1], t)
        if i == len(entries):
            return _restamp(entries[-1][1], t)
        (t0, a), (t1, b) = entries[i - 1], entries[i]
        return interpolate(a, b, (t - t0) / (t1 - t0), t)


def interpolate(a: FaceSample, b: FaceSample, alpha: float, t: float) -> FaceSample:
    """The face ``alpha`` of the way from ``a`` to ``b`` (clamped to [0, 1]), stamped ``t``."""
    alpha = min(1.0, max(0.0, alpha))
    beta = 1.0 - alpha
    shapes = [x + (y - x) * alpha for x, y in zip(a.blendshapes, b.blendshapes, strict=True)]
    # Rounding can push a blend of two valid weights a hair outside [0, 1]; clamp only then.
    if min(shapes) < 0.0 or max(shapes) > 1.0:
        shapes = [min(1.0, max(0.0, w)) for w in shapes]
    return FaceSample(
        t=t,
        blendshapes=tuple(shapes),
        yaw=_lerp_angle(a.yaw, b.yaw, alpha),
        pitch=min(90.0, max(-90.0, a.pitch * beta + b.pitch * alpha)),
        roll=_lerp_angle(a.roll, b.roll, alpha),
        confidence=min(1.0, max(0.0, a.confidence * beta + b.confidence * alpha)),
        present=(a if alpha < 0.5 else b).present,
    )


def _lerp_angle(a: float, b: float, alpha: float) -> float:
    """Blend two angles in [-180, 180] the short way round (170° → −170° passes 180°)."""
    delta = (b - a + 180.0) % 360.0 - 180.0
    out = a + delta * alpha
    if out > 180.0:
        out -= 360.0
    elif out < -180.0:
        out += 360.0
    return out


def _restamp(sample: FaceSample, t: float) -> FaceSample:
    return FaceSample(
        t=t,
        blendshapes=sample.blendshapes,
        yaw=sample.yaw,
        pitch=sample.pitch,
        roll=sample.roll,
        confidence=sample.confidence,
        present=sample.present,
    )
