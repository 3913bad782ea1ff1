"""The Distraction Guard: away runs, exact sleep at 15 s, waking, blink grace and time accounting."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.face import Attention
from shared.focus import (
    SLEEP_AFTER_S,
    TRANSITIONS,
    AwayEnded,
    AwayFlagged,
    AwayStarted,
    DistractionGuard,
    FellAsleep,
    GuardEvent,
    GuardSignal,
    GuardState,
    GuardTransitionError,
    InvalidSettingsError,
    OutOfOrderSampleError,
    TimerPaused,
    TimerResumed,
    WokeUp,
    next_state,
)

FPS = 15.0
F = Attention.FOCUSED
LEFT = Attention.LOOKING_LEFT
GONE = Attention.NO_FACE
UNSURE = Attention.UNCERTAIN
CLOSED = Attention.EYES_CLOSED


def frames(
    segments: list[tuple[Attention, float]], fps: float = FPS
) -> list[tuple[Attention, float]]:
    """Samples at ``fps`` covering each (attention, seconds) segment in turn, times from frame numbers."""
    out: list[tuple[Attention, float]] = []
    frame = 0
    for attention, seconds in segments:
        for _ in range(round(seconds * fps)):
            out.append((attention, frame / fps))
            frame += 1
    return out


def run(guard: DistractionGuard, samples: list[tuple[Attention, float]]) -> list[GuardEvent]:
    """Feed samples and collect every event."""
    events: list[GuardEvent] = []
    for attention, t in samples:
        events.extend(guard.update(attention, t))
    return events


def of(kind: type, events: list[GuardEvent]) -> list[GuardEvent]:
    """The events of one type."""
    return [e for e in events if isinstance(e, kind)]


def test_transition_table_is_complete_except_the_impossible_pair() -> None:
    """Every state × signal pair is legal except a second away limit while asleep."""
    pairs = {(s, g) for s in GuardState for g in GuardSignal}
    assert set(TRANSITIONS) == pairs - {(GuardState.ASLEEP, GuardSignal.AWAY_LIMIT)}
    assert next_state(GuardState.AWAKE, GuardSignal.AWAY_LIMIT) is GuardState.ASLEEP
    assert next_state(GuardState.ASLEEP, GuardSignal.FOCUS) is GuardState.AWAKE
    assert next_state(GuardState.ASLEEP, GuardSignal.UNCERTAIN) is GuardState.ASLEEP


def test_illegal_transition_raises() -> None:
    """Reaching the away limit while already asleep raises GuardTransitionError."""
    with pytest.raises(GuardTransitionError):
        next_state(GuardState.ASLEEP, GuardSignal.AWAY_LIMIT)


def test_falls_asleep_at_exactly_fifteen_seconds_of_absence() -> None:
    """Away from t=10 at 15 fps: asleep on the very sample at t=25, events dated 25.0."""
    guard = DistractionGuard()
    samples = frames([(F, 10.0), (GONE, 20.0)])
    states = []
    events: list[GuardEvent] = []
    for attention, t in samples:
        events.extend(guard.update(attention, t))
        states.append((t, guard.state))
    first_asleep = next(t for t, s in states if s is GuardState.ASLEEP)
    assert first_asleep == pytest.approx(25.0, abs=1e-9)
    assert [e.t for e in of(FellAsleep, events)] == [pytest.approx(25.0, abs=1e-9)]
    assert [e.t for e in of(TimerPaused, events)] == [pytest.approx(25.0, abs=1e-9)]


def test_sleep_event_is_dated_at_the_crossing_not_at_the_late_sample() -> None:
    """With samples 0.9 s apart the 15 s mark falls between two; FellAsleep is still dated 15.0."""
    guard = DistractionGuard()
    events: list[GuardEvent] = []
    revealed_at = None
    for k in range(20):
        t = k * 0.9
        new = guard.update(LEFT, t)
        if any(isinstance(e, FellAsleep) for e in new):
            revealed_at = t
        events.extend(new)
    assert revealed_at == pytest.approx(15.3)
    assert [e.t for e in of(FellAsleep, events)] == [pytest.approx(15.0)]


def test_just_under_fifteen_seconds_does_not_sleep() -> None:
    """Away 14.8 s then focused: no sleep, and the run ends with duration 14.8."""
    guard = DistractionGuard()
    events = run(guard, frames([(F, 1.0), (LEFT, 14.8), (F, 1.0)]))
    assert of(FellAsleep, events) == []
    (ended,) = of(AwayEnded, events)
    assert isinstance(ended, AwayEnded)
    assert ended.duration == pytest.approx(14.8)
    assert ended.kind is LEFT and ended.started == pytest.approx(1.0)
    assert guard.state is GuardState.AWAKE


def test_focused_resets_the_away_clock() -> None:
    """Two 10 s absences separated by one focused second never reach 15 s."""
    guard = DistractionGuard()
    events = run(guard, frames([(GONE, 10.0), (F, 1.0), (GONE, 10.0), (F, 0.5)]))
    assert of(FellAsleep, events) == []
    assert len(of(AwayStarted, events)) == 2


def test_uncertain_pauses_the_away_clock() -> None:
    """Away 10 s, uncertain 10 s, away again: sleep comes 5 s into the second stretch (t=25)."""
    guard = DistractionGuard()
    events = run(guard, frames([(GONE, 10.0), (UNSURE, 10.0), (GONE, 10.0)]))
    assert [e.t for e in of(FellAsleep, events)] == [pytest.approx(25.0)]
    assert len(of(AwayStarted, events)) == 1  # one run, paused, not two


def test_change_of_away_kind_continues_the_run() -> None:
    """Left for 8 s then no face for 8 s is one run that sleeps at 15 s."""
    guard = DistractionGuard()
    events = run(guard, frames([(LEFT, 8.0), (GONE, 8.0)]))
    assert of(AwayStarted, events) == [AwayStarted(0.0, LEFT)]
    assert [e.t for e in of(FellAsleep, events)] == [pytest.approx(15.0)]


def test_wakes_only_when_focused_again() -> None:
    """Asleep, uncertain or a different away kind keeps sleeping; a focused sample wakes."""
    guard = DistractionGuard()
    run(guard, frames([(GONE, 16.0)]))
    assert guard.state is GuardState.ASLEEP
    assert guard.update(UNSURE, 16.5) == ()
    assert guard.update(LEFT, 17.0) == ()
    assert guard.state is GuardState.ASLEEP
    ended, woke, resumed = guard.update(F, 17.5)
    # Counted away: 16.5 s of no face, then 0.5 s looking left; the uncertain 0.5 s is not.
    assert isinstance(ended, AwayEnded)
    assert (ended.t, ended.kind, ended.started) == (17.5, GONE, 0.0)
    assert ended.duration == pytest.approx(17.0)
    assert (woke, resumed) == (WokeUp(17.5), TimerResumed(17.5))
    assert guard.totals().state is GuardState.AWAKE


def test_sleeps_again_after_a_second_absence() -> None:
    """After waking, a new 15 s absence puts the student to sleep again."""
    guard = DistractionGuard()
    run(guard, frames([(GONE, 16.0), (F, 1.0), (GONE, 16.0)]))
    totals = guard.totals()
    assert totals.sleeps == 2 and totals.away_runs == 2
    assert guard.state is GuardState.ASLEEP


def test_away_flag_at_exactly_five_seconds() -> None:
    """A run is flagged once, dated when its away clock hit 5 s; a 4 s glance is not flagged."""
    guard = DistractionGuard()
    events = run(guard, frames([(F, 2.0), (LEFT, 4.0), (F, 2.0), (LEFT, 9.0), (F, 1.0)]))
    (flag,) = of(AwayFlagged, events)
    assert isinstance(flag, AwayFlagged) and flag.kind is LEFT
    assert (flag.t, flag.started) == pytest.approx((13.0, 8.0))


def test_gap_longer_than_cap_is_uncertain() -> None:
    """A 3 s gap after a focused sample is neither credited nor counted away."""
    guard = DistractionGuard()
    guard.update(F, 0.0)
    guard.update(F, 3.0)
    totals = guard.totals()
    assert totals.focused_s == 0.0 and totals.uncertain_s == pytest.approx(3.0)
    assert totals.timer_s == pytest.approx(3.0)


def test_gap_within_cap_is_held() -> None:
    """A 0.9 s interval is attributed to the earlier sample's attention."""
    guard = DistractionGuard()
    guard.update(F, 0.0)
    guard.update(LEFT, 0.9)
    guard.update(F, 1.8)
    totals = guard.totals()
    assert totals.focused_s == pytest.approx(0.9) and totals.away_s == pytest.approx(0.9)


