"""Turning posed parts into skinned glTF meshes with morph targets (shared by avatar and bosses).

Theory of operation: a model generator evaluates its parts once in the rest
pose and once per morph target; every evaluation has the same parts with the
same topology. A target's delta is ``posed - rest`` for positions and normals,
after both are rounded to :data:`assets.geometry.QUANTUM`, so deltas are exact
and reproducible. A mesh only carries the targets that move it. A big part
(the head skin) is cut into a few tiles, each carrying only the targets that
reach it: without sparse accessors (panda3d-gltf cannot read them) this keeps
the file small. Tiles share their border vertices with identical positions,
normals and deltas, so no crack or shading seam appears.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from assets.geometry import FloatArray, IntArray, quantize
from assets.gltf import NORMAL_DELTA_EPSILON, Mesh

MAX_TILES: Final[int] = 12
"""Upper bound on the pieces one split part becomes (each piece is a draw call)."""
DELTA_FLOOR: Final[float] = 4e-4
"""Vertex moves shorter than this (model units, 0.4 mm on a 1 m model) are dropped."""
NORMAL_FLOOR: Final[float] = 0.03
"""Normal changes smaller than this (per component, ~1.7°: invisible in flat shading) are dropped."""
TILE_SIZE: Final[float] = 0.03
"""Edge of the square cells (model units, seen from the front) a split part is cut along."""


@dataclass(frozen=True)
class Part:
    """One mesh of a model in one pose, bound to joints (up to four per vertex)."""

    name: str
    material: str
    positions: FloatArray
    normals: FloatArray
    triangles: IntArray
    joints: IntArray
    weights: FloatArray
    morph_normals: bool = True
    """False for thin layers whose shading hardly changes: their targets carry no NORMAL."""


def rigid(joint: int, count: int) -> tuple[IntArray, FloatArray]:
    """Joint and weight arrays binding ``count`` vertices fully to one joint."""
    joints = np.zeros((count, 4), dtype=np.int64)
    joints[:, 0] = joint
    weights = np.zeros((count, 4))
    weights[:, 0] = 1.0
    return joints, weights


def blend(joint_a: int, joint_b: int, t: FloatArray) -> tuple[IntArray, FloatArray]:
    """Bind vertices to two joints: weight ``1 - t`` on ``joint_a`` and ``t`` on ``joint_b``."""
    count = len(t)
    joints = np.zeros((count, 4), dtype=np.int64)
    joints[:, 0] = joint_a
    joints[:, 1] = joint_b
    weights = np.zeros((count, 4))
    weights[:, 1] = np.clip(t, 0.0, 1.0)
    weights[:, 0] = 1.0 - weights[:, 1]
    return joints, weights


def _changed(dpos: FloatArray, dnorm: FloatArray) -> npt.NDArray[np.bool_]:
    """Per vertex: does the target move it, or turn its normal enough to change shading?"""
    turned = np.abs(dnorm).max(axis=1) > NORMAL_DELTA_EPSILON
    moved: npt.NDArray[np.bool_] = np.any(dpos != 0.0, axis=1) | turned
    return moved


class PoseMismatchError(ValueError):
    """A posed evaluation does not have the same parts or topology as the rest pose."""


def _tile_keys(positions: FloatArray, triangles: IntArray, cell: float) -> IntArray:
    """A spatial key per triangle: the ``cell``-sized cube its centroid falls in."""
    centroid = positions[triangles].mean(axis=1)
    i = np.floor(centroid / cell).astype(np.int64) + 512
    keys: IntArray = (i[:, 0] * 1024 + i[:, 1]) * 1024 + i[:, 2]
    return keys


def _group_tiles(
    tri_keys: IntArray, tri_masks: npt.NDArray[np.uint64], max_groups: int
) -> list[list[int]]:
    """Group tile keys so that sum(triangles × targets carried) stays small; ≤ max_groups groups.

    Greedy: start from one group per distinct target set, then repeatedly merge the
    two groups whose union costs the least extra.
    """
    keys = np.unique(tri_keys)
    index = np.searchsorted(keys, tri_keys)
    counts = np.bincount(index, minlength=len(keys)).astype(np.int64)
    masks = np.zeros(len(keys), dtype=np.uint64)
    np.bitwise_or.at(masks, index, tri_masks)
    groups: list[list[int]] = []
    group_masks: list[int] = []
    group_counts: list[int] = []
    by_mask: dict[int, int] = {}
    for key, count, mask in zip(keys.tolist(), counts.tolist(), masks.tolist(), strict=True):
        if mask in by_mask:
            g = by_mask[mask]
            groups[g].append(key)
            group_counts[g] += count
        else:
            by_mask[mask] = len(groups)
            groups.append([key])
            group_masks.append(mask)
            group_counts.append(count)
    m = np.asarray(group_masks, dtype=np.uint64)
    c = np.asarray(group_counts, dtype=np.int64)
    alive = [True] * len(groups)
    while sum(alive) > max_groups:
        pop = np.bitwise_count(m).astype(np.int64)
        union = np.bitwise_count(m[:, None] | m[None, :]).astype(np.int64)
        cost = (c[:, None] + c[None, :]) * union - (c * pop)[:, None] - (c * pop)[None, :]
        dead = ~np.asarray(alive)
        cost[dead, :] = np.iinfo(np.int64).max
        cost[:, dead] = np.iinfo(np.int64).max
        np.fill_diagonal(cost, np.iinfo(np.int64).max)
        i, j = divmod(int(np.argmin(cost)), len(groups))
        groups[i] = groups[i] + groups[j]
        m[i] |= m[j]
        c[i] += c[j]
        alive[j] = False
    return [sorted(g) for g, a in zip(groups, alive, strict=True) if a]


def _submesh(
    name: str,
    part: Part,
    tri_index: IntArray,
    targets: dict[str, tuple[FloatArray, FloatArray]],
) -> Mesh:
    tris = part.triangles[tri_index]
    used = np.unique(tris)
    remap = np.full(len(part.positions), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    sub_targets = {}
    for target, (dpos, dnorm) in targets.items():
        if np.any(_changed(dpos[used], dnorm[used])):
            sub_targets[target] = (dpos[used], dnorm[used])
    return Mesh(
        name=name,
        material=part.material,
        positions=part.positions[used],
        normals=part.normals[used],
        triangles=remap[tris],
        joints=part.joints[used],
        weights=part.weights[used],
        targets=sub_targets,
    )


def build_meshes(
    rest: Sequence[Part],
    posed: Mapping[str, Sequence[Part]],
    *,
    split: frozenset[str] = frozenset(),
) -> list[Mesh]:
    """glTF meshes for the rest pose with one morph target per entry of ``posed``.

    Parts named in ``split`` are cut into tiles that carry only the targets
    reaching them. Target order follows ``posed``'s order.
    """
    rest_q = [(quantize(p.positions), quantize(p.normals)) for p in rest]
    deltas: list[dict[str, tuple[FloatArray, FloatArray]]] = [{} for _ in rest]
    for target, parts in posed.items():
        if [p.name for p in parts] != [p.name for p in rest]:
            raise PoseMismatchError(f"target {target!r} has different parts than the rest pose")
        for i, (part, base) in enumerate(zip(parts, rest, strict=True)):
            if part.positions.shape != base.positions.shape or not np.array_equal(
                part.triangles, base.triangles
            ):
                raise PoseMismatchError(f"target {target!r} changes the topology of {part.name!r}")
            dpos = quantize(part.positions) - rest_q[i][0]
            dnorm = quantize(part.normals) - rest_q[i][1]
            if not base.morph_normals:
                dnorm = np.zeros_like(dnorm)
            # The far tails of smooth falloffs move vertices by invisible amounts; cutting them
            # keeps those vertices out of the target (and the file small).
            dpos[np.linalg.norm(dpos, axis=1) < DELTA_FLOOR] = 0.0
            dnorm[np.abs(dnorm).max(axis=1) < NORMAL_FLOOR] = 0.0
            if np.any(_changed(dpos, dnorm)):
                deltas[i][target] = (dpos, dnorm)
    meshes: list[Mesh] = []
    for i, part in enumerate(rest):
        clean = Part(
            part.name,
            part.material,
            rest_q[i][0],
            rest_q[i][1],
            part.triangles,
            part.joints,
            part.weights,
        )
        all_tris = np.arange(len(part.triangles))
        if part.name not in split or not deltas[i]:
            meshes.append(_submesh(part.name, clean, all_tris, deltas[i]))
            continue
        names = list(deltas[i])
        tri_masks = np.zeros(len(part.triangles), dtype=np.uint64)
        for bit, target in enumerate(names):
            hit = _changed(*deltas[i][target])[part.triangles].any(axis=1)
            tri_masks[hit] |= np.uint64(1 << bit)
        keys = _tile_keys(clean.positions, part.triangles, TILE_SIZE)
        groups = _group_tiles(keys, tri_masks, MAX_TILES)
        for g, group in enumerate(groups):
            selected = np.nonzero(np.isin(keys, group))[0]
            meshes.append(_submesh(f"{part.name}.{g}", clean, selected, deltas[i]))
    return meshes
