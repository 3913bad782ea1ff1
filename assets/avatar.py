"""The player avatar: style and presets, body and hair, and the GLB with all 52 ARKit morph targets.

Conventions a reader of the GLB needs (glTF axes; panda3d-gltf turns them into
Panda's Z-up with the face looking down -Y, towards a default camera):

- +Y up, the face looks along +Z, and **the subject's left is +X**; every
  ``*Left`` morph target moves the +X side.
- Units are metres-ish: the avatar is a bust about 0.98 tall standing on y = 0,
  the head about half of it.
- Skeleton (one skin): ``root`` → ``spine`` → ``neck`` → ``head`` →
  ``eye_L`` / ``eye_R``; bind pose is translation only. The head pivots at
  the top of the neck; the eye joints sit at the centre of each virtual
  eyeball and carry the iris, pupil and highlights (small turns only: the
  ``eyeLook*`` morphs clip to the eye, a joint turn does not).
- Morph targets: the 52 names of :data:`shared.blendshapes.ARKIT_NAMES`,
  split over several meshes; the same name on several meshes is one slider in
  Panda3D (``actor.controlJoint(None, "modelRoot", name)``).
- Colours are written as display colours (what the plain fixed-function
  lighting of the client shows), not linearised.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Final

from assets import face, hair
from assets.geometry import Shape, ellipsoid, lathe, merge, smoothstep, tube, vertex_normals
from assets.gltf import Joint, Material, Model, to_glb
from assets.rig import Part, blend, build_meshes, rigid
from shared.blendshapes import ARKIT_NAMES

JOINT_NAMES: Final[tuple[str, ...]] = ("root", "spine", "neck", "head", "eye_L", "eye_R")
"""The avatar skeleton, parents before children."""

NECK_Y: Final[float] = 0.42
"""Height of the neck joint (base of the neck)."""
HEAD_PIVOT_Y: Final[float] = 0.50
"""Height of the head joint: the head nods and turns about the top of the neck."""

_HEX: Final[re.Pattern[str]] = re.compile(r"^#[0-9a-fA-F]{6}$")


class AvatarStyleError(ValueError):
    """An avatar style with a bad colour or an unknown hair style."""


class UnknownPresetError(AvatarStyleError, KeyError):
    """A preset name that is not in :data:`PRESETS`."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def _rgb(value: str, what: str) -> tuple[float, float, float]:
    if not isinstance(value, str) or not _HEX.match(value):
        raise AvatarStyleError(f"{what} must be a colour like '#a1b2c3', got {value!r}")
    return (int(value[1:3], 16) / 255.0, int(value[3:5], 16) / 255.0, int(value[5:7], 16) / 255.0)


@dataclass(frozen=True)
class AvatarStyle:
    """What a player can choose: colours as ``#rrggbb`` strings and a hair style name."""

    skin_tone: str
    hair_style: str
    hair_colour: str
    eye_colour: str
    outfit_colour: str

    def __post_init__(self) -> None:
        for what in ("skin_tone", "hair_colour", "eye_colour", "outfit_colour"):
            _rgb(getattr(self, what), what)
        if self.hair_style not in hair.HAIR_STYLES:
            raise AvatarStyleError(
                f"unknown hair style {self.hair_style!r}; choose one of "
                + ", ".join(hair.HAIR_STYLES)
            )

    @classmethod
    def preset(cls, name: str) -> AvatarStyle:
        """One of the named presets (see :data:`PRESETS`)."""
        try:
            return PRESETS[name]
        except KeyError:
            raise UnknownPresetError(
                f"unknown avatar preset {name!r}; choose one of {', '.join(PRESETS)}"
            ) from None


PRESETS: Final[dict[str, AvatarStyle]] = {
    "mika": AvatarStyle("#ffe0cf", "twintails", "#f48fb8", "#7b5cd6", "#4fb8b0"),
    "sam": AvatarStyle("#d9a27c", "short", "#4a3226", "#3f9e5a", "#f08a3c"),
    "leo": AvatarStyle("#f5cdb0", "bob", "#f2c45a", "#3d8be0", "#34436e"),
    "ada": AvatarStyle("#8d5a3f", "bun", "#2b2233", "#c98a2a", "#b8405e"),
}
"""Ready-made styles, also the avatars that ``python -m assets.build`` writes."""


