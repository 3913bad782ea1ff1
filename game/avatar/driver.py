"""Drives an :class:`~game.avatar.rig.AvatarRig` from face samples, once per rendered frame.

Theory of operation
-------------------
:meth:`AvatarDriver.update` is called by the frame task with the newest
tracker sample, the mode the scene decided (:class:`AvatarMode`) and the
frame's ``dt``:

1. **Live**: a sample not seen before (new ``t``) is mirrored
   (:func:`~game.avatar.mapping.avatar_weights`, :func:`~game.avatar.mapping.head_hpr`)
   and smoothed by one vectorised One Euro filter over 52 weights + 3 angles
   (parameters in :mod:`game.config`). The newest sample is applied in the
   frame it is read, so the avatar is at most one rendered frame behind the
   tracker. **Frozen** (and live frames with no new sample) hold the last pose.
2. **Asleep** blends towards the asleep pose (eyes shut, head bowed, "Zzz")
   over :data:`~game.config.SLEEP_EASE_S`; leaving it blends back.
3. Weights within :data:`~game.config.SHAPE_DEAD_ZONE` of 0 become exactly 0
   (so a still face's noise floor writes nothing), the rest rescale
   continuously. The result is written: sliders whose value moved less than
   :data:`~game.config.SLIDER_EPSILON` are skipped; the slot→slider gather is
   one precomputed numpy index. Head rotation is split between neck and head.

Per-frame Python cost is a dozen small numpy operations plus one C++ call per
changed slider; see ``bench/render.py`` for measurements.
"""

from __future__ import annotations

import numpy as np

from game.avatar.filters import FloatArray, OneEuroFilter
from game.avatar.mapping import (
    AvatarMode,
    avatar_weights,
    eye_hpr,
    head_hpr,
    shape_vector,
    split_hpr,
)
from game.avatar.rig import AvatarRig
from game.config import (
    POSE_BETA,
    POSE_D_CUTOFF_HZ,
    POSE_MIN_CUTOFF_HZ,
    SHAPE_BETA,
    SHAPE_D_CUTOFF_HZ,
    SHAPE_DEAD_ZONE,
    SHAPE_MIN_CUTOFF_HZ,
    SLEEP_EASE_S,
    SLEEP_HEAD_HPR,
    SLEEP_NECK_HPR,
    SLEEP_SHAPES,
    SLIDER_EPSILON,
)
from shared.blendshapes import COUNT
from shared.face import FaceSample

CHANNELS = COUNT + 3
"""Filtered channels: the 52 weights, then H, P, R."""

_EYE_LOOKS = ("eyeLookDown", "eyeLookIn", "eyeLookOut", "eyeLookUp")
_DEAD_ZONE_SCALE = 1.0 / (1.0 - SHAPE_DEAD_ZONE)


def _smoothstep(x: float) -> float:
    return x * x * (3.0 - 2.0 * x)


def _lerp3(
    a: tuple[float, float, float], b: tuple[float, float, float], s: float
) -> tuple[float, float, float]:
    return (a[0] + (b[0] - a[0]) * s, a[1] + (b[1] - a[1]) * s, a[2] + (b[2] - a[2]) * s)


def make_filter() -> OneEuroFilter:
    """The One Euro filter the driver uses: shape parameters for weights, pose ones for angles."""

    def per_channel(shape: float, pose: float) -> FloatArray:
        return np.concatenate([np.full(COUNT, shape), np.full(3, pose)])

    return OneEuroFilter(
        CHANNELS,
        min_cutoff=per_channel(SHAPE_MIN_CUTOFF_HZ, POSE_MIN_CUTOFF_HZ),
        beta=per_channel(SHAPE_BETA, POSE_BETA),
        d_cutoff=per_channel(SHAPE_D_CUTOFF_HZ, POSE_D_CUTOFF_HZ),
    )


