"""Room timer rules: phase table, absolute end times, pause reasons, catch-up and conservation."""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.timer import (
    DEFAULT_BREAK_S,
    DEFAULT_FOCUS_S,
    DEFAULT_ROUNDS,
    TRANSITIONS,
    IllegalTransition,
    InvalidPauseReason,
    InvalidPlan,
    InvalidTime,
    InvalidTimerState,
    Phase,
    RoomTimer,
    TimerError,
    TimerEvent,
    TimerPlan,
)

T0 = 1_700_000_000.0  # an epoch-seconds start, as the server uses
PLAN = TimerPlan(focus_s=100.0, break_s=20.0, rounds=3)


def started(plan: TimerPlan = PLAN, at: float = T0) -> RoomTimer:
    return RoomTimer(plan=plan).start(at)


# -- plan ------------------------------------------------------------------------------------


def test_default_plan_is_four_pomodoros() -> None:
    """The default plan is 25 min focus / 5 min break × 4 rounds."""
    plan = TimerPlan()
    assert (plan.focus_s, plan.break_s, plan.rounds) == (25 * 60, 5 * 60, 4)
    assert (DEFAULT_FOCUS_S, DEFAULT_BREAK_S, DEFAULT_ROUNDS) == (1500.0, 300.0, 4)
    assert plan.planned_focus_s == 6000.0
    assert plan.total_s == 6000.0 + 900.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"focus_s": 0.0},
        {"focus_s": -5.0},
        {"focus_s": math.nan},
        {"focus_s": math.inf},
        {"focus_s": 5 * 3600.0},
        {"break_s": 0.0},
        {"break_s": math.nan},
        {"break_s": 2 * 3600.0},
        {"rounds": 0},
        {"rounds": 13},
        {"rounds": 2.5},
        {"rounds": True},
        {"focus_s": "25"},
    ],
)
def test_bad_plans_raise_invalid_plan(kwargs: dict[str, object]) -> None:
    """Non-positive, non-finite, absurdly large or non-numeric plan values raise InvalidPlan."""
    with pytest.raises(InvalidPlan):
        TimerPlan(**kwargs)  # type: ignore[arg-type]


# -- the table -------------------------------------------------------------------------------


