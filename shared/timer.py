"""Room timer rules: pomodoro phases with absolute end times, pause reasons and catch-up.

Theory of operation
-------------------
A room's timer is a value (:class:`RoomTimer`, frozen); every event returns a
new timer and an illegal event raises :class:`TimerError` and changes nothing.
Times are float seconds on one absolute clock (the server uses Unix epoch
seconds; the wire protocol converts to milliseconds) and always come in as
``now`` -- this module never reads a clock.

Phases follow :data:`TRANSITIONS`, a table ``(Phase, TimerEvent) -> Phase``::

    lobby --start--> focus --focus_end--> break --break_end--> focus ...
                     focus --last_focus_end--> results   (no break after the last round)
    focus/break --finish--> results                    (host ends early)
    focus/break --pause/resume--> same phase

While a phase runs, ``end_time`` is the absolute instant it ends; clients
compute the remaining time from it, so nothing drifts. The timer is paused
while at least one *pause reason* is held (e.g. ``"host"``, or
``"asleep"`` in a solo room); ``paused_at`` is when the first reason arrived.
``remaining(now)`` is frozen while paused, and when the last reason clears,
``end_time`` moves forward by exactly the paused duration -- so pausing
conserves time, and ``end_time`` only ever moves forward by paused time.

Phases end lazily: :meth:`RoomTimer.advance` ends every phase whose
``end_time`` has passed, possibly several at once if ``now`` is far ahead. The
next phase's ``end_time`` is the previous ``end_time`` plus the next phase's
length (never ``now`` plus a length), so a late tick cannot add drift. Every
other event first catches up the same way, so an event is always applied to
the phase that is really current at ``now``. A paused phase never ends.

Events must not go back in time: ``now`` earlier than the last event raises
:class:`InvalidTime`. Queries (``remaining``, ``focus_elapsed``) accept any
finite ``now``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType
from typing import Final


class Phase(StrEnum):
    """The phases of a study room, in the order a session normally passes through them."""

    LOBBY = "lobby"
    FOCUS = "focus"
    BREAK = "break"
    RESULTS = "results"


class TimerEvent(StrEnum):
    """What can happen to a timer; the keys of :data:`TRANSITIONS` together with a phase."""

    START = "start"
    PAUSE = "pause"
    RESUME = "resume"
    FOCUS_END = "focus_end"
    """A focus round that is not the last one ran out (a break follows)."""
    LAST_FOCUS_END = "last_focus_end"
    """The last focus round ran out (results follow)."""
    BREAK_END = "break_end"
    FINISH = "finish"
    """The host ended the session early."""


TRANSITIONS: Final[Mapping[tuple[Phase, TimerEvent], Phase]] = MappingProxyType(
    {
        (Phase.LOBBY, TimerEvent.START): Phase.FOCUS,
        (Phase.FOCUS, TimerEvent.PAUSE): Phase.FOCUS,
        (Phase.FOCUS, TimerEvent.RESUME): Phase.FOCUS,
        (Phase.FOCUS, TimerEvent.FOCUS_END): Phase.BREAK,
        (Phase.FOCUS, TimerEvent.LAST_FOCUS_END): Phase.RESULTS,
        (Phase.FOCUS, TimerEvent.FINISH): Phase.RESULTS,
        (Phase.BREAK, TimerEvent.PAUSE): Phase.BREAK,
        (Phase.BREAK, TimerEvent.RESUME): Phase.BREAK,
        (Phase.BREAK, TimerEvent.BREAK_END): Phase.FOCUS,
        (Phase.BREAK, TimerEvent.FINISH): Phase.RESULTS,
    }
)
"""Every legal ``(phase, event)`` pair and the phase it leads to; anything else is illegal."""

RUNNING_PHASES: Final[frozenset[Phase]] = frozenset({Phase.FOCUS, Phase.BREAK})
"""Phases that have an ``end_time`` (and can be paused)."""

DEFAULT_FOCUS_S: Final[float] = 25 * 60.0
"""Classic pomodoro focus block: 25 minutes."""
DEFAULT_BREAK_S: Final[float] = 5 * 60.0
"""Classic pomodoro short break: 5 minutes."""
DEFAULT_ROUNDS: Final[int] = 4
"""Classic pomodoro set: four focus blocks."""

MAX_FOCUS_S: Final[float] = 4 * 3600.0
"""Longest focus block accepted (4 h); longer is almost certainly a units mistake."""
MAX_BREAK_S: Final[float] = 3600.0
"""Longest break accepted (1 h)."""
MAX_ROUNDS: Final[int] = 12
"""Most focus blocks in one session (twelve pomodoros is a very long day)."""
MAX_REASON_LEN: Final[int] = 32
"""Longest pause reason; reasons are short tags such as ``host`` or ``asleep`` (wire slugs)."""


class TimerError(ValueError):
    """Base class for every timer rule violation."""


class IllegalTransition(TimerError):
    """The event is not allowed in the timer's current phase or pause state."""


