"""The Distraction Guard: away for 15 s → asleep (timer paused); focused again → awake.

Theory of operation
-------------------
Rule 1: everything that decides sleep, wake and the focus accounting lives in this file. The guard
takes ``(attention, t)`` per frame and returns the events that frame caused; it never reads a clock.

*Sample-and-hold.* The time between two samples belongs to the earlier sample's attention. A gap
longer than ``gap_cap_s`` (:data:`GAP_CAP_S`, 1 s) is not evidence of anything: the whole gap
counts as uncertain. Samples must not go back in time (:class:`OutOfOrderSampleError`, nothing
changes); equal times are allowed and attribute nothing.

*Away runs.* An away attention (:attr:`Attention.is_away`) opens an *away run* (``AwayStarted``) if
none is open. The run's *away clock* adds up the away time only: ``uncertain`` time pauses it
(neither adds to it nor resets it), ``focused`` ends the run (``AwayEnded`` with the clock as its
duration) and resets it. Changing from one away kind to another (left → no face) continues the run.
When the clock reaches ``away_flag_s`` (:data:`AWAY_FLAG_S`, 5 s) the guard emits ``AwayFlagged``
(exam mode's "away ≥ 5 s"); when it reaches ``sleep_after_s`` (:data:`SLEEP_AFTER_S`, 15 s) the
guard falls asleep. Crossing times are computed exactly — the event is dated when the clock hit
the limit, even though the sample that reveals it arrives later.

*Blink grace.* Closing the eyes while not already away starts a *pending closure* that is not
accounted yet. If the eyes open again within ``blink_grace_s`` (:data:`BLINK_MAX_S`, 0.5 s) it was a
blink: the closure is accounted like the attention before it (focused time stays credited), and no
away run is opened. A longer closure becomes an away run dated from the moment the eyes closed, so
sleeping with closed eyes still falls asleep exactly 15 s after they closed. A gap during a pending
closure ends it as a blink (nothing known says otherwise).

*States.* :class:`GuardState` × :class:`GuardSignal` → :class:`GuardState` is the table
:data:`TRANSITIONS`; a pair not in it raises :class:`GuardTransitionError` and changes nothing.
Entering ``asleep`` emits ``FellAsleep`` + ``TimerPaused``; entering ``awake`` emits ``WokeUp`` +
``TimerResumed``. Only ``focused`` wakes the student; uncertain time while asleep stays asleep.

*Accounting* (seconds; they add up to the time from the first sample to the last, minus any
pending closure)::

    focused_s    focused time (always awake): the credited time
    away_s       away time while awake (what the away clock counts towards sleep)
    asleep_s     away time while asleep
    uncertain_s  uncertain time and gaps, awake or asleep: neither credited nor penalised
    timer_s      time the session timer ran = all awake time (focused + away + uncertain while awake)

The guard is a small mutable object on purpose: the server runs one per member at 15 Hz, so a
frame must not allocate more than the events it emits. Every public method checks its input
before touching any state.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum
from types import MappingProxyType
from typing import Final

from shared.face import Attention
from shared.focus.attention import BLINK_MAX_S, TIME_EPSILON_S
from shared.focus.errors import GuardTransitionError, InvalidSettingsError, OutOfOrderSampleError

SLEEP_AFTER_S: Final[float] = 15.0
"""Away time at which the student falls asleep. The product says "away for more than 15 s": any
such absence reaches 15 s, and the moment it does is when the timer must stop."""

AWAY_FLAG_S: Final[float] = 5.0
"""Continuous away time after which a run is flagged for exam mode ("away ≥ 5 s")."""

GAP_CAP_S: Final[float] = 1.0
"""Longest frame interval that is attributed to the previous frame; longer gaps are uncertain.
The tracker runs at 15–30 Hz, so a second without frames means tracking or the link stalled."""


class GuardState(StrEnum):
    """Whether the student's avatar is awake (timer running) or asleep (timer paused)."""

    AWAKE = "awake"
    ASLEEP = "asleep"


class GuardSignal(StrEnum):
    """What the guard's input says, as far as the state machine is concerned."""

    FOCUS = "focus"
    """A focused sample arrived."""
    AWAY = "away"
    """An away sample arrived."""
    UNCERTAIN = "uncertain"
    """An uncertain sample arrived."""
    AWAY_LIMIT = "away_limit"
    """The away clock reached ``sleep_after_s``."""


