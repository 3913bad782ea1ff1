"""``convex demo``: a local server, you, three scripted bots and a ghost in one short boss fight.

Theory of operation
-------------------
Everything is real except the faces: :class:`DemoServer` runs the real aiohttp + Socket.IO
server (``create_app`` with its tick loops, real clock) on its own thread and event loop, on a
free loopback port with a throwaway SQLite file. You log in as ``you`` through a
:class:`~game.net.NetClient` driven by the arena scene (webcam + tracker, or a scripted
:class:`~game.capture.synthetic.SyntheticFeed`), and three more NetClients are the bots, fed
by :data:`BOT_SCRIPTS` at 15 Hz from one pump thread:

- ``ada`` stays focused;
- ``sam`` looks away from the moment he sits down, so he is *distracted* (the penalty line
  shows) soon after the fight starts and falls asleep 15 s after sitting down;
- ``leo`` glances away briefly now and then (under the penalty's grace time).

The ghost is honest but prepared rather than played: :func:`demo_ghost` builds the recording
of an earlier focused session of ``you`` (synthetic frames, focused timeline, the damage one
focused student deals, :data:`~shared.battle.BASE_DPS`) with the shared
:class:`~shared.ghost.GhostRecorder`, and the demo stores it through the server's own store,
exactly as the server stores finished sessions; ``ghost:add`` then seats it like any other.

The boss is a slime and the plan one focus block of ``seconds``: its HP is what five members
focused 56 % of that block would deal, and this group (three focused, one distracted with the
20 % penalty, plus the ghost) deals about 85 % of the block's worth, so the fight ends in
victory shortly before the block does; the host then ends the session and the results show.
The demo runs in real time (the server is real). Sam sits down :data:`LOBBY_S` before the
start, so with the default 20 s he falls asleep at about 12 s into the fight, before victory.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import json
import logging
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar

from game.capture.synthetic import SyntheticFeed, SyntheticSource
from game.net import NetClient
from game.online import FPS, LOCAL_SCRIPT, PacedLoop, enter_arena, local_feed, wait_for
from shared.battle import BASE_DPS
from shared.face import Attention
from shared.ghost import GhostRecorder, GhostRecording, encode_ghost
from shared.protocol import Plan

if TYPE_CHECKING:
    from aiohttp import web

    from game.app import ConvexApp, SampleFeed

log = logging.getLogger("convex.demo")

T = TypeVar("T")

DEFAULT_SECONDS: Final[float] = 20.0
"""Length of the demo's focus block (and so of the fight), seconds."""

MIN_SECONDS: Final[float] = 8.0
"""Shortest block the demo accepts (sam's penalty needs a few seconds to show)."""

BOSS: Final[str] = "slime"
"""The demo's boss (the easiest: 56 % focus wins)."""

SUBJECT: Final[str] = "Maths"
"""Subject of the demo room and of the ghost's recorded session."""

PASSWORD: Final[str] = "convex-demo-password"
"""Password of the throwaway demo accounts (the database is deleted afterwards)."""

YOU: Final[str] = "you"
"""Your username in the demo."""

BOT_SCRIPTS: Final[dict[str, tuple[tuple[str, float], ...]]] = {
    "ada": (("focused", 600.0),),
    "sam": (("away_left", 600.0),),
    "leo": (("focused", 4.0), ("away_right", 1.2), ("focused", 5.0), ("away_down", 1.0)),
}
"""Bot username → :class:`SyntheticSource` script (looped): focused, sleeper, glancer."""

BOT_HZ: Final[float] = 15.0
"""How often the pump offers each bot's face to its client."""

LOBBY_S: Final[float] = 3.0
"""Seconds between the bots sitting down (sam starts looking away) and the start."""

VICTORY_HOLD_S: Final[float] = 1.5
"""Seconds the defeated boss stays on screen before the host ends the session."""

GRACE_S: Final[float] = 15.0
"""Extra seconds past the plan before the demo gives up waiting for results."""

STEP_TIMEOUT_S: Final[float] = 15.0
"""Longest wait for one setup step (server start, login, join)."""

SAMPLE_EVERY_S: Final[float] = 0.5
"""How often the boss's HP and the group's DPS are written to the summary's timeline."""


class DemoError(RuntimeError):
    """The demo could not set up or finish its fight."""


# -- the server --------------------------------------------------------------------------------


