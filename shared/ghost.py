"""Ghost recordings: a session's focus timeline, damage curve and ~10 Hz face frames, compressed.

Theory of operation
-------------------
A ghost is a finished session replayed later in another room: it animates a
translucent avatar (frames), deals its recorded damage (:meth:`GhostRecording.damage_at`)
and shows pace (:meth:`GhostRecording.focused_seconds_at`). Nothing here reads a
clock: every time comes from the samples and calls handed in.

**Recording is where the loss happens; encoding is lossless.** :class:`GhostRecorder`
turns :class:`~shared.face.FaceSample` values into :class:`GhostFrame` values:

- one frame per ``frame_interval_ms`` slot (default 100 ms, i.e. 10 Hz): the first
  sample whose offset falls in a new slot is kept, later ones in that slot dropped;
- times become whole milliseconds after the recording's ``t0``;
- blendshapes become bytes (``round(w × 255)``), pose becomes steps of
  :data:`POSE_STEP_DEG`, confidence a byte;
- a **dead-band** then holds each channel at its previous stored value unless the new
  quantised value differs from it by at least the channel's dead-band. Tracker noise
  of a step or two on every channel otherwise defeats compression (see
  ``bench/ghost.py``). The resulting error bounds, which the tests assert, are
  :data:`BLENDSHAPE_TOLERANCE`, :data:`POSE_TOLERANCE_DEG` and
  :data:`CONFIDENCE_TOLERANCE` (dead-band − 1 steps, plus half a step of rounding).

:func:`encode_ghost` / :func:`decode_ghost` then round-trip a :class:`GhostRecording`
exactly (``decode_ghost(encode_ghost(r)) == r``).

Wire format, version 1 (all integers little-endian)::

    header, 26 bytes, not compressed
      0   4  magic b"CVXG"
      4   1  format version = 1
      5   1  compression: 1 = raw DEFLATE (zlib level 9, wbits −15),
                          2 = raw LZMA2 (preset 9 | extreme, 4 MiB dictionary)
      6   4  u32 N  frame count
     10   4  u32 S  timeline segment count
     14   4  u32 D  damage sample count (= ceil(duration_ms / 1000) + 1)
     18   4  u32 L  body length after decompression
     22   4  u32 CRC-32 of the decompressed body
     26   …  compressed body

    body (L bytes); "varint" = unsigned LEB128, canonical, at most 10 bytes
      varint length + UTF-8   user_id      (≤ MAX_TEXT_BYTES)
      varint length + UTF-8   user_name    (≤ MAX_TEXT_BYTES)
      varint length + UTF-8   subject      (≤ MAX_TEXT_BYTES)
      8  f64                  started_at, epoch seconds
      varint                  duration_ms
      varint                  frame_interval_ms
      S varints               segment start, ms: first from 0, then deltas
      S bytes                 segment state: ATTENTION_CODES[attention] | 0x80 if asleep
      D varints               cumulative damage in 1/100 points at 0 s, 1 s, 2 s, …
                              and at the end (when it is not a whole second):
                              first value, then (non-negative) deltas
      N varints               frame time, ms: first from 0, then deltas
      52 × N bytes            blendshape columns, slot 0 first; each column holds the
                              first byte, then (b[i] − b[i−1]) mod 256
      6 × N bytes             yaw, pitch, roll in POSE_STEP_DEG steps, each as int16
                              deltas (first from 0) mod 65536: low-byte column, then
                              high-byte column
      N bytes                 confidence byte deltas mod 256 (first from 0)
      N bytes                 present: 0 or 1

Column-wise deltas turn a smooth face signal into long runs of zero bytes, which is
what the compressor feeds on. Raw LZMA2 is the default (:data:`DEFAULT_COMPRESSION`):
on the simulated hour of ``bench/ghost.py`` (seeds 0–2) it takes 280–284 kB per hour,
56–57 % of the 0.5 MB budget, against 333–337 kB for DEFLATE level 9, at a similar
encode cost (1–2 s per recorded hour on a 2-core machine, once per session: run it
off the event loop) and 0.2–0.3 s to decode an hour, mostly Python. The decoder
accepts both; the header names the one used.

Decoding is strict: anything wrong raises :class:`GhostFormatError` and nothing else.
Before decompressing, the header's counts give an upper bound on the body length
(:func:`max_body_length`; at most ~42 MB for a 12-hour ghost) and decompression stops
one byte past the declared length, so a small file cannot expand into a large
allocation. A CRC-32 of the body catches corruption that still decompresses.
"""

from __future__ import annotations

import bisect
import itertools
import lzma
import math
import operator
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Final

from shared.blendshapes import COUNT, dequantize, quantize
from shared.face import PITCH_LIMIT, ROLL_LIMIT, YAW_LIMIT, Attention, FaceSample

FORMAT_VERSION: Final[int] = 1
MAGIC: Final[bytes] = b"CVXG"
HEADER: Final[struct.Struct] = struct.Struct("<4sBBIIIII")

FRAME_INTERVAL_MS: Final[int] = 100
"""Default recorder slot: one frame per 100 ms, i.e. ~10 Hz."""
MAX_FRAME_INTERVAL_MS: Final[int] = 10_000
DAMAGE_STEP_MS: Final[int] = 1_000
"""The damage curve is sampled once per second of the session."""
DAMAGE_SCALE: Final[int] = 100
"""Damage is stored in 1/100 points: replayed damage is exact to 0.01."""
MAX_DAMAGE_UNITS: Final[int] = 2**53
"""Largest cumulative damage in 1/100 points (keeps every value an exact float)."""

