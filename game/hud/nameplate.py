"""Name plates over arena avatars: the member's name and a focus-state colour and word."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Final

from panda3d.core import NodePath, TextNode

from game.config import HUD_ALERT, HUD_GOOD, HUD_MUTED, HUD_WARN
from game.hud.shapes import Colour
from shared.face import Attention
from shared.protocol import Member


class FocusBadge(StrEnum):
    """What a member's plate says about their focus."""

    FOCUSED = "focused"
    AWAY = "away"
    ASLEEP = "asleep"
    UNCERTAIN = "uncertain"
    OFFLINE = "offline"


BADGE_COLOURS: Final[dict[FocusBadge, Colour]] = {
    FocusBadge.FOCUSED: HUD_GOOD,
    FocusBadge.AWAY: HUD_WARN,
    FocusBadge.ASLEEP: HUD_ALERT,
    FocusBadge.UNCERTAIN: HUD_MUTED,
    FocusBadge.OFFLINE: (0.45, 0.45, 0.48, 1.0),
}
"""Card colour of a plate per badge."""

BADGE_ICONS: Final[dict[FocusBadge, str]] = {
    FocusBadge.FOCUSED: "●",
    FocusBadge.AWAY: "◐",
    FocusBadge.ASLEEP: "z",
    FocusBadge.UNCERTAIN: "?",
    FocusBadge.OFFLINE: "○",
}
"""The one-glyph icon before the name (glyphs the bundled DejaVu font has)."""

PLATE_SCALE: Final[float] = 0.075
"""Text height of a plate in world units."""

PLATE_INK: Final[Colour] = (1.0, 1.0, 1.0, 1.0)
"""Text colour on the coloured card."""


def badge_for(member: Member) -> FocusBadge:
    """The badge a member's seat calls for: offline, asleep, focused, uncertain, else away."""
    if not member.connected:
        return FocusBadge.OFFLINE
    if member.asleep:
        return FocusBadge.ASLEEP
    if member.attention is Attention.FOCUSED:
        return FocusBadge.FOCUSED
    if member.attention is Attention.UNCERTAIN:
        return FocusBadge.UNCERTAIN
    return FocusBadge.AWAY


def plate_text(member: Member, badge: FocusBadge, *, you: bool = False) -> str:
    """``● ada``, ``● ghost of ada``, ``z sam · asleep``, ``● you``."""
    name = "you" if you else member.username
    if member.is_ghost:
        name = f"ghost of {member.username}"
    suffix = "" if badge is FocusBadge.FOCUSED else f" · {badge.value}"
    return f"{BADGE_ICONS[badge]} {name}{suffix}"


class NamePlate:
    """A billboard card above an avatar; :meth:`show` only rebuilds the text when it changes."""

    def __init__(self, parent: NodePath, font: Any, *, height: float) -> None:
        self._node = TextNode("name-plate")
        self._node.setFont(font)
        self._node.setAlign(TextNode.ACenter)
        self._node.setTextColor(*PLATE_INK)
        self._node.setCardAsMargin(0.35, 0.35, 0.15, 0.15)
        self._node.setCardDecal(True)
        self.path: NodePath = parent.attachNewNode(self._node)
        self.path.setScale(PLATE_SCALE)
        self.path.setPos(0.0, 0.0, height)
        self.path.setBillboardPointEye()
        self.path.setLightOff(1)
        self.path.setDepthWrite(False)
        self.path.setBin("fixed", 20)
        self._shown: tuple[str, FocusBadge] | None = None
        self.badge: FocusBadge | None = None

    def show(self, text: str, badge: FocusBadge) -> None:
        """Show ``text`` on the badge's colour."""
        if self._shown == (text, badge):
            return
        self._shown = (text, badge)
        self.badge = badge
        self._node.setText(text)
        self._node.setCardColor(*BADGE_COLOURS[badge])

    @property
    def text(self) -> str:
        """The text shown."""
        return self._shown[0] if self._shown is not None else ""

    def destroy(self) -> None:
        """Remove the plate."""
        self.path.removeNode()
