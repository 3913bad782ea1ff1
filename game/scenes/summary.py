"""The session summary scene: totals and the focus-score chart, the avatar still mirroring beside them."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from panda3d.core import TextNode

from game.avatar.mapping import AvatarMode
from game.config import (
    HUD_ACCENT,
    HUD_INK,
    HUD_MUTED,
    HUD_PANEL,
    SMALL_SCALE,
    SOLO_CAMERA_LOOK_AT,
    SOLO_CAMERA_POS,
    TEXT_SCALE,
    TITLE_SCALE,
)
from game.hud.chart import FocusChart
from game.hud.shapes import rounded_rect
from game.hud.streak import streak_text
from game.hud.text import Label
from game.scenes.base import Command, Scene, SceneId
from game.scenes.session import SessionSummary
from shared.face import Attention
from shared.focus import classify
from shared.pace import pace_result

if TYPE_CHECKING:
    pass

PANEL_SIZE = (1.92, 1.80)
"""The results panel (aspect2d units), anchored to the window's right edge."""

CAMERA_SHIFT = 0.64
CAMERA_BACK = 0.65
"""How far (scene units) the camera moves right, and back, so the avatar stands in the left third."""

CHART_SIZE = (1.50, 0.52)

MARGIN = 0.06
"""Gap between the panel and the window edge (aspect2d units)."""

AVATAR_ROOM = 1.3
"""Width (aspect2d units) left of the panel below which the avatar is hidden and the panel centred."""


def format_duration(seconds: float) -> str:
    """``"45 s"``, ``"18 min 20 s"``, ``"1 h 05 min"``."""
    if not math.isfinite(seconds):
        raise ValueError(f"seconds must be finite, got {seconds!r}")
    total = max(0, round(seconds))
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def pace_text(summary: SessionSummary | None) -> str:
    """The ghost race's verdict (``"You beat the ghost of sam by 0:40"``), or "" without a ghost."""
    if summary is None or summary.pace is None or summary.ghost_owner is None:
        return ""
    return pace_result(summary.pace, summary.ghost_owner)


def summary_rows(summary: SessionSummary) -> list[tuple[str, str]]:
    """The (label, value) pairs of the results grid, in reading order (two per row)."""
    focus = summary.focus
    dash = "—"
    return [
        ("Focused", format_duration(focus.focused_s) if focus else dash),
        ("Focus score", f"{round(focus.score)}" if focus else dash),
        ("Looked away", format_duration(focus.away_s + focus.asleep_s) if focus else dash),
        ("Fell asleep", (f"{focus.sleeps}×" if focus.sleeps else "never") if focus else dash),
        ("Blinks / min", f"{focus.blink_rate:.0f}" if focus else dash),
        ("Confused moments", f"{len(focus.confusion)}" if focus else dash),
    ]