TRANSITIONS: Final[Mapping[tuple[GuardState, GuardSignal], GuardState]] = MappingProxyType(
    {
        (GuardState.AWAKE, GuardSignal.FOCUS): GuardState.AWAKE,
        (GuardState.AWAKE, GuardSignal.AWAY): GuardState.AWAKE,
        (GuardState.AWAKE, GuardSignal.UNCERTAIN): GuardState.AWAKE,
        (GuardState.AWAKE, GuardSignal.AWAY_LIMIT): GuardState.ASLEEP,
        (GuardState.ASLEEP, GuardSignal.FOCUS): GuardState.AWAKE,
        (GuardState.ASLEEP, GuardSignal.AWAY): GuardState.ASLEEP,
        (GuardState.ASLEEP, GuardSignal.UNCERTAIN): GuardState.ASLEEP,
        # (ASLEEP, AWAY_LIMIT) is absent: the away clock cannot reach the limit twice in one run.
    }
)
"""The Distraction Guard's legal transitions."""


def next_state(state: GuardState, signal: GuardSignal) -> GuardState:
    """The state after ``signal`` in ``state``; raises :class:`GuardTransitionError` if illegal."""
    try:
        return TRANSITIONS[(state, signal)]
    except KeyError:
        raise GuardTransitionError(f"signal {signal} is not allowed while {state}") from None


@dataclass(frozen=True, slots=True)
class FellAsleep:
    """The away clock reached the sleep limit at ``t``."""

    t: float


@dataclass(frozen=True, slots=True)
class WokeUp:
    """The student was focused again at ``t`` after being asleep."""

    t: float


@dataclass(frozen=True, slots=True)
class TimerPaused:
    """The session timer stops at ``t`` (always together with :class:`FellAsleep`)."""

    t: float


@dataclass(frozen=True, slots=True)
class TimerResumed:
    """The session timer runs again from ``t`` (always together with :class:`WokeUp`)."""

    t: float


@dataclass(frozen=True, slots=True)
class AwayStarted:
    """An away run began at ``t`` with attention ``kind``."""

    t: float
    kind: Attention


@dataclass(frozen=True, slots=True)
class AwayFlagged:
    """The away run that began with ``kind`` at ``started`` reached the flag limit at ``t``."""

    t: float
    kind: Attention
    started: float


@dataclass(frozen=True, slots=True)
class AwayEnded:
    """The away run that began with ``kind`` at ``started`` ended at ``t``.

    ``duration`` is the away time counted in the run (uncertain stretches inside it excluded).
    """

    t: float
    kind: Attention
    started: float
    duration: float


GuardEvent = (
    FellAsleep | WokeUp | TimerPaused | TimerResumed | AwayStarted | AwayFlagged | AwayEnded
)
"""Everything :meth:`DistractionGuard.update` can emit."""

NO_EVENTS: Final[tuple[GuardEvent, ...]] = ()


@dataclass(frozen=True, slots=True)
class GuardTotals:
    """The guard's accounting from its first sample (``start``) to ``end`` (see the module doc)."""

    start: float
    end: float
    state: GuardState
    focused_s: float
    away_s: float
    asleep_s: float
    uncertain_s: float
    timer_s: float
    sleeps: int
    away_runs: int
    away_flags: int

    @property
    def elapsed_s(self) -> float:
        """Time covered: ``end − start``."""
        return self.end - self.start


class _Hold(Enum):
    """What the time since the last sample is being attributed to."""

    FOCUS = 1
    AWAY = 2
    UNCERTAIN = 3
    CLOSING = 4  # a pending closure: blink or away, not known yet


