"""GET /api/ghosts/{ghost_id}: a recording's stored bytes, for the owner and mutual friends only."""

from __future__ import annotations

from typing import Any

from server.db.store import SessionRecord
from server.keys import STORE
from shared.face import FaceSample
from shared.ghost import GhostRecorder, GhostRecording, decode_ghost, encode_ghost
from tests.server.conftest import LiveServer

STARTED_AT = 1_800_000_000.0
SESSION_S = 30.0


async def register(server: LiveServer, name: str) -> tuple[int, dict[str, str]]:
    """A new account's id and its bearer header."""
    async with server.http.post(
        f"{server.url}/api/register", json={"username": name, "password": "password123"}
    ) as r:
        assert r.status == 201, await r.text()
        body = await r.json()
    return int(body["user_id"]), {"Authorization": f"Bearer {body['token']}"}


def recording(owner: str) -> GhostRecording:
    """A 30-second recording whose head turns slowly, so frames differ from one another."""
    rec = GhostRecorder(
        user_id=owner, user_name=owner, subject="chemistry", started_at=STARTED_AT, t0=0.0
    )
    for step in range(int(SESSION_S * 10)):
        t = step / 10
        rec.add_sample(FaceSample(t=t, yaw=(step % 90) - 45.0, pitch=(step % 30) - 15.0))
        rec.record_damage(t, t * 10.0)
    return rec.finish(SESSION_S)


async def store_ghost(server: LiveServer, owner_id: int, ghost_id: str) -> GhostRecording:
    """Store a finished session with its ghost, as the server does when a session ends."""
    ghost = recording(str(owner_id))
    await server.app[STORE].save_sessions(
        [
            SessionRecord(
                id=ghost_id,
                user_id=owner_id,
                room_id=None,
                subject="chemistry",
                started_at=STARTED_AT,
                ended_at=STARTED_AT + SESSION_S,
                focused_seconds=SESSION_S,
                damage=300.0,
                xp=5,
                outcome="victory",
                ghost=encode_ghost(ghost),
                ghost_duration_s=ghost.duration_s,
            )
        ]
    )
    return ghost


async def befriend(server: LiveServer, me: dict[str, str], them: str) -> None:
    async with server.http.post(
        f"{server.url}/api/friends", json={"username": them}, headers=me
    ) as r:
        assert r.status == 201, await r.text()


async def download(
    server: LiveServer, ghost_id: str, headers: dict[str, str]
) -> tuple[int, str, bytes | dict[str, Any]]:
    async with server.http.get(f"{server.url}/api/ghosts/{ghost_id}", headers=headers) as r:
        if r.status == 200:
            return r.status, r.content_type, await r.read()
        return r.status, r.content_type, await r.json()


async def test_a_mutual_friend_downloads_the_recording_and_it_decodes_to_the_recorded_frames(
    server: LiveServer,
) -> None:
    """Ada, Sam's mutual friend, downloads Sam's ghost: the bytes are the stored ones and decode
    to exactly the frames, timeline and damage that were recorded."""
    sam_id, sam = await register(server, "sam")
    _, ada = await register(server, "ada")
    await befriend(server, ada, "sam")
    await befriend(server, sam, "ada")
    recorded = await store_ghost(server, sam_id, "s-1001")

    async with server.http.get(f"{server.url}/api/ghosts", headers=ada) as r:
        listed = [g["ghost_id"] for g in (await r.json())["ghosts"]]
    assert listed == ["s-1001"]
    status, content_type, body = await download(server, "s-1001", ada)
    assert status == 200 and content_type == "application/octet-stream"
    assert isinstance(body, bytes)
    stored = await server.app[STORE].ghost_data("s-1001")
    assert stored is not None and body == stored[1]
    decoded = decode_ghost(body)
    assert len(decoded.frames) > 100
    assert decoded.frames == recorded.frames
    assert decoded.timeline == recorded.timeline
    assert decoded.damage == recorded.damage and decoded.meta == recorded.meta


async def test_the_owner_downloads_their_own_ghost(server: LiveServer) -> None:
    """Your own recordings download without any friendship."""
    sam_id, sam = await register(server, "sam")
    recorded = await store_ghost(server, sam_id, "s-1001")
    status, _, body = await download(server, "s-1001", sam)
    assert status == 200 and isinstance(body, bytes)
    assert decode_ghost(body).frames == recorded.frames


async def test_a_stranger_and_a_one_way_friend_are_refused(server: LiveServer) -> None:
    """Eve (a stranger) and Ada (who added Sam, but Sam not her) get 403 not_friends, the same
    rule as the listing and ghost:add."""
    sam_id, _ = await register(server, "sam")
    _, eve = await register(server, "eve")
    _, ada = await register(server, "ada")
    await befriend(server, ada, "sam")
    await store_ghost(server, sam_id, "s-1001")
    for who in (eve, ada):
        status, _, body = await download(server, "s-1001", who)
        assert status == 403
        assert isinstance(body, dict) and body["error"]["code"] == "not_friends"
        async with server.http.get(f"{server.url}/api/ghosts", headers=who) as r:
            assert (await r.json())["ghosts"] == []


async def test_an_unknown_id_is_404_and_a_malformed_id_is_400(server: LiveServer) -> None:
    """A well-formed id with no recording is unknown_ghost (404); an id that is not an id
    (a leading dash, a space, over 64 characters) is bad_request (400)."""
    _, sam = await register(server, "sam")
    status, content_type, body = await download(server, "s-9999", sam)
    assert status == 404 and content_type == "application/json"
    assert isinstance(body, dict) and body["error"]["code"] == "unknown_ghost"
    for bad in ("-leading-dash", "has%20space", "x" * 65):
        status, _, body = await download(server, bad, sam)
        assert status == 400, bad
        assert isinstance(body, dict) and body["error"]["code"] == "bad_request"
        assert "ghost_id" in body["error"]["message"]


async def test_downloading_needs_a_token(server: LiveServer) -> None:
    """Without a bearer token the download is 401 unauthorized, whatever the id."""
    sam_id, _ = await register(server, "sam")
    await store_ghost(server, sam_id, "s-1001")
    status, _, body = await download(server, "s-1001", {})
    assert status == 401
    assert isinstance(body, dict) and body["error"]["code"] == "unauthorized"
