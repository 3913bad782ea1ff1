"""Pace against a ghost: its focus and state at your elapsed time, who leads, and the wording."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.blendshapes import COUNT
from shared.face import Attention, FaceSample
from shared.ghost import (
    GhostMeta,
    GhostRecorder,
    GhostRecording,
    TimelineSegment,
    damage_sample_count,
)
from shared.pace import (
    PaceError,
    Standing,
    format_clock,
    ghost_focused_s,
    ghost_state,
    pace_at,
    pace_line,
    pace_result,
)


def ghost(focused_s: float = 30.0, away_s: float = 30.0, *, asleep_after_s: float | None = None) -> GhostRecording:  # fmt: skip
    """Sam's ghost: focused for ``focused_s``, then looking left (asleep after ``asleep_after_s``)."""
    rec = GhostRecorder(user_id="u-sam", user_name="sam", subject="Maths", started_at=1.7e9, t0=0.0)
    end = focused_s + away_s
    rec.mark(0.0, Attention.FOCUSED, False)
    rec.mark(focused_s, Attention.LOOKING_LEFT, False)
    if asleep_after_s is not None:
        rec.mark(asleep_after_s, Attention.LOOKING_LEFT, True)
    for i in range(round(end * 10)):
        t = i / 10
        yaw = 0.0 if t < focused_s else 40.0
        rec.add_sample(FaceSample(t, (0.1,) * COUNT, yaw=yaw, pitch=0.0, roll=0.0, confidence=0.9))
    return rec.finish(end)


def test_ghost_focus_follows_its_timeline() -> None:
    """Focused for 30 s then away: 10 s in it has 10 s, later it stays at 30 s."""
    g = ghost()
    assert ghost_focused_s(g, 0.0) == 0.0
    assert ghost_focused_s(g, 10.0) == pytest.approx(10.0)
    assert ghost_focused_s(g, 45.0) == pytest.approx(30.0)
    assert ghost_focused_s(g, 600.0) == pytest.approx(30.0)


def test_you_lead_when_you_focused_longer_at_the_same_time() -> None:
    """At 50 s you with 40 s focused lead the ghost (30 s) by 10 s."""
    pace = pace_at(ghost(), 50.0, 40.0)
    assert pace.ghost_focused_s == pytest.approx(30.0)
    assert pace.lead_s == 10
    assert pace.standing is Standing.AHEAD
    assert not pace.ghost_finished
    assert pace_line(pace, "sam") == "You 0:40 focused · ghost of sam 0:30 · you lead by 0:10"


def test_you_are_behind_when_the_ghost_focused_longer() -> None:
    """At 20 s with 12.5 s focused you trail a ghost that focused all 20 s by 0:08."""
    pace = pace_at(ghost(), 20.0, 12.5)
    assert pace.lead_s == -8
    assert pace.standing is Standing.BEHIND
    assert pace_line(pace, "sam").endswith("you are behind by 0:08")
    assert pace_result(pace, "sam") == "sam's ghost was ahead by 0:08"


def test_comparison_uses_the_whole_seconds_shown() -> None:
    """10.9 s against 10.2 s shows 0:10 and 0:10, so the line says level, not "lead by 0:00"."""
    pace = pace_at(ghost(focused_s=60.0), 10.2, 10.9)
    assert pace.standing is Standing.LEVEL
    assert pace_line(pace, "sam").endswith("· level")
    assert pace_result(pace, "sam") == "Level with the ghost of sam"


def test_finished_ghost_keeps_its_final_total() -> None:
    """Past the recording's end the ghost is finished and the comparison keeps its 30 s."""
    g = ghost()
    pace = pace_at(g, 12 * 60 + 30, 12 * 60 + 30)
    assert pace.ghost_finished
    assert pace.ghost_focused_s == pytest.approx(30.0)
    assert pace_result(pace, "sam") == "You beat the ghost of sam by 12:00"
    assert "(finished)" in pace_line(pace, "sam")
    state = ghost_state(g, 12 * 60 + 30)
    assert state.finished
    assert state.t == g.duration_s


