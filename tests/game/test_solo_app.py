"""The client app offscreen: scene switches, the solo scene's wiring, keys and the camera preview."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from game.app import (
    SCENE_TRANSITIONS,
    AppSettings,
    ConvexApp,
    FrameClock,
    LatestFrameTap,
    SceneTransitionError,
)
from game.avatar.models import avatar_path
from game.capture.sources import ArraySource, Frame
from game.capture.synthetic import SyntheticSource
from game.config import ASLEEP_REASON, SIMULATED_DT
from game.hud.overlay import OverlayKind
from game.scenes.base import Command, SceneId
from game.scenes.history import LocalHistory
from game.scenes.solo import SoloScene
from shared.face import FaceSample
from shared.timer import Phase, TimerPlan


class ScriptFeed:
    """A feed that plays a synthetic script on the app's frame clock (what the tracker would)."""

    def __init__(self, clock: FrameClock) -> None:
        self.clock = clock
        self.source: SyntheticSource | None = None
        self.offset = 0.0

    def play(self, *segments: tuple[str, float]) -> None:
        self.source = SyntheticSource(segments, idle_motion=False, idle_blinks=False)
        self.offset = self.clock.now()

    def latest(self) -> FaceSample | None:
        if self.source is None:
            return None
        now = self.clock.now()
        s = self.source.sample_at(now - self.offset)
        return FaceSample(s.t + self.offset, s.blendshapes, s.yaw, s.pitch, s.roll,
                          s.confidence, s.present)  # fmt: skip


class StubTap(LatestFrameTap):
    """A frame tap holding one fixed camera frame."""

    def __init__(self) -> None:
        super().__init__(ArraySource([np.zeros((48, 64, 3), np.uint8)]))
        self.latest = Frame(0.0, np.full((48, 64, 3), 200, np.uint8))


@pytest.fixture(scope="module")
def app() -> Iterator[ConvexApp]:
    """One offscreen app for the module (one ShowBase at a time), torn down at the end."""
    clock = FrameClock()
    feed = ScriptFeed(clock)
    settings = AppSettings(
        avatar=avatar_path(),
        offscreen=True,
        size=(480, 270),
        subject="Physics",
        plan=TimerPlan(focus_s=300.0, break_s=60.0, rounds=2),
        fixed_dt=SIMULATED_DT,
        autostart=True,
    )
    application = ConvexApp(settings, feed, clock=clock, frames=StubTap())
    try:
        yield application
    finally:
        application.teardown()


def feed_of(app: ConvexApp) -> ScriptFeed:
    assert isinstance(app.feed, ScriptFeed)
    return app.feed


def advance(app: ConvexApp, seconds: float) -> None:
    """Run the world forward at the fixed frame time without drawing."""
    for _ in range(round(seconds / SIMULATED_DT)):
        app.advance(SIMULATED_DT)


def scene_of(app: ConvexApp) -> SceneId | None:
    """The app's current scene (a call, so that type checkers do not pin it down)."""
    return app.scene_id


def overlay_kind(app: ConvexApp) -> OverlayKind:
    """What the distraction banner shows now."""
    return solo(app).overlay.kind


def solo(app: ConvexApp) -> SoloScene:
    assert isinstance(app.scene, SoloScene)
    return app.scene


def test_transitions_are_declared() -> None:
    """Solo → summary → solo, solo → arena → results, solo → lobby → arena and results → lobby
    are the only moves."""
    assert {
        (None, SceneId.SOLO),
        (SceneId.SOLO, SceneId.SUMMARY),
        (SceneId.SUMMARY, SceneId.SOLO),
        (SceneId.SOLO, SceneId.ARENA),
        (SceneId.ARENA, SceneId.RESULTS),
        (SceneId.SOLO, SceneId.LOBBY),
        (SceneId.LOBBY, SceneId.ARENA),
        (SceneId.RESULTS, SceneId.LOBBY),
    } == SCENE_TRANSITIONS


