"""`kill -9` of a real `convex serve` mid-battle: the restarted server resumes the room, its timer
and boss HP, gives members their seats back, and has lost no finished session.

Real time and real processes (marked slow): the server runs its own 15 Hz tick loop and saves
changed rooms every ``SNAPSHOT_INTERVAL_S``. The bound on the restored boss HP: HP only falls, at
no more than the group's dps ``D``; the last snapshot and the last ``battle`` event seen before
the kill were both taken within ``SNAPSHOT_INTERVAL_S`` (plus one battle step and scheduling
slack) of the kill, so ``|restored - last seen| <= D * HP_BOUND_S``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, Final

import aiohttp
import pytest
import socketio

from server.rooms.room import BATTLE_STEP_S
from server.sockets import SNAPSHOT_INTERVAL_S
from shared.codec import Frame, encode_frame
from shared.face import FaceSample

pytestmark = pytest.mark.slow

REPO: Final[Path] = Path(__file__).resolve().parents[2]
READY: Final[re.Pattern[str]] = re.compile(r"listening on (http://\S+)")

START_TIMEOUT_S: Final[float] = 30.0
"""Longest wait for `convex serve` to print its listening line."""
EVENT_TIMEOUT_S: Final[float] = 10.0
"""Longest wait for any one awaited event."""
FRAME_HZ: Final[float] = 15.0
"""Each client sends face frames at the tracker's rate."""
BATTLE_BEFORE_KILL_S: Final[float] = 3.0
"""Real seconds of focused frames before the kill (at least): several snapshots and battle
events; also the focus length of the short session that ends just before the kill."""
HP_BOUND_S: Final[float] = SNAPSHOT_INTERVAL_S + BATTLE_STEP_S + 0.3
"""Seconds of group damage the restored HP may differ from the last seen (see the docstring);
0.3 s covers tick lag on a loaded machine."""

FOCUSED: Final[FaceSample] = FaceSample(t=0.0)


async def wait_until(
    what: str, check: Callable[[], bool], timeout: float = EVENT_TIMEOUT_S
) -> None:
    """Poll ``check`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(0.02)


class ServerProcess:
    """`convex serve` as a child process on a free port, logging to a file."""

    def __init__(self, database_url: str, workdir: Path) -> None:
        self.database_url = database_url
        self.workdir = workdir
        self.proc: asyncio.subprocess.Process | None = None
        self.url = ""
        self.starts = 0

    async def start(self) -> str:
        """Start the server and return its base URL once it listens."""
        self.starts += 1
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONVEX_")}
        # No CONVEX_SECRET: the signing key lives in the database, so tokens survive a restart.
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        log = open(self.workdir / f"server-{self.starts}.log", "wb")  # noqa: SIM115
        try:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "game.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--database",
                self.database_url,
                cwd=self.workdir,  # no stray .env is read
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
            )
        finally:
            log.close()
        assert self.proc.stdout is not None
        try:
            line = await asyncio.wait_for(self.proc.stdout.readline(), START_TIMEOUT_S)
        except TimeoutError:
            self.kill()
            pytest.fail(f"convex serve printed nothing in {START_TIMEOUT_S:g} s; {self.log_tail()}")
        found = READY.search(line.decode(errors="replace"))
        if found is None:
            pytest.fail(f"convex serve did not start: {line!r}; {self.log_tail()}")
        self.url = found.group(1)
        return self.url

    def log_tail(self) -> str:
        path = self.workdir / f"server-{self.starts}.log"
        return "log: " + (path.read_text(errors="replace")[-2000:] if path.exists() else "none")

    def kill(self) -> None:
        """SIGKILL: no shutdown handler, no final snapshot, nothing flushed."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)

    async def wait_dead(self) -> int:
        assert self.proc is not None
        return await asyncio.wait_for(self.proc.wait(), EVENT_TIMEOUT_S)

    async def stop(self) -> None:
        """SIGTERM and wait; SIGKILL if it does not exit in time."""
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), EVENT_TIMEOUT_S)
        except TimeoutError:
            self.kill()
            await self.proc.wait()


class Player:
    """A python-socketio client that keeps every event it receives, and a face-frame pump."""

    def __init__(self, name: str, token: str) -> None:
        self.name = name
        self.token = token
        self.sio = socketio.AsyncClient(reconnection=False)
        self.events: dict[str, list[Any]] = {}
        for event in ("room:state", "timer", "battle", "room:results", "error"):
            self.sio.on(event, self._keeper(event))
        self.seq = 0
        self._pump: asyncio.Task[None] | None = None

    def _keeper(self, event: str) -> Callable[[Any], Any]:
        async def keep(data: Any) -> None:
            self.events.setdefault(event, []).append(data)

        return keep

    def last(self, event: str) -> Any:
        return self.events.get(event, [None])[-1]

    async def connect(self, url: str) -> None:
        await self.sio.connect(
            url, auth={"token": self.token}, transports=["websocket"], wait_timeout=10
        )

    async def call(self, event: str, data: Any = None) -> Any:
        return await self.sio.call(event, data, timeout=EVENT_TIMEOUT_S)

    def start_frames(self) -> None:
        self._pump = asyncio.create_task(self._send_frames())

    async def stop_frames(self) -> None:
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
            self._pump = None

    async def _send_frames(self) -> None:
        interval = 1.0 / FRAME_HZ
        while True:
            self.seq = (self.seq + 1) % (1 << 16)
            frame = Frame.from_sample(FOCUSED, seq=self.seq, t_ms=self.seq * 66)
            await self.sio.emit("frame", encode_frame(frame))
            await asyncio.sleep(interval)

    async def close(self) -> None:
        await self.stop_frames()
        with contextlib.suppress(Exception):
            await self.sio.disconnect()


