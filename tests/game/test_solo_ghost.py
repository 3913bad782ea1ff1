"""Solo with a ghost: a translucent friend beside you, the pace panel, the summary, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import aiohttp
import cv2
import numpy as np
import pytest

from game.app import AppSettings, ConvexApp, FrameClock
from game.avatar.ghostly import GHOST_ALPHA
from game.avatar.models import avatar_path
from game.capture.synthetic import SyntheticSource
from game.config import SIMULATED_DT
from game.scenes.base import Command, SceneId
from game.scenes.solo import SoloScene, choose_ghost
from game.scenes.summary import SummaryScene
from shared.blendshapes import COUNT
from shared.face import Attention, FaceSample
from shared.ghost import GhostRecorder, GhostRecording, encode_ghost
from shared.timer import TimerPlan
from tests.game.net_server import ServerThread

CONVEX = str(Path(sys.executable).with_name("convex"))
SIZE = (480, 270)


def sams_ghost(focused_s: float = 30.0, away_s: float = 90.0) -> GhostRecording:
    """Sam's recorded session: focused for ``focused_s``, then looking left, asleep from +20 s."""
    rec = GhostRecorder(user_id="u-sam", user_name="sam", subject="Maths", started_at=1.7e9, t0=0.0)
    end = focused_s + away_s
    rec.mark(0.0, Attention.FOCUSED, False)
    rec.mark(focused_s, Attention.LOOKING_LEFT, False)
    rec.mark(focused_s + 20.0, Attention.LOOKING_LEFT, True)
    for i in range(round(end * 10)):
        t = i / 10
        yaw = 0.0 if t < focused_s else 35.0
        rec.add_sample(FaceSample(t, (0.05,) * COUNT, yaw=yaw, pitch=0.0, roll=0.0, confidence=0.9))
    return rec.finish(end)


class ScriptFeed:
    """A synthetic face played on the app's frame clock (what the tracker would deliver)."""

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
        s = self.source.sample_at(self.clock.now() - self.offset)
        return FaceSample(s.t + self.offset, s.blendshapes, s.yaw, s.pitch, s.roll,
                          s.confidence, s.present)  # fmt: skip


@pytest.fixture(scope="module")
def app() -> Iterator[ConvexApp]:
    """One small offscreen app for the module (one ShowBase at a time)."""
    clock = FrameClock()
    settings = AppSettings(
        avatar=avatar_path(),
        offscreen=True,
        size=SIZE,
        plan=TimerPlan(focus_s=600.0, break_s=60.0, rounds=1),
        fixed_dt=SIMULATED_DT,
        autostart=True,
        record_sessions=False,
    )
    application = ConvexApp(settings, ScriptFeed(clock), clock=clock)
    try:
        yield application
    finally:
        application.teardown()


def feed(app: ConvexApp) -> ScriptFeed:
    assert isinstance(app.feed, ScriptFeed)
    return app.feed


def solo(app: ConvexApp) -> SoloScene:
    assert isinstance(app.scene, SoloScene)
    return app.scene


def advance(app: ConvexApp, seconds: float) -> None:
    """Run the world forward at the fixed frame time without drawing."""
    for _ in range(round(seconds / SIMULATED_DT)):
        app.advance(SIMULATED_DT)


def fresh_session(app: ConvexApp) -> None:
    """End whatever runs and start a new solo session at the current time."""
    choose_ghost(app, None)
    if app.scene_id is SceneId.SOLO:
        app.press(Command.END)
        app.advance(SIMULATED_DT)
    app.press(Command.START_PAUSE)
    app.advance(SIMULATED_DT)
    assert app.scene_id is SceneId.SOLO


def test_ghost_stands_beside_you_translucent_and_labelled(app: ConvexApp, tmp_path: Path) -> None:
    """The ghost changes the picture where it stands, is drawn at alpha 0.45 and says whose."""
    fresh_session(app)
    feed(app).play(("focused", 600.0))
    choose_ghost(app, sams_ghost())
    advance(app, 1.0)
    ghost = solo(app).ghost
    assert ghost is not None
    beside = cv2.imread(str(app.save_screenshot(tmp_path / "ghost.png")))
    # The same frame and framing with the ghost hidden: only the ghost's pixels differ.
    ghost.root.hide()
    alone = cv2.imread(str(app.save_screenshot(tmp_path / "alone.png")))
    ghost.root.show()
    actor = ghost.rig.actor
    assert actor.getColorScale()[3] == pytest.approx(GHOST_ALPHA, abs=0.005)
    assert actor.hasTransparency()
    assert ghost.plate.text.endswith("ghost of sam")
    # Where the ghost's body is projected, the picture changed; it is screen right of you.
    lens_point = app.render.getRelativePoint(ghost.root, (0.0, 0.0, 0.45))
    film = app.cam.getRelativePoint(app.render, lens_point)
    from panda3d.core import Point2

    p2 = Point2()
    assert app.camLens.project(film, p2)
    x = round((p2.x + 1) / 2 * SIZE[0])
    y = round((1 - p2.y) / 2 * SIZE[1])
    assert x > SIZE[0] // 2
    box = (slice(max(y - 15, 0), y + 15), slice(max(x - 15, 0), x + 15))
    diff = np.abs(alone[box].astype(int) - beside[box].astype(int)).mean()
    assert diff > 10.0
    # The ghost really is washed out: less saturated than your own solid avatar's shirt.
    hsv = cv2.cvtColor(beside, cv2.COLOR_BGR2HSV)
    assert hsv[box][..., 1].mean() < 0.8 * hsv[..., 1].max()


