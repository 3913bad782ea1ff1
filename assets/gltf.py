"""A minimal, deterministic GLB (binary glTF 2.0) writer and reader for skinned meshes with morph targets.

Theory of operation: a :class:`Model` is a flat list of joints (translation-only bind
pose), materials and meshes. Every mesh is skinned to the one skeleton, because
panda3d-gltf drops the morph targets of a mesh that has neither a skin nor
``mesh.weights``; skeleton and meshes share one parent node (the model's root
node) so the loader builds a single ``Character`` whose sliders carry the morph
target names (``mesh.extras.targetNames``). A target name repeated on several
meshes becomes one slider.

Layout rules that keep panda3d-gltf happy and the bytes reproducible:

- one bufferView per accessor (panda3d-gltf reads ``byteStride`` of any view that
  several accessors share and fails without it), each 4-byte aligned;
- no sparse accessors; morph targets carry POSITION and, where they change
  shading, NORMAL deltas as dense float32 VEC3;
- floats go out as little-endian float32 (numpy ``<f4``); JSON is written with
  sorted keys and no whitespace; nothing depends on time or dict/set order.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

GLB_MAGIC: Final[int] = 0x46546C67
"""``b"glTF"`` read as a little-endian uint32."""
CHUNK_JSON: Final[int] = 0x4E4F534A
CHUNK_BIN: Final[int] = 0x004E4942

_FLOAT: Final[int] = 5126
_UBYTE: Final[int] = 5121
_USHORT: Final[int] = 5123
_UINT: Final[int] = 5125
_ARRAY_BUFFER: Final[int] = 34962
_ELEMENT_ARRAY_BUFFER: Final[int] = 34963

NORMAL_DELTA_EPSILON: Final[float] = 1e-4
"""A target whose normal deltas all stay below this (per component) is written without NORMAL."""

GENERATOR: Final[str] = "convex assets"


class GltfError(ValueError):
    """A model that cannot be written (bad shapes, unknown joint, too many vertices) or a bad GLB."""


@dataclass(frozen=True)
class Material:
    """A flat, non-metallic material; ``color`` is RGBA in 0..1, written as ``baseColorFactor``."""

    name: str
    color: tuple[float, float, float, float]
    double_sided: bool = False
    emissive: tuple[float, float, float] = (0.0, 0.0, 0.0)


@dataclass(frozen=True)
class Joint:
    """A skeleton joint; ``translation`` is relative to the parent joint (bind pose has no rotation)."""

    name: str
    parent: str | None
    translation: tuple[float, float, float]


@dataclass
class Mesh:
    """One triangle mesh with one material, skinned with up to four joints per vertex.

    ``joints`` holds joint *names'* indices into the model's joint list; ``targets``
    maps a morph target name to per-vertex (position delta, normal delta).
    """

    name: str
    material: str
    positions: FloatArray
    normals: FloatArray
    triangles: IntArray
    joints: IntArray
    weights: FloatArray
    targets: dict[str, tuple[FloatArray, FloatArray]] = field(default_factory=dict)


@dataclass
class Model:
    """A whole GLB: one skeleton, its materials and its skinned meshes."""

    name: str
    joints: list[Joint]
    materials: list[Material]
    meshes: list[Mesh]
    extras: dict[str, Any] = field(default_factory=dict)

    def joint_index(self, name: str) -> int:
        """The index of a joint by name."""
        for i, joint in enumerate(self.joints):
            if joint.name == name:
                return i
        raise GltfError(f"unknown joint {name!r}")


def _f32(values: npt.ArrayLike) -> npt.NDArray[np.float32]:
    return np.ascontiguousarray(np.asarray(values, dtype=np.float64), dtype="<f4")


def _plain_floats(values: npt.ArrayLike) -> list[float]:
    """float32 values as the shortest decimals that read back as the same float32 (short JSON)."""
    return [
        float(np.format_float_positional(v, unique=True, trim="-"))
        for v in _f32(values).reshape(-1)
    ]


class _Writer:
    """Accumulates the binary chunk and the JSON arrays that index into it."""

    def __init__(self) -> None:
        self.blob = bytearray()
        self.views: list[dict[str, Any]] = []
        self.accessors: list[dict[str, Any]] = []

    def add(
        self,
        data: bytes,
        *,
        component: int,
        kind: str,
        count: int,
        target: int | None,
        bounds: tuple[list[float], list[float]] | None = None,
        normalized: bool = False,
    ) -> int:
        while len(self.blob) % 4:
            self.blob.append(0)
        # No "target" hint: it is optional and the loader does not need it.
        view: dict[str, Any] = {"buffer": 0, "byteOffset": len(self.blob), "byteLength": len(data)}
        self.blob.extend(data)
        self.views.append(view)
        accessor: dict[str, Any] = {
            "bufferView": len(self.views) - 1,
            "componentType": component,
            "count": count,
            "type": kind,
        }
        if normalized:
            accessor["normalized"] = True
        if bounds is not None:
            accessor["min"], accessor["max"] = bounds
        self.accessors.append(accessor)
        return len(self.accessors) - 1

    def vec3(self, values: FloatArray, *, with_bounds: bool = True) -> int:
        data = _f32(values).reshape(-1, 3)
        bounds = None
        if with_bounds:
            if len(data):
                bounds = (_plain_floats(data.min(axis=0)), _plain_floats(data.max(axis=0)))
            else:
                bounds = ([0.0, 0.0, 0.0], [0.0, 0.0, 0.0])
        return self.add(
            data.tobytes(),
            component=_FLOAT,
            kind="VEC3",
            count=len(data),
            target=_ARRAY_BUFFER,
            bounds=bounds,
        )


def _check_mesh(mesh: Mesh, joint_count: int) -> int:
    n = len(mesh.positions)
    shapes = {
        "positions": mesh.positions.shape,
        "normals": mesh.normals.shape,
        "joints": mesh.joints.shape,
        "weights": mesh.weights.shape,
    }
    expected = {"positions": (n, 3), "normals": (n, 3), "joints": (n, 4), "weights": (n, 4)}
    for key, shape in shapes.items():
        if shape != expected[key]:
            raise GltfError(
                f"mesh {mesh.name!r}: {key} has shape {shape}, expected {expected[key]}"
            )
    if mesh.triangles.ndim != 2 or mesh.triangles.shape[1] != 3 or len(mesh.triangles) == 0:
        raise GltfError(f"mesh {mesh.name!r}: triangles must be a non-empty (M, 3) array")
    if mesh.triangles.min() < 0 or mesh.triangles.max() >= n:
        raise GltfError(f"mesh {mesh.name!r}: a triangle indexes a vertex that does not exist")
    if mesh.joints.min() < 0 or mesh.joints.max() >= joint_count:
        raise GltfError(f"mesh {mesh.name!r}: a vertex names a joint that does not exist")
    for name, (dpos, dnorm) in mesh.targets.items():
        if dpos.shape != (n, 3) or dnorm.shape != (n, 3):
            raise GltfError(f"mesh {mesh.name!r}: target {name!r} has the wrong shape")
    return n


def to_glb(model: Model) -> bytes:
    """The model as GLB bytes; the same model always gives the same bytes."""
    if not model.joints:
        raise GltfError("a model needs at least one joint")
    names = [j.name for j in model.joints]
    if len(set(names)) != len(names):
        raise GltfError("joint names must be unique")
    material_index = {m.name: i for i, m in enumerate(model.materials)}
    writer = _Writer()

    # Nodes: 0 is the model root (common parent of skeleton and meshes), then joints, then meshes.
    joint_node = {name: 1 + i for i, name in enumerate(names)}
    nodes: list[dict[str, Any]] = [{"name": model.name, "children": []}]
    for joint in model.joints:
        node: dict[str, Any] = {"name": joint.name}
        if any(joint.translation):
            node["translation"] = _plain_floats(joint.translation)
        nodes.append(node)
    for joint in model.joints:
        if joint.parent is None:
            nodes[0]["children"].append(joint_node[joint.name])
        else:
            if joint.parent not in joint_node:
                raise GltfError(f"joint {joint.name!r} has unknown parent {joint.parent!r}")
            nodes[joint_node[joint.parent]].setdefault("children", []).append(
                joint_node[joint.name]
            )

    # Inverse bind matrices: the bind pose is translation-only, so each is a pure translation.
    world: dict[str, np.ndarray[Any, np.dtype[np.float64]]] = {}
    for joint in model.joints:
        offset = np.asarray(_f32(joint.translation), dtype=np.float64)
        world[joint.name] = offset if joint.parent is None else world[joint.parent] + offset
    ibm = np.zeros((len(names), 16))
    for i, name in enumerate(names):
        m = np.eye(4)
        m[:3, 3] = -world[name]
        ibm[i] = m.T.reshape(16)  # glTF matrices are column-major
    ibm_acc = writer.add(
        _f32(ibm).tobytes(), component=_FLOAT, kind="MAT4", count=len(names), target=None
    )
    skins = [{"joints": [joint_node[n] for n in names], "inverseBindMatrices": ibm_acc}]

    meshes: list[dict[str, Any]] = []
    for mesh in model.meshes:
        n = _check_mesh(mesh, len(names))
        if mesh.material not in material_index:
            raise GltfError(f"mesh {mesh.name!r} uses unknown material {mesh.material!r}")
        attributes = {
            "POSITION": writer.vec3(mesh.positions),
            "NORMAL": writer.vec3(mesh.normals, with_bounds=False),
        }
        joint_type, joint_fmt = (_UBYTE, "<u1") if len(names) <= 256 else (_USHORT, "<u2")
        attributes["JOINTS_0"] = writer.add(
            np.ascontiguousarray(mesh.joints, dtype=joint_fmt).tobytes(),
            component=joint_type,
            kind="VEC4",
            count=n,
            target=_ARRAY_BUFFER,
        )
        attributes["WEIGHTS_0"] = writer.add(
            _f32(mesh.weights).tobytes(),
            component=_FLOAT,
            kind="VEC4",
            count=n,
            target=_ARRAY_BUFFER,
        )
        index_fmt, index_type = ("<u2", _USHORT) if n < 65536 else ("<u4", _UINT)
        flat = np.ascontiguousarray(mesh.triangles.reshape(-1), dtype=index_fmt)
        indices = writer.add(
            flat.tobytes(),
            component=index_type,
            kind="SCALAR",
            count=len(flat),
            target=_ELEMENT_ARRAY_BUFFER,
        )
        primitive: dict[str, Any] = {
            "attributes": attributes,
            "indices": indices,
            "material": material_index[mesh.material],
            "mode": 4,
        }
        gltf_mesh: dict[str, Any] = {"name": mesh.name, "primitives": [primitive]}
        if mesh.targets:
            targets = []
            for dpos, dnorm in mesh.targets.values():
                target = {"POSITION": writer.vec3(dpos)}
                if np.abs(dnorm).max(initial=0.0) > NORMAL_DELTA_EPSILON:
                    target["NORMAL"] = writer.vec3(dnorm, with_bounds=False)
                targets.append(target)
            primitive["targets"] = targets
            gltf_mesh["weights"] = [0.0] * len(targets)
            gltf_mesh["extras"] = {"targetNames": list(mesh.targets)}
        meshes.append(gltf_mesh)
        nodes.append({"name": mesh.name, "mesh": len(meshes) - 1, "skin": 0})
        nodes[0]["children"].append(len(nodes) - 1)

    materials = []
    for material in model.materials:
        entry: dict[str, Any] = {
            "name": material.name,
            "pbrMetallicRoughness": {
                "baseColorFactor": _plain_floats(material.color),
                "metallicFactor": 0.0,
                "roughnessFactor": 1.0,
            },
        }
        if any(material.emissive):
            entry["emissiveFactor"] = _plain_floats(material.emissive)
        if material.double_sided:
            entry["doubleSided"] = True
        if material.color[3] < 1.0:
            entry["alphaMode"] = "BLEND"
        materials.append(entry)

    document: dict[str, Any] = {
        "asset": {"version": "2.0", "generator": GENERATOR},
        "scene": 0,
        "scenes": [{"name": model.name, "nodes": [0]}],
        "nodes": nodes,
        "skins": skins,
        "meshes": meshes,
        "materials": materials,
        "accessors": writer.accessors,
        "bufferViews": writer.views,
        "buffers": [{"byteLength": len(writer.blob)}],
    }
    if model.extras:
        document["extras"] = model.extras
    return _pack(document, bytes(writer.blob))


def _pack(document: dict[str, Any], blob: bytes) -> bytes:
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), allow_nan=False)
    json_bytes = text.encode("utf-8")
    json_bytes += b" " * (-len(json_bytes) % 4)
    bin_bytes = blob + b"\0" * (-len(blob) % 4)
    total = 12 + 8 + len(json_bytes) + 8 + len(bin_bytes)
    return b"".join(
        (
            struct.pack("<III", GLB_MAGIC, 2, total),
            struct.pack("<II", len(json_bytes), CHUNK_JSON),
            json_bytes,
            struct.pack("<II", len(bin_bytes), CHUNK_BIN),
            bin_bytes,
        )
    )


def read_glb(data: bytes) -> tuple[dict[str, Any], bytes]:
    """The JSON document and the binary chunk of GLB bytes."""
    if len(data) < 20:
        raise GltfError("too short to be a GLB")
    magic, version, total = struct.unpack_from("<III", data, 0)
    if magic != GLB_MAGIC or version != 2 or total != len(data):
        raise GltfError("not a glTF 2.0 binary (bad header)")
    json_len, json_type = struct.unpack_from("<II", data, 12)
    if json_type != CHUNK_JSON:
        raise GltfError("the first GLB chunk is not JSON")
    document: dict[str, Any] = json.loads(data[20 : 20 + json_len])
    blob = b""
    offset = 20 + json_len
    if offset < len(data):
        bin_len, bin_type = struct.unpack_from("<II", data, offset)
        if bin_type != CHUNK_BIN:
            raise GltfError("the second GLB chunk is not BIN")
        blob = data[offset + 8 : offset + 8 + bin_len]
    return document, blob


_COMPONENTS: Final[dict[str, int]] = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT4": 16}
_DTYPES: Final[dict[int, str]] = {_FLOAT: "<f4", _UBYTE: "<u1", _USHORT: "<u2", _UINT: "<u4"}


def read_accessor(document: dict[str, Any], blob: bytes, index: int) -> FloatArray:
    """An accessor's data as a float64 array of shape (count, components)."""
    accessor = document["accessors"][index]
    view = document["bufferViews"][accessor["bufferView"]]
    width = _COMPONENTS[accessor["type"]]
    dtype = np.dtype(_DTYPES[accessor["componentType"]])
    start = view.get("byteOffset", 0) + accessor.get("byteOffset", 0)
    raw = np.frombuffer(blob, dtype=dtype, count=accessor["count"] * width, offset=start)
    return raw.astype(np.float64).reshape(accessor["count"], width)


