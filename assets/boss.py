"""Boss Monsters — a slime, a stone golem and a chubby dragon — as GLBs with the morphs the game drives.

Theory of operation: a boss is a list of rest-pose pieces (closed shapes), each
in a *group* (body, head, an arm or a wing) and optionally marked as part of an
eye. A morph is a function that moves pieces: eye pieces squeeze about their
eye's centre, then each group gets its own transform (squash, lean, flap).
The morph target is the posed shape minus the rest shape, evaluated at weight 1.

Morph targets the game drives (same names on every boss, see :data:`BOSS_MORPHS`):

- ``idle``: the breathing/bobbing extreme; oscillate its weight 0 → 1 → 0.
- ``hit``: the flinch (recoil, eyes squeezed shut); pulse it on damage, together
  with a colour flash the game applies (``setColorScale``).
- ``defeated``: the knocked-out pose (slumped or melted, eyes shut); ramp to 1.
- ``blink``: eyes shut; pulse it now and then.

Axes as for the avatar: +Y up, the boss faces +Z, its left is +X. Skeleton:
``root`` → ``body`` (every piece is bound to ``body``; move or scale that joint
for lunges). Bosses stand on y = 0 and are 1.1–1.5 units tall.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from assets.geometry import (
    FloatArray,
    Shape,
    ellipsoid,
    fan_triangles,
    merge,
    rotation_matrix,
    superellipsoid,
    tube,
    vertex_normals,
)
from assets.gltf import Joint, Material, Model, to_glb
from assets.rig import Part, build_meshes, rigid

BOSS_KINDS: Final[tuple[str, ...]] = ("slime", "golem", "dragon")
"""Every boss the generator knows."""
BOSS_MORPHS: Final[tuple[str, ...]] = ("idle", "hit", "defeated", "blink")
"""The morph target names every boss carries."""
BOSS_JOINTS: Final[tuple[str, ...]] = ("root", "body")
"""The boss skeleton, parents before children."""

BLINK_SQUEEZE: Final[float] = 0.10
"""Height an eye keeps (fraction) when shut: a thin line, not nothing."""


class UnknownBossError(ValueError):
    """A boss kind that is not in :data:`BOSS_KINDS`."""


@dataclass(frozen=True)
class Piece:
    """A rest-pose piece of a boss: its shape, material, group and, for eyes, the eye's centre."""

    name: str
    material: str
    shape: Shape
    group: str
    eye: tuple[float, float, float] | None = None


Mover = Callable[[str, FloatArray], FloatArray]
"""Moves the points of one group for a morph at weight 1."""


def _rotate(
    points: FloatArray, axis: Sequence[float], degrees: float, pivot: Sequence[float]
) -> FloatArray:
    c = np.asarray(pivot, dtype=np.float64)
    return (points - c) @ rotation_matrix(axis, math.radians(degrees)).T + c


def _scale(points: FloatArray, factors: Sequence[float], pivot: Sequence[float]) -> FloatArray:
    c = np.asarray(pivot, dtype=np.float64)
    return (points - c) * np.asarray(factors, dtype=np.float64) + c


def _squeeze_eye(piece: Piece, points: FloatArray, amount: float) -> FloatArray:
    assert piece.eye is not None
    return _scale(points, (1.0 + 0.1 * (1.0 - amount), amount, 1.0), piece.eye)


def _flat_top(shape: Shape, center_y: float, keep: float) -> Shape:
    """The part of a shape above ``center_y`` squashed to ``keep``: a 'D'-shaped open mouth."""
    p = shape.positions.copy()
    above = p[:, 1] > center_y
    p[above, 1] = center_y + (p[above, 1] - center_y) * keep
    return Shape(p, shape.triangles)


def _fan(points: Sequence[Sequence[float]]) -> Shape:
    """A flat fan from the first point through the others (a wing membrane)."""
    p = np.asarray(points, dtype=np.float64)
    tris = fan_triangles(0, list(range(1, len(p))))[:-1]
    return Shape(p, tris)


# --- slime --------------------------------------------------------------------------------


