"""Solo-with-a-ghost HUD: the pace panel ("you lead by 0:40") and the small ghost picker (key G)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from panda3d.core import NodePath, TextNode

from game.config import (
    HUD_ACCENT,
    HUD_ALERT,
    HUD_GOOD,
    HUD_INK,
    HUD_MUTED,
    HUD_PANEL,
    SMALL_SCALE,
    TEXT_SCALE,
)
from game.hud.shapes import Colour, rounded_rect
from game.hud.text import Label
from shared.pace import Pace, Standing, pace_line

PANEL_HEIGHT: Final[float] = 0.11
PANEL_PAD: Final[float] = 0.05
"""Height and side padding of the pace panel (aspect2d units); its width follows the text."""

STANDING_COLOURS: Final[dict[Standing, Colour]] = {
    Standing.AHEAD: HUD_GOOD,
    Standing.BEHIND: HUD_ALERT,
    Standing.LEVEL: HUD_INK,
}
"""Ink of the pace line: green while you lead, red while behind."""

PICKER_WIDTH: Final[float] = 1.3
PICKER_ROW: Final[float] = 0.075
PICKER_ROWS: Final[int] = 8
"""The picker's width, row height and most rows shown at once (aspect2d units)."""


class PacePanel:
    """A centred pill with one pace line; hidden until :meth:`show` gets a pace."""

    def __init__(self, parent: NodePath, font: Any) -> None:
        self.root = parent.attachNewNode("pace")
        self.label = Label(
            self.root,
            font,
            scale=SMALL_SCALE * 1.1,
            pos=(0.0, -0.072),
            colour=HUD_INK,
            align=TextNode.ACenter,
            name="pace-line",
        )
        self._panel: NodePath | None = None
        self._width = -1.0
        self.standing: Standing | None = None
        self.root.hide()

    @property
    def text(self) -> str:
        """The line shown ("" while hidden)."""
        return self.label.text if not self.root.isHidden() else ""

    def show(self, pace: Pace | None, owner: str) -> None:
        """Show ``pace`` against ``owner``'s ghost, or hide the panel (``None``)."""
        if pace is None:
            self.root.hide()
            return
        self.root.show()
        self.label.text = pace_line(pace, owner)
        if pace.standing is not self.standing:
            self.standing = pace.standing
            self.label.set_colour(STANDING_COLOURS[pace.standing])
        width = round(self.label.width + 2 * PANEL_PAD, 2)
        if width != self._width:
            # Rebuilt only when the rounded width changes (a few times a minute at most).
            self._width = width
            if self._panel is not None:
                self._panel.removeNode()
            self._panel = rounded_rect(
                self.root,
                -width / 2,
                -PANEL_HEIGHT,
                width,
                PANEL_HEIGHT,
                radius=PANEL_HEIGHT / 2,
                colour=HUD_PANEL,
            )

    def destroy(self) -> None:
        """Remove the widget."""
        self.root.removeNode()


class GhostPickerView:
    """A list of ghosts with one highlighted row, and a status line (loading, errors, hints)."""

    def __init__(self, parent: NodePath, font: Any, bold: Any) -> None:
        self.root = parent.attachNewNode("ghost-picker")
        self._font, self._bold = font, bold
        self._body: NodePath | None = None
        self.rows: tuple[str, ...] = ()
        self.selected = 0
        self.status = ""
        self.root.hide()

    @property
    def visible(self) -> bool:
        """Whether the picker is open."""
        return not self.root.isHidden()

    def show(self, rows: Sequence[str], selected: int, status: str) -> None:
        """Open (or redraw) the picker with these rows, the ``selected`` one highlighted."""
        rows = tuple(rows)
        if self.visible and (rows, selected, status) == (self.rows, self.selected, self.status):
            return
        self.rows, self.selected, self.status = rows, selected, status
        if self._body is not None:
            self._body.removeNode()
        body = self.root.attachNewNode("body")
        self._body = body
        first = max(0, min(selected - PICKER_ROWS + 1, len(rows) - PICKER_ROWS))
        shown = rows[first : first + PICKER_ROWS]
        height = 0.26 + PICKER_ROW * max(len(shown), 1)
        w = PICKER_WIDTH
        rounded_rect(body, -w / 2, -height, w, height, radius=0.05, colour=HUD_PANEL)
        Label(
            body,
            self._bold,
            text="Study with a ghost",
            scale=TEXT_SCALE,
            pos=(-w / 2 + 0.06, -0.09),
            colour=HUD_INK,
        )
        for i, row in enumerate(shown):
            z = -0.17 - PICKER_ROW * i
            chosen = first + i == selected
            if chosen:
                rounded_rect(
                    body,
                    -w / 2 + 0.03,
                    z - 0.022,
                    w - 0.06,
                    PICKER_ROW,
                    radius=0.02,
                    colour=(*HUD_ACCENT[:3], 0.18),
                    name="highlight",
                )
            Label(
                body,
                self._bold if chosen else self._font,
                text=("▸ " if chosen else "   ") + row,
                scale=SMALL_SCALE,
                pos=(-w / 2 + 0.06, z),
                colour=HUD_INK,
                name="ghost-row",
            )
        Label(
            body,
            self._font,
            text=status,
            scale=SMALL_SCALE * 0.9,
            pos=(-w / 2 + 0.06, -height + 0.05),
            colour=HUD_MUTED,
            name="picker-status",
        )
        self.root.show()

    def hide(self) -> None:
        """Close the picker."""
        self.root.hide()

    def destroy(self) -> None:
        """Remove the widget."""
        self.root.removeNode()
