"""A solo study session's logic: the pomodoro timer, the focus rules, and what the avatar shows.

Theory of operation
-------------------
:class:`SoloSession` is the solo scene's model, free of Panda3D so it can be
driven in tests with synthetic samples and a fake clock. It owns a
:class:`shared.timer.RoomTimer` (the same rules as a room on the server) and
a :class:`shared.focus.FocusAnalyzer`. Each frame the scene calls
:meth:`SoloSession.step` with the newest face sample and ``now`` (the app's
frame clock); the session

1. catches the timer up (phases end by themselves);
2. feeds a *new* sample (a later ``t`` than the last one) to the focus rules,
   but only while a focus block runs and the student has not paused: breaks
   and pauses are not study time;
3. keeps the timer's ``"asleep"`` pause reason in step with the Distraction
   Guard: held while asleep, released when the student is focused again, so
   the pomodoro stops exactly while the avatar sleeps;
4. samples the focus score once a second for the summary chart;
5. returns a :class:`SoloStatus` for the HUD and the avatar.

The avatar is **asleep** while the guard says so, **frozen** while tracking is
uncertain or the face is lost (before it counts as asleep), else **live**.
Commands (:meth:`start`, :meth:`toggle_pause`, :meth:`end`) are the space and
``e`` keys; an illegal one (pausing in the lobby) raises the timer's
:class:`shared.timer.IllegalTransition` and changes nothing.

**A ghost** (:attr:`SoloSession.ghost`, a friend's recorded session) replays on the
session's *elapsed* clock: the seconds the pomodoro has actually run since the start,
which stops whenever the timer is paused (by the student or by sleep) and so freezes the
ghost too. Each step reports the ghost's state at that elapsed time and the pace
(:func:`shared.pace.pace_at`: your credited focus against the ghost's); the summary keeps
the last comparison.
"""

from __future__ import annotations

from dataclasses import dataclass

from game.avatar.mapping import AvatarMode
from game.config import ASLEEP_REASON, CHART_SAMPLE_S, USER_PAUSE_REASON
from shared.face import Attention, FaceSample
from shared.focus import (
    DEFAULT_CALIBRATION,
    SLEEP_AFTER_S,
    Calibration,
    FocusAnalyzer,
    FocusSummary,
    GuardState,
    classify,
)
from shared.ghost import GhostRecording
from shared.pace import GhostState, Pace, ghost_state, pace_at
from shared.timer import Phase, RoomTimer, TimerPlan


@dataclass(frozen=True, slots=True)
class SoloStatus:
    """What the HUD and the avatar show after one step."""

    phase: Phase
    remaining_s: float
    round_index: int
    rounds: int
    pause_reasons: frozenset[str]
    score: float
    attention: Attention | None
    """The newest sample's attention (None before the first sample)."""
    asleep: bool
    away_s: float
    """Away time counted towards sleep (0 unless the student is away and measured)."""
    avatar_mode: AvatarMode
    finished: bool
    elapsed_s: float = 0.0
    """Seconds since the start, excluding pauses you chose (time asleep counts)."""
    ghost: GhostState | None = None
    """The ghost at ``elapsed_s`` (None without a ghost)."""
    pace: Pace | None = None
    """You against the ghost at ``elapsed_s`` (None without a ghost)."""


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """A finished session, for the summary screen and the local streak."""

    subject: str | None
    started_at: float
    """Frame-clock time the first focus block started."""
    ended_at: float
    focus_s: float
    """Focus time the pomodoro credited (timer running in focus blocks)."""
    rounds_done: int
    plan: TimerPlan
    focus: FocusSummary | None
    """The focus rules' totals (None when no face sample arrived while measuring)."""
    chart: tuple[tuple[float, float], ...]
    """(seconds since start, focus score) about once a second while measuring."""
    pace: Pace | None = None
    """The final comparison with the ghost studied alongside (None without one)."""
    ghost_owner: str | None = None
    """Whose ghost that was."""

    @property
    def elapsed_s(self) -> float:
        """Wall time from start to end, pauses included."""
        return self.ended_at - self.started_at


