"""Tests for game.analysis.timeline: a faithful record of what the shared focus rules said."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from game.analysis.timeline import (
    EVENT_NAMES,
    ROW_FIELDS,
    AnalysisMeta,
    EmptyTimelineError,
    FrameRow,
    Timeline,
    TimelineBuilder,
    event_to_json,
)
from game.capture.synthetic import SyntheticSource
from shared.face import Attention, FaceSample
from shared.focus import (
    AwayEnded,
    AwayFlagged,
    AwayStarted,
    ConfusionEpisode,
    FellAsleep,
    FocusEvent,
    GuardState,
    OutOfOrderSampleError,
    TimerPaused,
    TimerResumed,
    WokeUp,
    replay,
)

FPS = 15.0
FRAME = 1.0 / FPS


def _meta(frames: int = 0) -> AnalysisMeta:
    return AnalysisMeta(
        source="clips/session.avi",
        subject="maths",
        model_path="face_landmarker.task",
        model_sha256="0" * 64,
        fps=FPS,
        every=1,
        frames_decoded=frames,
        width=320,
        height=240,
    )


def _samples(script: list[tuple[str, float]], **kwargs: object) -> list[FaceSample]:
    options: dict[str, object] = {"fps": FPS, "seed": 3, "idle_blinks": False}
    options.update(kwargs)
    return list(SyntheticSource(script, **options))  # type: ignore[arg-type]


def _timeline(
    script: list[tuple[str, float]], subject: str | None = "maths", **kwargs: object
) -> Timeline:
    builder = TimelineBuilder(subject=subject)
    samples = _samples(script, **kwargs)
    builder.extend(samples)
    return builder.finish(_meta(len(samples)))


def _only(events: tuple[FocusEvent, ...], kind: type) -> list[FocusEvent]:
    return [e for e in events if isinstance(e, kind)]


def test_sleep_starts_15_s_into_an_absence_and_ends_when_the_face_returns() -> None:
    """Absent from 5 s to 30 s: fell asleep (timer paused) at 20 s, woke up (resumed) at 30 s."""
    timeline = _timeline([("focused", 5.0), ("no_face", 25.0), ("focused", 5.0)])
    (asleep,) = _only(timeline.events, FellAsleep)
    (woke,) = _only(timeline.events, WokeUp)
    assert asleep.t == pytest.approx(20.0, abs=FRAME)
    assert woke.t == pytest.approx(30.0, abs=FRAME)
    assert [e.t for e in _only(timeline.events, TimerPaused)] == [asleep.t]
    assert [e.t for e in _only(timeline.events, TimerResumed)] == [woke.t]
    (sleep,) = timeline.sleeps
    assert (sleep.start, sleep.end, sleep.ongoing) == (asleep.t, woke.t, False)
    (run,) = timeline.distractions
    assert run.kind is Attention.NO_FACE and run.flagged and not run.ongoing
    assert run.start == pytest.approx(5.0, abs=FRAME) and run.end == woke.t
    assert run.duration == pytest.approx(25.0, abs=FRAME)


def test_rows_are_exactly_what_the_shared_rules_replay_says() -> None:
    """Each row's attention, state, score and confusion flag equal shared.focus.replay's result."""
    script = [("focused", 3.0), ("away_left", 4.0), ("confused", 5.0), ("no_face", 17.0)]
    samples = _samples(script, idle_blinks=True)
    builder = TimelineBuilder(subject="physics")
    builder.extend(samples)
    timeline = builder.finish(_meta(len(samples)))
    expected = replay(samples, subject="physics")
    assert timeline.frames == len(samples) == len(expected)
    for row, sample, result in zip(timeline.rows, samples, expected, strict=True):
        assert row == FrameRow.of(sample, result)
    flat = [e for r in expected for e in r.events]
    assert sorted(flat, key=lambda e: e.t) == list(timeline.events)


def test_summary_seconds_add_up_and_counts_match_the_periods() -> None:
    """focused+away+asleep+uncertain = duration; counts equal the paired periods."""
    script = [
        ("focused", 4.0),
        ("away_left", 3.0),
        ("focused", 2.0),
        ("away_down", 7.0),
        ("uncertain", 2.0),
        ("focused", 2.0),
        ("no_face", 18.0),
        ("focused", 3.0),
    ]
    timeline = _timeline(script, idle_blinks=True)
    s = timeline.summary
    assert s.duration_s == pytest.approx(timeline.end - timeline.start)
    parts = s.focused_s + s.away_s + s.asleep_s + s.uncertain_s
    assert parts == pytest.approx(s.duration_s, abs=1e-6)
    assert s.timer_s == pytest.approx(s.duration_s - s.asleep_s, abs=1e-6)
    assert s.uncertain_s == pytest.approx(2.0, abs=2 * FRAME)
    assert s.distractions == len(timeline.distractions) == 3
    assert s.flagged_distractions == sum(d.flagged for d in timeline.distractions) == 2
    assert s.sleeps == len(timeline.sleeps) == 1
    assert s.longest_distraction_s == max(d.duration for d in timeline.distractions)
    assert s.longest_distraction_s == pytest.approx(18.0, abs=FRAME)
    mean = math.fsum(r.score for r in timeline.rows) / timeline.frames
    assert s.mean_score == pytest.approx(mean)
    assert s.final_score == timeline.rows[-1].score
    assert s.face_frames == sum(r.present for r in timeline.rows)


def test_blinks_per_minute_cover_the_whole_recording() -> None:
    """Blink rate = blinks × 60 / duration, and the blinks are the rules' count."""
    timeline = _timeline([("focused", 40.0)], idle_blinks=True)
    s = timeline.summary
    assert s.blinks >= 3
    assert s.blinks_per_min == pytest.approx(s.blinks * 60.0 / s.duration_s)