POSE_STEPS_PER_DEG: Final[int] = 10
POSE_STEP_DEG: Final[float] = 1.0 / POSE_STEPS_PER_DEG
"""Head pose resolution: 0.1° (yaw ±1800 steps fits an int16 with room to spare)."""

BLENDSHAPE_DEADBAND: Final[int] = 4
"""A blendshape byte changes only when it moves ≥ 4 steps (4/255 ≈ 1.6 %) from the stored one.
On the simulated hour (noise σ = 1.5/255) 3 steps need ~90 % of the 0.5 MB budget, 4 need ~56 %;
noise of σ = 2/255 takes 4 steps to ~85 %."""
POSE_DEADBAND: Final[int] = 5
"""A pose angle changes only when it moves ≥ 5 steps (0.5°) from the stored one."""
CONFIDENCE_DEADBAND: Final[int] = 4
"""Confidence changes only when it moves ≥ 4 steps of 1/255 from the stored one."""

BLENDSHAPE_TOLERANCE: Final[float] = (BLENDSHAPE_DEADBAND - 0.5) / 255.0
"""Largest difference between a recorded sample's weight and its ghost frame's weight."""
POSE_TOLERANCE_DEG: Final[float] = (POSE_DEADBAND - 0.5) * POSE_STEP_DEG
"""Largest difference, in degrees, between a recorded pose angle and its ghost frame's."""
CONFIDENCE_TOLERANCE: Final[float] = (CONFIDENCE_DEADBAND - 0.5) / 255.0
"""Largest difference between a recorded confidence and its ghost frame's."""
TIME_TOLERANCE_S: Final[float] = 0.0005
"""Frame times are whole milliseconds after ``t0``."""

