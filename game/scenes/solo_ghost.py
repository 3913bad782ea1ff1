"""The ghost beside you in the solo scene: its avatar, its name plate, and the picker (key G).

A ghost is a friend's recorded session (``shared.ghost``) replayed as a translucent avatar
next to yours; :mod:`game.scenes.solo` places it, drives it from a
:class:`~game.ghost_feed.GhostPlayback` and shows the pace panel. The picker lists the ghosts
on the server and downloads one, polling its futures from the frame loop so the game never
waits on the network.
"""

from __future__ import annotations

import concurrent.futures
from dataclasses import dataclass
from typing import Any, Final

from panda3d.core import NodePath

from game.avatar.driver import AvatarDriver
from game.avatar.models import avatar_path, presets
from game.avatar.rig import AvatarRig
from game.ghost_feed import GhostLibrary, GhostPlayback, ghost_line
from game.hud.nameplate import BADGE_ICONS, FocusBadge, NamePlate
from shared.face import Attention
from shared.ghost import GhostRecording
from shared.pace import GhostState, ghost_label
from shared.protocol import GhostInfo

GHOST_POS: Final[tuple[float, float, float]] = (0.66, 0.55, 0.0)
"""Where the ghost stands: screen right of your avatar and a little behind it (world units)."""

GHOST_CAMERA_SHIFT: Final[tuple[float, float, float]] = (0.36, -0.95, 0.0)
"""How far the camera moves (right, back) with a ghost, so both avatars are in the picture."""

GHOST_PLATE_HEIGHT: Final[float] = 0.98
"""Height of the ghost's name plate above its feet: just over its head."""

OFFLINE_HINT: Final[str] = "Offline: start with convex play --server URL to pick a friend's ghost"


def ghost_preset(owner: str, mine: object) -> str:
    """A built avatar for ``owner``'s ghost: theirs by name, but never the one you wear."""
    from game.scenes.arena import preset_for

    names = presets()
    first = names.index(preset_for(owner))
    for k in range(len(names)):
        name = names[(first + k) % len(names)]
        if avatar_path(name).resolve() != mine:
            return name
    return names[first]


def ghost_plate(owner: str, state: GhostState) -> tuple[str, FocusBadge]:
    """The ghost's plate: ``● ghost of sam``, ``z ghost of sam · asleep``, ``… · finished``."""
    if state.finished:
        badge, suffix = FocusBadge.OFFLINE, " · finished"
    elif state.asleep:
        badge, suffix = FocusBadge.ASLEEP, " · asleep"
    elif state.attention is Attention.FOCUSED:
        badge, suffix = FocusBadge.FOCUSED, ""
    elif state.attention in (Attention.UNCERTAIN, Attention.NO_FACE) and not state.present:
        badge, suffix = FocusBadge.UNCERTAIN, " · away"
    else:
        badge, suffix = FocusBadge.AWAY, " · away"
    return f"{BADGE_ICONS[badge]} {ghost_label(owner)}{suffix}", badge


@dataclass
class GhostAvatar:
    """The ghost beside you: a translucent rig, its driver, its plate and its playback."""

    root: NodePath
    rig: AvatarRig
    driver: AvatarDriver
    plate: NamePlate
    playback: GhostPlayback

    def destroy(self) -> None:
        """Remove the ghost's nodes."""
        self.plate.destroy()
        self.rig.destroy()
        self.root.removeNode()


class GhostPicker:
    """The picker's state: the listed ghosts, the highlighted one, and the futures in flight."""

    def __init__(self, library: GhostLibrary | None) -> None:
        self.library = library
        self.ghosts: tuple[GhostInfo, ...] = ()
        self.selected = 0
        self.status = ""
        self.open = False
        self._listing: concurrent.futures.Future[Any] | None = None
        self._fetching: concurrent.futures.Future[GhostRecording] | None = None

    def show(self) -> None:
        """Open the picker and (online) ask the server for the list."""
        self.open = True
        if self.library is None:
            self.status = OFFLINE_HINT
            return
        self.status = "Loading ghosts…"
        self._listing = self.library.list_ghosts()

    def close(self) -> None:
        """Close the picker; a download in flight is dropped."""
        self.open = False
        self._fetching = None

    def move(self, step: int) -> None:
        """Highlight the previous (-1) or next (+1) ghost."""
        if self.ghosts:
            self.selected = (self.selected + step) % len(self.ghosts)

    def choose(self) -> None:
        """Download the highlighted ghost."""
        if self.library is None or not self.ghosts or self._fetching is not None:
            return
        info = self.ghosts[self.selected]
        self.status = f"Downloading the {ghost_label(info.owner_username)}…"
        self._fetching = self.library.fetch_ghost(info.ghost_id)

    def poll(self) -> GhostRecording | None:
        """Take finished answers; returns a downloaded ghost once (then the picker closes)."""
        listing = self._listing
        if listing is not None and listing.done():
            self._listing = None
            try:
                self.ghosts = tuple(listing.result().ghosts)
            except Exception as exc:  # the client's errors carry the reason; show it, go on
                self.status = f"Could not list ghosts: {exc}"
            else:
                self.selected = 0
                self.status = (
                    "UP/DOWN choose    ENTER study with it    ESC close"
                    if self.ghosts
                    else "No ghosts yet: you and your friends need a finished session"
                )
        fetching = self._fetching
        if fetching is not None and fetching.done():
            self._fetching = None
            try:
                recording = fetching.result()
            except Exception as exc:  # as above
                self.status = f"Could not download it: {exc}"
                return None
            self.close()
            return recording
        return None

    @property
    def rows(self) -> list[str]:
        """One line per listed ghost."""
        return [ghost_line(g) for g in self.ghosts]
