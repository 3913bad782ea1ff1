"""Scripted face samples that bypass the camera and the model: for demos, bots and tests.

Theory of operation
-------------------
:class:`SyntheticSource` turns a script such as
``[("focused", 10.0), ("away_left", 20.0), ("no_face", 5.0), ("blink", 0.2)]``
into :class:`shared.face.FaceSample` values directly; no image is made and
MediaPipe never runs, so it says nothing about tracking quality. Each
:class:`Behaviour` has a target pose and expression (:data:`TARGETS`). On top
of it, optional idle motion makes the face look alive: a slow head sway (two
sines per axis), breathing in the jaw, confidence jitter, and spontaneous
blinks every few seconds. Pose and expression ease from one segment's target
to the next over :data:`TRANSITION_S`; ``no_face`` switches instantly.

Everything is a pure function of the script, the seed and ``t``:
:meth:`SyntheticSource.sample_at` gives the same sample for the same
arguments, iteration yields samples at a fixed rate, and two sources with the
same seed agree sample for sample. Randomness comes from ``random.Random(seed)``
only (phases of the sway and the times of idle blinks).

Directions follow :mod:`shared.face`: ``away_left`` is the subject's own left
(positive yaw), ``away_up`` chin up (positive pitch).
"""

from __future__ import annotations

import bisect
import dataclasses
import math
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final, Self

from shared.blendshapes import COUNT, index_of
from shared.face import PITCH_LIMIT, ROLL_LIMIT, YAW_LIMIT, FaceSample


class Behaviour(StrEnum):
    """What the scripted face does during one segment."""

    FOCUSED = "focused"
    AWAY_LEFT = "away_left"
    AWAY_RIGHT = "away_right"
    AWAY_UP = "away_up"
    AWAY_DOWN = "away_down"
    AWAY_DIAGONAL = "away_diagonal"
    EYES_CLOSED = "eyes_closed"
    NO_FACE = "no_face"
    UNCERTAIN = "uncertain"
    SMILE = "smile"
    BLINK = "blink"
    CONFUSED = "confused"
    TALKING = "talking"


@dataclass(frozen=True, slots=True)
class Expression:
    """A target pose (degrees), blendshape weights by name, and tracker confidence."""

    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0
    weights: Mapping[str, float] = field(default_factory=dict)
    confidence: float = 0.97


AWAY_YAW_DEG: Final[float] = 40.0
"""Head turn of the ``away_left``/``away_right`` segments: clearly past any focus threshold."""

AWAY_UP_DEG: Final[float] = 30.0
AWAY_DOWN_DEG: Final[float] = -35.0
"""Pitch of ``away_up`` and ``away_down`` (down further: a phone on the desk)."""

UNCERTAIN_CONFIDENCE: Final[float] = 0.3
"""Confidence of ``uncertain`` segments: below the focus rules' 0.5 line."""

