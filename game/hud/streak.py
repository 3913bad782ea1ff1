"""The streak badge: how many days in a row the daily study goal was met."""

from __future__ import annotations

from typing import Any

from panda3d.core import NodePath, TextNode

from game.config import HUD_INK, HUD_MUTED, HUD_PANEL, HUD_WARN, SMALL_SCALE, TEXT_SCALE
from game.hud.shapes import rounded_rect
from game.hud.text import Label

PANEL_SIZE = (0.62, 0.13)
"""Width and height of the badge (aspect2d units)."""


def streak_text(days: int) -> str:
    """``"0 days"``, ``"1 day"``, ``"12 days"``."""
    return f"{days} day" if days == 1 else f"{days} days"


class StreakBadge:
    """Shows the current streak; ``days`` clamps to zero or more."""

    def __init__(self, parent: NodePath, font: Any, bold: Any) -> None:
        self.root = parent.attachNewNode("streak")
        w, h = PANEL_SIZE
        rounded_rect(self.root, -w, -h, w, h, radius=0.04, colour=HUD_PANEL)
        # A small flame-coloured dot: the streak's "fire" without needing an emoji font.
        rounded_rect(
            self.root,
            -w + 0.05,
            -h / 2 - 0.022,
            0.044,
            0.044,
            radius=0.022,
            colour=HUD_WARN,
            name="flame",
        )
        Label(
            self.root,
            font,
            text="STREAK",
            scale=SMALL_SCALE,
            pos=(-w + 0.12, -0.078),
            colour=HUD_MUTED,
        )
        self.label = Label(
            self.root,
            bold,
            scale=TEXT_SCALE,
            pos=(-0.05, -0.08),
            colour=HUD_INK,
            align=TextNode.ARight,
        )
        self._days = -1
        self.days = 0

    @property
    def days(self) -> int:
        """The streak shown (never negative)."""
        return self._days

    @days.setter
    def days(self, value: int) -> None:
        days = max(0, int(value))
        if days != self._days:
            self._days = days
            self.label.text = streak_text(days)

    def destroy(self) -> None:
        """Remove the widget."""
        self.root.removeNode()
