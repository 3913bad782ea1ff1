"""The network layer's time rules: the face pacer, the clock offset, remaining time, backoff,
and the player's messages for error codes."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from game.net import (
    USER_MESSAGES,
    ClockSync,
    FramePacer,
    ServerError,
    backoff_delays,
    remaining_s,
    user_message,
)
from game.net.timing import SEND_BAND
from shared.protocol import ErrorCode, TimerState
from shared.timer import Phase


def test_pacer_keeps_a_30hz_tracker_to_15_frames_a_second() -> None:
    """A 30 Hz tracker for 10 s gets every other frame through: 15 a second."""
    pacer = FramePacer(15.0)
    sent = sum(pacer.allow(i / 30) for i in range(300))
    assert 149 <= sent <= 151


def test_pacer_lets_a_20hz_tracker_keep_15_a_second() -> None:
    """A 20 Hz tracker is not aliased down to 10 a second: three frames in four pass."""
    pacer = FramePacer(15.0)
    sent = sum(pacer.allow(i / 20) for i in range(200))
    assert 148 <= sent <= 152


def test_pacer_passes_a_slow_tracker_untouched() -> None:
    """Below the rate, every frame is sent."""
    pacer = FramePacer(15.0)
    assert all(pacer.allow(i / 10) for i in range(50))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=0.0, max_value=0.2), min_size=1, max_size=300))
def test_pacer_never_exceeds_its_rate_in_any_second(gaps: list[float]) -> None:
    """Whatever the arrival pattern, any one-second window holds at most 15 + 2 sent frames."""
    pacer = FramePacer(15.0)
    times = list(itertools.accumulate(gaps))
    sent = [t for t in times if pacer.allow(t)]
    for i, start in enumerate(sent):
        in_window = sum(1 for t in sent[i:] if t < start + 1.0)
        assert in_window <= 17


TICK = 1.0 / 15.0


def ticking_pacer(first_tick: float = 0.0123) -> FramePacer:
    """A 15 Hz pacer that has been told about server ticks every 1/15 s from ``first_tick``."""
    pacer = FramePacer(15.0)
    pacer.on_tick(first_tick)
    return pacer


def phase_of(t: float, first_tick: float = 0.0123) -> float:
    return ((t - first_tick) % TICK) / TICK


def paced_with_ticks(tracker_hz: float, seconds: float = 10.0) -> list[float]:
    """When a ticking pacer lets a tracker's samples through (ticks reported every second)."""
    pacer = ticking_pacer()
    sent: list[float] = []
    for i in range(int(tracker_hz * seconds)):
        t = 0.0047 + i / tracker_hz
        if i % int(tracker_hz) == 0:
            pacer.on_tick(0.0123 + round((t - 0.0123) / TICK) * TICK)  # ticks keep coming
        if pacer.allow(t):
            sent.append(t)
    return sent


@pytest.mark.parametrize("tracker_hz", [60.0, 30.0])
def test_pacer_sends_between_ticks_at_full_rate(tracker_hz: float) -> None:
    """Told when the server ticks, the pacer sends only inside the send band of each tick period
    (clear of the next tick), and still 15 frames a second from a 30 or 60 Hz caller."""
    sent = paced_with_ticks(tracker_hz)
    lo, hi = SEND_BAND
    assert all(lo - 1e-9 <= phase_of(t) <= hi + 1e-9 for t in sent[1:])  # first: at once
    assert 149 <= len(sent) <= 151


def test_pacer_keeps_the_rate_of_a_20hz_tracker_with_ticks() -> None:
    """A 20 Hz tracker cannot hit the band every tick; it is not slowed down for it."""
    assert 148 <= len(paced_with_ticks(20.0)) <= 152


def test_pacer_never_starves_a_tracker_that_misses_the_band() -> None:
    """A 10 Hz tracker whose samples often fall outside the band still sends every sample."""
    pacer = ticking_pacer()
    sent = 0
    for i in range(50):
        t = 0.05 + i / 10
        pacer.on_tick(0.0123 + round((t - 0.0123) / TICK) * TICK)
        sent += pacer.allow(t)
    assert sent >= 48