def test_app_starts_in_the_solo_scene_with_the_timer_running(app: ConvexApp) -> None:
    """Autostart begins the first focus block; the HUD names the subject and shows the clock."""
    feed_of(app).play(("focused", 60.0))
    app.run_frames(2)
    scene = solo(app)
    assert app.scene_id is SceneId.SOLO
    assert scene.status is not None and scene.status.phase is Phase.FOCUS
    assert scene.timer.clock.text == "05:00"


def test_illegal_switch_raises_and_changes_nothing(app: ConvexApp) -> None:
    """Solo → solo is not in the table: an error, and the same scene object stays."""
    scene = app.scene
    with pytest.raises(SceneTransitionError):
        app.switch(SceneId.SOLO)
    assert app.scene is scene and app.scene_id is SceneId.SOLO


def test_solo_scene_pauses_the_timer_while_asleep(app: ConvexApp) -> None:
    """Away for 15 s: asleep pose, red banner, timer paused; back at the screen: it runs again."""
    feed_of(app).play(("focused", 1.0), ("away_down", 17.0), ("focused", 5.0))
    advance(app, 17.5)
    scene = solo(app)
    status = scene.status
    assert status is not None and ASLEEP_REASON in status.pause_reasons
    assert overlay_kind(app) is OverlayKind.ASLEEP
    assert app.driver.sleep_amount > 0.0
    frozen = status.remaining_s
    advance(app, 0.4)
    assert scene.status is not None and scene.status.remaining_s == frozen
    advance(app, 2.5)
    status = scene.status
    assert status is not None and ASLEEP_REASON not in status.pause_reasons
    assert status.remaining_s < frozen and overlay_kind(app) is OverlayKind.NONE


def test_space_pauses_and_resumes(app: ConvexApp) -> None:
    """SPACE toggles the user pause; the caption says so."""
    app.press(Command.START_PAUSE)
    advance(app, 0.1)
    scene = solo(app)
    assert "Paused" in scene.timer.caption.text
    app.press(Command.START_PAUSE)
    advance(app, 0.1)
    assert "Focus" in scene.timer.caption.text


def test_camera_preview_toggles_with_c(app: ConvexApp) -> None:
    """C shows the newest camera frame on a card, and hides it again."""
    assert not app.preview.visible
    app.press(Command.TOGGLE_CAMERA)
    advance(app, SIMULATED_DT)
    assert app.preview.visible
    app.press(Command.TOGGLE_CAMERA)
    advance(app, SIMULATED_DT)
    assert not app.preview.visible


def test_end_shows_the_summary_and_space_starts_again(app: ConvexApp, tmp_path: Path) -> None:
    """E ends the session on the summary screen (and in the local history); SPACE starts anew."""
    app.history = LocalHistory(tmp_path / "history.json", goal_minutes=1, timezone="UTC")
    app.wall_clock = lambda: 1_780_000_000.0
    app.press(Command.END)
    app.run_frames(2)
    assert scene_of(app) is SceneId.SUMMARY
    assert app.results is not None and app.results.subject == "Physics"
    assert app.results.focus is not None and app.results.focus.sleeps == 1
    (recorded,) = app.history.load()
    assert recorded.end == 1_780_000_000.0
    assert recorded.focused_seconds == pytest.approx(app.results.focus.focused_s)
    shot = app.save_screenshot(tmp_path / "summary.png")
    assert shot.stat().st_size > 10_000
    app.press(Command.START_PAUSE)
    app.run_frames(2)
    assert scene_of(app) is SceneId.SOLO
    status = solo(app).status
    assert status is not None and status.remaining_s == pytest.approx(300.0, abs=0.1)


def test_quit_stops_the_loop(app: ConvexApp) -> None:
    """Q stops the task loop (run() would return) and no more frames run."""
    app.press(Command.QUIT)
    app.run_frames(1)
    assert app.closed
    before = app.now
    app.run_frames(5)
    assert app.now == before
