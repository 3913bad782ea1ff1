"""The 0–100 focus score: an exponential moving average of "was the student focused".

Theory of operation
-------------------
The score chases a target with time constant ``tau`` (:data:`SCORE_TAU_S`, 10 s)::

    score ← score + (target − score) · (1 − e^(−dt / tau))

with target 100 for time the Distraction Guard credits as focused and 0 for time it counts as
away or asleep; uncertain time (low tracker confidence, gaps) holds the score where it is. The
update is exact for any ``dt`` (it is the solution of d score/dt = (target − score) / tau), so the
score does not depend on the frame rate. When one step contains both credited and penalised time,
the credited part is applied first. The result is clamped to [0, 100].

The score starts at :data:`INITIAL_SCORE` = 100 (benefit of the doubt). From 100, continuous
absence takes tau · ln 2 ≈ 6.9 s to fall below 50 (the exam-mode clip threshold) and ~23 s to fall
below 10; full attention brings it from 0 back above 50 in the same 6.9 s.
"""

from __future__ import annotations

import math
from typing import Final

from shared.focus.errors import InvalidSettingsError

SCORE_MIN: Final[float] = 0.0
SCORE_MAX: Final[float] = 100.0

INITIAL_SCORE: Final[float] = 100.0
"""Score before any evidence: a student who sits down is presumed focused."""

SCORE_TAU_S: Final[float] = 10.0
"""Time constant: long enough that a glance barely dents the score, short enough that a minute on
the phone empties it."""


def approach(score: float, target: float, dt: float, tau: float = SCORE_TAU_S) -> float:
    """The score after ``dt`` seconds of chasing ``target``, clamped to [0, 100]."""
    if not (tau > 0.0 and math.isfinite(tau)):
        raise InvalidSettingsError(f"score time constant must be finite and positive, got {tau!r}")
    if not dt >= 0.0:
        raise InvalidSettingsError(f"score step must be non-negative, got {dt!r}")
    # -expm1(-x) is 1 - e^-x without cancellation for the tiny steps of a 15 Hz stream.
    value = score + (target - score) * -math.expm1(-dt / tau)
    if value < SCORE_MIN:
        return SCORE_MIN
    if value > SCORE_MAX:
        return SCORE_MAX
    return value


def update_score(
    score: float, credited_s: float, penalised_s: float, tau: float = SCORE_TAU_S
) -> float:
    """The score after ``credited_s`` seconds of focus followed by ``penalised_s`` seconds away."""
    if credited_s > 0.0:
        score = approach(score, SCORE_MAX, credited_s, tau)
    if penalised_s > 0.0:
        score = approach(score, SCORE_MIN, penalised_s, tau)
    return score
