"""The solo study scene: the avatar mirror, the pomodoro, the focus meter, distractions, the streak.

With a ghost (a friend's recorded session, :func:`choose_ghost`), a second, translucent avatar
studies beside yours, replayed at your session's elapsed time (it stops when your timer does),
and a pace panel compares your focus with the ghost's. Key G opens a small picker of the
ghosts on the server when a :class:`~game.ghost_feed.GhostLibrary` is attached
(:func:`attach_ghost_library`): Up/Down to move, Enter to download and study with one, ESC to
close. The ghost's avatar, plate and picker live in :mod:`game.scenes.solo_ghost`.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, Final

from direct.showbase.DirectObject import DirectObject
from panda3d.core import TextNode

from game.avatar.driver import AvatarDriver
from game.avatar.ghostly import make_ghostly
from game.avatar.models import avatar_path
from game.avatar.rig import AvatarRig
from game.config import (
    AWAY_OVERLAY_AFTER_S,
    HUD_INK,
    HUD_MUTED,
    HUD_PANEL,
    SMALL_SCALE,
    SOLO_CAMERA_LOOK_AT,
    SOLO_CAMERA_POS,
)
from game.ghost_feed import GhostLibrary, GhostPlayback
from game.hud.meter import FocusMeter
from game.hud.nameplate import NamePlate
from game.hud.overlay import DistractionOverlay, OverlayKind
from game.hud.pace import GhostPickerView, PacePanel
from game.hud.shapes import rounded_rect
from game.hud.streak import StreakBadge
from game.hud.text import Label
from game.hud.timer import TimerText
from game.scenes.base import Command, Scene, SceneId
from game.scenes.session import SoloSession, SoloStatus
from game.scenes.solo_ghost import (
    GHOST_CAMERA_SHIFT,
    GHOST_PLATE_HEIGHT,
    GHOST_POS,
    GhostAvatar,
    GhostPicker,
    ghost_plate,
    ghost_preset,
)
from shared.ghost import GhostRecording
from shared.timer import Phase

if TYPE_CHECKING:
    from game.app import ConvexApp

MARGIN = 0.06
"""Gap between HUD panels and the window edges (aspect2d units)."""

PICKER_KEY: Final[str] = "g"
"""Opens the ghost picker; the app's UP/DOWN/SELECT commands move in it, ESC closes it."""

PICKER_COMMANDS: Final[dict[Command, str]] = {
    Command.UP: "up",
    Command.DOWN: "down",
    Command.SELECT: "choose",
}


_GHOSTS: weakref.WeakKeyDictionary[Any, GhostRecording] = weakref.WeakKeyDictionary()
_LIBRARIES: weakref.WeakKeyDictionary[Any, GhostLibrary] = weakref.WeakKeyDictionary()


def attach_ghost_library(app: ConvexApp, library: GhostLibrary) -> None:
    """Let ``app``'s solo scene list and download ghosts (key G) through ``library``."""
    _LIBRARIES[app] = library


def ghost_library(app: ConvexApp) -> GhostLibrary | None:
    """The ghost library attached to ``app``, if any (None: offline)."""
    return _LIBRARIES.get(app)


def choose_ghost(app: ConvexApp, recording: GhostRecording | None) -> None:
    """Study with ``recording`` (None: alone) from now on, in this session and the next ones."""
    if recording is None:
        _GHOSTS.pop(app, None)
    else:
        _GHOSTS[app] = recording
    scene = app.scene
    if isinstance(scene, SoloScene):
        scene.set_ghost(recording)


