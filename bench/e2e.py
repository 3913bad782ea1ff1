"""End-to-end benchmark: face sample on client A → morph on client B, and the arena's FPS.

Run ``.venv/bin/python bench/e2e.py`` (``--help`` for options); the default run takes about
two and a half minutes, ``--quick`` under one. Figures go to stdout as a table, progress to
stderr.

Setup (everything real, nothing in-process that a player would not have):

- the server is ``convex serve`` as a **subprocess** on a free loopback port with a throwaway SQLite file (SIGTERM at the
  end, even on Ctrl-C or an error);
- the *other* members (client A, and the bots of the FPS phase) are real
  :class:`~game.net.NetClient` s in this process, fed at :data:`SEND_HZ` (14.5 Hz, just under
  the relay's 15) by one pump thread;
- client B, the one whose screen is measured, is a **child process** (fresh GL, so
  ``LP_NUM_THREADS`` counts; no GIL shared with the senders): a real
  :class:`~game.net.NetClient` and a real offscreen :class:`~game.app.ConvexApp` at 1280×720
  showing the arena scene, exactly as ``convex demo`` wires them (``attach_room``, then
  ``SceneId.ARENA``). Every timestamp is ``CLOCK_MONOTONIC``, which all processes share.

**Latency.** A and B sit in one room (A hosts; the boss is there too). A's face is neutral and
focused except ``jawOpen``, which steps between :data:`LOW` and :data:`HIGH` every ``--hold``
seconds. For each step the clock starts when A's ``send_face`` hands over the step's first
sample, and stops at the end of the first frame rendered on B in which A's avatar's
``jawOpen`` slider (read with :meth:`~game.avatar.driver.AvatarDriver.slider_value`, the value
the driver wrote for that frame's morph) has crossed half-way from the settled old level to the
settled new one. Half-way because B never shows the raw step: the jitter buffer interpolates
between relay ticks and the One Euro filter smooths, both by design. B renders paced at
``--latency-fps`` (60 by default, a display's rate). The parts:

- *network*: ``send_face`` on A → the first relay batch carrying a frame of the step reaches
  B's network thread (A's pacing, the server's 15 Hz batching, Socket.IO both ways);
- *playout*: that arrival → the snapshot read by the frame that shows the crossing (the
  100 ms playout delay, interpolation towards the new frame, the filter, frame pacing);
- *render*: that snapshot read → the end of the frame (scene update and ``renderFrame``).

To observe B without touching game code the child uses a subclass of ``NetClient`` that, after
the normal handling, notes when each batch arrived (``_on_frames``) and when the scene read its
snapshot (``snapshot``); both are read-only.

**Arena FPS.** A room of 8 people — B plus 7 bots over the real server — and the boss (``--boss``,
dragon by default), the fight started. Every bot sends a face whose 52 weights all move
(phase-shifted sines, eyes and head kept within the focus rules so nobody falls asleep), as
does B's local face, so every avatar's morphs change every frame. B renders unpaced for
``--fps-seconds``: mean FPS and frame time p50/p99, plus CPU per frame of B's process.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import queue
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar

REPO: Final[Path] = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run as a script: make the project importable
    sys.path.insert(0, str(REPO))

from serve import ServeProcess  # noqa: E402 - bench/ is the script's own folder

if TYPE_CHECKING:
    import concurrent.futures

    from game.net import NetClient
    from shared.face import FaceSample

T = TypeVar("T")

WIDTH, HEIGHT = 1280, 720
SEND_HZ: Final[float] = 14.5
"""Rate the pump offers faces to each sending client: just under the pacer's and the relay's
15 Hz, so that A's samples drift through every phase of the server's tick (about once every
2 s), as a real tracker's do, instead of one chance alignment deciding the figures; and so
that A's pacer never holds a sample back."""
LOW: Final[float] = 0.15
HIGH: Final[float] = 0.75
"""The two ``jawOpen`` levels A's face steps between."""
PASSWORD: Final[str] = "convex-bench-password"
BOSS: Final[str] = "dragon"
SUBJECT: Final[str] = "Bench"
ARENA_MEMBERS: Final[int] = 8
"""People in the FPS phase's room (B and 7 bots): the room's default size."""

