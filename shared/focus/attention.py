"""Per-frame attention: one :class:`FaceSample` plus a per-user :class:`Calibration` → :class:`Attention`.

Theory of operation
-------------------
:func:`classify` looks at one frame on its own (no history) and decides, in this order:

1. ``present`` is false → ``no_face``.
2. ``confidence`` < ``confidence_floor`` (0.5) → ``uncertain``: the tracker saw something but its
   numbers are not worth judging.
3. Both ``eyeBlinkLeft`` and ``eyeBlinkRight``, minus their calibrated neutral values, are at least
   ``eyes_closed_level`` → ``eyes_closed``. This is checked before gaze because the eyeLook*
   shapes are meaningless behind closed lids (and both outcomes are "away" anyway).
4. Where the student is looking, as one *effective gaze* angle per axis::

       gaze_h = (eyeLookOutLeft + eyeLookInRight − eyeLookInLeft − eyeLookOutRight) / 2
       gaze_v = (eyeLookUpLeft + eyeLookUpRight − eyeLookDownLeft − eyeLookDownRight) / 2
       yaw_eff   = wrap(yaw − centre_yaw)   + (gaze_h − neutral gaze_h) · gaze_yaw_deg
       pitch_eff = (pitch − centre_pitch)   + (gaze_v − neutral gaze_v) · gaze_pitch_deg

   ``gaze_h``/``gaze_v`` are in [−1, 1] with the pose's signs (+ = the subject's own left / up),
   so eye rotation simply adds to head rotation: a sideways glance with the eyes only counts, and a
   head turned left while the eyes stay on the screen (eyes turned right) cancels out, as it
   should. ``gaze_*_deg`` says how many degrees a fully saturated eyeLook shape stands for.
5. Horizontal: ``yaw_eff > yaw_away_deg`` → left, ``< −yaw_away_deg`` → right. Vertical:
   ``pitch_eff > pitch_up_deg`` → up, ``< −pitch_down_deg`` → down. Both → ``looking_diagonal``;
   one → that direction; neither → ``focused``.

The downward limit is deliberately more lenient than the upward one: students look down at their
notes, a textbook or the keyboard while working, and that must not count as distraction, while
looking up (at the ceiling, out of a window) has no such excuse. A phone held in the lap sits well
below the default 30°; both limits are configurable per user.

Directions are the subject's own (see :mod:`shared.face`): ``yaw > 0`` turns to their left →
``looking_left``. Everything is relative to the user's :class:`Calibration` (where their screen is
and what their resting face looks like); the default calibration is centre (0, 0) and a neutral face.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

from shared.blendshapes import COUNT, index_of
from shared.face import NEUTRAL_WEIGHTS, PITCH_LIMIT, YAW_LIMIT, Attention, FaceSample
from shared.focus.errors import InvalidCalibrationError, InvalidSettingsError, NoUsableSamplesError

YAW_AWAY_DEG: Final[float] = 25.0
"""Effective yaw beyond which the student looks left/right: a laptop screen at arm's length spans
about ±15°, so 25° leaves room for reading the edges of the screen with head and eyes."""

PITCH_UP_DEG: Final[float] = 15.0
"""Effective pitch above which the student looks up (nothing to study up there)."""

PITCH_DOWN_DEG: Final[float] = 30.0
"""Effective pitch below which the student looks down: lenient, because glancing at notes and the
keyboard is part of studying (see the module docstring)."""

GAZE_YAW_DEG: Final[float] = 30.0
"""Degrees of horizontal gaze that a fully saturated eyeLookIn/Out pair stands for."""

GAZE_PITCH_DEG: Final[float] = 20.0
"""Degrees of vertical gaze that a fully saturated eyeLookUp/Down pair stands for (the eyes' vertical
range is smaller than their horizontal one)."""

EYES_CLOSED_LEVEL: Final[float] = 0.5
"""eyeBlink weight above the neutral one at which an eye counts as closed (both must be)."""

CONFIDENCE_FLOOR: Final[float] = 0.5
"""Tracker confidence below which a seen face is ``uncertain`` (product rule)."""

CONFUSION_BROW_LEVEL: Final[float] = 0.4
"""Mean browDownLeft/Right above neutral at which the brow counts as furrowed."""

CONFUSION_MIN_S: Final[float] = 3.0
"""Shortest furrowed stretch that is reported as a confusion episode."""

CONFUSION_RELAX_S: Final[float] = 1.0
"""How long the brow must stay relaxed before an episode ends (shorter dips are bridged)."""

BLINK_MAX_S: Final[float] = 0.5
"""Longest eye closure that is a blink (physiological blinks last 0.1–0.4 s); longer ones are
resting or dozing. Used by the blink counter and by the Distraction Guard's blink grace."""

TIME_EPSILON_S: Final[float] = 1e-9
"""Float slack so that a duration reached exactly by summed frame intervals counts as reached."""