def _mix(
    a: tuple[float, float, float], b: tuple[float, float, float], t: float
) -> tuple[float, float, float]:
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t)


def _scale(a: tuple[float, float, float], k: float) -> tuple[float, float, float]:
    return (min(a[0] * k, 1.0), min(a[1] * k, 1.0), min(a[2] * k, 1.0))


def materials(style: AvatarStyle) -> list[Material]:
    """The avatar's flat materials for a style."""
    skin = _rgb(style.skin_tone, "skin_tone")
    hair_c = _rgb(style.hair_colour, "hair_colour")
    eye = _rgb(style.eye_colour, "eye_colour")
    outfit = _rgb(style.outfit_colour, "outfit_colour")
    dark = (0.10, 0.07, 0.09)
    # Hair-tie and bow: the outfit colour pushed towards a warm contrast so it reads on any outfit.
    accent = _mix(outfit, (1.0, 0.85, 0.35), 0.45)

    def m(name: str, c: tuple[float, float, float], **kw: object) -> Material:
        return Material(name, (c[0], c[1], c[2], 1.0), **kw)  # type: ignore[arg-type]

    return [
        m("skin", skin),
        m("blush", _mix(skin, (1.0, 0.42, 0.50), 0.38)),
        m("nose", _mix(skin, (0.55, 0.25, 0.25), 0.30)),
        m("sclera", (0.97, 0.97, 1.0), emissive=(0.25, 0.25, 0.25)),
        m("iris", eye),
        m("iris_shade", _scale(eye, 0.55)),
        m("pupil", _mix(_scale(eye, 0.25), dark, 0.6)),
        m("highlight", (1.0, 1.0, 1.0), emissive=(0.8, 0.8, 0.8)),
        m("lash", _mix(_scale(hair_c, 0.35), dark, 0.7)),
        m("brow", _mix(_scale(hair_c, 0.7), dark, 0.35)),
        m("mouth", (0.45, 0.13, 0.17)),
        m("lip_line", (0.33, 0.11, 0.13)),
        m("teeth", (0.98, 0.97, 0.95), emissive=(0.15, 0.15, 0.15)),
        m("tongue", (0.93, 0.47, 0.52)),
        m("hair", hair_c, double_sided=True),
        m("accent", accent),
        m("outfit", outfit),
        m("trim", (0.97, 0.96, 0.94)),
    ]


def joints() -> list[Joint]:
    """The skeleton with bind-pose translations relative to each parent."""
    eye_l = face.eye_center(1.0)
    eye_r = face.eye_center(-1.0)
    return [
        Joint("root", None, (0.0, 0.0, 0.0)),
        Joint("spine", "root", (0.0, 0.05, 0.0)),
        Joint("neck", "spine", (0.0, NECK_Y - 0.05, 0.0)),
        Joint("head", "neck", (0.0, HEAD_PIVOT_Y - NECK_Y, 0.0)),
        Joint("eye_L", "head", (eye_l[0], eye_l[1] - HEAD_PIVOT_Y, eye_l[2])),
        Joint("eye_R", "head", (eye_r[0], eye_r[1] - HEAD_PIVOT_Y, eye_r[2])),
    ]


_J: Final[dict[str, int]] = {name: i for i, name in enumerate(JOINT_NAMES)}


def _static(name: str, material: str, shape: Shape, joint: str) -> Part:
    j, w = rigid(_J[joint], shape.vertex_count)
    normals = vertex_normals(shape.positions, shape.triangles)
    return Part(name, material, shape.positions, normals, shape.triangles, j, w)