TARGETS: Final[Mapping[Behaviour, Expression]] = {
    Behaviour.FOCUSED: Expression(),
    Behaviour.AWAY_LEFT: Expression(
        yaw=AWAY_YAW_DEG, weights={"eyeLookOutLeft": 0.35, "eyeLookInRight": 0.35}
    ),
    Behaviour.AWAY_RIGHT: Expression(
        yaw=-AWAY_YAW_DEG, weights={"eyeLookInLeft": 0.35, "eyeLookOutRight": 0.35}
    ),
    Behaviour.AWAY_UP: Expression(
        pitch=AWAY_UP_DEG, weights={"eyeLookUpLeft": 0.4, "eyeLookUpRight": 0.4}
    ),
    Behaviour.AWAY_DOWN: Expression(
        pitch=AWAY_DOWN_DEG,
        weights={
            "eyeLookDownLeft": 0.5,
            "eyeLookDownRight": 0.5,
            "eyeBlinkLeft": 0.3,
            "eyeBlinkRight": 0.3,
        },
    ),
    Behaviour.AWAY_DIAGONAL: Expression(
        yaw=AWAY_YAW_DEG * 0.75,
        pitch=AWAY_DOWN_DEG * 0.85,
        weights={"eyeLookDownLeft": 0.4, "eyeLookDownRight": 0.4, "eyeLookOutLeft": 0.25},
    ),
    Behaviour.EYES_CLOSED: Expression(
        pitch=-6.0, weights={"eyeBlinkLeft": 0.95, "eyeBlinkRight": 0.95}
    ),
    Behaviour.NO_FACE: Expression(confidence=0.0),
    Behaviour.UNCERTAIN: Expression(confidence=UNCERTAIN_CONFIDENCE),
    Behaviour.SMILE: Expression(
        weights={
            "mouthSmileLeft": 0.85,
            "mouthSmileRight": 0.85,
            "cheekSquintLeft": 0.45,
            "cheekSquintRight": 0.45,
            "eyeSquintLeft": 0.3,
            "eyeSquintRight": 0.3,
        }
    ),
    # A blink segment keeps a focused face; the blink itself is drawn over it.
    Behaviour.BLINK: Expression(),
    Behaviour.CONFUSED: Expression(
        pitch=-3.0,
        weights={
            "browDownLeft": 0.7,
            "browDownRight": 0.7,
            "eyeSquintLeft": 0.25,
            "eyeSquintRight": 0.25,
            "mouthPressLeft": 0.2,
            "mouthPressRight": 0.2,
        },
    ),
    Behaviour.TALKING: Expression(),
}
"""What each behaviour looks like before idle motion is added."""

TRANSITION_S: Final[float] = 0.3
"""Time to ease pose and expression from one segment's target to the next."""

IDLE_YAW_DEG: Final[float] = 2.5
IDLE_PITCH_DEG: Final[float] = 1.5
IDLE_ROLL_DEG: Final[float] = 1.0
"""Peak head sway per axis (degrees): what a seated, reading student does."""

SWAY_HZ: Final[tuple[float, float]] = (0.11, 0.37)
"""Two incommensurate sway frequencies, mixed 60/40, so the motion never visibly repeats."""

BREATH_HZ: Final[float] = 0.25
BREATH_JAW: Final[float] = 0.04
"""Breathing: a slow, small ``jawOpen`` oscillation (15 breaths a minute)."""

CONFIDENCE_JITTER: Final[float] = 0.02
"""Peak confidence wobble, so consumers do not see an implausibly constant value."""

IDLE_BLINK_S: Final[float] = 0.15
IDLE_BLINK_GAP_S: Final[tuple[float, float]] = (2.5, 6.0)
"""Spontaneous blinks: 150 ms long, a uniform 2.5–6 s apart (about 15 a minute)."""

BLINK_PEAK: Final[float] = 0.98
"""``eyeBlink*`` weight at the middle of a blink."""

TALK_HZ: Final[float] = 4.0
TALK_JAW: Final[tuple[float, float]] = (0.05, 0.35)
"""Talking: ``jawOpen`` oscillates between these weights at about syllable rate."""

_NO_IDLE_BLINKS: Final[frozenset[Behaviour]] = frozenset(
    {Behaviour.NO_FACE, Behaviour.EYES_CLOSED, Behaviour.BLINK}
)


class ScriptError(ValueError):
    """A script that is empty, names an unknown behaviour, or has a non-positive duration."""


@dataclass(frozen=True, slots=True)
class Segment:
    """One scripted behaviour from ``start`` to ``end`` (seconds on the script's clock)."""

    behaviour: Behaviour
    start: float
    end: float

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.end - self.start


def _parse_script(script: Iterable[tuple[str, float]]) -> tuple[Segment, ...]:
    segments: list[Segment] = []
    t = 0.0
    for i, item in enumerate(script):
        try:
            name, duration = item
        except (TypeError, ValueError):
            raise ScriptError(
                f"script item {i} must be (behaviour, seconds), got {item!r}"
            ) from None
        try:
            behaviour = Behaviour(name)
        except ValueError:
            known = ", ".join(b.value for b in Behaviour)
            raise ScriptError(
                f"script item {i}: unknown behaviour {name!r} (known: {known})"
            ) from None
        if not (isinstance(duration, int | float) and math.isfinite(duration) and duration > 0):
            raise ScriptError(
                f"script item {i}: duration must be positive seconds, got {duration!r}"
            )
        segments.append(Segment(behaviour, t, t + float(duration)))
        t += float(duration)
    if not segments:
        raise ScriptError("a script needs at least one segment")
    return tuple(segments)