class InvalidPlan(TimerError):
    """A timer plan with non-finite, non-positive or implausibly large values."""


class InvalidTime(TimerError):
    """``now`` is not finite, or an event's ``now`` is earlier than the previous event."""


class InvalidPauseReason(TimerError):
    """A pause reason that is not a short non-empty string."""


class InvalidTimerState(TimerError):
    """A timer whose fields contradict each other (e.g. restored from corrupt storage)."""


def _check_finite(now: float, what: str = "now") -> None:
    if isinstance(now, bool) or not isinstance(now, int | float) or not math.isfinite(now):
        raise InvalidTime(f"{what} must be a finite number of seconds, got {now!r}")


@dataclass(frozen=True, slots=True)
class TimerPlan:
    """How long focus blocks and breaks last and how many focus blocks a session has."""

    focus_s: float = DEFAULT_FOCUS_S
    break_s: float = DEFAULT_BREAK_S
    rounds: int = DEFAULT_ROUNDS

    def __post_init__(self) -> None:
        for name, value, limit in (
            ("focus_s", self.focus_s, MAX_FOCUS_S),
            ("break_s", self.break_s, MAX_BREAK_S),
        ):
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not (0.0 < value <= limit)  # also rejects NaN
            ):
                raise InvalidPlan(f"{name} must be in (0, {limit:g}] seconds, got {value!r}")
        if (
            isinstance(self.rounds, bool)
            or not isinstance(self.rounds, int)
            or not 1 <= self.rounds <= MAX_ROUNDS
        ):
            raise InvalidPlan(
                f"rounds must be an integer in [1, {MAX_ROUNDS}], got {self.rounds!r}"
            )

    @property
    def planned_focus_s(self) -> float:
        """Total focus time the plan asks for (all rounds)."""
        return self.focus_s * self.rounds

    @property
    def total_s(self) -> float:
        """Length of the whole session without pauses: every focus block and the breaks between."""
        return self.focus_s * self.rounds + self.break_s * (self.rounds - 1)


