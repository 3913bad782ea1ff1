"""One object that folds a stream of face samples through every focus rule.

Theory of operation
-------------------
:class:`FocusAnalyzer` owns one of each rule for one student and, per :class:`FaceSample`:

1. classifies the frame (:func:`~shared.focus.attention.classify`, with the user's calibration);
2. feeds the attention to the :class:`~shared.focus.guard.DistractionGuard`;
3. moves the score by the time the guard just credited (towards 100) and penalised (towards 0),
   so the score sees exactly the guard's accounting — blinks, uncertain time and gaps included;
4. feeds the blink counter and the confusion tracker (an absent or uncertain face is not
   furrowed);

and returns a :class:`FrameResult` carrying the events that sample caused. Samples must arrive in
time order (:class:`OutOfOrderSampleError` otherwise, and nothing changes). :func:`replay` is the
same fold over a recorded sequence, so a ghost or an offline analysis gets the results the live
client got. Times in events are when things happened, which can be earlier than the sample that
revealed them (sleep at the exact 15 s mark, a long eye closure dated from when the eyes closed).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from shared.face import Attention, FaceSample
from shared.focus.attention import (
    BLINK_MAX_S,
    DEFAULT_CALIBRATION,
    Calibration,
    brow_down,
    classify,
)
from shared.focus.blink import BLINK_WINDOW_S, BlinkCounter
from shared.focus.confusion import CONFUSION_GAP_CAP_S, ConfusionEpisode, ConfusionTracker
from shared.focus.errors import InvalidSettingsError, OutOfOrderSampleError
from shared.focus.guard import (
    AWAY_FLAG_S,
    GAP_CAP_S,
    SLEEP_AFTER_S,
    DistractionGuard,
    GuardEvent,
    GuardState,
)
from shared.focus.score import INITIAL_SCORE, SCORE_MAX, SCORE_MIN, SCORE_TAU_S, update_score

FocusEvent = GuardEvent | ConfusionEpisode
"""Everything a frame can emit: guard events and finished confusion episodes."""


@dataclass(frozen=True, slots=True)
class FrameResult:
    """What one sample meant: its attention, the guard state and score after it, and its events."""

    t: float
    attention: Attention
    state: GuardState
    score: float
    away_clock: float
    """Away time counted in the current away run (0 when not away): the countdown to sleep."""
    confused: bool
    """A confusion episode is under way (furrowed for at least the minimum so far)."""
    events: tuple[FocusEvent, ...]


@dataclass(frozen=True, slots=True)
class FocusSummary:
    """A session's focus figures from its first sample to ``end`` (see the guard's accounting)."""

    start: float
    end: float
    state: GuardState
    score: float
    focused_s: float
    away_s: float
    asleep_s: float
    uncertain_s: float
    timer_s: float
    sleeps: int
    away_runs: int
    away_flags: int
    blinks: int
    blink_rate: float
    """Blinks per minute over the last 60 s before ``end``."""
    confusion: tuple[ConfusionEpisode, ...]
    """Finished episodes, plus one under way at ``end`` if it is already long enough."""

    @property
    def elapsed_s(self) -> float:
        """Time covered: ``end − start``."""
        return self.end - self.start


class FocusAnalyzer:
    """Runs every focus rule over one student's sample stream."""

    __slots__ = ("_blinks", "_calibration", "_confusion", "_episodes", "_guard", "_score", "_tau")

    def __init__(
        self,
        calibration: Calibration = DEFAULT_CALIBRATION,
        *,
        sleep_after_s: float = SLEEP_AFTER_S,
        away_flag_s: float = AWAY_FLAG_S,
        gap_cap_s: float = GAP_CAP_S,
        score_tau_s: float = SCORE_TAU_S,
        initial_score: float = INITIAL_SCORE,
        subject: str | None = None,
    ) -> None:
        if not (math.isfinite(score_tau_s) and score_tau_s > 0.0):
            raise InvalidSettingsError(f"score_tau_s must be finite and positive: {score_tau_s!r}")
        if not (SCORE_MIN <= initial_score <= SCORE_MAX):
            raise InvalidSettingsError(f"initial_score must be within [0, 100]: {initial_score!r}")
        th = calibration.thresholds
        self._calibration = calibration
        self._guard = DistractionGuard(
            sleep_after_s=sleep_after_s,
            away_flag_s=away_flag_s,
            gap_cap_s=gap_cap_s,
            blink_grace_s=BLINK_MAX_S,
        )
        self._blinks = BlinkCounter(max_s=BLINK_MAX_S, window_s=BLINK_WINDOW_S)
        self._confusion = ConfusionTracker(
            min_s=th.confusion_min_s,
            relax_s=th.confusion_relax_s,
            gap_cap_s=min(gap_cap_s, CONFUSION_GAP_CAP_S),
            subject=subject,
        )
        self._episodes: list[ConfusionEpisode] = []
        self._score = float(initial_score)
        self._tau = score_tau_s

    @property
    def calibration(self) -> Calibration:
        """The calibration frames are classified with."""
        return self._calibration

    @property
    def score(self) -> float:
        """The focus score after the last sample."""
        return self._score

    @property
    def state(self) -> GuardState:
        """Awake or asleep after the last sample."""
        return self._guard.state

    @property
    def subject(self) -> str | None:
        """The label stamped on confusion episodes that end from now on."""
        return self._confusion.subject

    @subject.setter
    def subject(self, value: str | None) -> None:
        self._confusion.subject = value

    @property
    def confusion_episodes(self) -> tuple[ConfusionEpisode, ...]:
        """The confusion episodes finished so far."""
        return tuple(self._episodes)

    def update(self, sample: FaceSample) -> FrameResult:
        """Take one sample (in time order) and say what it meant."""
        t = sample.t
        attention, events = self._fold(sample)
        guard = self._guard
        return FrameResult(
            t,
            attention,
            guard.state,
            self._score,
            guard.away_clock,
            self._confusion.active(t),
            events,
        )

    def update_attention(self, sample: FaceSample) -> Attention:
        """:meth:`update` for a caller that only needs the sample's attention (and reads
        :attr:`state` / :attr:`score` after it): the analyser changes exactly as with
        :meth:`update`, but no :class:`FrameResult` is built. The relay analyses every frame
        of every member and uses nothing else from the result."""
        return self._fold(sample)[0]

    def _fold(self, sample: FaceSample) -> tuple[Attention, tuple[FocusEvent, ...]]:
        """Fold one sample through every rule; its attention and the events it caused."""
        t = sample.t
        guard = self._guard
        last_t = guard.last_t
        if last_t is not None and t < last_t:
            raise OutOfOrderSampleError(f"sample at t={t} is before the last one at t={last_t}")
        cal = self._calibration
        attention = classify(sample, cal)
        credited0 = guard.focused_s
        penalised0 = guard.away_s + guard.asleep_s
        events: tuple[FocusEvent, ...] = guard.update(attention, t)
        credited = guard.focused_s - credited0
        penalised = guard.away_s + guard.asleep_s - penalised0
        if credited > 0.0 or penalised > 0.0:
            self._score = update_score(self._score, credited, penalised, self._tau)
        self._blinks.update(attention, t)
        furrowed = (
            attention is not Attention.NO_FACE
            and attention is not Attention.UNCERTAIN
            and brow_down(sample.blendshapes) - cal.brow0 >= cal.thresholds.confusion_brow_level
        )
        episode = self._confusion.update(furrowed, t)
        if episode is not None:
            self._episodes.append(episode)
            events = (*events, episode)
        return attention, events

    def blink_rate(self, now: float) -> float:
        """Blinks per minute over the 60 s ending at ``now``."""
        return self._blinks.rate(now)

    def summary(self, now: float | None = None) -> FocusSummary:
        """The session so far, as of ``now`` (default: the last sample); changes nothing."""
        guard = self._guard
        totals = guard.totals(now)
        end = totals.end
        score = update_score(
            self._score,
            totals.focused_s - guard.focused_s,
            totals.away_s + totals.asleep_s - guard.away_s - guard.asleep_s,
            self._tau,
        )
        episodes = list(self._episodes)
        open_episode = self._confusion.open_episode(end) if guard.last_t is not None else None
        if open_episode is not None:
            episodes.append(open_episode)
        return FocusSummary(
            start=totals.start,
            end=end,
            state=totals.state,
            score=score,
            focused_s=totals.focused_s,
            away_s=totals.away_s,
            asleep_s=totals.asleep_s,
            uncertain_s=totals.uncertain_s,
            timer_s=totals.timer_s,
            sleeps=totals.sleeps,
            away_runs=totals.away_runs,
            away_flags=totals.away_flags,
            blinks=self._blinks.total,
            blink_rate=self._blinks.rate(end) if guard.last_t is not None else 0.0,
            confusion=tuple(episodes),
        )


def replay(
    samples: Iterable[FaceSample],
    calibration: Calibration = DEFAULT_CALIBRATION,
    *,
    subject: str | None = None,
) -> list[FrameResult]:
    """Fold a recorded sample sequence through a fresh :class:`FocusAnalyzer`."""
    analyzer = FocusAnalyzer(calibration, subject=subject)
    return [analyzer.update(s) for s in samples]