def test_pace_panel_says_behind_then_lead(app: ConvexApp) -> None:
    """Away for your first 20 s you trail sam (focused 30 s); focused after, you lead by 1:00."""
    fresh_session(app)
    choose_ghost(app, sams_ghost())
    feed(app).play(("away_left", 12.0), ("focused", 600.0))
    advance(app, 20.0)
    scene = solo(app)
    text = scene.pace.text
    assert "ghost of sam 0:20" in text
    assert "you are behind by" in text
    assert scene.status is not None and scene.status.pace is not None
    assert scene.status.pace.lead_s < 0
    advance(app, 80.0)
    text = scene.pace.text
    assert "ghost of sam 0:30" in text
    assert "you lead by" in text
    assert scene.status.pace.lead_s > 0
    # Sam's recording says asleep from 50 s on: the ghost shows asleep.
    assert scene.ghost is not None
    assert scene.ghost.driver.sleep_amount == pytest.approx(1.0)
    assert "asleep" in scene.ghost.plate.text


def test_ghost_pauses_with_your_timer(app: ConvexApp) -> None:
    """While you pause (SPACE) the ghost's replay clock and its focus stand still."""
    fresh_session(app)
    choose_ghost(app, sams_ghost())
    feed(app).play(("focused", 600.0))
    advance(app, 5.0)
    scene = solo(app)
    app.press(Command.START_PAUSE)
    advance(app, 0.1)
    assert scene.status is not None and scene.status.ghost is not None
    frozen = scene.status.ghost.t
    advance(app, 10.0)
    assert scene.status.ghost.t == pytest.approx(frozen)
    app.press(Command.START_PAUSE)
    advance(app, 2.0)
    assert scene.status.ghost.t == pytest.approx(frozen + 2.0, abs=0.1)


def test_finished_ghost_and_the_summary_keep_the_final_comparison(app: ConvexApp) -> None:
    """After sam's 40 s recording ends the ghost shows finished; the summary says you beat it."""
    fresh_session(app)
    choose_ghost(app, sams_ghost(focused_s=20.0, away_s=20.0))
    feed(app).play(("focused", 600.0))
    advance(app, 45.0)
    scene = solo(app)
    assert scene.ghost is not None
    assert scene.ghost.plate.text.endswith("finished")
    assert "ghost of sam 0:20 (finished)" in scene.pace.text
    app.press(Command.END)
    app.advance(SIMULATED_DT)
    summary = app.scene
    assert isinstance(summary, SummaryScene)
    assert summary.pace_label.text.startswith("You beat the ghost of sam by 0:2")


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The installed ``convex play`` with a private data dir and no display."""
    environ = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    environ["XDG_DATA_HOME"] = str(tmp_path / "data")
    environ.update(env)
    return subprocess.run(
        [CONVEX, "play", *args], capture_output=True, text=True, timeout=180, env=environ
    )


def test_play_with_a_ghost_file_offscreen(tmp_path: Path) -> None:
    """`convex play --ghost-file F --offscreen` renders you beside the ghost."""
    ghost_file = tmp_path / "sam.ghost"
    ghost_file.write_bytes(encode_ghost(sams_ghost()))
    out = tmp_path / "out.png"
    result = run(
        tmp_path, "--ghost-file", str(ghost_file), "--source", "synthetic", "--offscreen",
        "--frames", "60", "--screenshot", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    image = cv2.imread(str(out))
    assert image is not None and image.shape == (720, 1280, 3)


def test_corrupt_ghost_file_is_a_clear_error(tmp_path: Path) -> None:
    """A damaged ghost file stops with one line naming the file, exit code 1, no traceback."""
    data = bytearray(encode_ghost(sams_ghost()))
    data[40] ^= 0xFF
    bad = tmp_path / "bad.ghost"
    bad.write_bytes(bytes(data))
    result = run(tmp_path, "--ghost-file", str(bad), "--source", "synthetic", "--offscreen",
                 "--frames", "3")  # fmt: skip
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"{bad} is not a valid ghost recording" in result.stderr
    missing = run(tmp_path, "--ghost-file", str(tmp_path / "nope.ghost"), "--offscreen",
                  "--frames", "3")  # fmt: skip
    assert missing.returncode == 2
    assert "no such file" in missing.stderr


def seed_friends_ghost(server: ServerThread) -> str:
    """Register sam and mel as mutual friends and store one finished session of sam's with a ghost."""
    from server.db.store import SessionRecord
    from server.keys import STORE

    async def go() -> str:
        tokens: dict[str, tuple[str, str]] = {}
        async with aiohttp.ClientSession() as http:
            for name in ("sam", "mel"):
                async with http.post(
                    f"{server.url}/api/register",
                    json={"username": name, "password": "password123"},
                ) as r:
                    assert r.status == 201, await r.text()
                    body = await r.json()
                    tokens[name] = (body["token"], body["user_id"])
            for who, other in (("sam", "mel"), ("mel", "sam")):
                headers = {"Authorization": f"Bearer {tokens[who][0]}"}
                async with http.post(
                    f"{server.url}/api/friends", json={"username": other}, headers=headers
                ) as r:
                    assert r.status == 201, await r.text()
        ghost = sams_ghost()
        assert server.app is not None
        await server.app[STORE].save_sessions(
            [
                SessionRecord(
                    id="s-sam-1",
                    user_id=int(tokens["sam"][1]),
                    room_id=None,
                    subject="Maths",
                    started_at=1.7e9,
                    ended_at=1.7e9 + ghost.duration_s,
                    focused_seconds=30.0,
                    damage=0.0,
                    xp=1,
                    outcome="victory",
                    ghost=encode_ghost(ghost),
                    ghost_duration_s=ghost.duration_s,
                )
            ]
        )
        return "s-sam-1"

    return server.run(go)


