"""Tests for game.capture.synthetic: scripted samples are deterministic and follow the script."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from game.capture.synthetic import (
    IDLE_BLINK_GAP_S,
    TRANSITION_S,
    UNCERTAIN_CONFIDENCE,
    Behaviour,
    ScriptError,
    SyntheticFeed,
    SyntheticSource,
)
from shared.face import Attention, FaceSample
from shared.focus import classify

SCRIPT = [
    ("focused", 10.0),
    ("away_left", 20.0),
    ("no_face", 5.0),
    ("uncertain", 3.0),
    ("smile", 2.0),
    ("blink", 0.3),
    ("away_right", 4.0),
    ("away_up", 4.0),
    ("away_down", 4.0),
    ("away_diagonal", 4.0),
    ("eyes_closed", 4.0),
    ("confused", 4.0),
    ("talking", 4.0),
]


def _middle(source: SyntheticSource, behaviour: Behaviour) -> FaceSample:
    segment = next(s for s in source.segments if s.behaviour is behaviour)
    return source.sample_at(source.start + (segment.start + segment.end) / 2)


def _blink(sample: FaceSample) -> float:
    return min(sample.weight("eyeBlinkLeft"), sample.weight("eyeBlinkRight"))


@pytest.fixture
def source() -> SyntheticSource:
    """The whole-repertoire script, seed 7, idle blinks off so segment middles are not blinks."""
    return SyntheticSource(SCRIPT, seed=7, idle_blinks=False)


def test_same_seed_same_samples() -> None:
    """Two sources with the same script and seed yield identical samples."""
    a = list(SyntheticSource(SCRIPT, seed=3, fps=10.0))
    b = list(SyntheticSource(SCRIPT, seed=3, fps=10.0))
    assert a == b


def test_different_seed_different_motion() -> None:
    """Another seed changes the idle motion (the script's intent stays the same)."""
    a = list(SyntheticSource(SCRIPT, seed=3, fps=10.0))
    b = list(SyntheticSource(SCRIPT, seed=4, fps=10.0))
    assert a != b
    assert [s.present for s in a] == [s.present for s in b]


def test_iteration_covers_the_script_at_fps(source: SyntheticSource) -> None:
    """Iterating yields duration × fps samples at start + i / fps."""
    samples = list(SyntheticSource([("focused", 2.0)], fps=15.0, start=100.0))
    assert len(samples) == 30
    assert samples[0].t == 100.0 and samples[-1].t == pytest.approx(100.0 + 29 / 15)
    assert source.duration == pytest.approx(sum(d for _, d in SCRIPT))


def test_focused_looks_at_the_screen(source: SyntheticSource) -> None:
    """Focused: head near centre, eyes open, confident."""
    s = _middle(source, Behaviour.FOCUSED)
    assert s.present and s.confidence >= 0.9
    assert abs(s.yaw) < 5 and abs(s.pitch) < 5 and abs(s.roll) < 5
    assert _blink(s) < 0.1


@pytest.mark.parametrize(
    ("behaviour", "check"),
    [
        (Behaviour.AWAY_LEFT, lambda s: s.yaw > 30),
        (Behaviour.AWAY_RIGHT, lambda s: s.yaw < -30),
        (Behaviour.AWAY_UP, lambda s: s.pitch > 20),
        (Behaviour.AWAY_DOWN, lambda s: s.pitch < -25),
        (Behaviour.AWAY_DIAGONAL, lambda s: s.yaw > 20 and s.pitch < -20),
    ],
)
def test_away_segments_turn_the_head(
    source: SyntheticSource, behaviour: Behaviour, check: Callable[[FaceSample], bool]
) -> None:
    """Away segments turn the head in their direction (subject's own left = positive yaw)."""
    s = _middle(source, behaviour)
    assert s.present and s.confidence >= 0.9
    assert check(s), s


def test_no_face_is_absent(source: SyntheticSource) -> None:
    """no_face gives present=False and zero confidence."""
    s = _middle(source, Behaviour.NO_FACE)
    assert not s.present and s.confidence == 0.0


def test_uncertain_is_present_with_low_confidence(source: SyntheticSource) -> None:
    """uncertain keeps a face but below the 0.5 confidence line."""
    s = _middle(source, Behaviour.UNCERTAIN)
    assert s.present and s.confidence < 0.5
    assert s.confidence == pytest.approx(UNCERTAIN_CONFIDENCE, abs=0.05)


def test_expressions(source: SyntheticSource) -> None:
    """smile raises the mouth corners, eyes_closed shuts both eyes, confused lowers the brows."""
    smile = _middle(source, Behaviour.SMILE)
    assert smile.weight("mouthSmileLeft") > 0.7 and smile.weight("mouthSmileRight") > 0.7
    assert _blink(_middle(source, Behaviour.EYES_CLOSED)) > 0.9
    confused = _middle(source, Behaviour.CONFUSED)
    assert confused.weight("browDownLeft") > 0.6 and confused.weight("browDownRight") > 0.6


def test_blink_segment_closes_then_opens_the_eyes(source: SyntheticSource) -> None:
    """A blink segment starts open, is shut in the middle and ends open."""
    seg = next(s for s in source.segments if s.behaviour is Behaviour.BLINK)
    assert _blink(source.sample_at(seg.start)) < 0.1
    assert _blink(source.sample_at((seg.start + seg.end) / 2)) > 0.95
    assert _blink(source.sample_at(seg.end - 1e-6)) < 0.1


def test_talking_moves_the_jaw(source: SyntheticSource) -> None:
    """talking opens and closes the jaw several times a second."""
    seg = next(s for s in source.segments if s.behaviour is Behaviour.TALKING)
    jaw = [source.sample_at(seg.start + i / 30).weight("jawOpen") for i in range(30)]
    assert max(jaw) > 0.3 and min(jaw) < 0.1


def test_head_turns_ease_in(source: SyntheticSource) -> None:
    """At the start of away_left the head is near centre; after the transition it is turned."""
    seg = next(s for s in source.segments if s.behaviour is Behaviour.AWAY_LEFT)
    assert source.sample_at(seg.start).yaw < 5
    assert source.sample_at(seg.start + TRANSITION_S).yaw > 30


def test_idle_blinks_happen_at_a_natural_rate() -> None:
    """A focused minute has one spontaneous blink per 2.5–6 s; none with idle_blinks off."""
    on = list(SyntheticSource([("focused", 60.0)], seed=1, fps=60.0))
    closed = [_blink(s) > 0.5 for s in on]
    onsets = sum(1 for a, b in itertools.pairwise(closed) if b and not a)
    low, high = IDLE_BLINK_GAP_S
    assert 60 / high - 1 <= onsets <= 60 / low + 1
    off = SyntheticSource([("focused", 60.0)], seed=1, fps=60.0, idle_blinks=False)
    assert max(_blink(s) for s in off) < 0.1


def test_without_idle_motion_the_target_is_exact() -> None:
    """With idle motion off, a focused face is exactly frontal."""
    s = SyntheticSource([("focused", 1.0)], idle_motion=False).sample_at(0.5)
    assert (s.yaw, s.pitch, s.roll) == (0.0, 0.0, 0.0)


def test_holds_the_last_segment_past_the_end() -> None:
    """After the script ends, sample_at keeps the last behaviour."""
    source = SyntheticSource([("focused", 1.0), ("no_face", 1.0)])
    assert not source.sample_at(50.0).present
    with pytest.raises(ValueError, match="before"):
        source.sample_at(-1.0)


@pytest.mark.parametrize(
    "script",
    [[], [("dancing", 1.0)], [("focused", 0.0)], [("focused", -2.0)], [("focused",)]],
)
def test_bad_scripts_are_refused(script: list[tuple[str, float]]) -> None:
    """Empty scripts, unknown behaviours and non-positive durations raise ScriptError."""
    with pytest.raises(ScriptError):
        SyntheticSource(script)


def test_feed_follows_a_clock_and_loops() -> None:
    """SyntheticFeed returns the script's sample for the clock's time, looping, stamped with now."""
    now = [50.0]
    feed = SyntheticFeed(
        SyntheticSource([("focused", 1.0), ("no_face", 1.0)]), clock=lambda: now[0]
    )
    assert feed.latest() is None
    with feed:
        now[0] = 50.5
        first = feed.latest()
        now[0] = 51.5
        second = feed.latest()
        now[0] = 52.5
        third = feed.latest()
    assert first is not None and first.present and first.t == 50.5
    assert second is not None and not second.present
    assert third is not None and third.present
    assert feed.latest() is None


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from([b.value for b in Behaviour]), st.floats(0.05, 5.0)),
        min_size=1,
        max_size=6,
    ),
    st.integers(0, 2**32),
    st.floats(0.0, 1.0),
)
def test_any_script_gives_valid_repeatable_samples(
    script: list[tuple[str, float]], seed: int, frac: float
) -> None:
    """Any script and seed give valid samples, the same whatever was sampled before."""
    a = SyntheticSource(script, seed=seed)
    b = SyntheticSource(script, seed=seed)
    t = frac * a.duration
    a.sample_at(a.duration + 30.0)  # extends a's blink schedule first
    assert a.sample_at(t) == b.sample_at(t)
    assert a.segment_at(t).behaviour in set(Behaviour)


