"""One face observation (:class:`FaceSample`) and the attention states the focus rules assign to it.

Head-pose conventions (degrees, the subject's point of view, camera image *not*
mirrored):

- ``yaw``   > 0: the subject turns their head to their own **left**; < 0 to their right.
- ``pitch`` > 0: the subject tilts their head **up** (chin up); < 0 down.
- ``roll``  > 0: the head tilts towards the subject's own **left** shoulder.

Ranges: yaw and roll in [-180, 180], pitch in [-90, 90]. ``confidence`` is the
tracker's confidence in [0, 1]; ``present`` says whether a face was seen at all.
A sample with ``present=False`` carries neutral blendshapes and zero pose.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from shared.blendshapes import COUNT, index_of

YAW_LIMIT: Final[float] = 180.0
PITCH_LIMIT: Final[float] = 90.0
ROLL_LIMIT: Final[float] = 180.0

NEUTRAL_WEIGHTS: Final[tuple[float, ...]] = (1.0,) + (0.0,) * (COUNT - 1)
"""Blendshapes of an expressionless face (``_neutral`` = 1, everything else 0)."""


class Attention(StrEnum):
    """What the student is doing in one frame, as the focus rules classify it.

    Directions are the student's own: ``looking_left`` means towards their left.
    """

    FOCUSED = "focused"
    LOOKING_LEFT = "looking_left"
    LOOKING_RIGHT = "looking_right"
    LOOKING_UP = "looking_up"
    LOOKING_DOWN = "looking_down"
    LOOKING_DIAGONAL = "looking_diagonal"
    EYES_CLOSED = "eyes_closed"
    NO_FACE = "no_face"
    UNCERTAIN = "uncertain"

    @property
    def is_away(self) -> bool:
        """Counts towards the Distraction Guard (everything but focused and uncertain)."""
        return self not in (Attention.FOCUSED, Attention.UNCERTAIN)


class InvalidSampleError(ValueError):
    """A face sample with NaN, infinite or out-of-range values, or the wrong number of weights."""


@dataclass(frozen=True, slots=True)
class FaceSample:
    """One tracker result: time, 52 blendshape weights (MediaPipe order), head pose, confidence.

    ``t`` is in seconds on the producer's monotonic clock. Construction
    validates every value, so a ``FaceSample`` in hand is always sane.
    """

    t: float
    blendshapes: tuple[float, ...] = NEUTRAL_WEIGHTS
    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0
    confidence: float = 1.0
    present: bool = True

    def __post_init__(self) -> None:
        if not math.isfinite(self.t):
            raise InvalidSampleError(f"sample time must be finite, got {self.t!r}")
        if len(self.blendshapes) != COUNT:
            raise InvalidSampleError(
                f"expected {COUNT} blendshape weights, got {len(self.blendshapes)}"
            )
        weights = self.blendshapes
        # Fast path (the server validates every relayed frame): min/max bound the range and
        # a NaN anywhere makes the sum NaN. Only a bad sample pays for the loop naming it.
        total = sum(weights)
        if not (total == total and min(weights) >= 0.0 and max(weights) <= 1.0):
            for i, w in enumerate(weights):
                if not (0.0 <= w <= 1.0):  # also rejects NaN
                    raise InvalidSampleError(f"blendshape {i} weight {w!r} is outside [0, 1]")
        for name, value, limit in (
            ("yaw", self.yaw, YAW_LIMIT),
            ("pitch", self.pitch, PITCH_LIMIT),
            ("roll", self.roll, ROLL_LIMIT),
        ):
            if not (-limit <= value <= limit):
                raise InvalidSampleError(f"{name} {value!r} is outside [-{limit}, {limit}] degrees")
        if not (0.0 <= self.confidence <= 1.0):
            raise InvalidSampleError(f"confidence {self.confidence!r} is outside [0, 1]")

    @classmethod
    def prevalidated(
        cls,
        t: float,
        blendshapes: tuple[float, ...],
        yaw: float,
        pitch: float,
        roll: float,
        confidence: float,
        present: bool,
    ) -> FaceSample:
        """A sample from values that are valid by construction (the codec's decoder makes them
        from bytes whose every value is in range), without checking them again; only ``t``,
        which comes from the caller, is checked. The relay builds one per received frame."""
        if not math.isfinite(t):
            raise InvalidSampleError(f"sample time must be finite, got {t!r}")
        sample = object.__new__(cls)
        # The slots' own setters (what the frozen __init__ reaches through object.__setattr__),
        # called directly: about half the cost of seven object.__setattr__ calls.
        set_t, set_shapes, set_yaw, set_pitch, set_roll, set_conf, set_present = _SLOT_SETTERS
        set_t(sample, t)
        set_shapes(sample, blendshapes)
        set_yaw(sample, yaw)
        set_pitch(sample, pitch)
        set_roll(sample, roll)
        set_conf(sample, confidence)
        set_present(sample, present)
        return sample

    def weight(self, name: str) -> float:
        """The weight of one blendshape by name."""
        return self.blendshapes[index_of(name)]

    @classmethod
    def absent(cls, t: float) -> FaceSample:
        """A frame in which no face was found."""
        return cls(t=t, confidence=0.0, present=False)


_SLOT_SETTERS: Final[tuple[Callable[[FaceSample, Any], None], ...]] = tuple(
    getattr(FaceSample, name).__set__
    for name in ("t", "blendshapes", "yaw", "pitch", "roll", "confidence", "present")
)
"""The ``__set__`` of each :class:`FaceSample` slot, in field order (for ``prevalidated``)."""
