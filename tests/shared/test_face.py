"""Face samples validate their values on construction so rules never see NaN or out-of-range input."""

from __future__ import annotations

import math

import pytest

from shared.blendshapes import COUNT
from shared.face import Attention, FaceSample, InvalidSampleError


def test_default_sample_is_a_neutral_centred_face() -> None:
    """A default sample is present, confident, neutral and looking straight ahead."""
    s = FaceSample(t=1.0)
    assert s.present and s.confidence == 1.0
    assert s.weight("_neutral") == 1.0 and s.weight("jawOpen") == 0.0
    assert (s.yaw, s.pitch, s.roll) == (0.0, 0.0, 0.0)


def test_absent_sample_has_no_face_and_zero_confidence() -> None:
    """FaceSample.absent marks a frame with no face."""
    s = FaceSample.absent(3.0)
    assert not s.present and s.confidence == 0.0 and s.t == 3.0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"t": math.nan},
        {"t": 0.0, "blendshapes": (0.0,) * (COUNT - 1)},
        {"t": 0.0, "blendshapes": (math.nan,) * COUNT},
        {"t": 0.0, "blendshapes": (1.5,) + (0.0,) * (COUNT - 1)},
        {"t": 0.0, "blendshapes": (-0.1,) + (0.0,) * (COUNT - 1)},
        {"t": 0.0, "yaw": 181.0},
        {"t": 0.0, "pitch": -91.0},
        {"t": 0.0, "roll": math.inf},
        {"t": 0.0, "confidence": math.nan},
        {"t": 0.0, "confidence": 1.01},
    ],
)
def test_bad_values_raise_invalid_sample(kwargs: dict[str, object]) -> None:
    """NaN, infinities, wrong lengths and out-of-range values raise InvalidSampleError."""
    with pytest.raises(InvalidSampleError):
        FaceSample(**kwargs)  # type: ignore[arg-type]


def test_only_focused_and_uncertain_are_not_away() -> None:
    """Every attention state but focused and uncertain counts as away."""
    assert {a for a in Attention if not a.is_away} == {Attention.FOCUSED, Attention.UNCERTAIN}
