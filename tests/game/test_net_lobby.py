"""NetClient's room browser and ghost download against a real server: list_rooms, fetch_ghost."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Final

import pytest

from game.net import BadReplyError, NetClient, NotConnectedError, ServerError
from server.db.store import SessionRecord
from server.keys import STORE
from shared.face import FaceSample
from shared.ghost import GhostRecorder, GhostRecording, encode_ghost
from shared.protocol import ErrorCode, ProtocolError, RoomInfo, RoomList
from shared.timer import Phase
from tests.game.net_server import ServerThread

WAIT_S: Final[float] = 10.0
"""Longest real wait for one answer."""
PASSWORD: Final[str] = "password123"
STARTED_AT: Final[float] = 1_800_000_000.0
SESSION_S: Final[float] = 20.0


@pytest.fixture
def clients(server: ServerThread) -> Iterator[Callable[..., NetClient]]:
    """Makes logged-in clients (connected on request); closes them all afterwards."""
    made: list[NetClient] = []

    def make(name: str, *, connect: bool = False) -> NetClient:
        client = NetClient(server.url)
        made.append(client)
        client.register(name, PASSWORD).result(WAIT_S)
        if connect:
            client.connect().result(WAIT_S)
        return client

    yield make
    for client in made:
        client.close()


def user_id(client: NetClient) -> int:
    assert client.user_id is not None
    return int(client.user_id)


def befriend(server: ServerThread, who: NetClient, username: str) -> None:
    """``who`` adds ``username`` as a friend, straight in the server's store."""
    assert server.app is not None
    store = server.app[STORE]
    server.run(lambda: store.add_friend(user_id(who), username, time.time()))


def recording(owner: str) -> GhostRecording:
    """A 20-second recording whose head turns, so its frames differ."""
    rec = GhostRecorder(
        user_id=owner, user_name=owner, subject="maths", started_at=STARTED_AT, t0=0.0
    )
    for step in range(int(SESSION_S * 10)):
        rec.add_sample(FaceSample(t=step / 10, yaw=(step % 60) - 30.0))
        rec.record_damage(step / 10, step * 1.0)
    return rec.finish(SESSION_S)


def store_ghost(server: ServerThread, owner: NetClient, ghost_id: str, data: bytes) -> None:
    """A finished session with ``data`` as its ghost, stored as the server stores one."""
    assert server.app is not None
    store = server.app[STORE]
    record = SessionRecord(
        id=ghost_id,
        user_id=user_id(owner),
        room_id=None,
        subject="maths",
        started_at=STARTED_AT,
        ended_at=STARTED_AT + SESSION_S,
        focused_seconds=SESSION_S,
        damage=200.0,
        xp=3,
        outcome="victory",
        ghost=data,
        ghost_duration_s=SESSION_S,
    )
    server.run(lambda: store.save_sessions([record]))


def test_list_rooms_shows_open_rooms_and_whether_the_host_is_a_friend(
    server: ServerThread, clients: Callable[..., NetClient]
) -> None:
    """Ada's room appears in Bob's and Eve's browsers; the host is Bob's friend, not Eve's."""
    ada = clients("ada", connect=True)
    bob, eve = clients("bob"), clients("eve")
    befriend(server, bob, "ada")
    created = ada.create_room("Night owls", "Maths", boss="slime").result(WAIT_S)

    listed = bob.list_rooms().result(WAIT_S)
    assert isinstance(listed, RoomList)
    assert listed.rooms == (
        RoomInfo(
            room_id=created.room_id,
            name="Night owls",
            subject="Maths",
            host_id=str(user_id(ada)),
            host_username="ada",
            members=1,
            capacity=8,
            phase=Phase.LOBBY,
            boss_kind="slime",
            host_is_friend=True,
        ),
    )
    (seen_by_eve,) = eve.list_rooms().result(WAIT_S).rooms
    assert seen_by_eve.room_id == created.room_id and not seen_by_eve.host_is_friend

    # Bob joins from the browser's answer: one seat more in the listing.
    bob.connect().result(WAIT_S)
    bob.join_room(seen_by_eve.room_id).result(WAIT_S)
    (after,) = eve.list_rooms().result(WAIT_S).rooms
    assert after.members == 2


def test_fetch_ghost_downloads_a_friends_recording_and_decodes_it(
    server: ServerThread, clients: Callable[..., NetClient]
) -> None:
    """Ada, Sam's mutual friend, lists and fetches Sam's ghost: the same frames, timeline and
    damage as recorded, ready to replay locally."""
    sam, ada = clients("sam"), clients("ada")
    befriend(server, sam, "ada")
    befriend(server, ada, "sam")
    recorded = recording("sam")
    store_ghost(server, sam, "s-1", encode_ghost(recorded))

    (info,) = ada.list_ghosts().result(WAIT_S).ghosts
    ghost = ada.fetch_ghost(info.ghost_id).result(WAIT_S)
    assert isinstance(ghost, GhostRecording)
    assert ghost.frames == recorded.frames
    assert ghost.timeline == recorded.timeline
    assert ghost.damage == recorded.damage
    assert ghost.meta == recorded.meta


def test_fetch_ghost_failures_are_clear_errors(
    server: ServerThread, clients: Callable[..., NetClient]
) -> None:
    """A stranger gets not_friends, an unknown id unknown_ghost, a malformed id is refused
    before sending, and a corrupt recording is a BadReplyError naming the ghost, not a crash."""
    sam, eve = clients("sam"), clients("eve")
    store_ghost(server, sam, "s-1", encode_ghost(recording("sam")))
    store_ghost(server, sam, "s-bad", b"CVXG but not really a ghost at all")

    with pytest.raises(ServerError) as refused:
        eve.fetch_ghost("s-1").result(WAIT_S)
    assert refused.value.code is ErrorCode.NOT_FRIENDS
    assert refused.value.user_message
    with pytest.raises(ServerError) as unknown:
        sam.fetch_ghost("s-404").result(WAIT_S)
    assert unknown.value.code is ErrorCode.UNKNOWN_GHOST
    with pytest.raises(ProtocolError) as malformed:
        sam.fetch_ghost("../etc/passwd")
    assert malformed.value.code is ErrorCode.BAD_REQUEST
    with pytest.raises(BadReplyError, match=r"s-bad.*not a valid ghost"):
        sam.fetch_ghost("s-bad").result(WAIT_S)
    # The client is still fine afterwards.
    assert sam.fetch_ghost("s-1").result(WAIT_S).frames


def test_lobby_calls_need_a_login(server: ServerThread) -> None:
    """Before logging in, list_rooms and fetch_ghost fail with NotConnectedError."""
    with NetClient(server.url) as client:
        with pytest.raises(NotConnectedError):
            client.list_rooms().result(WAIT_S)
        with pytest.raises(NotConnectedError):
            client.fetch_ghost("s-1").result(WAIT_S)