@dataclass(frozen=True)
class GlbFile:
    """A parsed GLB: its JSON document and binary chunk, with helpers to inspect morph targets."""

    doc: dict[str, Any]
    blob: bytes

    @classmethod
    def parse(cls, data: bytes) -> GlbFile:
        """Parse GLB bytes."""
        doc, blob = read_glb(data)
        return cls(doc, blob)

    def accessor(self, index: int) -> FloatArray:
        """One accessor's values as (count, components) float64."""
        return read_accessor(self.doc, self.blob, index)

    def target_names(self) -> set[str]:
        """Every morph target name declared by any mesh."""
        return {
            name
            for mesh in self.doc.get("meshes", [])
            for name in mesh.get("extras", {}).get("targetNames", [])
        }

    def targets(self) -> dict[str, list[tuple[FloatArray, FloatArray]]]:
        """Target name → [(rest positions, position deltas)] for every mesh carrying it."""
        out: dict[str, list[tuple[FloatArray, FloatArray]]] = {}
        for mesh in self.doc.get("meshes", []):
            names = mesh.get("extras", {}).get("targetNames", [])
            for primitive in mesh["primitives"]:
                rest = self.accessor(primitive["attributes"]["POSITION"])
                for name, target in zip(names, primitive.get("targets", []), strict=True):
                    out.setdefault(name, []).append((rest, self.accessor(target["POSITION"])))
        return out

    def triangle_count(self) -> int:
        """Triangles over all meshes."""
        return sum(
            self.doc["accessors"][p["indices"]]["count"] // 3
            for mesh in self.doc.get("meshes", [])
            for p in mesh["primitives"]
        )
