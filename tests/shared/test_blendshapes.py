"""The canonical blendshape list matches MediaPipe's output order and maps names ↔ slots both ways."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared import blendshapes as bs


def test_there_are_52_slots_with_neutral_first() -> None:
    """MediaPipe's 52 slots: `_neutral` at 0, then 51 unique ARKit names."""
    assert bs.COUNT == 52
    assert bs.NAMES[0] == "_neutral"
    assert len(set(bs.NAMES)) == 52
    assert "tongueOut" not in bs.NAMES


def test_order_matches_mediapipe_enum() -> None:
    """Our order equals the Blendshapes enum that ships with mediapipe."""
    from mediapipe.tasks.python.vision.face_landmarker import Blendshapes

    def camel(enum_name: str) -> str:
        head, *rest = enum_name.lower().split("_")
        return head + "".join(part.capitalize() for part in rest)

    expected = ["_neutral", *(camel(b.name) for b in sorted(Blendshapes)[1:])]
    assert list(bs.NAMES) == expected


def test_arkit_names_add_tongue_out() -> None:
    """The avatar's 52 ARKit names are MediaPipe's 51 plus tongueOut."""
    assert len(bs.ARKIT_NAMES) == 52
    assert set(bs.ARKIT_NAMES) == (set(bs.NAMES) - {"_neutral"}) | {"tongueOut"}


@pytest.mark.parametrize("name", bs.NAMES)
def test_lookup_round_trips(name: str) -> None:
    """index_of and name_of are inverse for every slot."""
    assert bs.name_of(bs.index_of(name)) == name


def test_unknown_names_and_slots_raise_named_error() -> None:
    """Unknown names and out-of-range slots raise UnknownBlendshapeError."""
    with pytest.raises(bs.UnknownBlendshapeError):
        bs.index_of("tongueOut")
    with pytest.raises(bs.UnknownBlendshapeError):
        bs.name_of(52)
    with pytest.raises(bs.UnknownBlendshapeError):
        bs.name_of(-1)


def test_mirror_swaps_left_and_right() -> None:
    """The mirror permutation swaps every Left shape with its Right twin and is its own inverse."""
    left = bs.index_of("mouthSmileLeft")
    right = bs.index_of("mouthSmileRight")
    assert bs.MIRROR[left] == right and bs.MIRROR[right] == left
    assert bs.MIRROR[bs.index_of("jawOpen")] == bs.index_of("jawOpen")
    assert all(bs.MIRROR[bs.MIRROR[i]] == i for i in range(bs.COUNT))


@given(st.floats(min_value=0.0, max_value=1.0))
def test_quantisation_error_is_within_half_a_step(w: float) -> None:
    """A weight survives one-byte quantisation within half of 1/255."""
    q = bs.quantize(w)
    assert 0 <= q <= 255
    assert abs(bs.dequantize(q) - w) <= 0.5 / 255 + 1e-12