def _slime() -> tuple[list[Piece], dict[str, Mover], dict[str, tuple[float, float, float, float]]]:
    body = ellipsoid((0.0, 0.46, 0.0), (0.60, 0.46, 0.54), rings=14, segments=26)
    p = body.positions.copy()
    low = p[:, 1] < 0.14
    p[low, 1] = 0.14 - (0.14 - p[low, 1]) * 0.30
    r = np.hypot(p[:, 0], p[:, 2])
    top = p[:, 1] > 0.6
    p[top, 1] += 0.16 * np.clip(1.0 - (r[top] / 0.24) ** 2, 0.0, 1.0) ** 2
    body = Shape(p, body.triangles)
    pieces = [Piece("body", "slime", body, "body")]
    pieces.append(
        Piece(
            "gloss",
            "gloss",
            ellipsoid((-0.26, 0.72, 0.34), (0.10, 0.05, 0.035), rings=6, segments=12),
            "body",
        )
    )
    for sgn, tag in ((1.0, "L"), (-1.0, "R")):
        c = (sgn * 0.20, 0.54, 0.46)
        pieces.append(
            Piece(
                f"eye_{tag}",
                "eye_white",
                ellipsoid(c, (0.125, 0.16, 0.06), rings=8, segments=14),
                "body",
                c,
            )
        )
        pieces.append(
            Piece(
                f"pupil_{tag}",
                "pupil",
                ellipsoid((sgn * 0.185, 0.52, 0.505), (0.078, 0.105, 0.035), rings=6, segments=12),
                "body",
                c,
            )
        )
        pieces.append(
            Piece(
                f"shine_{tag}",
                "shine",
                ellipsoid((sgn * 0.16, 0.575, 0.535), (0.028, 0.034, 0.012), rings=4, segments=8),
                "body",
                c,
            )
        )
    mouth = _flat_top(
        ellipsoid((0.0, 0.33, 0.485), (0.13, 0.075, 0.035), rings=6, segments=14), 0.33, 0.18
    )
    pieces.append(Piece("mouth", "mouth", mouth, "body"))
    pieces.append(
        Piece(
            "tongue",
            "tongue",
            ellipsoid((0.0, 0.30, 0.505), (0.065, 0.028, 0.02), rings=4, segments=10),
            "body",
        )
    )

    def idle(group: str, pts: FloatArray) -> FloatArray:
        return _scale(pts, (1.07, 0.88, 1.07), (0.0, 0.0, 0.0))

    def hit(group: str, pts: FloatArray) -> FloatArray:
        out = _scale(pts, (1.16, 0.76, 1.12), (0.0, 0.0, 0.0))
        out[:, 2] -= 0.16 * out[:, 1]
        return out

    def defeated(group: str, pts: FloatArray) -> FloatArray:
        return _scale(pts, (1.35, 0.38, 1.30), (0.0, 0.0, 0.0))

    palette = {
        "slime": (0.36, 0.84, 0.62, 1.0),
        "gloss": (0.92, 1.0, 0.96, 1.0),
        "eye_white": (0.98, 0.98, 1.0, 1.0),
        "pupil": (0.10, 0.12, 0.18, 1.0),
        "shine": (1.0, 1.0, 1.0, 1.0),
        "mouth": (0.20, 0.30, 0.25, 1.0),
        "tongue": (0.95, 0.50, 0.55, 1.0),
    }
    return pieces, {"idle": idle, "hit": hit, "defeated": defeated}, palette


# --- golem --------------------------------------------------------------------------------