def test_a_late_tick_does_not_move_the_send_band() -> None:
    """Ticks on a 1/15 s grid with the last one 30 ms late: a 60 Hz caller's frames still go
    out in the band after the on-time grid (a busy server is late, never early)."""
    pacer = FramePacer(15.0)
    for k in range(10):
        pacer.on_tick(0.0123 + k * TICK + (0.030 if k == 9 else 0.0))
    start = 0.0123 + 9 * TICK
    sent = [t for t in (start + i / 60 for i in range(16)) if pacer.allow(t)]
    lo, hi = SEND_BAND
    assert len(sent) >= 3
    assert all(lo - 1e-9 <= phase_of(t) <= hi + 1e-9 for t in sent[1:])


def test_pacer_ignores_stale_tick_times() -> None:
    """Tick times older than a second (the room stopped sending) leave plain pacing."""
    pacer = ticking_pacer(first_tick=0.0)
    sent = sum(pacer.allow(5.0 + i / 30) for i in range(300))
    assert 149 <= sent <= 151


def test_pacer_refuses_a_bad_send_band() -> None:
    """A band outside the tick period, or empty, is a configuration error."""
    for band in [(0.5, 0.4), (-0.1, 0.5), (0.2, 1.2)]:
        with pytest.raises(ValueError):
            FramePacer(15.0, band=band)


def test_pacer_refuses_a_non_positive_rate() -> None:
    """A rate of zero is a configuration error."""
    with pytest.raises(ValueError):
        FramePacer(0.0)


def test_clock_offset_is_the_fastest_sample_in_the_window() -> None:
    """The estimate is the largest server − local difference (the least-delayed message),
    and old samples leave the window."""
    sync = ClockSync(window=3)
    assert sync.offset is None
    sync.add(1_000_000, 10.05)  # 50 ms in flight
    sync.add(1_001_000, 11.002)  # 2 ms
    sync.add(1_002_000, 12.03)  # 30 ms
    assert sync.offset == pytest.approx(1000.0 - 10.002)
    sync.add(1_003_000, 13.04)
    sync.add(1_004_000, 14.04)  # the 2 ms sample has left the window of three
    assert sync.offset == pytest.approx(1000.0 - 10.03)
    sync.reset()
    assert sync.offset is None and len(sync) == 0


def _timer(**fields: object) -> TimerState:
    base: dict[str, object] = {
        "room_id": "ROOM1",
        "phase": Phase.FOCUS,
        "round": 1,
        "rounds": 1,
        "end_time": 1_800_000_060_000,
        "server_time": 1_800_000_000_000,
        "paused": False,
        "pause_reasons": (),
        "remaining_ms": 60_000,
    }
    base.update(fields)
    return TimerState.model_validate(base)


def test_remaining_time_counts_down_on_the_estimated_server_clock() -> None:
    """Running: end_time minus local now plus offset; never below zero."""
    timer = _timer()
    offset = 1_800_000_000.0 - 50.0  # local 50 s is server 1_800_000_000 s
    assert remaining_s(timer, offset, 50.0) == pytest.approx(60.0)
    assert remaining_s(timer, offset, 65.5) == pytest.approx(44.5)
    assert remaining_s(timer, offset, 500.0) == 0.0


def test_remaining_time_is_frozen_while_paused_and_absent_outside_phases() -> None:
    """Paused: the server's remaining_ms whatever the clock; lobby or no offset: None."""
    paused = _timer(paused=True, pause_reasons=("host",), remaining_ms=12_500)
    assert remaining_s(paused, 0.0, 1e9) == 12.5
    lobby = _timer(phase=Phase.LOBBY, round=0, end_time=None, remaining_ms=0)
    assert remaining_s(lobby, 0.0, 0.0) is None
    assert remaining_s(_timer(), None, 0.0) is None
    assert remaining_s(None, 0.0, 0.0) is None


def test_backoff_doubles_to_its_cap() -> None:
    """Reconnect delays: 0.5, 1, 2, 4, 8, then 10 s forever."""
    assert list(itertools.islice(backoff_delays(), 8)) == [0.5, 1, 2, 4, 8, 10, 10, 10]


def test_every_error_code_has_a_short_sentence() -> None:
    """Each code maps to one short sentence; an unknown code reads like internal."""
    assert set(USER_MESSAGES) == set(ErrorCode)
    assert all(0 < len(text) <= 60 and text.endswith(".") for text in USER_MESSAGES.values())
    assert user_message("no_such_code") == USER_MESSAGES[ErrorCode.INTERNAL]
    error = ServerError(ErrorCode.ROOM_FULL, "every seat is taken")
    assert error.user_message == "That room is full."
    assert "room_full" in str(error)