def test_ghost_state_reports_frame_attention_and_sleep() -> None:
    """The ghost's frame, attention and sleep at a time come from the recording."""
    g = ghost(focused_s=30.0, away_s=30.0, asleep_after_s=45.0)
    focused = ghost_state(g, 12.34)
    assert focused.attention is Attention.FOCUSED
    assert not focused.asleep and focused.present and not focused.finished
    assert focused.frame is not None and focused.frame.t == pytest.approx(12.3)
    away = ghost_state(g, 40.0)
    assert away.attention is Attention.LOOKING_LEFT and not away.asleep
    assert away.frame is not None and away.frame.yaw == pytest.approx(40.0)
    asleep = ghost_state(g, 50.0)
    assert asleep.asleep


def test_times_must_be_real_non_negative_seconds() -> None:
    """Negative or NaN times are refused with a clear error, not compared."""
    g = ghost()
    for bad in (-1.0, math.nan, math.inf):
        with pytest.raises(PaceError):
            pace_at(g, bad, 1.0)
        with pytest.raises(PaceError):
            pace_at(g, 1.0, bad)
        with pytest.raises(PaceError):
            ghost_state(g, bad)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0.0, "0:00"), (40.9, "0:40"), (750.0, "12:30"), (3723.5, "1:02:03")],
)
def test_clock_format(seconds: float, shown: str) -> None:
    """Clocks show m:ss, or h:mm:ss past an hour, floored to the second."""
    assert format_clock(seconds) == shown


STATES = st.tuples(st.sampled_from(list(Attention)), st.booleans())


@st.composite
def recordings(draw: st.DrawFn) -> GhostRecording:
    """Any valid ghost timeline: up to 20 segments of distinct consecutive states."""
    duration = draw(st.integers(min_value=0, max_value=7_200_000))
    starts = sorted(
        set(draw(st.lists(st.integers(min_value=1, max_value=max(duration, 1)), max_size=19)))
    )
    starts = [0, *(s for s in starts if s <= duration)]
    timeline: list[TimelineSegment] = []
    for t_ms in starts:
        attention, asleep = draw(STATES)
        if timeline and (timeline[-1].attention, timeline[-1].asleep) == (attention, asleep):
            continue
        timeline.append(TimelineSegment(t_ms, attention, asleep))
    meta = GhostMeta("u-1", "sam", "maths", 1.7e9, duration)
    return GhostRecording(meta, tuple(timeline), (0,) * damage_sample_count(duration), ())


@settings(max_examples=200, deadline=None)
@given(recordings(), st.lists(st.floats(min_value=0.0, max_value=9000.0), min_size=2, max_size=8))
def test_ghost_focus_never_decreases_nor_exceeds_elapsed(rec: GhostRecording, times: list[float]) -> None:  # fmt: skip
    """The ghost's focused seconds never go down as time passes, and never exceed the time."""
    times.sort()
    values = [ghost_focused_s(rec, t) for t in times]
    for a, b in itertools.pairwise(values):
        assert b >= a
    for t, v in zip(times, values, strict=True):
        assert 0.0 <= v <= min(t, rec.duration_s) + 1e-9


@settings(max_examples=200, deadline=None)
@given(recordings(), st.floats(min_value=0.0, max_value=9000.0), st.floats(min_value=0.0, max_value=9000.0))  # fmt: skip
def test_lead_is_the_difference_of_the_shown_clocks(rec: GhostRecording, elapsed: float, mine: float) -> None:  # fmt: skip
    """The lead always equals your shown clock minus the ghost's, and its sign picks the words."""
    pace = pace_at(rec, elapsed, mine)
    assert pace.lead_s == math.floor(mine) - math.floor(pace.ghost_focused_s)
    line = pace_line(pace, "sam")
    if pace.lead_s > 0:
        assert "you lead by" in line and pace_result(pace, "sam").startswith("You beat")
    elif pace.lead_s < 0:
        assert "behind by" in line and "was ahead by" in pace_result(pace, "sam")
    else:
        assert line.endswith("level")
