"""FocusAnalyzer end to end, including the scripted 10-minute acceptance test at 15 frames/s."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.blendshapes import COUNT, INDEX
from shared.face import NEUTRAL_WEIGHTS, PITCH_LIMIT, YAW_LIMIT, Attention, FaceSample
from shared.focus import (
    GAP_CAP_S,
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
    InvalidSettingsError,
    OutOfOrderSampleError,
    TimerPaused,
    TimerResumed,
    WokeUp,
    replay,
)

FPS = 15
FRAME = 1.0 / FPS
A = GuardState.AWAKE
Z = GuardState.ASLEEP


def weights(**shapes: float) -> tuple[float, ...]:
    """A neutral face with the named blendshapes set."""
    w = list(NEUTRAL_WEIGHTS)
    for name, value in shapes.items():
        w[INDEX[name]] = value
    return tuple(w)


BLINKING = weights(eyeBlinkLeft=0.9, eyeBlinkRight=0.9)
FROWNING = weights(browDownLeft=0.7, browDownRight=0.7)


def focused(t: float) -> FaceSample:
    """Looking at the screen."""
    return FaceSample(t=t)


def glancing_left(t: float) -> FaceSample:
    """Head turned 35° to the student's left."""
    return FaceSample(t=t, yaw=35.0)


def on_phone(t: float) -> FaceSample:
    """Head bowed 50° over a phone in the lap."""
    return FaceSample(t=t, pitch=-50.0)


def low_confidence(t: float) -> FaceSample:
    """The tracker sees a face but with confidence 0.3."""
    return FaceSample(t=t, confidence=0.3)


Script = list[tuple[Callable[[float], FaceSample], float]]


def build(script: Script, end_with_focus: bool = True) -> list[FaceSample]:
    """Samples at 15 fps through each (maker, seconds) segment; times are frame numbers / 15."""
    samples: list[FaceSample] = []
    frame = 0
    for make, seconds in script:
        for _ in range(round(seconds * FPS)):
            samples.append(make(frame / FPS))
            frame += 1
    if end_with_focus:
        samples.append(focused(frame / FPS))
    return samples


def state_changes(results: list[FrameResult]) -> list[tuple[GuardState, float]]:
    """The guard state sequence, run-length encoded as (state, time of the first frame in it)."""
    out: list[tuple[GuardState, float]] = []
    for r in results:
        if not out or out[-1][0] is not r.state:
            out.append((r.state, r.t))
    return out


def events_of(results: list[FrameResult]) -> list[FocusEvent]:
    """Every event, in emission order."""
    return [e for r in results for e in r.events]