class SoloSession:
    """One student's pomodoro session with the focus rules; see the module docstring."""

    def __init__(
        self,
        plan: TimerPlan,
        *,
        subject: str | None = None,
        calibration: Calibration = DEFAULT_CALIBRATION,
        sleep_after_s: float = SLEEP_AFTER_S,
        ghost: GhostRecording | None = None,
    ) -> None:
        self.plan = plan
        self.ghost = ghost
        """The recording replayed alongside; may be set or replaced at any time."""
        self.subject = subject
        self.calibration = calibration
        self.sleep_after_s = sleep_after_s
        self.timer = RoomTimer(plan)
        self.focus = FocusAnalyzer(calibration, sleep_after_s=sleep_after_s, subject=subject)
        self._measured = 0
        self._last_sample_t: float | None = None
        self._attention: Attention | None = None
        self._away_s = 0.0
        self._started_at: float | None = None
        self._ended: SessionSummary | None = None
        self._chart: list[tuple[float, float]] = []
        self._next_chart_t = 0.0
        self._elapsed = 0.0
        self._clock_at: float | None = None

    # -- commands ----------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        """Whether the first focus block has begun."""
        return self._started_at is not None

    @property
    def summary(self) -> SessionSummary | None:
        """The summary once the session has ended (by ``end`` or the last block running out)."""
        return self._ended

    def start(self, now: float) -> None:
        """Start the first focus block."""
        self.timer = self.timer.start(now)
        self._started_at = now
        self._next_chart_t = now
        self._clock_at = now

    def toggle_pause(self, now: float) -> bool:
        """Pause or resume on the student's request; returns whether it is now paused."""
        self._tick(now)
        if USER_PAUSE_REASON in self.timer.pause_reasons:
            self.timer = self.timer.resume(now, USER_PAUSE_REASON)
            return False
        self.timer = self.timer.pause(now, USER_PAUSE_REASON)
        return True

    def end(self, now: float) -> SessionSummary:
        """End the session now (from any phase) and return its summary."""
        if self._ended is not None:
            return self._ended
        self._tick(now)
        if self.timer.phase in (Phase.FOCUS, Phase.BREAK):
            self.timer = self.timer.finish(now)
        return self._finish(now)

    def _finish(self, now: float) -> SessionSummary:
        # The focus rules run on the samples' clock, which need not be the frame clock.
        focus = self.focus.summary() if self._measured else None
        started = self._started_at if self._started_at is not None else now
        rounds_done = int(self.timer.focus_done_s // self.plan.focus_s + 1e-9)
        self._ended = SessionSummary(
            subject=self.subject,
            started_at=started,
            ended_at=now,
            focus_s=self.timer.focus_done_s,
            rounds_done=rounds_done,
            plan=self.plan,
            focus=focus,
            chart=tuple(self._chart),
            pace=self.pace(),
            ghost_owner=self.ghost.meta.user_name if self.ghost is not None else None,
        )
        return self._ended

    # -- the elapsed clock and the ghost -------------------------------------------------------

    @property
    def elapsed_s(self) -> float:
        """Seconds since the start up to the last step, excluding pauses you chose (sleep counts)."""
        return self._elapsed

    def _running(self) -> bool:
        # The ghost waits while you pause on purpose, but not while you sleep: dozing off
        # is exactly the ground a ghost should gain on you.
        return (
            self._ended is None
            and self.timer.phase in (Phase.FOCUS, Phase.BREAK)
            and not (set(self.timer.pause_reasons) - {ASLEEP_REASON})
        )

    def _tick(self, now: float) -> None:
        """Add the time since the last tick to the elapsed clock if the timer was running."""
        if self._clock_at is not None and self._running():
            self._elapsed += max(now - self._clock_at, 0.0)
        if self._clock_at is not None:
            self._clock_at = max(self._clock_at, now)

    def focused_s(self) -> float:
        """Focus the focus rules have credited so far (0 before any measured sample)."""
        return self.focus.summary().focused_s if self._measured else 0.0

    def pace(self) -> Pace | None:
        """You against the ghost at the elapsed time (None without a ghost)."""
        if self.ghost is None:
            return None
        return pace_at(self.ghost, self._elapsed, self.focused_s())

    # -- the per-frame step -------------------------------------------------------------------

    def step(self, sample: FaceSample | None, now: float) -> SoloStatus:
        """Advance to ``now`` with the newest sample (the same sample may come several times)."""
        if self._ended is None:
            self._tick(now)
        if self._ended is None and self.timer.phase in (Phase.FOCUS, Phase.BREAK):
            self.timer = self.timer.advance(now)
            if self.timer.phase is Phase.RESULTS:
                self._finish(now)
        measuring = (
            self._ended is None
            and self.timer.phase is Phase.FOCUS
            and USER_PAUSE_REASON not in self.timer.pause_reasons
        )
        if sample is not None and (self._last_sample_t is None or sample.t > self._last_sample_t):
            self._last_sample_t = sample.t
            if measuring:
                result = self.focus.update(sample)
                self._measured += 1
                self._attention = result.attention
                self._away_s = result.away_clock if result.attention.is_away else 0.0
            else:
                self._attention = classify(sample, self.calibration)
                self._away_s = 0.0
        asleep = measuring and self.focus.state is GuardState.ASLEEP
        self._sync_asleep_pause(asleep, now)
        if measuring and now >= self._next_chart_t:
            assert self._started_at is not None
            self._chart.append((now - self._started_at, self.focus.score))
            self._next_chart_t = now + CHART_SAMPLE_S
        return SoloStatus(
            phase=self.timer.phase,
            remaining_s=self.timer.remaining(now),
            round_index=self.timer.round_index,
            rounds=self.plan.rounds,
            pause_reasons=self.timer.pause_reasons,
            score=self.focus.score,
            attention=self._attention,
            asleep=asleep,
            away_s=self._away_s if measuring else 0.0,
            avatar_mode=self._avatar_mode(sample, asleep),
            finished=self._ended is not None,
            elapsed_s=self._elapsed,
            ghost=ghost_state(self.ghost, self._elapsed) if self.ghost is not None else None,
            pace=self._ended.pace if self._ended is not None else self.pace(),
        )

    def _sync_asleep_pause(self, asleep: bool, now: float) -> None:
        held = ASLEEP_REASON in self.timer.pause_reasons
        if asleep and not held:
            self.timer = self.timer.pause(now, ASLEEP_REASON)
        elif held and not asleep:
            self.timer = self.timer.resume(now, ASLEEP_REASON)

    def _avatar_mode(self, sample: FaceSample | None, asleep: bool) -> AvatarMode:
        if asleep:
            return AvatarMode.ASLEEP
        if (
            sample is None
            or not sample.present
            or self._attention in (None, Attention.UNCERTAIN, Attention.NO_FACE)
        ):
            return AvatarMode.FROZEN
        return AvatarMode.LIVE