_BLINK_L: Final = index_of("eyeBlinkLeft")
_BLINK_R: Final = index_of("eyeBlinkRight")
_OUT_L: Final = index_of("eyeLookOutLeft")
_OUT_R: Final = index_of("eyeLookOutRight")
_IN_L: Final = index_of("eyeLookInLeft")
_IN_R: Final = index_of("eyeLookInRight")
_UP_L: Final = index_of("eyeLookUpLeft")
_UP_R: Final = index_of("eyeLookUpRight")
_DOWN_L: Final = index_of("eyeLookDownLeft")
_DOWN_R: Final = index_of("eyeLookDownRight")
_BROW_L: Final = index_of("browDownLeft")
_BROW_R: Final = index_of("browDownRight")


def _finite_positive(name: str, value: float) -> None:
    if not (math.isfinite(value) and value > 0.0):
        raise InvalidSettingsError(f"{name} must be a finite positive number, got {value!r}")


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The tunable limits of the focus rules (angles in degrees, weights in [0, 1], times in s)."""

    yaw_away_deg: float = YAW_AWAY_DEG
    pitch_up_deg: float = PITCH_UP_DEG
    pitch_down_deg: float = PITCH_DOWN_DEG
    gaze_yaw_deg: float = GAZE_YAW_DEG
    gaze_pitch_deg: float = GAZE_PITCH_DEG
    eyes_closed_level: float = EYES_CLOSED_LEVEL
    confidence_floor: float = CONFIDENCE_FLOOR
    confusion_brow_level: float = CONFUSION_BROW_LEVEL
    confusion_min_s: float = CONFUSION_MIN_S
    confusion_relax_s: float = CONFUSION_RELAX_S

    def __post_init__(self) -> None:
        for name in ("yaw_away_deg", "pitch_up_deg", "pitch_down_deg"):
            _finite_positive(name, getattr(self, name))
            if getattr(self, name) >= 180.0:
                raise InvalidSettingsError(f"{name} must be below 180°, got {getattr(self, name)}")
        for name in ("gaze_yaw_deg", "gaze_pitch_deg"):
            value = getattr(self, name)
            # Zero is allowed: it switches the eye-gaze contribution off.
            if not (math.isfinite(value) and 0.0 <= value <= 90.0):
                raise InvalidSettingsError(f"{name} must be within [0, 90], got {value!r}")
        for name in ("eyes_closed_level", "confusion_brow_level"):
            value = getattr(self, name)
            if not (0.0 < value <= 1.0):
                raise InvalidSettingsError(f"{name} must be within (0, 1], got {value!r}")
        if not (0.0 <= self.confidence_floor <= 1.0):
            raise InvalidSettingsError(
                f"confidence_floor must be within [0, 1], got {self.confidence_floor!r}"
            )
        _finite_positive("confusion_min_s", self.confusion_min_s)
        _finite_positive("confusion_relax_s", self.confusion_relax_s)


def horizontal_gaze(weights: tuple[float, ...]) -> float:
    """Eye-only horizontal gaze in [−1, 1]; + towards the subject's own left (same sign as yaw)."""
    return (weights[_OUT_L] + weights[_IN_R] - weights[_IN_L] - weights[_OUT_R]) * 0.5


def vertical_gaze(weights: tuple[float, ...]) -> float:
    """Eye-only vertical gaze in [−1, 1]; + up (same sign as pitch)."""
    return (weights[_UP_L] + weights[_UP_R] - weights[_DOWN_L] - weights[_DOWN_R]) * 0.5


def brow_down(weights: tuple[float, ...]) -> float:
    """Mean of browDownLeft and browDownRight (the furrowed-brow signal)."""
    return (weights[_BROW_L] + weights[_BROW_R]) * 0.5