def test_acceptance_ten_minutes_glance_absence_low_confidence() -> None:
    """10 min at 15 fps: focused, 5 s glance, 20 s away, 10 s low confidence, back.

    Script (s): 0–60 focused, 60–65 glance left, 65–120 focused, 120–140 on the phone,
    140–200 focused, 200–210 confidence 0.3, 210–600 focused (last frame at exactly 600).
    """
    samples = build(
        [
            (focused, 60.0),
            (glancing_left, 5.0),
            (focused, 55.0),
            (on_phone, 20.0),
            (focused, 60.0),
            (low_confidence, 10.0),
            (focused, 390.0),
        ]
    )
    assert len(samples) == 9001 and samples[-1].t == 600.0
    analyzer = FocusAnalyzer()
    results = [analyzer.update(s) for s in samples]
    by_t = {round(r.t * FPS): r for r in results}

    # Per-frame attention follows the script.
    assert by_t[59 * FPS].attention is Attention.FOCUSED
    assert by_t[60 * FPS].attention is Attention.LOOKING_LEFT
    assert by_t[130 * FPS].attention is Attention.LOOKING_DOWN
    assert by_t[205 * FPS].attention is Attention.UNCERTAIN

    # State sequence: asleep from the frame at exactly 135 s (15 s into the absence), awake at 140.
    assert state_changes(results) == [
        (A, 0.0),
        (Z, pytest.approx(135.0, abs=1e-9)),
        (A, pytest.approx(140.0, abs=1e-9)),
    ]
    assert by_t[135 * FPS - 1].state is A  # one frame before 15 s: still awake

    events = events_of(results)
    guard_events = [(type(e).__name__, round(e.t, 9)) for e in events]
    assert guard_events == [
        ("AwayStarted", 60.0),
        ("AwayFlagged", 65.0),  # the glance lasted exactly 5 s: "away ≥ 5 s"
        ("AwayEnded", 65.0),
        ("AwayStarted", 120.0),
        ("AwayFlagged", 125.0),
        ("FellAsleep", 135.0),
        ("TimerPaused", 135.0),
        ("AwayEnded", 140.0),
        ("WokeUp", 140.0),
        ("TimerResumed", 140.0),
    ]
    (glance_end, phone_end) = [e for e in events if isinstance(e, AwayEnded)]
    assert glance_end.kind is Attention.LOOKING_LEFT and glance_end.duration == pytest.approx(5.0)
    assert phone_end.kind is Attention.LOOKING_DOWN and phone_end.duration == pytest.approx(20.0)
    assert not any(isinstance(e, ConfusionEpisode) for e in events)

    # Accounting, by hand: 600 s minus the 5 s glance, the 20 s absence and the 10 s dip.
    summary = analyzer.summary()
    assert summary.elapsed_s == pytest.approx(600.0)
    assert summary.focused_s == pytest.approx(600.0 - 5.0 - 20.0 - 10.0, abs=FRAME)
    assert summary.away_s == pytest.approx(5.0 + 15.0, abs=FRAME)
    assert summary.asleep_s == pytest.approx(5.0, abs=FRAME)
    assert summary.uncertain_s == pytest.approx(10.0, abs=FRAME)
    assert summary.timer_s == pytest.approx(600.0 - 5.0, abs=FRAME)
    assert (summary.sleeps, summary.away_runs, summary.away_flags) == (1, 2, 2)

    # Score, by hand from score ← target + (score − target)·e^(−dt/10), starting at 100.
    s65 = 100.0 * math.exp(-0.5)
    s120 = 100.0 - (100.0 - s65) * math.exp(-5.5)
    s140 = s120 * math.exp(-2.0)
    assert by_t[65 * FPS].score == pytest.approx(s65)
    assert by_t[140 * FPS].score == pytest.approx(s140)
    assert by_t[127 * FPS].score < 50.0
    assert by_t[210 * FPS].score == by_t[200 * FPS].score  # held while uncertain
    assert results[-1].score > 99.9


def test_acceptance_confidence_dip_inside_an_absence_pauses_the_away_clock() -> None:
    """10 min at 15 fps: away 10 s, confidence 0.3 for 10 s, away again: asleep at 145, not 135."""
    samples = build(
        [
            (focused, 120.0),
            (on_phone, 10.0),
            (low_confidence, 10.0),
            (on_phone, 10.0),
            (focused, 450.0),
        ]
    )
    assert samples[-1].t == 600.0
    analyzer = FocusAnalyzer()
    results = [analyzer.update(s) for s in samples]

    assert state_changes(results) == [
        (A, 0.0),
        (Z, pytest.approx(145.0, abs=1e-9)),
        (A, pytest.approx(150.0, abs=1e-9)),
    ]
    events = events_of(results)
    assert [e.t for e in events if isinstance(e, FellAsleep)] == [pytest.approx(145.0, abs=1e-9)]
    assert [e.t for e in events if isinstance(e, WokeUp)] == [pytest.approx(150.0, abs=1e-9)]
    assert len([e for e in events if isinstance(e, AwayStarted)]) == 1  # one paused run
    (ended,) = [e for e in events if isinstance(e, AwayEnded)]
    assert ended.duration == pytest.approx(20.0)  # the 10 uncertain seconds are not in it

    summary = analyzer.summary()
    assert summary.focused_s == pytest.approx(600.0 - 30.0, abs=FRAME)
    assert summary.away_s == pytest.approx(15.0, abs=FRAME)
    assert summary.asleep_s == pytest.approx(5.0, abs=FRAME)
    assert summary.uncertain_s == pytest.approx(10.0, abs=FRAME)
    assert summary.timer_s == pytest.approx(595.0, abs=FRAME)