class DistractionGuard:
    """Folds ``(attention, t)`` samples into sleep/wake, away runs and time accounting."""

    __slots__ = (
        "_asleep_s",
        "_away_clock",
        "_away_runs",
        "_away_s",
        "_closed_since",
        "_events",
        "_first_t",
        "_flag_after",
        "_flagged",
        "_flags",
        "_focused_s",
        "_gap_cap",
        "_grace",
        "_hold",
        "_last_t",
        "_pending",
        "_pre_closure",
        "_run_kind",
        "_run_started",
        "_sleep_after",
        "_sleeps",
        "_state",
        "_timer_s",
        "_uncertain_s",
    )

    def __init__(
        self,
        *,
        sleep_after_s: float = SLEEP_AFTER_S,
        away_flag_s: float = AWAY_FLAG_S,
        gap_cap_s: float = GAP_CAP_S,
        blink_grace_s: float = BLINK_MAX_S,
    ) -> None:
        for name, value in (
            ("sleep_after_s", sleep_after_s),
            ("away_flag_s", away_flag_s),
            ("gap_cap_s", gap_cap_s),
        ):
            if not (math.isfinite(value) and value > 0.0):
                raise InvalidSettingsError(f"{name} must be finite and positive, got {value!r}")
        if not (math.isfinite(blink_grace_s) and 0.0 <= blink_grace_s < sleep_after_s):
            raise InvalidSettingsError(
                f"blink_grace_s must be within [0, sleep_after_s), got {blink_grace_s!r}"
            )
        self._sleep_after = sleep_after_s
        self._flag_after = away_flag_s
        self._gap_cap = gap_cap_s
        self._grace = blink_grace_s
        self._state = GuardState.AWAKE
        self._first_t: float | None = None
        self._last_t = 0.0
        self._hold = _Hold.UNCERTAIN
        self._run_kind: Attention | None = None
        self._run_started = 0.0
        self._away_clock = 0.0
        self._flagged = False
        self._closed_since = 0.0
        self._pending = 0.0
        self._pre_closure = _Hold.UNCERTAIN
        self._focused_s = 0.0
        self._away_s = 0.0
        self._asleep_s = 0.0
        self._uncertain_s = 0.0
        self._timer_s = 0.0
        self._sleeps = 0
        self._away_runs = 0
        self._flags = 0
        self._events: list[GuardEvent] = []

    # -- read-only views -------------------------------------------------------------------

    @property
    def state(self) -> GuardState:
        """Awake or asleep."""
        return self._state

    @property
    def away_clock(self) -> float:
        """Away time counted in the current run (0 when no run is open)."""
        return self._away_clock

    @property
    def away_kind(self) -> Attention | None:
        """The attention that opened the current away run, if one is open."""
        return self._run_kind

    @property
    def last_t(self) -> float | None:
        """Time of the last sample, or None before the first."""
        return None if self._first_t is None else self._last_t

    @property
    def focused_s(self) -> float:
        """Credited (focused) seconds so far."""
        return self._focused_s

    @property
    def away_s(self) -> float:
        """Away seconds while awake so far."""
        return self._away_s

    @property
    def asleep_s(self) -> float:
        """Away seconds while asleep so far."""
        return self._asleep_s

    @property
    def uncertain_s(self) -> float:
        """Uncertain seconds (including gaps) so far."""
        return self._uncertain_s

    @property
    def timer_s(self) -> float:
        """Seconds the session timer ran (awake time) so far."""
        return self._timer_s

    @property
    def pending_s(self) -> float:
        """Seconds of an eye closure not yet known to be a blink or away (≤ the blink grace)."""
        return self._pending if self._hold is _Hold.CLOSING else 0.0

    # -- input -----------------------------------------------------------------------------

    def update(self, attention: Attention, t: float) -> tuple[GuardEvent, ...]:
        """Take one sample; returns the events it caused, oldest first."""
        if self._first_t is None:
            self._first_t = self._last_t = t
        elif t < self._last_t:
            raise OutOfOrderSampleError(f"guard sample at t={t} is before t={self._last_t}")
        else:
            self._advance(t)
        self._apply(attention, t)
        self._last_t = t
        if not self._events:
            return NO_EVENTS
        events = tuple(self._events)
        self._events.clear()
        return events

    def totals(self, now: float | None = None) -> GuardTotals:
        """The accounting as of ``now`` (default: the last sample), holding the last attention.

        Does not change the guard. A pending closure is settled as of ``now``.
        """
        if self._first_t is None:
            end = 0.0 if now is None else now
            return GuardTotals(end, end, self._state, 0.0, 0.0, 0.0, 0.0, 0.0, 0, 0, 0)
        if now is None:
            now = self._last_t
        elif now < self._last_t:
            raise OutOfOrderSampleError(f"totals asked at t={now}, before t={self._last_t}")
        view = self._clone()
        view._advance(now)
        if view._hold is _Hold.CLOSING:
            view._settle_as_blink()
        return GuardTotals(
            start=self._first_t,
            end=now,
            state=view._state,
            focused_s=view._focused_s,
            away_s=view._away_s,
            asleep_s=view._asleep_s,
            uncertain_s=view._uncertain_s,
            timer_s=view._timer_s,
            sleeps=view._sleeps,
            away_runs=view._away_runs,
            away_flags=view._flags,
        )

    # -- rules -----------------------------------------------------------------------------

    def _clone(self) -> DistractionGuard:
        twin = object.__new__(DistractionGuard)
        for name in DistractionGuard.__slots__:
            setattr(twin, name, getattr(self, name))
        twin._events = []
        return twin

    def _advance(self, t: float) -> None:
        """Attribute ``(last_t, t]`` to the held attention."""
        dt = t - self._last_t
        if dt <= 0.0:
            return
        hold = self._hold
        if dt > self._gap_cap:
            if hold is _Hold.CLOSING:
                self._settle_as_blink()
            self._add_uncertain(dt)
        elif hold is _Hold.FOCUS:
            self._focused_s += dt
            self._timer_s += dt
        elif hold is _Hold.AWAY:
            self._add_away(self._last_t, dt)
        elif hold is _Hold.UNCERTAIN:
            self._add_uncertain(dt)
        else:
            self._pending += dt
            if self._pending > self._grace + TIME_EPSILON_S:
                self._settle_as_away()

    def _apply(self, attention: Attention, t: float) -> None:
        """Let the new sample's attention drive the state machine and set what is held next."""
        if self._hold is _Hold.CLOSING and attention is not Attention.EYES_CLOSED:
            self._settle_as_blink()
        if attention is Attention.FOCUSED:
            kind = self._run_kind
            if kind is not None:
                self._events.append(AwayEnded(t, kind, self._run_started, self._away_clock))
                self._run_kind = None
                self._away_clock = 0.0
                self._flagged = False
            self._signal(GuardSignal.FOCUS, t)  # always legal, so nothing above needs undoing
            self._hold = _Hold.FOCUS
        elif attention is Attention.UNCERTAIN:
            self._signal(GuardSignal.UNCERTAIN, t)
            self._hold = _Hold.UNCERTAIN
        else:
            self._signal(GuardSignal.AWAY, t)
            if self._run_kind is None and attention is Attention.EYES_CLOSED:
                if self._hold is not _Hold.CLOSING:
                    self._pre_closure = self._hold
                    self._closed_since = t
                    self._pending = 0.0
                    self._hold = _Hold.CLOSING
            else:
                if self._run_kind is None:
                    self._open_run(attention, t)
                self._hold = _Hold.AWAY

    def _signal(self, signal: GuardSignal, t: float) -> None:
        old = self._state
        new = next_state(old, signal)
        if new is old:
            return
        self._state = new
        if new is GuardState.ASLEEP:
            self._sleeps += 1
            self._events.append(FellAsleep(t))
            self._events.append(TimerPaused(t))
        else:
            self._events.append(WokeUp(t))
            self._events.append(TimerResumed(t))

    def _open_run(self, kind: Attention, t: float) -> None:
        self._run_kind = kind
        self._run_started = t
        self._away_clock = 0.0
        self._flagged = False
        self._away_runs += 1
        self._events.append(AwayStarted(t, kind))

    def _add_uncertain(self, dt: float) -> None:
        self._uncertain_s += dt
        if self._state is GuardState.AWAKE:
            self._timer_s += dt

    def _add_away(self, start: float, dt: float) -> None:
        """Count ``dt`` seconds of away time beginning at ``start``, firing the limits it crosses."""
        clock = self._away_clock
        kind = self._run_kind
        flag_due = clock + dt >= self._flag_after - TIME_EPSILON_S
        if kind is not None and not self._flagged and flag_due:
            self._flagged = True
            self._flags += 1
            at = start + max(0.0, self._flag_after - clock)
            self._events.append(AwayFlagged(at, kind, self._run_started))
        if self._state is GuardState.AWAKE:
            remaining = self._sleep_after - clock
            if dt >= remaining - TIME_EPSILON_S:
                before = min(max(remaining, 0.0), dt)
                self._away_s += before
                self._timer_s += before
                self._signal(GuardSignal.AWAY_LIMIT, start + before)
                self._asleep_s += dt - before
            else:
                self._away_s += dt
                self._timer_s += dt
        else:
            self._asleep_s += dt
        self._away_clock = clock + dt

    def _settle_as_blink(self) -> None:
        """The pending closure was a blink: account it like the attention before it."""
        pre = self._pre_closure
        pending = self._pending
        if pre is _Hold.FOCUS:
            self._focused_s += pending
            self._timer_s += pending
        else:
            self._add_uncertain(pending)
        self._pending = 0.0
        self._hold = pre

    def _settle_as_away(self) -> None:
        """The pending closure outlasted a blink: it is an away run since the eyes closed."""
        pending = self._pending
        self._pending = 0.0
        self._hold = _Hold.AWAY
        self._open_run(Attention.EYES_CLOSED, self._closed_since)
        self._add_away(self._closed_since, pending)
