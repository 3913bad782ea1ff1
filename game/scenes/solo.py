"""The solo study scene: the avatar mirror, the pomodoro, the focus meter, distractions, the streak."""

from __future__ import annotations

from typing import TYPE_CHECKING

from panda3d.core import TextNode

from game.config import (
    AWAY_OVERLAY_AFTER_S,
    HUD_INK,
    HUD_MUTED,
    HUD_PANEL,
    SMALL_SCALE,
    SOLO_CAMERA_LOOK_AT,
    SOLO_CAMERA_POS,
)
from game.hud.meter import FocusMeter
from game.hud.overlay import DistractionOverlay, OverlayKind
from game.hud.shapes import rounded_rect
from game.hud.streak import StreakBadge
from game.hud.text import Label
from game.hud.timer import TimerText
from game.scenes.base import Command, Scene, SceneId
from game.scenes.session import SoloSession, SoloStatus
from shared.timer import Phase

if TYPE_CHECKING:
    from game.app import ConvexApp

MARGIN = 0.06
"""Gap between HUD panels and the window edges (aspect2d units)."""


def overlay_for(status: SoloStatus) -> tuple[OverlayKind, float]:
    """Which distraction banner a status calls for, and the away seconds to show on it."""
    if status.asleep:
        return OverlayKind.ASLEEP, 0.0
    if status.away_s >= AWAY_OVERLAY_AFTER_S:
        return OverlayKind.AWAY, status.away_s
    return OverlayKind.NONE, 0.0


class SoloScene(Scene):
    """Study alone with the avatar as a mirror; ``e`` (or the last block ending) shows the summary."""

    id = SceneId.SOLO

    def __init__(self, app: ConvexApp) -> None:
        super().__init__(app)
        settings = app.settings
        self.session = SoloSession(
            settings.plan, subject=settings.subject, sleep_after_s=settings.sleep_after_s
        )
        self.status: SoloStatus | None = None

    def enter(self, now: float) -> None:
        """Frame the avatar, build the HUD, and start the timer if the app asks for it."""
        app = self.app
        app.camera.setPos(*SOLO_CAMERA_POS)
        app.camera.lookAt(*SOLO_CAMERA_LOOK_AT)
        font, bold = app.fonts
        top_left = app.a2dTopLeft.attachNewNode("solo-top-left")
        top_right = app.a2dTopRight.attachNewNode("solo-top-right")
        bottom = app.a2dBottomCenter.attachNewNode("solo-bottom")
        self._anchors = [top_left, top_right, bottom]
        self.timer = TimerText(top_left, font, bold)
        self.timer.root.setPos(MARGIN, 0.0, -MARGIN)
        subject = app.settings.subject
        if subject:
            pill = top_left.attachNewNode("subject")
            pill.setPos(MARGIN, 0.0, -MARGIN - 0.34)
            label = Label(
                pill,
                font,
                text=f"Studying {subject}",
                scale=SMALL_SCALE,
                pos=(0.05, -0.068),
                colour=HUD_INK,
            )
            rounded_rect(
                pill, 0.0, -0.105, label.width + 0.1, 0.105, radius=0.0525, colour=HUD_PANEL
            )
        self.meter = FocusMeter(top_right, font, bold)
        self.meter.root.setPos(-MARGIN, 0.0, -MARGIN)
        self.streak = StreakBadge(top_right, font, bold)
        self.streak.root.setPos(-MARGIN, 0.0, -MARGIN - 0.34)
        self.streak.days = app.streak_days()
        self.overlay = DistractionOverlay(
            bottom, font, bold, sleep_after_s=app.settings.sleep_after_s
        )
        self.overlay.root.setPos(0.0, 0.0, 0.12)
        keys = ["SPACE start/pause", "E end", "Q quit"]
        if app.has_camera_preview:
            keys.insert(2, "C camera")
        bottom_right = app.a2dBottomRight.attachNewNode("solo-keys")
        self._anchors.append(bottom_right)
        self.hints = Label(
            bottom_right,
            font,
            text="    ".join(keys),
            scale=SMALL_SCALE * 0.85,
            pos=(-MARGIN, MARGIN),
            colour=HUD_MUTED,
            align=TextNode.ARight,
        )
        if app.settings.autostart:
            self.session.start(now)
        self.update(0.0, now)

    def exit(self) -> None:
        """Remove the HUD (the avatar belongs to the app and stays)."""
        for anchor in self._anchors:
            anchor.removeNode()

    def handle(self, command: Command, now: float) -> SceneId | None:
        """SPACE starts, then pauses and resumes; E ends the session."""
        if command is Command.START_PAUSE:
            if not self.session.started:
                self.session.start(now)
            elif self.session.timer.phase in (Phase.FOCUS, Phase.BREAK):
                self.session.toggle_pause(now)
            return None
        if command is Command.END:
            self.app.finish_session(self.session.end(now))
            return SceneId.SUMMARY
        return None

    def update(self, dt: float, now: float) -> SceneId | None:
        """Read the newest sample once, step the session, drive the avatar, refresh the HUD."""
        sample = self.app.feed.latest()
        status = self.session.step(sample, now)
        self.status = status
        self.app.driver.update(sample, status.avatar_mode, dt)
        self.timer.show(
            status.phase,
            status.remaining_s,
            status.round_index,
            status.rounds,
            status.pause_reasons,
        )
        self.meter.value = status.score
        kind, away = overlay_for(status)
        self.overlay.show(kind, away)
        if status.finished:
            summary = self.session.summary
            assert summary is not None
            self.app.finish_session(summary)
            return SceneId.SUMMARY
        return None