def _golem() -> tuple[list[Piece], dict[str, Mover], dict[str, tuple[float, float, float, float]]]:
    pieces = [
        Piece(
            "torso",
            "stone",
            superellipsoid(
                (0.0, 0.66, 0.0), (0.44, 0.38, 0.32), exponent=0.55, rings=12, segments=20
            ),
            "body",
        ),
        Piece(
            "legs",
            "stone_dark",
            merge(
                [
                    superellipsoid(
                        (0.21, 0.17, 0.0), (0.15, 0.17, 0.16), exponent=0.6, rings=8, segments=12
                    ),
                    superellipsoid(
                        (-0.21, 0.17, 0.0), (0.15, 0.17, 0.16), exponent=0.6, rings=8, segments=12
                    ),
                ]
            ),
            "body",
        ),
        Piece(
            "rune",
            "rune",
            superellipsoid(
                (0.0, 0.70, 0.315), (0.06, 0.085, 0.02), exponent=0.9, rings=6, segments=4
            ),
            "body",
        ),
        Piece(
            "head",
            "stone",
            superellipsoid(
                (0.0, 1.14, 0.04), (0.27, 0.21, 0.25), exponent=0.5, rings=10, segments=16
            ),
            "head",
        ),
        Piece(
            "moss",
            "moss",
            superellipsoid(
                (0.0, 1.33, 0.02), (0.23, 0.05, 0.21), exponent=0.6, rings=6, segments=14
            ),
            "head",
        ),
        Piece(
            "brow",
            "stone_dark",
            superellipsoid(
                (0.0, 1.23, 0.27), (0.23, 0.04, 0.05), exponent=0.6, rings=6, segments=12
            ),
            "head",
        ),
        Piece(
            "mouth",
            "mouth",
            superellipsoid(
                (0.0, 1.03, 0.285), (0.10, 0.016, 0.02), exponent=0.7, rings=5, segments=10
            ),
            "head",
        ),
    ]
    for sgn, tag in ((1.0, "L"), (-1.0, "R")):
        c = (sgn * 0.105, 1.135, 0.28)
        pieces.append(
            Piece(
                f"eye_{tag}",
                "glow",
                ellipsoid(c, (0.068, 0.055, 0.025), rings=6, segments=12),
                "head",
                c,
            )
        )
        pieces.append(
            Piece(
                f"pupil_{tag}",
                "glow_core",
                ellipsoid((sgn * 0.10, 1.13, 0.30), (0.028, 0.028, 0.012), rings=5, segments=10),
                "head",
                c,
            )
        )
        arm = merge(
            [
                superellipsoid(
                    (sgn * 0.55, 0.86, 0.0), (0.16, 0.15, 0.16), exponent=0.6, rings=8, segments=12
                ),
                tube(
                    [(sgn * 0.58, 0.80, 0.0), (sgn * 0.62, 0.62, 0.04), (sgn * 0.64, 0.46, 0.07)],
                    [0.11, 0.11, 0.10],
                    segments=10,
                ),
                superellipsoid(
                    (sgn * 0.65, 0.36, 0.09), (0.17, 0.16, 0.16), exponent=0.6, rings=8, segments=12
                ),
            ]
        )
        pieces.append(Piece(f"arm_{tag}", "stone_dark", arm, f"arm_{tag}"))

    def shoulder(group: str) -> tuple[float, float, float]:
        return (0.52 if group == "arm_L" else -0.52, 0.86, 0.0)

    def idle(group: str, pts: FloatArray) -> FloatArray:
        out: FloatArray = pts + np.asarray([0.0, 0.03, 0.0])
        if group.startswith("arm"):
            sgn = 1.0 if group == "arm_L" else -1.0
            out = _rotate(out, (0.0, 0.0, 1.0), sgn * 8.0, shoulder(group))
        return out

    def hit(group: str, pts: FloatArray) -> FloatArray:
        out = _rotate(pts, (1.0, 0.0, 0.0), -13.0, (0.0, 0.2, 0.0))
        if group == "head":
            out = _rotate(out, (1.0, 0.0, 0.0), -10.0, (0.0, 0.98, -0.05))
        if group.startswith("arm"):
            sgn = 1.0 if group == "arm_L" else -1.0
            out = _rotate(out, (0.0, 0.0, 1.0), sgn * 22.0, shoulder(group))
        return out

    def defeated(group: str, pts: FloatArray) -> FloatArray:
        out = _rotate(pts, (1.0, 0.0, 0.0), 18.0, (0.0, 0.3, 0.0))
        if group == "head":
            out = _rotate(out, (1.0, 0.0, 0.0), 28.0, (0.0, 1.0, 0.1)) - np.asarray(
                [0.0, 0.12, 0.0]
            )
        if group.startswith("arm"):
            out = out - np.asarray([0.0, 0.14, 0.0])
        return out

    palette = {
        "stone": (0.62, 0.62, 0.68, 1.0),
        "stone_dark": (0.47, 0.47, 0.54, 1.0),
        "moss": (0.45, 0.72, 0.35, 1.0),
        "rune": (0.20, 0.80, 0.95, 1.0),
        "glow": (1.0, 0.80, 0.20, 1.0),
        "glow_core": (0.55, 0.25, 0.05, 1.0),
        "mouth": (0.18, 0.18, 0.24, 1.0),
    }
    return pieces, {"idle": idle, "hit": hit, "defeated": defeated}, palette


# --- dragon -------------------------------------------------------------------------------