def _smoothstep(x: float) -> float:
    x = min(1.0, max(0.0, x))
    return x * x * (3.0 - 2.0 * x)


def _blink_profile(x: float) -> float:
    """Eyelid closure over one blink, ``x`` from 0 to 1: shut in the middle."""
    return BLINK_PEAK * math.sin(math.pi * min(1.0, max(0.0, x)))


class SyntheticSource:
    """Scripted :class:`FaceSample` values at ``fps``; no camera, no model (MediaPipe bypassed).

    ``sample_at(t)`` is pure; iterating yields ``sample_at(start + i / fps)``
    for the script's whole duration. Past the end, ``sample_at`` holds the last
    segment (idle motion continues).
    """

    def __init__(
        self,
        script: Iterable[tuple[str, float]],
        *,
        fps: float = 30.0,
        seed: int = 0,
        start: float = 0.0,
        idle_motion: bool = True,
        idle_blinks: bool = True,
    ) -> None:
        if not (math.isfinite(fps) and fps > 0):
            raise ValueError(f"fps must be positive, got {fps!r}")
        if not math.isfinite(start):
            raise ValueError(f"start must be finite, got {start!r}")
        self.segments = _parse_script(script)
        self.fps = fps
        self.seed = seed
        self.start = start
        self.idle_motion = idle_motion
        self.idle_blinks = idle_blinks
        self._starts = [s.start for s in self.segments]
        rng = random.Random(seed)
        self._phases = tuple(rng.uniform(0.0, 2.0 * math.pi) for _ in range(8))
        # A separate stream so that extending the blink list never shifts the phases.
        self._blink_rng = random.Random(rng.getrandbits(64))
        self._blinks: list[float] = []
        self._blinks_until = 0.0
        self._closed = False

    @property
    def duration(self) -> float:
        """Total scripted time in seconds."""
        return self.segments[-1].end

    @property
    def frame_count(self) -> int:
        """How many samples iteration yields."""
        return max(1, math.ceil(self.duration * self.fps - 1e-9))

    def segment_at(self, t: float) -> Segment:
        """The segment in force at absolute time ``t`` (the last one past the end)."""
        return self.segments[self._segment_index(t)]

    def _segment_index(self, t: float) -> int:
        u = t - self.start
        if not math.isfinite(u) or u < 0:
            raise ValueError(f"t={t!r} is before the script's start ({self.start})")
        return max(0, bisect.bisect_right(self._starts, u) - 1)

    def blink_times(self, until: float) -> list[float]:
        """Start times (script clock) of the spontaneous blinks before ``until``."""
        low, high = IDLE_BLINK_GAP_S
        while self._blinks_until < until:
            self._blinks_until += self._blink_rng.uniform(low, high)
            self._blinks.append(self._blinks_until)
        return [b for b in self._blinks if b < until]

    def _in_idle_blink(self, u: float) -> float | None:
        self.blink_times(u + IDLE_BLINK_S)
        i = bisect.bisect_right(self._blinks, u) - 1
        if i >= 0 and u < self._blinks[i] + IDLE_BLINK_S:
            return (u - self._blinks[i]) / IDLE_BLINK_S
        return None

    def sample_at(self, t: float) -> FaceSample:
        """The scripted sample at absolute time ``t`` (≥ ``start``)."""
        index = self._segment_index(t)
        seg = self.segments[index]
        if seg.behaviour is Behaviour.NO_FACE:
            return FaceSample.absent(t)
        u = t - self.start
        target = TARGETS[seg.behaviour]
        previous = self.segments[index - 1].behaviour if index > 0 else None
        ease = _smoothstep((u - seg.start) / TRANSITION_S)
        if previous is None or previous is Behaviour.NO_FACE:
            ease = 1.0
        before = TARGETS[previous] if previous is not None else target

        def mix(a: float, b: float) -> float:
            return a + (b - a) * ease

        yaw = mix(before.yaw, target.yaw)
        pitch = mix(before.pitch, target.pitch)
        roll = mix(before.roll, target.roll)
        weights = [0.0] * COUNT
        for name in set(before.weights) | set(target.weights):
            weights[index_of(name)] = mix(
                before.weights.get(name, 0.0), target.weights.get(name, 0.0)
            )
        confidence = target.confidence

        if self.idle_motion:
            p = self._phases
            yaw += IDLE_YAW_DEG * self._sway(u, p[0], p[1])
            pitch += IDLE_PITCH_DEG * self._sway(u, p[2], p[3])
            roll += IDLE_ROLL_DEG * self._sway(u, p[4], p[5])
            jaw = index_of("jawOpen")
            breath = 0.5 + 0.5 * math.sin(2.0 * math.pi * BREATH_HZ * u + p[6])
            weights[jaw] = max(weights[jaw], BREATH_JAW * breath)
            confidence += CONFIDENCE_JITTER * math.sin(2.0 * math.pi * 0.5 * u + p[7])

        if seg.behaviour is Behaviour.TALKING:
            lo, hi = TALK_JAW
            wave = 0.5 + 0.5 * math.sin(2.0 * math.pi * TALK_HZ * (u - seg.start))
            weights[index_of("jawOpen")] = lo + (hi - lo) * wave

        closure = 0.0
        if seg.behaviour is Behaviour.BLINK:
            closure = _blink_profile((u - seg.start) / seg.duration)
        elif self.idle_blinks and seg.behaviour not in _NO_IDLE_BLINKS:
            x = self._in_idle_blink(u)
            if x is not None:
                closure = _blink_profile(x)
        for name in ("eyeBlinkLeft", "eyeBlinkRight"):
            i = index_of(name)
            weights[i] = max(weights[i], closure)

        return FaceSample(
            t=t,
            blendshapes=tuple(min(1.0, max(0.0, w)) for w in weights),
            yaw=min(YAW_LIMIT, max(-YAW_LIMIT, yaw)),
            pitch=min(PITCH_LIMIT, max(-PITCH_LIMIT, pitch)),
            roll=min(ROLL_LIMIT, max(-ROLL_LIMIT, roll)),
            confidence=min(1.0, max(0.0, confidence)),
            present=True,
        )

    @staticmethod
    def _sway(u: float, phase_a: float, phase_b: float) -> float:
        slow, fast = SWAY_HZ
        return 0.6 * math.sin(2.0 * math.pi * slow * u + phase_a) + 0.4 * math.sin(
            2.0 * math.pi * fast * u + phase_b
        )

    def samples(self) -> Iterator[FaceSample]:
        """Every sample of the script at ``fps``, from ``start`` to the end."""
        for i in range(self.frame_count):
            if self._closed:
                return
            yield self.sample_at(self.start + i / self.fps)

    def __iter__(self) -> Iterator[FaceSample]:
        return self.samples()

    def close(self) -> None:
        """Stop any iteration in progress (there is no device to release)."""
        self._closed = True

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class SyntheticFeed:
    """A live stand-in for :class:`game.capture.tracker.FaceTracker`: ``latest()`` follows a clock.

    After :meth:`start`, ``latest()`` returns the script's sample at
    ``clock() - t0`` (looping over the script when ``loop``), stamped with
    ``clock()`` so that consecutive samples keep increasing times.
    """

    def __init__(
        self,
        source: SyntheticSource,
        *,
        clock: Callable[[], float] = time.monotonic,
        loop: bool = True,
    ) -> None:
        self.source = source
        self.loop = loop
        self._clock = clock
        self._t0: float | None = None

    def start(self) -> Self:
        """Start the script now."""
        self._t0 = self._clock()
        return self

    def stop(self) -> None:
        """Stop following the clock; ``latest()`` returns None again."""
        self._t0 = None

    def latest(self) -> FaceSample | None:
        """The sample for the current clock reading, or None when not started."""
        if self._t0 is None:
            return None
        now = self._clock()
        elapsed = max(0.0, now - self._t0)
        if self.loop:
            elapsed %= self.source.duration
        sample = self.source.sample_at(self.source.start + elapsed)
        return dataclasses.replace(sample, t=now)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
