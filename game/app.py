"""The game client's one ShowBase subclass: window or offscreen buffer, lights, avatar, scenes, input.

Theory of operation
-------------------
:class:`ConvexApp` only wires things together. It opens a window (or an
offscreen EGL buffer), lights the stage, loads the avatar once
(:class:`~game.avatar.rig.AvatarRig` + :class:`~game.avatar.driver.AvatarDriver`,
shared by every scene), and runs a small scene state machine whose legal
moves are the table :data:`SCENE_TRANSITIONS` (solo → summary → solo; online:
lobby → arena → results → lobby, entered from the first scene by ``game.online``). An
illegal switch raises :class:`SceneTransitionError` and changes nothing.

Input and the tracker only write snapshots: key handlers append a
:class:`~game.scenes.base.Command` to a queue, the face tracker publishes its
latest sample. **One** per-frame task reads ``dt`` once (the real frame time,
capped at :data:`~game.config.MAX_FRAME_DT`, or the fixed
:data:`~game.config.SIMULATED_DT` of deterministic offscreen runs), advances
the :class:`FrameClock`, dispatches queued commands, and updates the current
scene, which reads the newest sample and drives the avatar before the frame
is rendered (so the avatar is at most one rendered frame behind the tracker).

The app never owns the camera, the tracker or their threads: whoever created
them (``convex play``) stops and joins them after :meth:`ConvexApp.teardown`.
Closing the window or pressing q/escape stops the task loop so that
:meth:`ShowBase.run` returns instead of exiting the process.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Protocol

from direct.showbase.ShowBase import ShowBase
from panda3d.core import (
    AmbientLight,
    DirectionalLight,
    Filename,
    PNMImage,
    loadPrcFileData,
    unloadPrcFile,
)

from game.avatar.driver import AvatarDriver
from game.avatar.rig import AvatarRig
from game.capture.sources import Frame, FrameSource
from game.config import (
    AMBIENT_LIGHT,
    BACKGROUND,
    CAMERA_FOV_DEG,
    DEFAULT_BREAK_MINUTES,
    DEFAULT_FOCUS_MINUTES,
    DEFAULT_ROUNDS,
    KEY_LIGHT,
    KEY_LIGHT_HPR,
    MAX_FRAME_DT,
    PRC_ANTIALIAS,
    PRC_COMMON,
    PRC_OFFSCREEN,
    PRC_WINDOW,
    WINDOW_SIZE,
    apply_offscreen_env,
)
from game.hud.preview import CameraPreview
from game.hud.shapes import backdrop
from game.hud.text import load_font
from game.scenes.arena import ArenaScene
from game.scenes.base import Command, Scene, SceneId
from game.scenes.history import LocalHistory
from game.scenes.lobby import LobbyScene
from game.scenes.results import ResultsScene
from game.scenes.session import SessionSummary
from game.scenes.solo import SoloScene
from game.scenes.summary import SummaryScene
from shared.face import FaceSample
from shared.focus import DEFAULT_CALIBRATION, SLEEP_AFTER_S, Calibration
from shared.timer import TimerPlan

log = logging.getLogger(__name__)

SCENE_TRANSITIONS: Final[frozenset[tuple[SceneId | None, SceneId]]] = frozenset(
    {
        (None, SceneId.SOLO),
        (SceneId.SOLO, SceneId.SUMMARY),
        (SceneId.SUMMARY, SceneId.SOLO),
        (SceneId.SOLO, SceneId.ARENA),
        (SceneId.ARENA, SceneId.RESULTS),
        (SceneId.RESULTS, SceneId.LOBBY),
        (SceneId.SOLO, SceneId.LOBBY),
        (SceneId.LOBBY, SceneId.ARENA),
    }
)
"""Legal scene switches ``(from, to)``; ``None`` is the app before its first scene."""

SCENES: Final[dict[SceneId, type[Scene]]] = {
    SceneId.SOLO: SoloScene,
    SceneId.SUMMARY: SummaryScene,
    SceneId.ARENA: ArenaScene,
    SceneId.RESULTS: ResultsScene,
    SceneId.LOBBY: LobbyScene,
}

KEYS: Final[dict[str, Command]] = {
    "space": Command.START_PAUSE,
    "e": Command.END,
    "c": Command.TOGGLE_CAMERA,
    "q": Command.QUIT,
    "escape": Command.QUIT,
    "arrow_up": Command.UP,
    "arrow_down": Command.DOWN,
    "enter": Command.SELECT,
    "n": Command.NEW,
    "r": Command.REFRESH,
}
"""Key bindings: Panda3D event name → command."""


class SceneTransitionError(ValueError):
    """A scene switch that :data:`SCENE_TRANSITIONS` does not allow."""


class WindowOpenError(RuntimeError):
    """The window or offscreen buffer could not be opened (no display, no GL)."""


class SampleFeed(Protocol):
    """Anything with the newest face sample: the tracker, a synthetic feed, a test stub."""

    def latest(self) -> FaceSample | None:
        """The newest sample, or None before the first; must not block."""
        ...


class FrameClock:
    """The app's clock: seconds advanced by the frame task's ``dt``, nothing else."""

    def __init__(self, start: float = 0.0) -> None:
        self._t = start

    def now(self) -> float:
        """The current time in seconds."""
        return self._t

    def advance(self, dt: float) -> float:
        """Move forward by ``dt`` (≥ 0) and return the new time."""
        if not dt >= 0.0:
            raise ValueError(f"dt must be non-negative, got {dt!r}")
        self._t += dt
        return self._t


class LatestFrameTap(FrameSource):
    """Passes another source's frames through and keeps a reference to the newest one.

    For the local camera preview only: the frame stays in this process, it is
    never copied to disk or anywhere else. Closing the tap closes the inner source.
    """

    def __init__(self, inner: FrameSource) -> None:
        self.inner = inner
        self.latest: Frame | None = None

    def frames(self) -> Iterator[Frame]:
        """Yield the inner source's frames, remembering each as :attr:`latest`."""
        for frame in self.inner:
            # A reference swap is atomic; the render thread only ever reads it.
            self.latest = frame
            yield frame

    def _release(self) -> None:
        self.inner.close()


