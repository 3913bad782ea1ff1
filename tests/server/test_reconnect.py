"""The 60-second reconnect window over real sockets and a hand clock: a dropped member keeps
their seat and slot, takes it back with a new connection, and loses it after 60 s."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, Final

import pytest
import socketio

from shared.codec import Frame, encode_frame
from shared.face import FaceSample
from tests.server.conftest import LiveServer

GRACE_S: Final[float] = 60.0
"""The product's reconnect window (the server's default ``reconnect_grace_s``)."""
WAIT_S: Final[float] = 5.0
"""Longest real wait for the server to notice a connection change."""
FOCUSED: Final[FaceSample] = FaceSample(t=0.0)


class Player:
    """A python-socketio client on one token that keeps the latest event of each kind."""

    def __init__(self, name: str, token: str) -> None:
        self.name = name
        self.token = token
        self.sio = socketio.AsyncClient(reconnection=False)
        self.last: dict[str, Any] = {}
        self.errors: list[dict[str, Any]] = []
        self.seq = 0
        for event in ("room:state", "timer", "battle", "room:results"):
            self.sio.on(event, self._keeper(event))
        self.sio.on("error", self.errors.append)

    def _keeper(self, event: str) -> Callable[[Any], Any]:
        async def keep(data: Any) -> None:
            self.last[event] = data

        return keep

    async def connect(self, server: LiveServer) -> Player:
        await self.sio.connect(server.url, auth={"token": self.token}, transports=["websocket"])
        return self

    async def call(self, event: str, data: Any = None) -> Any:
        return await self.sio.call(event, data, timeout=WAIT_S)

    async def send_face(self) -> None:
        self.seq += 1
        frame = Frame.from_sample(FOCUSED, seq=self.seq, t_ms=self.seq * 66)
        assert await self.call("frame", encode_frame(frame)) is None

    def member(self, username: str) -> dict[str, Any] | None:
        """This player's latest view of a member's seat, by username."""
        state = self.last.get("room:state") or {"members": []}
        return next((m for m in state["members"] if m["username"] == username), None)

    def damage(self, member_id: str) -> float:
        battle = self.last.get("battle") or {"members": []}
        return next((m["damage"] for m in battle["members"] if m["member_id"] == member_id), 0.0)


async def settle(server: LiveServer, check: Callable[[], bool], what: str) -> None:
    """Tick (without moving the clock) until the broadcasts show ``check``; fail after WAIT_S."""
    deadline = time.monotonic() + WAIT_S
    while True:
        await server.tick()
        await asyncio.sleep(0.01)
        if check():
            return
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")


async def focus_until(
    server: LiveServer, players: list[Player], check: Callable[[], bool], what: str
) -> None:
    """Send a focused frame from each player and tick 0.2 s, until ``check`` holds (≤ 20 s)."""
    for _ in range(100):
        for p in players:
            await p.send_face()
        await server.tick(0.2)
        await asyncio.sleep(0.005)
        if check():
            return
    pytest.fail(f"{what} did not happen in 20 s of focused frames")


@pytest.fixture
async def clients(server: LiveServer) -> AsyncIterator[list[Player]]:
    """Every client a test opens, disconnected at the end."""
    made: list[Player] = []
    yield made
    for p in made:
        if p.sio.connected:
            await p.sio.disconnect()


async def player(server: LiveServer, clients: list[Player], name: str) -> Player:
    """A new connection for ``name`` (registered on first use, the same token after)."""
    token = server.tokens.get(name) or await server.register(name)
    p = Player(name, token)
    clients.append(p)
    return await p.connect(server)


async def room_of_three(
    server: LiveServer, clients: list[Player], **create: Any
) -> tuple[str, list[Player]]:
    group = [await player(server, clients, n) for n in ("host", "ada", "leo")]
    created = await group[0].call(
        "room:create", {"name": "Study hall", "subject": "maths", **create}
    )
    room_id: str = created["room_id"]
    for p in group[1:]:
        assert (await p.call("room:join", {"room_id": room_id}))["room_id"] == room_id
    return room_id, group


async def test_a_dropped_member_keeps_the_seat_and_resumes_within_60_s(
    server: LiveServer, clients: list[Player]
) -> None:
    """A dropped member is held (connected: false) 59 s, rejoins seat and slot, deals damage."""
    room_id, (host, ada, leo) = await room_of_three(
        server, clients, plan={"focus_s": 600, "break_s": 60, "rounds": 1}
    )
    assert await host.call("room:start") == {"ok": True}
    seat = host.member("ada")
    assert seat is not None
    ada_id, ada_slot = seat["member_id"], seat["slot"]
    await focus_until(server, [host, ada, leo], lambda: host.damage(ada_id) > 0, "ada's damage")

    await ada.sio.disconnect()
    await settle(
        server,
        lambda: (m := host.member("ada")) is not None and m["connected"] is False,
        "ada shown disconnected",
    )
    await server.tick(GRACE_S - 1.0)
    held = host.member("ada")
    assert held is not None and held["connected"] is False
    assert (held["member_id"], held["slot"]) == (ada_id, ada_slot)
    damage_while_away = host.damage(ada_id)

    again = await player(server, clients, "ada")
    joined = await again.call("room:join", {"room_id": room_id})
    assert joined == {"room_id": room_id, "member_id": ada_id, "slot": ada_slot}
    assert again.last["battle"]["room_id"] == room_id  # the boss's HP at once, not on its next move
    await settle(
        server,
        lambda: (m := leo.member("ada")) is not None and m["connected"] is True,
        "ada shown connected again",
    )
    assert [m["slot"] for m in leo.last["room:state"]["members"]] == [0, 1, 2]
    await focus_until(
        server,
        [host, again, leo],
        lambda: host.damage(ada_id) > damage_while_away,
        "ada's damage after reconnecting",
    )
    assert again.errors == []


async def test_after_60_s_the_seat_is_freed_and_a_new_person_can_take_the_slot(
    server: LiveServer, clients: list[Player]
) -> None:
    """A held seat blocks newcomers until 60 s pass; then it is gone; a newcomer gets its slot."""
    room_id, (host, ada, leo) = await room_of_three(server, clients, max_members=3)
    ada_slot = host.member("ada")["slot"]  # type: ignore[index]
    await ada.sio.disconnect()
    await settle(
        server,
        lambda: (m := host.member("ada")) is not None and m["connected"] is False,
        "ada shown disconnected",
    )
    sam = await player(server, clients, "sam")
    refused = await sam.call("room:join", {"room_id": room_id})
    assert refused["error"]["code"] == "room_full"

    await server.tick(GRACE_S - 0.5)
    assert host.member("ada") is not None
    await server.tick(0.5)
    await settle(
        server, lambda: host.member("ada") is None and leo.member("ada") is None, "ada's seat freed"
    )

    joined = await sam.call("room:join", {"room_id": room_id})
    assert joined["slot"] == ada_slot
    late = await player(server, clients, "ada")
    assert (await late.call("room:join", {"room_id": room_id}))["error"]["code"] == "room_full"
    await settle(server, lambda: host.member("sam") is not None, "sam seated")
    assert sorted(m["username"] for m in host.last["room:state"]["members"]) == [
        "host",
        "leo",
        "sam",
    ]


async def test_the_newest_connection_of_a_person_supersedes_the_older_one(
    server: LiveServer, clients: list[Player]
) -> None:
    """A second connection closes the first; the seat stays connected and the new one plays."""
    room_id, (host, ada, leo) = await room_of_three(
        server, clients, plan={"focus_s": 600, "break_s": 60, "rounds": 1}
    )
    assert await host.call("room:start") == {"ok": True}
    seat = host.member("ada")
    assert seat is not None
    newer = await player(server, clients, "ada")
    deadline = time.monotonic() + WAIT_S
    while ada.sio.connected:
        assert time.monotonic() < deadline, "the older connection was not closed"
        await asyncio.sleep(0.01)
    await server.tick()
    still = host.member("ada")  # still seated and connected: no reconnect window
    assert still is not None and (still["slot"], still["connected"]) == (seat["slot"], True)

    joined = await newer.call("room:join", {"room_id": room_id})
    assert (joined["member_id"], joined["slot"]) == (seat["member_id"], seat["slot"])
    await focus_until(
        server,
        [host, newer, leo],
        lambda: host.damage(seat["member_id"]) > 0 and newer.damage(seat["member_id"]) > 0,
        "ada's damage from her newer connection",
    )
    assert newer.errors == []
