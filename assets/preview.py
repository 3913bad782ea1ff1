"""Offscreen Panda3D rendering of the built models, for the contact sheet and the tests.

Uses Panda3D's headless EGL display (Mesa llvmpipe on a machine without a GPU),
plain fixed-function lighting (an ambient fill and one key light), and an
opaque background. Only one :class:`Preview` (one ShowBase) may exist at a time.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import numpy as np
import numpy.typing as npt

BACKGROUND: Final[tuple[float, float, float]] = (0.86, 0.90, 0.96)
"""Opaque clear colour (Panda's default alpha of 0 would make screenshots transparent)."""
AMBIENT: Final[float] = 0.62
"""Ambient light level: high, for a flat, toon-like look."""
KEY: Final[float] = 0.48
"""Key light level, from above and slightly to the side of the camera."""

PRC: Final[str] = (
    "load-display p3headlessgl\n"
    "window-type offscreen\n"
    "notify-level-device fatal\n"
    "notify-level-glgsg warning\n"
    "audio-library-name null\n"
    "sync-video false\n"
    "framebuffer-multisample 0\n"
)

Image = npt.NDArray[np.uint8]


class Preview:
    """One offscreen ShowBase with lights and a camera; load actors, pose them, take pictures."""

    def __init__(self, width: int = 384, height: int = 384) -> None:
        os.environ.setdefault("EGL_PLATFORM", "surfaceless")
        from panda3d.core import (
            AmbientLight,
            DirectionalLight,
            loadPrcFileData,
        )

        loadPrcFileData("convex-preview", PRC + f"win-size {width} {height}\n")
        from direct.showbase.ShowBase import ShowBase

        self.base: Any = ShowBase(windowType="offscreen")
        self.base.disableMouse()
        self.base.setBackgroundColor(*BACKGROUND, 1.0)
        self.width, self.height = width, height
        render = self.base.render
        ambient = AmbientLight("ambient")
        ambient.setColor((AMBIENT, AMBIENT, AMBIENT, 1.0))
        render.setLight(render.attachNewNode(ambient))
        key = DirectionalLight("key")
        key.setColor((KEY, KEY, KEY * 0.97, 1.0))
        key_np = render.attachNewNode(key)
        key_np.setHpr(18.0, -28.0, 0.0)
        render.setLight(key_np)
        self.base.camLens.setFov(24.0)
        self.base.camLens.setNearFar(0.05, 100.0)
        self._actors: list[Any] = []

    def __enter__(self) -> Preview:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Tear the ShowBase down so that another one can be made."""
        for actor in self._actors:
            actor.cleanup()
            actor.removeNode()
        self._actors.clear()
        self.base.destroy()

    def load(
        self, path: Path, *, pos: tuple[float, float, float] = (0.0, 0.0, 0.0), h: float = 0.0
    ) -> Any:
        """Load a GLB as an Actor under render."""
        from direct.actor.Actor import Actor

        actor = Actor(str(path))
        actor.reparentTo(self.base.render)
        actor.setPos(*pos)
        actor.setH(h)
        self._actors.append(actor)
        return actor

    def unload(self, actor: Any) -> None:
        """Remove an actor loaded with :meth:`load`."""
        self._actors.remove(actor)
        actor.cleanup()
        actor.removeNode()

    @staticmethod
    def pose(
        actor: Any,
        sliders: Mapping[str, float],
        joints: Mapping[str, tuple[float, float, float]] | None = None,
    ) -> None:
        """Set morph sliders (others go back to 0) and joint HPRs (degrees) on an actor."""
        controls: dict[str, Any] = actor.__dict__.setdefault("_convex_controls", {})
        for name in list(controls):
            if name not in sliders and not (joints and name in joints):
                node = controls[name]
                if node.getTag("kind") == "slider":
                    node.setX(0.0)
                else:
                    node.setHpr(0.0, 0.0, 0.0)
        for name, weight in sliders.items():
            node = controls.get(name)
            if node is None:
                node = actor.controlJoint(None, "modelRoot", name)
                if node is None:
                    raise KeyError(f"the model has no slider {name!r}")
                node.setTag("kind", "slider")
                controls[name] = node
            node.setX(weight)
        for name, hpr in (joints or {}).items():
            node = controls.get(name)
            if node is None:
                node = actor.controlJoint(None, "modelRoot", name)
                if node is None:
                    raise KeyError(f"the model has no joint {name!r}")
                node.setTag("kind", "joint")
                controls[name] = node
            node.setHpr(*hpr)

    def look_at(self, eye: tuple[float, float, float], target: tuple[float, float, float]) -> None:
        """Place the camera (Panda axes: Z up, models face -Y)."""
        self.base.camera.setPos(*eye)
        self.base.camera.lookAt(*target)

    def snapshot(self) -> Image:
        """Render (two frames, so slider changes show) and return the picture as (h, w, 3) RGB."""
        engine = self.base.graphicsEngine
        engine.renderFrame()
        engine.renderFrame()
        tex = self.base.win.getScreenshot()
        data = bytes(tex.getRamImageAs("RGB"))
        image = np.frombuffer(data, dtype=np.uint8).reshape(tex.getYSize(), tex.getXSize(), 3)
        return np.ascontiguousarray(image[::-1])

    def project(self, point: tuple[float, float, float]) -> tuple[float, float] | None:
        """Pixel (column, row) of a world point (Panda axes), or None when off screen."""
        from panda3d.core import Point2, Point3

        cam = self.base.cam
        p = cam.getRelativePoint(self.base.render, Point3(*point))
        out = Point2()
        if not self.base.camLens.project(p, out):
            return None
        return ((out.x + 1.0) * 0.5 * self.width, (1.0 - out.y) * 0.5 * self.height)


def changed_mask(a: Image, b: Image, threshold: int = 24) -> npt.NDArray[np.bool_]:
    """Pixels whose colour differs between two pictures by more than ``threshold`` (RGB sum)."""
    diff = np.abs(a.astype(np.int64) - b.astype(np.int64)).sum(axis=2)
    mask: npt.NDArray[np.bool_] = diff > threshold
    return mask
