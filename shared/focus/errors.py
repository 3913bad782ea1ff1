"""Named errors of the focus rules."""

from __future__ import annotations


class FocusError(ValueError):
    """Base class of every error the focus rules raise."""


class OutOfOrderSampleError(FocusError):
    """A sample (or a query time) earlier than the last one seen; nothing was changed."""


class InvalidSettingsError(FocusError):
    """A threshold, duration or time constant that is NaN, infinite or outside its range."""


class InvalidCalibrationError(InvalidSettingsError):
    """A calibration with the wrong number of neutral weights, or out-of-range values."""


class NoUsableSamplesError(InvalidCalibrationError):
    """Calibration was asked for, but no sample showed a confidently tracked face."""


class GuardTransitionError(FocusError):
    """A Distraction Guard signal that the transition table does not allow in the current state."""
