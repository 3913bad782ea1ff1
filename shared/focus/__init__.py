"""Focus rules: per-frame attention, the Distraction Guard, the focus score, blinks and confusion.

Pure and shared: the client runs these on its own face stream, the server runs the very same rules
on relayed frames, and replays fold recorded frames through them. Time only ever comes in as the
samples' ``t``.
"""

from __future__ import annotations

from shared.focus.analyzer import FocusAnalyzer, FocusEvent, FocusSummary, FrameResult, replay
from shared.focus.attention import (
    DEFAULT_CALIBRATION,
    Calibration,
    Thresholds,
    brow_furrowed,
    classify,
    eyes_closed,
    horizontal_gaze,
    vertical_gaze,
)
from shared.focus.blink import BLINK_MAX_S, BLINK_WINDOW_S, BlinkCounter
from shared.focus.confusion import ConfusionEpisode, ConfusionTracker
from shared.focus.errors import (
    FocusError,
    GuardTransitionError,
    InvalidCalibrationError,
    InvalidSettingsError,
    NoUsableSamplesError,
    OutOfOrderSampleError,
)
from shared.focus.guard import (
    AWAY_FLAG_S,
    GAP_CAP_S,
    SLEEP_AFTER_S,
    TRANSITIONS,
    AwayEnded,
    AwayFlagged,
    AwayStarted,
    DistractionGuard,
    FellAsleep,
    GuardEvent,
    GuardSignal,
    GuardState,
    GuardTotals,
    TimerPaused,
    TimerResumed,
    WokeUp,
    next_state,
)
from shared.focus.score import INITIAL_SCORE, SCORE_TAU_S, approach, update_score

__all__ = [
    "AWAY_FLAG_S",
    "BLINK_MAX_S",
    "BLINK_WINDOW_S",
    "DEFAULT_CALIBRATION",
    "GAP_CAP_S",
    "INITIAL_SCORE",
    "SCORE_TAU_S",
    "SLEEP_AFTER_S",
    "TRANSITIONS",
    "AwayEnded",
    "AwayFlagged",
    "AwayStarted",
    "BlinkCounter",
    "Calibration",
    "ConfusionEpisode",
    "ConfusionTracker",
    "DistractionGuard",
    "FellAsleep",
    "FocusAnalyzer",
    "FocusError",
    "FocusEvent",
    "FocusSummary",
    "FrameResult",
    "GuardEvent",
    "GuardSignal",
    "GuardState",
    "GuardTotals",
    "GuardTransitionError",
    "InvalidCalibrationError",
    "InvalidSettingsError",
    "NoUsableSamplesError",
    "OutOfOrderSampleError",
    "Thresholds",
    "TimerPaused",
    "TimerResumed",
    "WokeUp",
    "approach",
    "brow_furrowed",
    "classify",
    "eyes_closed",
    "horizontal_gaze",
    "next_state",
    "replay",
    "update_score",
    "vertical_gaze",
]
