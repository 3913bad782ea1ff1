"""Vectorised CPU morphing: a Character's morph targets applied with numpy, once per frame.

Theory of operation
-------------------
Panda3D morphs on the CPU (``GeomVertexData::update_animated_vertices``) by
walking every (slider, vertex row, morph column) triple through generic column
readers and writers. With all 52 ARKit sliders active that costs about 2.5 ms
per avatar and frame on this machine kind: 20 ms of a 16.7 ms frame for 8
avatars. The same sum as a matrix product takes about a tenth of a millisecond.

:class:`MorphBank` takes the morphs over from Panda3D, for one ``Character``:

1. **At load**, for every vertex data under the Character whose format has
   morph columns (panda3d-gltf names them ``vertex.morph.<target>`` and
   ``normal.morph.<target>``), it reads the deltas into one dense float32
   matrix per morphed column (``vertex``, ``normal``): a row per target, a
   column per (vertex row moved by any target, axis). Rows no target moves
   are left out. It then gives the Geoms a copy of the vertex data *without*
   morph columns or slider table, so Panda3D only skins it (skinning stays
   Panda's: about 0.05 ms per avatar).
2. **Once per frame**, at cull time, a :class:`~panda3d.core.CallbackNode`
   that is the Character's first child runs :meth:`MorphBank.update`: the
   Character has just brought its sliders up to date (its own cull callback
   runs before its children are visited) and none of its geometry has been
   animated yet. If any slider value changed since the last update, each
   morphed column of the moved rows is rewritten as ``rest + w · D``; Panda3D
   sees modified source vertices and re-skins them as it always does. An
   unchanged face costs one comparison of 52 floats.

Whatever drives the sliders (our driver's channel writes, ``controlJoint``
nodes, a played animation) drives the morphs, so nothing else changes. The
result is Panda3D's own (deltas scaled by the slider value and added, normals
not renormalised) up to float rounding. A vertex data whose morph columns are
not float32 triples (never the case for panda3d-gltf) is left to Panda3D.

The bank holds the vertex data it gave the Geoms: flattening or copying the
actor after the bank is made would leave the copies unmorphed (the rig
flattens before). Avatars of one face share their matrices (see ``_shared``):
eight avatars read one copy, which stays in cache.
"""

from __future__ import annotations

import hashlib
import logging
import time
import weakref
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
from panda3d.core import (
    CallbackNode,
    GeomEnums,
    GeomVertexData,
    GeomVertexFormat,
    NodePath,
    OmniBoundingVolume,
    PythonCallbackObject,
)

log = logging.getLogger(__name__)

F32 = npt.NDArray[np.float32]
IntP = npt.NDArray[np.intp]

CALLBACK_SORT: Final[int] = -1000
"""Child sort of the callback node: before every geometry child of the Character."""


class _Unsupported(Exception):
    """A vertex data whose morph layout this module does not handle (Panda3D keeps it)."""


def _floats(data: Any, array_index: int, *, writable: bool) -> F32:
    """One array of a vertex data as flat float32s: a copy, or (writable) a view of its memory
    that marks the array changed."""
    stride = data.getFormat().getArray(array_index).getStride()
    if stride % 4:
        raise _Unsupported(f"array {array_index} has a stride of {stride} bytes")
    if not writable:
        return np.frombuffer(data.getArray(array_index).getHandle().getData(), dtype=np.float32)
    try:
        # Panda3D exports an array's memory only when its layout is plain (no mixed-type padding).
        return np.frombuffer(memoryview(data.modifyArray(array_index)), dtype=np.float32)
    except (BufferError, TypeError, ValueError) as exc:
        raise _Unsupported(f"array {array_index} cannot be written in place: {exc}") from exc


def _column_slot(fmt: Any, name: Any) -> tuple[int, int, int]:
    """(array index, offset, stride), in floats, of a float32 triple column; raises if not one."""
    array_index = fmt.getArrayWith(name)
    if array_index < 0:
        raise _Unsupported(f"no column {name}")
    array = fmt.getArray(array_index)
    column = array.getColumn(name)
    if column.getNumericType() != GeomEnums.NT_float32 or column.getNumComponents() != 3:
        raise _Unsupported(f"column {name} is not three float32 values")
    if column.getStart() % 4 or array.getStride() % 4:
        raise _Unsupported(f"column {name} is not 4-byte aligned")
    return array_index, column.getStart() // 4, array.getStride() // 4