def body_parts(style: AvatarStyle) -> list[Part]:
    """Torso, neck, arms, ears and hair: everything without morph targets."""
    parts: list[Part] = []
    torso = lathe(
        [
            (0.13, 0.0),
            (0.155, 0.03),
            (0.160, 0.12),
            (0.172, 0.24),
            (0.190, 0.33),
            (0.186, 0.372),
            (0.155, 0.405),
            (0.095, 0.432),
            (0.055, 0.444),
        ],
        segments=28,
        scale_z=0.72,
    )
    parts.append(_static("torso", "outfit", torso, "spine"))
    collar = lathe(
        [(0.058, 0.425), (0.098, 0.418), (0.110, 0.428), (0.070, 0.452)],
        segments=28,
        scale_z=0.8,
        cap_bottom=False,
        cap_top=False,
    )
    parts.append(_static("collar", "trim", collar, "spine"))
    bow = [
        ellipsoid((0.028, 0.408, 0.118), (0.026, 0.018, 0.012), rings=5, segments=8),
        ellipsoid((-0.028, 0.408, 0.118), (0.026, 0.018, 0.012), rings=5, segments=8),
        ellipsoid((0.0, 0.408, 0.124), (0.011, 0.011, 0.010), rings=5, segments=8),
    ]
    parts.append(_static("bow", "accent", merge(bow), "spine"))
    arms = []
    hands = []
    for sgn in (1.0, -1.0):
        arms.append(
            tube(
                [
                    (sgn * 0.160, 0.375, 0.0),
                    (sgn * 0.205, 0.27, 0.012),
                    (sgn * 0.214, 0.165, 0.022),
                ],
                [0.052, 0.047, 0.043],
                segments=14,
            )
        )
        hands.append(
            ellipsoid((sgn * 0.216, 0.128, 0.026), (0.042, 0.046, 0.042), rings=6, segments=10)
        )
    parts.append(_static("arms", "outfit", merge(arms), "spine"))
    parts.append(_static("hands", "skin", merge(hands), "spine"))

    neck = lathe(
        [(0.062, 0.38), (0.057, 0.46), (0.055, 0.54), (0.050, 0.62)],
        segments=20,
        cap_bottom=False,
        cap_top=False,
    )
    t = smoothstep(0.47, 0.57, neck.positions[:, 1])
    j, w = blend(_J["neck"], _J["head"], t)
    parts.append(
        Part(
            "neck",
            "skin",
            neck.positions,
            vertex_normals(neck.positions, neck.triangles),
            neck.triangles,
            j,
            w,
        )
    )
    ears = merge(
        [
            ellipsoid((0.236, 0.672, -0.015), (0.028, 0.046, 0.032), rings=6, segments=10),
            ellipsoid((-0.236, 0.672, -0.015), (0.028, 0.046, 0.032), rings=6, segments=10),
        ]
    )
    parts.append(_static("ears", "skin", ears, "head"))
    pieces = hair.build(style.hair_style)
    parts.append(_static("hair", "hair", pieces.hair, "head"))
    if pieces.accent is not None:
        parts.append(_static("hair_tie", "accent", pieces.accent, "head"))
    return parts


def face_parts(weights: dict[str, float]) -> list[Part]:
    """The face rig's parts for some ARKit weights, bound to their joints."""
    out = []
    for fp in face.evaluate(weights):
        j, w = rigid(_J[fp.joint], len(fp.positions))
        # Only skin and eyelids bend or travel enough for their shading to change; the thin
        # layers keep their rest normals.
        bends = fp.name == "head" or "_lid" in fp.name
        out.append(Part(fp.name, fp.material, fp.positions, fp.normals, fp.triangles, j, w, bends))
    return out


def build_model(style: AvatarStyle, name: str = "avatar") -> Model:
    """The avatar as a :class:`assets.gltf.Model` with all 52 ARKit morph targets."""
    static = body_parts(style)
    rest = face_parts({}) + static
    posed = {shape: face_parts({shape: 1.0}) + static for shape in ARKIT_NAMES}
    meshes = build_meshes(rest, posed, split=frozenset({"head"}))
    extras = {
        "convex": {
            "kind": "avatar",
            "style": asdict(style),
            "subject_left": "+X",
            "morph_targets": list(ARKIT_NAMES),
            "joints": list(JOINT_NAMES),
        }
    }
    return Model(name, joints(), materials(style), meshes, extras)


def build_glb(style: AvatarStyle, name: str = "avatar") -> bytes:
    """The avatar's GLB bytes (deterministic)."""
    return to_glb(build_model(style, name))