STEP_TIMEOUT_S: Final[float] = 30.0
"""Longest wait for one setup step (server start, login, join, the child's next line)."""
LEAD_IN_S: Final[float] = 0.6
"""Seconds of the window before A's first step (the trace needs a settled level first)."""
SETTLE_S: Final[float] = 1.0
"""Seconds of the window after A's last step."""
WARMUP_S: Final[float] = 1.5
"""Seconds B renders after the fight starts before its window opens."""
MIN_SWING: Final[float] = 0.25
"""A step whose settled levels on B differ by less than this (slider units) is not counted."""
PROTOCOL_PREFIX: Final[str] = "E2E "
"""The child's stdout lines for the parent start with this (Panda3D may print other things)."""


def log(message: str) -> None:
    """Progress, to stderr."""
    print(message, file=sys.stderr, flush=True)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile ``q`` (0–100) of ``values``; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, math.ceil(q / 100.0 * len(ordered)) - 1))
    return ordered[k]


def wait(future: concurrent.futures.Future[T], what: str) -> T:
    """The future's result, or a clear error after :data:`STEP_TIMEOUT_S`."""
    import concurrent.futures

    try:
        return future.result(STEP_TIMEOUT_S)
    except concurrent.futures.TimeoutError:
        raise RuntimeError(f"timed out: {what}") from None


# -- faces ---------------------------------------------------------------------------------------


def step_face(t: float, jaw: float) -> FaceSample:
    """A's face: neutral, looking straight at the screen, mouth open ``jaw``."""
    from shared.blendshapes import COUNT, index_of

    weights = [0.0] * COUNT
    weights[index_of("jawOpen")] = jaw
    return _sample(t, weights, 0.0, 0.0, 0.0)


def moving_face(t: float, k: int) -> FaceSample:
    """Every one of the 52 weights moving (phase-shifted sines, 0.05–0.45: eyes never read as
    closed, gaze never as away), the head turning a little: a focused, lively face."""
    from shared.blendshapes import COUNT

    weights = [
        0.25 + 0.2 * math.sin(2.0 * math.pi * (0.7 + 0.05 * i) * t + 0.9 * i + 1.7 * k)
        for i in range(COUNT)
    ]
    return _sample(
        t,
        weights,
        8.0 * math.sin(1.3 * t + k),
        4.0 * math.sin(0.9 * t + 2 * k),
        5.0 * math.sin(0.7 * t + 3 * k),
    )


def _sample(t: float, weights: list[float], yaw: float, pitch: float, roll: float) -> FaceSample:
    from shared.face import FaceSample

    return FaceSample(t=t, blendshapes=tuple(weights), yaw=yaw, pitch=pitch, roll=roll)


# -- the server ----------------------------------------------------------------------------------


class ServerProcess(ServeProcess):
    """``convex serve`` as a child process on a free loopback port and a fresh SQLite file."""

    def __init__(self, workdir: Path) -> None:
        super().__init__(
            workdir / "bench.sqlite3",
            workdir / "server.log",
            env={"CONVEX_SECRET": secrets.token_hex(32)},
        )


# -- the senders (this process) ------------------------------------------------------------------


@dataclass
class Tick:
    """One face offered by the pump: when, its wire ``t_ms``, its step, whether it went out."""

    at: float
    t_ms: int
    step: int
    sent: bool


