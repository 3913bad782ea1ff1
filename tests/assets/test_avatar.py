"""The avatar GLB: all 52 ARKit morph targets, visibly moving the right side, built reproducibly."""

from __future__ import annotations

import numpy as np
import pytest

from assets import avatar, build, face, hair
from assets.avatar import AvatarStyle, AvatarStyleError, UnknownPresetError
from assets.gltf import GlbFile
from assets.sheet import HERO
from shared.blendshapes import ARKIT_NAMES

VISIBLE: float = 0.004
"""A move this large (model units; the head is ~0.47 tall) shows as pixels at any usual zoom."""


def test_every_arkit_name_is_a_morph_target(hero: GlbFile) -> None:
    """The GLB declares a morph target for each of the 52 ARKit names, and nothing else."""
    assert hero.target_names() == set(ARKIT_NAMES)
    assert len(ARKIT_NAMES) == 52


@pytest.mark.parametrize("name", ARKIT_NAMES)
def test_every_target_moves_vertices_visibly(hero: GlbFile, name: str) -> None:
    """Each target moves at least a few vertices by a visible distance."""
    moves = np.concatenate([np.linalg.norm(d, axis=1) for _, d in hero.targets()[name]])
    assert moves.max() >= VISIBLE
    assert (moves >= VISIBLE / 2).sum() >= 4


LEFT_SHAPES = [n for n in ARKIT_NAMES if n.endswith("Left")]
SHIFTS = ("jawLeft", "mouthLeft")
"""Shapes that move a whole feature towards the subject's left rather than deform one side."""


