"""Friends, streak settings, streaks, the cognitive-load report and ghost listings over real HTTP."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from server.db.store import ConfusionRow, SessionRecord
from server.keys import STORE
from tests.server.conftest import LiveServer


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def user_id(server: LiveServer, username: str) -> int:
    found = await server.app[STORE].user_credentials(username)
    assert found is not None
    return found[0].id


def session(
    sid: str, uid: int, start: float, minutes: float, subject: str = "maths", **kw: object
) -> SessionRecord:
    return SessionRecord(
        id=sid,
        user_id=uid,
        room_id=None,
        subject=subject,
        started_at=start,
        ended_at=start + minutes * 60,
        focused_seconds=minutes * 60,
        damage=minutes * 600,
        xp=int(minutes),
        outcome="victory",
        **kw,  # type: ignore[arg-type]
    )


async def test_api_needs_a_valid_bearer_token(server: LiveServer) -> None:
    """No token, a junk token and an expired token are all 401 unauthorized."""
    token = await server.register("sam")
    for headers in ({}, bearer("v1.junk.junk"), {"Authorization": "Basic abc"}):
        async with server.http.get(f"{server.url}/api/friends", headers=headers) as r:
            assert r.status == 401 and (await r.json())["error"]["code"] == "unauthorized"
    server.clock.jump(8 * 24 * 3600)
    async with server.http.get(f"{server.url}/api/friends", headers=bearer(token)) as r:
        assert r.status == 401 and "expired" in (await r.json())["error"]["message"]


async def test_friendship_becomes_mutual_when_both_add(server: LiveServer) -> None:
    """Adding is one-way until the other adds back; self, unknown and repeated adds are refused."""
    sam, ada = await server.register("sam"), await server.register("ada")
    url = f"{server.url}/api/friends"
    async with server.http.post(url, json={"username": "ada"}, headers=bearer(sam)) as r:
        assert r.status == 201 and (await r.json())["mutual"] is False
    async with server.http.post(url, json={"username": "sam"}, headers=bearer(ada)) as r:
        assert r.status == 201 and (await r.json())["mutual"] is True
    async with server.http.get(url, headers=bearer(sam)) as r:
        assert [(f["username"], f["mutual"]) for f in (await r.json())["friends"]] == [
            ("ada", True)
        ]
    for name, code in (("ada", "conflict"), ("sam", "conflict"), ("ghost_user", "unknown_user")):
        async with server.http.post(url, json={"username": name}, headers=bearer(sam)) as r:
            assert (await r.json())["error"]["code"] == code


async def test_streak_counts_goal_days_in_the_users_time_zone(server: LiveServer) -> None:
    """Sessions credit local days in the user's zone; consecutive goal days make the streak."""
    tz = ZoneInfo("America/New_York")
    server.clock.now = datetime(2027, 3, 15, 9, 0, tzinfo=tz).timestamp()
    token = await server.register("leo")
    uid = await user_id(server, "leo")
    async with server.http.get(f"{server.url}/api/streak/settings", headers=bearer(token)) as r:
        assert (await r.json()) == {"goal_minutes": 60, "timezone": "UTC", "rest_days": []}
    goal = {"goal_minutes": 30, "timezone": "America/New_York", "rest_days": ["2027-03-13"]}
    async with server.http.put(
        f"{server.url}/api/streak/settings", json=goal, headers=bearer(token)
    ) as r:
        assert r.status == 200 and await r.json() == goal
    # 40 min on the 11th, 12th (local evening: already the next day in UTC), rest on the
    # 13th, 35 min on the 14th (the DST change day), and 10 min so far today, the 15th.
    days = [
        (datetime(2027, 3, 11, 9, 0, tzinfo=tz), 40),
        (datetime(2027, 3, 12, 22, 0, tzinfo=tz), 40),
        (datetime(2027, 3, 14, 12, 0, tzinfo=tz), 35),
        (datetime(2027, 3, 15, 8, 0, tzinfo=tz), 10),
    ]
    await server.app[STORE].save_sessions(
        [session(f"s{i}", uid, when.timestamp(), minutes) for i, (when, minutes) in enumerate(days)]
    )
    async with server.http.get(f"{server.url}/api/streak", headers=bearer(token)) as r:
        report = await r.json()
    assert report["today"] == "2027-03-15"
    assert (report["current"], report["longest"]) == (3, 3)
    assert report["today_minutes"] == 10 and report["goal_met_today"] is False


async def test_cognitive_load_ranks_the_hardest_subject_first(server: LiveServer) -> None:
    """Confusion moments per focused hour order the subjects."""
    token = await server.register("mika")
    uid = await user_id(server, "mika")
    two = (ConfusionRow(10.0, 15.0), ConfusionRow(100.0, 110.0))
    await server.app[STORE].save_sessions(
        [
            session("a", uid, 1000.0, 60, "history"),
            session("b", uid, 9000.0, 30, "physics", confusion=two),
        ]
    )
    async with server.http.get(
        f"{server.url}/api/reports/cognitive-load", headers=bearer(token)
    ) as r:
        subjects = (await r.json())["subjects"]
    assert [(s["subject"], s["confusion_moments"], s["confusion_per_hour"]) for s in subjects] == [
        ("physics", 2, 4.0),
        ("history", 0, 0.0),
    ]


async def test_ghost_list_shows_own_and_mutual_friends_only(server: LiveServer) -> None:
    """You see your ghosts and mutual friends' ghosts, never a stranger's or a one-way friend's."""
    tokens = {n: await server.register(n) for n in ("sam", "ada", "eve")}
    ids = {n: await user_id(server, n) for n in tokens}
    await server.app[STORE].save_sessions(
        [
            session(f"g-{n}", ids[n], 1000.0 + i, 25, ghost=b"ghost", ghost_duration_s=1500.0)
            for i, n in enumerate(tokens)
        ]
    )
    url = f"{server.url}/api/friends"
    await server.http.post(url, json={"username": "ada"}, headers=bearer(tokens["sam"]))
    await server.http.post(url, json={"username": "sam"}, headers=bearer(tokens["ada"]))
    await server.http.post(url, json={"username": "eve"}, headers=bearer(tokens["sam"]))
    async with server.http.get(f"{server.url}/api/ghosts", headers=bearer(tokens["sam"])) as r:
        ghosts = (await r.json())["ghosts"]
    assert [g["owner_username"] for g in ghosts] == ["ada", "sam"]
    assert ghosts[0]["duration_s"] == 1500.0 and ghosts[0]["ghost_id"] == "g-ada"