@dataclass
class StepPlan:
    """A's steps: tick index of step 0 and ticks per step; set once B's window is known."""

    first_tick: int
    hold_ticks: int
    steps: int

    def step_of(self, tick: int) -> int:
        """The step a tick belongs to (-1 before the first: the baseline)."""
        if tick < self.first_tick:
            return -1
        return min(self.steps - 1, (tick - self.first_tick) // self.hold_ticks)


def jaw_level(step: int) -> float:
    """``jawOpen`` during ``step``: HIGH, LOW, HIGH, … from step 0 (LOW before it)."""
    return HIGH if step >= 0 and step % 2 == 0 else LOW


class Pump:
    """One thread offering every sender's face at :data:`SEND_HZ` on a fixed tick grid."""

    def __init__(
        self, clients: Sequence[NetClient], face: Callable[[int, float, int], FaceSample]
    ) -> None:
        """``face(client_index, t, tick)`` builds each client's sample for tick ``tick`` at ``t``."""
        self.clients = list(clients)
        self.face = face
        self.t0 = time.monotonic()
        self.ticks: list[Tick] = []
        """Client 0's ticks (the latency phase's A)."""
        self.plan: StepPlan | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="e2e-pump", daemon=True)

    def start(self) -> Pump:
        self._thread.start()
        return self

    def step_of(self, tick: int) -> int:
        """A's step at ``tick`` (-1, the baseline, until the plan is set)."""
        return self.plan.step_of(tick) if self.plan is not None else -1

    def tick_at(self, t: float) -> int:
        """The first tick at or after monotonic time ``t``."""
        return max(0, math.ceil((t - self.t0) * SEND_HZ))

    def _run(self) -> None:
        tick = 0
        while not self._stop.is_set():
            due = self.t0 + tick / SEND_HZ
            delay = due - time.monotonic()
            if delay > 0 and self._stop.wait(delay):
                return
            for k, client in enumerate(self.clients):
                now = time.monotonic()
                sample = self.face(k, now, tick)
                sent = client.send_face(sample)
                if k == 0:
                    step = self.step_of(tick)
                    self.ticks.append(Tick(now, round(sample.t * 1000), step, sent))
            tick += 1
            # Fell behind (a stalled machine): skip missed ticks rather than burst.
            tick = max(tick, self.tick_at(time.monotonic()))

    def stop(self) -> None:
        """Stop sending (bounded join)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(STEP_TIMEOUT_S)


def new_client(url: str, name: str) -> NetClient:
    """A registered, connected NetClient (closed again if a step fails)."""
    from game.net import NetClient

    client = NetClient(url)
    try:
        wait(client.register(name, PASSWORD), f"register {name}")
        wait(client.connect(), f"connect {name}")
    except BaseException:
        client.close()
        raise
    return client


# -- the child: client B -------------------------------------------------------------------------


class Child:
    """Client B in its own process; reads its ``E2E`` lines on a thread."""

    def __init__(self, args: list[str], workdir: Path) -> None:
        self.err_path = workdir / f"child-{args[1]}.log"
        self._err = open(self.err_path, "wb")  # noqa: SIM115 - closed in close()
        cmd = [sys.executable, str(Path(__file__).resolve()), *args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._err, text=True)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, name="e2e-child-stdout", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith(PROTOCOL_PREFIX):
                self.lines.put(line[len(PROTOCOL_PREFIX) :].strip())
        self.lines.put(None)

    def expect(self, word: str, timeout: float = STEP_TIMEOUT_S * 2) -> str:
        """The rest of the child's next line, which must start with ``word``."""
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise RuntimeError(f"client B: no {word} in {timeout:g} s{self._tail()}") from None
        if line is None:
            raise RuntimeError(f"client B exited before {word}{self._tail()}")
        head, _, rest = line.partition(" ")
        if head == "ERROR":
            raise RuntimeError(f"client B failed: {rest}{self._tail()}")
        if head != word:
            raise RuntimeError(f"client B said {head!r}, expected {word}")
        return rest

    def _tail(self) -> str:
        self._err.flush()
        lines = self.err_path.read_text(errors="replace").splitlines()[-8:]
        return (":\n  " + "\n  ".join(lines)) if lines else ""

    def close(self) -> None:
        """Wait briefly for a clean exit, then terminate, then kill."""
        try:
            self.proc.wait(STEP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        finally:
            self._reader.join(5)
            if self.proc.stdout is not None:
                self.proc.stdout.close()
            self._err.close()

    def kill(self) -> None:
        """Stop at once (an error or Ctrl-C in the parent)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@contextlib.contextmanager
def child(args: list[str], workdir: Path) -> Iterator[Child]:
    """A :class:`Child` that is always stopped on the way out."""
    proc = Child(args, workdir)
    try:
        yield proc
    except BaseException:
        proc.kill()
        raise
    finally:
        proc.close()


def emit(word: str, payload: object = None) -> None:
    """One protocol line to the parent."""
    text = "" if payload is None else " " + json.dumps(payload)
    print(f"{PROTOCOL_PREFIX}{word}{text}", flush=True)


class _LocalFace:
    """B's own face (any thread may ask): still and focused, or every weight moving."""

    def __init__(self, moving: bool) -> None:
        self.moving = moving

    def latest(self) -> FaceSample:
        now = time.monotonic()
        return moving_face(now, 99) if self.moving else step_face(now, LOW)


def _observed_client_class() -> type[NetClient]:
    from game.net import NetClient
    from shared.codec import BatchDecodeError, decode_batch

    class ObservedClient(NetClient):
        """A NetClient that notes batch arrivals and snapshot reads (after the real handling)."""

        def __init__(self, base_url: str) -> None:
            super().__init__(base_url)
            self.arrivals: list[tuple[float, int, int]] = []
            """(arrival time, slot, wire t_ms) of every relayed frame."""
            self.snapshot_at = math.nan
            """When the scene last read its snapshot."""

        def _on_frames(self, data: object, now: float) -> None:
            super()._on_frames(data, now)
            if isinstance(data, bytes | bytearray | memoryview):
                with contextlib.suppress(BatchDecodeError):
                    for slot, frame in decode_batch(bytes(data)).entries:
                        self.arrivals.append((now, slot, frame.t_ms))

        def snapshot(self, now: float | None = None) -> Any:
            snap = super().snapshot(now)
            self.snapshot_at = snap.taken_at
            return snap

    return ObservedClient


def run_child(args: argparse.Namespace) -> int:
    """Client B: join, show the arena offscreen, measure a window, print the result."""
    try:
        return _run_child(args)
    except Exception as exc:
        emit("ERROR", f"{type(exc).__name__}: {exc}")
        raise


def _run_child(args: argparse.Namespace) -> int:
    from game.app import AppSettings, ConvexApp
    from game.avatar.models import avatar_path
    from game.scenes.arena import ArenaScene, attach_room
    from game.scenes.base import SceneId

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    latency = args.child == "latency"
    client: Any = _observed_client_class()(args.url)
    app: Any = None
    try:
        wait(client.register(args.name, PASSWORD), "register B")
        wait(client.connect(), "connect B")
        wait(client.join_room(args.room), "B joins")
        settings = AppSettings(
            avatar=avatar_path(),
            offscreen=True,
            size=(WIDTH, HEIGHT),
            subject=SUBJECT,
            record_sessions=False,
        )
        app = ConvexApp(settings, _LocalFace(moving=not latency))
        attach_room(app, client)
        app.switch(SceneId.ARENA)
        scene = app.scene
        assert isinstance(scene, ArenaScene)
        period = 1.0 / args.fps if args.fps > 0 else 0.0

        def frames_until(done: Callable[[], bool], what: str) -> None:
            deadline = time.monotonic() + STEP_TIMEOUT_S * 2
            while not done():
                if time.monotonic() > deadline:
                    raise RuntimeError(f"timed out: {what}")
                app.run_frames(1)
                time.sleep(0.03)  # a gentle 30 FPS while waiting: the machine is shared

        frames_until(lambda: len(scene.avatars) >= args.expect, f"{args.expect} avatars")
        emit("READY")
        frames_until(lambda: client.snapshot().battle is not None, "the fight to start")
        warm_end = time.monotonic() + WARMUP_S
        while time.monotonic() < warm_end:
            app.run_frames(1)
        t0 = time.monotonic()
        t1 = t0 + args.window
        emit("WINDOW", {"t0": t0, "t1": t1})
        peer = scene.avatar_for(args.peer) if latency else None
        if latency and peer is None:
            raise RuntimeError(f"no avatar for {args.peer}")
        trace: list[tuple[float, float, float]] = []
        frame_s: list[float] = []
        applied0 = sum(a.driver.frames_applied for a in scene.avatars.values())
        cpu0 = time.process_time()
        next_frame = t0
        while True:
            start = time.monotonic()
            if start >= t1:
                break
            app.run_frames(1)
            end = time.monotonic()
            frame_s.append(end - start)
            if peer is not None:
                trace.append((client.snapshot_at, end, peer.driver.slider_value("jawOpen")))
            if period:
                next_frame += period
                delay = next_frame - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                else:
                    next_frame = time.monotonic()
        cpu = time.process_time() - cpu0
        applied = sum(a.driver.frames_applied for a in scene.avatars.values()) - applied0
        snap = client.snapshot()
        result: dict[str, Any] = {
            "frames": len(frame_s),
            "seconds": time.monotonic() - t0,
            "frame_s": frame_s,
            "cpu_s": cpu,
            "avatars": len(scene.avatars),
            "boss": scene.boss.kind if scene.boss is not None else None,
            "samples_applied": applied,
            "asleep": sum(1 for a in scene.avatars.values() if a.driver.sleep_amount > 0.0),
            "lp_threads": os.environ.get("LP_NUM_THREADS", "default"),
        }
        if latency:
            me = snap.member(peer.slot) if peer is not None else None
            result["peer_slot"] = me.slot if me is not None else None
            result["trace"] = trace
            result["arrivals"] = [a for a in client.arrivals if a[0] >= t0 - 1.0]
        emit("RESULT", result)
        return 0
    finally:
        if app is not None:
            app.teardown()
        client.close()


# -- the phases (parent) -------------------------------------------------------------------------


@dataclass
class Latency:
    """Per-step figures of the latency phase, in seconds."""

    total: list[float] = field(default_factory=list)
    network: list[float] = field(default_factory=list)
    playout: list[float] = field(default_factory=list)
    render: list[float] = field(default_factory=list)
    steps: int = 0
    unsettled: int = 0
    unseen: int = 0
    paced_out: int = 0
    low_levels: list[float] = field(default_factory=list)
    high_levels: list[float] = field(default_factory=list)
    """Settled ``jawOpen`` slider values on B around each counted step (a sanity check)."""
    frames: int = 0
    fps: float = math.nan
    hold_s: float = math.nan


def run_latency(url: str, opts: argparse.Namespace, workdir: Path) -> Latency:
    """A steps its jaw; B (a child process) shows it: see the module docstring."""
    from shared.protocol import Plan

    hold_ticks = max(2, round(opts.hold * SEND_HZ))
    window = LEAD_IN_S + opts.steps * hold_ticks / SEND_HZ + SETTLE_S
    a_name = "e2e-sender"
    with contextlib.ExitStack() as stack:
        a = new_client(url, a_name)
        stack.callback(a.close)
        plan = Plan(focus_s=round(window + 120), break_s=60, rounds=1)
        room = wait(a.create_room("E2E latency", SUBJECT, plan, opts.boss), "create room").room_id
        pump = Pump([a], lambda _k, t, tick: step_face(t, jaw_level(pump.step_of(tick))))
        stack.callback(pump.stop)
        pump.start()
        args = ["--child", "latency", "--url", url, "--room", room, "--name", "e2e-viewer"]
        args += ["--peer", a_name, "--expect", "2", "--window", f"{window:.3f}"]
        args += ["--fps", str(opts.latency_fps)]
        b = stack.enter_context(child(args, workdir))
        b.expect("READY")
        wait(a.start(), "start the session")
        span = json.loads(b.expect("WINDOW"))
        pump.plan = StepPlan(pump.tick_at(span["t0"] + LEAD_IN_S), hold_ticks, opts.steps)
        log(f"latency: {opts.steps} steps of {hold_ticks / SEND_HZ:.2f} s, window {window:.0f} s")
        result = json.loads(b.expect("RESULT", timeout=window + STEP_TIMEOUT_S * 2))
        pump.stop()
        lat = analyse_latency(pump.ticks, result, opts.steps)
        lat.hold_s = hold_ticks / SEND_HZ
        return lat


def analyse_latency(ticks: Sequence[Tick], result: dict[str, Any], steps: int) -> Latency:
    """Per step: send → half-way crossing on B, and its parts (see the module docstring)."""
    out = Latency(steps=steps, frames=int(result["frames"]))
    out.fps = result["frames"] / result["seconds"] if result["seconds"] > 0 else math.nan
    trace: list[tuple[float, float, float]] = [tuple(x) for x in result["trace"]]
    slot = result["peer_slot"]
    arrivals: dict[int, float] = {}
    for at, s, t_ms in result["arrivals"]:
        if s == slot and t_ms not in arrivals:
            arrivals[t_ms] = at
    starts: list[float | None] = []
    for k in range(steps):
        mine = [t for t in ticks if t.step == k]
        out.paced_out += sum(1 for t in mine if not t.sent)
        sent = [t for t in mine if t.sent]
        starts.append(sent[0].at if sent else None)
        seen = [arrivals[t.t_ms] for t in sent if t.t_ms in arrivals]
        if not sent or not seen:
            out.unseen += 1
            starts[-1] = None
            continue
    end_of_trace = trace[-1][1] if trace else math.inf
    for k in range(steps):
        s = starts[k]
        if s is None:
            continue
        following = [x for x in starts[k + 1 :] if x is not None]
        horizon = following[0] if following else end_of_trace
        before = [v for _, end, v in trace if end <= s]
        settled = [v for _, end, v in trace if end <= horizon]
        if not before or not settled:
            out.unsettled += 1
            continue
        old, new = before[-1], settled[-1]
        if abs(new - old) < MIN_SWING:
            out.unsettled += 1
            continue
        out.low_levels.append(min(old, new))
        out.high_levels.append(max(old, new))
        mid = (old + new) / 2.0
        sign = 1.0 if new > old else -1.0
        crossing = next(
            ((snap, end) for snap, end, v in trace if end > s and (v - mid) * sign >= 0.0), None
        )
        if crossing is None:
            out.unsettled += 1
            continue
        snap_at, end = crossing
        arrived = min(arrivals[t.t_ms] for t in ticks if t.step == k and t.t_ms in arrivals)
        out.total.append(end - s)
        out.network.append(arrived - s)
        out.playout.append(snap_at - arrived)
        out.render.append(end - snap_at)
    return out


@dataclass
class ArenaFps:
    """The FPS phase's figures."""

    frames: int
    seconds: float
    fps: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float
    avatars: int
    boss: str | None
    applied_per_frame: float
    lp_threads: str
    asleep: int


def run_arena(url: str, opts: argparse.Namespace, workdir: Path) -> ArenaFps:
    """B among 7 bots and the boss, every face moving; B renders unpaced."""
    from shared.protocol import Plan

    window = float(opts.fps_seconds)
    with contextlib.ExitStack() as stack:
        bots: list[NetClient] = []
        for k in range(ARENA_MEMBERS - 1):
            bot = new_client(url, f"e2e-bot-{k + 1}")
            stack.callback(bot.close)
            bots.append(bot)
        plan = Plan(focus_s=round(window + 120), break_s=60, rounds=1)
        created = wait(bots[0].create_room("E2E arena", SUBJECT, plan, opts.boss), "create room")
        for bot in bots[1:]:
            wait(bot.join_room(created.room_id), "a bot joins")
        pump = Pump(bots, lambda k, t, _tick: moving_face(t, k))
        stack.callback(pump.stop)
        pump.start()
        args = ["--child", "arena", "--url", url, "--room", created.room_id]
        args += ["--name", "e2e-viewer-2", "--expect", str(ARENA_MEMBERS)]
        args += ["--window", f"{window:.3f}", "--fps", "0"]
        b = stack.enter_context(child(args, workdir))
        b.expect("READY")
        wait(bots[0].start(), "start the session")
        b.expect("WINDOW")
        log(f"arena: {ARENA_MEMBERS} avatars + {opts.boss}, unpaced for {window:g} s")
        result = json.loads(b.expect("RESULT", timeout=window + STEP_TIMEOUT_S * 2))
    frame_s: list[float] = result["frame_s"]
    frames = max(1, len(frame_s))
    return ArenaFps(
        frames=len(frame_s),
        seconds=sum(frame_s),
        fps=len(frame_s) / sum(frame_s) if frame_s else math.nan,
        p50_ms=1000.0 * percentile(frame_s, 50),
        p99_ms=1000.0 * percentile(frame_s, 99),
        cpu_ms=1000.0 * result["cpu_s"] / frames,
        avatars=int(result["avatars"]),
        boss=result["boss"],
        applied_per_frame=result["samples_applied"] / frames,
        lp_threads=str(result["lp_threads"]),
        asleep=int(result["asleep"]),
    )


# -- report ---------------------------------------------------------------------------------------


def _ms(values: Sequence[float], q: float) -> str:
    v = percentile(values, q)
    return "-" if math.isnan(v) else f"{1000.0 * v:.0f}"


def print_report(
    lat: Latency | None,
    arena: ArenaFps | None,
    opts: argparse.Namespace,
    load0: tuple[float, float, float],
    load1: tuple[float, float, float],
) -> None:
    """The figures, as a table on stdout."""
    lp = os.environ.get("LP_NUM_THREADS")
    print(
        f"e2e bench: server = `convex serve` subprocess on loopback (SQLite); "
        f"B offscreen {WIDTH}×{HEIGHT}; {os.cpu_count()} CPUs; "
        f"LP_NUM_THREADS={lp if lp is not None else 'unset (Mesa default)'}"
    )
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in load0)}")
    if lat is not None:
        print(
            f"\nlatency: face sample sent on A → jawOpen half-way on B's rendered frame; "
            f"{lat.steps} steps of {lat.hold_s:.3f} s, B paced at {opts.latency_fps:g} FPS "
            f"(got {lat.fps:.1f})"
        )
        print(f"{'part':<26} {'count':>5} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} {'max ms':>7}")
        for name, values in (
            ("total (A send → B frame)", lat.total),
            ("  network (→ B's batch)", lat.network),
            ("  playout + filter", lat.playout),
            ("  render (update+draw)", lat.render),
        ):
            print(
                f"{name:<26} {len(values):>5} {_ms(values, 50):>7} {_ms(values, 90):>7} "
                f"{_ms(values, 99):>7} {_ms(values, 100):>7}"
            )
        if lat.total:
            print(
                f"settled jawOpen slider on B: low {statistics.median(lat.low_levels):.3f}, "
                f"high {statistics.median(lat.high_levels):.3f} (A sends {LOW:g} / {HIGH:g}; "
                "the slider is past the driver's dead zone)"
            )
        notes = []
        if lat.unseen:
            notes.append(f"{lat.unseen} steps never reached B")
        if lat.unsettled:
            notes.append(f"{lat.unsettled} steps without a settled swing on B")
        if notes:
            print("not counted: " + "; ".join(notes))
        if lat.paced_out:
            print(f"A's pacer held back {lat.paced_out} samples (a step then starts at its next)")
    if arena is not None:
        print(
            f"\narena FPS: {arena.avatars} avatars + boss ({arena.boss}), all morphs moving, "
            f"unpaced, LP_NUM_THREADS={arena.lp_threads}"
        )
        print(
            f"{'frames':>6} {'seconds':>7} {'FPS':>6} {'p50 ms':>7} {'p99 ms':>7} "
            f"{'CPU/frame':>9} {'samples/frame':>13}"
        )
        print(
            f"{arena.frames:>6} {arena.seconds:>7.1f} {arena.fps:>6.1f} {arena.p50_ms:>7.1f} "
            f"{arena.p99_ms:>7.1f} {arena.cpu_ms:>6.1f} ms {arena.applied_per_frame:>13.1f}"
        )
        print(
            "samples/frame: new face samples the 8 drivers took per frame (8 = every avatar "
            "re-morphed every frame); CPU/frame: B's process, all threads"
        )
        if arena.asleep:
            print(f"warning: {arena.asleep} avatars were (going) asleep at the end: not all moving")
    print(f"\nload average at end: {' '.join(f'{x:.2f}' for x in load1)}")


