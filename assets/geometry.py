"""Mesh primitives for the generated models: grids, ellipsoids, tubes, lathes, normals and quantisation.

Everything works on plain numpy arrays: positions ``(N, 3)`` float64 and
triangles ``(M, 3)`` int64, counter-clockwise seen from outside (glTF's front
face). Builders return a :class:`Shape`; parts of a model keep their topology
fixed and only move vertices, which is what morph targets need.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

QUANTUM: Final[float] = 2.0**-20
"""Grid every written coordinate, normal and delta is rounded to (about 1e-6).

Rounding to a power-of-two grid makes every value exact in float32 (for
magnitudes below 8) and absorbs last-bit differences between numpy's SIMD
code paths on different CPUs, so builds are byte-identical across machines.
"""


@dataclass(frozen=True)
class Shape:
    """Vertex positions and triangle indices of one mesh."""

    positions: FloatArray
    triangles: IntArray

    @property
    def vertex_count(self) -> int:
        """Number of vertices."""
        return len(self.positions)


def quantize(values: npt.ArrayLike) -> FloatArray:
    """Values rounded to the :data:`QUANTUM` grid (negative zero becomes zero)."""
    out = np.round(np.asarray(values, dtype=np.float64) / QUANTUM) * QUANTUM
    return out + 0.0


def grid_triangles(rows: int, cols: int, *, wrap: bool = False, flip: bool = False) -> IntArray:
    """Triangles of a ``rows × cols`` vertex grid stored row-major.

    With ``wrap`` the last column connects back to the first (a closed ring).
    Winding is counter-clockwise when rows advance along +v and columns along +u
    of a surface whose normal is u × v; ``flip`` reverses it.
    """
    tris: list[tuple[int, int, int]] = []
    col_span = cols if wrap else cols - 1
    for r in range(rows - 1):
        for c in range(col_span):
            c2 = (c + 1) % cols
            a, b = r * cols + c, r * cols + c2
            d, e = (r + 1) * cols + c, (r + 1) * cols + c2
            tris.append((a, b, e))
            tris.append((a, e, d))
    out = np.asarray(tris, dtype=np.int64).reshape(-1, 3)
    return out[:, ::-1].copy() if flip else out


def fan_triangles(center: int, ring: Sequence[int], *, flip: bool = False) -> IntArray:
    """Triangles joining a centre vertex to a closed ring of vertices."""
    n = len(ring)
    tris = [(center, ring[i], ring[(i + 1) % n]) for i in range(n)]
    out = np.asarray(tris, dtype=np.int64).reshape(-1, 3)
    return out[:, ::-1].copy() if flip else out


def vertex_normals(positions: FloatArray, triangles: IntArray) -> FloatArray:
    """Smooth per-vertex normals: the area-weighted sum of the adjacent face normals."""
    p0 = positions[triangles[:, 0]]
    p1 = positions[triangles[:, 1]]
    p2 = positions[triangles[:, 2]]
    face = np.cross(p1 - p0, p2 - p0)
    normals = np.zeros_like(positions)
    for k in range(3):
        np.add.at(normals, triangles[:, k], face)
    return normalize(normals)


def normalize(vectors: FloatArray) -> FloatArray:
    """Unit vectors (zero vectors become +Y so that every normal is valid)."""
    length = np.linalg.norm(vectors, axis=-1, keepdims=True)
    safe = np.where(length > 1e-12, length, 1.0)
    out = vectors / safe
    zero = length[..., 0] <= 1e-12
    if np.any(zero):
        out[zero] = (0.0, 1.0, 0.0)
    return out


def merge(shapes: Sequence[Shape]) -> Shape:
    """One shape holding all the given shapes (indices renumbered)."""
    positions: list[FloatArray] = []
    triangles: list[IntArray] = []
    offset = 0
    for shape in shapes:
        positions.append(shape.positions)
        triangles.append(shape.triangles + offset)
        offset += shape.vertex_count
    return Shape(np.concatenate(positions), np.concatenate(triangles))


def ellipsoid(
    center: Sequence[float], radii: Sequence[float], *, rings: int = 12, segments: int = 20
) -> Shape:
    """A closed ellipsoid with poles on ±Y."""
    cx, cy, cz = center
    rx, ry, rz = radii
    pts = [(cx, cy + ry, cz)]
    for i in range(1, rings):
        theta = math.pi * i / rings
        y = math.cos(theta)
        s = math.sin(theta)
        for j in range(segments):
            phi = 2.0 * math.pi * j / segments
            pts.append((cx + rx * s * math.sin(phi), cy + ry * y, cz + rz * s * math.cos(phi)))
    pts.append((cx, cy - ry, cz))
    body = grid_triangles(rings - 1, segments, wrap=True, flip=True) + 1
    top = fan_triangles(0, list(range(1, segments + 1)))
    bottom_center = len(pts) - 1
    last = list(range(bottom_center - segments, bottom_center))
    bottom = fan_triangles(bottom_center, last, flip=True)
    return Shape(np.asarray(pts, dtype=np.float64), np.concatenate([top, body, bottom]))


def lathe(
    profile: Sequence[tuple[float, float]],
    *,
    segments: int = 24,
    center: Sequence[float] = (0.0, 0.0, 0.0),
    scale_z: float = 1.0,
    cap_bottom: bool = True,
    cap_top: bool = True,
) -> Shape:
    """A surface of revolution about the Y axis from ``(radius, y)`` points listed bottom to top.

    ``scale_z`` squashes the cross-section front to back (an oval torso).
    """
    cx, cy, cz = center
    pts: list[tuple[float, float, float]] = []
    for radius, y in profile:
        for j in range(segments):
            phi = 2.0 * math.pi * j / segments
            pts.append((cx + radius * math.sin(phi), cy + y, cz + scale_z * radius * math.cos(phi)))
    tris = [grid_triangles(len(profile), segments, wrap=True)]
    if cap_bottom:
        y0 = profile[0][1]
        pts.append((cx, cy + y0, cz))
        tris.append(fan_triangles(len(pts) - 1, list(range(segments)), flip=True))
    if cap_top:
        y1 = profile[-1][1]
        pts.append((cx, cy + y1, cz))
        start = (len(profile) - 1) * segments
        tris.append(fan_triangles(len(pts) - 1, list(range(start, start + segments))))
    return Shape(np.asarray(pts, dtype=np.float64), np.concatenate(tris))


def tube(
    path: npt.ArrayLike,
    radii: npt.ArrayLike,
    *,
    segments: int = 12,
    squash: float = 1.0,
    up: Sequence[float] = (0.0, 0.0, 1.0),
) -> Shape:
    """A tube swept along a polyline with a radius per path point; ends are closed.

    A radius of zero at an end makes a point (a tapered tip). ``squash`` scales
    the cross-section along the second frame axis (flat ribbons of hair).
    """
    p = np.asarray(path, dtype=np.float64)
    r = np.asarray(radii, dtype=np.float64)
    count = len(p)
    tangents = np.gradient(p, axis=0)
    tangents = normalize(tangents)
    ref = np.asarray(up, dtype=np.float64)
    pts: list[FloatArray] = []
    for i in range(count):
        t = tangents[i]
        side = np.cross(t, ref)
        if np.linalg.norm(side) < 1e-6:
            side = np.cross(t, (1.0, 0.0, 0.0))
        side = side / np.linalg.norm(side)
        other = np.cross(side, t)
        for j in range(segments):
            phi = 2.0 * math.pi * j / segments
            offset = side * math.cos(phi) + other * math.sin(phi) * squash
            pts.append(p[i] + r[i] * offset)
    tris = [grid_triangles(count, segments, wrap=True, flip=True)]
    positions = np.asarray(pts)
    start_center = len(positions)
    end_center = start_center + 1
    positions = np.concatenate([positions, p[:1], p[-1:]])
    tris.append(fan_triangles(start_center, list(range(segments))))
    last = (count - 1) * segments
    tris.append(fan_triangles(end_center, list(range(last, last + segments)), flip=True))
    return Shape(positions, np.concatenate(tris))


def polar_patch(rings: int, segments: int) -> tuple[FloatArray, IntArray]:
    """Unit-disc sample points (centre first, then ``rings`` rings) and their triangles.

    Returns ``(uv, triangles)`` with uv of shape ``(1 + rings*segments, 2)``; the
    triangles face +Z when uv is read as (x, y).
    """
    uv = [(0.0, 0.0)]
    for i in range(1, rings + 1):
        rho = i / rings
        for j in range(segments):
            phi = 2.0 * math.pi * j / segments
            uv.append((rho * math.cos(phi), rho * math.sin(phi)))
    fan = fan_triangles(0, list(range(1, segments + 1)))
    body = grid_triangles(rings, segments, wrap=True, flip=True) + 1
    return np.asarray(uv, dtype=np.float64), np.concatenate([fan, body])


def rotation_matrix(axis: Sequence[float], angle: float) -> FloatArray:
    """A 3×3 rotation by ``angle`` radians about ``axis`` (right-handed)."""
    a = np.asarray(axis, dtype=np.float64)
    a = a / np.linalg.norm(a)
    x, y, z = a
    c, s = math.cos(angle), math.sin(angle)
    k = 1.0 - c
    return np.array(
        [
            [c + x * x * k, x * y * k - z * s, x * z * k + y * s],
            [y * x * k + z * s, c + y * y * k, y * z * k - x * s],
            [z * x * k - y * s, z * y * k + x * s, c + z * z * k],
        ]
    )


def smoothstep(edge0: float, edge1: float, x: FloatArray) -> FloatArray:
    """Hermite step from 0 at ``edge0`` to 1 at ``edge1`` (either order)."""
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def bump(distance: FloatArray, radius: float) -> FloatArray:
    """A compact falloff: 1 at distance 0, exactly 0 from ``radius`` on, smooth in between."""
    q = np.clip(1.0 - (distance / radius) ** 2, 0.0, 1.0)
    return q * q


def superellipsoid(
    center: Sequence[float],
    radii: Sequence[float],
    *,
    exponent: float = 0.5,
    rings: int = 12,
    segments: int = 20,
) -> Shape:
    """A rounded box: an ellipsoid whose unit directions are pushed towards the corners.

    ``exponent`` 1 is an ellipsoid; smaller values give flatter faces and rounder edges.
    """
    unit = ellipsoid((0.0, 0.0, 0.0), (1.0, 1.0, 1.0), rings=rings, segments=segments)
    p = unit.positions
    boxy = np.sign(p) * np.abs(p) ** exponent
    out = boxy * np.asarray(radii, dtype=np.float64) + np.asarray(center, dtype=np.float64)
    return Shape(out, unit.triangles)


def transform(shape: Shape, matrix: FloatArray, pivot: Sequence[float] = (0.0, 0.0, 0.0)) -> Shape:
    """A shape with a 3×3 linear map applied about a pivot point."""
    c = np.asarray(pivot, dtype=np.float64)
    return Shape((shape.positions - c) @ np.asarray(matrix).T + c, shape.triangles)


def smooth_path(
    points: npt.ArrayLike, values: npt.ArrayLike, samples: int
) -> tuple[FloatArray, FloatArray]:
    """A Catmull-Rom curve through control points, and per-point values interpolated along it.

    Returns ``samples`` points (first and last are the end control points) and the
    matching values (e.g. radii), both evenly spaced in the control-point parameter.
    """
    p = np.asarray(points, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    padded = np.concatenate([2 * p[:1] - p[1:2], p, 2 * p[-1:] - p[-2:-1]])
    t = np.linspace(0.0, len(p) - 1.0, samples)
    i = np.clip(np.floor(t).astype(np.int64), 0, len(p) - 2)
    u = (t - i)[:, None]
    p0, p1, p2, p3 = padded[i], padded[i + 1], padded[i + 2], padded[i + 3]
    curve = 0.5 * (
        2 * p1
        + (p2 - p0) * u
        + (2 * p0 - 5 * p1 + 4 * p2 - p3) * u**2
        + (3 * p1 - p0 - 3 * p2 + p3) * u**3
    )
    vals = np.interp(t, np.arange(len(v)), v)
    return curve, vals
