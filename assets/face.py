"""The avatar's head and face as a parametric rig driven by the 52 ARKit blendshape weights.

Theory of operation: the head is an ellipsoid in a *design space* centred on the
head (glTF axes: +Y up, +Z out of the face, +X the subject's **left**), bent by a
smooth warp (:func:`warp`) that narrows the lower face into a chibi chin. Face
features are thin layers ("decals") lying on that surface at small normal
offsets — sclera, iris, pupil and highlights under the eyelids, brows above,
the mouth cavity with teeth and tongue under the lip line. Stacking order is
by offset (see the ``*_LIFT`` constants), so an eyelid closing over the eye
simply covers the iris, and an iris that turns never leaves the eye outline.

:func:`evaluate` builds every face part for one set of weights; topology never
changes with the weights, so a morph target is ``evaluate({name: 1}) -
evaluate({})``. Each ARKit name appears in the code of the features it moves:
the skin follows smooth, compactly supported displacement fields
(:func:`skin_field`), the decals follow their own curves (lid margins, lip
curves, brow ends, gaze rotation). Left shapes move the +X side.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import numpy as np

from assets.geometry import (
    FloatArray,
    IntArray,
    bump,
    fan_triangles,
    grid_triangles,
    normalize,
    polar_patch,
    smoothstep,
    vertex_normals,
)
from shared.blendshapes import ARKIT_NAMES

HEAD_CENTER: Final[tuple[float, float, float]] = (0.0, 0.72, 0.0)
"""Centre of the head ellipsoid in model space (the body stands on y = 0)."""
HEAD_RADII: Final[tuple[float, float, float]] = (0.25, 0.235, 0.232)
"""Half-width, half-height and half-depth of the design ellipsoid (the head is ~0.47 tall)."""
CHIN_TAPER_X: Final[float] = 0.30
"""How much narrower (fraction) the head gets at the chin than at the cheekbones."""
CHIN_TAPER_Z: Final[float] = 0.12
"""How much shallower (fraction) the head gets at the chin, front to back."""

# Feature layout in face-plane coordinates (x, y relative to the head centre).
EYE_X: Final[float] = 0.098
"""Distance of each eye centre from the midline."""
EYE_Y: Final[float] = -0.040
"""Eye centre height: below the head's middle, the chibi way."""
EYE_HALF_W: Final[float] = 0.050
EYE_HALF_H: Final[float] = 0.060
BROW_Y: Final[float] = 0.058
"""Height of the brows' lower edge at rest."""
NOSE_Y: Final[float] = -0.098
MOUTH_Y: Final[float] = -0.150
MOUTH_HALF_W: Final[float] = 0.035
CHEEK_X: Final[float] = 0.128
CHEEK_Y: Final[float] = -0.112

# Normal offsets of the decal layers above the skin (later = in front).
SCLERA_LIFT: Final[float] = 0.0030
IRIS_LIFT: Final[float] = 0.0052
IRIS_SHADE_LIFT: Final[float] = 0.0060
PUPIL_LIFT: Final[float] = 0.0068
HIGHLIGHT_LIFT: Final[float] = 0.0082
LOWER_LID_LIFT: Final[float] = 0.0110
UPPER_LID_LIFT: Final[float] = 0.0125
LASH_LIFT: Final[float] = 0.0140
LID_EDGE_LIFT: Final[float] = 0.0035
"""Offset the lid layers taper down to away from the eye, so no ledge shows in profile."""
BROW_LIFT: Final[float] = 0.0160
BLUSH_LIFT: Final[float] = 0.0018
NOSE_LIFT: Final[float] = 0.0020
CAVITY_LIFT: Final[float] = 0.0030
TONGUE_LIFT: Final[float] = 0.0040
TEETH_LIFT: Final[float] = 0.0048
LIP_LINE_LIFT: Final[float] = 0.0062

GAZE_YAW: Final[float] = math.radians(30.0)
"""Iris turn for eyeLookIn/Out at weight 1."""
GAZE_PITCH: Final[float] = math.radians(24.0)
"""Iris turn for eyeLookUp/Down at weight 1."""
GAZE_SPHERE: Final[float] = 1.2
"""Radius, in eye half-widths, of the virtual eyeball the iris slides over."""

LID_COLUMNS: Final[int] = 15
"""Samples across each eyelid (its curves are smooth at this count)."""
JAW_DROP: Final[float] = 0.064
"""How far jawOpen = 1 drops the lower lip."""

