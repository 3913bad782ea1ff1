"""``python -m assets.sheet``: render the contact sheet of expressions, presets and bosses to a PNG.

Builds the models in memory (so the sheet shows the current generator, not
stale files), renders each tile offscreen at twice its size and averages it
down (cheap anti-aliasing), and writes ``docs/screenshots/avatar-sheet.png``.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np

from assets import avatar, boss
from assets.preview import Image, Preview

DEFAULT_OUT: Final[Path] = (
    Path(__file__).resolve().parent.parent / "docs" / "screenshots" / "avatar-sheet.png"
)
TILE: Final[int] = 300
"""Edge of one square tile, in pixels."""
SUPERSAMPLE: Final[int] = 2
COLUMNS: Final[int] = 6

FACE_CAMERA: Final[tuple[tuple[float, float, float], tuple[float, float, float]]] = (
    (0.0, -1.75, 0.70),
    (0.0, 0.0, 0.655),
)
"""Camera position and target for avatar close-ups (Panda axes: Z up, the face looks along -Y)."""
BUST_CAMERA: Final[tuple[tuple[float, float, float], tuple[float, float, float]]] = (
    (0.85, -2.35, 0.78),
    (0.0, 0.0, 0.56),
)
BOSS_CAMERA: Final[tuple[tuple[float, float, float], tuple[float, float, float]]] = (
    (1.25, -4.3, 1.45),
    (0.0, 0.0, 0.66),
)


@dataclass(frozen=True)
class Shot:
    """One tile: which model, which sliders and joint turns, from where, with what caption."""

    model: str
    caption: str
    sliders: Mapping[str, float] = field(default_factory=dict)
    joints: Mapping[str, tuple[float, float, float]] = field(default_factory=dict)
    camera: tuple[tuple[float, float, float], tuple[float, float, float]] = FACE_CAMERA


HERO: Final[str] = "mika"

SHOTS: Final[tuple[Shot, ...]] = (
    Shot(HERO, "neutral"),
    Shot(
        HERO,
        "smile",
        {
            "mouthSmileLeft": 1.0,
            "mouthSmileRight": 1.0,
            "cheekSquintLeft": 0.4,
            "cheekSquintRight": 0.4,
        },
    ),
    Shot(HERO, "blink", {"eyeBlinkLeft": 1.0, "eyeBlinkRight": 1.0}),
    Shot(HERO, "jawOpen", {"jawOpen": 1.0}),
    Shot(HERO, "brows down", {"browDownLeft": 1.0, "browDownRight": 1.0}),
    Shot(HERO, "cheekPuff", {"cheekPuff": 1.0}),
    Shot(HERO, "eyes look left", {"eyeLookOutLeft": 1.0, "eyeLookInRight": 1.0}),
    Shot(
        HERO,
        "asleep",
        {"eyeBlinkLeft": 1.0, "eyeBlinkRight": 1.0, "jawOpen": 0.12},
        {"head": (0.0, 16.0, 6.0), "neck": (0.0, 8.0, 0.0)},
    ),
    Shot(HERO, "wink + tongue", {"eyeBlinkLeft": 1.0, "tongueOut": 1.0, "mouthSmileRight": 0.5}),
    Shot(
        HERO,
        "surprise",
        {
            "eyeWideLeft": 1.0,
            "eyeWideRight": 1.0,
            "browInnerUp": 1.0,
            "browOuterUpLeft": 1.0,
            "browOuterUpRight": 1.0,
            "mouthFunnel": 1.0,
        },
    ),
    Shot("sam", "sam", camera=BUST_CAMERA),
    Shot("leo", "leo", camera=BUST_CAMERA),
    Shot("ada", "ada", camera=BUST_CAMERA),
    Shot("boss-slime", "slime", camera=BOSS_CAMERA),
    Shot("boss-golem", "golem", camera=BOSS_CAMERA),
    Shot("boss-dragon", "dragon", camera=BOSS_CAMERA),
    Shot("boss-dragon", "dragon hit", {"hit": 1.0}, camera=BOSS_CAMERA),
    Shot("boss-slime", "slime defeated", {"defeated": 1.0}, camera=BOSS_CAMERA),
)
"""The sheet, row by row."""


def _model_bytes(name: str) -> bytes:
    if name.startswith("boss-"):
        return boss.build_glb(name.removeprefix("boss-"))
    return avatar.build_glb(avatar.AvatarStyle.preset(name), name)


def _downsample(image: Image, factor: int) -> Image:
    h, w, _ = image.shape
    blocks = image.reshape(h // factor, factor, w // factor, factor, 3).astype(np.float64)
    out: Image = np.round(blocks.mean(axis=(1, 3))).astype(np.uint8)
    return out


def render(shots: Sequence[Shot] = SHOTS, columns: int = COLUMNS) -> Image:
    """The contact sheet as an (h, w, 3) RGB image."""
    size = TILE * SUPERSAMPLE
    tiles: list[Image] = []
    with tempfile.TemporaryDirectory() as tmp, Preview(size, size) as pv:
        paths: dict[str, Path] = {}
        for shot in shots:
            if shot.model not in paths:
                path = Path(tmp) / f"{shot.model}.glb"
                path.write_bytes(_model_bytes(shot.model))
                paths[shot.model] = path
        from direct.gui.OnscreenText import OnscreenText

        label = OnscreenText(
            text="",
            pos=(0.0, -0.93),
            scale=0.08,
            fg=(0.12, 0.14, 0.22, 1.0),
            bg=(1.0, 1.0, 1.0, 0.75),
        )
        current: tuple[str, object] | None = None
        for shot in shots:
            if current is None or current[0] != shot.model:
                if current is not None:
                    pv.unload(current[1])
                current = (shot.model, pv.load(paths[shot.model]))
            actor = current[1]
            pv.pose(actor, shot.sliders, shot.joints)
            pv.look_at(*shot.camera)
            label.setText(shot.caption)
            tiles.append(_downsample(pv.snapshot(), SUPERSAMPLE))
        label.destroy()
    rows = -(-len(tiles) // columns)
    sheet = np.full((rows * TILE, columns * TILE, 3), 255, dtype=np.uint8)
    for i, tile in enumerate(tiles):
        r, c = divmod(i, columns)
        sheet[r * TILE : (r + 1) * TILE, c * TILE : (c + 1) * TILE] = tile
    return sheet


def write_png(image: Image, path: Path) -> None:
    """Write an RGB image as PNG using Panda3D's image code (no extra dependency)."""
    from panda3d.core import Filename, Texture

    h, w, _ = image.shape
    tex = Texture("sheet")
    tex.setup2dTexture(w, h, Texture.T_unsigned_byte, Texture.F_rgb)
    # Panda stores rows bottom-up and channels as BGR.
    tex.setRamImage(np.ascontiguousarray(image[::-1, :, ::-1]).tobytes())
    path.parent.mkdir(parents=True, exist_ok=True)
    if not tex.write(Filename.fromOsSpecific(str(path))):
        raise OSError(f"could not write {path}")


def main(argv: Sequence[str] | None = None) -> int:
    """Render the sheet; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m assets.sheet", description=__doc__)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="PNG to write")
    args = parser.parse_args(argv)
    write_png(render(), args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