@dataclass(frozen=True, slots=True)
class Calibration:
    """One user's resting face, where their screen is, and their thresholds.

    ``neutral`` holds the 52 blendshape weights of the user's relaxed face looking at the screen
    (MediaPipe order); ``centre_yaw``/``centre_pitch`` is the head pose at which they look at the
    screen. The default is a straight-ahead screen and an expressionless face.
    """

    neutral: tuple[float, ...] = NEUTRAL_WEIGHTS
    centre_yaw: float = 0.0
    centre_pitch: float = 0.0
    thresholds: Thresholds = Thresholds()
    # Derived once here so that classifying a frame does no repeated work.
    blink_left0: float = field(init=False, repr=False, compare=False)
    blink_right0: float = field(init=False, repr=False, compare=False)
    gaze_h0: float = field(init=False, repr=False, compare=False)
    gaze_v0: float = field(init=False, repr=False, compare=False)
    brow0: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.neutral) != COUNT:
            raise InvalidCalibrationError(
                f"expected {COUNT} neutral weights, got {len(self.neutral)}"
            )
        for i, w in enumerate(self.neutral):
            if not (0.0 <= w <= 1.0):  # also rejects NaN
                raise InvalidCalibrationError(f"neutral weight {i} is {w!r}, outside [0, 1]")
        if not (-YAW_LIMIT <= self.centre_yaw <= YAW_LIMIT):
            raise InvalidCalibrationError(f"centre_yaw {self.centre_yaw!r} is out of range")
        if not (-PITCH_LIMIT <= self.centre_pitch <= PITCH_LIMIT):
            raise InvalidCalibrationError(f"centre_pitch {self.centre_pitch!r} is out of range")
        neutral = tuple(float(w) for w in self.neutral)
        object.__setattr__(self, "neutral", neutral)
        object.__setattr__(self, "blink_left0", neutral[_BLINK_L])
        object.__setattr__(self, "blink_right0", neutral[_BLINK_R])
        object.__setattr__(self, "gaze_h0", horizontal_gaze(neutral))
        object.__setattr__(self, "gaze_v0", vertical_gaze(neutral))
        object.__setattr__(self, "brow0", brow_down(neutral))

    @classmethod
    def from_samples(
        cls, samples: Iterable[FaceSample], thresholds: Thresholds | None = None
    ) -> Calibration:
        """Average the confidently tracked samples of a "look at your screen and relax" capture."""
        th = thresholds if thresholds is not None else Thresholds()
        sums = [0.0] * COUNT
        yaw = pitch = 0.0
        n = 0
        for s in samples:
            if not s.present or s.confidence < th.confidence_floor:
                continue
            for i, w in enumerate(s.blendshapes):
                sums[i] += w
            yaw += s.yaw
            pitch += s.pitch
            n += 1
        if n == 0:
            raise NoUsableSamplesError("no present sample at or above the confidence floor")
        neutral = tuple(min(1.0, max(0.0, x / n)) for x in sums)
        return cls(neutral=neutral, centre_yaw=yaw / n, centre_pitch=pitch / n, thresholds=th)


DEFAULT_CALIBRATION: Final[Calibration] = Calibration()
"""Screen straight ahead, expressionless neutral face, default :class:`Thresholds`."""


def eyes_closed(sample: FaceSample, calibration: Calibration = DEFAULT_CALIBRATION) -> bool:
    """Both eyes closed beyond the calibrated level (ignores presence and confidence)."""
    w = sample.blendshapes
    level = calibration.thresholds.eyes_closed_level
    return (
        w[_BLINK_L] - calibration.blink_left0 >= level
        and w[_BLINK_R] - calibration.blink_right0 >= level
    )


def brow_furrowed(sample: FaceSample, calibration: Calibration = DEFAULT_CALIBRATION) -> bool:
    """The brow is furrowed beyond the calibrated level (false if the face is absent or uncertain)."""
    th = calibration.thresholds
    if not sample.present or sample.confidence < th.confidence_floor:
        return False
    return brow_down(sample.blendshapes) - calibration.brow0 >= th.confusion_brow_level


def classify(sample: FaceSample, calibration: Calibration = DEFAULT_CALIBRATION) -> Attention:
    """The attention state of one frame (see the module docstring for the rules and their order)."""
    if not sample.present:
        return Attention.NO_FACE
    th = calibration.thresholds
    if sample.confidence < th.confidence_floor:
        return Attention.UNCERTAIN
    # The checks below repeat eyes_closed() and the gaze helpers inline: this runs per member per
    # frame on the server, and function calls are most of its cost.
    w = sample.blendshapes
    level = th.eyes_closed_level
    if (
        w[_BLINK_L] - calibration.blink_left0 >= level
        and w[_BLINK_R] - calibration.blink_right0 >= level
    ):
        return Attention.EYES_CLOSED
    yaw = sample.yaw - calibration.centre_yaw
    if yaw > 180.0:
        yaw -= 360.0
    elif yaw < -180.0:
        yaw += 360.0
    yaw += (
        (w[_OUT_L] + w[_IN_R] - w[_IN_L] - w[_OUT_R]) * 0.5 - calibration.gaze_h0
    ) * th.gaze_yaw_deg
    pitch = sample.pitch - calibration.centre_pitch
    pitch += (
        (w[_UP_L] + w[_UP_R] - w[_DOWN_L] - w[_DOWN_R]) * 0.5 - calibration.gaze_v0
    ) * th.gaze_pitch_deg
    sideways = yaw > th.yaw_away_deg or yaw < -th.yaw_away_deg
    vertical = pitch > th.pitch_up_deg or pitch < -th.pitch_down_deg
    if sideways:
        if vertical:
            return Attention.LOOKING_DIAGONAL
        return Attention.LOOKING_LEFT if yaw > 0.0 else Attention.LOOKING_RIGHT
    if vertical:
        return Attention.LOOKING_UP if pitch > 0.0 else Attention.LOOKING_DOWN
    return Attention.FOCUSED