class DemoServer:
    """The real Convex server on a background thread, on a free loopback port."""

    def __init__(self, db_path: Path) -> None:
        self.database_url = f"sqlite+aiosqlite:///{db_path}"
        self.port = 0
        self.app: web.Application | None = None
        self._runner: web.AppRunner | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="convex-demo-server", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def run(self, factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """Run a coroutine on the server's loop and wait (bounded) for its result."""
        future = asyncio.run_coroutine_threadsafe(factory(), self._loop)
        try:
            return future.result(STEP_TIMEOUT_S)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise DemoError("the demo server did not answer in time") from None

    def start(self) -> None:
        """Start the app with its tick loops."""
        self.run(self._start)

    async def _start(self) -> None:
        from aiohttp import web

        from server.app import create_app
        from server.settings import Settings

        settings = Settings(
            host="127.0.0.1", port=0, database_url=self.database_url, _env_file=None
        )
        self.app = create_app(settings, clock=time.time, run_loops=True)
        self._runner = web.AppRunner(self.app, shutdown_timeout=0.25)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    def store_ghost(self, user_id: int, username: str, seconds: float, now: float) -> None:
        """Store a prepared focused session of ``user_id`` with its ghost, as the server would."""
        from server.db.store import SessionRecord
        from server.keys import STORE

        app = self.app
        if app is None:
            raise DemoError("the demo server is not running")
        duration = seconds + GHOST_EXTRA_S
        data = encode_ghost(demo_ghost(str(user_id), username, duration, now - 86400.0))
        record = SessionRecord(
            id="demo-ghost",
            user_id=user_id,
            room_id=None,
            subject=SUBJECT,
            started_at=now - 86400.0,
            ended_at=now - 86400.0 + duration,
            focused_seconds=duration,
            damage=BASE_DPS * duration,
            xp=round(duration / 60.0),
            outcome="victory",
            ghost=data,
            ghost_duration_s=duration,
        )

        async def save() -> None:
            await app[STORE].save_sessions([record])

        self.run(save)

    def close(self) -> None:
        """Stop the app and the thread (bounded)."""
        with contextlib.suppress(DemoError):
            self.run(self._stop)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(STEP_TIMEOUT_S)
        if not self._thread.is_alive():
            self._loop.close()

    async def _stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        current = asyncio.current_task()
        leftovers = [t for t in asyncio.all_tasks() if t is not current]
        for task in leftovers:
            task.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)


GHOST_EXTRA_S: Final[float] = 10.0
"""The prepared ghost session runs this much longer than the demo's block."""


def demo_ghost(user_id: str, username: str, duration_s: float, started_at: float) -> GhostRecording:
    """An earlier, fully focused session as a ghost: 10 Hz synthetic frames, BASE_DPS damage."""
    source = SyntheticSource(LOCAL_SCRIPT, fps=10.0, seed=7)
    recorder = GhostRecorder(
        user_id=user_id, user_name=username, subject=SUBJECT, started_at=started_at, t0=0.0
    )
    recorder.mark(0.0, Attention.FOCUSED, False)
    steps = int(duration_s * 10)
    for i in range(steps + 1):
        t = i / 10.0
        recorder.add_sample(dataclasses.replace(source.sample_at(t % source.duration), t=t))
        if i % 10 == 0:
            recorder.record_damage(t, BASE_DPS * t)
    recorder.record_damage(steps / 10.0, BASE_DPS * steps / 10.0)
    return recorder.finish(steps / 10.0)


# -- the bots ----------------------------------------------------------------------------------


@dataclass
class Bot:
    """A scripted member: its own connection and face."""

    name: str
    client: NetClient
    feed: SyntheticFeed


