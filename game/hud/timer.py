"""The pomodoro clock widget: big remaining time and a caption saying what phase it is."""

from __future__ import annotations

import math
from typing import Any

from panda3d.core import NodePath, TextNode

from game.config import (
    ASLEEP_REASON,
    HUD_ALERT,
    HUD_INK,
    HUD_MUTED,
    HUD_PANEL,
    SMALL_SCALE,
    TITLE_SCALE,
)
from game.hud.shapes import rounded_rect
from game.hud.text import Label
from shared.timer import Phase

PANEL_SIZE = (0.78, 0.30)
"""Width and height of the timer panel (aspect2d units)."""


def format_clock(seconds: float) -> str:
    """A countdown as ``mm:ss`` (``h:mm:ss`` from an hour): rounded up, so it starts at 25:00."""
    if not math.isfinite(seconds):
        raise ValueError(f"seconds must be finite, got {seconds!r}")
    total = max(0, math.ceil(seconds - 1e-9))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def timer_caption(
    phase: Phase, round_index: int, rounds: int, pause_reasons: frozenset[str]
) -> str:
    """One line under the clock: the phase and round, or why the timer is paused."""
    if phase is Phase.LOBBY:
        return "Press SPACE to start"
    if phase is Phase.RESULTS:
        return "Session complete"
    if ASLEEP_REASON in pause_reasons:
        return "Paused — you fell asleep"
    if pause_reasons:
        return "Paused — SPACE to resume"
    if phase is Phase.FOCUS:
        return f"Focus · round {round_index + 1} of {rounds}"
    return f"Break · {round_index + 1} of {rounds} done"


class TimerText:
    """A panel with the remaining time and a caption; call :meth:`show` each frame."""

    def __init__(self, parent: NodePath, font: Any, bold: Any) -> None:
        self.root = parent.attachNewNode("timer")
        w, h = PANEL_SIZE
        rounded_rect(self.root, 0.0, -h, w, h, radius=0.05, colour=HUD_PANEL)
        self.clock = Label(
            self.root,
            bold,
            scale=TITLE_SCALE * 1.45,
            pos=(0.06, -0.15),
            colour=HUD_INK,
            align=TextNode.ALeft,
        )
        self.caption = Label(
            self.root,
            font,
            scale=SMALL_SCALE,
            pos=(0.065, -0.245),
            colour=HUD_MUTED,
        )

    def show(
        self,
        phase: Phase,
        remaining_s: float,
        round_index: int,
        rounds: int,
        pause_reasons: frozenset[str],
    ) -> None:
        """Display the timer state."""
        if phase is Phase.LOBBY:
            self.clock.text = "Ready"
        else:
            self.clock.text = format_clock(remaining_s)
        self.caption.text = timer_caption(phase, round_index, rounds, pause_reasons)
        asleep = ASLEEP_REASON in pause_reasons
        self.clock.set_colour(HUD_ALERT if asleep else HUD_INK)
        self.caption.set_colour(HUD_ALERT if asleep else HUD_MUTED)

    def destroy(self) -> None:
        """Remove the widget."""
        self.root.removeNode()
