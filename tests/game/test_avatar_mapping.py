"""From samples to avatar controls: the mirror swap, slider plans, head and eye angles."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from game.avatar.mapping import (
    AvatarMode,
    avatar_weights,
    eye_hpr,
    head_hpr,
    shape_vector,
    slider_plan,
    split_hpr,
)
from game.config import HEAD_LIMITS_DEG, NECK_SHARE
from shared.blendshapes import ARKIT_NAMES, COUNT, INDEX
from shared.face import FaceSample


def sample_with(**weights: float) -> FaceSample:
    """A sample with the named blendshapes set."""
    values = [0.0] * COUNT
    for name, w in weights.items():
        values[INDEX[name]] = w
    return FaceSample(t=0.0, blendshapes=tuple(values))


def test_full_model_drives_every_tracked_name_and_misses_nothing() -> None:
    """A model with all 52 ARKit names gets 51 driven sliders (not tongueOut) and no missing ones."""
    plan = slider_plan(ARKIT_NAMES)
    assert len(plan.names) == 51 and "tongueOut" not in plan.names
    assert plan.missing == ()
    assert [INDEX[n] for n in plan.names] == list(plan.slots)


def test_missing_names_are_listed_in_arkit_order() -> None:
    """Absent targets (tongueOut included) are reported, in ARKit order."""
    available = set(ARKIT_NAMES) - {"cheekPuff", "browDownLeft", "tongueOut"}
    plan = slider_plan(available)
    assert plan.missing == ("browDownLeft", "cheekPuff", "tongueOut")
    assert "cheekPuff" not in plan.names


def test_mirror_moves_a_left_shape_to_the_avatars_right() -> None:
    """Mirrored, the student's eyeBlinkLeft closes the avatar's right eye (the screen's left)."""
    w = avatar_weights(sample_with(eyeBlinkLeft=0.8, jawOpen=0.5), mirror=True)
    assert w[INDEX["eyeBlinkRight"]] == 0.8 and w[INDEX["eyeBlinkLeft"]] == 0.0
    assert w[INDEX["jawOpen"]] == 0.5


def test_without_mirror_shapes_stay_on_their_own_side() -> None:
    """Unmirrored (a face-to-face view), eyeBlinkLeft stays on the avatar's left."""
    w = avatar_weights(sample_with(eyeBlinkLeft=0.8), mirror=False)
    assert w[INDEX["eyeBlinkLeft"]] == 0.8 and w[INDEX["eyeBlinkRight"]] == 0.0


@pytest.mark.parametrize(
    ("mirror", "expected"),
    [(True, (-20.0, -10.0, 5.0)), (False, (20.0, -10.0, -5.0))],
)
def test_head_angles_follow_panda_conventions(
    mirror: bool, expected: tuple[float, float, float]
) -> None:
    """Yaw and roll flip sign in the mirror; chin-up pitch is a negative Panda P either way."""
    assert head_hpr(20.0, 10.0, 5.0, mirror=mirror) == expected


def test_head_angles_are_clamped_to_the_avatars_range() -> None:
    """Extreme poses stop at the avatar's limits."""
    h, p, r = head_hpr(170.0, -85.0, 120.0, mirror=False)
    assert (abs(h), abs(p), abs(r)) == HEAD_LIMITS_DEG


def test_neck_and_head_share_the_rotation() -> None:
    """Neck and head parts add up to the whole rotation; the neck takes NECK_SHARE of it."""
    neck, head = split_hpr((30.0, -12.0, 6.0))
    assert np.allclose(np.add(neck, head), (30.0, -12.0, 6.0))
    assert neck[0] == pytest.approx(30.0 * NECK_SHARE)


def test_eye_joints_turn_outward_and_up() -> None:
    """Looking out turns the left eye to +H and the right eye to -H; looking up is negative P."""
    w = avatar_weights(
        sample_with(eyeLookOutLeft=1.0, eyeLookOutRight=1.0, eyeLookUpLeft=1.0), mirror=False
    )
    left, right = eye_hpr(w, "Left"), eye_hpr(w, "Right")
    assert left[0] > 0 > right[0]
    assert left[1] < 0 and right[1] == 0
    with pytest.raises(ValueError):
        eye_hpr(w, "Middle")


def test_shape_vector_sets_only_the_named_shapes() -> None:
    """A named-shape dictionary becomes 52 weights with zeros elsewhere."""
    v = shape_vector({"jawOpen": 0.3})
    assert v[INDEX["jawOpen"]] == 0.3 and v.sum() == pytest.approx(0.3)


def test_modes_are_the_three_the_scene_uses() -> None:
    """Live, frozen and asleep are the avatar's modes."""
    assert {m.value for m in AvatarMode} == {"live", "frozen", "asleep"}


class _FakeJoint:
    """A joint with a rest transform and a net transform, as Panda3D's CharacterJoint reports them."""

    def __init__(self, rest: Any, parent_net: Any) -> None:
        self.rest = rest
        self.net = rest * parent_net

    def getDefaultValue(self) -> Any:
        return self.rest

    def getNetTransform(self, out: Any) -> None:
        out.assign(self.net)


@pytest.mark.parametrize("identity_rest", [True, False])
def test_joint_rotation_is_applied_in_model_axes(identity_rest: bool) -> None:
    """A joint turned by R ends up oriented as rest · parent · R, whatever its rest rotation."""
    from panda3d.core import LMatrix4f, LVector3f, NodePath, TransformState

    from game.avatar.rig import JointControl

    def rot(h: float, p: float, r: float) -> Any:
        return TransformState.makeHpr((h, p, r)).getMat()

    rest = (
        TransformState.makePos((0, 0, 0.1)).getMat()
        if identity_rest
        else TransformState.makePosHpr((0, 0, 0.1), (90, 20, 0)).getMat()
    )
    parent = LMatrix4f.identMat() if identity_rest else rot(-30, 0, 15)
    joint = _FakeJoint(rest, parent)
    node = NodePath("control")
    node.setMat(rest)

    class Actor:
        def controlJoint(self, _node: object, _part: str, _name: str) -> NodePath:
            return node

    class Bundle:
        def findChild(self, _name: str) -> _FakeJoint:
            return joint

    control = JointControl(Actor(), Bundle(), "head")
    control.set_hpr(25.0, -10.0, 5.0)
    got = node.getMat() * parent
    want = rest * parent * rot(25.0, -10.0, 5.0)
    for axis in (LVector3f(1, 0, 0), LVector3f(0, 1, 0), LVector3f(0, 0, 1)):
        assert (got.xformVec(axis) - want.xformVec(axis)).length() < 1e-4
    assert node.getPos().almostEqual(rest.getRow3(3), 1e-5)