@dataclass(frozen=True)
class AppSettings:
    """How to run the client."""

    avatar: Path
    offscreen: bool = False
    size: tuple[int, int] = WINDOW_SIZE
    subject: str | None = None
    plan: TimerPlan = field(
        default_factory=lambda: TimerPlan(
            DEFAULT_FOCUS_MINUTES * 60.0, DEFAULT_BREAK_MINUTES * 60.0, DEFAULT_ROUNDS
        )
    )
    fixed_dt: float | None = None
    """Advance every frame by this many seconds (deterministic runs); None: real frame time."""
    autostart: bool = False
    """Start the first focus block at once instead of waiting for SPACE."""
    mirror: bool = True
    record_sessions: bool = True
    """Record finished sessions in the local history (off for the synthetic demo)."""
    sleep_after_s: float = SLEEP_AFTER_S
    calibration: Calibration = DEFAULT_CALIBRATION
    antialias: bool | None = None
    """4× MSAA; None: on in a window, off offscreen (software GL pays dearly for it)."""


class _InputQueue:
    """What key handlers write to and the frame task drains."""

    def __init__(self) -> None:
        self._pending: list[Command] = []

    def push(self, command: Command) -> None:
        self._pending.append(command)

    def drain(self) -> list[Command]:
        pending, self._pending = self._pending, []
        return pending


