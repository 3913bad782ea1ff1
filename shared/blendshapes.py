"""The 52 face blendshape names in MediaPipe's output order, and their one-byte quantisation.

MediaPipe's FaceLandmarker returns 52 categories: slot 0 is ``_neutral`` and the
other 51 are ARKit names. ARKit itself has 52 shapes: the same 51 plus
``tongueOut``, which MediaPipe does not estimate. Avatars therefore carry all 52
ARKit morph targets (:data:`ARKIT_NAMES`), while samples and wire frames carry
MediaPipe's 52 slots (:data:`NAMES`).

``*Left``/``*Right`` always refer to the subject's own face.
"""

from __future__ import annotations

from typing import Final

NAMES: Final[tuple[str, ...]] = (
    "_neutral",
    "browDownLeft",
    "browDownRight",
    "browInnerUp",
    "browOuterUpLeft",
    "browOuterUpRight",
    "cheekPuff",
    "cheekSquintLeft",
    "cheekSquintRight",
    "eyeBlinkLeft",
    "eyeBlinkRight",
    "eyeLookDownLeft",
    "eyeLookDownRight",
    "eyeLookInLeft",
    "eyeLookInRight",
    "eyeLookOutLeft",
    "eyeLookOutRight",
    "eyeLookUpLeft",
    "eyeLookUpRight",
    "eyeSquintLeft",
    "eyeSquintRight",
    "eyeWideLeft",
    "eyeWideRight",
    "jawForward",
    "jawLeft",
    "jawOpen",
    "jawRight",
    "mouthClose",
    "mouthDimpleLeft",
    "mouthDimpleRight",
    "mouthFrownLeft",
    "mouthFrownRight",
    "mouthFunnel",
    "mouthLeft",
    "mouthLowerDownLeft",
    "mouthLowerDownRight",
    "mouthPressLeft",
    "mouthPressRight",
    "mouthPucker",
    "mouthRight",
    "mouthRollLower",
    "mouthRollUpper",
    "mouthShrugLower",
    "mouthShrugUpper",
    "mouthSmileLeft",
    "mouthSmileRight",
    "mouthStretchLeft",
    "mouthStretchRight",
    "mouthUpperUpLeft",
    "mouthUpperUpRight",
    "noseSneerLeft",
    "noseSneerRight",
)
"""MediaPipe's 52 output slots, in order: ``_neutral`` then 51 ARKit names."""

COUNT: Final[int] = len(NAMES)

INDEX: Final[dict[str, int]] = {name: i for i, name in enumerate(NAMES)}
"""Name → slot in :data:`NAMES`."""

ARKIT_NAMES: Final[tuple[str, ...]] = (*NAMES[1:], "tongueOut")
"""All 52 ARKit blendshape names: MediaPipe's 51 plus ``tongueOut``."""


class UnknownBlendshapeError(KeyError):
    """A blendshape name or slot that is not one of the 52."""


def index_of(name: str) -> int:
    """The MediaPipe slot of a blendshape name."""
    try:
        return INDEX[name]
    except KeyError:
        raise UnknownBlendshapeError(f"unknown blendshape name {name!r}") from None


def name_of(index: int) -> str:
    """The blendshape name of a MediaPipe slot (0–51)."""
    if not 0 <= index < COUNT:
        raise UnknownBlendshapeError(f"blendshape slot {index} is outside 0..{COUNT - 1}")
    return NAMES[index]


def mirrored_name(name: str) -> str:
    """The name of the same shape on the other side of the face (``...Left`` ↔ ``...Right``)."""
    if name.endswith("Left"):
        return name[:-4] + "Right"
    if name.endswith("Right"):
        return name[:-5] + "Left"
    return name


MIRROR: Final[tuple[int, ...]] = tuple(INDEX[mirrored_name(n)] for n in NAMES)
"""Slot permutation that swaps every Left shape with its Right twin (what a mirrored image does)."""


def quantize(weight: float) -> int:
    """A weight in [0, 1] as one byte (0–255), rounding to nearest; out-of-range values clamp."""
    if weight <= 0.0:
        return 0
    if weight >= 1.0:
        return 255
    return int(weight * 255.0 + 0.5)


def dequantize(byte: int) -> float:
    """The weight in [0, 1] that a quantised byte stands for."""
    return byte / 255.0