def test_timer_events_pair_with_sleep_and_wake() -> None:
    """Every FellAsleep comes with TimerPaused and every WokeUp with TimerResumed, same time."""
    samples = build([(focused, 5.0), (on_phone, 16.0), (focused, 5.0), (on_phone, 16.0)])
    events = events_of(replay(samples))
    assert [e.t for e in events if isinstance(e, FellAsleep)] == [
        e.t for e in events if isinstance(e, TimerPaused)
    ]
    assert [e.t for e in events if isinstance(e, WokeUp)] == [
        e.t for e in events if isinstance(e, TimerResumed)
    ]
    assert len([e for e in events if isinstance(e, FellAsleep)]) == 2


def test_blinks_do_not_cost_focus() -> None:
    """Blinking every 3 s while focused: no away events, full credit, score stays 100."""
    samples: list[FaceSample] = []
    for frame in range(30 * FPS + 1):
        blink = frame % (3 * FPS) in (20, 21)
        samples.append(
            FaceSample(t=frame / FPS, blendshapes=BLINKING if blink else NEUTRAL_WEIGHTS)
        )
    analyzer = FocusAnalyzer()
    results = [analyzer.update(s) for s in samples]
    assert any(r.attention is Attention.EYES_CLOSED for r in results)
    assert events_of(results) == []
    summary = analyzer.summary()
    assert summary.focused_s == pytest.approx(30.0)
    assert summary.score == 100.0
    assert summary.blinks == 10
    assert summary.blink_rate == pytest.approx(20.0)


def test_confusion_episode_is_emitted_and_summarised_with_its_subject() -> None:
    """A 4 s frown yields a ConfusionEpisode event, the confused flag, and a summary entry."""
    samples = [
        FaceSample(t=f / FPS, blendshapes=FROWNING if 30 <= f < 90 else NEUTRAL_WEIGHTS)
        for f in range(150)
    ]
    analyzer = FocusAnalyzer(subject="organic chemistry")
    results = [analyzer.update(s) for s in samples]
    assert not results[60].confused and results[80].confused
    episodes = [e for e in events_of(results) if isinstance(e, ConfusionEpisode)]
    assert episodes == [ConfusionEpisode(2.0, 6.0, "organic chemistry")]
    assert analyzer.summary().confusion == (ConfusionEpisode(2.0, 6.0, "organic chemistry"),)
    assert results[-1].score == 100.0  # frowning is thinking, not distraction


def test_summary_includes_a_confusion_episode_under_way() -> None:
    """summary(now) lists an episode that has not ended yet, ending at now."""
    analyzer = FocusAnalyzer()
    for f in range(5 * FPS):
        analyzer.update(FaceSample(t=f / FPS, blendshapes=FROWNING))
    (episode,) = analyzer.summary(5.0).confusion
    assert (episode.start, episode.end) == (0.0, 5.0)


def test_exam_mode_score_drops_below_fifty_and_flags_five_seconds_away() -> None:
    """Looking away for 8 s: flagged at 5 s, score under 50 by 7 s, FrameResult counts up."""
    analyzer = FocusAnalyzer()
    results = [analyzer.update(s) for s in build([(focused, 2.0), (glancing_left, 8.0)], False)]
    flags = [e for e in events_of(results) if isinstance(e, AwayFlagged)]
    assert [f.t for f in flags] == [pytest.approx(7.0)]
    assert results[round(9.0 * FPS)].score < 50.0 < results[round(8.5 * FPS)].score
    assert results[-1].away_clock == pytest.approx(8.0 - FRAME)


def test_summary_projects_to_now_without_changing_the_analyzer() -> None:
    """summary(now) holds the last attention until now; the analyzer's own state is unchanged."""
    analyzer = FocusAnalyzer()
    for s in build([(focused, 2.0), (on_phone, 0.6)], False):
        analyzer.update(s)
    before_score = analyzer.score
    projected = analyzer.summary(3.0)
    assert projected.away_s == pytest.approx(1.0)
    assert projected.score < before_score
    assert analyzer.summary().away_s == pytest.approx(0.6 - FRAME)
    assert analyzer.score == before_score


def test_summary_of_an_empty_analyzer_is_zero() -> None:
    """A summary before any sample covers no time and keeps the initial score."""
    summary = FocusAnalyzer().summary(10.0)
    assert summary.elapsed_s == 0.0 and summary.focused_s == 0.0 and summary.score == 100.0