class AvatarDriver:
    """Turns face samples into slider values and joint rotations for one avatar."""

    def __init__(self, rig: AvatarRig, *, mirror: bool = True, smoothing: bool = True) -> None:
        self.rig = rig
        self.mirror = mirror
        self.smoothing = smoothing
        self._filter = make_filter()
        self._slots = rig.plan.slot_array
        self._setters = rig.setters
        self._written = np.full(len(self._slots), np.nan)
        self._live = np.zeros(COUNT)
        self._live_hpr: tuple[float, float, float] = (0.0, 0.0, 0.0)
        self._shown = np.zeros(COUNT)
        self._last_t: float | None = None
        self._sleep = 0.0
        self._time = 0.0
        self._sleep_shapes = shape_vector(SLEEP_SHAPES)
        have = set(rig.slider_names)
        self._eye_joint_sides = tuple(
            (side, joint)
            for side, joint in (("Left", rig.eye_left), ("Right", rig.eye_right))
            if joint is not None and not all(look + side in have for look in _EYE_LOOKS)
        )
        self.frames_applied = 0
        """Samples taken into the pose so far (new samples in live mode)."""

    # -- queries ---------------------------------------------------------------------------

    @property
    def weights(self) -> FloatArray:
        """The 52 avatar-space weights shown after the last update (copy)."""
        return self._shown.copy()

    def slider_value(self, name: str) -> float:
        """The value last written to the avatar's slider ``name`` (after the dead zone)."""
        k = self.rig.plan.names.index(name)
        return float(self._written[k])

    @property
    def sleep_amount(self) -> float:
        """How far into the asleep pose the avatar is, 0…1."""
        return self._sleep

    @property
    def last_sample_t(self) -> float | None:
        """Time of the newest sample applied, if any."""
        return self._last_t

    # -- the per-frame step ---------------------------------------------------------------

    def update(self, sample: FaceSample | None, mode: AvatarMode, dt: float) -> None:
        """Advance by ``dt`` seconds showing ``sample`` as ``mode`` says; call once per frame."""
        self._time += dt
        if (
            mode is AvatarMode.LIVE
            and sample is not None
            and sample.present
            and sample.t != self._last_t
        ):
            self._take(sample)
        target = 1.0 if mode is AvatarMode.ASLEEP else 0.0
        if self._sleep != target:
            step = dt / SLEEP_EASE_S
            self._sleep = (
                min(target, self._sleep + step)
                if target > self._sleep
                else max(target, self._sleep - step)
            )
        s = _smoothstep(self._sleep)
        shown = self._live + (self._sleep_shapes - self._live) * s if s > 0.0 else self._live
        self._shown = shown
        self._write_sliders(shown)
        self._write_joints(s)
        self.rig.zzz.update(s, self._time)

    def _take(self, sample: FaceSample) -> None:
        x = np.empty(CHANNELS)
        x[:COUNT] = avatar_weights(sample, mirror=self.mirror)
        x[COUNT:] = head_hpr(sample.yaw, sample.pitch, sample.roll, mirror=self.mirror)
        y = self._filter(x, sample.t) if self.smoothing else x
        self._live = y[:COUNT]
        h, p, r = y[COUNT:].tolist()
        self._live_hpr = (h, p, r)
        self._last_t = sample.t
        self.frames_applied += 1

    def _write_sliders(self, shown: FloatArray) -> None:
        values = np.maximum(shown[self._slots] - SHAPE_DEAD_ZONE, 0.0) * _DEAD_ZONE_SCALE
        # NaN (never written) compares False, so it counts as changed.
        changed = (~(np.abs(values - self._written) < SLIDER_EPSILON)).nonzero()[0]
        if changed.size == 0:
            return
        setters = self._setters
        new = values[changed]
        for k, v in zip(changed.tolist(), new.tolist(), strict=True):
            setters[k](v)
        self._written[changed] = new

    def _write_joints(self, s: float) -> None:
        rig = self.rig
        neck, head = split_hpr(self._live_hpr)
        if s > 0.0:
            neck = _lerp3(neck, SLEEP_NECK_HPR, s)
            head = _lerp3(head, SLEEP_HEAD_HPR, s)
        if rig.neck is not None:
            rig.neck.set_hpr(*neck)
            if rig.head is not None:
                rig.head.set_hpr(*head)
        elif rig.head is not None:
            # No neck joint: the head takes the whole rotation.
            rig.head.set_hpr(neck[0] + head[0], neck[1] + head[1], neck[2] + head[2])
        for side, joint in self._eye_joint_sides:
            joint.set_hpr(*eye_hpr(self._shown, side))