MAX_DURATION_MS: Final[int] = 12 * 3600 * 1000
"""Longest recordable session (12 h); also bounds what a decoder will allocate."""
MAX_FRAMES: Final[int] = MAX_DURATION_MS // FRAME_INTERVAL_MS + 1
MAX_SEGMENTS: Final[int] = 1_000_000
MAX_DAMAGE_SAMPLES: Final[int] = -(-MAX_DURATION_MS // DAMAGE_STEP_MS) + 1
MAX_TEXT_BYTES: Final[int] = 256
"""Longest user id, user name or subject, in UTF-8 bytes."""

_POSE_LIMITS: Final[tuple[int, int, int]] = (
    round(YAW_LIMIT * POSE_STEPS_PER_DEG),
    round(PITCH_LIMIT * POSE_STEPS_PER_DEG),
    round(ROLL_LIMIT * POSE_STEPS_PER_DEG),
)
_LOOKUP_SLACK_MS: Final[float] = 1e-6
_VARINT_MAX_BYTES: Final[int] = 10
_FRAME_FIXED_BYTES: Final[int] = COUNT + 6 + 1 + 1
_ASLEEP_BIT: Final[int] = 0x80
_LOW_BYTE: Final = (0xFF).__and__
_LOW_WORD: Final = (0xFFFF).__and__
_RECORD: Final[struct.Struct] = struct.Struct("<I52s3hB?")
"""A kept sample inside :class:`GhostRecorder`: ms, blendshape bytes, pose steps, confidence,
present (64 bytes)."""


ATTENTION_CODES: Final[dict[Attention, int]] = {
    Attention.FOCUSED: 0,
    Attention.LOOKING_LEFT: 1,
    Attention.LOOKING_RIGHT: 2,
    Attention.LOOKING_UP: 3,
    Attention.LOOKING_DOWN: 4,
    Attention.LOOKING_DIAGONAL: 5,
    Attention.EYES_CLOSED: 6,
    Attention.NO_FACE: 7,
    Attention.UNCERTAIN: 8,
}
"""Wire codes of attention states; fixed by the format, independent of the enum's order."""
_ATTENTION_BY_CODE: Final[dict[int, Attention]] = {c: a for a, c in ATTENTION_CODES.items()}


class Compression(IntEnum):
    """Compressor named in the header."""

    DEFLATE = 1
    LZMA = 2


DEFAULT_COMPRESSION: Final[Compression] = Compression.LZMA
_DEFLATE_LEVEL: Final[int] = 9
_LZMA_FILTERS: Final[list[dict[str, int]]] = [
    {"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME, "dict_size": 4 << 20}
]
_LZMA_DECODE_FILTERS: Final[list[dict[str, int]]] = [
    {"id": lzma.FILTER_LZMA2, "dict_size": 4 << 20}
]


class InvalidGhostError(ValueError):
    """A ghost value (frame, segment, recording) that breaks the format's rules."""


class GhostFormatError(ValueError):
    """Bytes that are not a valid ghost: bad magic, unknown version, truncated or corrupt data."""


class GhostRecorderError(ValueError):
    """An input the recorder refuses: out of order, before ``t0``, or past the length cap."""


# --------------------------------------------------------------------------- values


@dataclass(frozen=True, slots=True)
class GhostFrame:
    """One downsampled face frame, quantised: what a ghost avatar shows at ``t_ms``."""

    t_ms: int
    """Milliseconds after the recording's start."""
    blendshapes: bytes
    """52 bytes, MediaPipe order; weight = byte / 255."""
    pose: tuple[int, int, int]
    """Yaw, pitch, roll in :data:`POSE_STEP_DEG` steps (conventions of :mod:`shared.face`)."""
    confidence_byte: int
    present: bool

    def __post_init__(self) -> None:
        if not _is_int(self.t_ms) or not 0 <= self.t_ms <= MAX_DURATION_MS:
            raise InvalidGhostError(f"frame time {self.t_ms!r} ms is outside 0..{MAX_DURATION_MS}")
        if not isinstance(self.blendshapes, bytes) or len(self.blendshapes) != COUNT:
            raise InvalidGhostError(f"a frame needs {COUNT} blendshape bytes")
        if not isinstance(self.pose, tuple) or len(self.pose) != 3:
            raise InvalidGhostError("pose is a (yaw, pitch, roll) tuple")
        for name, value, limit in zip(
            ("yaw", "pitch", "roll"), self.pose, _POSE_LIMITS, strict=True
        ):
            if not _is_int(value) or not -limit <= value <= limit:
                raise InvalidGhostError(f"{name} {value!r} steps is outside ±{limit}")
        if not _is_int(self.confidence_byte) or not 0 <= self.confidence_byte <= 255:
            raise InvalidGhostError(f"confidence byte {self.confidence_byte!r} is outside 0..255")
        if not isinstance(self.present, bool):
            raise InvalidGhostError("present must be a bool")

    @property
    def t(self) -> float:
        """Seconds after the recording's start."""
        return self.t_ms / 1000.0

    @property
    def weights(self) -> tuple[float, ...]:
        """The 52 blendshape weights in [0, 1]."""
        return tuple(map(dequantize, self.blendshapes))

    @property
    def yaw(self) -> float:
        """Yaw in degrees."""
        return self.pose[0] / POSE_STEPS_PER_DEG

    @property
    def pitch(self) -> float:
        """Pitch in degrees."""
        return self.pose[1] / POSE_STEPS_PER_DEG

    @property
    def roll(self) -> float:
        """Roll in degrees."""
        return self.pose[2] / POSE_STEPS_PER_DEG

    @property
    def confidence(self) -> float:
        """Tracker confidence in [0, 1]."""
        return dequantize(self.confidence_byte)

    def to_sample(self) -> FaceSample:
        """The frame as a :class:`FaceSample` whose ``t`` is seconds after the recording's start."""
        return FaceSample(
            t=self.t,
            blendshapes=self.weights,
            yaw=self.yaw,
            pitch=self.pitch,
            roll=self.roll,
            confidence=self.confidence,
            present=self.present,
        )


@dataclass(frozen=True, slots=True)
class TimelineSegment:
    """From ``t_ms`` until the next segment, the student was in this attention state."""

    t_ms: int
    attention: Attention
    asleep: bool

    def __post_init__(self) -> None:
        if not _is_int(self.t_ms) or not 0 <= self.t_ms <= MAX_DURATION_MS:
            raise InvalidGhostError(
                f"segment time {self.t_ms!r} ms is outside 0..{MAX_DURATION_MS}"
            )
        if not isinstance(self.attention, Attention):
            raise InvalidGhostError(f"attention must be an Attention, got {self.attention!r}")
        if not isinstance(self.asleep, bool):
            raise InvalidGhostError("asleep must be a bool")

    @property
    def counts_as_focus(self) -> bool:
        """Time in this segment is credited focus (focused and awake)."""
        return self.attention is Attention.FOCUSED and not self.asleep


@dataclass(frozen=True, slots=True)
class GhostMeta:
    """Who recorded the ghost, on what, when, for how long, and at what frame rate."""

    user_id: str
    user_name: str
    subject: str
    started_at: float
    """Epoch seconds at the start of the session (for display; replay uses offsets)."""
    duration_ms: int
    frame_interval_ms: int = FRAME_INTERVAL_MS

    def __post_init__(self) -> None:
        for name, text in (
            ("user_id", self.user_id),
            ("user_name", self.user_name),
            ("subject", self.subject),
        ):
            if not isinstance(text, str):
                raise InvalidGhostError(f"{name} must be a str")
            try:
                size = len(text.encode("utf-8"))
            except UnicodeEncodeError:
                raise InvalidGhostError(f"{name} is not encodable as UTF-8") from None
            if size > MAX_TEXT_BYTES:
                raise InvalidGhostError(f"{name} is {size} bytes; at most {MAX_TEXT_BYTES}")
        if (
            isinstance(self.started_at, bool)
            or not isinstance(self.started_at, int | float)
            or not math.isfinite(self.started_at)
        ):
            raise InvalidGhostError(
                f"started_at must be finite epoch seconds, got {self.started_at!r}"
            )
        if not _is_int(self.duration_ms) or not 0 <= self.duration_ms <= MAX_DURATION_MS:
            raise InvalidGhostError(
                f"duration {self.duration_ms!r} ms is outside 0..{MAX_DURATION_MS}"
            )
        if not _is_int(self.frame_interval_ms) or not (
            1 <= self.frame_interval_ms <= MAX_FRAME_INTERVAL_MS
        ):
            raise InvalidGhostError(
                f"frame interval {self.frame_interval_ms!r} ms is outside "
                f"1..{MAX_FRAME_INTERVAL_MS}"
            )

    @property
    def format_version(self) -> int:
        """The wire format version this build writes."""
        return FORMAT_VERSION

    @property
    def duration_s(self) -> float:
        """Session length in seconds."""
        return self.duration_ms / 1000.0

    @property
    def frame_rate(self) -> float:
        """Nominal frames per second (the recorder keeps at most one per interval)."""
        return 1000.0 / self.frame_interval_ms


@dataclass(frozen=True, slots=True)
class GhostRecording:
    """A whole ghost: metadata, focus timeline, damage curve and frames. Validated on construction.

    ``timeline`` starts at 0 ms, is strictly increasing, ends by ``duration_ms`` and never
    repeats a state in consecutive segments. ``damage`` holds cumulative damage in
    1/:data:`DAMAGE_SCALE` points, non-decreasing, at 0 s, 1 s, … and, when the duration
    is not a whole number of seconds, at the end: ``ceil(duration_ms / 1000) + 1`` values.
    ``frames`` are strictly increasing in time, all within the duration.
    """

    meta: GhostMeta
    timeline: tuple[TimelineSegment, ...]
    damage: tuple[int, ...]
    frames: tuple[GhostFrame, ...]
    _frame_times: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _segment_times: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _focus_before: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.meta, GhostMeta):
            raise InvalidGhostError("meta must be a GhostMeta")
        for name in ("timeline", "damage", "frames"):
            # Lists are accepted but stored as tuples, so equality and hashing behave.
            try:
                object.__setattr__(self, name, tuple(getattr(self, name)))
            except TypeError:
                raise InvalidGhostError(f"{name} must be a sequence") from None
        if not all(isinstance(s, TimelineSegment) for s in self.timeline):
            raise InvalidGhostError("timeline entries must be TimelineSegment values")
        if not all(isinstance(f, GhostFrame) for f in self.frames):
            raise InvalidGhostError("frames must be GhostFrame values")
        duration = self.meta.duration_ms
        _check_timeline(self.timeline, duration)
        _check_damage(self.damage, duration)
        if len(self.frames) > MAX_FRAMES:
            raise InvalidGhostError(f"{len(self.frames)} frames; at most {MAX_FRAMES}")
        frame_times = tuple(f.t_ms for f in self.frames)
        if any(b <= a for a, b in itertools.pairwise(frame_times)):
            raise InvalidGhostError("frame times must be strictly increasing")
        if frame_times and frame_times[-1] > duration:
            raise InvalidGhostError(
                f"a frame at {frame_times[-1]} ms is after the end ({duration})"
            )
        segment_times = tuple(s.t_ms for s in self.timeline)
        focus_before = [0]
        for seg, end in zip(self.timeline, (*segment_times[1:], duration), strict=True):
            focus_before.append(focus_before[-1] + (end - seg.t_ms if seg.counts_as_focus else 0))
        object.__setattr__(self, "_frame_times", frame_times)
        object.__setattr__(self, "_segment_times", segment_times)
        object.__setattr__(self, "_focus_before", tuple(focus_before))

    @property
    def duration_s(self) -> float:
        """Session length in seconds."""
        return self.meta.duration_s

    def frame_at(self, t: float) -> GhostFrame | None:
        """The last frame at or before ``t`` seconds (``None`` before the first frame)."""
        i = bisect.bisect_right(self._frame_times, _ms(t)) - 1
        return self.frames[i] if i >= 0 else None

    def segment_at(self, t: float) -> TimelineSegment:
        """The timeline segment in force at ``t`` seconds (clamped to the recording)."""
        i = bisect.bisect_right(self._segment_times, _ms(t)) - 1
        return self.timeline[max(i, 0)]

    def _clamped_ms(self, t: float) -> float:
        """``t`` seconds as milliseconds within [0, duration]; the end itself maps exactly."""
        if math.isnan(t):
            raise InvalidGhostError("time must not be NaN")
        if t >= self.duration_s:
            return float(self.meta.duration_ms)
        return min(max(t * 1000.0, 0.0), float(self.meta.duration_ms))

    def damage_at(self, t: float) -> float:
        """Cumulative damage dealt by ``t`` seconds, interpolated between the samples."""
        duration = self.meta.duration_ms
        ms = self._clamped_ms(t)
        i = min(int(ms // DAMAGE_STEP_MS), len(self.damage) - 1)
        lo_ms = i * DAMAGE_STEP_MS
        span = min(lo_ms + DAMAGE_STEP_MS, duration) - lo_ms
        lo = self.damage[i]
        if span <= 0 or i + 1 >= len(self.damage):
            return lo / DAMAGE_SCALE
        return (lo + (self.damage[i + 1] - lo) * (ms - lo_ms) / span) / DAMAGE_SCALE

    def focused_seconds_at(self, t: float) -> float:
        """Seconds of credited focus (focused and awake) from the start up to ``t`` seconds."""
        ms = self._clamped_ms(t)
        i = max(bisect.bisect_right(self._segment_times, ms) - 1, 0)
        seg = self.timeline[i]
        partial = ms - seg.t_ms if seg.counts_as_focus else 0.0
        return (self._focus_before[i] + partial) / 1000.0


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _ms(t: float) -> int:
    """Seconds → whole milliseconds, for lookups; a hair of slack so 0.15 s finds a 150 ms frame."""
    if math.isnan(t):
        raise InvalidGhostError("time must not be NaN")
    t = min(max(t, -1.0), MAX_DURATION_MS / 1000.0 + 1.0)
    return math.floor(t * 1000.0 + _LOOKUP_SLACK_MS)


def _check_timeline(timeline: Sequence[TimelineSegment], duration_ms: int) -> None:
    if not timeline:
        raise InvalidGhostError("the timeline needs at least one segment")
    if len(timeline) > MAX_SEGMENTS:
        raise InvalidGhostError(f"{len(timeline)} segments; at most {MAX_SEGMENTS}")
    if timeline[0].t_ms != 0:
        raise InvalidGhostError("the timeline must start at 0 ms")
    for a, b in itertools.pairwise(timeline):
        if b.t_ms <= a.t_ms:
            raise InvalidGhostError("segment times must be strictly increasing")
        if (a.attention, a.asleep) == (b.attention, b.asleep):
            raise InvalidGhostError(f"segment at {b.t_ms} ms repeats the state before it")
    if timeline[-1].t_ms > duration_ms:
        raise InvalidGhostError(f"a segment at {timeline[-1].t_ms} ms is after the end")


def damage_sample_count(duration_ms: int) -> int:
    """Damage samples in a ghost of this length: each whole second from 0, plus the end."""
    return -(-duration_ms // DAMAGE_STEP_MS) + 1


def _check_damage(damage: Sequence[int], duration_ms: int) -> None:
    expected = damage_sample_count(duration_ms)
    if len(damage) != expected:
        raise InvalidGhostError(
            f"{len(damage)} damage samples; a {duration_ms} ms ghost has {expected}"
        )
    previous = 0
    for value in damage:
        if not _is_int(value) or not previous <= value <= MAX_DAMAGE_UNITS:
            raise InvalidGhostError(
                "damage must be non-negative, non-decreasing whole 1/100 points"
            )
        previous = value


# ------------------------------------------------------------------------- recorder


def _pack_record(
    ms: int, blendshapes: bytes, pose: tuple[int, int, int], confidence_byte: int, present: bool
) -> bytes:
    """One recorder record, or :class:`GhostRecorderError` for values a frame cannot hold."""
    # Explicit comparisons, not a loop: a relay records every member ten times a second.
    if blendshapes.__class__ is not bytes or len(blendshapes) != COUNT:
        raise GhostRecorderError(f"a sample needs {COUNT} blendshape bytes")
    if pose.__class__ is not tuple or len(pose) != 3:
        raise GhostRecorderError(f"pose {pose!r} is not a (yaw, pitch, roll) tuple of steps")
    yaw, pitch, roll = pose
    yaw_limit, pitch_limit, roll_limit = _POSE_LIMITS
    if not (
        yaw.__class__ is int
        and pitch.__class__ is int
        and roll.__class__ is int
        and -yaw_limit <= yaw <= yaw_limit
        and -pitch_limit <= pitch <= pitch_limit
        and -roll_limit <= roll <= roll_limit
    ):
        raise GhostRecorderError(f"pose {pose!r} is not three steps within {_POSE_LIMITS}")
    if confidence_byte.__class__ is not int or not 0 <= confidence_byte <= 255:
        raise GhostRecorderError(f"confidence byte {confidence_byte!r} is outside 0..255")
    if present.__class__ is not bool:
        raise GhostRecorderError("present must be a bool")
    return _RECORD.pack(ms, blendshapes, yaw, pitch, roll, confidence_byte, present)


class GhostRecorder:
    """Builds a :class:`GhostRecording` from samples, attention marks and damage reports.

    Every ``t`` handed in is on one clock (the samples' clock); ``t0`` on that clock
    is the session's start. Inputs must not go back in time; a refused input raises
    :class:`GhostRecorderError` and leaves the recorder unchanged.
    """

    def __init__(
        self,
        *,
        user_id: str,
        user_name: str,
        subject: str,
        started_at: float,
        t0: float,
        frame_interval_ms: int = FRAME_INTERVAL_MS,
    ) -> None:
        # Validate the metadata now rather than at finish().
        GhostMeta(user_id, user_name, subject, float(started_at), 0, frame_interval_ms)
        if not math.isfinite(t0):
            raise GhostRecorderError(f"t0 must be finite, got {t0!r}")
        self._meta = (user_id, user_name, subject, float(started_at), frame_interval_ms)
        self._t0 = t0
        # Kept samples wait as packed records (no object per frame: a server records every
        # member of every room at 10 Hz for hours); finish() builds the dead-banded frames.
        self._raw = bytearray()
        self._raw_count = 0
        self._last_kept_ms = -1
        self._last_sample_ms = -1
        self._frames: list[GhostFrame] = []
        self._held: bytearray | None = None
        self._held_pose = [0, 0, 0]
        self._held_confidence = 0
        self._timeline: list[TimelineSegment] = [TimelineSegment(0, Attention.UNCERTAIN, False)]
        self._damage: list[int] = []
        self._damage_last = (0, 0.0)  # (ms, cumulative points) of the latest report
        self._end_ms = 0

    @property
    def frame_count(self) -> int:
        """Frames kept so far."""
        return self._raw_count

    def _offset_ms(self, t: float, what: str) -> int:
        if not math.isfinite(t):
            raise GhostRecorderError(f"{what} time must be finite, got {t!r}")
        ms = round((t - self._t0) * 1000.0)
        if ms < 0:
            raise GhostRecorderError(f"{what} at {t} is before the recording's start {self._t0}")
        if ms > MAX_DURATION_MS:
            raise GhostRecorderError(f"{what} at {t} is past the {MAX_DURATION_MS} ms cap")
        return ms

    def add_sample(self, sample: FaceSample) -> bool:
        """Offer one sample; returns whether it was kept as a frame (one per slot)."""
        return self.add_quantized(
            sample.t,
            bytes(map(quantize, sample.blendshapes)),
            (
                round(sample.yaw * POSE_STEPS_PER_DEG),
                round(sample.pitch * POSE_STEPS_PER_DEG),
                round(sample.roll * POSE_STEPS_PER_DEG),
            ),
            quantize(sample.confidence),
            sample.present,
        )

    def add_quantized(
        self,
        t: float,
        blendshapes: bytes,
        pose: tuple[int, int, int],
        confidence_byte: int,
        present: bool,
    ) -> bool:
        """:meth:`add_sample` for a sample already quantised as the recording stores it
        (blendshape bytes, pose in :data:`POSE_STEP_DEG` steps, confidence byte): what a
        relay that holds wire frames offers without building a :class:`FaceSample`."""
        ms = self._offset_ms(t, "sample")
        if ms < self._last_sample_ms:
            raise GhostRecorderError(
                f"sample at {ms} ms arrives after one at {self._last_sample_ms}"
            )
        interval = self._meta[4]
        keep = ms // interval > (self._last_kept_ms // interval if self._raw_count else -1)
        if keep:
            if self._raw_count >= MAX_FRAMES:
                raise GhostRecorderError(f"more than {MAX_FRAMES} frames")
            record = _pack_record(ms, blendshapes, pose, confidence_byte, present)
        self._last_sample_ms = ms
        self._end_ms = max(self._end_ms, ms)
        if not keep:
            return False
        self._raw += record
        self._raw_count += 1
        self._last_kept_ms = ms
        return True

    def _build_frames(self) -> list[GhostFrame]:
        """The dead-banded frames of every record so far (records already built are kept)."""
        frames = self._frames
        held = self._held
        hp = self._held_pose
        confidence_held = self._held_confidence
        for ms, shapes, yaw, pitch, roll, confidence, present in _RECORD.iter_unpack(
            memoryview(self._raw)[len(frames) * _RECORD.size :]
        ):
            if held is None:
                held = bytearray(shapes)
                hp = [yaw, pitch, roll]
                confidence_held = confidence
            else:
                for j, q in enumerate(shapes):
                    if abs(q - held[j]) >= BLENDSHAPE_DEADBAND:
                        held[j] = q
                for j, p in enumerate((yaw, pitch, roll)):
                    if abs(p - hp[j]) >= POSE_DEADBAND:
                        hp[j] = p
                if abs(confidence - confidence_held) >= CONFIDENCE_DEADBAND:
                    confidence_held = confidence
            frames.append(
                GhostFrame(ms, bytes(held), (hp[0], hp[1], hp[2]), confidence_held, bool(present))
            )
        self._held, self._held_pose, self._held_confidence = held, hp, confidence_held
        return frames

    def mark(self, t: float, attention: Attention, asleep: bool) -> None:
        """The student's attention state from ``t`` on (before any mark: uncertain, awake)."""
        ms = self._offset_ms(t, "mark")
        segment = TimelineSegment(ms, attention, asleep)
        timeline = self._timeline
        if ms < timeline[-1].t_ms:
            raise GhostRecorderError(f"mark at {ms} ms arrives after one at {timeline[-1].t_ms}")
        # Two marks in one millisecond: the later one wins, so it replaces the last segment.
        kept = timeline[:-1] if ms == timeline[-1].t_ms else timeline
        if kept and (kept[-1].attention, kept[-1].asleep) == (attention, asleep):
            tail: list[TimelineSegment] = []
        else:
            tail = [segment]
        if len(kept) + len(tail) > MAX_SEGMENTS:
            raise GhostRecorderError(f"more than {MAX_SEGMENTS} timeline segments")
        self._timeline = [*kept, *tail] if kept is not timeline else timeline + tail
        self._end_ms = max(self._end_ms, ms)

    def record_damage(self, t: float, cumulative: float) -> None:
        """The session's cumulative damage (points) at ``t``; must not decrease."""
        ms = self._offset_ms(t, "damage report")
        last_ms, last_value = self._damage_last
        if ms < last_ms:
            raise GhostRecorderError(f"damage report at {ms} ms arrives after one at {last_ms}")
        if not math.isfinite(cumulative) or cumulative < last_value:
            raise GhostRecorderError(
                f"cumulative damage must be finite and not below {last_value}, got {cumulative}"
            )
        if round(cumulative * DAMAGE_SCALE) > MAX_DAMAGE_UNITS:
            raise GhostRecorderError(f"cumulative damage {cumulative} is beyond the format's range")
        self._fill_damage(self._damage, (last_ms, last_value), ms, cumulative)
        self._damage_last = (ms, cumulative)
        self._end_ms = max(self._end_ms, ms)

    @staticmethod
    def _fill_damage(track: list[int], last: tuple[int, float], ms: int, value: float) -> None:
        """Append the 1 s samples in (last ms, ms], interpolating linearly between reports."""
        last_ms, last_value = last
        if ms == last_ms and track and (len(track) - 1) * DAMAGE_STEP_MS == ms:
            # A second report at the same whole second: the later value wins.
            track[-1] = round(value * DAMAGE_SCALE)
        while len(track) * DAMAGE_STEP_MS <= ms:
            at = len(track) * DAMAGE_STEP_MS
            if ms == last_ms:
                v = value
            else:
                v = last_value + (value - last_value) * max(at - last_ms, 0) / (ms - last_ms)
            # max(): float rounding in the interpolation must never make the curve dip.
            track.append(max(round(v * DAMAGE_SCALE), track[-1] if track else 0))

    def finish(self, t_end: float) -> GhostRecording:
        """The recording so far, ending at ``t_end`` (not before any input). Can be called again."""
        end_ms = self._offset_ms(t_end, "end")
        if end_ms < self._end_ms:
            raise GhostRecorderError(
                f"end at {end_ms} ms is before the last input ({self._end_ms})"
            )
        damage = list(self._damage)
        last_ms, last_value = self._damage_last
        # Flat after the last report: nothing dealt since.
        self._fill_damage(damage, (last_ms, last_value), end_ms, last_value)
        if end_ms % DAMAGE_STEP_MS:
            damage.append(round(last_value * DAMAGE_SCALE))
        user_id, user_name, subject, started_at, interval = self._meta
        return GhostRecording(
            meta=GhostMeta(user_id, user_name, subject, started_at, end_ms, interval),
            timeline=tuple(self._timeline),
            damage=tuple(damage),
            frames=tuple(self._build_frames()),
        )


# --------------------------------------------------------------------------- codec


def max_body_length(n_frames: int, n_segments: int, n_damage: int) -> int:
    """Upper bound on the body length of a ghost with these counts (the decoder's bomb guard)."""
    text = 3 * (_VARINT_MAX_BYTES + MAX_TEXT_BYTES)
    fixed = text + 8 + 2 * _VARINT_MAX_BYTES
    return (
        fixed
        + n_segments * (_VARINT_MAX_BYTES + 1)
        + n_damage * _VARINT_MAX_BYTES
        + n_frames * (_VARINT_MAX_BYTES + _FRAME_FIXED_BYTES)
    )


def _put_varint(out: bytearray, value: int) -> None:
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def _put_text(out: bytearray, text: str) -> None:
    raw = text.encode("utf-8")
    _put_varint(out, len(raw))
    out += raw


def _deltas(values: Sequence[int]) -> list[int]:
    return list(map(operator.sub, values, itertools.chain((0,), values)))


def _byte_deltas(column: bytes) -> bytes:
    return bytes(map(_LOW_BYTE, map(operator.sub, column, itertools.chain((0,), column))))


def encode_ghost(rec: GhostRecording, compression: Compression = DEFAULT_COMPRESSION) -> bytes:
    """The recording as bytes in the version-1 format (see the module docstring)."""
    compression = Compression(compression)
    meta = rec.meta
    body = bytearray()
    _put_text(body, meta.user_id)
    _put_text(body, meta.user_name)
    _put_text(body, meta.subject)
    body += struct.pack("<d", meta.started_at)
    _put_varint(body, meta.duration_ms)
    _put_varint(body, meta.frame_interval_ms)
    for d in _deltas([s.t_ms for s in rec.timeline]):
        _put_varint(body, d)
    body += bytes(
        ATTENTION_CODES[s.attention] | (_ASLEEP_BIT if s.asleep else 0) for s in rec.timeline
    )
    for d in _deltas(rec.damage):
        _put_varint(body, d)
    frames = rec.frames
    for d in _deltas([f.t_ms for f in frames]):
        _put_varint(body, d)
    rows = b"".join(f.blendshapes for f in frames)
    for j in range(COUNT):
        body += _byte_deltas(rows[j::COUNT])
    for axis in range(3):
        words = list(map(_LOW_WORD, _deltas([f.pose[axis] for f in frames])))
        body += bytes(map(_LOW_BYTE, words))
        body += bytes(map((8).__rrshift__, words))
    body += _byte_deltas(bytes(f.confidence_byte for f in frames))
    body += bytes(f.present for f in frames)
    payload = bytes(body)
    if compression is Compression.DEFLATE:
        packer = zlib.compressobj(_DEFLATE_LEVEL, zlib.DEFLATED, -15, 9)
        compressed = packer.compress(payload) + packer.flush()
    else:
        compressed = lzma.compress(payload, format=lzma.FORMAT_RAW, filters=_LZMA_FILTERS)
    header = HEADER.pack(
        MAGIC,
        FORMAT_VERSION,
        compression,
        len(frames),
        len(rec.timeline),
        len(rec.damage),
        len(payload),
        zlib.crc32(payload),
    )
    return header + compressed


class _Reader:
    """Cursor over a decompressed body; every short read is a :class:`GhostFormatError`."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    @property
    def remaining(self) -> int:
        return len(self._data) - self._pos

    def take(self, n: int) -> bytes:
        if n > self.remaining:
            raise GhostFormatError(f"body truncated: wanted {n} bytes at {self._pos}")
        chunk = self._data[self._pos : self._pos + n]
        self._pos += n
        return chunk

    def varint(self) -> int:
        value = shift = 0
        for i in range(_VARINT_MAX_BYTES):
            if self._pos >= len(self._data):
                raise GhostFormatError("body truncated inside a varint")
            byte = self._data[self._pos]
            self._pos += 1
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                if byte == 0 and i > 0:
                    raise GhostFormatError("non-canonical varint")
                return value
            shift += 7
        raise GhostFormatError("varint longer than 10 bytes")

    def varints(self, n: int) -> list[int]:
        return [self.varint() for _ in range(n)]

    def text(self) -> str:
        n = self.varint()
        if n > MAX_TEXT_BYTES:
            raise GhostFormatError(f"text of {n} bytes; at most {MAX_TEXT_BYTES}")
        try:
            return self.take(n).decode("utf-8")
        except UnicodeDecodeError:
            raise GhostFormatError("text is not valid UTF-8") from None


def _decompress(kind: Compression, data: bytes, length: int) -> bytes:
    try:
        if kind is Compression.DEFLATE:
            inflater = zlib.decompressobj(-15)
            out = inflater.decompress(data, length + 1)
            complete, leftover = inflater.eof, inflater.unused_data
        else:
            unpacker = lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=_LZMA_DECODE_FILTERS)
            out = unpacker.decompress(data, length + 1)
            complete, leftover = unpacker.eof, unpacker.unused_data
    except (zlib.error, lzma.LZMAError) as exc:
        raise GhostFormatError(f"corrupt compressed body: {exc}") from None
    if len(out) != length or not complete or leftover:
        raise GhostFormatError(
            f"compressed body does not decompress to exactly the declared {length} bytes"
        )
    return out


def _undelta(deltas: Sequence[int]) -> list[int]:
    return list(itertools.accumulate(deltas))


def _signed16(words: Sequence[int]) -> list[int]:
    return [((w + 0x8000) & 0xFFFF) - 0x8000 for w in words]


def decode_ghost(data: bytes) -> GhostRecording:
    """The recording in ``data``; :class:`GhostFormatError` if it is not a valid ghost."""
    if len(data) < HEADER.size:
        raise GhostFormatError(f"{len(data)} bytes is shorter than the {HEADER.size}-byte header")
    magic, version, kind, n_frames, n_segments, n_damage, length, crc = HEADER.unpack_from(data)
    if magic != MAGIC:
        raise GhostFormatError(f"bad magic {magic!r}")
    if version != FORMAT_VERSION:
        raise GhostFormatError(f"unknown ghost format version {version}")
    try:
        compression = Compression(kind)
    except ValueError:
        raise GhostFormatError(f"unknown compression {kind}") from None
    if n_frames > MAX_FRAMES or n_segments > MAX_SEGMENTS or n_damage > MAX_DAMAGE_SAMPLES:
        raise GhostFormatError("header counts exceed the format's limits")
    if length > max_body_length(n_frames, n_segments, n_damage):
        raise GhostFormatError(f"declared body length {length} is too large for its counts")
    body = _decompress(compression, data[HEADER.size :], length)
    if zlib.crc32(body) != crc:
        raise GhostFormatError("body checksum mismatch")
    try:
        return _parse_body(_Reader(body), n_frames, n_segments, n_damage)
    except InvalidGhostError as exc:
        raise GhostFormatError(f"decoded ghost is invalid: {exc}") from None


def _parse_body(r: _Reader, n_frames: int, n_segments: int, n_damage: int) -> GhostRecording:
    user_id, user_name, subject = r.text(), r.text(), r.text()
    (started_at,) = struct.unpack("<d", r.take(8))
    duration_ms = r.varint()
    interval = r.varint()
    meta = GhostMeta(user_id, user_name, subject, started_at, duration_ms, interval)

    seg_times = _undelta(r.varints(n_segments))
    timeline = []
    for t_ms, state in zip(seg_times, r.take(n_segments), strict=True):
        attention = _ATTENTION_BY_CODE.get(state & ~_ASLEEP_BIT)
        if attention is None:
            raise GhostFormatError(f"unknown attention code {state & ~_ASLEEP_BIT}")
        timeline.append(TimelineSegment(t_ms, attention, bool(state & _ASLEEP_BIT)))

    damage = _undelta(r.varints(n_damage))

    frame_times = _undelta(r.varints(n_frames))
    if r.remaining != n_frames * _FRAME_FIXED_BYTES:
        raise GhostFormatError(
            f"{r.remaining} bytes of frame columns; {n_frames} frames need "
            f"{n_frames * _FRAME_FIXED_BYTES}"
        )
    rows = bytearray(n_frames * COUNT)
    for j in range(COUNT):
        rows[j::COUNT] = bytes(map(_LOW_BYTE, itertools.accumulate(r.take(n_frames))))
    axes = []
    for _ in range(3):
        low, high = r.take(n_frames), r.take(n_frames)
        words = map(operator.or_, low, map((8).__rlshift__, high))
        axes.append(_signed16(list(map(_LOW_WORD, itertools.accumulate(words)))))
    confidence = bytes(map(_LOW_BYTE, itertools.accumulate(r.take(n_frames))))
    present = r.take(n_frames)
    if any(p > 1 for p in present):
        raise GhostFormatError("present flags must be 0 or 1")
    frames = tuple(
        GhostFrame(
            frame_times[i],
            bytes(rows[i * COUNT : (i + 1) * COUNT]),
            (axes[0][i], axes[1][i], axes[2][i]),
            confidence[i],
            present[i] == 1,
        )
        for i in range(n_frames)
    )
    return GhostRecording(meta, tuple(timeline), tuple(damage), frames)
