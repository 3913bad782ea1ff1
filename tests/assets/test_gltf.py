"""The GLB writer: a layout panda3d-gltf can read, exact data, reproducible bytes, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from assets.geometry import QUANTUM, ellipsoid, quantize, vertex_normals
from assets.gltf import GltfError, Joint, Material, Mesh, Model, read_accessor, read_glb, to_glb


def _model(material: str = "m", parent: str | None = "root") -> Model:
    shape = ellipsoid((0.0, 1.0, 0.0), (0.3, 0.4, 0.2), rings=6, segments=8)
    n = shape.vertex_count
    joints = np.zeros((n, 4), dtype=np.int64)
    joints[:, 0] = 1
    weights = np.zeros((n, 4))
    weights[:, 0] = 1.0
    up = np.zeros((n, 3))
    up[:, 1] = 0.25
    mesh = Mesh(
        "blob",
        material,
        shape.positions,
        vertex_normals(shape.positions, shape.triangles),
        shape.triangles,
        joints,
        weights,
        {"rise": (up, np.zeros((n, 3)))},
    )
    return Model(
        "thing",
        [Joint("root", None, (0.0, 0.0, 0.0)), Joint("body", parent, (0.0, 0.5, 0.0))],
        [Material("m", (1.0, 0.5, 0.25, 1.0))],
        [mesh],
    )


def test_round_trip_keeps_positions_and_targets() -> None:
    """Positions, indices and morph deltas read back as written (as float32)."""
    model = _model()
    doc, blob = read_glb(to_glb(model))
    mesh = doc["meshes"][0]
    primitive = mesh["primitives"][0]
    positions = read_accessor(doc, blob, primitive["attributes"]["POSITION"])
    assert np.allclose(positions, model.meshes[0].positions, atol=1e-6)
    indices = read_accessor(doc, blob, primitive["indices"]).reshape(-1, 3)
    assert np.array_equal(indices, model.meshes[0].triangles)
    assert mesh["extras"]["targetNames"] == ["rise"]
    assert mesh["weights"] == [0.0]
    delta = read_accessor(doc, blob, primitive["targets"][0]["POSITION"])
    assert np.allclose(delta[:, 1], 0.25)
    assert "NORMAL" not in primitive["targets"][0]


def test_layout_is_one_view_per_accessor_and_no_sparse() -> None:
    """Every accessor has its own 4-byte aligned bufferView and none is sparse."""
    doc, _ = read_glb(to_glb(_model()))
    views = [a["bufferView"] for a in doc["accessors"]]
    assert len(views) == len(set(views)) == len(doc["bufferViews"])
    assert all("sparse" not in a for a in doc["accessors"])
    assert all(v["byteOffset"] % 4 == 0 for v in doc["bufferViews"])


def test_skeleton_and_meshes_share_the_root_node() -> None:
    """The scene's one root node parents both the skeleton root and every skinned mesh."""
    doc, _ = read_glb(to_glb(_model()))
    root = doc["nodes"][doc["scenes"][0]["nodes"][0]]
    children = [doc["nodes"][i] for i in root["children"]]
    assert {c["name"] for c in children} == {"root", "blob"}
    assert all(c.get("skin") == 0 for c in children if "mesh" in c)


def test_same_model_same_bytes() -> None:
    """Writing the same model twice gives identical bytes."""
    assert to_glb(_model()) == to_glb(_model())


def test_unknown_material_is_an_error() -> None:
    """A mesh naming a material the model does not have is refused."""
    with pytest.raises(GltfError, match="unknown material"):
        to_glb(_model(material="nope"))


def test_unknown_parent_joint_is_an_error() -> None:
    """A joint whose parent does not exist is refused."""
    with pytest.raises(GltfError, match="unknown parent"):
        to_glb(_model(parent="ghost"))


def test_wrong_array_shape_is_an_error() -> None:
    """A mesh whose normals do not match its positions is refused with the array named."""
    model = _model()
    model.meshes[0].normals = model.meshes[0].normals[:-1]
    with pytest.raises(GltfError, match="normals"):
        to_glb(model)


def test_not_a_glb_is_rejected() -> None:
    """Bytes without the glTF header are not read."""
    with pytest.raises(GltfError):
        read_glb(b"PK\x03\x04" + b"\0" * 40)


def test_quantize_lands_on_a_float32_exact_grid() -> None:
    """Quantised values are multiples of the quantum and survive a float32 round trip."""
    values = np.linspace(-3.0, 3.0, 1001) * np.pi
    q = quantize(values)
    assert np.array_equal(q, np.round(q / QUANTUM) * QUANTUM)
    assert np.array_equal(q.astype(np.float32).astype(np.float64), q)