def test_gap_does_not_advance_the_away_clock() -> None:
    """A 10 s tracking gap in the middle of an absence does not count towards sleep."""
    guard = DistractionGuard()
    events = run(guard, frames([(GONE, 10.0)]))
    events += guard.update(GONE, 20.0)  # 10.07 s gap
    assert guard.state is GuardState.AWAKE
    assert guard.away_clock == pytest.approx(10.0 - 1 / FPS)
    for k in range(1, 100):
        events += guard.update(GONE, 20.0 + k / FPS)
    # 9.93 s were counted before the gap; 5.07 s more after it.
    assert [e.t for e in of(FellAsleep, events)] == [pytest.approx(20.0 + 15.0 - (10.0 - 1 / FPS))]


def test_equal_timestamps_are_allowed_and_attribute_nothing() -> None:
    """A repeated timestamp is accepted and adds no time."""
    guard = DistractionGuard()
    guard.update(F, 1.0)
    guard.update(F, 1.0)
    assert guard.totals().focused_s == 0.0


def test_out_of_order_sample_raises_and_changes_nothing() -> None:
    """A sample earlier than the last raises OutOfOrderSampleError and leaves state untouched."""
    guard = DistractionGuard()
    run(guard, frames([(F, 2.0), (GONE, 3.0)]))
    before = guard.totals()
    clock = guard.away_clock
    with pytest.raises(OutOfOrderSampleError):
        guard.update(F, 1.0)
    assert guard.totals() == before and guard.away_clock == clock
    with pytest.raises(OutOfOrderSampleError):
        guard.totals(now=1.0)