def _dragon() -> tuple[list[Piece], dict[str, Mover], dict[str, tuple[float, float, float, float]]]:
    pieces = [
        Piece(
            "body",
            "scales",
            ellipsoid((0.0, 0.50, 0.0), (0.38, 0.44, 0.36), rings=12, segments=20),
            "body",
        ),
        Piece(
            "belly",
            "belly",
            ellipsoid((0.0, 0.46, 0.19), (0.25, 0.32, 0.20), rings=8, segments=16),
            "body",
        ),
        Piece(
            "feet",
            "scales",
            merge(
                [
                    ellipsoid((0.20, 0.07, 0.10), (0.12, 0.08, 0.16), rings=6, segments=12),
                    ellipsoid((-0.20, 0.07, 0.10), (0.12, 0.08, 0.16), rings=6, segments=12),
                ]
            ),
            "body",
        ),
        Piece(
            "arms",
            "scales",
            merge(
                [
                    ellipsoid((0.31, 0.56, 0.20), (0.08, 0.12, 0.08), rings=6, segments=10),
                    ellipsoid((-0.31, 0.56, 0.20), (0.08, 0.12, 0.08), rings=6, segments=10),
                ]
            ),
            "body",
        ),
        Piece(
            "tail",
            "scales",
            tube(
                [(0.0, 0.25, -0.28), (0.16, 0.16, -0.52), (0.38, 0.14, -0.62), (0.56, 0.24, -0.58)],
                [0.15, 0.11, 0.07, 0.0],
                segments=12,
            ),
            "body",
        ),
        Piece(
            "head",
            "scales",
            ellipsoid((0.0, 1.06, 0.06), (0.34, 0.29, 0.30), rings=12, segments=20),
            "head",
        ),
        Piece(
            "snout",
            "belly",
            ellipsoid((0.0, 0.955, 0.30), (0.19, 0.12, 0.14), rings=8, segments=14),
            "head",
        ),
        Piece(
            "nostrils",
            "mouth",
            merge(
                [
                    ellipsoid((0.06, 1.01, 0.435), (0.018, 0.012, 0.008), rings=4, segments=8),
                    ellipsoid((-0.06, 1.01, 0.435), (0.018, 0.012, 0.008), rings=4, segments=8),
                ]
            ),
            "head",
        ),
        Piece(
            "mouth",
            "mouth",
            _flat_top(
                ellipsoid((0.0, 0.925, 0.405), (0.085, 0.03, 0.02), rings=6, segments=12),
                0.925,
                0.2,
            ),
            "head",
        ),
        Piece(
            "fangs",
            "horn",
            merge(
                [
                    tube([(0.04, 0.93, 0.425), (0.04, 0.905, 0.43)], [0.012, 0.0], segments=6),
                    tube([(-0.04, 0.93, 0.425), (-0.04, 0.905, 0.43)], [0.012, 0.0], segments=6),
                ]
            ),
            "head",
        ),
        Piece(
            "horns",
            "horn",
            merge(
                [
                    tube(
                        [(0.15, 1.28, -0.02), (0.20, 1.40, -0.08), (0.23, 1.49, -0.16)],
                        [0.055, 0.035, 0.0],
                        segments=10,
                    ),
                    tube(
                        [(-0.15, 1.28, -0.02), (-0.20, 1.40, -0.08), (-0.23, 1.49, -0.16)],
                        [0.055, 0.035, 0.0],
                        segments=10,
                    ),
                ]
            ),
            "head",
        ),
    ]
    for sgn, tag in ((1.0, "L"), (-1.0, "R")):
        c = (sgn * 0.145, 1.13, 0.28)
        pieces.append(
            Piece(
                f"eye_{tag}",
                "eye_white",
                ellipsoid(c, (0.085, 0.105, 0.04), rings=8, segments=14),
                "head",
                c,
            )
        )
        pieces.append(
            Piece(
                f"pupil_{tag}",
                "pupil",
                ellipsoid((sgn * 0.135, 1.12, 0.312), (0.05, 0.07, 0.02), rings=6, segments=12),
                "head",
                c,
            )
        )
        pieces.append(
            Piece(
                f"shine_{tag}",
                "shine",
                ellipsoid((sgn * 0.115, 1.155, 0.33), (0.018, 0.022, 0.008), rings=4, segments=8),
                "head",
                c,
            )
        )
        wing = _fan(
            [
                (sgn * 0.22, 0.78, -0.22),
                (sgn * 0.30, 0.98, -0.28),
                (sgn * 0.62, 1.10, -0.36),
                (sgn * 0.60, 0.96, -0.36),
                (sgn * 0.80, 0.88, -0.40),
                (sgn * 0.64, 0.78, -0.36),
                (sgn * 0.68, 0.62, -0.36),
                (sgn * 0.42, 0.62, -0.30),
                (sgn * 0.26, 0.64, -0.24),
            ]
        )
        if sgn < 0:
            wing = Shape(wing.positions, wing.triangles[:, ::-1].copy())
        pieces.append(Piece(f"wing_{tag}", "wing", wing, f"wing_{tag}"))

    def wing_root(group: str) -> tuple[float, float, float]:
        return (0.22 if group == "wing_L" else -0.22, 0.78, -0.22)

    def flap(group: str, pts: FloatArray, degrees: float) -> FloatArray:
        sgn = 1.0 if group == "wing_L" else -1.0
        return _rotate(pts, (0.0, 0.25, 1.0), sgn * degrees, wing_root(group))

    def idle(group: str, pts: FloatArray) -> FloatArray:
        out = _scale(pts, (1.02, 1.04, 1.02), (0.0, 0.0, 0.0))
        if group.startswith("wing"):
            out = flap(group, out, 28.0)
        return out

    def hit(group: str, pts: FloatArray) -> FloatArray:
        out = pts.copy()
        if group == "head":
            out = _rotate(out, (1.0, 0.0, 0.0), -16.0, (0.0, 0.82, 0.0)) + np.asarray(
                [0.0, 0.02, -0.04]
            )
        if group.startswith("wing"):
            out = flap(group, out, 40.0)
        out[:, 2] -= 0.08 * out[:, 1]
        return out

    def defeated(group: str, pts: FloatArray) -> FloatArray:
        out = _scale(pts, (1.06, 0.86, 1.0), (0.0, 0.0, 0.0))
        if group == "head":
            out = _rotate(out, (1.0, 0.0, 0.0), 26.0, (0.0, 0.72, 0.0)) - np.asarray(
                [0.0, 0.10, 0.0]
            )
        if group.startswith("wing"):
            out = flap(group, out, -32.0)
        return out

    palette = {
        "scales": (0.56, 0.45, 0.86, 1.0),
        "belly": (1.0, 0.86, 0.62, 1.0),
        "horn": (0.99, 0.95, 0.85, 1.0),
        "wing": (0.93, 0.48, 0.62, 1.0),
        "eye_white": (0.98, 0.98, 1.0, 1.0),
        "pupil": (0.12, 0.10, 0.20, 1.0),
        "shine": (1.0, 1.0, 1.0, 1.0),
        "mouth": (0.25, 0.12, 0.20, 1.0),
    }
    return pieces, {"idle": idle, "hit": hit, "defeated": defeated}, palette


