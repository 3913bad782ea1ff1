"""The boss HP bar: the boss's name, a coloured bar and the hit points left."""

from __future__ import annotations

import math
from typing import Any, Final

from panda3d.core import NodePath, TextNode

from game.config import HUD_ALERT, HUD_INK, HUD_MUTED, HUD_PANEL, SMALL_SCALE, TEXT_SCALE
from game.hud.shapes import FILL_ORDER, Colour, rounded_rect
from game.hud.text import Label

PANEL_SIZE: Final[tuple[float, float]] = (1.10, 0.22)
"""Width and height of the bar's panel (aspect2d units), centred on the widget's origin."""

BAR_INSET: Final[float] = 0.05
"""Gap between the panel's sides and the bar."""

BAR_HEIGHT: Final[float] = 0.05
BAR_BOTTOM: Final[float] = -0.17
"""Bar height and the bar's bottom edge below the widget's origin."""

BAR_TRACK: Final[Colour] = (0.84, 0.86, 0.91, 1.0)
"""Colour of the empty part of the bar."""

BAR_FILL: Final[Colour] = HUD_ALERT
"""Colour of the hit points left."""

MIN_SCALE: Final[float] = 1e-4
"""Smallest x scale of the fill: Panda3D refuses a singular (zero) scale."""


class BossBar:
    """A boss's hit points; ``value`` is the fraction left and clamps to 0–1 (NaN is refused)."""

    def __init__(self, parent: NodePath, font: Any, bold: Any) -> None:
        self.root = parent.attachNewNode("boss-bar")
        w, h = PANEL_SIZE
        rounded_rect(self.root, -w / 2, -h, w, h, radius=0.05, colour=HUD_PANEL)
        self.bar_width = w - 2 * BAR_INSET
        left = -w / 2 + BAR_INSET
        rounded_rect(
            self.root,
            left,
            BAR_BOTTOM,
            self.bar_width,
            BAR_HEIGHT,
            radius=0.0,
            colour=BAR_TRACK,
            order=FILL_ORDER - 1,
            name="track",
        )
        # The fill is drawn once at full width from its left edge and scaled in x.
        self.fill = self.root.attachNewNode("fill-anchor")
        self.fill.setPos(left, 0.0, 0.0)
        rounded_rect(
            self.fill,
            0.0,
            BAR_BOTTOM,
            self.bar_width,
            BAR_HEIGHT,
            radius=0.0,
            colour=BAR_FILL,
            order=FILL_ORDER,
            name="fill",
        )
        self.name = Label(self.root, bold, scale=TEXT_SCALE, pos=(left, -0.085), colour=HUD_INK)
        self.points = Label(
            self.root,
            font,
            scale=SMALL_SCALE,
            pos=(w / 2 - BAR_INSET, -0.085),
            colour=HUD_MUTED,
            align=TextNode.ARight,
        )
        self._value = 1.0

    @property
    def value(self) -> float:
        """Fraction of hit points left, 0–1."""
        return self._value

    @value.setter
    def value(self, value: float) -> None:
        if math.isnan(value):
            raise ValueError("boss HP fraction must be a number, got NaN")
        self._value = min(1.0, max(0.0, value))
        self.fill.setSx(max(self._value, MIN_SCALE))
        if self._value <= 0.0:
            self.fill.hide()
        else:
            self.fill.show()

    def show(self, title: str, hp: float, max_hp: float) -> None:
        """Show ``hp`` of ``max_hp`` for the boss called ``title``."""
        self.name.text = title
        self.points.text = f"{math.ceil(max(hp, 0.0)):,} / {math.ceil(max_hp):,} HP"
        self.value = hp / max_hp if max_hp > 0 else 0.0

    def destroy(self) -> None:
        """Remove the widget."""
        self.root.removeNode()
