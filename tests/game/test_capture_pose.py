"""Tests for game.capture.pose: MediaPipe's head matrix to yaw/pitch/roll, shared.face's signs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from game.capture.pose import PoseMatrixError, matrix_from_pose, pose_from_matrix

yaws = st.floats(min_value=-170.0, max_value=170.0)
pitches = st.floats(min_value=-80.0, max_value=80.0)
rolls = st.floats(min_value=-170.0, max_value=170.0)


def test_identity_is_frontal() -> None:
    """The identity rotation is a face looking straight into the camera: all angles zero."""
    pose = pose_from_matrix(np.eye(4))
    assert (pose.yaw, pose.pitch, pose.roll) == (0.0, 0.0, 0.0)


def test_nose_towards_image_right_is_positive_yaw() -> None:
    """A face whose nose (+z) turns to the image's right (+x, the subject's left) has yaw > 0."""
    a = math.radians(30)
    turned: list[list[float]] = [
        [math.cos(a), 0, math.sin(a)],
        [0, 1, 0],
        [-math.sin(a), 0, math.cos(a)],
    ]
    assert pose_from_matrix(turned).yaw == pytest.approx(30.0)


def test_nose_up_is_positive_pitch() -> None:
    """A face whose nose tilts up (+y, chin up) has pitch > 0."""
    a = math.radians(20)
    # Rotation about +x by -a sends +z towards +y.
    tilted: list[list[float]] = [
        [1, 0, 0],
        [0, math.cos(a), math.sin(a)],
        [0, -math.sin(a), math.cos(a)],
    ]
    assert pose_from_matrix(tilted).pitch == pytest.approx(20.0)


def test_head_top_towards_subjects_left_is_positive_roll() -> None:
    """A face whose top (+y) leans towards +x (the subject's left shoulder) has roll > 0."""
    a = math.radians(15)
    # Rotation about +z by -a sends +y towards +x (clockwise on screen).
    leaning: list[list[float]] = [
        [math.cos(a), math.sin(a), 0],
        [-math.sin(a), math.cos(a), 0],
        [0, 0, 1],
    ]
    assert pose_from_matrix(leaning).roll == pytest.approx(15.0)


@settings(max_examples=200, deadline=None)
@given(yaws, pitches, rolls)
def test_round_trip(yaw: float, pitch: float, roll: float) -> None:
    """pose_from_matrix inverts matrix_from_pose away from the ±90° pitch singularity."""
    pose = pose_from_matrix(matrix_from_pose(yaw, pitch, roll))
    assert pose.yaw == pytest.approx(yaw, abs=1e-6)
    assert pose.pitch == pytest.approx(pitch, abs=1e-6)
    assert pose.roll == pytest.approx(roll, abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(yaws, pitches, rolls, st.floats(min_value=0.5, max_value=50.0))
def test_scale_and_translation_are_ignored(yaw: float, pitch: float, roll: float, s: float) -> None:
    """A 4×4 matrix with uniform scale and a translation gives the rotation's angles."""
    m = np.eye(4)
    m[:3, :3] = s * np.array(matrix_from_pose(yaw, pitch, roll))
    m[:3, 3] = (3.0, -20.0, -70.0)
    pose = pose_from_matrix(m)
    assert (pose.yaw, pose.pitch, pose.roll) == pytest.approx((yaw, pitch, roll), abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(yaws, pitches, rolls)
def test_mirroring_negates_yaw_and_roll(yaw: float, pitch: float, roll: float) -> None:
    """Mirroring the image (x → -x on both sides of the rotation) negates yaw and roll only."""
    flip = np.diag([-1.0, 1.0, 1.0])
    mirrored = flip @ np.array(matrix_from_pose(yaw, pitch, roll)) @ flip
    pose = pose_from_matrix(mirrored)
    assert (pose.yaw, pose.pitch, pose.roll) == pytest.approx((-yaw, pitch, -roll), abs=1e-6)


@pytest.mark.parametrize(
    "bad",
    [
        [[1, 0], [0, 1]],
        [[0, 0, 0], [0, 1, 0], [0, 0, 1]],
        [[math.nan, 0, 0], [0, 1, 0], [0, 0, 1]],
    ],
)
def test_bad_matrices_are_refused(bad: list[list[float]]) -> None:
    """A matrix that is too small, degenerate or not finite raises PoseMatrixError."""
    with pytest.raises(PoseMatrixError):
        pose_from_matrix(bad)
