"""How a ghost looks wherever it appears (arena, solo): a translucent avatar named "ghost of …"."""

from __future__ import annotations

from typing import Any, Final

from panda3d.core import TransparencyAttrib

GHOST_ALPHA: Final[float] = 0.45
"""Alpha colour scale of a ghost's avatar."""


def make_ghostly(actor: Any) -> None:
    """Draw ``actor`` (an avatar's Actor or any NodePath) as a ghost: translucent, after solids.

    Depth writes are off so the ghost's own back faces and the scene behind it show through
    instead of being hidden by its front layer.
    """
    actor.setTransparency(TransparencyAttrib.MAlpha)
    actor.setAlphaScale(GHOST_ALPHA)
    actor.setDepthWrite(False)
    actor.setBin("transparent", 0)