@dataclass(frozen=True, slots=True)
class RoomTimer:
    """The authoritative timer of one room; every event returns a new timer.

    ``round_index`` is 0-based and counts focus blocks; a break keeps the index
    of the focus block before it. ``focus_done_s`` is the focus time of focus
    blocks already over (full blocks, or the part before an early finish).
    ``updated_at`` is the ``now`` of the last event (``None`` before start).
    """

    plan: TimerPlan = field(default_factory=TimerPlan)
    phase: Phase = Phase.LOBBY
    round_index: int = 0
    end_time: float | None = None
    paused_at: float | None = None
    pause_reasons: frozenset[str] = frozenset()
    focus_done_s: float = 0.0
    updated_at: float | None = None

    def __post_init__(self) -> None:
        running = self.phase in RUNNING_PHASES
        if running != (self.end_time is not None):
            raise InvalidTimerState(
                f"phase {self.phase} must {'' if running else 'not '}have an end_time"
            )
        if (self.paused_at is None) != (not self.pause_reasons):
            raise InvalidTimerState("paused_at and pause_reasons must be set together")
        if self.pause_reasons and not running:
            raise InvalidTimerState(f"a timer in {self.phase} cannot be paused")
        if not 0 <= self.round_index < self.plan.rounds:
            raise InvalidTimerState(f"round_index {self.round_index} outside the plan's rounds")
        for name, value in (
            ("end_time", self.end_time),
            ("paused_at", self.paused_at),
            ("updated_at", self.updated_at),
        ):
            if value is not None:
                _check_finite(value, name)
        if not 0.0 <= self.focus_done_s <= self.plan.planned_focus_s:
            raise InvalidTimerState(f"focus_done_s {self.focus_done_s!r} outside the plan")

    # -- queries ---------------------------------------------------------------

    @property
    def paused(self) -> bool:
        """Whether any pause reason is held."""
        return bool(self.pause_reasons)

    @property
    def phase_length(self) -> float:
        """Planned length of the current phase (0 in lobby and results)."""
        if self.phase is Phase.FOCUS:
            return self.plan.focus_s
        if self.phase is Phase.BREAK:
            return self.plan.break_s
        return 0.0

    def remaining(self, now: float) -> float:
        """Seconds left in this phase: never negative, frozen while paused, 0 if not running."""
        _check_finite(now)
        if self.end_time is None:
            return 0.0
        reference = self.paused_at if self.paused_at is not None else now
        return min(max(self.end_time - reference, 0.0), self.phase_length)

    def focus_elapsed(self, now: float) -> float:
        """Focus seconds the session has run so far (what battles and streaks may credit).

        Phases that ended before ``now`` count even if :meth:`advance` was not
        called yet. Never more than the plan's total focus time.
        """
        _check_finite(now)
        timer = self
        if self.updated_at is None or now >= self.updated_at:
            timer = self._caught_up(now)
        current = 0.0
        if timer.phase is Phase.FOCUS:
            current = timer.plan.focus_s - timer.remaining(now)
        return min(timer.focus_done_s + current, timer.plan.planned_focus_s)

    # -- events ----------------------------------------------------------------

    def start(self, now: float) -> RoomTimer:
        """Begin the first focus block at ``now``."""
        self._check_event_time(now)
        phase = _next_phase(self.phase, TimerEvent.START)
        return replace(
            self, phase=phase, round_index=0, end_time=now + self.plan.focus_s, updated_at=now
        )

    def pause(self, now: float, reason: str) -> RoomTimer:
        """Hold ``reason``; the timer stops if it was running. Holding a reason twice is illegal."""
        self._check_event_time(now)
        _check_reason(reason)
        timer = self._caught_up(now)
        _next_phase(timer.phase, TimerEvent.PAUSE)
        if reason in timer.pause_reasons:
            raise IllegalTransition(f"the timer is already paused for {reason!r}")
        paused_at = timer.paused_at if timer.paused_at is not None else now
        return replace(
            timer, paused_at=paused_at, pause_reasons=timer.pause_reasons | {reason}, updated_at=now
        )

    def resume(self, now: float, reason: str) -> RoomTimer:
        """Release ``reason``; when it was the last one, end_time moves on by the paused time."""
        self._check_event_time(now)
        _check_reason(reason)
        timer = self._caught_up(now)
        _next_phase(timer.phase, TimerEvent.RESUME)
        if reason not in timer.pause_reasons:
            raise IllegalTransition(f"the timer is not paused for {reason!r}")
        reasons = timer.pause_reasons - {reason}
        if reasons:
            return replace(timer, pause_reasons=reasons, updated_at=now)
        assert timer.end_time is not None and timer.paused_at is not None  # running phase, paused
        return replace(
            timer,
            end_time=timer.end_time + (now - timer.paused_at),
            paused_at=None,
            pause_reasons=frozenset(),
            updated_at=now,
        )

    def advance(self, now: float) -> RoomTimer:
        """End every phase whose end_time is not after ``now``; ``self`` if none has ended."""
        self._check_event_time(now)
        return self._caught_up(now)

    def finish(self, now: float) -> RoomTimer:
        """The host ends the session early: go to results, crediting focus time up to ``now``."""
        self._check_event_time(now)
        timer = self._caught_up(now)
        phase = _next_phase(timer.phase, TimerEvent.FINISH)
        focus_done = timer.focus_done_s
        if timer.phase is Phase.FOCUS:
            focus_done += timer.plan.focus_s - timer.remaining(now)
        return replace(
            timer,
            phase=phase,
            end_time=None,
            paused_at=None,
            pause_reasons=frozenset(),
            focus_done_s=min(focus_done, timer.plan.planned_focus_s),
            updated_at=now,
        )

    # -- internals -------------------------------------------------------------

    def _check_event_time(self, now: float) -> None:
        _check_finite(now)
        if self.updated_at is not None and now < self.updated_at:
            raise InvalidTime(f"now {now!r} is before the previous event at {self.updated_at!r}")

    def _caught_up(self, now: float) -> RoomTimer:
        timer = self
        while timer.end_time is not None and not timer.paused and timer.end_time <= now:
            timer = timer._end_phase(now)
        return timer

    def _end_phase(self, now: float) -> RoomTimer:
        assert self.end_time is not None
        plan = self.plan
        if self.phase is Phase.FOCUS:
            last = self.round_index == plan.rounds - 1
            event = TimerEvent.LAST_FOCUS_END if last else TimerEvent.FOCUS_END
            phase = _next_phase(self.phase, event)
            focus_done = min(self.focus_done_s + plan.focus_s, plan.planned_focus_s)
            end_time = None if last else self.end_time + plan.break_s
            return replace(
                self, phase=phase, end_time=end_time, focus_done_s=focus_done, updated_at=now
            )
        phase = _next_phase(self.phase, TimerEvent.BREAK_END)
        return replace(
            self,
            phase=phase,
            round_index=self.round_index + 1,
            end_time=self.end_time + plan.focus_s,
            updated_at=now,
        )


def _next_phase(phase: Phase, event: TimerEvent) -> Phase:
    try:
        return TRANSITIONS[(phase, event)]
    except KeyError:
        raise IllegalTransition(f"{event} is not allowed in {phase}") from None


def _check_reason(reason: str) -> None:
    if not isinstance(reason, str) or not 0 < len(reason) <= MAX_REASON_LEN:
        raise InvalidPauseReason(
            f"a pause reason must be a string of 1..{MAX_REASON_LEN} characters, got {reason!r}"
        )