def test_blink_is_not_away() -> None:
    """A 0.2 s closure while focused emits nothing and stays credited as focused."""
    guard = DistractionGuard()
    events = run(guard, frames([(F, 2.0), (CLOSED, 0.2), (F, 2.0)]))
    assert events == []
    assert guard.totals().focused_s == pytest.approx(4.2 - 1 / FPS)
    assert guard.totals().away_s == 0.0


def test_long_closure_is_away_from_when_the_eyes_closed() -> None:
    """A 2 s closure is an away run dated from the closing frame, with duration 2 s."""
    guard = DistractionGuard()
    events = run(guard, frames([(F, 2.0), (CLOSED, 2.0), (F, 1.0)]))
    (started,) = of(AwayStarted, events)
    assert isinstance(started, AwayStarted) and started.kind is CLOSED
    assert started.t == pytest.approx(2.0)
    (ended,) = of(AwayEnded, events)
    assert isinstance(ended, AwayEnded) and ended.duration == pytest.approx(2.0)
    totals = guard.totals()
    assert totals.away_s == pytest.approx(2.0) and totals.focused_s == pytest.approx(3.0 - 1 / FPS)


def test_dozing_off_sleeps_fifteen_seconds_after_the_eyes_closed() -> None:
    """Eyes closed from t=5: FellAsleep at exactly t=20, despite the blink grace."""
    guard = DistractionGuard()
    events = run(guard, frames([(F, 5.0), (CLOSED, 20.0)]))
    assert [e.t for e in of(FellAsleep, events)] == [pytest.approx(20.0)]


def test_closing_eyes_while_already_away_gets_no_grace() -> None:
    """Eyes closing inside an away run keep counting immediately (no new run, no blink credit)."""
    guard = DistractionGuard()
    events = run(guard, frames([(LEFT, 14.0), (CLOSED, 2.0)]))
    assert of(AwayStarted, events) == [AwayStarted(0.0, LEFT)]
    assert [e.t for e in of(FellAsleep, events)] == [pytest.approx(15.0)]