def test_transition_table_covers_the_documented_flow() -> None:
    """The table has exactly the documented legal (phase, event) pairs."""
    assert dict(TRANSITIONS) == {
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


def test_phase_values_are_unchanged() -> None:
    """The Phase enum keeps its wire values."""
    assert [p.value for p in Phase] == ["lobby", "focus", "break", "results"]


def test_new_timer_waits_in_lobby() -> None:
    """A new timer is in the lobby with no end time and nothing remaining."""
    timer = RoomTimer(plan=PLAN)
    assert timer.phase is Phase.LOBBY and timer.end_time is None
    assert timer.remaining(T0) == 0.0 and timer.focus_elapsed(T0) == 0.0


def test_start_sets_an_absolute_end_time() -> None:
    """Start enters focus round 0 with end_time = now + focus length."""
    timer = started()
    assert timer.phase is Phase.FOCUS and timer.round_index == 0
    assert timer.end_time == T0 + 100.0
    assert timer.remaining(T0 + 30.0) == 70.0


def test_full_session_walks_focus_break_focus_to_results() -> None:
    """Phases go focus → break → focus … → results, with no break after the last round."""
    timer = started()
    seen = [(timer.phase, timer.round_index, timer.end_time)]
    for now in (T0 + 100, T0 + 120, T0 + 220, T0 + 240, T0 + 340):
        timer = timer.advance(now)
        seen.append((timer.phase, timer.round_index, timer.end_time))
    assert seen == [
        (Phase.FOCUS, 0, T0 + 100),
        (Phase.BREAK, 0, T0 + 120),
        (Phase.FOCUS, 1, T0 + 220),
        (Phase.BREAK, 1, T0 + 240),
        (Phase.FOCUS, 2, T0 + 340),
        (Phase.RESULTS, 2, None),
    ]
    assert timer.focus_elapsed(T0 + 1000) == 300.0


def test_advance_before_the_end_returns_the_same_timer() -> None:
    """Advancing while the phase still runs changes nothing."""
    timer = started()
    assert timer.advance(T0 + 99.999) is timer


def test_advance_far_past_skips_several_phases_without_drift() -> None:
    """A late advance ends every overdue phase; end times chain from end times, not from now."""
    timer = started().advance(T0 + 130.0)  # focus 0 and break 0 are over, 30 s late
    assert (timer.phase, timer.round_index) == (Phase.FOCUS, 1)
    assert timer.end_time == T0 + 220.0
    assert timer.advance(T0 + 10_000.0).phase is Phase.RESULTS


def test_remaining_is_never_negative() -> None:
    """After the end time remaining is 0, not negative, even before advance is called."""
    timer = started()
    assert timer.remaining(T0 + 500.0) == 0.0


# -- pause / resume --------------------------------------------------------------------------


def test_pause_freezes_remaining_and_resume_pushes_end_time() -> None:
    """While paused remaining is frozen; resume moves end_time forward by the paused time."""
    timer = started().pause(T0 + 40.0, "host")
    assert timer.paused and timer.remaining(T0 + 40.0) == 60.0
    assert timer.remaining(T0 + 400.0) == 60.0
    assert timer.advance(T0 + 400.0) is timer  # a paused phase never ends
    resumed = timer.resume(T0 + 70.0, "host")
    assert not resumed.paused and resumed.end_time == T0 + 130.0
    assert resumed.remaining(T0 + 70.0) == 60.0


def test_timer_stays_paused_until_the_last_reason_clears() -> None:
    """Two reasons: releasing one keeps the timer paused; releasing both resumes it."""
    timer = started().pause(T0 + 10.0, "host").pause(T0 + 20.0, "asleep")
    assert timer.paused_at == T0 + 10.0 and timer.pause_reasons == {"host", "asleep"}
    timer = timer.resume(T0 + 30.0, "host")
    assert timer.paused and timer.remaining(T0 + 35.0) == 90.0
    timer = timer.resume(T0 + 50.0, "asleep")
    assert not timer.paused and timer.end_time == T0 + 140.0


def test_pause_in_break_is_allowed() -> None:
    """The host can pause a break as well as a focus block."""
    timer = started().advance(T0 + 105.0).pause(T0 + 105.0, "host")
    assert timer.phase is Phase.BREAK and timer.remaining(T0 + 200.0) == 15.0


def test_pause_after_the_end_applies_to_the_phase_that_is_really_current() -> None:
    """An event catches up first: a pause after focus ended pauses the break that followed."""
    timer = started().pause(T0 + 110.0, "host")
    assert timer.phase is Phase.BREAK and timer.remaining(T0 + 999.0) == 10.0


def test_focus_elapsed_excludes_paused_time() -> None:
    """focus_elapsed counts running focus time only, not time spent paused."""
    timer = started().pause(T0 + 30.0, "asleep").resume(T0 + 90.0, "asleep")
    assert timer.focus_elapsed(T0 + 100.0) == pytest.approx(40.0)
    assert timer.focus_elapsed(T0 + 160.0) == pytest.approx(100.0)


def test_finish_credits_focus_up_to_now() -> None:
    """Finishing early goes to results and credits the focus time run so far."""
    timer = started().advance(T0 + 120.0).finish(T0 + 170.0)
    assert timer.phase is Phase.RESULTS and timer.end_time is None
    assert timer.focus_elapsed(T0 + 999.0) == pytest.approx(150.0)


def test_finish_while_paused_credits_only_time_before_the_pause() -> None:
    """A finish during a pause credits focus up to the pause, and clears the pause."""
    timer = started().pause(T0 + 25.0, "host").finish(T0 + 80.0)
    assert timer.phase is Phase.RESULTS and not timer.paused
    assert timer.focus_elapsed(T0 + 80.0) == pytest.approx(25.0)


# -- illegal events --------------------------------------------------------------------------


def _illegal_cases() -> list[tuple[str, RoomTimer, str]]:
    lobby = RoomTimer(plan=PLAN)
    running = started()
    paused = running.pause(T0 + 1.0, "host")
    results = running.finish(T0 + 2.0)
    return [
        ("pause in lobby", lobby, "pause"),
        ("resume in lobby", lobby, "resume"),
        ("finish in lobby", lobby, "finish"),
        ("start twice", running, "start"),
        ("resume a reason not held", running, "resume"),
        ("resume another reason", paused, "resume_other"),
        ("pause twice for one reason", paused, "pause"),
        ("start in results", results, "start"),
        ("pause in results", results, "pause"),
        ("finish twice", results, "finish"),
    ]


@pytest.mark.parametrize(("label", "timer", "op"), _illegal_cases())
def test_illegal_events_raise_and_change_nothing(label: str, timer: RoomTimer, op: str) -> None:
    """Illegal events raise IllegalTransition (a TimerError) and leave the timer unchanged."""
    before = RoomTimer(**{f: getattr(timer, f) for f in timer.__dataclass_fields__})
    now = T0 + 50.0
    actions = {
        "start": lambda: timer.start(now),
        "pause": lambda: timer.pause(now, "host"),
        "resume": lambda: timer.resume(now, "host"),
        "resume_other": lambda: timer.resume(now, "asleep"),
        "finish": lambda: timer.finish(now),
    }
    with pytest.raises(IllegalTransition) as info:
        actions[op]()
    assert isinstance(info.value, TimerError) and isinstance(info.value, ValueError), label
    assert timer == before


def test_events_must_not_go_back_in_time() -> None:
    """An event earlier than the previous one raises InvalidTime."""
    timer = started().pause(T0 + 50.0, "host")
    with pytest.raises(InvalidTime):
        timer.resume(T0 + 49.0, "host")
    with pytest.raises(InvalidTime):
        timer.advance(T0 + 10.0)


@pytest.mark.parametrize("now", [math.nan, math.inf, -math.inf])
def test_non_finite_now_raises(now: float) -> None:
    """NaN or infinite times raise InvalidTime for events and queries alike."""
    timer = started()
    with pytest.raises(InvalidTime):
        timer.pause(now, "host")
    with pytest.raises(InvalidTime):
        timer.remaining(now)


@pytest.mark.parametrize("reason", ["", "x" * 33])
def test_bad_pause_reasons_raise(reason: str) -> None:
    """Empty or overlong pause reasons raise InvalidPauseReason."""
    with pytest.raises(InvalidPauseReason):
        started().pause(T0 + 1.0, reason)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"phase": Phase.FOCUS},  # running without an end time
        {"phase": Phase.LOBBY, "end_time": T0},
        {"phase": Phase.FOCUS, "end_time": T0, "paused_at": T0},  # paused without reasons
        {"phase": Phase.RESULTS, "paused_at": T0, "pause_reasons": frozenset({"host"})},
        {"round_index": 3},
        {"focus_done_s": 301.0},
        {"phase": Phase.FOCUS, "end_time": math.nan},
    ],
)
def test_contradictory_state_is_rejected(kwargs: dict[str, object]) -> None:
    """A timer built (e.g. restored) with contradictory fields raises InvalidTimerState."""
    with pytest.raises((InvalidTimerState, InvalidTime)):
        RoomTimer(plan=PLAN, **kwargs)  # type: ignore[arg-type]


