"""The group results screen: victory or defeat, each member's damage, share, XP and streak, the
MVP; with a lobby attached, Enter leaves the room and goes back to the room browser."""

from __future__ import annotations

import concurrent.futures
import logging
from typing import TYPE_CHECKING, Any, Final

from panda3d.core import TextNode

from game.config import (
    HUD_ACCENT,
    HUD_ALERT,
    HUD_GOOD,
    HUD_INK,
    HUD_MUTED,
    HUD_PANEL,
    SMALL_SCALE,
    TEXT_SCALE,
    TITLE_SCALE,
)
from game.hud.shapes import rounded_rect
from game.hud.streak import streak_text
from game.hud.text import Label
from game.scenes.arena import boss_title, room_link
from game.scenes.base import Command, Scene, SceneId
from game.scenes.lobby import lobby_link
from shared.protocol import Results

if TYPE_CHECKING:
    from game.app import ConvexApp

PANEL_WIDTH: Final[float] = 2.3
"""Width of the results panel (aspect2d units)."""

ROW_HEIGHT: Final[float] = 0.1
"""Height of one member's row."""

COLUMNS: Final[tuple[tuple[str, float, int], ...]] = (
    ("member", -1.05, TextNode.ALeft),
    ("damage", 0.05, TextNode.ARight),
    ("share", 0.35, TextNode.ARight),
    ("XP", 0.62, TextNode.ARight),
    ("streak", 1.05, TextNode.ARight),
)
"""Header, x position and alignment of each column."""

log = logging.getLogger(__name__)

QUIT_HINT: Final[str] = "Q to quit"
BACK_HINT: Final[str] = "Enter: back to the rooms · Q to quit"
"""The footer when a lobby is attached (``convex play --server``)."""

GHOST_STREAK: Final[str] = "ghost"
"""The streak cell of a ghost: a replay has no streak of its own."""

UNKNOWN_STREAK: Final[str] = "—"
"""The streak cell of a person whose streak the server could not tell."""

Row = tuple[str, str, str, str, str]
"""One member's cells: name, damage, share, XP, streak."""


def streak_cell(streak_days: int | None, is_ghost: bool) -> str:
    """``"4 days"`` for a person, ``"ghost"`` for a ghost, ``"—"`` when the server sent none."""
    if is_ghost:
        return GHOST_STREAK
    return UNKNOWN_STREAK if streak_days is None else streak_text(streak_days)


def result_rows(results: Results, you: str | None = None) -> list[Row]:
    """The table's rows, most damage first: name (MVP star, ghost tag), damage, share, XP,
    streak."""
    rows: list[Row] = []
    for m in sorted(results.members, key=lambda m: -m.damage):
        name = f"ghost of {m.username}" if m.is_ghost else m.username
        if you is not None and m.member_id == you and not m.is_ghost and m.username != "you":
            name += " (you)"
        if m.member_id == results.mvp:
            name = "★ " + name + "  MVP"
        xp = "—" if m.is_ghost else f"+{m.xp}"
        streak = streak_cell(m.streak_days, m.is_ghost)
        rows.append((name, f"{m.damage:,.0f}", f"{m.share * 100:.0f} %", xp, streak))
    return rows


class ResultsScene(Scene):
    """Shows the room's :class:`~shared.protocol.Results` once they arrive."""

    id = SceneId.RESULTS

    def __init__(self, app: ConvexApp) -> None:
        super().__init__(app)
        self.link = room_link(app)
        self.lobby = lobby_link(app)
        self.results: Results | None = None
        self.rows: list[Row] = []
        self._leaving: concurrent.futures.Future[Any] | None = None

    def enter(self, now: float) -> None:
        """Hide the solo avatar and wait for the results."""
        if self.app.rig is not None:
            self.app.rig.actor.hide()
        self.root = self.app.aspect2d.attachNewNode("results")
        self.update(0.0, now)

    def exit(self) -> None:
        """Remove the panel."""
        self.root.removeNode()
        if self.app.rig is not None:
            self.app.rig.actor.show()

    def handle(self, command: Command, now: float) -> SceneId | None:
        """Enter (with a lobby attached, once the results are shown): leave the room."""
        if (
            command is Command.SELECT
            and self.lobby is not None
            and self.results is not None
            and self._leaving is None
        ):
            self._leaving = self.lobby.leave()
            self.footer.text = "Leaving the room…"
        return None

    def update(self, dt: float, now: float) -> SceneId | None:
        """Build the panel the first time results are known; back to the lobby once left."""
        if self.results is None:
            snap = self.link.snapshot()
            if snap.results is not None:
                self.results = snap.results
                self._build(snap.results, snap.member_id)
        leaving = self._leaving
        if leaving is not None and leaving.done():
            if leaving.exception() is not None:
                # The room may be gone already; the seat frees itself after the grace anyway.
                log.info("leaving the room after the results failed: %s", leaving.exception())
            return SceneId.LOBBY
        return None

    def _build(self, results: Results, you: str | None) -> None:
        font, bold = self.app.fonts
        self.rows = result_rows(results, you)
        height = 0.62 + ROW_HEIGHT * len(self.rows)
        top = height / 2
        rounded_rect(
            self.root, -PANEL_WIDTH / 2, -top, PANEL_WIDTH, height, radius=0.06, colour=HUD_PANEL
        )
        won = results.outcome == "victory"
        self.title = Label(
            self.root,
            bold,
            text="Victory!" if won else "Defeat",
            scale=TITLE_SCALE * 1.4,
            pos=(0.0, top - 0.15),
            colour=HUD_GOOD if won else HUD_ALERT,
            align=TextNode.ACenter,
        )
        verb = "defeated" if won else "could not beat"
        Label(
            self.root,
            font,
            text=f"Your group {verb} the {boss_title(results.boss_kind)}",
            scale=SMALL_SCALE,
            pos=(0.0, top - 0.23),
            colour=HUD_MUTED,
            align=TextNode.ACenter,
        )
        z = top - 0.36
        for header, x, align in COLUMNS:
            Label(
                self.root,
                bold,
                text=header,
                scale=SMALL_SCALE,
                pos=(x, z),
                colour=HUD_MUTED,
                align=align,
            )
        for row in self.rows:
            z -= ROW_HEIGHT
            mvp = row[0].startswith("★")
            for text, (_, x, align) in zip(row, COLUMNS, strict=True):
                Label(
                    self.root,
                    bold if mvp else font,
                    text=text,
                    scale=TEXT_SCALE * 0.8,
                    pos=(x, z),
                    colour=HUD_ACCENT if mvp else HUD_INK,
                    align=align,
                )
        mine = next((m for m in results.members if m.member_id == you and not m.is_ghost), None)
        # The server's streak (this session credited) is in your row; the local one would only
        # repeat it, or contradict it.
        streak = self.app.streak_days() if mine is None or mine.streak_days is None else 0
        footer = QUIT_HINT if self.lobby is None else BACK_HINT
        if streak > 0:
            footer = f"Streak: {streak} day{'s' if streak != 1 else ''}    " + footer
        self.footer = Label(
            self.root,
            font,
            text=footer,
            scale=SMALL_SCALE,
            pos=(0.0, -top + 0.08),
            colour=HUD_MUTED,
            align=TextNode.ACenter,
        )
