"""Floating damage numbers over the boss: each rises and fades, a small pool reused."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from panda3d.core import NodePath, TextNode, TransparencyAttrib

from game.hud.shapes import Colour

FLOAT_S: Final[float] = 1.2
"""How long a number stays up."""

RISE: Final[float] = 0.45
"""How far a number rises over its life (world units)."""

POOL: Final[int] = 8
"""Numbers on screen at once at most; the oldest is reused."""

NUMBER_SCALE: Final[float] = 0.16
"""Text height in world units."""

NUMBER_COLOUR: Final[Colour] = (1.0, 0.93, 0.35, 1.0)
"""Ink of a damage number (with a dark shadow)."""

SPREAD: Final[tuple[float, ...]] = (-0.35, 0.2, -0.1, 0.4, -0.45, 0.05, 0.3, -0.25)
"""Horizontal offsets of successive numbers, so that they do not stack."""


@dataclass(slots=True)
class _Number:
    path: NodePath
    node: TextNode
    born: float
    x: float


class DamageNumbers:
    """Spawns ``-N`` numbers at ``parent``'s origin; :meth:`update` animates the live ones."""

    def __init__(self, parent: NodePath, font: Any) -> None:
        self.root = parent.attachNewNode("damage-numbers")
        self.root.setBillboardPointEye()
        self.root.setLightOff(1)
        self.root.setTransparency(TransparencyAttrib.MAlpha)
        self.root.setDepthWrite(False)
        self.root.setBin("fixed", 30)
        self._numbers: list[_Number] = []
        for i in range(POOL):
            node = TextNode(f"damage-{i}")
            node.setFont(font)
            node.setAlign(TextNode.ACenter)
            node.setTextColor(*NUMBER_COLOUR)
            node.setShadow(0.05, 0.05)
            node.setShadowColor(0.2, 0.1, 0.1, 1.0)
            path = self.root.attachNewNode(node)
            path.setScale(NUMBER_SCALE)
            path.hide()
            self._numbers.append(_Number(path, node, -1e9, SPREAD[i % len(SPREAD)]))
        self._next = 0
        self.spawned = 0
        """Numbers spawned so far."""

    def spawn(self, amount: float, now: float) -> None:
        """Show ``-amount`` (rounded) starting at ``now``."""
        number = self._numbers[self._next]
        self._next = (self._next + 1) % len(self._numbers)
        number.node.setText(f"-{max(1, round(amount))}")
        number.born = now
        number.path.setPos(number.x, 0.0, 0.0)
        number.path.setAlphaScale(1.0)
        number.path.show()
        self.spawned += 1

    @property
    def live(self) -> int:
        """Numbers on screen now."""
        return sum(1 for n in self._numbers if not n.path.isHidden())

    def update(self, now: float) -> None:
        """Rise and fade the live numbers; hide the finished ones."""
        for number in self._numbers:
            if number.path.isHidden():
                continue
            age = (now - number.born) / FLOAT_S
            if age >= 1.0 or age < 0.0:
                number.path.hide()
                continue
            number.path.setZ(RISE * age)
            number.path.setAlphaScale(1.0 - age * age)

    def destroy(self) -> None:
        """Remove the widget."""
        self.root.removeNode()
