"""The avatar rendered offscreen (EGL, software GL): every shape shows where it should, and more."""

from __future__ import annotations

import dataclasses
import json
import logging
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from game.avatar.driver import AvatarDriver
from game.avatar.mapping import AvatarMode
from game.avatar.models import avatar_path
from game.avatar.rig import AvatarLoadError, AvatarRig
from game.config import SHAPE_DEAD_ZONE, SLEEP_EASE_S, SLIDER_EPSILON
from shared.blendshapes import COUNT, INDEX
from shared.face import FaceSample

Image = npt.NDArray[np.uint8]
SIZE = 320
DT = 1.0 / 30.0
CHANGED = 24
"""Summed RGB difference above which a pixel counts as changed."""

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def sample(t: float = 0.0, *, yaw: float = 0.0, **weights: float) -> FaceSample:
    """A face sample with the named blendshapes set."""
    values = [0.0] * COUNT
    for name, w in weights.items():
        values[INDEX[name]] = w
    return FaceSample(t=t, blendshapes=tuple(values), yaw=yaw)


@dataclass
class Stage:
    """One offscreen ShowBase with lights and a face close-up camera."""

    base: Any
    font: Any

    def load(self, path: Path, *, mirror: bool) -> tuple[AvatarRig, AvatarDriver]:
        rig = AvatarRig(path, self.base.render, font=self.font)
        return rig, AvatarDriver(rig, mirror=mirror)

    def snapshot(self) -> Image:
        engine = self.base.graphicsEngine
        engine.renderFrame()
        engine.renderFrame()
        tex = self.base.win.getScreenshot()
        data = bytes(tex.getRamImageAs("RGB"))
        image = np.frombuffer(data, np.uint8).reshape(tex.getYSize(), tex.getXSize(), 3)
        return np.ascontiguousarray(image[::-1])

    def project(self, point: tuple[float, float, float]) -> tuple[float, float]:
        from panda3d.core import Point2, Point3

        p = self.base.cam.getRelativePoint(self.base.render, Point3(*point))
        out = Point2()
        assert self.base.camLens.project(p, out), f"{point} is off screen"
        return ((out.x + 1.0) * 0.5 * SIZE, (1.0 - out.y) * 0.5 * SIZE)


