"""Head pose (yaw, pitch, roll in degrees) from MediaPipe's facial transformation matrix.

MediaPipe's matrix maps the canonical face model into camera space:
``p_camera = M @ p_face``. Camera space follows OpenGL: **x** to the right of
the (un-mirrored) image, **y** up, **z** out of the screen towards the viewer;
the face sits at negative z. The canonical face looks along its own +z, has +y
up and +x towards the image's right when frontal, which is the subject's own
**left** (a camera that is not mirrored sees the subject's left hand on the
right of the picture).

We decompose the rotation part as intrinsic yaw → pitch → roll,
``R = Ry(yaw) · Rx(-pitch) · Rz(-roll)``, so that the signs match
:mod:`shared.face`:

- yaw   = atan2(R[0][2], R[2][2])   > 0: the nose turns towards +x, the subject's left;
- pitch = asin(R[1][2])             > 0: the nose points up (chin up);
- roll  = -atan2(R[1][0], R[1][1])  > 0: the top of the head leans towards +x, i.e.
  towards the subject's left shoulder (the face turns clockwise on screen).

Mirroring the image negates yaw and roll and keeps pitch. The angles are in the
camera's frame: a face that looks straight at a camera from the top of the frame
has a negative pitch (it looks down the camera's axis). Calibration removes that
per-user offset.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

MatrixLike = Sequence[Sequence[float]] | npt.NDArray[np.floating[Any]]
"""A 3×3 rotation or 4×4 transformation, as nested sequences or a numpy array."""


class PoseMatrixError(ValueError):
    """A transformation matrix that is not 3×3/4×4, not finite, or has a degenerate rotation."""


@dataclass(frozen=True, slots=True)
class HeadPose:
    """Head orientation in degrees, with the sign conventions of :mod:`shared.face`."""

    yaw: float
    pitch: float
    roll: float


def _column_normalised(m: MatrixLike) -> list[list[float]]:
    try:
        rows = [[float(m[r][c]) for c in range(3)] for r in range(3)]
    except (IndexError, TypeError) as exc:
        raise PoseMatrixError("pose matrix must be 3×3 or 4×4") from exc
    for c in range(3):
        norm = math.sqrt(sum(rows[r][c] ** 2 for r in range(3)))
        # The matrix may carry a uniform scale (face size); only the directions matter.
        if not math.isfinite(norm) or norm < 1e-9:
            raise PoseMatrixError(f"pose matrix column {c} is degenerate (norm {norm!r})")
        for r in range(3):
            rows[r][c] /= norm
    return rows


def pose_from_matrix(matrix: MatrixLike) -> HeadPose:
    """Yaw, pitch and roll in degrees from a 3×3 rotation or a 4×4 transformation matrix."""
    r = _column_normalised(matrix)
    yaw = math.degrees(math.atan2(r[0][2], r[2][2]))
    pitch = math.degrees(math.asin(max(-1.0, min(1.0, r[1][2]))))
    roll = -math.degrees(math.atan2(r[1][0], r[1][1]))
    # Adding 0.0 turns -0.0 into 0.0, so a frontal face reads as exactly zero.
    return HeadPose(yaw=yaw + 0.0, pitch=pitch + 0.0, roll=roll + 0.0)


def matrix_from_pose(yaw: float, pitch: float, roll: float) -> list[list[float]]:
    """The 3×3 rotation for this yaw, pitch and roll in degrees (inverse of the function above)."""
    psi, theta, phi = math.radians(yaw), math.radians(-pitch), math.radians(-roll)
    cy, sy = math.cos(psi), math.sin(psi)
    cx, sx = math.cos(theta), math.sin(theta)
    cz, sz = math.cos(phi), math.sin(phi)
    return [
        [cy * cz + sy * sx * sz, -cy * sz + sy * sx * cz, sy * cx],
        [cx * sz, cx * cz, -sx],
        [-sy * cz + cy * sx * sz, sy * sz + cy * sx * cz, cy * cx],
    ]