def test_ghosts_listed_and_downloaded_from_a_real_server(server: ServerThread, tmp_path: Path) -> None:  # fmt: skip
    """--ghosts lists a friend's ghost; --ghost ID downloads it and you study beside it."""
    ghost_id = seed_friends_ghost(server)
    login = ("--server", server.url, "--username", "mel")
    listed = run(tmp_path, *login, "--ghosts", CONVEX_PASSWORD="password123")
    assert listed.returncode == 0, listed.stderr
    assert ghost_id in listed.stdout
    assert "sam · Maths · 2:00 long · 0:30 focused" in listed.stdout
    out = tmp_path / "online.png"
    played = run(
        tmp_path, *login, "--ghost", ghost_id, "--source", "synthetic", "--offscreen",
        "--frames", "30", "--screenshot", str(out), CONVEX_PASSWORD="password123",
    )  # fmt: skip
    assert played.returncode == 0, played.stderr
    assert out.is_file()
    unknown = run(tmp_path, *login, "--ghost", "s-nope", "--source", "synthetic", "--offscreen",
                  "--frames", "3", CONVEX_PASSWORD="password123")  # fmt: skip
    assert unknown.returncode == 1
    assert "ghost s-nope" in unknown.stderr and "Traceback" not in unknown.stderr


def frames_until(app: ConvexApp, done: Callable[[], bool], wall_s: float = 20.0) -> None:
    """Run frames (the network answers on its own thread, in real time) until ``done()``."""
    deadline = time.monotonic() + wall_s
    while not done() and time.monotonic() < deadline:
        app.advance(SIMULATED_DT)
        time.sleep(0.01)


def test_picker_downloads_a_friends_ghost_with_key_g(app: ConvexApp, server: ServerThread) -> None:
    """G lists the friends' ghosts from the server; Enter downloads one and it joins you."""
    from game.net import NetClient
    from game.scenes.solo import attach_ghost_library

    ghost_id = seed_friends_ghost(server)
    fresh_session(app)
    with NetClient(server.url) as client:
        client.login("mel", "password123").result(20.0)
        attach_ghost_library(app, client)
        fresh_session(app)
        scene = solo(app)
        app.messenger.send("g")
        frames_until(app, lambda: bool(scene.picker.ghosts))
        assert [g.ghost_id for g in scene.picker.ghosts] == [ghost_id]
        assert scene.picker_view.visible
        assert scene.picker_view.rows[0].startswith("sam · Maths")
        app.press(Command.SELECT)
        frames_until(app, lambda: scene.ghost is not None)
        assert scene.picker.status.startswith("Downloading") or not scene.picker.open, (
            scene.picker.status
        )
        assert scene.ghost is not None
        assert scene.ghost.playback.owner == "sam"
        assert not scene.picker_view.visible
        app.advance(SIMULATED_DT)
        assert "ghost of sam" in scene.pace.text
