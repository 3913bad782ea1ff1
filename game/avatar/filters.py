"""The One Euro filter, vectorised: light, adaptive smoothing for many channels at once.

Theory of operation
-------------------
Casiez, Roussel and Vogel's One Euro filter (CHI 2012) is a first-order
low-pass filter whose cutoff rises with the signal's speed::

    dx̂  ← dx̂ + α(te, d_cutoff) · ((x − x̂) / te − dx̂)      (smoothed speed)
    fc  = min_cutoff + beta · |dx̂|
    x̂  ← x̂ + α(te, fc) · (x − x̂)
    α(te, fc) = 1 / (1 + τ / te),   τ = 1 / (2π · fc)

At rest the cutoff stays at ``min_cutoff`` and jitter is smoothed away; when
the signal moves fast the cutoff climbs and the output follows with almost no
lag. ``te`` comes from the samples' own timestamps, so the filter behaves the
same at 15, 30 or 60 samples per second. This class filters a whole vector
(the 52 blendshapes and the head pose) per call, with per-channel parameters,
in a handful of numpy operations.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


class FilterSettingsError(ValueError):
    """Non-positive cutoffs, a negative beta, or parameter arrays of the wrong size."""


def _param(value: float | npt.ArrayLike, size: int, name: str, *, positive: bool) -> FloatArray:
    arr = np.broadcast_to(np.asarray(value, dtype=np.float64), (size,)).copy()
    if not np.all(np.isfinite(arr)):
        raise FilterSettingsError(f"{name} must be finite")
    if positive and not np.all(arr > 0.0):
        raise FilterSettingsError(f"{name} must be positive")
    if not positive and not np.all(arr >= 0.0):
        raise FilterSettingsError(f"{name} must not be negative")
    return arr


class OneEuroFilter:
    """A One Euro filter over ``size`` channels, each with its own parameters."""

    __slots__ = ("_beta", "_d_cutoff", "_dx", "_min_cutoff", "_t", "_x", "size")

    def __init__(
        self,
        size: int,
        *,
        min_cutoff: float | npt.ArrayLike,
        beta: float | npt.ArrayLike,
        d_cutoff: float | npt.ArrayLike = 1.0,
    ) -> None:
        if size < 1:
            raise FilterSettingsError(f"size must be at least 1, got {size}")
        self.size = size
        self._min_cutoff = _param(min_cutoff, size, "min_cutoff", positive=True)
        self._beta = _param(beta, size, "beta", positive=False)
        self._d_cutoff = _param(d_cutoff, size, "d_cutoff", positive=True)
        self._x: FloatArray | None = None
        self._dx: FloatArray = np.zeros(size)
        self._t = -math.inf

    @property
    def value(self) -> FloatArray | None:
        """The last output (None before the first sample); do not modify it."""
        return self._x

    def reset(self) -> None:
        """Forget the history: the next sample passes through unfiltered."""
        self._x = None
        self._dx = np.zeros(self.size)
        self._t = -math.inf

    def __call__(self, x: FloatArray, t: float) -> FloatArray:
        """Filter the sample ``x`` taken at ``t`` seconds; a repeated or older ``t`` changes nothing."""
        if self._x is None:
            self._x = np.array(x, dtype=np.float64)
            self._t = t
            return self._x
        te = t - self._t
        if not te > 0.0:
            return self._x
        self._t = t
        two_pi_te = 2.0 * math.pi * te
        # α = 1 / (1 + τ/te) with τ = 1/(2π fc), written as 2π·fc·te / (2π·fc·te + 1).
        a_d = two_pi_te * self._d_cutoff
        a_d /= a_d + 1.0
        delta = x - self._x
        self._dx += a_d * (delta / te - self._dx)
        cutoff = self._min_cutoff + self._beta * np.abs(self._dx)
        a = two_pi_te * cutoff
        a /= a + 1.0
        self._x = self._x + a * delta
        return self._x
