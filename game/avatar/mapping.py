"""From a face sample to avatar controls: the mirror, slider sources, head and eye angles.

Theory of operation
-------------------
This module is pure (numpy and :mod:`shared` only): it decides *what* each
avatar control should show; :mod:`game.avatar.driver` writes it to Panda3D.

**The mirror.** The tracker reports the subject's own left and right (the
camera image is never mirrored, see :mod:`game.capture`). The student's own
avatar is shown as a mirror: when they wink their left eye, the wink appears
on the left of the screen, as in a bathroom mirror or a selfie preview. The
avatar faces the camera, so its *own* left eye is on the screen's right;
a mirror therefore needs the swap, and it happens exactly once, here:
:func:`avatar_weights` permutes the 52 slots with
:data:`shared.blendshapes.MIRROR` (``eyeBlinkLeft`` drives the avatar's
``eyeBlinkRight``) and :func:`head_hpr` negates yaw and roll. Pitch is
unchanged. With ``mirror=False`` (someone else's avatar, seen face to face)
shapes stay on the avatar's own matching side and the head turns the way the
subject turned.

**Panda3D angles.** Our GLBs face -Y in Panda's Z-up space with the subject's
left on +X. A joint's ``H`` turns the face towards +X for positive values,
positive ``P`` bows the head (nose down), positive ``R`` tilts the head
towards -X. Hence, unmirrored: ``H = yaw``, ``P = -pitch``, ``R = -roll``;
mirrored: ``H = -yaw``, ``P = -pitch``, ``R = roll``. The rotation is split
between neck and head (:data:`game.config.NECK_SHARE`).

**Gaze.** Our avatar turns its irises with the ``eyeLook*`` morphs. A model
that has eye joints but lacks those morphs gets its gaze on the joints instead
(:func:`eye_hpr`), never both (that would double the turn).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from game.config import (
    EYE_JOINT_PITCH_DEG,
    EYE_JOINT_YAW_DEG,
    HEAD_LIMITS_DEG,
    NECK_SHARE,
)
from shared.blendshapes import ARKIT_NAMES, COUNT, INDEX, MIRROR, NAMES
from shared.face import FaceSample

FloatArray = npt.NDArray[np.float64]
HPR = tuple[float, float, float]

TRACKED_NAMES: frozenset[str] = frozenset(NAMES[1:])
"""ARKit names the tracker estimates (all but ``tongueOut``, which MediaPipe lacks)."""

_MIRROR_INDEX: npt.NDArray[np.intp] = np.asarray(MIRROR, dtype=np.intp)


class AvatarMode(StrEnum):
    """How the avatar follows the face this frame."""

    LIVE = "live"
    """Mirror the newest sample."""
    FROZEN = "frozen"
    """Tracking is uncertain or lost: hold the last pose."""
    ASLEEP = "asleep"
    """The Distraction Guard says asleep: eyes shut, head droops, "Zzz"."""


@dataclass(frozen=True, slots=True)
class SliderPlan:
    """Which morph sliders a model has and which avatar-space slot drives each.

    ``names[k]`` is the ARKit name of slider ``k`` and ``slots[k]`` its index
    into the 52 avatar-space weights (MediaPipe order, already mirrored when
    the driver mirrors). ``missing`` lists the ARKit names the model lacks.
    """

    names: tuple[str, ...]
    slots: tuple[int, ...]
    missing: tuple[str, ...]

    @property
    def slot_array(self) -> npt.NDArray[np.intp]:
        """``slots`` as an index array, for one fancy-indexing gather per frame."""
        return np.asarray(self.slots, dtype=np.intp)


def slider_plan(available: Iterable[str]) -> SliderPlan:
    """Plan the sliders for a model whose morph targets are ``available`` (ARKit-named).

    Sliders are driven in :data:`ARKIT_NAMES` order; ``tongueOut`` is listed
    as present or missing like any other name but has no tracker slot, so it
    is never driven (it stays at its rest weight).
    """
    have = set(available)
    names = tuple(n for n in ARKIT_NAMES if n in have and n in TRACKED_NAMES)
    missing = tuple(n for n in ARKIT_NAMES if n not in have)
    return SliderPlan(names, tuple(INDEX[n] for n in names), missing)


def avatar_weights(sample: FaceSample, *, mirror: bool) -> FloatArray:
    """The sample's 52 weights as the avatar should show them (mirrored when asked)."""
    weights = np.asarray(sample.blendshapes, dtype=np.float64)
    return weights[_MIRROR_INDEX] if mirror else weights


def _clamp(value: float, limit: float) -> float:
    return -limit if value < -limit else limit if value > limit else value


def head_hpr(yaw: float, pitch: float, roll: float, *, mirror: bool) -> HPR:
    """Panda3D head rotation (H, P, R degrees) for a tracked pose, clamped to the avatar's range."""
    y_lim, p_lim, r_lim = HEAD_LIMITS_DEG
    sign = -1.0 if mirror else 1.0
    return (
        _clamp(sign * yaw, y_lim),
        _clamp(-pitch, p_lim),
        _clamp(-sign * roll, r_lim),
    )


def split_hpr(hpr: HPR, neck_share: float = NECK_SHARE) -> tuple[HPR, HPR]:
    """Divide a head rotation into (neck, head) parts that add up to it."""
    h, p, r = hpr
    neck = (h * neck_share, p * neck_share, r * neck_share)
    return neck, (h - neck[0], p - neck[1], r - neck[2])


def eye_hpr(weights: FloatArray, side: str) -> HPR:
    """Eye-joint rotation for the avatar's own ``side`` ("Left"/"Right") from avatar-space weights.

    ``eyeLookOut`` turns an eye away from the nose: towards +X (positive H)
    for the left eye, towards -X for the right one; ``eyeLookUp`` raises it
    (negative P).
    """
    if side not in ("Left", "Right"):
        raise ValueError(f"side must be 'Left' or 'Right', got {side!r}")
    look_out = weights[INDEX["eyeLookOut" + side]]
    look_in = weights[INDEX["eyeLookIn" + side]]
    look_up = weights[INDEX["eyeLookUp" + side]]
    look_down = weights[INDEX["eyeLookDown" + side]]
    outward = 1.0 if side == "Left" else -1.0
    h = outward * EYE_JOINT_YAW_DEG * float(look_out - look_in)
    p = EYE_JOINT_PITCH_DEG * float(look_down - look_up)
    return (h, p, 0.0)


def shape_vector(shapes: Mapping[str, float]) -> FloatArray:
    """52 avatar-space weights with the named shapes set and everything else 0."""
    out = np.zeros(COUNT)
    for name, weight in shapes.items():
        out[INDEX[name]] = weight
    return out
