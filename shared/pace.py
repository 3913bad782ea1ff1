"""Pace against a ghost: its focus and state at your session's elapsed time, and who leads.

Theory of operation
-------------------
Solo-with-a-ghost replays a friend's recorded session (:mod:`shared.ghost`) beside you on
*your* session's clock: ``elapsed_s`` is how long your session has run (the caller decides
what counts; the solo game stops it while its timer is paused). At that elapsed time the
ghost has a frame to show, an attention state and a credited focus total
(:meth:`~shared.ghost.GhostRecording.focused_seconds_at`); you have your own focused
seconds. :func:`pace_at` compares the two.

Every comparison shown is made from **whole seconds, floored**, the same numbers the clocks
display, so "You 12:30 · ghost 11:50 · you lead by 0:40" always adds up. Past the
recording's end the ghost is *finished*: its totals stay at their final values and the
comparison keeps going on your side only.

Nothing here reads a clock: every time is an argument.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from shared.face import Attention
from shared.ghost import GhostFrame, GhostRecording

SECONDS_PER_MINUTE: Final[int] = 60
SECONDS_PER_HOUR: Final[int] = 3600


class PaceError(ValueError):
    """A time that cannot be compared: negative, NaN or infinite."""


class Standing(StrEnum):
    """Who is ahead in credited focus, in whole seconds."""

    AHEAD = "ahead"
    BEHIND = "behind"
    LEVEL = "level"


@dataclass(frozen=True, slots=True)
class GhostState:
    """What the ghost shows at one moment of the replay."""

    t: float
    """Replay time, seconds after the recording's start, clamped to its length."""
    frame: GhostFrame | None
    """Its face at ``t`` (the last frame at or before it; None before the first frame)."""
    attention: Attention
    asleep: bool
    present: bool
    """A face was tracked in that frame (False before the first frame)."""
    finished: bool
    """The recording has ended: the ghost has nothing more to show."""


@dataclass(frozen=True, slots=True)
class Pace:
    """You against the ghost at one elapsed time."""

    elapsed_s: float
    you_focused_s: float
    ghost_focused_s: float
    ghost_finished: bool

    @property
    def lead_s(self) -> int:
        """Whole seconds you lead by (negative: behind), from the floored totals shown."""
        return math.floor(self.you_focused_s) - math.floor(self.ghost_focused_s)

    @property
    def standing(self) -> Standing:
        """Ahead, behind or level, by :attr:`lead_s`."""
        if self.lead_s > 0:
            return Standing.AHEAD
        if self.lead_s < 0:
            return Standing.BEHIND
        return Standing.LEVEL


def _check_time(value: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PaceError(f"{what} must be a number of seconds, got {value!r}")
    if not math.isfinite(value) or value < 0.0:
        raise PaceError(f"{what} must be finite and not negative, got {value!r}")
    return float(value)


def ghost_state(recording: GhostRecording, t: float) -> GhostState:
    """The ghost at ``t`` seconds into the replay (``t`` ≥ 0; past the end it is finished)."""
    t = _check_time(t, "replay time")
    duration = recording.duration_s
    finished = t >= duration
    at = min(t, duration)
    frame = recording.frame_at(at)
    segment = recording.segment_at(at)
    return GhostState(
        t=at,
        frame=frame,
        attention=segment.attention,
        asleep=segment.asleep,
        present=frame is not None and frame.present,
        finished=finished,
    )


def ghost_focused_s(recording: GhostRecording, t: float) -> float:
    """Credited focus (focused and awake) of the ghost in its first ``t`` seconds."""
    return recording.focused_seconds_at(_check_time(t, "replay time"))


def pace_at(recording: GhostRecording, elapsed_s: float, you_focused_s: float) -> Pace:
    """Compare your ``you_focused_s`` after ``elapsed_s`` of your session with the ghost's."""
    elapsed = _check_time(elapsed_s, "elapsed time")
    mine = _check_time(you_focused_s, "your focused time")
    return Pace(
        elapsed_s=elapsed,
        you_focused_s=mine,
        ghost_focused_s=ghost_focused_s(recording, elapsed),
        ghost_finished=elapsed >= recording.duration_s,
    )


def format_clock(seconds: float) -> str:
    """``"0:40"``, ``"12:30"``, ``"1:02:03"``: whole seconds, floored."""
    total = math.floor(_check_time(seconds, "clock value"))
    hours, rest = divmod(total, SECONDS_PER_HOUR)
    minutes, secs = divmod(rest, SECONDS_PER_MINUTE)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def ghost_label(owner: str) -> str:
    """How a ghost is named everywhere in the game: ``"ghost of sam"``."""
    return f"ghost of {owner}"


def pace_line(pace: Pace, owner: str) -> str:
    """The HUD line: ``"You 12:30 focused · ghost of sam 11:50 · you lead by 0:40"``."""
    head = (
        f"You {format_clock(pace.you_focused_s)} focused · "
        f"{ghost_label(owner)} {format_clock(pace.ghost_focused_s)}"
    )
    if pace.ghost_finished:
        head += " (finished)"
    lead = pace.lead_s
    if pace.standing is Standing.AHEAD:
        return f"{head} · you lead by {format_clock(lead)}"
    if pace.standing is Standing.BEHIND:
        return f"{head} · you are behind by {format_clock(-lead)}"
    return f"{head} · level"


def pace_result(pace: Pace, owner: str) -> str:
    """The summary's verdict: ``"beat the ghost of sam by 0:40"`` or ``"sam's ghost was …"``."""
    lead = pace.lead_s
    if pace.standing is Standing.AHEAD:
        return f"You beat the {ghost_label(owner)} by {format_clock(lead)}"
    if pace.standing is Standing.BEHIND:
        return f"{owner}'s ghost was ahead by {format_clock(-lead)}"
    return f"Level with the {ghost_label(owner)}"