class _Matrix:
    """Rest values and deltas of one morphed column; equal ones are shared between rigs."""

    __slots__ = ("__weakref__", "deltas", "rest")

    def __init__(self, rest: F32, deltas: F32) -> None:
        self.rest = rest
        """(3 · moved rows,) rest values of the moved rows, x y z interleaved."""
        self.deltas = deltas
        """(targets, 3 · moved rows) deltas, one row per target."""


_shared: weakref.WeakValueDictionary[bytes, _Matrix] = weakref.WeakValueDictionary()
"""Matrices by content: eight avatars of four presets share one face, so they read one matrix
(cache-friendly, and 1.5 MB per avatar less)."""


def _share(rest: F32, deltas: F32) -> _Matrix:
    digest = hashlib.blake2b(digest_size=20)
    digest.update(np.asarray(deltas.shape, dtype=np.int64).tobytes())
    digest.update(rest.tobytes())
    digest.update(deltas.tobytes())
    key = digest.digest()
    found = _shared.get(key)
    if found is None:
        found = _Matrix(rest, deltas)
        _shared[key] = found
    return found


@dataclass(frozen=True)
class _MorphedColumn:
    """One base column (``vertex`` or ``normal``) of one vertex data and the targets moving it."""

    array_index: int
    """Array of the (morph-free) vertex data that holds the column."""
    index: IntP
    """Flat float index, in that array, of each value of :attr:`_Matrix.rest`."""
    matrix: _Matrix
    slots: IntP
    """Index in the bank's weight vector of each row of :attr:`_Matrix.deltas`."""


@dataclass(frozen=True)
class _MorphedData:
    """A vertex data the bank morphs (shared by the Geoms that drew the original)."""

    data: Any
    columns: tuple[_MorphedColumn, ...]


def _strip_morphs(old: Any) -> Any:
    """A copy of a vertex data without morph columns or slider table (skinning kept)."""
    fmt = GeomVertexFormat(old.getFormat())
    for i in range(old.getFormat().getNumMorphs()):
        fmt.removeColumn(old.getFormat().getMorphDelta(i))
    fmt.removeEmptyArrays()
    # convertTo hands back a const pointer; the copy is ours to change (its arrays are shared
    # with the original until first written).
    new = GeomVertexData(old.convertTo(GeomVertexFormat.registerFormat(fmt)))
    new.clearSliderTable()
    return new


def _take(old: Any, slot_of: dict[str, int]) -> _MorphedData:
    """The morph-free copy of ``old`` and its morph matrices (raises :class:`_Unsupported`)."""
    fmt = old.getFormat()
    by_base: dict[str, list[tuple[str, Any]]] = {}
    for i in range(fmt.getNumMorphs()):
        target = fmt.getMorphSlider(i).getName()
        by_base.setdefault(fmt.getMorphBase(i).getName(), []).append((target, fmt.getMorphDelta(i)))
    new = _strip_morphs(old)
    columns = []
    for base, targets in by_base.items():
        old_array, old_offset, old_stride = _column_slot(fmt, base)
        deltas = []
        for _target, delta_name in targets:
            array_index, offset, stride = _column_slot(fmt, delta_name)
            values = _floats(old, array_index, writable=False).reshape(-1, stride)
            deltas.append(values[:, offset : offset + 3])
        dense = np.stack(deltas)  # (targets, rows, 3)
        rows = np.nonzero(np.any(dense != 0.0, axis=(0, 2)))[0]
        if rows.size == 0:
            continue
        rest = _floats(old, old_array, writable=False).reshape(-1, old_stride)
        rest = rest[rows, old_offset : old_offset + 3]
        new_array, new_offset, new_stride = _column_slot(new.getFormat(), base)
        _floats(new, new_array, writable=True)  # fails now rather than every frame
        index = (rows[:, None] * new_stride + new_offset + np.arange(3)).reshape(-1)
        matrix = _share(
            np.ascontiguousarray(rest, dtype=np.float32).reshape(-1),
            np.ascontiguousarray(dense[:, rows, :], dtype=np.float32).reshape(len(targets), -1),
        )
        slots = np.asarray([slot_of[t] for t, _ in targets], dtype=np.intp)
        columns.append(_MorphedColumn(new_array, index.astype(np.intp), matrix, slots))
    return _MorphedData(new, tuple(columns))


