"""Text for the HUD and the scene: the font, and a small label class over a ``TextNode``."""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path
from typing import Any

from panda3d.core import NodePath, TextNode

from game.config import FONT_FILES, HUD_INK, TEXT_SCALE
from game.hud.shapes import HUD_BIN, TEXT_ORDER

Colour = tuple[float, float, float, float]

FONT_PIXELS_PER_UNIT = 72
"""Glyph texture resolution: sharp at the HUD's text sizes in a 720p to 1440p window."""


def _matplotlib_fonts() -> Path | None:
    """matplotlib's bundled TTF folder (DejaVu), found without importing matplotlib."""
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"
    return folder if folder.is_dir() else None


@cache
def font_path(bold: bool = False) -> Path | None:
    """The TTF file of our preferred font (DejaVu Sans, which has … and —), if installed."""
    folder = _matplotlib_fonts()
    if folder is None:
        return None
    path = folder / FONT_FILES[1 if bold else 0]
    return path if path.is_file() else None


def load_font(loader: Any, *, bold: bool = False) -> Any:
    """A Panda3D font: DejaVu Sans when available (crisp, full punctuation), else Panda's default."""
    from panda3d.core import Filename

    path = font_path(bold)
    if path is not None:
        font = loader.loadFont(Filename.fromOsSpecific(str(path)).getFullpath())
        if font is not None and font.isValid():
            # The font pool hands back the same font next time; its size is fixed once used.
            if font.getNumPages() == 0:
                font.setPixelsPerUnit(FONT_PIXELS_PER_UNIT)
            return font
    return TextNode.getDefaultFont()


class Label:
    """One line (or a few) of text under a parent node; ``text`` and ``colour`` are settable."""

    def __init__(
        self,
        parent: NodePath,
        font: Any,
        *,
        text: str = "",
        scale: float = TEXT_SCALE,
        pos: tuple[float, float] = (0.0, 0.0),
        colour: Colour = HUD_INK,
        align: int = TextNode.ALeft,
        shadow: Colour | None = None,
        name: str = "label",
    ) -> None:
        self._node = TextNode(name)
        self._node.setFont(font)
        self._node.setAlign(align)
        self._node.setTextColor(*colour)
        if shadow is not None:
            self._node.setShadow(0.04, 0.04)
            self._node.setShadowColor(*shadow)
        self._text = ""
        self.path: NodePath = parent.attachNewNode(self._node)
        self.path.setBin(HUD_BIN, TEXT_ORDER)
        self.path.setScale(scale)
        self.path.setPos(pos[0], 0.0, pos[1])
        self.text = text

    @property
    def text(self) -> str:
        """The text shown."""
        return self._text

    @text.setter
    def text(self, value: str) -> None:
        # Re-setting identical text would still regenerate the glyph geometry.
        if value != self._text:
            self._text = value
            self._node.setText(value)

    def set_colour(self, colour: Colour) -> None:
        """Change the ink colour."""
        self._node.setTextColor(*colour)

    @property
    def width(self) -> float:
        """Width of the current text in the parent's units."""
        return float(self._node.getWidth()) * float(self.path.getSx())

    def show(self, visible: bool = True) -> None:
        """Show or hide the label."""
        if visible:
            self.path.show()
        else:
            self.path.hide()

    def destroy(self) -> None:
        """Remove the label from the scene graph."""
        self.path.removeNode()
