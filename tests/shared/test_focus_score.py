"""The 0–100 focus score: an exponential moving average with a documented time constant."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.focus import INITIAL_SCORE, SCORE_TAU_S, InvalidSettingsError, approach, update_score


def test_starts_at_one_hundred_with_a_ten_second_time_constant() -> None:
    """The documented starting score is 100 and tau is 10 s."""
    assert INITIAL_SCORE == 100.0 and SCORE_TAU_S == 10.0


def test_one_time_constant_away_leaves_one_over_e() -> None:
    """tau seconds away from 100 leaves 100/e; tau focused from 0 reaches 100(1 − 1/e)."""
    assert approach(100.0, 0.0, 10.0) == pytest.approx(100.0 / math.e)
    assert approach(0.0, 100.0, 10.0) == pytest.approx(100.0 * (1 - 1 / math.e))


def test_formula_is_frame_rate_independent() -> None:
    """150 steps of 1/15 s give the same score as one 10 s step."""
    score = 100.0
    for _ in range(150):
        score = approach(score, 0.0, 1 / 15)
    assert score == pytest.approx(approach(100.0, 0.0, 10.0))


def test_drops_below_fifty_after_about_seven_seconds_away() -> None:
    """From 100 the score crosses 50 (exam clip threshold) at tau·ln 2 ≈ 6.93 s."""
    assert approach(100.0, 0.0, 6.9) > 50.0
    assert approach(100.0, 0.0, 7.0) < 50.0


def test_zero_step_holds_the_score() -> None:
    """dt = 0 (uncertain time) leaves the score where it is."""
    assert approach(42.0, 100.0, 0.0) == 42.0
    assert update_score(42.0, 0.0, 0.0) == 42.0


def test_credit_is_applied_before_penalty() -> None:
    """update_score moves towards 100 by the credited time, then towards 0 by the penalised time."""
    expected = approach(approach(50.0, 100.0, 2.0), 0.0, 3.0)
    assert update_score(50.0, 2.0, 3.0) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("tau", "dt"), [(0.0, 1.0), (math.nan, 1.0), (10.0, -1.0), (10.0, math.nan)]
)
def test_invalid_time_constant_or_step_raises(tau: float, dt: float) -> None:
    """A non-positive tau or a negative step raises InvalidSettingsError."""
    with pytest.raises(InvalidSettingsError):
        approach(50.0, 0.0, dt, tau)


@settings(max_examples=300, deadline=None)
@given(
    st.floats(min_value=0.0, max_value=100.0),
    st.lists(
        st.tuples(
            st.sampled_from([0.0, 100.0]),
            st.floats(min_value=0.0, max_value=1e6),
            st.floats(min_value=1e-3, max_value=1e3),
        ),
        max_size=50,
    ),
)
def test_score_always_within_zero_and_one_hundred(
    start: float, steps: list[tuple[float, float, float]]
) -> None:
    """Whatever the targets, steps and time constants, the score stays in [0, 100]."""
    score = start
    for target, dt, tau in steps:
        score = approach(score, target, dt, tau)
        assert 0.0 <= score <= 100.0