class MorphBank:
    """Applies a Character's morph targets with numpy (see the module docstring)."""

    def __init__(self, character: NodePath) -> None:
        self.targets: tuple[str, ...] = ()
        """Target names, in weight-vector order."""
        self._sliders: list[Any] = []
        self._morphed: list[_MorphedData] = []
        self._last: F32 | None = None
        self.updates = 0
        """Frames in which some slider had changed and the morphs were recomputed."""
        self.update_ns = 0
        """Thread CPU time spent in :meth:`update` so far (nanoseconds; read by the benchmark)."""
        self._node: NodePath | None = None
        self._take_over(character)
        if self._morphed:
            node = CallbackNode("morph-bank")
            # Never culled, even though it has no geometry of its own.
            node.setBounds(OmniBoundingVolume())
            node.setFinal(True)
            node.setCullCallback(PythonCallbackObject(self._on_cull))
            self._node = character.attachNewNode(node, CALLBACK_SORT)

    @property
    def active(self) -> bool:
        """Whether any vertex data is morphed here (False: Panda3D still morphs everything)."""
        return bool(self._morphed)

    def _take_over(self, character: NodePath) -> None:
        sliders: dict[str, Any] = {}
        originals: dict[int, tuple[Any, list[tuple[Any, int]]]] = {}
        for geom_np in character.findAllMatches("**/+GeomNode"):
            geom_node = geom_np.node()
            for i in range(geom_node.getNumGeoms()):
                data = geom_node.getGeom(i).getVertexData()
                if data.getFormat().getNumMorphs() == 0 or data.getSliderTable() is None:
                    continue
                entry = originals.setdefault(data.this, (data, []))
                entry[1].append((geom_node, i))
        for data, _users in originals.values():
            table = data.getSliderTable()
            for k in range(table.getNumSliders()):
                slider = table.getSlider(k)
                sliders.setdefault(slider.getName().getName(), slider)
        self.targets = tuple(sliders)
        self._sliders = list(sliders.values())
        slot_of = {name: k for k, name in enumerate(self.targets)}
        for old, users in originals.values():
            try:
                morphed = _take(old, slot_of)
            except _Unsupported as exc:
                log.info("leaving %s to Panda3D's morphing: %s", old.getName(), exc)
                continue
            for geom_node, i in users:
                geom_node.modifyGeom(i).setVertexData(morphed.data)
            self._morphed.append(morphed)

    def weights(self) -> F32:
        """The current slider values, in :attr:`targets` order."""
        return np.fromiter((s.getSlider() for s in self._sliders), np.float32, len(self._sliders))

    def update(self) -> bool:
        """Rewrite the morphed vertices if any slider changed; returns whether it did."""
        start = time.thread_time_ns()
        w = self.weights()
        if self._last is not None and np.array_equal(w, self._last):
            self.update_ns += time.thread_time_ns() - start
            return False
        self._last = w
        for morphed in self._morphed:
            views: dict[int, F32] = {}
            for col in morphed.columns:
                view = views.get(col.array_index)
                if view is None:
                    view = _floats(morphed.data, col.array_index, writable=True)
                    views[col.array_index] = view
                moved = w[col.slots] @ col.matrix.deltas
                moved += col.matrix.rest
                view[col.index] = moved
        self.updates += 1
        self.update_ns += time.thread_time_ns() - start
        return True

    def _on_cull(self, data: Any) -> None:
        self.update()
        data.upcall()

    def destroy(self) -> None:
        """Detach the callback (it holds this bank) so that both can be freed."""
        if self._node is not None:
            self._node.node().clearCullCallback()
            self._node.removeNode()
            self._node = None
