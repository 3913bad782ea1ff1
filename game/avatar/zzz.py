"""The floating "Zzz" over a sleeping avatar: three letters that fade in and bob."""

from __future__ import annotations

import math
from typing import Any, Final

from panda3d.core import NodePath, TextNode, TransparencyAttrib

from game.config import ZZZ_BOB_HEIGHT, ZZZ_BOB_HZ, ZZZ_COLOUR, ZZZ_OFFSET, ZZZ_SCALE

_LETTERS: Final[tuple[tuple[str, float, float, float], ...]] = (
    # (letter, x, z, relative size): growing and rising to the upper right, comic style.
    ("z", 0.0, 0.0, 0.70),
    ("z", 0.55, 0.45, 0.85),
    ("Z", 1.15, 1.0, 1.0),
)

SHOW_ABOVE: Final[float] = 0.02
"""Sleep amount below which the "Zzz" is hidden entirely (not even drawn transparent)."""


class ZzzBubble:
    """A view: "Zzz" text above an avatar, faded by the sleep amount and bobbing with time."""

    def __init__(self, parent: NodePath, font: Any) -> None:
        self.root: NodePath = parent.attachNewNode("zzz")
        self.root.setPos(*ZZZ_OFFSET)
        self.root.setScale(ZZZ_SCALE)
        self.root.setBillboardPointEye()
        self.root.setTransparency(TransparencyAttrib.MAlpha)
        self.root.setLightOff(1)
        self.root.setDepthWrite(False)
        # Drawn last and on top, so it never hides inside the hair.
        self.root.setBin("fixed", 10)
        self.root.setDepthTest(False)
        self._letters: list[NodePath] = []
        for i, (letter, x, z, size) in enumerate(_LETTERS):
            text = TextNode(f"zzz-{i}")
            text.setFont(font)
            text.setText(letter)
            text.setTextColor(*ZZZ_COLOUR)
            text.setShadow(0.05, 0.05)
            text.setShadowColor(1.0, 1.0, 1.0, 0.9)
            np_ = self.root.attachNewNode(text)
            np_.setPos(x, 0.0, z)
            np_.setScale(size)
            self._letters.append(np_)
        self.root.hide()
        self._shown = False

    def update(self, amount: float, t: float) -> None:
        """Show the bubble at ``amount`` (0 hidden … 1 fully asleep) and bob it at time ``t``."""
        if amount <= SHOW_ABOVE:
            if self._shown:
                self.root.hide()
                self._shown = False
            return
        if not self._shown:
            self.root.show()
            self._shown = True
        self.root.setAlphaScale(min(1.0, amount))
        for i, letter in enumerate(self._letters):
            # Each letter lags the one before it, so the three drift like a wave.
            phase = 2.0 * math.pi * ZZZ_BOB_HZ * t - 0.9 * i
            z = _LETTERS[i][2]
            letter.setZ(z + ZZZ_BOB_HEIGHT / ZZZ_SCALE * math.sin(phase))

    @property
    def visible(self) -> bool:
        """Whether the bubble is drawn."""
        return self._shown

    def destroy(self) -> None:
        """Remove the bubble."""
        self.root.removeNode()