class BotPump:
    """One thread offering every bot's current face to its client at :data:`BOT_HZ`."""

    def __init__(self, bots: list[Bot]) -> None:
        self.bots = bots
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="convex-demo-bots", daemon=True)

    def start(self) -> None:
        """Start every bot's script now and begin sending."""
        for bot in self.bots:
            bot.feed.start()
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(1.0 / BOT_HZ):
            for bot in self.bots:
                sample = bot.feed.latest()
                if sample is not None:
                    bot.client.send_face(sample)

    def stop(self) -> None:
        """Stop sending (bounded join)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(STEP_TIMEOUT_S)


# -- the run -----------------------------------------------------------------------------------


@dataclass
class DemoOptions:
    """How to run the demo."""

    seconds: float = DEFAULT_SECONDS
    offscreen: bool = False
    out: Path | None = None
    source: str = "synthetic"
    size: tuple[int, int] = (1280, 720)
    camera: int = 0


@dataclass
class DemoReport:
    """What happened: written as ``summary.json``; the test and the command read it."""

    outcome: str = "ongoing"
    boss_kind: str = BOSS
    boss_max_hp: float = 0.0
    seconds: float = DEFAULT_SECONDS
    source: str = "synthetic"
    timeline: list[dict[str, Any]] = field(default_factory=list)
    members: list[dict[str, Any]] = field(default_factory=list)
    mvp: str | None = None
    slept: list[str] = field(default_factory=list)
    penalty_lines: list[str] = field(default_factory=list)
    screenshots: dict[str, str] = field(default_factory=dict)
    moments: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per screenshot: what the HUD showed then (HP fraction, DPS, penalty lines, asleep, ghost)."""

    def to_json(self) -> dict[str, Any]:
        """The summary as JSON-ready data."""
        return {
            "outcome": self.outcome,
            "boss_kind": self.boss_kind,
            "boss_max_hp": self.boss_max_hp,
            "seconds": self.seconds,
            "source": self.source,
            "boss_hp": self.timeline,
            "members": self.members,
            "mvp": self.mvp,
            "slept": self.slept,
            "penalty_lines": self.penalty_lines,
            "screenshots": self.screenshots,
            "moments": self.moments,
        }


def _wait(future: concurrent.futures.Future[T], what: str) -> T:
    return wait_for(future, what, timeout=STEP_TIMEOUT_S, error=DemoError)


def _join_bot(url: str, name: str, room_id: str, seed: int) -> Bot:
    client = NetClient(url)
    try:
        _wait(client.register(name, PASSWORD), f"register {name}")
        _wait(client.connect(), f"connect {name}")
        _wait(client.join_room(room_id), f"{name} joins")
    except BaseException:
        client.close()
        raise
    feed = SyntheticFeed(SyntheticSource(BOT_SCRIPTS[name], seed=seed), clock=time.monotonic)
    return Bot(name, client, feed)


def run_demo(
    options: DemoOptions, *, on_frame: Callable[[ConvexApp, str], None] | None = None
) -> DemoReport:
    """Play the whole demo; returns (and, with ``out``, writes) the report.

    ``on_frame(app, stage)`` is called after every frame (stages ``lobby``, ``fight``,
    ``victory``, ``results``), for tests that look at the live scene.
    """
    if options.seconds < MIN_SECONDS:
        raise DemoError(f"the demo needs at least {MIN_SECONDS:g} seconds")
    report = DemoReport(seconds=options.seconds)
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="convex-demo-")))
        server = DemoServer(tmp / "demo.sqlite3")
        stack.callback(server.close)
        server.start()
        me = NetClient(server.url)
        stack.callback(me.close)
        auth = _wait(me.register(YOU, PASSWORD), "register you")
        server.store_ghost(int(auth.user_id), YOU, options.seconds, time.time())
        _wait(me.connect(), "connect")
        plan = Plan(focus_s=max(1, round(options.seconds)), break_s=60, rounds=1)
        room_id = _wait(me.create_room("Convex demo", SUBJECT, plan, BOSS), "create room").room_id
        ghosts = _wait(me.list_ghosts(), "list ghosts").ghosts
        if not ghosts:
            raise DemoError("the prepared ghost was not stored")
        _wait(me.add_ghost(ghosts[0].ghost_id), "add ghost")
        bots: list[Bot] = []
        for seed, name in enumerate(BOT_SCRIPTS, start=11):
            bot = _join_bot(server.url, name, room_id, seed)
            stack.callback(bot.client.close)
            bots.append(bot)
        feed, used = stack.enter_context(local_feed(options.source, options.camera))
        report.source = used
        pump = BotPump(bots)
        stack.callback(pump.stop)
        app = _open_app(options, feed)
        stack.callback(app.teardown)
        _play(app, me, pump, options, report, on_frame)
    if options.out is not None:
        options.out.mkdir(parents=True, exist_ok=True)
        (options.out / "summary.json").write_text(json.dumps(report.to_json(), indent=2) + "\n")
    return report


def _open_app(options: DemoOptions, feed: SampleFeed) -> ConvexApp:
    from game.app import AppSettings, ConvexApp
    from game.avatar.models import avatar_path

    settings = AppSettings(
        avatar=avatar_path(),
        offscreen=options.offscreen,
        size=options.size,
        subject=SUBJECT,
        record_sessions=False,
    )
    return ConvexApp(settings, feed)