def chosen_ghost(app: ConvexApp) -> GhostRecording | None:
    """The ghost ``app`` studies with, if any."""
    return _GHOSTS.get(app)


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
            settings.plan,
            subject=settings.subject,
            sleep_after_s=settings.sleep_after_s,
            ghost=chosen_ghost(app),
        )
        self.status: SoloStatus | None = None
        self.ghost: GhostAvatar | None = None
        self.picker = GhostPicker(ghost_library(app))
        self._keys = DirectObject()
        self._pending_keys: list[str] = []

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
        keys = ["SPACE start/pause", "E end", "G ghost", "Q quit"]
        if app.has_camera_preview:
            keys.insert(3, "C camera")
        top = app.a2dTopCenter.attachNewNode("solo-top")
        self._anchors.append(top)
        self.pace = PacePanel(top, font)
        self.pace.root.setPos(0.0, 0.0, -MARGIN)
        self.picker_view = GhostPickerView(app.aspect2d, font, bold)
        self._anchors.append(self.picker_view.root)
        self.picker_view.root.setPos(0.0, 0.0, 0.45)
        self._keys.accept(PICKER_KEY, self._pending_keys.append, ["open"])
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
        self.set_ghost(self.session.ghost)
        self.update(0.0, now)

    def exit(self) -> None:
        """Remove the HUD and the ghost (your avatar belongs to the app and stays)."""
        self._keys.ignoreAll()
        self._close_picker()
        self._remove_ghost()
        for anchor in self._anchors:
            anchor.removeNode()

    # -- the ghost ---------------------------------------------------------------------------

    def set_ghost(self, recording: GhostRecording | None) -> None:
        """Study beside ``recording`` (None: alone); the ghost joins at your elapsed time."""
        self._remove_ghost()
        self.session.ghost = recording
        app = self.app
        x, y, z = SOLO_CAMERA_POS
        lx, ly, lz = SOLO_CAMERA_LOOK_AT
        if recording is None:
            app.camera.setPos(x, y, z)
            app.camera.lookAt(lx, ly, lz)
            self.pace.show(None, "")
            return
        dx, dy, dz = GHOST_CAMERA_SHIFT
        app.camera.setPos(x + dx, y + dy, z + dz)
        app.camera.lookAt(lx + dx, ly, lz + dz)
        playback = GhostPlayback(recording)
        preset = ghost_preset(playback.owner, app.settings.avatar.resolve())
        root = app.render.attachNewNode("ghost")
        root.setPos(*GHOST_POS)
        rig = AvatarRig(avatar_path(preset), root, font=app.fonts[1], name="ghost-avatar")
        make_ghostly(rig.actor)
        # The ghost faces you as your friend would: not mirrored.
        driver = AvatarDriver(rig, mirror=False)
        plate = NamePlate(root, app.fonts[1], height=GHOST_PLATE_HEIGHT)
        self.ghost = GhostAvatar(root, rig, driver, plate, playback)

    def _remove_ghost(self) -> None:
        if self.ghost is not None:
            self.ghost.destroy()
            self.ghost = None

    def _show_ghost(self, status: SoloStatus, dt: float) -> None:
        ghost = self.ghost
        if ghost is None or status.ghost is None:
            self.pace.show(None, "")
            return
        view = ghost.playback.view(status.ghost)
        ghost.driver.update(view.sample, view.mode, dt)
        ghost.plate.show(*ghost_plate(ghost.playback.owner, status.ghost))
        self.pace.show(status.pace, ghost.playback.owner)

    # -- the picker --------------------------------------------------------------------------

    def _picker_keys(self) -> None:
        picker = self.picker
        for action in self._pending_keys:
            if action == "open" and not picker.open:
                picker.show()
                # While the picker is open ESC closes it instead of quitting the game.
                self.app.ignore("escape")
                self._keys.accept("escape", self._pending_keys.append, ["close"])
            elif not picker.open:
                continue
            elif action == "close":
                self._close_picker()
            elif action in ("up", "down"):
                picker.move(-1 if action == "up" else 1)
            elif action == "choose":
                picker.choose()
        self._pending_keys.clear()

    def _close_picker(self) -> None:
        if self.picker.open:
            self.picker.close()
        self._keys.ignore("escape")
        self.app.accept("escape", self.app.press, [Command.QUIT])

    def _update_picker(self) -> None:
        self._picker_keys()
        picker = self.picker
        recording = picker.poll()
        if recording is not None:
            self._close_picker()
            choose_ghost(self.app, recording)
        if picker.open:
            self.picker_view.show(picker.rows, picker.selected, picker.status)
        else:
            self.picker_view.hide()

    def handle(self, command: Command, now: float) -> SceneId | None:
        """SPACE starts, then pauses and resumes; E ends the session; arrows/Enter in the picker."""
        if command in PICKER_COMMANDS:
            self._pending_keys.append(PICKER_COMMANDS[command])
            return None
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
        self._show_ghost(status, dt)
        self._update_picker()
        if status.finished:
            summary = self.session.summary
            assert summary is not None
            self.app.finish_session(summary)
            return SceneId.SUMMARY
        return None
