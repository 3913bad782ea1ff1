"""GET /api/rooms: the room browser lists the rooms a user could join now, newest first."""

from __future__ import annotations

from typing import Any

from tests.server.conftest import LiveServer
from tests.server.test_ghost_replay import wait_for
from tests.server.test_session_e2e import Player

PLAN = {"focus_s": 60, "break_s": 10, "rounds": 1}


def bearer(server: LiveServer, name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.tokens[name]}"}


async def rooms(server: LiveServer, viewer: str) -> list[dict[str, Any]]:
    async with server.http.get(f"{server.url}/api/rooms", headers=bearer(server, viewer)) as r:
        assert r.status == 200, await r.text()
        listed: list[dict[str, Any]] = (await r.json())["rooms"]
    return listed


async def befriend(server: LiveServer, me: str, them: str) -> None:
    async with server.http.post(
        f"{server.url}/api/friends", json={"username": them}, headers=bearer(server, me)
    ) as r:
        assert r.status == 201, await r.text()


async def test_a_room_is_listed_with_its_fields_and_whether_its_host_is_a_friend(
    server: LiveServer,
) -> None:
    """Host's room shows its name, subject, host, seats, phase and boss; host_is_friend is true
    for Ada (who added the host) and false for Eve (a stranger)."""
    host, ada, eve = Player("host"), Player("ada"), Player("eve")
    for p in (host, ada, eve):
        await p.connect(server)
    try:
        created = await host.sio.call(
            "room:create",
            {"name": "Night owls", "subject": "physics", "plan": PLAN, "boss": "golem"},
        )
        await befriend(server, "ada", "host")
        async with server.http.get(f"{server.url}/api/friends", headers=bearer(server, "ada")) as r:
            host_id = (await r.json())["friends"][0]["user_id"]
        seen_by_ada = await rooms(server, "ada")
        assert seen_by_ada == [
            {
                "room_id": created["room_id"],
                "name": "Night owls",
                "subject": "physics",
                "host_id": host_id,
                "host_username": "host",
                "members": 1,
                "capacity": 8,
                "phase": "lobby",
                "boss_kind": "golem",
                "host_is_friend": True,
            }
        ]
        seen_by_eve = await rooms(server, "eve")
        assert [r["host_is_friend"] for r in seen_by_eve] == [False]
        assert {k: v for k, v in seen_by_eve[0].items() if k != "host_is_friend"} == {
            k: v for k, v in seen_by_ada[0].items() if k != "host_is_friend"
        }

        # Ada joins: two people seated; the session starts: the room is still open to join.
        await ada.sio.call("room:join", {"room_id": created["room_id"]})
        await host.sio.call("room:start")
        await server.tick(1.0)
        (listed,) = await rooms(server, "eve")
        assert (listed["members"], listed["phase"]) == (2, "focus")
    finally:
        for p in (host, ada, eve):
            await p.sio.disconnect()


async def test_full_and_finished_rooms_are_not_listed_and_the_newest_comes_first(
    server: LiveServer,
) -> None:
    """A room with every seat taken and a room showing its results are left out; the others
    come newest first."""
    old, full, done, new, viewer = (Player(n) for n in ("old", "full", "done", "new", "viewer"))
    players = (old, full, done, new, viewer)
    for p in players:
        await p.connect(server)
    try:
        first = await old.sio.call("room:create", {"name": "Old", "subject": "maths"})
        await server.tick(1.0)
        await full.sio.call("room:create", {"name": "Full", "subject": "maths", "max_members": 1})
        await server.tick(1.0)
        await done.sio.call("room:create", {"name": "Done", "subject": "maths", "plan": PLAN})
        await done.sio.call("room:start")
        await server.tick(1.0)
        await done.sio.call("room:finish")
        await server.tick(1.0)
        await wait_for(done, "room:results")
        last = await new.sio.call("room:create", {"name": "New", "subject": "maths"})
        listed = await rooms(server, "viewer")
        assert [r["name"] for r in listed] == ["New", "Old"]
        assert [r["room_id"] for r in listed] == [last["room_id"], first["room_id"]]
    finally:
        for p in players:
            await p.sio.disconnect()


async def test_listing_rooms_needs_a_token(server: LiveServer) -> None:
    """Without a bearer token the room list is 401 unauthorized."""
    async with server.http.get(f"{server.url}/api/rooms") as r:
        assert r.status == 401
        assert (await r.json())["error"]["code"] == "unauthorized"
    async with server.http.get(
        f"{server.url}/api/rooms", headers={"Authorization": "Bearer not-a-real-token-at-all"}
    ) as r:
        assert r.status == 401
