"""The analysis timeline: what the shared focus rules said about each frame of a recording.

Theory of operation
-------------------
:class:`TimelineBuilder` owns one :class:`shared.focus.FocusAnalyzer` and feeds it the face
samples of a recording in time order. It keeps one :class:`FrameRow` per sample (the sample's
presence, confidence and pose next to the rules' attention, guard state, score and confusion
flag) and every event the rules emitted. Periods are paired up from those events, never decided
here:

- a :class:`Distraction` runs from ``AwayStarted`` (its ``kind`` is the attention that opened the
  run) to ``AwayEnded``; its ``duration`` is the away time the guard counted, so uncertain
  stretches inside the run are not in it and ``end − start`` can be longer;
- a :class:`SleepPeriod` runs from ``FellAsleep`` to ``WokeUp`` (the timer is paused throughout);
- confusion episodes are the rules' :class:`shared.focus.ConfusionEpisode` values, tagged with
  the subject.

A run or sleep still open at the last frame ends there and is marked ``ongoing``.

The timeline covers the first sample's time to the last one's (``duration_s``); the
:class:`Summary` takes the focused/away/asleep/uncertain/timer seconds, blinks, away runs, flags
and sleeps straight from :meth:`shared.focus.FocusAnalyzer.summary`. What is computed here is
arithmetic on those: ``mean_score`` is the plain mean of the per-frame scores (frames of a
constant-rate video are equally spaced), ``blinks_per_min`` is blinks × 60 / ``duration_s`` over
the whole recording, ``longest_distraction_s`` the largest counted away time of one run.

Every number that goes to a file is rounded here, by one set of rules (:data:`ROW_FIELDS`,
:meth:`FrameRow.values`, :func:`event_to_json`), so that ``timeline.json`` and ``timeline.csv``
carry identical values.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Final

import shared
from shared.face import Attention, FaceSample
from shared.focus import (
    AWAY_FLAG_S,
    DEFAULT_CALIBRATION,
    GAP_CAP_S,
    SCORE_TAU_S,
    SLEEP_AFTER_S,
    AwayEnded,
    AwayFlagged,
    AwayStarted,
    Calibration,
    ConfusionEpisode,
    FellAsleep,
    FocusAnalyzer,
    FocusEvent,
    FrameResult,
    GuardState,
    TimerPaused,
    TimerResumed,
    WokeUp,
)

FORMAT_NAME: Final[str] = "convex-timeline"
FORMAT_VERSION: Final[int] = 1
"""Written at the top of ``timeline.json`` so that readers can refuse what they do not know."""

ROW_FIELDS: Final[tuple[str, ...]] = (
    "t",
    "attention",
    "state",
    "score",
    "confused",
    "present",
    "confidence",
    "yaw",
    "pitch",
    "roll",
)
"""Columns of ``timeline.csv`` and of the ``rows`` arrays in ``timeline.json``, in order."""

TIME_DECIMALS: Final[int] = 3
"""Times in files are rounded to the millisecond (MediaPipe's own timestamp resolution)."""

SCORE_DECIMALS: Final[int] = 2
ANGLE_DECIMALS: Final[int] = 2
CONFIDENCE_DECIMALS: Final[int] = 3
"""Decimals kept in files: well below what the tracker can tell apart."""

EVENT_NAMES: Final[Mapping[type, str]] = {
    AwayStarted: "away_started",
    AwayFlagged: "away_flagged",
    AwayEnded: "away_ended",
    FellAsleep: "fell_asleep",
    TimerPaused: "timer_paused",
    WokeUp: "woke_up",
    TimerResumed: "timer_resumed",
    ConfusionEpisode: "confusion",
}
"""The ``type`` of each focus event in ``timeline.json``."""


class TimelineError(ValueError):
    """A timeline that cannot be built as asked."""


class EmptyTimelineError(TimelineError):
    """:meth:`TimelineBuilder.finish` was called before any sample was added."""


def _round(value: float, decimals: int) -> float:
    # "+ 0.0" turns -0.0 into 0.0, so that files never show a negative zero.
    return round(float(value), decimals) + 0.0


def _t(value: float) -> float:
    return _round(value, TIME_DECIMALS)


@dataclass(frozen=True, slots=True)
class FrameRow:
    """One analysed frame: the sample's tracking values and what the focus rules made of it."""

    t: float
    attention: Attention
    state: GuardState
    score: float
    confused: bool
    present: bool
    confidence: float
    yaw: float
    pitch: float
    roll: float

    @classmethod
    def of(cls, sample: FaceSample, result: FrameResult) -> FrameRow:
        """The row for ``sample`` and the rules' ``result`` for it."""
        return cls(
            t=sample.t,
            attention=result.attention,
            state=result.state,
            score=result.score,
            confused=result.confused,
            present=sample.present,
            confidence=sample.confidence,
            yaw=sample.yaw,
            pitch=sample.pitch,
            roll=sample.roll,
        )

    def values(self) -> tuple[float | str | bool, ...]:
        """The row as both files store it: rounded, in :data:`ROW_FIELDS` order."""
        return (
            _t(self.t),
            self.attention.value,
            self.state.value,
            _round(self.score, SCORE_DECIMALS),
            self.confused,
            self.present,
            _round(self.confidence, CONFIDENCE_DECIMALS),
            _round(self.yaw, ANGLE_DECIMALS),
            _round(self.pitch, ANGLE_DECIMALS),
            _round(self.roll, ANGLE_DECIMALS),
        )


@dataclass(frozen=True, slots=True)
class Distraction:
    """One away run: opened by ``kind`` at ``start``, closed at ``end`` (see the module doc)."""

    kind: Attention
    start: float
    end: float
    duration: float
    """Away time the guard counted in the run (uncertain stretches excluded)."""
    flagged: bool
    """The run reached the exam-mode flag limit (:data:`shared.focus.AWAY_FLAG_S`)."""
    ongoing: bool = False
    """Still open at the last frame (``end`` is then the last frame's time)."""

    def to_json(self) -> dict[str, Any]:
        """This run as stored in ``timeline.json``."""
        return {
            "kind": self.kind.value,
            "start": _t(self.start),
            "end": _t(self.end),
            "duration": _t(self.duration),
            "flagged": self.flagged,
            "ongoing": self.ongoing,
        }


@dataclass(frozen=True, slots=True)
class SleepPeriod:
    """From ``FellAsleep`` to ``WokeUp``: the avatar slept and the session timer was paused."""

    start: float
    end: float
    ongoing: bool = False
    """Still asleep at the last frame (``end`` is then the last frame's time)."""

    @property
    def duration(self) -> float:
        """Length of the sleep in seconds."""
        return self.end - self.start

    def to_json(self) -> dict[str, Any]:
        """This sleep as stored in ``timeline.json``."""
        return {
            "start": _t(self.start),
            "end": _t(self.end),
            "duration": _t(self.duration),
            "ongoing": self.ongoing,
        }


def confusion_to_json(episode: ConfusionEpisode) -> dict[str, Any]:
    """A confusion episode (a high-cognitive-load moment) as stored in ``timeline.json``."""
    return {
        "start": _t(episode.start),
        "end": _t(episode.end),
        "duration": _t(episode.duration),
        "subject": episode.subject,
    }


def event_name(event: FocusEvent) -> str:
    """The ``type`` string of a focus event (:data:`EVENT_NAMES`)."""
    return EVENT_NAMES[type(event)]


def event_to_json(event: FocusEvent) -> dict[str, Any]:
    """A focus event as stored in ``timeline.json``: ``type``, ``t`` and its own fields."""
    doc: dict[str, Any] = {"type": event_name(event), "t": _t(event.t)}
    if isinstance(event, AwayStarted | AwayFlagged | AwayEnded):
        doc["kind"] = event.kind.value
    if isinstance(event, AwayFlagged | AwayEnded):
        doc["started"] = _t(event.started)
    if isinstance(event, AwayEnded):
        doc["duration"] = _t(event.duration)
    if isinstance(event, ConfusionEpisode):
        doc.update(confusion_to_json(event))
    return doc


@dataclass(frozen=True, slots=True)
class Summary:
    """The recording's figures (seconds unless named otherwise); see the module docstring."""

    duration_s: float
    focused_s: float
    away_s: float
    """Away time while awake."""
    asleep_s: float
    uncertain_s: float
    timer_s: float
    """Time the session timer ran (all awake time)."""
    mean_score: float
    final_score: float
    blinks: int
    blinks_per_min: float
    distractions: int
    """Away runs (any length; glances included)."""
    flagged_distractions: int
    """Away runs that reached the flag limit (5 s)."""
    longest_distraction_s: float
    sleeps: int
    cognitive_load_moments: int
    """Confusion episodes (sustained furrowed brow)."""
    cognitive_load_s: float
    face_frames: int
    """Frames in which a face was found."""

    def to_json(self) -> dict[str, Any]:
        """The summary as stored in ``timeline.json`` (seconds to the ms, scores to 0.01)."""
        doc: dict[str, Any] = {}
        for name, value in asdict(self).items():
            if isinstance(value, int):
                doc[name] = value
            elif name.endswith("_s"):
                doc[name] = _t(value)
            else:
                doc[name] = _round(value, SCORE_DECIMALS)
        return doc


@dataclass(frozen=True, slots=True)
class CalibrationInfo:
    """Which per-user calibration the analysis used, for the report's metadata."""

    user: str
    path: str
    centre_yaw: float
    centre_pitch: float
    samples_used: int

    def to_json(self) -> dict[str, Any]:
        """As stored in ``timeline.json``'s ``meta.calibration``."""
        return {
            "user": self.user,
            "path": self.path,
            "centre_yaw": _round(self.centre_yaw, ANGLE_DECIMALS),
            "centre_pitch": _round(self.centre_pitch, ANGLE_DECIMALS),
            "samples_used": self.samples_used,
        }


@dataclass(frozen=True, slots=True)
class AnalysisMeta:
    """Where a timeline came from: the recording, the model, the calibration and the sampling."""

    source: str
    """The recording's path as given."""
    subject: str | None
    model_path: str
    model_sha256: str
    fps: float | None
    """The recording's frame rate (None when the container states none)."""
    every: int
    """Only every ``every``-th decoded frame was analysed."""
    frames_decoded: int
    width: int
    height: int
    calibration: CalibrationInfo | None = None


@dataclass(frozen=True, slots=True)
class Timeline:
    """A finished analysis: metadata, summary, events, periods and one row per analysed frame."""

    meta: AnalysisMeta
    calibration: Calibration
    summary: Summary
    events: tuple[FocusEvent, ...]
    """Every event the rules emitted, ordered by their own time (stable)."""
    distractions: tuple[Distraction, ...]
    sleeps: tuple[SleepPeriod, ...]
    confusion: tuple[ConfusionEpisode, ...]
    rows: tuple[FrameRow, ...]

    def __post_init__(self) -> None:
        if not self.rows:
            raise EmptyTimelineError("a timeline needs at least one frame")

    @property
    def frames(self) -> int:
        """Frames analysed (rows)."""
        return len(self.rows)

    @property
    def start(self) -> float:
        """Time of the first analysed frame."""
        return self.rows[0].t

    @property
    def end(self) -> float:
        """Time of the last analysed frame."""
        return self.rows[-1].t

    def to_json(self) -> dict[str, Any]:
        """The whole ``timeline.json`` document."""
        meta = self.meta
        return {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "meta": {
                "source": meta.source,
                "subject": meta.subject,
                "model": {"path": meta.model_path, "sha256": meta.model_sha256},
                "fps": meta.fps,
                "frames": self.frames,
                "frames_decoded": meta.frames_decoded,
                "every": meta.every,
                "width": meta.width,
                "height": meta.height,
                "calibration": None if meta.calibration is None else meta.calibration.to_json(),
                "thresholds": asdict(self.calibration.thresholds),
                "rules": {
                    "sleep_after_s": SLEEP_AFTER_S,
                    "away_flag_s": AWAY_FLAG_S,
                    "gap_cap_s": GAP_CAP_S,
                    "score_tau_s": SCORE_TAU_S,
                },
                "convex_version": shared.__version__,
            },
            "summary": self.summary.to_json(),
            "events": [event_to_json(e) for e in self.events],
            "distractions": [d.to_json() for d in self.distractions],
            "sleeps": [s.to_json() for s in self.sleeps],
            "confusion": [confusion_to_json(c) for c in self.confusion],
            "columns": list(ROW_FIELDS),
            "rows": [list(row.values()) for row in self.rows],
        }


class TimelineBuilder:
    """Folds face samples through the shared focus rules and records what they say."""

    def __init__(
        self, calibration: Calibration = DEFAULT_CALIBRATION, *, subject: str | None = None
    ) -> None:
        self._calibration = calibration
        self._focus = FocusAnalyzer(calibration, subject=subject)
        self._rows: list[FrameRow] = []
        self._events: list[FocusEvent] = []
        self._distractions: list[Distraction] = []
        self._sleeps: list[SleepPeriod] = []
        self._run: AwayStarted | None = None
        self._run_flagged = False
        self._asleep_since: float | None = None
        self._faces = 0
        self._last: FrameResult | None = None

    @property
    def frames(self) -> int:
        """Samples added so far."""
        return len(self._rows)

    @property
    def face_frames(self) -> int:
        """Samples added so far in which a face was present."""
        return self._faces

    def add(self, sample: FaceSample) -> FrameResult:
        """Take the next sample (in time order) and return the rules' result for it."""
        # The rules check the order first and change nothing on error, so neither does this.
        result = self._focus.update(sample)
        self._rows.append(FrameRow.of(sample, result))
        if sample.present:
            self._faces += 1
        for event in result.events:
            self._record(event)
        self._last = result
        return result

    def extend(self, samples: Iterable[FaceSample]) -> None:
        """:meth:`add` each sample in turn."""
        for sample in samples:
            self.add(sample)

    def _record(self, event: FocusEvent) -> None:
        self._events.append(event)
        if isinstance(event, AwayStarted):
            self._run = event
            self._run_flagged = False
        elif isinstance(event, AwayFlagged):
            self._run_flagged = True
        elif isinstance(event, AwayEnded):
            self._distractions.append(
                Distraction(event.kind, event.started, event.t, event.duration, self._run_flagged)
            )
            self._run = None
            self._run_flagged = False
        elif isinstance(event, FellAsleep):
            self._asleep_since = event.t
        elif isinstance(event, WokeUp):
            # The guard's table only wakes a sleeper, so a start is always known.
            since = event.t if self._asleep_since is None else self._asleep_since
            self._sleeps.append(SleepPeriod(since, event.t))
            self._asleep_since = None

    def finish(self, meta: AnalysisMeta) -> Timeline:
        """The timeline so far, closing open periods at the last frame; changes nothing."""
        last = self._last
        if last is None:
            raise EmptyTimelineError("no frame was analysed")
        end = last.t
        rules = self._focus.summary()
        distractions = list(self._distractions)
        if self._run is not None:
            run = self._run
            distractions.append(
                Distraction(run.kind, run.t, end, last.away_clock, self._run_flagged, True)
            )
        sleeps = list(self._sleeps)
        if self._asleep_since is not None:
            sleeps.append(SleepPeriod(self._asleep_since, end, True))
        duration = rules.elapsed_s
        summary = Summary(
            duration_s=duration,
            focused_s=rules.focused_s,
            away_s=rules.away_s,
            asleep_s=rules.asleep_s,
            uncertain_s=rules.uncertain_s,
            timer_s=rules.timer_s,
            mean_score=math.fsum(r.score for r in self._rows) / len(self._rows),
            final_score=last.score,
            blinks=rules.blinks,
            blinks_per_min=rules.blinks * 60.0 / duration if duration > 0.0 else 0.0,
            distractions=rules.away_runs,
            flagged_distractions=rules.away_flags,
            longest_distraction_s=max((d.duration for d in distractions), default=0.0),
            sleeps=rules.sleeps,
            cognitive_load_moments=len(rules.confusion),
            cognitive_load_s=math.fsum(c.duration for c in rules.confusion),
            face_frames=self._faces,
        )
        return Timeline(
            meta=meta,
            calibration=self._calibration,
            summary=summary,
            events=tuple(sorted(self._events, key=lambda e: e.t)),
            distractions=tuple(distractions),
            sleeps=tuple(sleeps),
            confusion=rules.confusion,
            rows=tuple(self._rows),
        )