# -- properties ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    kind: str
    gap: float
    reason: str


OPS = st.builds(
    Op,
    kind=st.sampled_from(["pause", "resume", "advance", "finish", "query"]),
    gap=st.floats(min_value=0.0, max_value=150.0, allow_nan=False),
    reason=st.sampled_from(["host", "asleep", "asleep_bob"]),
)
PLANS = st.builds(
    TimerPlan,
    focus_s=st.floats(min_value=1.0, max_value=200.0),
    break_s=st.floats(min_value=1.0, max_value=60.0),
    rounds=st.integers(min_value=1, max_value=4),
)


def _apply(timer: RoomTimer, op: Op, now: float) -> RoomTimer:
    if op.kind == "pause":
        return timer.pause(now, op.reason)
    if op.kind == "resume":
        return timer.resume(now, op.reason)
    if op.kind == "advance":
        return timer.advance(now)
    if op.kind == "finish":
        return timer.finish(now)
    return timer


@settings(max_examples=200, deadline=None)
@given(plan=PLANS, ops=st.lists(OPS, max_size=40))
def test_remaining_is_never_negative_for_any_legal_sequence(plan: TimerPlan, ops: list[Op]) -> None:
    """remaining(now) stays in [0, phase length] whatever legal events happen at whatever times."""
    now = T0
    timer = RoomTimer(plan=plan).start(now)
    for op in ops:
        now += op.gap
        with contextlib.suppress(IllegalTransition):
            timer = _apply(timer, op, now)
        for probe in (now, now + op.gap, now + 1e6):
            assert 0.0 <= timer.remaining(probe) <= timer.phase_length
        assert 0.0 <= timer.focus_elapsed(now) <= plan.planned_focus_s


