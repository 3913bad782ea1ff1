"""The distraction overlay: a banner that says "Looking away… 7 s" or "Asleep — timer paused"."""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Any

from panda3d.core import NodePath, TextNode

from game.config import HUD_ALERT, HUD_WARN, SMALL_SCALE, TEXT_SCALE
from game.hud.shapes import rounded_rect
from game.hud.text import Label

PANEL_SIZE = (1.36, 0.21)
"""Width and height of the banner (aspect2d units)."""


class OverlayKind(StrEnum):
    """What the banner says."""

    NONE = "none"
    AWAY = "away"
    ASLEEP = "asleep"


def overlay_text(kind: OverlayKind, away_s: float, sleep_after_s: float) -> tuple[str, str]:
    """(headline, detail) for the banner; empty strings when there is nothing to say."""
    if kind is OverlayKind.NONE:
        return "", ""
    if kind is OverlayKind.ASLEEP:
        return "Asleep — timer paused", "Look back at the screen to wake up"
    seconds = max(0, math.floor(away_s))
    left = max(0, math.ceil(sleep_after_s - away_s))
    return f"Looking away… {seconds} s", f"The timer pauses in {left} s"


class DistractionOverlay:
    """A banner near the bottom of the screen, hidden unless the student is away or asleep."""

    def __init__(self, parent: NodePath, font: Any, bold: Any, *, sleep_after_s: float) -> None:
        self.sleep_after_s = sleep_after_s
        self.root = parent.attachNewNode("distraction-overlay")
        w, h = PANEL_SIZE
        self._panels = {
            OverlayKind.AWAY: rounded_rect(
                self.root,
                -w / 2,
                0.0,
                w,
                h,
                radius=0.06,
                colour=(*HUD_WARN[:3], 0.92),
                name="away-panel",
            ),
            OverlayKind.ASLEEP: rounded_rect(
                self.root,
                -w / 2,
                0.0,
                w,
                h,
                radius=0.06,
                colour=(*HUD_ALERT[:3], 0.92),
                name="asleep-panel",
            ),
        }
        white = (1.0, 1.0, 1.0, 1.0)
        self.headline = Label(
            self.root,
            bold,
            scale=TEXT_SCALE * 1.25,
            pos=(0.0, 0.105),
            colour=white,
            align=TextNode.ACenter,
        )
        self.detail = Label(
            self.root,
            font,
            scale=SMALL_SCALE,
            pos=(0.0, 0.04),
            colour=(1.0, 1.0, 1.0, 0.92),
            align=TextNode.ACenter,
        )
        self._kind: OverlayKind | None = None
        self.show(OverlayKind.NONE)

    @property
    def kind(self) -> OverlayKind:
        """What the banner shows now."""
        assert self._kind is not None
        return self._kind

    def show(self, kind: OverlayKind, away_s: float = 0.0) -> None:
        """Show the banner for ``kind`` (``away_s``: seconds away so far)."""
        headline, detail = overlay_text(kind, away_s, self.sleep_after_s)
        self.headline.text = headline
        self.detail.text = detail
        if kind is self._kind:
            return
        self._kind = kind
        if kind is OverlayKind.NONE:
            self.root.hide()
            return
        self.root.show()
        for k, panel in self._panels.items():
            if k is kind:
                panel.show()
            else:
                panel.hide()

    def destroy(self) -> None:
        """Remove the widget."""
        self.root.removeNode()
