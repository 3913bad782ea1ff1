"""The room browser: the server's open rooms, refreshed every few seconds; join one or open your own.

Theory of operation
-------------------
Like the arena, the lobby never waits on the network: it asks its :class:`LobbyLink` (a
:class:`~game.net.NetClient`, attached with :func:`attach_lobby`) for the room list, a join or
a new room, keeps the returned futures and looks at them once per frame. A finished join or
create hands over to the arena (the client is then in the room); a failure becomes a line on
screen in the player's words (:func:`game.online.describe`). The list is asked for again every
:data:`REFRESH_S` seconds, and at once with R; the selection follows its room across refreshes.
After a session the results screen comes back here (Enter) once the client has left the room.
"""

from __future__ import annotations

import concurrent.futures
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Protocol

from panda3d.core import NodePath, TextNode

from game.config import (
    HUD_ACCENT,
    HUD_ALERT,
    HUD_INK,
    HUD_MUTED,
    HUD_PANEL,
    SMALL_SCALE,
    TEXT_SCALE,
    TITLE_SCALE,
)
from game.hud.shapes import FILL_ORDER, rounded_rect
from game.hud.text import Label
from game.online import ROOM_COLUMNS, RoomEntry, describe, room_rows
from game.scenes.arena import RoomLink, attach_room
from game.scenes.base import Command, Scene, SceneId
from shared.protocol import Plan

if TYPE_CHECKING:
    from game.app import ConvexApp

REFRESH_S: Final[float] = 3.0
"""Seconds between two room list requests (frame-clock time)."""

VISIBLE_ROWS: Final[int] = 8
"""Rooms shown at once; the list scrolls to keep the selection in view."""

PANEL_WIDTH: Final[float] = 2.7
"""Width of the lobby panel (aspect2d units; the 16:9 screen is 3.56 wide)."""

ROW_HEIGHT: Final[float] = 0.1
"""Height of one room's row."""

COLUMN_X: Final[tuple[float, ...]] = (-1.27, -0.98, -0.38, 0.1, 0.62, 0.9)
"""Left edge of each column of :data:`game.online.ROOM_COLUMNS`."""

COLUMN_CHARS: Final[tuple[int, ...]] = (8, 22, 17, 18, 7, 11)
"""Longest text each column shows (longer names end in "…")."""

DEFAULT_SUBJECT: Final[str] = "Study"
"""Subject of a room made with N when ``--subject`` was not given (rooms need one)."""

KEYS_HINT: Final[str] = "↑/↓ select · Enter join · N new room · R refresh · Q quit"


def empty_hint(server: str) -> str:
    """What the lobby says when there is no open room."""
    return (
        "No open rooms. Press N to create one, or ask a friend for their room id:\n"
        f"convex play --server {server} --room ID"
    )


def clip(text: str, chars: int) -> str:
    """``text`` cut to ``chars`` characters, ending in "…" when cut."""
    return text if len(text) <= chars else text[: chars - 1] + "…"


class LobbyLink(RoomLink, Protocol):
    """What the lobby needs from the server: a :class:`~game.net.NetClient`."""

    def list_rooms(self) -> concurrent.futures.Future[Any]:
        """The open rooms (a ``RoomList`` with ``rooms``)."""
        ...

    def create_room(
        self, name: str, subject: str, plan: Plan | None = None, boss: str | None = None
    ) -> concurrent.futures.Future[Any]:
        """Open a room and take its first seat as host."""
        ...

    def join_room(self, room_id: str) -> concurrent.futures.Future[Any]:
        """Take a seat in a room."""
        ...

    def leave(self) -> concurrent.futures.Future[Any]:
        """Give up the seat in the current room (back to browsing)."""
        ...


@dataclass(frozen=True)
class LobbyOptions:
    """Who is browsing, where, and the room N creates."""

    username: str
    server: str
    subject: str | None = None
    plan: Plan | None = None
    boss: str | None = None

    @property
    def new_room_name(self) -> str:
        """The name of a room made with N."""
        return f"{self.username}'s room"


_LOBBIES: weakref.WeakKeyDictionary[Any, tuple[LobbyLink, LobbyOptions]] = (
    weakref.WeakKeyDictionary()
)