_BUILDERS: Final[
    dict[
        str,
        Callable[
            [], tuple[list[Piece], dict[str, Mover], dict[str, tuple[float, float, float, float]]]
        ],
    ]
] = {
    "slime": _slime,
    "golem": _golem,
    "dragon": _dragon,
}

_EMISSIVE: Final[frozenset[str]] = frozenset({"glow", "rune", "shine", "gloss"})
_DOUBLE_SIDED: Final[frozenset[str]] = frozenset({"wing"})


def _parts(pieces: list[Piece], mover: Mover | None, eye_amount: float | None) -> list[Part]:
    out = []
    for piece in pieces:
        pts = piece.shape.positions
        if eye_amount is not None and piece.eye is not None:
            pts = _squeeze_eye(piece, pts, eye_amount)
        if mover is not None:
            pts = mover(piece.group, pts)
        j, w = rigid(1, len(pts))
        out.append(
            Part(
                piece.name,
                piece.material,
                pts,
                vertex_normals(pts, piece.shape.triangles),
                piece.shape.triangles,
                j,
                w,
            )
        )
    return out


def build_model(kind: str) -> Model:
    """One boss as a :class:`assets.gltf.Model` with the :data:`BOSS_MORPHS` targets."""
    if kind not in _BUILDERS:
        raise UnknownBossError(f"unknown boss {kind!r}; choose one of {', '.join(BOSS_KINDS)}")
    pieces, movers, palette = _BUILDERS[kind]()
    rest = _parts(pieces, None, None)
    posed = {
        "idle": _parts(pieces, movers["idle"], None),
        "hit": _parts(pieces, movers["hit"], 0.22),
        "defeated": _parts(pieces, movers["defeated"], BLINK_SQUEEZE),
        "blink": _parts(pieces, None, BLINK_SQUEEZE),
    }
    materials = [
        Material(
            name,
            color,
            double_sided=name in _DOUBLE_SIDED,
            emissive=(0.45, 0.45, 0.45) if name in _EMISSIVE else (0.0, 0.0, 0.0),
        )
        for name, color in palette.items()
    ]
    joints = [Joint("root", None, (0.0, 0.0, 0.0)), Joint("body", "root", (0.0, 0.0, 0.0))]
    extras = {
        "convex": {
            "kind": "boss",
            "boss": kind,
            "morph_targets": list(BOSS_MORPHS),
            "joints": list(BOSS_JOINTS),
        }
    }
    return Model(kind, joints, materials, build_meshes(rest, posed), extras)


def build_glb(kind: str) -> bytes:
    """One boss's GLB bytes (deterministic)."""
    return to_glb(build_model(kind))