ARKIT: Final[frozenset[str]] = frozenset(ARKIT_NAMES)


class UnknownShapeError(KeyError):
    """A weight was given for a name that is not one of the 52 ARKit shapes."""


@dataclass(frozen=True)
class FacePart:
    """One face layer in one pose: model-space positions and normals, fixed triangles."""

    name: str
    material: str
    joint: str
    positions: FloatArray
    normals: FloatArray
    triangles: IntArray


class _W:
    """Read-only weights with a default of 0 for shapes not given."""

    def __init__(self, weights: Mapping[str, float]) -> None:
        unknown = sorted(set(weights) - ARKIT)
        if unknown:
            raise UnknownShapeError(f"not ARKit blendshape names: {', '.join(unknown)}")
        self._w = dict(weights)

    def __call__(self, name: str) -> float:
        return float(self._w.get(name, 0.0))


# --- the head surface and its warp -------------------------------------------------------


def surface(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Front design-surface points and unit normals above face-plane coordinates (x, y)."""
    a, b, c = HEAD_RADII
    q = np.clip(1.0 - (x / a) ** 2 - (y / b) ** 2, 1e-4, None)
    z = c * np.sqrt(q)
    p = np.stack([x, y, z], axis=-1)
    return p, ellipsoid_normal(p)


def ellipsoid_normal(p: FloatArray) -> FloatArray:
    """Unit normals of the design ellipsoid at (or radially through) design points."""
    a, b, c = HEAD_RADII
    return normalize(p / np.asarray([a * a, b * b, c * c]))


def project(p: FloatArray) -> FloatArray:
    """Design points moved radially onto the design ellipsoid."""
    a, b, c = HEAD_RADII
    scale = np.linalg.norm(p / np.asarray([a, b, c]), axis=-1, keepdims=True)
    return p / np.where(scale > 1e-9, scale, 1.0)


def _taper(y: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    b = HEAD_RADII[1]
    d = np.clip(-y / b, 0.0, 1.0)
    dd = np.where((d > 0.0) & (d < 1.0), -1.0 / b, 0.0)
    sx = 1.0 - CHIN_TAPER_X * d * d
    sz = 1.0 - CHIN_TAPER_Z * d * d
    return sx, sz, -2.0 * CHIN_TAPER_X * d * dd, -2.0 * CHIN_TAPER_Z * d * dd


def warp(p: FloatArray) -> FloatArray:
    """Design-space points to model space: chin taper, then move to the head centre."""
    sx, sz, _, _ = _taper(p[:, 1])
    out: FloatArray = np.stack([p[:, 0] * sx, p[:, 1], p[:, 2] * sz], axis=-1)
    out += np.asarray(HEAD_CENTER)
    return out


# --- the skin's displacement fields ------------------------------------------------------


def _add(
    d: FloatArray,
    p: FloatArray,
    center: tuple[float, float],
    radius: float,
    vec: tuple[float, float, float],
    gate: FloatArray | float = 1.0,
) -> None:
    if not any(vec):
        return
    dist = np.hypot(p[:, 0] - center[0], p[:, 1] - center[1])
    f = bump(dist, radius) * gate * smoothstep(-0.08, 0.02, p[:, 2])
    d += f[:, None] * np.asarray(vec)


def lower_jaw(p: FloatArray) -> FloatArray:
    """How much each skin point belongs to the lower jaw (0 above the lip line, 1 below)."""
    return smoothstep(MOUTH_Y + 0.004, MOUTH_Y - 0.016, p[:, 1])


def skin_field(p: FloatArray, w: _W) -> FloatArray:
    """Per-point (dx, dy, dn) displacement of face skin: tangential x/y and along the normal."""
    d = np.zeros_like(p)
    low = lower_jaw(p)
    up = 1.0 - low
    # A small nose is a permanent bump: present in the neutral pose too.
    _add(d, p, (0.0, NOSE_Y + 0.004), 0.030, (0.0, 0.0, 0.011))
    jaw_side = 0.016 * (w("jawLeft") - w("jawRight"))
    jaw_drop = 0.9 * JAW_DROP * w("jawOpen") + 0.012 * w("tongueOut")
    _add(
        d,
        p,
        (0.0, MOUTH_Y - 0.035),
        0.16,
        (jaw_side, -jaw_drop, 0.012 * w("jawForward")),
        low,
    )
    _add(d, p, (0.0, MOUTH_Y), 0.085, (0.018 * (w("mouthLeft") - w("mouthRight")), 0.0, 0.0))
    pout = 0.011 * w("mouthPucker") + 0.010 * w("mouthFunnel")
    _add(d, p, (0.0, MOUTH_Y), 0.055, (0.0, 0.0, pout))
    _add(d, p, (0.0, MOUTH_Y + 0.016), 0.040, (0.0, 0.006 * w("mouthShrugUpper"), 0.002), up)
    _add(
        d,
        p,
        (0.0, MOUTH_Y - 0.036),
        0.050,
        (0.0, 0.009 * w("mouthShrugLower"), 0.004 * w("mouthShrugLower")),
        low,
    )
    _add(
        d,
        p,
        (0.0, MOUTH_Y - 0.012),
        0.032,
        (0.0, 0.004 * w("mouthRollLower"), -0.004 * w("mouthRollLower")),
        low,
    )
    _add(
        d,
        p,
        (0.0, MOUTH_Y + 0.010),
        0.030,
        (0.0, -0.003 * w("mouthRollUpper"), -0.004 * w("mouthRollUpper")),
        up,
    )
    _add(d, p, (0.0, MOUTH_Y - 0.012), 0.040, (0.0, 0.5 * JAW_DROP * w("mouthClose"), 0.0), low)
    for sgn, side in ((1.0, "Left"), (-1.0, "Right")):
        smile, frown = w("mouthSmile" + side), w("mouthFrown" + side)
        stretch, dimple = w("mouthStretch" + side), w("mouthDimple" + side)
        press = w("mouthPress" + side)
        out = 0.010 * smile + 0.002 * frown + 0.013 * stretch + 0.006 * dimple + 0.003 * press
        rise = 0.016 * smile - 0.013 * frown - 0.005 * stretch + 0.002 * dimple
        corner = (sgn * MOUTH_HALF_W, MOUTH_Y + 0.006)
        _add(d, p, corner, 0.048, (sgn * out, rise, -0.003 * dimple))
        _add(
            d,
            p,
            (sgn * (MOUTH_HALF_W + 0.013), MOUTH_Y + 0.002),
            0.018,
            (0.0, 0.0, -0.006 * dimple),
        )
        cheek = (sgn * CHEEK_X, CHEEK_Y)
        puff = w("cheekPuff")
        squint = w("cheekSquint" + side)
        _add(
            d,
            p,
            cheek,
            0.080,
            (sgn * 0.003 * smile, 0.014 * squint + 0.011 * smile, 0.004 * squint + 0.006 * smile),
        )
        # A puffed cheek swells forwards and sideways, so it also widens the face's outline.
        _add(
            d,
            p,
            (sgn * 0.150, CHEEK_Y - 0.005),
            0.115,
            (sgn * 0.010 * puff, -0.004 * puff, 0.042 * puff),
        )
        _add(
            d,
            p,
            (sgn * 0.028, NOSE_Y + 0.012),
            0.036,
            (0.0, 0.010 * w("noseSneer" + side), 0.002 * w("noseSneer" + side)),
        )
        _add(
            d,
            p,
            (sgn * 0.016, MOUTH_Y + 0.014),
            0.030,
            (0.0, 0.007 * w("mouthUpperUp" + side), 0.0),
            up,
        )
        _add(
            d,
            p,
            (sgn * 0.022, MOUTH_Y - 0.016),
            0.030,
            (0.0, -0.012 * w("mouthLowerDown" + side), 0.0),
            low,
        )
        _add(d, p, (sgn * 0.020, MOUTH_Y - 0.008), 0.026, (0.0, 0.004 * press, 0.0), low)
    return d


# --- building blocks for decals ---------------------------------------------------------


def _skin_at(xy: FloatArray, w: _W | None) -> tuple[FloatArray, FloatArray]:
    """Design-space skin points above face-plane points (moved by the pose's field) and normals."""
    base, _ = surface(xy[:, 0], xy[:, 1])
    if w is None:
        return base, ellipsoid_normal(base)
    d = skin_field(base, w)
    moved = project(base + np.stack([d[:, 0], d[:, 1], np.zeros(len(base))], axis=-1))
    n = ellipsoid_normal(moved)
    return moved + n * d[:, 2:3], n


_NORMAL_STEP: Final[float] = 1e-3
"""Finite-difference step (face-plane units) for the normals of decals."""


def _decal(
    name: str,
    material: str,
    xy: FloatArray,
    lift: FloatArray | float,
    triangles: IntArray,
    *,
    w: _W | None = None,
    dn: FloatArray | None = None,
    joint: str = "head",
) -> FacePart:
    """A layer lying ``lift`` (+ ``dn``) above the skin; with ``w`` it rides the skin fields.

    Its normals are the skin's own (central differences of the displaced skin
    surface), so a skin-coloured layer shades exactly like the skin under it.
    """
    skin, n = _skin_at(xy, w)
    extra = np.broadcast_to(np.asarray(lift, dtype=np.float64), (len(xy),))
    if dn is not None:
        extra = extra + dn
    design = skin + n * extra[:, None]
    hx = np.asarray([_NORMAL_STEP, 0.0])
    hy = np.asarray([0.0, _NORMAL_STEP])
    ddx = warp(_skin_at(xy + hx, w)[0]) - warp(_skin_at(xy - hx, w)[0])
    ddy = warp(_skin_at(xy + hy, w)[0]) - warp(_skin_at(xy - hy, w)[0])
    return FacePart(name, material, joint, warp(design), normalize(np.cross(ddx, ddy)), triangles)


def _grid(us: FloatArray, vs_rows: list[FloatArray]) -> FloatArray:
    """Row-major (u, v) points of a grid whose rows share the column parameters ``us``."""
    return np.concatenate([np.stack([us, v], axis=-1) for v in vs_rows])


# --- the head skin -----------------------------------------------------------------------

_SKIN_SEGMENTS: Final[int] = 34


def _skin_rings() -> list[float]:
    rings: list[float] = []
    theta = 0.035
    while theta < 1.45:
        rings.append(theta)
        theta += 0.065 if theta < 0.3 else 0.074
    theta = 1.45
    while theta < math.pi - 0.15:
        rings.append(theta)
        theta += 0.21
    return rings


def _skin_topology() -> tuple[FloatArray, IntArray]:
    """Unit-sphere directions (front pole at the nose) and triangles of the head skin."""
    nose = surface(np.asarray([0.0]), np.asarray([NOSE_Y]))[0][0]
    a, b, c = HEAD_RADII
    e3 = nose / np.asarray([a, b, c])
    e3 = e3 / np.linalg.norm(e3)
    e1 = np.asarray([1.0, 0.0, 0.0])
    e2 = np.cross(e3, e1)
    rings = _skin_rings()
    dirs = [e3]
    for theta in rings:
        for j in range(_SKIN_SEGMENTS):
            phi = 2.0 * math.pi * j / _SKIN_SEGMENTS
            dirs.append(
                math.cos(theta) * e3 + math.sin(theta) * (math.cos(phi) * e1 + math.sin(phi) * e2)
            )
    dirs.append(-e3)
    seg = _SKIN_SEGMENTS
    tris = [fan_triangles(0, list(range(1, seg + 1)))]
    tris.append(grid_triangles(len(rings), seg, wrap=True, flip=True) + 1)
    back = len(dirs) - 1
    tris.append(fan_triangles(back, list(range(back - seg, back)), flip=True))
    return np.asarray(dirs), np.concatenate(tris)


_SKIN_DIRS, _SKIN_TRIS = _skin_topology()


def head_skin(w: _W) -> FacePart:
    """The head's skin surface, deformed by the skin fields."""
    a, b, c = HEAD_RADII
    base = _SKIN_DIRS * np.asarray([a, b, c])
    d = skin_field(base, w)
    moved = project(base + np.stack([d[:, 0], d[:, 1], np.zeros(len(base))], axis=-1))
    n = ellipsoid_normal(moved)
    design = moved + n * d[:, 2:3]
    pos = warp(design)
    return FacePart("head", "skin", "head", pos, vertex_normals(pos, _SKIN_TRIS), _SKIN_TRIS)


# --- eyes ----------------------------------------------------------------------------------


def _eye_xy(sgn: float, u: FloatArray, v: FloatArray, open_scale: float) -> FloatArray:
    """Face-plane points of eye-local (u outward, v up) coordinates."""
    x = sgn * (EYE_X + u * EYE_HALF_W)
    y = EYE_Y + v * EYE_HALF_H * open_scale
    return np.stack([x, y], axis=-1)


def _v_top(u: FloatArray) -> FloatArray:
    return np.sqrt(np.clip(1.0 - u * u, 0.0, None)) * (1.0 - 0.10 * u)


def _v_bot(u: FloatArray) -> FloatArray:
    return -np.sqrt(np.clip(1.0 - u * u, 0.0, None)) * (1.0 - 0.05 * u)


def _v_closed(u: FloatArray) -> FloatArray:
    return -0.30 - 0.16 * (1.0 - np.clip(u * u, 0.0, 1.0))


def _gaze(u: FloatArray, v: FloatArray, yaw: float, pitch: float) -> tuple[FloatArray, FloatArray]:
    """Eye-local points turned on the virtual eyeball by yaw (outward) and pitch (up)."""
    r = GAZE_SPHERE
    w = np.sqrt(np.clip(r * r - u * u - v * v, 0.0, None))
    u1 = u * math.cos(yaw) + w * math.sin(yaw)
    w1 = -u * math.sin(yaw) + w * math.cos(yaw)
    v1 = v * math.cos(pitch) + w1 * math.sin(pitch)
    return u1, v1


def _lid_lift(u: FloatArray, v: FloatArray, inner: float) -> FloatArray:
    """Lid layer offset: full over the eye, easing down to :data:`LID_EDGE_LIFT` outside it."""
    r = np.hypot(u, v / 1.1)
    t = smoothstep(1.12, 1.55, r)
    return inner + (LID_EDGE_LIFT - inner) * t


def eye_parts(w: _W, sgn: float) -> list[FacePart]:
    """Sclera, iris layers, highlights, lids and lash of one eye (sgn +1 = left, on +X)."""
    side = "Left" if sgn > 0 else "Right"
    suffix = "_L" if sgn > 0 else "_R"
    blink, squint = w("eyeBlink" + side), w("eyeSquint" + side)
    wide, cheek = w("eyeWide" + side), w("cheekSquint" + side)
    look_down, look_up = w("eyeLookDown" + side), w("eyeLookUp" + side)
    look_in, look_out = w("eyeLookIn" + side), w("eyeLookOut" + side)
    open_scale = 1.0 + 0.14 * wide
    parts: list[FacePart] = []

    def decal(
        name: str,
        material: str,
        uv: FloatArray,
        lift: FloatArray | float,
        tris: IntArray,
        joint: str = "head",
    ) -> None:
        xy = _eye_xy(sgn, uv[:, 0], uv[:, 1], open_scale)
        # The right eye is the left one mirrored, which reverses the triangles' winding.
        oriented = tris if sgn > 0 else tris[:, ::-1].copy()
        parts.append(_decal(name + suffix, material, xy, lift, oriented, w=w, joint=joint))

    disc, disc_tris = polar_patch(3, 24)
    sclera = disc.copy()
    sclera[:, 1] *= np.where(
        sclera[:, 1] > 0.0, 1.0 - 0.10 * sclera[:, 0], 1.0 - 0.05 * sclera[:, 0]
    )
    decal("sclera", "sclera", sclera, SCLERA_LIFT, disc_tris)

    yaw = GAZE_YAW * (look_out - look_in)
    pitch = GAZE_PITCH * (look_up - look_down)
    iris_c = np.asarray([0.0, -0.10])

    def iris_layer(uv: FloatArray) -> FloatArray:
        u, v = _gaze(uv[:, 0], uv[:, 1], yaw, pitch)
        return np.stack([u, v], axis=-1)

    ring, ring_tris = polar_patch(3, 20)
    decal(
        "iris", "iris", iris_layer(iris_c + 0.62 * ring), IRIS_LIFT, ring_tris, joint="eye" + suffix
    )
    # The upper third of the iris is shaded darker, as anime eyes are.
    cols = np.linspace(math.radians(18.0), math.radians(162.0), 11)
    shade_rows = [0.62 * np.asarray(r) for r in (0.50, 0.78, 1.0)]
    shade = np.concatenate(
        [np.stack([r * np.cos(cols), r * np.sin(cols) * 1.0], axis=-1) for r in shade_rows]
    )
    decal(
        "iris_shade",
        "iris_shade",
        iris_layer(iris_c + shade),
        IRIS_SHADE_LIFT,
        grid_triangles(3, 11, flip=True),
        joint="eye" + suffix,
    )
    pupil, pupil_tris = polar_patch(2, 14)
    decal(
        "pupil",
        "pupil",
        iris_layer(iris_c + 0.27 * pupil * np.asarray([1.0, 1.15])),
        PUPIL_LIFT,
        pupil_tris,
        joint="eye" + suffix,
    )
    hl, hl_tris = polar_patch(1, 10)
    highlight = np.concatenate(
        [
            np.asarray([0.24, 0.30]) + hl * np.asarray([0.19, 0.22]),
            np.asarray([-0.22, -0.42]) + hl * np.asarray([0.09, 0.09]),
        ]
    )
    hl_all = np.concatenate([hl_tris, hl_tris + len(hl)])
    decal(
        "highlight",
        "highlight",
        iris_layer(highlight),
        HIGHLIGHT_LIFT,
        hl_all,
        joint="eye" + suffix,
    )

    def upper_margin(u: FloatArray) -> FloatArray:
        """Where the upper lid's edge is, in eye-local v, for this pose."""
        open_edge = _v_top(u) - 0.07
        shut = _v_closed(u) - open_edge
        return (
            open_edge
            + (blink + 0.22 * squint + 0.30 * look_down) * shut
            + 0.06 * look_up
            + 0.04 * wide
        )

    # Upper lid: rows run from the lid margin (row 0) up to well above the eye.
    us = np.linspace(-1.12, 1.12, LID_COLUMNS)
    margin = upper_margin(us)
    top = _v_top(us) + 0.60
    rows = [margin + (top - margin) * t**1.6 for t in np.linspace(0.0, 1.0, 5)]
    uv = _grid(us, rows)
    decal(
        "upper_lid",
        "skin",
        uv,
        _lid_lift(uv[:, 0], uv[:, 1], UPPER_LID_LIFT),
        grid_triangles(5, LID_COLUMNS),
    )

    # Lash line along the lid margin, thick in the middle, flicking up at the outer corner.
    ul = np.linspace(-1.02, 1.16, 17)
    m = upper_margin(ul)
    flick = 0.30 * np.clip((ul - 0.82) / 0.34, 0.0, 1.0) ** 2
    thick = 0.20 * np.clip(1.0 - ((ul - 0.1) / 1.12) ** 4, 0.0, None) + 0.05
    thick = np.where(ul > 1.0, 0.25 * np.clip((1.16 - ul) / 0.16, 0.0, 1.0), thick)
    thick = np.where(ul < -0.95, thick * np.clip((ul + 1.02) / 0.07, 0.15, 1.0), thick)
    lash_rows = [m - 0.04 + flick, m - 0.04 + flick + 0.5 * thick, m - 0.04 + flick + thick]
    decal("lash", "lash", _grid(ul, lash_rows), LASH_LIFT, grid_triangles(3, 17))

    # Lower lid: rows run from its margin (row 0) down below the eye.
    open_low = _v_bot(us) + 0.04
    meet = _v_closed(us) + 0.10
    low_margin = (
        open_low
        + blink * (meet - open_low)
        + squint * 0.42 * (meet - open_low)
        + cheek * 0.25 * (meet - open_low)
        + look_down * 0.06
        - wide * 0.05
    )
    bottom = _v_bot(us) - 0.35
    low_rows = [low_margin + (bottom - low_margin) * t**1.6 for t in np.linspace(0.0, 1.0, 4)]
    luv = _grid(us, low_rows)
    decal(
        "lower_lid",
        "skin",
        luv,
        _lid_lift(luv[:, 0], luv[:, 1], LOWER_LID_LIFT),
        grid_triangles(4, LID_COLUMNS, flip=True),
    )
    return parts


# --- brows -------------------------------------------------------------------------------


def brow(w: _W, sgn: float) -> FacePart:
    """One brow: a tapered strip, inner end (s = 0) near the nose, outer end (s = 1)."""
    side = "Left" if sgn > 0 else "Right"
    down, outer_up, inner_up = w("browDown" + side), w("browOuterUp" + side), w("browInnerUp")
    s = np.linspace(0.0, 1.0, 11)
    inner_dy = -0.040 * down + 0.032 * inner_up
    outer_dy = -0.010 * down + 0.028 * outer_up
    mid_dy = 0.010 * outer_up + 0.006 * inner_up - 0.004 * down
    dy = inner_dy * (1.0 - s) + outer_dy * s + mid_dy * np.sin(math.pi * s)
    dx = (-0.007 * down - 0.003 * inner_up) * (1.0 - s)
    x = EYE_X - 0.046 + 0.100 * s + dx
    y = BROW_Y + 0.013 * np.sin(math.pi * s**0.9) - 0.008 * s + dy
    thick = 0.0155 * (1.0 - 0.60 * s**1.3)
    rows = [np.stack([sgn * x, y], axis=-1), np.stack([sgn * x, y + thick], axis=-1)]
    xy = np.concatenate(rows)
    tris = grid_triangles(2, 11, flip=sgn < 0)
    return _decal("brow" + ("_L" if sgn > 0 else "_R"), "brow", xy, BROW_LIFT, tris)


# --- mouth -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Lips:
    """Lip curves sampled at column parameters s (−1 right corner … +1 left corner)."""

    x_up: FloatArray
    x_low: FloatArray
    y_up: FloatArray
    y_low: FloatArray
    dn_up: FloatArray
    dn_low: FloatArray
    line_top: FloatArray
    line_bottom: FloatArray


def _lips(w: _W, s: FloatArray) -> _Lips:
    mid = 1.0 - s * s
    width = MOUTH_HALF_W * (1.0 - 0.42 * w("mouthPucker") - 0.26 * w("mouthFunnel"))
    shift = 0.018 * (w("mouthLeft") - w("mouthRight"))
    x = s * width + shift
    y = MOUTH_Y + 0.006 * s * s
    x_up, y_up = x.copy(), y.copy()
    taper = np.sqrt(np.clip(1.0 - s**4, 0.0, None))
    line_top = 0.0021 * taper + mid * (0.0050 * w("mouthRollUpper") + 0.0018 * w("mouthPucker"))
    line_bottom = 0.0021 * taper + mid * (
        0.0050 * w("mouthRollLower") + 0.0026 * w("mouthPucker") + 0.0016 * w("mouthClose")
    )
    up_raise = mid * (
        0.004 * w("mouthShrugUpper")
        - 0.002 * w("mouthRollUpper")
        + 0.008 * w("mouthFunnel")
        + 0.002 * w("jawOpen")
    )
    gap = np.clip(mid, 0.0, None) ** 0.6 * (
        JAW_DROP * (w("jawOpen") - w("mouthClose"))
        + 0.016 * w("mouthFunnel")
        + 0.020 * w("tongueOut")
    )
    shrug = mid * 0.004 * w("mouthShrugLower")
    y_up = y_up + up_raise + shrug
    y_low = y + shrug - gap
    x_low = x + mid * 0.016 * (w("jawLeft") - w("jawRight"))
    dn = mid * (0.011 * w("mouthPucker") + 0.010 * w("mouthFunnel"))
    dn_up = dn.copy()
    dn_low = dn + mid * (0.010 * w("jawForward") + 0.002 * w("mouthShrugLower"))
    for sgn, side in ((1.0, "Left"), (-1.0, "Right")):
        k = np.clip((1.0 + sgn * s) / 2.0, 0.0, 1.0) ** 2.5
        half = mid * np.clip((1.0 + sgn * s) / 2.0, 0.0, 1.0) ** 2
        smile, frown = w("mouthSmile" + side), w("mouthFrown" + side)
        stretch, dimple = w("mouthStretch" + side), w("mouthDimple" + side)
        press = w("mouthPress" + side)
        out = 0.010 * smile + 0.002 * frown + 0.013 * stretch + 0.006 * dimple + 0.006 * press
        rise = 0.016 * smile - 0.013 * frown - 0.005 * stretch + 0.002 * dimple
        x_up = x_up + sgn * k * out
        x_low = x_low + sgn * k * out
        y_up = (
            y_up
            + k * rise
            + half * (0.009 * w("mouthUpperUp" + side) + 0.003 * w("noseSneer" + side))
        )
        y_low = y_low + k * rise - half * 0.018 * w("mouthLowerDown" + side)
        line_bottom = line_bottom + half * 0.0050 * press
        line_top = line_top + half * 0.0020 * press
    return _Lips(x_up, x_low, y_up, y_low, dn_up, dn_low, line_top, line_bottom)


def mouth_parts(w: _W) -> list[FacePart]:
    """The mouth: dark cavity between the lip curves, lip line, upper teeth and tongue."""
    parts: list[FacePart] = []
    cols = 15
    s = np.linspace(-1.0, 1.0, cols)
    lips = _lips(w, s)
    ts = np.asarray([0.0, 0.3, 0.65, 1.0])
    xy = np.concatenate(
        [
            np.stack(
                [
                    lips.x_up + (lips.x_low - lips.x_up) * t,
                    lips.y_up + (lips.y_low - lips.y_up) * t,
                ],
                axis=-1,
            )
            for t in ts
        ]
    )
    dn = np.concatenate([lips.dn_up + (lips.dn_low - lips.dn_up) * t for t in ts])
    parts.append(
        _decal("mouth", "mouth", xy, CAVITY_LIFT, grid_triangles(len(ts), cols, flip=True), dn=dn)
    )

    line = np.concatenate(
        [
            np.stack([lips.x_up, lips.y_up - lips.line_bottom], axis=-1),
            np.stack([lips.x_up, lips.y_up + lips.line_top], axis=-1),
        ]
    )
    parts.append(
        _decal(
            "lip_line",
            "lip_line",
            line,
            LIP_LINE_LIFT,
            grid_triangles(2, cols),
            dn=np.concatenate([lips.dn_up, lips.dn_up]),
        )
    )

    st = np.linspace(-0.62, 0.62, 9)
    tl = _lips(w, st)
    gap = np.clip(tl.y_up - tl.y_low, 0.0, None)
    tooth = np.minimum(0.0065, 0.30 * gap)
    teeth = np.concatenate(
        [
            np.stack([tl.x_up, tl.y_up - tooth], axis=-1),
            np.stack([tl.x_up, tl.y_up - 0.0004], axis=-1),
        ]
    )
    parts.append(
        _decal(
            "teeth",
            "teeth",
            teeth,
            TEETH_LIFT,
            grid_triangles(2, 9),
            dn=np.concatenate([tl.dn_up, tl.dn_up]),
        )
    )

    sg = np.linspace(-0.72, 0.72, 9)
    gl = _lips(w, sg)
    ggap = np.clip(gl.y_up - gl.y_low, 0.0, None)
    round_ = np.sqrt(np.clip(1.0 - (sg / 0.72) ** 2, 0.0, None))
    out = w("tongueOut")
    top = gl.y_low + np.minimum(0.013, 0.42 * ggap) * (0.35 + 0.65 * round_)
    rows_y = [
        gl.y_low - 0.036 * out * round_**0.7,
        gl.y_low - 0.016 * out * round_**0.5 + 0.0004,
        top,
    ]
    rows_dn = [
        gl.dn_low + 0.018 * out * round_,
        gl.dn_low + 0.012 * out,
        gl.dn_low,
    ]
    tongue = np.concatenate(
        [
            np.stack([gl.x_low * (1.0 - 0.15 * out * (1 - i / 2)), ry], axis=-1)
            for i, ry in enumerate(rows_y)
        ]
    )
    parts.append(
        _decal(
            "tongue",
            "tongue",
            tongue,
            TONGUE_LIFT,
            grid_triangles(3, 9),
            dn=np.concatenate(rows_dn),
        )
    )
    return parts


# --- cheeks and nose ---------------------------------------------------------------------


def blush(w: _W, sgn: float) -> FacePart:
    """A soft oval of blush on one cheek."""
    disc, tris = polar_patch(2, 18)
    xy = np.stack(
        [sgn * (CHEEK_X + 0.012) + disc[:, 0] * 0.034, CHEEK_Y + 0.004 + disc[:, 1] * 0.017],
        axis=-1,
    )
    return _decal("blush" + ("_L" if sgn > 0 else "_R"), "blush", xy, BLUSH_LIFT, tris, w=w)


def nose(w: _W) -> FacePart:
    """A tiny shadow under the nose tip, the way chibi faces draw a nose."""
    disc, tris = polar_patch(1, 12)
    xy = np.stack([disc[:, 0] * 0.0085, NOSE_Y - 0.006 + disc[:, 1] * 0.0042], axis=-1)
    return _decal("nose", "nose", xy, NOSE_LIFT, tris, w=w)


def evaluate(weights: Mapping[str, float]) -> list[FacePart]:
    """Every face part (skin and layers) for the given ARKit weights; missing names weigh 0."""
    w = _W(weights)
    parts = [head_skin(w)]
    for sgn in (1.0, -1.0):
        parts.extend(eye_parts(w, sgn))
        parts.append(brow(w, sgn))
        parts.append(blush(w, sgn))
    parts.append(nose(w))
    parts.extend(mouth_parts(w))
    return parts


def eye_center(sgn: float) -> tuple[float, float, float]:
    """Model-space centre of the virtual eyeball behind one eye (where the eye joint sits)."""
    xy = _eye_xy(sgn, np.asarray([0.0]), np.asarray([-0.10]), 1.0)
    p, n = surface(xy[:, 0], xy[:, 1])
    centre = p - n * (GAZE_SPHERE * EYE_HALF_W)
    out = warp(centre)[0]
    return (float(out[0]), float(out[1]), float(out[2]))