def _motions(glb: GlbFile, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Rest positions and deltas of a target, each moved vertex once (tiles share borders)."""
    rest = np.concatenate([r for r, _ in glb.targets()[name]])
    delta = np.concatenate([d for _, d in glb.targets()[name]])
    _, first = np.unique(np.round(rest, 5), axis=0, return_index=True)
    rest, delta = rest[first], delta[first]
    moved = np.linalg.norm(delta, axis=1) > 0.0
    return rest[moved], delta[moved]


def _side_motion(glb: GlbFile, name: str) -> tuple[float, float]:
    rest, delta = _motions(glb, name)
    size = np.linalg.norm(delta, axis=1)
    return float(size[rest[:, 0] > 0.005].sum()), float(size[rest[:, 0] < -0.005].sum())


@pytest.mark.parametrize("name", [n for n in LEFT_SHAPES if n not in SHIFTS])
def test_left_shapes_move_the_subjects_left_side(hero: GlbFile, name: str) -> None:
    """A *Left shape moves the +X side (the subject's left) far more than the other side."""
    left, right = _side_motion(hero, name)
    assert left > 3.0 * right


@pytest.mark.parametrize("name", SHIFTS)
def test_left_shifts_move_towards_the_subjects_left(hero: GlbFile, name: str) -> None:
    """jawLeft and mouthLeft carry their feature towards +X; their Right twins towards -X."""
    _, delta = _motions(hero, name)
    _, twin = _motions(hero, name[:-4] + "Right")
    assert delta[:, 0].sum() > 0.0 > twin[:, 0].sum()


@pytest.mark.parametrize("name", LEFT_SHAPES)
def test_left_and_right_shapes_mirror_each_other(hero: GlbFile, name: str) -> None:
    """The Right twin of a Left shape moves the mirrored vertices by the same amounts."""
    rest, delta = _motions(hero, name)
    twin_rest, twin_delta = _motions(hero, name[:-4] + "Right")
    mirror = np.asarray([-1.0, 1.0, 1.0])
    a = {tuple(np.round(r * mirror, 4)): d * mirror for r, d in zip(rest, delta, strict=True)}
    b = {tuple(np.round(r, 4)): d for r, d in zip(twin_rest, twin_delta, strict=True)}
    common = sorted(set(a) & set(b))
    assert len(common) >= 0.9 * max(len(a), len(b))
    assert np.allclose([a[k] for k in common], [b[k] for k in common], atol=2e-5)


def test_build_is_deterministic(hero_bytes: bytes) -> None:
    """Building the same preset again gives byte-identical GLB bytes."""
    assert avatar.build_glb(AvatarStyle.preset(HERO), HERO) == hero_bytes


def test_committed_models_match_a_fresh_build(fresh_models: dict[str, bytes]) -> None:
    """Every model in assets/models/ is byte-identical to what the generator builds now."""
    stale = [
        name
        for name, data in fresh_models.items()
        if not (build.MODELS_DIR / name).is_file() or (build.MODELS_DIR / name).read_bytes() != data
    ]
    assert stale == [], "run python -m assets.build"


def test_every_mesh_is_skinned_under_one_root(hero: GlbFile) -> None:
    """All meshes carry the one skin and hang from the same root node as the skeleton."""
    doc = hero.doc
    root = doc["nodes"][doc["scenes"][0]["nodes"][0]]
    mesh_nodes = [i for i, n in enumerate(doc["nodes"]) if "mesh" in n]
    assert all(doc["nodes"][i]["skin"] == 0 for i in mesh_nodes)
    assert set(mesh_nodes) <= set(root["children"])
    joint_names = [doc["nodes"][j]["name"] for j in doc["skins"][0]["joints"]]
    assert joint_names == list(avatar.JOINT_NAMES)


def test_triangle_budget(hero: GlbFile) -> None:
    """The avatar stays within the ~10k triangle budget."""
    assert 3000 <= hero.triangle_count() <= 10_000


def test_subject_left_is_plus_x(hero: GlbFile) -> None:
    """The left eye joint sits on +X, as the model's extras document."""
    nodes = {n["name"]: n for n in hero.doc["nodes"]}
    assert nodes["eye_L"]["translation"][0] > 0 > nodes["eye_R"]["translation"][0]
    assert hero.doc["extras"]["convex"]["subject_left"] == "+X"


def test_presets_are_valid_styles() -> None:
    """Every preset is a valid style and the named lookup returns it."""
    assert {"mika", "sam", "leo", "ada"} <= set(avatar.PRESETS)
    for name, style in avatar.PRESETS.items():
        assert AvatarStyle.preset(name) is style


def test_unknown_preset_names_the_choices() -> None:
    """An unknown preset raises a clear error that lists the presets."""
    with pytest.raises(UnknownPresetError, match="mika"):
        AvatarStyle.preset("zed")


@pytest.mark.parametrize("colour", ["red", "#12345", "#gg0000", "", "#1234567"])
def test_bad_colour_is_refused(colour: str) -> None:
    """A colour that is not #rrggbb is refused, naming the field."""
    with pytest.raises(AvatarStyleError, match="eye_colour"):
        AvatarStyle("#ffe0cf", "bob", "#000000", colour, "#ffffff")


def test_unknown_hair_style_is_refused() -> None:
    """An unknown hair style is refused with the known styles listed."""
    with pytest.raises(AvatarStyleError, match="twintails"):
        AvatarStyle("#ffe0cf", "mohawk", "#000000", "#000000", "#ffffff")


@pytest.mark.parametrize("style", hair.HAIR_STYLES)
def test_every_hair_style_builds(style: str) -> None:
    """Each hair style makes a non-empty mesh above the eyes."""
    pieces = hair.build(style)
    assert pieces.hair.vertex_count > 100
    assert pieces.hair.positions[:, 1].max() > face.HEAD_CENTER[1] + face.HEAD_RADII[1]


def test_unknown_blendshape_weight_is_refused() -> None:
    """The face rig refuses weights for names that are not ARKit shapes."""
    with pytest.raises(face.UnknownShapeError, match="smile"):
        face.evaluate({"smile": 1.0})


def test_presets_differ_only_where_styles_differ(fresh_models: dict[str, bytes]) -> None:
    """Every preset carries the same 52 targets; their bytes differ (colours, hair)."""
    files = [fresh_models[build.avatar_file(p)] for p in avatar.PRESETS]
    assert len(set(files)) == len(files)
    for data in files:
        assert GlbFile.parse(data).target_names() == set(ARKIT_NAMES)