class SummaryScene(Scene):
    """Results of the session just ended; SPACE starts a new one."""

    id = SceneId.SUMMARY

    def enter(self, now: float) -> None:
        """Move the camera aside and lay out the results panel."""
        app = self.app
        summary = app.results
        x, y, z = SOLO_CAMERA_POS
        lx, ly, lz = SOLO_CAMERA_LOOK_AT
        app.camera.setPos(x + CAMERA_SHIFT, y - CAMERA_BACK, z)
        app.camera.lookAt(lx + CAMERA_SHIFT, ly, lz)
        font, bold = app.fonts
        self.root = app.aspect2d.attachNewNode("summary")
        w, h = PANEL_SIZE
        panel = self.root.attachNewNode("panel")
        panel.setPos(0.0, 0.0, h / 2)
        self._aspect = 0.0
        self._layout()
        rounded_rect(panel, 0.0, -h, w, h, radius=0.07, colour=HUD_PANEL)
        pad = 0.12
        Label(
            panel,
            bold,
            text="Session complete",
            scale=TITLE_SCALE,
            pos=(pad, -0.17),
            colour=HUD_INK,
        )
        subtitle = self._subtitle(summary)
        Label(panel, font, text=subtitle, scale=SMALL_SCALE, pos=(pad, -0.25), colour=HUD_MUTED)
        self.pace_label = Label(
            panel,
            bold,
            text=pace_text(summary),
            scale=SMALL_SCALE,
            pos=(pad, -0.32),
            colour=HUD_ACCENT,
            name="pace-result",
        )
        rows = summary_rows(summary) if summary is not None else []
        col = (w - 2 * pad) / 2
        for i, (label, value) in enumerate(rows):
            r, c = divmod(i, 2)
            gx, gz = pad + c * col, -0.42 - r * 0.19
            Label(
                panel,
                font,
                text=label.upper(),
                scale=SMALL_SCALE * 0.8,
                pos=(gx, gz),
                colour=HUD_MUTED,
            )
            Label(
                panel,
                bold,
                text=value,
                scale=TEXT_SCALE * 1.15,
                pos=(gx, gz - 0.075),
                colour=HUD_INK,
            )
        Label(
            panel,
            font,
            text="FOCUS OVER TIME",
            scale=SMALL_SCALE * 0.8,
            pos=(pad, -1.02),
            colour=HUD_MUTED,
        )
        cw, ch = CHART_SIZE
        self.chart = FocusChart(panel, font, cw, ch)
        self.chart.root.setPos(pad + 0.08, 0.0, -1.62)
        if summary is not None:
            self.chart.set_samples(summary.chart, duration=max(summary.elapsed_s, 1.0))
        streak = app.streak_days()
        Label(
            panel,
            bold,
            text=f"Streak  {streak_text(streak)}",
            scale=SMALL_SCALE,
            pos=(pad, -h + 0.07),
            colour=HUD_ACCENT,
        )
        Label(
            panel,
            font,
            text="SPACE new session    Q quit",
            scale=SMALL_SCALE * 0.9,
            pos=(w - pad, -h + 0.07),
            colour=HUD_MUTED,
            align=TextNode.ARight,
        )

    @staticmethod
    def _subtitle(summary: SessionSummary | None) -> str:
        if summary is None:
            return ""
        plan = summary.plan
        parts = [summary.subject] if summary.subject else []
        parts.append(f"{summary.rounds_done} of {plan.rounds} rounds done")
        parts.append(f"{format_duration(summary.focus_s)} on the timer")
        return "  ·  ".join(parts)

    def _layout(self) -> None:
        """Right-align the panel beside the avatar, or centre it alone in a narrow window."""
        aspect = float(self.app.getAspectRatio())
        if aspect == self._aspect:
            return
        self._aspect = aspect
        w, _ = PANEL_SIZE
        scale = min(1.0, (2.0 * aspect - 2 * MARGIN) / w)
        room = 2.0 * aspect - w * scale - 2 * MARGIN
        wide = room >= AVATAR_ROOM
        self.root.setScale(scale)
        self.root.setX(aspect - MARGIN - w * scale if wide else -w * scale / 2.0)
        actor = self.app.rig.actor if self.app.rig is not None else None
        if actor is not None:
            if wide:
                actor.show()
            else:
                actor.hide()

    def exit(self) -> None:
        """Remove the panel (and show the avatar again if a narrow window hid it)."""
        self.root.removeNode()
        if self.app.rig is not None:
            self.app.rig.actor.show()

    def handle(self, command: Command, now: float) -> SceneId | None:
        """SPACE starts a new solo session."""
        if command is Command.START_PAUSE:
            return SceneId.SOLO
        return None

    def update(self, dt: float, now: float) -> SceneId | None:
        """Keep the avatar mirroring (there is no sleeping on the results screen)."""
        self._layout()
        sample = self.app.feed.latest()
        mode = AvatarMode.FROZEN
        if sample is not None and sample.present:
            attention = classify(sample, self.app.calibration)
            if attention is not Attention.UNCERTAIN:
                mode = AvatarMode.LIVE
        self.app.driver.update(sample, mode, dt)
        return None
