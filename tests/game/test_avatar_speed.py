"""The avatar's load-time speed-ups (baked colours, numpy morphing) draw the same pixels."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from game.avatar.driver import AvatarDriver
from game.avatar.mapping import AvatarMode
from game.avatar.models import avatar_path
from game.avatar.rig import AvatarRig
from shared.blendshapes import ARKIT_NAMES, COUNT
from shared.face import FaceSample

Image = npt.NDArray[np.int16]
SIZE = 256
CHANGED = 24
"""Summed RGB difference above which a pixel counts as changed."""

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@dataclass
class Stage:
    """One offscreen ShowBase with the game's lights and a face close-up camera."""

    base: Any
    font: Any

    def snapshot(self) -> Image:
        engine = self.base.graphicsEngine
        engine.renderFrame()
        engine.renderFrame()
        tex = self.base.win.getScreenshot()
        data = np.frombuffer(bytes(tex.getRamImageAs("RGB")), np.uint8)
        return data.reshape(tex.getYSize(), tex.getXSize(), 3).astype(np.int16)


@pytest.fixture(scope="module")
def stage() -> Iterator[Stage]:
    """The module's only ShowBase, destroyed after the last test."""
    from panda3d.core import AmbientLight, DirectionalLight, loadPrcFileData, unloadPrcFile

    from game.config import PRC_COMMON, PRC_OFFSCREEN, apply_offscreen_env
    from game.hud.text import load_font

    apply_offscreen_env()
    page = loadPrcFileData(
        "test-avatar-speed",
        PRC_COMMON + PRC_OFFSCREEN + f"win-size {SIZE} {SIZE}\nmultisamples 0\n",
    )
    from direct.showbase.ShowBase import ShowBase

    base = ShowBase(windowType="offscreen")
    try:
        base.disableMouse()
        base.setBackgroundColor(0.86, 0.90, 0.96, 1.0)
        ambient = AmbientLight("ambient")
        ambient.setColor((0.62, 0.62, 0.62, 1.0))
        base.render.setLight(base.render.attachNewNode(ambient))
        key = DirectionalLight("key")
        key.setColor((0.48, 0.48, 0.48, 1.0))
        key_np = base.render.attachNewNode(key)
        key_np.setHpr(18.0, -28.0, 0.0)
        base.render.setLight(key_np)
        base.camLens.setMinFov(24.0)
        base.camera.setPos(0.3, -1.9, 0.75)
        base.camera.lookAt(0.0, 0.0, 0.62)
        yield Stage(base, load_font(base.loader))
    finally:
        base.destroy()
        unloadPrcFile(page)


def poses() -> list[FaceSample]:
    """Neutral, then mixes of all 52 shapes with head turns (every target and joint moves)."""
    out = [FaceSample(t=0.0, blendshapes=(0.0,) * COUNT)]
    for j in range(1, 4):
        weights = tuple(0.5 + 0.5 * math.sin(0.9 * i + 1.7 * j) for i in range(COUNT))
        out.append(FaceSample(t=float(j), blendshapes=weights, yaw=15.0 * j - 30.0, pitch=5.0))
    return out


def pictures(stage: Stage, preset: str, *, fast: bool) -> list[Image]:
    rig = AvatarRig(
        avatar_path(preset),
        stage.base.render,
        font=stage.font,
        vector_morphs=fast,
        bake_colours=fast,
    )
    try:
        driver = AvatarDriver(rig, mirror=False, smoothing=False)
        shots = []
        for sample in poses():
            driver.update(sample, AvatarMode.LIVE, 1.0 / 30.0)
            shots.append(stage.snapshot())
        return shots
    finally:
        rig.destroy()


@pytest.mark.parametrize("preset", ["mika", "ada"])
def test_fast_load_draws_what_panda_morphing_draws(stage: Stage, preset: str) -> None:
    """Baked colours + numpy morphing give Panda3D's own picture in every pose (±1 level)."""
    plain = pictures(stage, preset, fast=False)
    fast = pictures(stage, preset, fast=True)
    assert (np.abs(plain[1] - plain[0]).sum(axis=2) > CHANGED).mean() > 0.05  # the poses differ
    for a, b in zip(plain, fast, strict=True):
        diff = np.abs(a - b).sum(axis=2)
        assert (diff > CHANGED).sum() <= 3, "more than a stray depth-tie pixel differs"
        assert np.median(diff) == 0


def test_bank_takes_over_and_skips_unchanged_frames(stage: Stage) -> None:
    """The morph columns leave the vertex data; an unchanged face is not re-morphed."""
    from panda3d.core import CullFaceAttrib

    rig = AvatarRig(avatar_path("mika"), stage.base.render, font=stage.font)
    try:
        [bank] = rig.morph_banks
        assert bank.active and sorted(bank.targets) == sorted(ARKIT_NAMES)
        geoms = [
            (np_.node(), i)
            for np_ in rig.actor.findAllMatches("**/+GeomNode")
            for i in range(np_.node().getNumGeoms())
        ]
        assert len(geoms) <= 6
        for node, i in geoms:
            assert node.getGeom(i).getVertexData().getFormat().getNumMorphs() == 0
        assert any(node.getGeomState(i).hasAttrib(CullFaceAttrib) for node, i in geoms)
        driver = AvatarDriver(rig, mirror=False, smoothing=False)
        driver.update(poses()[1], AvatarMode.LIVE, 1.0 / 30.0)
        stage.snapshot()
        done = bank.updates
        stage.snapshot()
        assert bank.updates == done
        driver.update(poses()[2], AvatarMode.LIVE, 1.0 / 30.0)
        stage.snapshot()
        assert bank.updates == done + 1
    finally:
        rig.destroy()
