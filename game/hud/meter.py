"""The focus meter widget: the 0–100 focus score as a number and a coloured bar."""

from __future__ import annotations

import math
from typing import Any

from panda3d.core import NodePath, TextNode

from game.config import (
    HUD_ALERT,
    HUD_GOOD,
    HUD_INK,
    HUD_MUTED,
    HUD_PANEL,
    HUD_WARN,
    METER_HIGH,
    METER_LOW,
    SMALL_SCALE,
    TITLE_SCALE,
)
from game.hud.shapes import FILL_ORDER, Colour, rounded_rect
from game.hud.text import Label

PANEL_SIZE = (0.62, 0.30)
"""Width and height of the meter panel (aspect2d units)."""

BAR_INSET = 0.05
BAR_HEIGHT = 0.045
BAR_BOTTOM = -0.25


def meter_colour(value: float) -> Colour:
    """Bar colour for a score: red below :data:`METER_LOW`, amber below :data:`METER_HIGH`, green."""
    if value < METER_LOW:
        return HUD_ALERT
    if value < METER_HIGH:
        return HUD_WARN
    return HUD_GOOD


class FocusMeter:
    """Shows a focus score; ``value`` clamps to 0–100 (NaN is refused)."""

    MIN = 0.0
    MAX = 100.0

    def __init__(self, parent: NodePath, font: Any, bold: Any) -> None:
        self.root = parent.attachNewNode("focus-meter")
        w, h = PANEL_SIZE
        rounded_rect(self.root, -w, -h, w, h, radius=0.05, colour=HUD_PANEL)
        Label(
            self.root,
            font,
            text="FOCUS",
            scale=SMALL_SCALE,
            pos=(-w + 0.05, -0.085),
            colour=HUD_MUTED,
        )
        self.number = Label(
            self.root,
            bold,
            scale=TITLE_SCALE * 1.15,
            pos=(-0.05, -0.125),
            colour=HUD_INK,
            align=TextNode.ARight,
        )
        self._bar_width = w - 2 * BAR_INSET
        left = -w + BAR_INSET
        rounded_rect(
            self.root,
            left,
            BAR_BOTTOM,
            self._bar_width,
            BAR_HEIGHT,
            radius=BAR_HEIGHT / 2,
            colour=(0.85, 0.87, 0.92, 1.0),
            name="bar-back",
            order=FILL_ORDER - 1,
        )
        # The fill is a unit-width bar scaled in X, so a new value costs one transform.
        self._fill_root = self.root.attachNewNode("bar-fill-root")
        self._fill_root.setPos(left, 0.0, 0.0)
        self._fill = rounded_rect(
            self._fill_root,
            0.0,
            BAR_BOTTOM,
            1.0,
            BAR_HEIGHT,
            radius=0.0,
            colour=(1.0, 1.0, 1.0, 1.0),
            name="bar-fill",
            order=FILL_ORDER,
        )
        self._value = -1.0
        self.value = self.MAX

    @property
    def value(self) -> float:
        """The score shown, always within 0–100."""
        return self._value

    @value.setter
    def value(self, value: float) -> None:
        if math.isnan(value):
            raise ValueError("the focus meter cannot show NaN")
        clamped = min(self.MAX, max(self.MIN, float(value)))
        if clamped == self._value:
            return
        self._value = clamped
        self.number.text = f"{round(clamped)}"
        fraction = clamped / self.MAX
        self._fill.setSx(max(1e-4, fraction * self._bar_width))
        colour = meter_colour(clamped)
        self._fill.setColorScale(*colour)

    def destroy(self) -> None:
        """Remove the widget."""
        self.root.removeNode()