@settings(max_examples=200, deadline=None)
@given(plan=PLANS, ops=st.lists(OPS, max_size=40))
def test_end_time_only_moves_forward_by_paused_durations(plan: TimerPlan, ops: list[Op]) -> None:
    """In a phase end_time changes only on the last resume, and then by exactly the paused time."""
    now = T0
    timer = RoomTimer(plan=plan).start(now)
    for op in ops:
        now += op.gap
        caught_up = timer.advance(now) if op.kind != "query" else timer
        try:
            new = _apply(timer, op, now)
        except IllegalTransition:
            continue
        same_phase = new.phase is caught_up.phase and new.round_index == caught_up.round_index
        if same_phase and new.phase in (Phase.FOCUS, Phase.BREAK):
            assert caught_up.end_time is not None and new.end_time is not None
            if caught_up.paused and not new.paused:
                assert caught_up.paused_at is not None
                assert new.end_time == caught_up.end_time + (now - caught_up.paused_at)
            else:
                assert new.end_time == caught_up.end_time
        timer = new


@settings(max_examples=200, deadline=None)
@given(
    plan=PLANS,
    pauses=st.lists(
        st.tuples(
            st.floats(min_value=0.0, max_value=0.999),  # where in the unpaused session (fraction)
            st.floats(min_value=0.0, max_value=500.0),  # how long
            st.sampled_from(["host", "asleep"]),
        ),
        max_size=8,
    ),
)
def test_pauses_conserve_focus_time(
    plan: TimerPlan, pauses: list[tuple[float, float, str]]
) -> None:
    """However it is paused, a session credits exactly the planned focus and lasts plan + pauses."""
    now = T0
    timer = RoomTimer(plan=plan).start(now)
    paused_total = 0.0
    for where, length, reason in sorted(pauses):
        now = max(now, T0 + where * plan.total_s + paused_total)
        timer = timer.pause(now, reason).resume(now + length, reason)
        now += length
        paused_total += length
    last_end = now
    while timer.phase is not Phase.RESULTS:
        assert timer.end_time is not None
        last_end = timer.end_time
        timer = timer.advance(last_end)
    # Epoch seconds near 1.7e9 are 2.4e-7 apart, and each phase and pause adds a rounding: a
    # 10 µs tolerance leaves room for a dozen of them and still catches any lost interval.
    assert last_end == pytest.approx(T0 + plan.total_s + paused_total, abs=1e-5)
    assert timer.focus_elapsed(last_end) == pytest.approx(plan.planned_focus_s)
    assert timer.round_index == plan.rounds - 1