async def register(http: aiohttp.ClientSession, url: str, username: str) -> str:
    async with http.post(
        f"{url}/api/register", json={"username": username, "password": "password123"}
    ) as r:
        assert r.status == 201, await r.text()
        token: str = (await r.json())["token"]
    return token


@pytest.fixture
async def served(database_url: str, tmp_path: Path) -> AsyncIterator[ServerProcess]:
    server = ServerProcess(database_url, tmp_path)
    try:
        yield server
    finally:
        await server.stop()


async def test_kill_9_mid_battle_then_restart_resumes_the_room(
    served: ServerProcess,
) -> None:
    """After SIGKILL: room, end time, HP and seats come back; a finished session is kept, once."""
    url = await served.start()
    async with aiohttp.ClientSession() as http:
        tokens = {n: await register(http, url, n) for n in ("early", "host", "ada", "leo")}
    early = Player("early", tokens["early"])
    group = [Player(n, tokens[n]) for n in ("host", "ada", "leo")]
    host = group[0]
    everyone = [early, *group]
    try:
        for p in everyone:
            await p.connect(url)

        # The group's long session, fought with focused frames from all three.
        created = await host.call(
            "room:create",
            {
                "name": "Crash course",
                "subject": "physics",
                "plan": {"focus_s": 120, "break_s": 60, "rounds": 1},
            },
        )
        room_id = created["room_id"]
        for p in group[1:]:
            await p.call("room:join", {"room_id": room_id})
        assert await host.call("room:start") == {"ok": True}
        for p in group:
            p.start_frames()
        await wait_until(
            "the focus timer", lambda: (host.last("timer") or {}).get("phase") == "focus"
        )
        end_time = host.last("timer")["end_time"]

        # Meanwhile a short solo session runs to its end; the kill follows its results at once,
        # before the next room snapshot can record that it ended.
        await early.call(
            "room:create",
            {
                "name": "Quick one",
                "subject": "history",
                "plan": {"focus_s": int(BATTLE_BEFORE_KILL_S), "break_s": 1, "rounds": 1},
            },
        )
        assert await early.call("room:start") == {"ok": True}
        early.start_frames()
        await wait_until(
            "the quick session's results", lambda: early.last("room:results") is not None
        )

        before = host.last("room:state")
        seats = {m["username"]: (m["member_id"], m["slot"]) for m in before["members"]}
        battles = [b for b in host.events.get("battle", []) if b["room_id"] == room_id]
        seen = battles[-1]
        dps = max(b["dps"] for b in battles)
        assert dps > 0
        assert seen["boss_hp"] < seen["boss_max_hp"] - 2 * dps  # well into the fight
        assert host.last("timer")["end_time"] == end_time

        for p in everyone:
            await p.stop_frames()
        served.kill()
        assert await served.wait_dead() == -signal.SIGKILL
        for p in everyone:
            await p.close()

        url = await served.start()
        back = [Player(p.name, p.token) for p in group]
        everyone = back
        for p in back:
            await p.connect(url)  # the same tokens: the signing key is in the database
        host = back[0]
        for p in back:
            joined = await p.call("room:join", {"room_id": room_id})
            assert (joined["member_id"], joined["slot"]) == seats[p.name]

        timer = host.last("timer")
        assert timer["phase"] == "focus" and timer["end_time"] == end_time
        restored = host.last("battle")
        assert restored is not None and restored["boss_max_hp"] == seen["boss_max_hp"]
        assert abs(restored["boss_hp"] - seen["boss_hp"]) <= dps * HP_BOUND_S
        state = back[-1].last("room:state")
        assert state["host_id"] == before["host_id"] == seats["host"][0]
        assert {m["username"]: (m["member_id"], m["slot"]) for m in state["members"]} == seats
        assert all(m["connected"] for m in state["members"])

        # The fight goes on: focused frames bring the boss's HP down from where it was restored.
        for p in back:
            p.start_frames()
        await wait_until(
            "the boss to take damage after the restart",
            lambda: (host.last("battle") or restored)["boss_hp"] < restored["boss_hp"] - 1.0,
        )
        assert host.last("battle")["outcome"] == "ongoing"

        # The session that finished before the kill is still stored (and listed as a ghost).
        async with (
            aiohttp.ClientSession() as http,
            http.get(
                f"{url}/api/ghosts", headers={"Authorization": f"Bearer {tokens['early']}"}
            ) as r,
        ):
            assert r.status == 200
            ghosts = (await r.json())["ghosts"]
        # Exactly once: the restored room, snapshotted before it ended, must not store it again.
        assert [(g["owner_username"], g["subject"]) for g in ghosts] == [("early", "history")]
    finally:
        for p in everyone:
            await p.close()