def test_gap_during_a_closure_ends_it_as_a_blink() -> None:
    """A closure cut off by a long tracking gap is settled as a blink, the gap as uncertain."""
    guard = DistractionGuard()
    guard.update(F, 0.0)
    guard.update(CLOSED, 1.0)
    guard.update(CLOSED, 1.2)
    guard.update(CLOSED, 5.0)
    totals = guard.totals()
    assert totals.focused_s == pytest.approx(1.2)
    assert totals.uncertain_s == pytest.approx(3.8)
    assert guard.away_kind is None


def test_accounting_of_a_scripted_session() -> None:
    """focused/away/asleep/uncertain/timer seconds of a known script, computed by hand."""
    guard = DistractionGuard()
    # 10 focused, 20 away (15 awake + 5 asleep), 5 uncertain while asleep, 10 focused.
    run(guard, frames([(F, 10.0), (GONE, 20.0), (UNSURE, 5.0), (F, 10.0)]))
    totals = guard.totals()
    end = 45.0 - 1 / FPS
    assert totals.elapsed_s == pytest.approx(end)
    assert totals.focused_s == pytest.approx(20.0 - 1 / FPS)
    assert totals.away_s == pytest.approx(15.0)
    assert totals.asleep_s == pytest.approx(5.0)
    assert totals.uncertain_s == pytest.approx(5.0)
    assert totals.timer_s == pytest.approx(end - 10.0)  # paused while asleep, incl. uncertain


def test_totals_project_the_held_attention_without_changing_the_guard() -> None:
    """totals(now) holds the last attention up to now but the guard itself is unchanged."""
    guard = DistractionGuard()
    guard.update(GONE, 0.0)
    guard.update(GONE, 0.5)
    projected = guard.totals(1.0)
    assert projected.away_s == pytest.approx(1.0)
    assert guard.totals().away_s == pytest.approx(0.5)
    assert guard.away_clock == pytest.approx(0.5)


def test_totals_before_any_sample_are_zero() -> None:
    """A fresh guard reports zero time, awake."""
    totals = DistractionGuard().totals(3.0)
    assert totals.elapsed_s == 0.0 and totals.state is GuardState.AWAKE and totals.focused_s == 0.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"sleep_after_s": 0.0},
        {"away_flag_s": math.nan},
        {"gap_cap_s": -1.0},
        {"blink_grace_s": 20.0},
    ],
)
def test_invalid_guard_settings_raise(kwargs: dict[str, float]) -> None:
    """Non-positive, NaN or inconsistent guard settings raise InvalidSettingsError."""
    with pytest.raises(InvalidSettingsError):
        DistractionGuard(**kwargs)


runs = st.lists(
    st.tuples(
        st.sampled_from(list(Attention)),
        st.one_of(st.just(1 / FPS), st.just(0.0), st.floats(0.0, 1.0), st.floats(0.0, 3.0)),
        st.integers(min_value=1, max_value=300),
    ),
    min_size=1,
    max_size=12,
)
"""Runs of (attention, time step, repeat count): long enough to flag, sleep and wake."""


@settings(max_examples=150, deadline=None)
@given(runs)
def test_accounting_adds_up_and_events_are_chronological(
    seq: list[tuple[Attention, float, int]],
) -> None:
    """Buckets add up to elapsed time, the timer never runs asleep, events are in time order."""
    guard = DistractionGuard()
    t = start = 0.0
    last_event_t = -math.inf
    for attention, dt, repeat in seq:
        for _ in range(repeat):
            t += dt
            if guard.last_t is None:
                start = t
            for event in guard.update(attention, t):
                assert last_event_t - 1e-9 <= event.t <= t + 1e-9
                last_event_t = event.t
            elapsed = t - start
            buckets = guard.focused_s + guard.away_s + guard.asleep_s + guard.uncertain_s
            assert buckets + guard.pending_s == pytest.approx(elapsed, abs=1e-6)
            timer = guard.timer_s
            assert guard.focused_s + guard.away_s - 1e-6 <= timer <= elapsed - guard.asleep_s + 1e-6
            assert (guard.state is GuardState.ASLEEP) <= (guard.away_kind is not None)
            assert guard.away_clock < SLEEP_AFTER_S or guard.state is GuardState.ASLEEP
    totals = guard.totals()
    assert totals.focused_s + totals.away_s + totals.asleep_s + totals.uncertain_s == (
        pytest.approx(totals.elapsed_s, abs=1e-6)
    )