@pytest.fixture(scope="module")
def stage() -> Iterator[Stage]:
    """The module's only ShowBase (one at a time), destroyed after the last test."""
    from panda3d.core import AmbientLight, DirectionalLight, loadPrcFileData, unloadPrcFile

    from game.config import PRC_COMMON, PRC_OFFSCREEN, apply_offscreen_env
    from game.hud.text import load_font

    apply_offscreen_env()
    page = loadPrcFileData(
        "test-avatar", PRC_COMMON + PRC_OFFSCREEN + f"win-size {SIZE} {SIZE}\nmultisamples 0\n"
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
        base.camLens.setNearFar(0.05, 100.0)
        base.camera.setPos(0.0, -1.75, 0.70)
        base.camera.lookAt(0.0, 0.0, 0.655)
        yield Stage(base, load_font(base.loader))
    finally:
        base.destroy()
        unloadPrcFile(page)


@pytest.fixture(scope="module")
def mika() -> Path:
    """Our generated avatar (committed, or built once into the cache)."""
    return avatar_path("mika")


@pytest.fixture
def avatar(stage: Stage, mika: Path) -> Iterator[tuple[AvatarRig, AvatarDriver]]:
    """A fresh, unmirrored avatar (so the avatar's own left is the screen's right)."""
    rig, driver = stage.load(mika, mirror=False)
    yield rig, driver
    rig.destroy()


def joint_position(rig: AvatarRig, name: str) -> tuple[float, float, float]:
    """A joint's rest position in scene coordinates (the actor sits at the origin)."""
    from panda3d.core import LMatrix4f

    m = LMatrix4f()
    rig.actor.getPartBundle("modelRoot").findChild(name).getNetTransform(m)
    row = m.getRow3(3)
    return (row[0], row[1], row[2])


@dataclass(frozen=True)
class Face:
    """Pixel landmarks of the rendered face: the eyes and their distance."""

    left_eye: tuple[float, float]
    right_eye: tuple[float, float]

    @property
    def d(self) -> float:
        return abs(self.left_eye[0] - self.right_eye[0])

    @property
    def centre_x(self) -> float:
        return (self.left_eye[0] + self.right_eye[0]) / 2

    @property
    def eye_y(self) -> float:
        return self.left_eye[1]


def face_of(stage: Stage, rig: AvatarRig) -> Face:
    """Where the eye joints project on screen."""
    return Face(
        stage.project(joint_position(rig, "eye_L")), stage.project(joint_position(rig, "eye_R"))
    )


Box = tuple[float, float, float, float]
"""x0, y0, x1, y1 in pixels."""

REGIONS: dict[str, Callable[[Face], Box]] = {
    "eyeBlinkLeft": lambda f: (f.left_eye[0] - 0.5 * f.d, f.eye_y - 0.55 * f.d,
                               f.left_eye[0] + 0.5 * f.d, f.eye_y + 0.5 * f.d),
    "eyeLookOutLeft": lambda f: (f.left_eye[0] - 0.5 * f.d, f.eye_y - 0.5 * f.d,
                                 f.left_eye[0] + 0.5 * f.d, f.eye_y + 0.5 * f.d),
    "browDownLeft": lambda f: (f.left_eye[0] - 0.6 * f.d, f.eye_y - 1.1 * f.d,
                               f.left_eye[0] + 0.6 * f.d, f.eye_y + 0.15 * f.d),
    "mouthSmileLeft": lambda f: (f.centre_x - 0.15 * f.d, f.eye_y - 0.45 * f.d,
                                 f.centre_x + 1.4 * f.d, f.eye_y + 1.5 * f.d),
    "jawOpen": lambda f: (f.centre_x - 1.2 * f.d, f.eye_y + 0.4 * f.d,
                          f.centre_x + 1.2 * f.d, f.eye_y + 2.6 * f.d),
    "cheekPuff": lambda f: (f.centre_x - 1.8 * f.d, f.eye_y - 0.4 * f.d,
                            f.centre_x + 1.8 * f.d, f.eye_y + 2.4 * f.d),
}  # fmt: skip
"""Where each shape may change pixels (the avatar's own left is the screen's right here).

A smile lifts the cheek into the lower lid and a puffed cheek pushes both lower lids up, so
those regions reach up to the eyes.
"""


def changed_mask(a: Image, b: Image) -> npt.NDArray[np.bool_]:
    """Pixels whose colour changed noticeably between two pictures."""
    diff: npt.NDArray[np.int64] = np.abs(a.astype(np.int64) - b.astype(np.int64)).sum(axis=-1)
    return np.asarray(diff > CHANGED, dtype=np.bool_)


def share_inside(mask: npt.NDArray[np.bool_], box: Box) -> float:
    ys, xs = np.nonzero(mask)
    x0, y0, x1, y1 = box
    inside = (xs >= x0) & (xs <= x1) & (ys >= y0) & (ys <= y1)
    return float(inside.mean())


def show(driver: AvatarDriver, s: FaceSample, mode: AvatarMode = AvatarMode.LIVE) -> None:
    driver.update(s, mode, DT)


def test_neutral_render_is_not_blank(stage: Stage, avatar: tuple[AvatarRig, AvatarDriver]) -> None:
    """The neutral avatar fills a good part of the picture with varied colours."""
    _rig, driver = avatar
    show(driver, sample())
    image = stage.snapshot()
    background = np.array([0.86, 0.90, 0.96]) * 255
    not_background = np.abs(image - background).sum(axis=-1) > 30
    assert not_background.mean() > 0.4
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 200


@pytest.mark.parametrize(
    ("shape", "weight", "min_changed"),
    [
        ("eyeBlinkLeft", 1.0, 150),
        ("jawOpen", 1.0, 150),
        ("mouthSmileLeft", 1.0, 20),
        ("browDownLeft", 1.0, 40),
        ("cheekPuff", 1.0, 40),
        ("eyeLookOutLeft", 1.0, 30),
    ],
)
def test_each_shape_changes_its_own_region_of_the_face(
    stage: Stage,
    avatar: tuple[AvatarRig, AvatarDriver],
    shape: str,
    weight: float,
    min_changed: int,
) -> None:
    """The shape changes pixels, and almost all of them inside the region it belongs to."""
    rig, driver = avatar
    show(driver, sample(0.0))
    neutral = stage.snapshot()
    show(driver, sample(1.0, **{shape: weight}))
    posed = stage.snapshot()
    mask = changed_mask(neutral, posed)
    assert mask.sum() >= min_changed, f"{shape} changed only {mask.sum()} pixels"
    face = face_of(stage, rig)
    assert share_inside(mask, REGIONS[shape](face)) >= 0.9
    if shape.endswith("Left"):
        # The avatar's own left is the screen's right when not mirrored.
        xs = np.nonzero(mask)[1]
        assert (xs > face.centre_x).mean() >= 0.9


def test_mirror_puts_a_left_wink_on_the_screens_left(stage: Stage, mika: Path) -> None:
    """Mirrored, the student's left wink closes the eye on the left of the screen."""
    rig, driver = stage.load(mika, mirror=True)
    try:
        show(driver, sample(0.0))
        neutral = stage.snapshot()
        show(driver, sample(1.0, eyeBlinkLeft=1.0))
        mask = changed_mask(neutral, stage.snapshot())
        face = face_of(stage, rig)
        xs = np.nonzero(mask)[1]
        assert mask.sum() >= 150 and (xs < face.centre_x).mean() >= 0.9
    finally:
        rig.destroy()


def test_head_yaw_turns_the_face_the_mirror_way(stage: Stage, mika: Path) -> None:
    """A yaw to the student's own left changes the image and turns the nose to the screen's left."""
    from panda3d.core import Point3

    rig, driver = stage.load(mika, mirror=True)
    try:
        head = rig.actor.exposeJoint(None, "modelRoot", "head")
        show(driver, sample(0.0))
        neutral = stage.snapshot()
        nose0 = stage.project(tuple(stage.base.render.getRelativePoint(head, Point3(0, -0.3, 0))))
        show(driver, sample(1.0, yaw=30.0))
        turned = stage.snapshot()
        nose1 = stage.project(tuple(stage.base.render.getRelativePoint(head, Point3(0, -0.3, 0))))
        assert changed_mask(neutral, turned).mean() > 0.05
        assert nose1[0] < nose0[0] - 5
    finally:
        rig.destroy()


def test_asleep_pose_differs_visibly_and_shows_zzz(
    stage: Stage, avatar: tuple[AvatarRig, AvatarDriver]
) -> None:
    """Asleep: head bowed, eyes shut and a "Zzz" — a clearly different picture; awake again after."""
    rig, driver = avatar
    show(driver, sample(0.0))
    neutral = stage.snapshot()
    steps = int(SLEEP_EASE_S / DT) + 2
    for _ in range(steps):
        show(driver, sample(0.0), AvatarMode.ASLEEP)
    asleep = stage.snapshot()
    assert driver.sleep_amount == 1.0 and rig.zzz.visible
    assert driver.slider_value("eyeBlinkLeft") == pytest.approx(1.0)
    assert changed_mask(neutral, asleep).mean() > 0.05
    for _ in range(steps):
        show(driver, sample(0.0), AvatarMode.LIVE)
    assert driver.sleep_amount == 0.0 and not rig.zzz.visible
    assert changed_mask(neutral, stage.snapshot()).mean() < 0.002


def test_frozen_holds_the_last_pose(avatar: tuple[AvatarRig, AvatarDriver]) -> None:
    """While tracking is uncertain the avatar keeps its pose whatever the samples say."""
    _rig, driver = avatar
    show(driver, sample(0.0, jawOpen=0.6))
    held = driver.slider_value("jawOpen")
    show(driver, sample(1.0, jawOpen=0.0, eyeBlinkLeft=1.0), AvatarMode.FROZEN)
    assert driver.slider_value("jawOpen") == held
    assert driver.slider_value("eyeBlinkLeft") == 0.0


def test_noise_floor_weights_show_as_zero(avatar: tuple[AvatarRig, AvatarDriver]) -> None:
    """Weights inside the dead zone are written as exactly 0; full weights stay full."""
    _rig, driver = avatar
    show(driver, sample(0.0, jawOpen=SHAPE_DEAD_ZONE * 0.9, eyeBlinkLeft=1.0))
    assert driver.slider_value("jawOpen") == 0.0
    assert driver.slider_value("eyeBlinkLeft") == 1.0


def test_unchanged_sliders_are_not_written(stage: Stage, mika: Path) -> None:
    """Only sliders that moved at least 1/512 are written; the same sample twice writes nothing."""
    rig = AvatarRig(mika, stage.base.render, font=stage.font)
    try:
        writes: list[int] = []

        def counting(k: int, setter: Callable[[float], None]) -> Callable[[float], None]:
            def write(value: float) -> None:
                writes.append(k)
                setter(value)

            return write

        rig.setters = [counting(k, f) for k, f in enumerate(rig.setters)]
        driver = AvatarDriver(rig, mirror=False, smoothing=False)
        show(driver, sample(0.0, jawOpen=0.5))
        assert len(writes) == len(rig.slider_names)
        writes.clear()
        show(driver, sample(0.0, jawOpen=0.5))
        show(driver, sample(1.0, jawOpen=0.5 + SLIDER_EPSILON / 2))
        assert writes == []
        show(driver, sample(2.0, jawOpen=0.6))
        assert writes == [rig.slider_names.index("jawOpen")]
    finally:
        rig.destroy()


def _read_glb(data: bytes) -> tuple[dict[str, Any], bytes]:
    json_len = struct.unpack_from("<I", data, 12)[0]
    document = json.loads(data[20 : 20 + json_len])
    bin_len = struct.unpack_from("<I", data, 20 + json_len)[0]
    return document, data[28 + json_len : 28 + json_len + bin_len]


def _write_glb(document: dict[str, Any], blob: bytes) -> bytes:
    text = json.dumps(document).encode()
    text += b" " * (-len(text) % 4)
    blob += b"\0" * (-len(blob) % 4)
    total = 12 + 8 + len(text) + 8 + len(blob)
    return b"".join(
        (
            struct.pack("<III", 0x46546C67, 2, total),
            struct.pack("<II", len(text), 0x4E4F534A),
            text,
            struct.pack("<II", len(blob), 0x004E4942),
            blob,
        )
    )


def without_morphs(source: Path, target: Path, drop: set[str]) -> Path:
    """Copy a GLB with some morph targets removed from every mesh (a 'partial perfect sync' model)."""
    document, blob = _read_glb(source.read_bytes())
    for mesh in document["meshes"]:
        names = mesh.get("extras", {}).get("targetNames")
        if not names:
            continue
        keep = [i for i, n in enumerate(names) if n not in drop]
        mesh["extras"]["targetNames"] = [names[i] for i in keep]
        for primitive in mesh["primitives"]:
            primitive["targets"] = [primitive["targets"][i] for i in keep]
        if "weights" in mesh:
            mesh["weights"] = [mesh["weights"][i] for i in keep]
    target.write_bytes(_write_glb(document, blob))
    return target


def test_missing_morphs_render_with_one_clear_warning(
    stage: Stage, mika: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A GLB lacking some ARKit targets loads, renders, and warns exactly once, naming them."""
    dropped = {"cheekPuff", "jawOpen", "mouthSmileLeft"}
    path = without_morphs(mika, tmp_path / "partial.glb", dropped)
    caplog.set_level(logging.WARNING, logger="game.avatar.rig")
    rigs = []
    try:
        for _ in range(2):
            rig, driver = stage.load(path, mirror=False)
            rigs.append(rig)
            show(driver, sample(0.0, jawOpen=1.0, eyeBlinkLeft=1.0))
        image = stage.snapshot()
        warnings = [r for r in caplog.records if r.name == "game.avatar.rig"]
        assert len(warnings) == 1
        message = warnings[0].getMessage()
        assert "partial.glb" in message and "3 of the 52" in message
        assert all(name in message for name in dropped)
        assert set(rigs[0].missing) == dropped
        assert "jawOpen" not in rigs[0].slider_names
        assert driver.slider_value("eyeBlinkLeft") == 1.0
        assert image.std() > 10
    finally:
        for rig in rigs:
            rig.destroy()


def test_an_unreadable_file_is_a_clear_error(stage: Stage, tmp_path: Path) -> None:
    """A file that is not a model raises AvatarLoadError naming it."""
    bad = tmp_path / "broken.glb"
    bad.write_bytes(b"not a model")
    with pytest.raises(AvatarLoadError, match=r"broken\.glb"):
        AvatarRig(bad, stage.base.render, font=stage.font)


def test_astronaut_smile_drives_the_avatars_smile(
    stage: Stage,
    avatar: tuple[AvatarRig, AvatarDriver],
    astronaut: npt.NDArray[np.uint8],
    analyse: Callable[[npt.NDArray[np.uint8]], FaceSample],
) -> None:
    """The real tracker's output for the smiling astronaut gives smile weights > 0.5 on screen.

    The picture is compared with the head pose zeroed, so the difference is the mouth's own.
    """
    rig, driver = avatar
    show(driver, sample(0.0))
    neutral = stage.snapshot()
    tracked = dataclasses.replace(analyse(astronaut), t=1.0)
    assert tracked.present
    driver.update(tracked, AvatarMode.LIVE, DT)
    assert driver.slider_value("mouthSmileLeft") > 0.5
    assert driver.slider_value("mouthSmileRight") > 0.5
    driver.update(
        dataclasses.replace(tracked, t=2.0, yaw=0.0, pitch=0.0, roll=0.0), AvatarMode.LIVE, DT
    )
    smiling = stage.snapshot()
    face = face_of(stage, rig)
    x0, y0 = face.centre_x - 0.9 * face.d, face.eye_y + 0.35 * face.d
    x1, y1 = face.centre_x + 0.9 * face.d, face.eye_y + 1.5 * face.d
    mouth = changed_mask(neutral, smiling)[int(y0) : int(y1), int(x0) : int(x1)]
    assert mouth.sum() >= 40
