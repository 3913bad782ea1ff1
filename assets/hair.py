"""Hair styles for the avatar: a shell over the skull, a fringe of locks and style-specific pieces.

Everything is built in the head's design space (see :mod:`assets.face`) and
carried through the same chin warp as the skin, so hair hugs the face. Hair
is static geometry bound to the head joint; it has no morph targets.
Directions: azimuth ``phi`` = 0 faces +Z (out of the face), positive towards
+X (the subject's left); polar angle ``theta`` = 0 is the top of the head.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import numpy as np

from assets.face import HEAD_RADII, warp
from assets.geometry import (
    FloatArray,
    Shape,
    ellipsoid,
    fan_triangles,
    grid_triangles,
    merge,
    smooth_path,
    smoothstep,
    tube,
)

HAIR_STYLES: Final[tuple[str, ...]] = ("bob", "short", "long", "twintails", "bun")
"""Every hair style the generator knows."""


@dataclass(frozen=True)
class HairPieces:
    """Hair geometry in model space: ``hair`` in the hair colour, ``accent`` in the tie colour."""

    hair: Shape
    accent: Shape | None


def _direction(theta: FloatArray, phi: FloatArray) -> FloatArray:
    return np.stack(
        [np.sin(theta) * np.sin(phi), np.cos(theta), np.sin(theta) * np.cos(phi)], axis=-1
    )


def _on_head(theta: FloatArray, phi: FloatArray, scale: FloatArray | float) -> FloatArray:
    """Design-space points on the head ellipsoid scaled by ``scale`` (1 = on the skin)."""
    d: FloatArray = _direction(theta, phi) * np.asarray(HEAD_RADII)
    d *= np.asarray(scale)[..., None]
    return d


def shell(boundary: Callable[[FloatArray], FloatArray], *, flare: float = 0.0) -> Shape:
    """The hair cap from the crown down to ``boundary(phi)`` (polar angle of its lower edge)."""
    cols, rows = 40, 10
    phi = np.linspace(-math.pi, math.pi, cols, endpoint=False)
    edge = boundary(phi)
    pts = [np.asarray([[0.0, HEAD_RADII[1] * 1.12, 0.0]])]
    for i in range(1, rows + 1):
        t = i / rows
        theta = edge * t**0.95
        scale = 1.075 + 0.045 * np.clip(np.cos(theta), 0.0, None) + flare * t**6
        pts.append(_on_head(theta, phi, scale))
    positions = np.concatenate(pts)
    tris = np.concatenate(
        [
            fan_triangles(0, list(range(1, cols + 1))),
            grid_triangles(rows, cols, wrap=True, flip=True) + 1,
        ]
    )
    return Shape(warp(positions), tris)


def lock(
    theta_root: float,
    theta_tip: float,
    phi_root: float,
    phi_tip: float,
    width: float,
    *,
    scale_root: float = 1.12,
    scale_tip: float = 1.08,
    curl: float = 0.0,
) -> Shape:
    """A pointed lock of fringe lying over the forehead: three columns, the middle one raised."""
    rows = 7
    t = np.linspace(0.0, 1.0, rows)
    theta = theta_root + (theta_tip - theta_root) * t
    phi = phi_root + (phi_tip - phi_root) * t**1.5 + curl * np.sin(math.pi * t)
    half = width * (1.0 - t**1.4) * 0.5
    scale = scale_root + (scale_tip - scale_root) * t
    cols = []
    for offset, lift in ((-1.0, 0.0), (0.0, 0.012), (1.0, 0.0)):
        cols.append(_on_head(theta, phi + offset * half, scale + lift * (1.0 - t)))
    grid = np.stack(cols, axis=1).reshape(-1, 3)
    return Shape(warp(grid), grid_triangles(rows, 3, flip=True))


def side_lock(sgn: float, *, length: float, phi: float = 1.05, width: float = 0.055) -> Shape:
    """A lock hanging beside the face from the temple down towards the jaw (sgn +1 = left)."""
    rows = 8
    t = np.linspace(0.0, 1.0, rows)
    theta = 0.9 + (1.57 - 0.9) * t
    top = _on_head(theta, np.full(rows, sgn * phi), 1.10)
    drop = np.clip(t - 0.55, 0.0, None) / 0.45
    top[:, 1] -= length * drop
    top[:, 0] -= sgn * 0.02 * drop
    half = width * (1.0 - t**1.6) * 0.5 + 0.004
    tangent_side = np.asarray([0.0, 0.0, 1.0]) * half[:, None]
    ridge = np.stack([sgn * np.ones(rows), np.zeros(rows), np.zeros(rows)], axis=-1) * 0.012
    cols = [top - tangent_side, top + ridge * (1.0 - t[:, None] ** 2), top + tangent_side]
    grid = np.stack(cols, axis=1).reshape(-1, 3)
    return Shape(warp(grid), grid_triangles(rows, 3, flip=sgn < 0))


def _fringe(count: int, spread: float, tips: list[float], *, part: float = 0.0) -> list[Shape]:
    locks = []
    centers = np.linspace(-spread, spread, count)
    for i, c in enumerate(centers.tolist()):
        lean = 0.18 * c / max(spread, 1e-6)
        if part and abs(c) < 1e-6:
            continue
        locks.append(
            lock(0.45, tips[i % len(tips)], c, c + lean, 2.0 * spread / (count - 1) * 1.45)
        )
    return locks


def _boundary(front: float, side: float, back: float) -> Callable[[FloatArray], FloatArray]:
    def edge(phi: FloatArray) -> FloatArray:
        a = np.abs(phi)
        out = front + (side - front) * smoothstep(0.45, 1.35, a)
        out = out + (back - side) * smoothstep(1.7, 2.9, a)
        return out

    return edge


def _back_curtain(length: float) -> Shape:
    """Long hair falling down the back: a sheet around the back of the head with pointed ends."""
    cols, rows = 25, 9
    phi = np.linspace(math.pi * 0.42, math.pi * 1.58, cols)
    t = np.linspace(0.0, 1.0, rows)
    pts = []
    for ti in t.tolist():
        r = 0.255 + 0.035 * ti
        y = 0.76 - length * ti
        tips = 0.035 * ti**4 * np.abs(np.sin(phi * 7.0))
        pts.append(
            np.stack(
                [r * np.sin(phi) * 1.05, np.full(cols, y) + tips, r * np.cos(phi) * 0.95 - 0.01],
                axis=-1,
            )
        )
    positions = np.concatenate(pts)
    return Shape(positions, grid_triangles(rows, cols, flip=True))


def _tail(sgn: float) -> Shape:
    path = np.asarray(
        [
            (sgn * 0.20, 0.86, -0.08),
            (sgn * 0.29, 0.84, -0.09),
            (sgn * 0.35, 0.74, -0.08),
            (sgn * 0.36, 0.60, -0.06),
            (sgn * 0.33, 0.46, -0.05),
            (sgn * 0.30, 0.34, -0.04),
            (sgn * 0.31, 0.25, -0.03),
        ]
    )
    radii = [0.040, 0.060, 0.068, 0.064, 0.052, 0.030, 0.0]
    curve, r = smooth_path(path, radii, 16)
    return tube(curve, r, segments=14, squash=0.85)


def _spike(base: tuple[float, float, float], tip: tuple[float, float, float]) -> Shape:
    b = np.asarray(base)
    e = np.asarray(tip)
    path = [b, b + (e - b) * 0.5, e]
    return tube(path, [0.055, 0.035, 0.0], segments=8)


def build(style: str) -> HairPieces:
    """The hair of one style; raises ``ValueError`` for an unknown style."""
    if style not in HAIR_STYLES:
        raise ValueError(f"unknown hair style {style!r}; choose one of {', '.join(HAIR_STYLES)}")
    pieces: list[Shape] = []
    accent: list[Shape] = []
    if style == "bob":
        pieces.append(shell(_boundary(0.62, 1.95, 2.25), flare=0.05))
        pieces += _fringe(7, 0.85, [1.22, 1.30, 1.16, 1.27])
        pieces += [side_lock(1.0, length=0.10), side_lock(-1.0, length=0.10)]
    elif style == "short":
        pieces.append(shell(_boundary(0.60, 1.70, 2.05)))
        pieces += _fringe(6, 0.80, [1.14, 1.24, 1.18])
        for base, tip in (
            ((0.0, 0.93, -0.06), (0.0, 1.05, -0.13)),
            ((0.09, 0.92, -0.08), (0.17, 1.01, -0.16)),
            ((-0.09, 0.92, -0.08), (-0.17, 1.01, -0.16)),
            ((0.0, 0.86, -0.17), (0.0, 0.92, -0.29)),
        ):
            pieces.append(_spike(base, tip))
        pieces += [
            side_lock(1.0, length=0.0, width=0.045),
            side_lock(-1.0, length=0.0, width=0.045),
        ]
    elif style == "long":
        pieces.append(shell(_boundary(0.62, 1.95, 2.30)))
        pieces += _fringe(7, 0.85, [1.24, 1.16, 1.30, 1.20])
        pieces.append(_back_curtain(0.52))
        pieces += [side_lock(1.0, length=0.22), side_lock(-1.0, length=0.22)]
    elif style == "twintails":
        pieces.append(shell(_boundary(0.62, 1.85, 2.20)))
        pieces += _fringe(7, 0.85, [1.24, 1.16, 1.30])
        pieces += [_tail(1.0), _tail(-1.0)]
        pieces += [side_lock(1.0, length=0.06), side_lock(-1.0, length=0.06)]
        accent += [
            ellipsoid((0.205, 0.865, -0.08), (0.028, 0.034, 0.034), rings=6, segments=10),
            ellipsoid((-0.205, 0.865, -0.08), (0.028, 0.034, 0.034), rings=6, segments=10),
        ]
    else:  # bun
        pieces.append(shell(_boundary(0.62, 1.80, 2.10)))
        pieces += _fringe(7, 0.85, [1.20, 1.28, 1.16])
        pieces.append(ellipsoid((0.0, 1.00, -0.12), (0.095, 0.085, 0.09), rings=10, segments=16))
        pieces += [side_lock(1.0, length=0.04), side_lock(-1.0, length=0.04)]
        accent.append(ellipsoid((0.0, 0.955, -0.10), (0.07, 0.03, 0.07), rings=6, segments=16))
    return HairPieces(merge(pieces), merge(accent) if accent else None)
