"""A whole group session over real sockets: rooms, frames, the boss fight, results, streaks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import socketio

from server.keys import STORE
from shared.codec import Frame, encode_frame
from shared.face import FaceSample
from tests.server.conftest import LiveServer

FOCUSED = FaceSample(t=0.0)
AWAY = FaceSample(t=0.0, yaw=60.0)  # head turned far to the left


class Player:
    """A real python-socketio client that remembers the last event of each kind."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sio = socketio.AsyncClient(reconnection=False)
        self.last: dict[str, Any] = {}
        self.errors: list[dict[str, Any]] = []
        self.seq = 0
        for event in ("room:state", "timer", "battle", "room:results", "frames"):
            self.sio.on(event, self._keeper(event))
        self.sio.on("error", self.errors.append)

    def _keeper(self, event: str) -> Any:
        async def keep(data: Any) -> None:
            self.last[event] = data

        return keep

    async def connect(self, server: LiveServer) -> None:
        token = await server.register(self.name)
        await self.sio.connect(server.url, auth={"token": token}, transports=["websocket"])

    async def send_face(self, sample: FaceSample) -> Any:
        self.seq += 1
        data = encode_frame(Frame.from_sample(sample, seq=self.seq, t_ms=self.seq * 66))
        return await self.sio.call("frame", data, timeout=5)


@pytest.fixture
async def players(server: LiveServer) -> AsyncIterator[list[Player]]:
    group = [Player(n) for n in ("host", "ada", "leo", "sam")]
    for p in group:
        await p.connect(server)
    yield group
    for p in group:
        await p.sio.disconnect()


async def test_full_group_session(server: LiveServer, players: list[Player]) -> None:
    """Create, three join, start; the away member lowers DPS within the cap; the group wins;
    results are stored and the streak credited."""
    host, ada, leo, sam = players
    created = await host.sio.call(
        "room:create",
        {
            "name": "Exam prep",
            "subject": "physics",
            "plan": {"focus_s": 60, "break_s": 60, "rounds": 1},
        },
    )
    room_id = created["room_id"]
    for p in (ada, leo, sam):
        joined = await p.sio.call("room:join", {"room_id": room_id})
        assert joined["room_id"] == room_id
    refused = await leo.sio.call("room:start")
    assert refused["error"]["code"] == "forbidden"
    assert leo.errors[-1]["error"]["code"] == "forbidden"
    assert await host.sio.call("room:start") == {"ok": True}
    await server.tick()
    assert host.last["timer"]["phase"] == "focus"
    hp_seen: list[float] = []
    dps_seen: list[tuple[float, float, float]] = []
    won_at = None
    for step in range(140):  # 0.5 s steps: up to 70 s, past the 60 s focus block
        t = step * 0.5
        for p in (host, ada, leo):
            await p.send_face(FOCUSED)
        await sam.send_face(AWAY if 2 <= t < 22 else FOCUSED)
        await server.tick(0.5)
        battle = host.last.get("battle")
        if battle:
            hp_seen.append(battle["boss_hp"])
            if battle["outcome"] == "victory" and won_at is None:
                won_at = t
            dps_seen.append((t, battle["dps"], battle["penalty"]))
        if "room:results" in host.last:
            break
    results = host.last["room:results"]
    assert results["outcome"] == "victory"
    assert hp_seen[0] > hp_seen[len(hp_seen) // 2] and hp_seen == sorted(hp_seen, reverse=True)
    assert hp_seen[-1] == 0
    # Won before the focus block ran out (results come when it ends), later than undistracted.
    assert won_at is not None and 40 < won_at < 60 <= t
    # Sam looked away: the group's dps dropped by exactly one member's penalty, never more.
    penalties = {round(p, 3) for _, _, p in dps_seen}
    assert 0.2 in penalties and max(penalties) <= 0.5
    assert min(d for _, d, _ in dps_seen if d > 0) == pytest.approx(0.8 * 30, rel=1e-6)
    by_name = {m["member_id"]: m for m in results["members"]}
    assert len(by_name) == 4
    sam_id = next(
        m["member_id"] for m in host.last["room:state"]["members"] if m["username"] == "sam"
    )
    assert by_name[sam_id]["damage"] < min(m["damage"] for k, m in by_name.items() if k != sam_id)

    # The finished session is stored for every member, and it counts towards their streak.
    for p in players:
        found = await server.app[STORE].user_credentials(p.name)
        assert found is not None
        sessions = await server.app[STORE].study_sessions(found[0].id)
        assert len(sessions) == 1 and sessions[0][2] > 0
    async with server.http.get(
        f"{server.url}/api/streak", headers={"Authorization": f"Bearer {server.tokens['host']}"}
    ) as r:
        streak = await r.json()
    assert streak["today_minutes"] > 0.5
    ghosts = await server.app[STORE].ghosts_visible_to(1)
    assert ghosts and ghosts[0].subject == "physics"


async def test_host_can_end_the_session_early(server: LiveServer, players: list[Player]) -> None:
    """room:finish (host only) goes to results at once: a boss with HP left is a defeat, and the
    focus time so far is stored."""
    host, ada, _, _ = players
    room_id = (await host.sio.call("room:create", {"name": "Quick", "subject": "history"}))[
        "room_id"
    ]
    await ada.sio.call("room:join", {"room_id": room_id})
    assert (await host.sio.call("room:finish"))["error"]["code"] == "illegal_state"  # in lobby
    await host.sio.call("room:start")
    for _ in range(20):
        await host.send_face(FOCUSED)
        await ada.send_face(FOCUSED)
        await server.tick(0.5)
    assert (await ada.sio.call("room:finish"))["error"]["code"] == "forbidden"
    assert await host.sio.call("room:finish") == {"ok": True}
    await server.tick(0.1)
    for _ in range(100):  # the results event is on its way over the socket
        if "room:results" in host.last:
            break
        await asyncio.sleep(0.02)
    results = host.last["room:results"]
    assert results["outcome"] == "defeat"
    assert all(9 <= m["focused_seconds"] <= 10.5 for m in results["members"])
    found = await server.app[STORE].user_credentials("ada")
    assert found is not None
    assert len(await server.app[STORE].study_sessions(found[0].id)) == 1
