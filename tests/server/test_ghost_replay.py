"""Ghosts end to end: a stored session is listed, added to a new room by a friend, and replays
its recorded damage as a marked member whose frames are relayed."""

from __future__ import annotations

import asyncio

import pytest

from server.keys import STORE
from shared.codec import decode_batch
from shared.ghost import decode_ghost
from tests.server.conftest import LiveServer
from tests.server.test_session_e2e import AWAY, FOCUSED, Player

PLAN = {"focus_s": 30, "break_s": 10, "rounds": 1}


async def wait_for(player: Player, event: str) -> None:
    for _ in range(200):
        if event in player.last:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{player.name} never received {event}")


async def test_a_friends_ghost_replays_its_recorded_damage(server: LiveServer) -> None:
    """Sam records a session; Ada (a mutual friend) adds it to her room; it deals Sam's damage."""
    sam, ada, eve = Player("sam"), Player("ada"), Player("eve")
    for p in (sam, ada, eve):
        await p.connect(server)
    try:
        # Sam studies alone: focused for 20 s, away for the last 10 s.
        created = await sam.sio.call(
            "room:create", {"name": "Solo", "subject": "chemistry", "plan": PLAN}
        )
        assert created["room_id"]
        await sam.sio.call("room:start")
        for step in range(64):
            await sam.send_face(FOCUSED if step * 0.5 < 20 else AWAY)
            await server.tick(0.5)
        await wait_for(sam, "room:results")
        recorded = sam.last["room:results"]["members"][0]["damage"]
        assert 150 < recorded < 250  # ~20 s at 10 dps, less the moments before the first frame
        await sam.sio.call("room:leave")

        # Friends: Ada and Sam add each other; Eve does not.
        bearer = {n: {"Authorization": f"Bearer {server.tokens[n]}"} for n in ("sam", "ada", "eve")}
        for me, them in (("ada", "sam"), ("sam", "ada")):
            async with server.http.post(
                f"{server.url}/api/friends", json={"username": them}, headers=bearer[me]
            ) as r:
                assert r.status == 201
        async with server.http.get(f"{server.url}/api/ghosts", headers=bearer["ada"]) as r:
            ghosts = (await r.json())["ghosts"]
        assert [g["owner_username"] for g in ghosts] == ["sam"]
        ghost_id = ghosts[0]["ghost_id"]
        stored = await server.app[STORE].ghost_data(ghost_id)
        assert stored is not None
        assert decode_ghost(stored[1]).damage_at(1e9) == pytest.approx(recorded, abs=0.01)

        # Eve may not use it; Ada may.
        eve_room = (await eve.sio.call("room:create", {"name": "E", "subject": "x"}))["room_id"]
        assert eve_room
        refused = await eve.sio.call("ghost:add", {"ghost_id": ghost_id})
        assert refused["error"]["code"] == "not_friends"
        await ada.sio.call("room:create", {"name": "Duo", "subject": "chemistry", "plan": PLAN})
        added = await ada.sio.call("ghost:add", {"ghost_id": ghost_id})
        assert added["slot"] == 1
        await wait_for(ada, "room:state")
        await asyncio.sleep(0.1)
        ghost_member = next(m for m in ada.last["room:state"]["members"] if m["is_ghost"])
        assert ghost_member["slot"] == 1

        await ada.sio.call("room:start")
        ghost_frames = 0
        for _ in range(64):
            await ada.send_face(FOCUSED)
            await server.tick(0.5)
            batch = ada.last.pop("frames", None)
            if batch is not None:
                ghost_frames += any(slot == 1 for slot, _ in decode_batch(batch).entries)
        await wait_for(ada, "room:results")
        results = {m["member_id"]: m for m in ada.last["room:results"]["members"]}
        assert results[ghost_member["member_id"]]["damage"] == pytest.approx(recorded, abs=0.5)
        assert results[ghost_member["member_id"]]["xp"] == 0
        assert ghost_frames > 10  # its recorded face was relayed like a member's
    finally:
        for p in (sam, ada, eve):
            await p.sio.disconnect()