def test_a_run_and_a_sleep_still_open_at_the_end_are_marked_ongoing() -> None:
    """Away to the end: the run and the sleep close at the last frame and say they are ongoing."""
    timeline = _timeline([("focused", 2.0), ("away_right", 20.0)])
    (run,) = timeline.distractions
    (sleep,) = timeline.sleeps
    assert run.ongoing and sleep.ongoing
    assert run.kind is Attention.LOOKING_RIGHT
    assert run.end == sleep.end == timeline.end
    assert run.duration == pytest.approx(timeline.end - run.start, abs=1e-9)
    assert timeline.rows[-1].state is GuardState.ASLEEP
    assert not _only(timeline.events, AwayEnded)


def test_confusion_episodes_are_tagged_with_the_subject() -> None:
    """A sustained furrowed brow becomes a cognitive-load moment carrying the subject."""
    timeline = _timeline([("focused", 2.0), ("confused", 5.0), ("focused", 3.0)], subject="chem")
    (episode,) = timeline.confusion
    assert episode.subject == "chem"
    assert episode.duration == pytest.approx(5.0, abs=0.5)
    assert timeline.summary.cognitive_load_moments == 1
    assert timeline.summary.cognitive_load_s == pytest.approx(episode.duration)
    assert any(r.confused for r in timeline.rows)
    assert _only(timeline.events, ConfusionEpisode) == [episode]


def test_confusion_still_under_way_at_the_end_is_counted() -> None:
    """An episode long enough but not finished at the last frame is in the summary too."""
    timeline = _timeline([("focused", 1.0), ("confused", 6.0)], subject=None)
    (episode,) = timeline.confusion
    assert episode.subject is None and episode.end == pytest.approx(timeline.end)
    assert not _only(timeline.events, ConfusionEpisode)


def test_an_out_of_order_sample_is_refused_and_changes_nothing() -> None:
    """A sample earlier than the last raises, and the builder keeps its rows and results."""
    builder = TimelineBuilder()
    builder.extend(_samples([("focused", 1.0)]))
    before = builder.finish(_meta())
    with pytest.raises(OutOfOrderSampleError):
        builder.add(FaceSample.absent(0.5))
    assert builder.finish(_meta()) == before


def test_finish_changes_nothing_and_can_be_called_again() -> None:
    """finish() is a snapshot: the builder keeps going and a later finish() sees more."""
    builder = TimelineBuilder()
    samples = _samples([("focused", 2.0), ("no_face", 20.0)])
    builder.extend(samples[:100])
    first = builder.finish(_meta())
    assert builder.finish(_meta()) == first
    builder.extend(samples[100:])
    later = builder.finish(_meta())
    assert later.frames == len(samples) and later.sleeps and not first.sleeps