def _play(
    app: ConvexApp,
    me: NetClient,
    pump: BotPump,
    options: DemoOptions,
    report: DemoReport,
    on_frame: Callable[[ConvexApp, str], None] | None,
) -> None:
    from game.scenes.arena import ArenaScene
    from game.scenes.base import SceneId

    enter_arena(app, me)
    loop = PacedLoop(app, on_frame, FPS)
    pump.start()
    while loop.elapsed() < LOBBY_S and not app.closed:
        loop.frame("lobby")
    _shot(app, options, report, "arena-lobby")
    _wait(me.start(), "start the fight")
    fight_t0 = time.monotonic()
    deadline = fight_t0 + options.seconds + GRACE_S
    next_sample = fight_t0
    victory_at: float | None = None
    finish_sent = False
    shots = {"arena-fight": False, "arena-penalty": False, "arena-asleep": False}
    slept: set[str] = set()
    while not app.closed and time.monotonic() < deadline:
        scene = app.scene
        stage = (
            "results"
            if app.scene_id is SceneId.RESULTS
            else ("victory" if victory_at is not None else "fight")
        )
        loop.frame(stage)
        snap = me.snapshot()
        now = time.monotonic()
        battle = snap.battle
        names = {m.member_id: m.username for m in snap.members}
        for m in snap.members:
            if m.asleep and not m.is_ghost:
                slept.add(m.username)
        if battle is not None:
            report.boss_max_hp = battle.boss_max_hp
            if now >= next_sample:
                next_sample += SAMPLE_EVERY_S
                report.timeline.append(
                    {
                        "t": round(now - fight_t0, 2),
                        "hp": round(battle.boss_hp, 2),
                        "dps": round(battle.dps, 2),
                        "penalty": round(battle.penalty, 3),
                    }
                )
            if victory_at is None and battle.outcome != "ongoing":
                victory_at = now
        if isinstance(scene, ArenaScene):
            for line in scene.shown_penalties:
                if line not in report.penalty_lines:
                    report.penalty_lines.append(line)
            if not shots["arena-fight"] and now - fight_t0 >= 1.5 and battle is not None:
                shots["arena-fight"] = _shot(app, options, report, "arena-fight")
            if not shots["arena-penalty"] and scene.shown_penalties and victory_at is None:
                shots["arena-penalty"] = _shot(app, options, report, "arena-penalty")
            sleeper = next(
                (a for a in scene.avatars.values() if a.driver.sleep_amount >= 1.0), None
            )
            if not shots["arena-asleep"] and sleeper is not None and victory_at is None:
                shots["arena-asleep"] = _shot(app, options, report, "arena-asleep")
        if victory_at is not None and not finish_sent and now - victory_at >= VICTORY_HOLD_S:
            _shot(app, options, report, "arena-victory")
            with contextlib.suppress(Exception):
                _wait(me.finish(), "end the session")
            finish_sent = True
        if app.scene_id is SceneId.RESULTS and snap.results is not None:
            results = snap.results
            report.outcome = str(results.outcome)
            report.mvp = names.get(results.mvp or "", results.mvp)
            report.members = [
                {
                    "username": m.username,
                    "is_ghost": m.is_ghost,
                    "damage": round(m.damage, 2),
                    "share": round(m.share, 3),
                    "xp": m.xp,
                    "focused_seconds": round(m.focused_seconds, 1),
                }
                for m in results.members
            ]
            for _ in range(3):
                loop.frame("results")
            _shot(app, options, report, "results")
            if options.offscreen:
                break
            while not app.closed:
                loop.frame("results")
            break
    report.slept = sorted(slept)
    if report.outcome == "ongoing" and not app.closed:
        raise DemoError("the fight did not reach its results in time")


def _shot(app: ConvexApp, options: DemoOptions, report: DemoReport, name: str) -> bool:
    """Save a screenshot (offscreen runs with ``out``) and note what the HUD showed."""
    from game.scenes.arena import ArenaScene

    scene = app.scene
    if isinstance(scene, ArenaScene):
        snap = scene.snapshot
        asleep = sorted(
            member.username
            for slot, avatar in scene.avatars.items()
            if avatar.driver.sleep_amount > 0.5
            and snap is not None
            and (member := snap.member(slot)) is not None
        )
        ghosts = [a for a in scene.avatars.values() if a.is_ghost]
        report.moments[name] = {
            "hp_fraction": round(scene.bossbar.value, 4),
            "dps": scene.shown_dps,
            "penalty_lines": list(scene.shown_penalties),
            "asleep": asleep,
            "ghost_alpha": [round(a.rig.actor.getColorScale()[3], 3) for a in ghosts],
        }
    if options.out is None or not options.offscreen:
        return True
    path = app.save_screenshot(options.out / f"{name}.png")
    report.screenshots[name] = path.name
    return True