def test_out_of_order_sample_raises_and_changes_nothing() -> None:
    """A sample earlier than the last raises OutOfOrderSampleError and the analyzer is unchanged."""
    analyzer = FocusAnalyzer()
    for s in build([(focused, 1.0), (on_phone, 1.0)], False):
        analyzer.update(s)
    before = analyzer.summary()
    with pytest.raises(OutOfOrderSampleError):
        analyzer.update(FaceSample(t=0.5))
    assert analyzer.summary() == before


def test_calibration_is_used_for_classification() -> None:
    """An analyzer calibrated to a screen at yaw 20 reads yaw 20 as focused."""
    analyzer = FocusAnalyzer(Calibration(centre_yaw=20.0))
    assert analyzer.update(FaceSample(t=0.0, yaw=20.0)).attention is Attention.FOCUSED
    assert FocusAnalyzer().update(FaceSample(t=0.0, yaw=35.0)).attention is Attention.LOOKING_LEFT


def test_replay_is_the_same_fold_as_live_updates() -> None:
    """replay(samples) returns exactly what feeding a fresh analyzer live returns."""
    samples = build([(focused, 3.0), (on_phone, 17.0), (low_confidence, 1.0), (focused, 2.0)])
    live = FocusAnalyzer()
    assert replay(samples) == [live.update(s) for s in samples]


@pytest.mark.parametrize("kwargs", [{"score_tau_s": 0.0}, {"initial_score": 101.0}])
def test_invalid_analyzer_settings_raise(kwargs: dict[str, float]) -> None:
    """A non-positive score time constant or an initial score outside 0..100 raises."""
    with pytest.raises(InvalidSettingsError):
        FocusAnalyzer(**kwargs)  # type: ignore[arg-type]


unit = st.floats(min_value=0.0, max_value=1.0)
poses = st.tuples(st.floats(-YAW_LIMIT, YAW_LIMIT), st.floats(-PITCH_LIMIT, PITCH_LIMIT))


@st.composite
def sample_streams(draw: st.DrawFn) -> list[FaceSample]:
    """Valid samples with non-decreasing times: runs of random faces, poses, confidences, gaps."""
    # Per-stream palettes keep generation fast while every combination stays reachable; runs of
    # repeated frames let absences last long enough to flag and to fall asleep.
    faces: list[tuple[float, ...] | None] = [None, NEUTRAL_WEIGHTS, BLINKING, FROWNING]
    faces += draw(st.lists(st.tuples(*([unit] * COUNT)), max_size=2))
    pose_palette = [(0.0, 0.0), *draw(st.lists(poses, min_size=1, max_size=4))]
    confidences = [1.0, *draw(st.lists(unit, min_size=1, max_size=3))]
    steps = st.one_of(st.just(FRAME), st.just(0.0), st.floats(0.0, GAP_CAP_S), st.floats(0.0, 25.0))
    t = draw(st.floats(min_value=-1e3, max_value=1e3))
    out: list[FaceSample] = []
    for _ in range(draw(st.integers(min_value=1, max_value=12))):
        face = draw(st.sampled_from(faces))
        yaw, pitch = draw(st.sampled_from(pose_palette))
        confidence = draw(st.sampled_from(confidences))
        step = draw(steps)
        for _ in range(draw(st.integers(min_value=1, max_value=300))):
            t += step
            if face is None:
                out.append(FaceSample.absent(t))
            else:
                out.append(FaceSample(t, face, yaw, pitch, confidence=confidence))
    return out


@settings(max_examples=100, deadline=None)
@given(sample_streams())
def test_analyzer_never_raises_and_keeps_its_invariants(samples: list[FaceSample]) -> None:
    """Any valid stream: no exception, score in 0..100, buckets add up to the elapsed time."""
    analyzer = FocusAnalyzer()
    for s in samples:
        result = analyzer.update(s)
        assert 0.0 <= result.score <= 100.0
        assert all(e.t <= s.t + 1e-9 for e in result.events)  # dated when it happened
    summary = analyzer.summary(samples[-1].t + 0.25)
    assert 0.0 <= summary.score <= 100.0
    buckets = summary.focused_s + summary.away_s + summary.asleep_s + summary.uncertain_s
    assert buckets == pytest.approx(summary.elapsed_s, abs=1e-6)
    assert summary.timer_s <= summary.elapsed_s - summary.asleep_s + 1e-6