class ConvexApp(ShowBase):  # type: ignore[misc]  # ShowBase is untyped
    """The client: see the module docstring."""

    def __init__(
        self,
        settings: AppSettings,
        feed: SampleFeed,
        *,
        clock: FrameClock | None = None,
        frames: LatestFrameTap | None = None,
        history: LocalHistory | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.feed = feed
        self.frame_clock = clock if clock is not None else FrameClock()
        self.frames = frames
        self.history = history
        self.wall_clock = wall_clock
        self.calibration = settings.calibration
        self.results: SessionSummary | None = None
        self._input = _InputQueue()
        self._scene: Scene | None = None
        self._scene_id: SceneId | None = None
        self._closed = False
        width, height = settings.size
        prc = PRC_COMMON + f"win-size {width} {height}\n"
        antialias = settings.antialias if settings.antialias is not None else not settings.offscreen
        # Explicit either way: an earlier prc page in this process may have set the other.
        prc += PRC_ANTIALIAS if antialias else "framebuffer-multisample 0\nmultisamples 0\n"
        if settings.offscreen:
            apply_offscreen_env()
            prc += PRC_OFFSCREEN
        else:
            prc += PRC_WINDOW
        self._prc_page: Any = loadPrcFileData("convex-app", prc)
        self.rig: AvatarRig | None = None
        try:
            super().__init__(windowType="offscreen" if settings.offscreen else "onscreen")
        except Exception as exc:  # ShowBase raises a bare Exception when no window opens
            unloadPrcFile(self._prc_page)
            self._prc_page = None
            raise WindowOpenError(f"could not open a window: {exc}") from exc
        try:
            if self.win is None:
                raise WindowOpenError("could not open a window")
            self._build()
        except BaseException:
            # Leave nothing behind: another app (or a retry) must be able to start.
            self.teardown()
            raise

    def _build(self) -> None:
        settings = self.settings
        self.disableMouse()
        self.setBackgroundColor(*BACKGROUND)
        self._setup_stage()
        self.fonts = (load_font(self.loader), load_font(self.loader, bold=True))
        rig = AvatarRig(settings.avatar, self.render, font=self.fonts[1])
        self.rig = rig
        self.driver = AvatarDriver(rig, mirror=settings.mirror)
        self.preview = CameraPreview(self.a2dBottomLeft)
        self.preview.root.setPos(0.06, 0.0, 0.06)
        for key, command in KEYS.items():
            self.accept(key, self._input.push, [command])
        self.task_mgr.add(self._on_frame, "convex-frame", sort=-10)
        self.switch(SceneId.SOLO)

    def _setup_stage(self) -> None:
        render = self.render
        ambient = AmbientLight("ambient")
        ambient.setColor((AMBIENT_LIGHT, AMBIENT_LIGHT, AMBIENT_LIGHT, 1.0))
        render.setLight(render.attachNewNode(ambient))
        key = DirectionalLight("key")
        key.setColor((KEY_LIGHT, KEY_LIGHT, KEY_LIGHT * 0.97, 1.0))
        key_path = render.attachNewNode(key)
        key_path.setHpr(*KEY_LIGHT_HPR)
        render.setLight(key_path)
        # The smaller (vertical) field of view stays fixed when the window is resized.
        self.camLens.setMinFov(CAMERA_FOV_DEG)
        self.camLens.setNearFar(0.05, 100.0)
        backdrop(self.camera, render)

    # -- scenes ----------------------------------------------------------------------------

    @property
    def scene_id(self) -> SceneId | None:
        """The current scene."""
        return self._scene_id

    @property
    def scene(self) -> Scene | None:
        """The current scene object."""
        return self._scene

    def switch(self, target: SceneId) -> None:
        """Leave the current scene and enter ``target``; raises if the move is not in the table."""
        if (self._scene_id, target) not in SCENE_TRANSITIONS:
            raise SceneTransitionError(f"cannot go from {self._scene_id} to {target}")
        scene = SCENES[target](self)
        if self._scene is not None:
            self._scene.exit()
        self._scene, self._scene_id = scene, target
        scene.enter(self.frame_clock.now())

    def finish_session(self, summary: SessionSummary) -> None:
        """Keep a finished session's results for the summary and record it in the local history.

        The streak credits the time the focus rules counted as focused (not the
        time the pomodoro ran, which includes glances away).
        """
        self.results = summary
        credited = summary.focus.focused_s if summary.focus is not None else 0.0
        if self.history is None or not self.settings.record_sessions or credited <= 0.0:
            return
        end = self.wall_clock()
        start = end - summary.elapsed_s
        try:
            self.history.record(start, end, credited)
        except (OSError, ValueError) as exc:
            log.warning("could not record the session in %s: %s", self.history.path, exc)

    def streak_days(self) -> int:
        """The current streak from the local history (0 without one)."""
        if self.history is None:
            return 0
        status = self.history.status(self.wall_clock())
        return status.current if status is not None else 0

    @property
    def has_camera_preview(self) -> bool:
        """Whether a real camera or video feeds the tracker (so there is something to preview)."""
        return self.frames is not None

    # -- the frame -------------------------------------------------------------------------

    @property
    def now(self) -> float:
        """The frame clock's time."""
        return self.frame_clock.now()

    def press(self, command: Command) -> None:
        """Queue a command as if its key was pressed (tests and scripted runs)."""
        self._input.push(command)

    def _on_frame(self, task: Any) -> int:
        if self.settings.fixed_dt is not None:
            dt = self.settings.fixed_dt
        else:
            dt = min(float(self.clock.getDt()), MAX_FRAME_DT)
        self.advance(dt)
        return int(task.cont)

    def advance(self, dt: float) -> None:
        """Advance the world by ``dt``: commands, then the scene; rendering is separate."""
        now = self.frame_clock.advance(dt)
        for command in self._input.drain():
            if command is Command.QUIT:
                self.userExit()
                return
            if command is Command.TOGGLE_CAMERA:
                if self.has_camera_preview:
                    self.preview.toggle()
                continue
            if self._scene is not None:
                target = self._scene.handle(command, now)
                if target is not None:
                    self.switch(target)
        if self._scene is not None:
            target = self._scene.update(dt, now)
            if target is not None:
                self.switch(target)
        if self.frames is not None and self.preview.visible:
            frame = self.frames.latest
            if frame is not None:
                self.preview.show_frame(frame.rgb)

    def run_frames(self, count: int) -> None:
        """Run ``count`` full frames (task step + render); stops early if the app quits."""
        for _ in range(count):
            if self._closed:
                return
            self.task_mgr.step()

    def save_screenshot(self, path: Path) -> Path:
        """Render the current state (two frames, so slider changes show) and save it as PNG."""
        engine = self.graphicsEngine
        engine.renderFrame()
        engine.renderFrame()
        texture = self.win.getScreenshot()
        if texture is None:
            raise OSError("the window gave no screenshot")
        image = PNMImage()
        texture.store(image)
        image.removeAlpha()
        path.parent.mkdir(parents=True, exist_ok=True)
        if not image.write(Filename.fromOsSpecific(str(path))):
            raise OSError(f"could not write {path}")
        return path

    # -- shutdown --------------------------------------------------------------------------

    def finalizeExit(self) -> None:
        """Window closed or q pressed: stop the task loop (``run()`` returns) instead of exiting."""
        self._closed = True
        self.task_mgr.stop()

    @property
    def closed(self) -> bool:
        """Whether the user asked to quit (key or window close)."""
        return self._closed

    def teardown(self) -> None:
        """Tear down scenes, the avatar and ShowBase; safe to call more than once."""
        if self._scene is not None:
            self._scene.exit()
            self._scene = None
        if self.rig is not None:
            self.rig.destroy()
            self.rig = None
        if self._prc_page is not None:
            self.ignoreAll()
            self.task_mgr.remove("convex-frame")
            self.destroy()
            unloadPrcFile(self._prc_page)
            self._prc_page = None
