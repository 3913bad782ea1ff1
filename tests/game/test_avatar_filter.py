"""The One Euro filter: pass-through start, no lag on fast moves, smoothing at rest, bounded output."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from game.avatar.driver import CHANNELS, make_filter
from game.avatar.filters import FilterSettingsError, OneEuroFilter
from game.config import SHAPE_BETA, SHAPE_D_CUTOFF_HZ, SHAPE_MIN_CUTOFF_HZ

DT = 1.0 / 30.0


def shape_filter(size: int = 1) -> OneEuroFilter:
    """A filter with the driver's blendshape parameters."""
    return OneEuroFilter(
        size, min_cutoff=SHAPE_MIN_CUTOFF_HZ, beta=SHAPE_BETA, d_cutoff=SHAPE_D_CUTOFF_HZ
    )


def test_first_sample_passes_through_unchanged() -> None:
    """The first sample is the output: nothing to smooth against yet."""
    f = shape_filter(3)
    out = f(np.array([0.2, 0.5, 0.9]), 10.0)
    assert out.tolist() == [0.2, 0.5, 0.9]


def test_repeated_timestamp_changes_nothing() -> None:
    """A sample with the same (or an older) time as the last one is ignored."""
    f = shape_filter()
    f(np.array([0.0]), 1.0)
    first = f(np.array([0.5]), 1.0 + DT).copy()
    assert f(np.array([1.0]), 1.0 + DT).tolist() == first.tolist()
    assert f(np.array([1.0]), 0.5).tolist() == first.tolist()


def test_a_blink_is_followed_without_visible_lag() -> None:
    """A lid closing from 0 to 1 in one 30 Hz frame shows at least 90 % closed within two frames."""
    f = shape_filter()
    t = 0.0
    for _ in range(30):
        f(np.array([0.0]), t)
        t += DT
    f(np.array([1.0]), t)
    second = f(np.array([1.0]), t + DT)
    assert second[0] >= 0.9


def test_jitter_at_rest_is_smoothed() -> None:
    """Tracker noise of ±0.01 around a held expression is at least halved."""
    rng = np.random.default_rng(1)
    noise = 0.3 + rng.uniform(-0.01, 0.01, 300)
    f = shape_filter()
    out = np.array([f(np.array([x]), i * DT)[0] for i, x in enumerate(noise)])
    assert np.std(out[30:]) < 0.5 * np.std(noise[30:])


def test_each_channel_uses_its_own_parameters() -> None:
    """Per-channel cutoffs: a channel with a high minimum cutoff follows faster than a low one."""
    f = OneEuroFilter(2, min_cutoff=[0.5, 20.0], beta=0.0)
    f(np.zeros(2), 0.0)
    out = f(np.ones(2), DT)
    assert out[1] > out[0] > 0.0


def test_driver_filter_has_a_channel_per_weight_and_angle() -> None:
    """The driver filters the 52 weights and 3 head angles together."""
    assert make_filter().size == CHANNELS == 55


@pytest.mark.parametrize(
    "kwargs",
    [
        {"min_cutoff": 0.0, "beta": 1.0},
        {"min_cutoff": 1.0, "beta": -1.0},
        {"min_cutoff": 1.0, "beta": 1.0, "d_cutoff": float("nan")},
        {"min_cutoff": [1.0, 2.0, 3.0], "beta": 1.0},
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, object]) -> None:
    """Non-positive cutoffs, a negative beta, NaN or a wrongly sized array raise."""
    with pytest.raises((FilterSettingsError, ValueError)):
        OneEuroFilter(2, **kwargs)  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0.0, 1.0), min_size=2, max_size=40),
    st.lists(st.floats(0.001, 0.5), min_size=40, max_size=40),
)
def test_output_stays_within_the_inputs_seen(values: list[float], gaps: list[float]) -> None:
    """Every output lies between the smallest and largest input so far (no overshoot)."""
    f = shape_filter()
    t = 0.0
    low, high = 1.0, 0.0
    for x, gap in zip(values, gaps, strict=False):
        low, high = min(low, x), max(high, x)
        y = f(np.array([x]), t)[0]
        assert low - 1e-12 <= y <= high + 1e-12
        t += gap
