"""Jitter buffers: relayed faces ordered by server time, interpolated, held when dry."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from game.net import BUFFER_FRAMES, JitterBuffer, interpolate
from shared.blendshapes import COUNT, index_of
from shared.face import NEUTRAL_WEIGHTS, FaceSample

JAW = index_of("jawOpen")


def face(
    jaw: float = 0.0, yaw: float = 0.0, pitch: float = 0.0, present: bool = True
) -> FaceSample:
    shapes = list(NEUTRAL_WEIGHTS)
    shapes[JAW] = jaw
    return FaceSample(t=0.0, blendshapes=tuple(shapes), yaw=yaw, pitch=pitch, present=present)


def test_sample_between_two_frames_is_interpolated_linearly() -> None:
    """A quarter of the way between two frames gives a quarter of the change, stamped with
    the requested time."""
    buf = JitterBuffer().push(10.0, face(jaw=0.2, yaw=10.0, pitch=-4.0))
    buf = buf.push(10.1, face(jaw=0.6, yaw=30.0, pitch=4.0))
    out = buf.sample_at(10.025)
    assert out is not None
    assert out.blendshapes[JAW] == pytest.approx(0.3)
    assert out.yaw == pytest.approx(15.0) and out.pitch == pytest.approx(-2.0)
    assert out.t == 10.025


def test_an_empty_buffer_has_no_face_and_a_dry_one_holds_its_newest() -> None:
    """No frames: None. Past the newest frame the newest is held; before the oldest, the
    oldest is shown."""
    assert JitterBuffer().sample_at(1.0) is None
    buf = JitterBuffer().push(1.0, face(jaw=0.1)).push(2.0, face(jaw=0.9))
    held = buf.sample_at(5.0)
    early = buf.sample_at(0.0)
    assert held is not None and held.blendshapes[JAW] == pytest.approx(0.9)
    assert early is not None and early.blendshapes[JAW] == pytest.approx(0.1)


def test_stale_and_duplicate_frames_are_ignored() -> None:
    """A frame not newer than the newest changes nothing."""
    buf = JitterBuffer().push(2.0, face(jaw=0.5))
    assert buf.push(2.0, face(jaw=0.9)) is buf
    assert buf.push(1.0, face(jaw=0.9)) is buf


def test_buffer_keeps_only_the_newest_frames() -> None:
    """At most BUFFER_FRAMES frames are kept, the newest."""
    buf = JitterBuffer()
    for i in range(BUFFER_FRAMES + 5):
        buf = buf.push(float(i), face())
    assert len(buf.entries) == BUFFER_FRAMES
    assert buf.newest_t == float(BUFFER_FRAMES + 4)


def test_yaw_interpolates_the_short_way_round() -> None:
    """170° to −170° passes through 180°, not through 0°."""
    out = interpolate(face(yaw=170.0), face(yaw=-170.0), 0.5, 0.0)
    assert abs(out.yaw) == pytest.approx(180.0)
    out = interpolate(face(yaw=170.0), face(yaw=-170.0), 0.25, 0.0)
    assert out.yaw == pytest.approx(175.0)


def test_presence_comes_from_the_nearer_frame() -> None:
    """A face does not half-appear: before the midpoint it is absent, after it present."""
    gone, back = face(present=False), face(jaw=0.8)
    assert interpolate(gone, back, 0.4, 0.0).present is False
    assert interpolate(gone, back, 0.6, 0.0).present is True


weights = st.tuples(*[st.floats(0.0, 1.0)] * COUNT)
angles = st.floats(-180.0, 180.0)


@settings(max_examples=100, deadline=None)
@given(weights, weights, angles, angles, st.floats(-90, 90), st.floats(-90, 90), st.floats(-1, 2))
def test_interpolation_always_gives_a_valid_sample_between_its_ends(
    wa: tuple[float, ...],
    wb: tuple[float, ...],
    ya: float,
    yb: float,
    pa: float,
    pb: float,
    alpha: float,
) -> None:
    """Any two valid faces blend into a valid face whose weights lie between theirs."""
    a = FaceSample(t=0.0, blendshapes=wa, yaw=ya, pitch=pa, roll=ya)
    b = FaceSample(t=0.0, blendshapes=wb, yaw=yb, pitch=pb, roll=yb)
    out = interpolate(a, b, alpha, 1.0)
    for x, y, w in zip(wa, wb, out.blendshapes, strict=True):
        assert min(x, y) - 1e-9 <= w <= max(x, y) + 1e-9
    assert min(pa, pb) - 1e-9 <= out.pitch <= max(pa, pb) + 1e-9