def attach_lobby(app: ConvexApp, link: LobbyLink, options: LobbyOptions) -> None:
    """Give ``app``'s lobby (and so its arena and results) the server to browse."""
    _LOBBIES[app] = (link, options)
    attach_room(app, link)


def lobby_link(app: ConvexApp) -> LobbyLink | None:
    """The server ``app``'s lobby browses, or None when no lobby is attached (the demo)."""
    attached = _LOBBIES.get(app)
    return None if attached is None else attached[0]


class LobbyError(RuntimeError):
    """The lobby was entered without a server attached to the app."""


class LobbyScene(Scene):
    """The room browser: see the module docstring."""

    id = SceneId.LOBBY

    def __init__(self, app: ConvexApp) -> None:
        super().__init__(app)
        try:
            self.link, self.options = _LOBBIES[app]
        except KeyError:
            raise LobbyError("no server attached: call attach_lobby(app, ...) first") from None
        self.rooms: tuple[RoomEntry, ...] = ()
        self.loaded = False
        """Whether a room list has arrived yet."""
        self.selected: str | None = None
        """The selected room's id."""
        self.message = ""
        """The newest error or progress line shown to the player."""
        self._listing: concurrent.futures.Future[Any] | None = None
        self._action: concurrent.futures.Future[Any] | None = None
        self._action_what = ""
        self._next_refresh = 0.0
        self._shown: tuple[object, ...] | None = None

    # -- enter / exit ---------------------------------------------------------------------------

    def enter(self, now: float) -> None:
        """Hide the solo avatar, build the panel and ask for the room list."""
        app = self.app
        if app.rig is not None:
            app.rig.actor.hide()
        font, bold = app.fonts
        self.root: NodePath = app.aspect2d.attachNewNode("lobby")
        width = PANEL_WIDTH
        height = 0.62 + ROW_HEIGHT * (VISIBLE_ROWS + 1) + 0.2
        top = height / 2
        rounded_rect(self.root, -width / 2, -top, width, height, radius=0.06, colour=HUD_PANEL)
        Label(
            self.root,
            bold,
            text="Study rooms",
            scale=TITLE_SCALE,
            pos=(-width / 2 + 0.08, top - 0.13),
            colour=HUD_INK,
        )
        Label(
            self.root,
            font,
            text=f"{self.options.server} · signed in as {self.options.username}",
            scale=SMALL_SCALE,
            pos=(width / 2 - 0.08, top - 0.12),
            colour=HUD_MUTED,
            align=TextNode.ARight,
        )
        header_z = top - 0.28
        for name, x in zip(ROOM_COLUMNS, COLUMN_X, strict=True):
            Label(
                self.root, bold, text=name, scale=SMALL_SCALE, pos=(x, header_z), colour=HUD_MUTED
            )
        self._first_row_z = header_z - ROW_HEIGHT
        self.highlight = rounded_rect(
            self.root,
            -width / 2 + 0.04,
            -0.035,
            width - 0.08,
            ROW_HEIGHT * 0.9,
            radius=0.03,
            colour=(HUD_ACCENT[0], HUD_ACCENT[1], HUD_ACCENT[2], 0.18),
            name="selection",
            order=FILL_ORDER,
        )
        self.highlight.hide()
        self.cells: list[list[Label]] = [
            [
                Label(
                    self.root,
                    font,
                    scale=TEXT_SCALE * 0.8,
                    pos=(x, self._first_row_z - i * ROW_HEIGHT),
                    colour=HUD_INK,
                )
                for x in COLUMN_X
            ]
            for i in range(VISIBLE_ROWS)
        ]
        self.empty = Label(
            self.root,
            font,
            scale=TEXT_SCALE * 0.8,
            pos=(0.0, self._first_row_z - ROW_HEIGHT),
            colour=HUD_MUTED,
            align=TextNode.ACenter,
        )
        self.message_label = Label(
            self.root,
            font,
            scale=SMALL_SCALE,
            pos=(0.0, -top + 0.2),
            colour=HUD_ALERT,
            align=TextNode.ACenter,
        )
        Label(
            self.root,
            font,
            text=KEYS_HINT,
            scale=SMALL_SCALE,
            pos=(0.0, -top + 0.08),
            colour=HUD_MUTED,
            align=TextNode.ACenter,
        )
        self.refresh(now)
        self.update(0.0, now)

    def exit(self) -> None:
        """Remove the panel and show the solo avatar again."""
        self.root.removeNode()
        if self.app.rig is not None:
            self.app.rig.actor.show()

    # -- input ----------------------------------------------------------------------------------

    def handle(self, command: Command, now: float) -> SceneId | None:
        """Up/Down select, Enter joins, N creates a room, R refreshes."""
        if command in (Command.UP, Command.DOWN):
            self._move(-1 if command is Command.UP else 1)
        elif command is Command.REFRESH:
            self.refresh(now)
        elif command is Command.SELECT:
            room = self.selected_room
            if room is not None:
                self._act(self.link.join_room(room.room_id), f"Joining {room.name}…")
        elif command is Command.NEW:
            options = self.options
            self._act(
                self.link.create_room(
                    options.new_room_name,
                    options.subject or DEFAULT_SUBJECT,
                    options.plan,
                    options.boss,
                ),
                f"Creating {options.new_room_name}…",
            )
        return None

    @property
    def selected_room(self) -> RoomEntry | None:
        """The room Enter would join."""
        return next((r for r in self.rooms if r.room_id == self.selected), None)

    def _move(self, step: int) -> None:
        if not self.rooms:
            return
        ids = [r.room_id for r in self.rooms]
        index = ids.index(self.selected) if self.selected in ids else 0
        self.selected = ids[max(0, min(len(ids) - 1, index + step))]

    def _act(self, future: concurrent.futures.Future[Any], what: str) -> None:
        if self._action is not None:
            return  # one join or create at a time
        self._action = future
        self._action_what = what
        self.message = what

    def refresh(self, now: float) -> None:
        """Ask for the room list now (unless a request is still out)."""
        self._next_refresh = now + REFRESH_S
        if self._listing is None:
            self._listing = self.link.list_rooms()

    # -- the frame ------------------------------------------------------------------------------

    def update(self, dt: float, now: float) -> SceneId | None:
        """Collect finished requests, refresh on schedule, redraw if anything changed."""
        listing = self._listing
        if listing is not None and listing.done():
            self._listing = None
            try:
                self._show_rooms(tuple(listing.result().rooms))
            except Exception as exc:  # any failure is one line on screen, never a crash
                self.message = f"Could not list the rooms: {describe(exc)}"
        action = self._action
        if action is not None and action.done():
            self._action = None
            try:
                action.result()
            except Exception as exc:
                self.message = f"{self._action_what.rstrip('…')} failed: {describe(exc)}"
            else:
                return SceneId.ARENA
        if now >= self._next_refresh:
            self.refresh(now)
        self._draw()
        return None

    def _show_rooms(self, rooms: Sequence[RoomEntry]) -> None:
        self.rooms = tuple(rooms)
        self.loaded = True
        if self.message.startswith("Could not list"):
            self.message = ""
        if self.selected_room is None:
            self.selected = self.rooms[0].room_id if self.rooms else None

    @property
    def rows(self) -> list[tuple[str, str, str, str, str, str]]:
        """The rows the table shows now (all rooms; the panel scrolls through them)."""
        return room_rows(self.rooms)

    def _draw(self) -> None:
        state = (self.rooms, self.selected, self.message, self.loaded)
        if state == self._shown:
            return
        self._shown = state
        rows = self.rows
        ids = [r.room_id for r in self.rooms]
        index = ids.index(self.selected) if self.selected in ids else 0
        first = max(0, min(index - VISIBLE_ROWS // 2, len(rows) - VISIBLE_ROWS))
        for i, labels in enumerate(self.cells):
            row = rows[first + i] if first + i < len(rows) else None
            for label, text, chars in zip(
                labels, row or ("",) * len(COLUMN_X), COLUMN_CHARS, strict=True
            ):
                label.text = clip(text, chars)
                label.set_colour(HUD_ACCENT if row is not None and first + i == index else HUD_INK)
        if self.selected is not None and rows:
            self.highlight.setZ(self._first_row_z - (index - first) * ROW_HEIGHT)
            self.highlight.show()
        else:
            self.highlight.hide()
        if not self.loaded:
            self.empty.text = "Looking for rooms…"
        else:
            self.empty.text = "" if rows else empty_hint(self.options.server)
        self.message_label.text = self.message
