"""room:results carries each person's streak in days, the session just finished credited first;
ghosts carry none."""

from __future__ import annotations

from typing import Any

from server.rooms import Room
from tests.server.conftest import LiveServer
from tests.server.test_ghost_replay import wait_for
from tests.server.test_room_support import FOCUSED as FOCUSED_FRAME
from tests.server.test_room_support import PLAN, T0, Ids, alice, drive, new_room
from tests.server.test_session_e2e import FOCUSED, Player

LONG_PLAN = {"focus_s": 70, "break_s": 10, "rounds": 1}
SHORT_PLAN = {"focus_s": 20, "break_s": 10, "rounds": 1}
STEP_S = 0.5


def bearer(server: LiveServer, name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.tokens[name]}"}


async def play(server: LiveServer, players: list[Player], seconds: float) -> None:
    """Everyone looks at the screen, one frame per half second, until the session ends."""
    for _ in range(int(seconds / STEP_S) + 4):
        for p in players:
            await p.send_face(FOCUSED)
        await server.tick(STEP_S)
    for p in players:
        await wait_for(p, "room:results")


def lines(player: Player) -> dict[str, dict[str, Any]]:
    return {
        m["username"] + ("/ghost" if m["is_ghost"] else ""): m
        for m in player.last["room:results"]["members"]
    }


async def test_results_show_each_persons_streak_with_this_session_credited(
    server: LiveServer,
) -> None:
    """Sam (goal 1 min) meets his goal in his first session: streak 1; Ada (default 60-min goal)
    does not: 0. /api/streak agrees, and a late joiner sees the same numbers."""
    sam, ada, eve = Player("sam"), Player("ada"), Player("eve")
    for p in (sam, ada, eve):
        await p.connect(server)
    try:
        async with server.http.put(
            f"{server.url}/api/streak/settings",
            json={"goal_minutes": 1, "timezone": "UTC"},
            headers=bearer(server, "sam"),
        ) as r:
            assert r.status == 200, await r.text()
        room = await sam.sio.call(
            "room:create", {"name": "Pair", "subject": "physics", "plan": LONG_PLAN}
        )
        await ada.sio.call("room:join", {"room_id": room["room_id"]})
        await sam.sio.call("room:start")
        await play(server, [sam, ada], LONG_PLAN["focus_s"])

        results = lines(sam)
        assert results["sam"]["focused_seconds"] >= 60
        assert results["sam"]["streak_days"] == 1
        assert results["ada"]["streak_days"] == 0
        assert lines(ada) == results
        async with server.http.get(f"{server.url}/api/streak", headers=bearer(server, "sam")) as r:
            assert (await r.json())["current"] == 1

        # Eve arrives while the results show: the same lines, streaks included.
        await eve.sio.call("room:join", {"room_id": room["room_id"]})
        await wait_for(eve, "room:results")
        assert lines(eve) == results
    finally:
        for p in (sam, ada, eve):
            await p.sio.disconnect()


async def test_a_ghost_has_no_streak_and_the_person_keeps_theirs(server: LiveServer) -> None:
    """Sam studies next to his own earlier ghost: the ghost's line has streak_days null, Sam's
    still shows his streak (same day, so still 1)."""
    sam = Player("sam")
    await sam.connect(server)
    try:
        async with server.http.put(
            f"{server.url}/api/streak/settings",
            json={"goal_minutes": 1, "timezone": "UTC"},
            headers=bearer(server, "sam"),
        ) as r:
            assert r.status == 200
        await sam.sio.call("room:create", {"name": "One", "subject": "maths", "plan": LONG_PLAN})
        await sam.sio.call("room:start")
        await play(server, [sam], LONG_PLAN["focus_s"])
        assert lines(sam)["sam"]["streak_days"] == 1
        await sam.sio.call("room:leave")
        del sam.last["room:results"]

        async with server.http.get(f"{server.url}/api/ghosts", headers=bearer(server, "sam")) as r:
            (ghost,) = (await r.json())["ghosts"]
        await sam.sio.call("room:create", {"name": "Two", "subject": "maths", "plan": SHORT_PLAN})
        added = await sam.sio.call("ghost:add", {"ghost_id": ghost["ghost_id"]})
        assert "error" not in added, added
        await sam.sio.call("room:start")
        await play(server, [sam], SHORT_PLAN["focus_s"])
        results = lines(sam)
        assert results["sam/ghost"]["streak_days"] is None
        assert results["sam"]["streak_days"] == 1
    finally:
        await sam.sio.disconnect()


def test_streaks_and_the_opening_time_survive_a_restart() -> None:
    """A room showing results comes back from its snapshot with the same streaks (late joiners
    after a restart see them) and the same opening time (the room browser's order)."""
    a = alice()
    room = new_room(a)
    room.start(a.user_id, T0)
    run = drive(
        room, {a.user_id: FOCUSED_FRAME}, {a.user_id: a}, start=T0, until=T0 + PLAN.total_s + 1
    )
    assert run.finished
    results = room.set_streaks({a.user_id: 3})
    assert results is not None and results.members[0].streak_days == 3
    back = Room.restore(room.snapshot(), run.t + 5, lambda _: None, new_id=Ids())
    assert back.results_view() == results
    assert back.created_at == room.created_at == T0