def main(argv: Sequence[str] | None = None) -> int:
    """Start the server, run the latency and FPS phases, print the figures."""
    parser = argparse.ArgumentParser(
        prog="python bench/e2e.py",
        description=(__doc__ or "").split("\n\n")[0],
        epilog="See the module docstring for what is measured and how.",
    )
    parser.add_argument("--steps", type=int, default=200, help="jaw steps on A (default 200)")
    parser.add_argument(
        "--hold", type=float, default=0.4, help="seconds between steps (default 0.4)"
    )
    parser.add_argument(
        "--latency-fps", type=float, default=60.0, help="B's frame rate in the latency phase"
    )
    parser.add_argument(
        "--fps-seconds", type=float, default=20.0, help="measured seconds of the FPS phase"
    )
    parser.add_argument("--boss", default=BOSS, help="boss kind (default dragon)")
    parser.add_argument(
        "--only", choices=("latency", "arena"), help="run one phase only (default: both)"
    )
    parser.add_argument("--quick", action="store_true", help="under a minute: 40 steps, 5 s of FPS")
    # The child (client B); internal.
    parser.add_argument("--child", choices=("latency", "arena"), help=argparse.SUPPRESS)
    for name in ("--url", "--room", "--name", "--peer"):
        parser.add_argument(name, help=argparse.SUPPRESS)
    parser.add_argument("--expect", type=int, default=2, help=argparse.SUPPRESS)
    parser.add_argument("--window", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--fps", type=float, default=0.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        return run_child(args)
    if args.quick:
        args.steps, args.fps_seconds = min(args.steps, 40), min(args.fps_seconds, 5.0)
    if args.steps < 2 or args.hold <= 0 or args.fps_seconds <= 0:
        parser.error("--steps must be at least 2; --hold and --fps-seconds positive")
    # SIGTERM unwinds like Ctrl-C: every finally below stops its child, senders and server.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    load0 = os.getloadavg()
    lat: Latency | None = None
    arena: ArenaFps | None = None
    try:
        with tempfile.TemporaryDirectory(prefix="convex-e2e-bench-") as tmp:
            workdir = Path(tmp)
            log("starting `convex serve` …")
            server = ServerProcess(workdir)
            try:
                log(f"server at {server.url}")
                if args.only in (None, "latency"):
                    lat = run_latency(server.url, args, workdir)
                if args.only in (None, "arena"):
                    arena = run_arena(server.url, args, workdir)
            finally:
                server.stop()
    except KeyboardInterrupt:
        log("interrupted: client B, the senders and the server are stopped")
        return 130
    except RuntimeError as exc:
        log(f"e2e bench failed: {exc}")
        return 1
    print_report(lat, arena, args, load0, os.getloadavg())
    lingering = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    if lingering:
        log(f"note: threads still alive at exit: {', '.join(lingering)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
