"""The avatar in real Panda3D offscreen: it loads, exposes 52 sliders, and each shape shows where it should."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assets.gltf import GlbFile
from assets.preview import BACKGROUND, Image, Preview, changed_mask
from shared.blendshapes import ARKIT_NAMES

CAMERA = ((0.0, -1.6, 0.70), (0.0, 0.0, 0.66))
"""A head-and-shoulders close-up (Panda axes: Z up, the avatar faces -Y)."""
MARGIN = 14.0
"""Pixels added around the projected moving vertices to make the expected region."""


@pytest.fixture(scope="module")
def scene(
    preview: Preview, hero_bytes: bytes, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Preview, Any, Image]:
    """The hero avatar loaded as an Actor in front of the camera, and its neutral picture."""
    path = tmp_path_factory.mktemp("avatar") / "hero.glb"
    path.write_bytes(hero_bytes)
    actor = preview.load(path)
    preview.look_at(*CAMERA)
    preview.pose(actor, {})
    return preview, actor, preview.snapshot()


def _panda(points: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """glTF (Y up, +Z forward) to Panda (Z up, -Y forward) coordinates."""
    return np.stack([points[:, 0], -points[:, 2], points[:, 1]], axis=-1)


def _region(pv: Preview, hero: GlbFile, name: str) -> tuple[float, float, float, float]:
    """Pixel box (x0, y0, x1, y1) around where a target's strongest moves happen."""
    rest = np.concatenate([r for r, _ in hero.targets()[name]])
    delta = np.concatenate([d for _, d in hero.targets()[name]])
    size = np.linalg.norm(delta, axis=1)
    strong = size >= 0.4 * size.max()
    pts = _panda(np.concatenate([rest[strong], rest[strong] + delta[strong]]))
    pixels = [pv.project((float(x), float(y), float(z))) for x, y, z in pts]
    xy = np.asarray([p for p in pixels if p is not None])
    return (
        xy[:, 0].min() - MARGIN,
        xy[:, 1].min() - MARGIN,
        xy[:, 0].max() + MARGIN,
        xy[:, 1].max() + MARGIN,
    )


def test_loads_with_the_plain_loader(preview: Preview, hero_bytes: bytes, tmp_path: Path) -> None:
    """loader.loadModel reads the GLB into a node tree with an animated Character."""
    path = tmp_path / "plain.glb"
    path.write_bytes(hero_bytes)
    model = preview.base.loader.loadModel(str(path))
    assert not model.find("**/+Character").isEmpty()
    model.removeNode()


def test_all_52_sliders_and_the_joints_are_drivable(scene: tuple[Preview, Any, Image]) -> None:
    """Every ARKit name is a slider and every joint can be controlled, via controlJoint."""
    _, actor, _ = scene
    for name in ARKIT_NAMES:
        assert actor.controlJoint(None, "modelRoot", name) is not None, name
    for joint in ("root", "spine", "neck", "head", "eye_L", "eye_R"):
        assert actor.controlJoint(None, "modelRoot", joint) is not None, joint
    actor.releaseJoint("modelRoot", "head")


def test_neutral_render_is_not_blank(scene: tuple[Preview, Any, Image]) -> None:
    """The neutral picture shows a sizeable avatar in several distinct colours."""
    _, _, neutral = scene
    background = np.asarray(BACKGROUND) * 255.0
    off = np.abs(neutral.astype(np.float64) - background).sum(axis=2) > 30
    assert off.mean() > 0.35
    colours = {tuple(c // 32) for c in neutral.reshape(-1, 3)}
    assert len(colours) >= 12


SHAPES = [
    "eyeBlinkLeft",
    "jawOpen",
    "mouthSmileLeft",
    "browDownLeft",
    "cheekPuff",
    "eyeLookOutLeft",
]


@pytest.mark.parametrize("name", SHAPES)
def test_shape_changes_pixels_where_it_should(
    scene: tuple[Preview, Any, Image], hero: GlbFile, name: str
) -> None:
    """Setting one slider changes pixels, and mostly inside the region its vertices move in."""
    pv, actor, neutral = scene
    pv.pose(actor, {name: 1.0})
    posed = pv.snapshot()
    pv.pose(actor, {})
    mask = changed_mask(neutral, posed)
    assert mask.sum() >= 40, f"{name} changed only {mask.sum()} pixels"
    x0, y0, x1, y1 = _region(pv, hero, name)
    rows, cols = np.nonzero(mask)
    inside = (cols >= x0) & (cols <= x1) & (rows >= y0) & (rows <= y1)
    assert inside.mean() >= 0.85, f"{name}: only {inside.mean():.0%} of the change is in its region"
    if name.endswith("Left"):
        # The avatar faces the camera, so the subject's left is the picture's right half.
        assert cols.mean() > pv.width / 2


def test_reset_returns_to_neutral(scene: tuple[Preview, Any, Image]) -> None:
    """After a shape is set and cleared, the picture is the neutral one again."""
    pv, actor, neutral = scene
    pv.pose(actor, {"jawOpen": 1.0})
    pv.snapshot()
    pv.pose(actor, {})
    assert changed_mask(neutral, pv.snapshot()).sum() == 0


def test_head_joint_turns_the_head(scene: tuple[Preview, Any, Image]) -> None:
    """Turning the head joint moves the picture (the skeleton drives the skinned meshes)."""
    pv, actor, neutral = scene
    pv.pose(actor, {}, {"head": (30.0, 0.0, 0.0)})
    turned = pv.snapshot()
    pv.pose(actor, {}, {"head": (0.0, 0.0, 0.0)})
    assert changed_mask(neutral, turned).mean() > 0.05