def test_finishing_with_no_samples_is_an_error() -> None:
    """A timeline needs at least one frame."""
    with pytest.raises(EmptyTimelineError):
        TimelineBuilder().finish(_meta())


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (FellAsleep(20.0), {"type": "fell_asleep", "t": 20.0}),
        (WokeUp(30.0), {"type": "woke_up", "t": 30.0}),
        (TimerPaused(20.0), {"type": "timer_paused", "t": 20.0}),
        (TimerResumed(30.0), {"type": "timer_resumed", "t": 30.0}),
        (
            AwayStarted(5.0, Attention.LOOKING_LEFT),
            {"type": "away_started", "t": 5.0, "kind": "looking_left"},
        ),
        (
            AwayFlagged(10.0004, Attention.NO_FACE, 5.0),
            {"type": "away_flagged", "t": 10.0, "kind": "no_face", "started": 5.0},
        ),
        (
            AwayEnded(30.0, Attention.EYES_CLOSED, 5.0, 24.5),
            {
                "type": "away_ended",
                "t": 30.0,
                "kind": "eyes_closed",
                "started": 5.0,
                "duration": 24.5,
            },
        ),
        (
            ConfusionEpisode(3.0, 7.5, "maths"),
            {
                "type": "confusion",
                "t": 7.5,
                "start": 3.0,
                "end": 7.5,
                "duration": 4.5,
                "subject": "maths",
            },
        ),
    ],
)
def test_every_event_type_has_a_json_form(event: FocusEvent, expected: dict[str, object]) -> None:
    """Each focus event is stored with its type name, its time (to the ms) and its own fields."""
    assert event_to_json(event) == expected


def test_every_focus_event_type_is_named() -> None:
    """The name table covers every event the focus rules can emit."""
    assert set(EVENT_NAMES) == {
        AwayStarted,
        AwayFlagged,
        AwayEnded,
        FellAsleep,
        TimerPaused,
        WokeUp,
        TimerResumed,
        ConfusionEpisode,
    }
    assert len(set(EVENT_NAMES.values())) == len(EVENT_NAMES)


def test_row_values_are_rounded_in_column_order_without_negative_zero() -> None:
    """Rows are stored in ROW_FIELDS order, rounded, and -0.0 never appears."""
    row = FrameRow(
        t=1.23456,
        attention=Attention.LOOKING_UP,
        state=GuardState.AWAKE,
        score=87.654321,
        confused=False,
        present=True,
        confidence=0.98765,
        yaw=-0.001,
        pitch=16.789,
        roll=-3.14159,
    )
    values = row.values()
    assert len(values) == len(ROW_FIELDS)
    assert values == (1.235, "looking_up", "awake", 87.65, False, True, 0.988, 0.0, 16.79, -3.14)
    assert math.copysign(1.0, float(values[7])) == 1.0


def test_json_document_carries_meta_summary_events_periods_and_rows() -> None:
    """to_json() has the format tag, the meta (frames, fps, rules), and one row per frame."""
    timeline = _timeline([("focused", 2.0), ("no_face", 17.0), ("focused", 1.0)])
    doc = timeline.to_json()
    assert doc["format"] == "convex-timeline" and doc["version"] == 1
    meta = doc["meta"]
    assert meta["frames"] == timeline.frames == len(doc["rows"])
    assert meta["fps"] == FPS and meta["subject"] == "maths" and meta["calibration"] is None
    assert meta["rules"]["sleep_after_s"] == 15.0
    assert doc["columns"] == list(ROW_FIELDS)
    assert [e["type"] for e in doc["events"]].count("fell_asleep") == 1
    assert doc["sleeps"][0]["start"] == pytest.approx(17.0, abs=FRAME)
    assert doc["summary"]["sleeps"] == 1


SEGMENTS = st.sampled_from(
    ["focused", "away_left", "away_up", "away_down", "eyes_closed", "no_face", "uncertain", "blink"]
)


@settings(max_examples=25, deadline=None)
@given(
    script=st.lists(
        st.tuples(SEGMENTS, st.floats(min_value=0.2, max_value=20.0)), min_size=1, max_size=6
    ),
    seed=st.integers(0, 1000),
)
def test_accounting_always_adds_up(script: list[tuple[str, float]], seed: int) -> None:
    """For any script: seconds add up, periods pair up, and counts agree with the periods."""
    timeline = _timeline(script, seed=seed, idle_blinks=True)
    s = timeline.summary
    parts = s.focused_s + s.away_s + s.asleep_s + s.uncertain_s
    assert parts == pytest.approx(s.duration_s, abs=1e-6)
    assert s.distractions == len(timeline.distractions)
    assert s.sleeps == len(timeline.sleeps)
    assert s.flagged_distractions == sum(d.flagged for d in timeline.distractions)
    for d in timeline.distractions:
        assert d.start <= d.end and 0.0 <= d.duration <= d.end - d.start + 1e-6
    for p in timeline.sleeps:
        assert p.start <= p.end
    assert [e.t for e in timeline.events] == sorted(e.t for e in timeline.events)
    assert 0.0 <= s.mean_score <= 100.0