EXPECTED_ATTENTION = {
    Behaviour.FOCUSED: Attention.FOCUSED,
    Behaviour.AWAY_LEFT: Attention.LOOKING_LEFT,
    Behaviour.AWAY_RIGHT: Attention.LOOKING_RIGHT,
    Behaviour.AWAY_UP: Attention.LOOKING_UP,
    Behaviour.AWAY_DOWN: Attention.LOOKING_DOWN,
    Behaviour.AWAY_DIAGONAL: Attention.LOOKING_DIAGONAL,
    Behaviour.EYES_CLOSED: Attention.EYES_CLOSED,
    Behaviour.NO_FACE: Attention.NO_FACE,
    Behaviour.UNCERTAIN: Attention.UNCERTAIN,
    Behaviour.SMILE: Attention.FOCUSED,
    Behaviour.CONFUSED: Attention.FOCUSED,
    Behaviour.TALKING: Attention.FOCUSED,
}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_focus_rules_read_each_behaviour_as_intended(seed: int) -> None:
    """Past each transition, shared.focus.classify gives every segment's intended attention."""
    source = SyntheticSource(SCRIPT, seed=seed, fps=10.0, idle_blinks=False)
    for segment in source.segments:
        expected = EXPECTED_ATTENTION.get(segment.behaviour)
        if expected is None:
            continue  # a blink passes through eyes_closed by design
        times = np.linspace(segment.start + TRANSITION_S, segment.end - 0.01, 40)
        got = {classify(source.sample_at(t)) for t in times}
        assert got == {expected}, (segment, got)
