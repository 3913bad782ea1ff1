"""NetClient against a real server on loopback: rooms, relayed faces, the shared timer, errors,
reconnecting after a server restart, results and ghosts, and a clean close."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from typing import Final, TypeVar

import pytest

from game.net import (
    ClientClosedError,
    ConnectionStatus,
    NetClient,
    NotConnectedError,
    RoomSnapshot,
    ServerError,
)
from game.net.errors import KICKED, LOST_CONNECTION, RECONNECTED, USER_MESSAGES
from server.keys import GATEWAY
from server.relay import RelayStats
from shared.blendshapes import COUNT, dequantize, index_of, quantize
from shared.face import NEUTRAL_WEIGHTS, FaceSample
from shared.protocol import ErrorCode, Plan
from tests.game.net_server import ServerThread

T = TypeVar("T")

WAIT_S: Final[float] = 10.0
"""Longest real wait for anything to arrive over the sockets."""
PASSWORD: Final[str] = "password123"
JAW: Final[int] = index_of("jawOpen")


@pytest.fixture
def clients(server: ServerThread) -> Iterator[Callable[..., NetClient]]:
    """Makes logged-in, connected clients; closes them all afterwards."""
    made: list[NetClient] = []

    def make(name: str, clock: Callable[[], float] = time.monotonic) -> NetClient:
        client = NetClient(server.url, clock=clock)
        made.append(client)
        client.register(name, PASSWORD).result(WAIT_S)
        client.connect().result(WAIT_S)
        return client

    yield make
    for client in made:
        client.close()


def wait_for(what: str, get: Callable[[], T | None], timeout: float = WAIT_S) -> T:
    """Poll ``get`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = get()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.01)


def face(jaw: float = 0.0, yaw: float = 0.0, t: float = 0.0) -> FaceSample:
    shapes = list(NEUTRAL_WEIGHTS)
    shapes[JAW] = jaw
    return FaceSample(t=t, blendshapes=tuple(shapes), yaw=yaw)


def members(snap: RoomSnapshot) -> int:
    return len(snap.members)


def seated(client: NetClient, count: int) -> Callable[[], RoomSnapshot | None]:
    """A probe for :func:`wait_for`: the client's snapshot once ``count`` members are seated."""

    def probe() -> RoomSnapshot | None:
        snap = client.snapshot()
        return snap if members(snap) == count else None

    return probe


def in_phase(client: NetClient, phase: str) -> Callable[[], bool]:
    """A probe for :func:`wait_for`: the client's timer has reached ``phase``."""

    def probe() -> bool:
        timer = client.snapshot().timer
        return timer is not None and timer.phase == phase

    return probe


def status_is(client: NetClient, status: ConnectionStatus) -> Callable[[], bool]:
    """A probe for :func:`wait_for`: the client's connection status is ``status``."""
    return lambda: client.snapshot().status is status


def toasted(client: NetClient, text: str) -> Callable[[], bool]:
    """A probe for :func:`wait_for`: a toast with ``text`` has been shown."""
    return lambda: any(t.text == text for t in client.snapshot().toasts)


def test_login_create_and_join_between_two_clients(clients: Callable[..., NetClient]) -> None:
    """A creates a room, B joins it by id; both snapshots show the two seats, B in slot 1."""
    ada, sam = clients("ada"), clients("sam")
    assert ada.snapshot().status is ConnectionStatus.ONLINE
    room_id = ada.create_room("Night owls", "physics").result(WAIT_S).room_id
    joined = sam.join_room(room_id).result(WAIT_S)
    assert (joined.room_id, joined.slot, joined.member_id) == (room_id, 1, sam.user_id)
    for client in (ada, sam):
        snap = wait_for("two members", seated(client, 2))
        assert snap.room is not None and snap.room.room_id == room_id
        assert snap.room.host_id == ada.user_id
        assert {m.username for m in snap.members} == {"ada", "sam"}
    assert ada.snapshot().slot == 0 and sam.snapshot().slot == 1
    assert wait_for("a lobby timer", lambda: sam.snapshot().timer).phase == "lobby"


def test_frames_from_a_arrive_interpolated_in_bs_snapshot(
    clients: Callable[..., NetClient],
) -> None:
    """A's paced frames (a jaw ramp) show up in B's snapshot for A's slot, in order, with values
    between the quantised frames that were sent (interpolated, not just held)."""
    ada, sam = clients("ada"), clients("sam")
    room_id = ada.create_room("Relay", "maths").result(WAIT_S).room_id
    sam.join_room(room_id).result(WAIT_S)
    wait_for("both seated", lambda: members(sam.snapshot()) == 2)
    sent_values: set[float] = set()
    seen: list[float] = []
    accepted = 0
    start = time.monotonic()
    for _ in range(120):  # about 2 s
        # A 60 Hz tracker: the pacer lets about a quarter through.
        jaw = min(1.0, 0.1 + 0.35 * (time.monotonic() - start))
        if ada.send_face(face(jaw=jaw, yaw=20.0, t=time.monotonic())):
            accepted += 1
            sent_values.add(dequantize(quantize(jaw)))
        remote = sam.snapshot().faces.get(0)
        if remote is not None:
            seen.append(remote.blendshapes[JAW])
            assert remote.yaw == pytest.approx(20.0, abs=0.2)
        time.sleep(1 / 60)
    elapsed = time.monotonic() - start
    assert 5 <= accepted <= elapsed * 15 + 2  # the pacer's bound, however slow the loop ran
    assert len(seen) > 40
    # A ramp stays a ramp; the slack allows for the clock estimate stepping back a few ms when
    # its fastest sample leaves the window.
    assert all(b >= a - 0.02 for a, b in itertools.pairwise(seen))
    between = [v for v in seen if all(abs(v - s) > 1e-6 for s in sent_values)]
    assert len(between) > 10
    assert min(sent_values) - 1e-9 <= min(seen) and max(seen) <= max(sent_values) + 1e-9


def relay_stats(server: ServerThread) -> RelayStats:
    """The server's counters for its ``/relay`` channels."""
    assert server.app is not None
    return server.app[GATEWAY].relay.stats


def test_faces_travel_on_the_relay_channel(
    server: ServerThread, clients: Callable[..., NetClient]
) -> None:
    """Both clients move their face frames to the lean /relay websocket after connecting: A's
    frames enter the server there, and B's batches leave it there (no Socket.IO frames); the
    room's tick events (the boss's HP here) reach them there as well."""
    ada, sam = clients("ada"), clients("sam")
    assert ada.frame_transport == sam.frame_transport == "relay"
    room_id = ada.create_room("Lean", "maths").result(WAIT_S).room_id
    sam.join_room(room_id).result(WAIT_S)
    ada.start().result(WAIT_S)

    def jaw_at_b() -> bool:
        ada.send_face(face(jaw=0.6, t=time.monotonic()))
        remote = sam.snapshot().faces.get(0)
        return remote is not None and remote.blendshapes[JAW] > 0.5

    wait_for("A's face at B", jaw_at_b)
    stats = relay_stats(server)
    assert stats.opened == 2 and stats.frames_in >= 1 and stats.batches_out >= 1
    assert ada.frames_sent >= stats.frames_in  # every accepted frame came over the relay

    def boss_hurt_at_b() -> bool:
        ada.send_face(face(jaw=0.6, t=time.monotonic()))
        battle = sam.snapshot().battle
        return battle is not None and battle.boss_hp < battle.boss_max_hp

    # The room's events ride the relay too: B's battle updates came as relay text messages.
    wait_for("the boss's HP falling at B", boss_hurt_at_b)
    assert relay_stats(server).events_out >= 2


def test_socketio_carries_faces_when_the_relay_is_off(
    server: ServerThread, clients: Callable[..., NetClient]
) -> None:
    """With the relay turned off (or unavailable) the frame and frames events still work."""
    ada = NetClient(server.url, relay=False)
    try:
        ada.register("ada", PASSWORD).result(WAIT_S)
        ada.connect().result(WAIT_S)
        assert ada.frame_transport == "socketio"
        sam = clients("sam")
        room_id = ada.create_room("Classic", "maths").result(WAIT_S).room_id
        sam.join_room(room_id).result(WAIT_S)

        def jaw_at_b() -> bool:
            ada.send_face(face(jaw=0.6, t=time.monotonic()))
            remote = sam.snapshot().faces.get(0)
            return remote is not None and remote.blendshapes[JAW] > 0.5

        wait_for("A's face at B", jaw_at_b)
        assert relay_stats(server).frames_in == 0  # A's frames came as Socket.IO events
    finally:
        ada.close()


def test_two_clients_agree_on_the_remaining_time(clients: Callable[..., NetClient]) -> None:
    """Two clients, one with a local clock 1000 s off, compute the same time left (within
    50 ms) at the same instant, and it is the plan's focus block minus the time since start."""
    skewed = clients("ada", clock=lambda: time.monotonic() + 1000.0)
    plain = clients("sam")
    plan = Plan(focus_s=60, break_s=60, rounds=1)
    room_id = skewed.create_room("Clock", "history", plan=plan).result(WAIT_S).room_id
    plain.join_room(room_id).result(WAIT_S)
    skewed.start().result(WAIT_S)
    for client in (skewed, plain):
        wait_for("the focus timer", in_phase(client, "focus"))
    time.sleep(0.5)  # some batches too, so both estimates have several samples
    for _ in range(5):
        now = time.monotonic()
        a, b = skewed.remaining_s(now + 1000.0), plain.remaining_s(now)
        assert a is not None and b is not None
        assert abs(a - b) < 0.05
        assert 55.0 < a < 60.0
        snap = plain.snapshot(now)
        assert snap.remaining_s == pytest.approx(b, abs=1e-9)
        time.sleep(0.1)


def test_server_errors_surface_with_their_code(clients: Callable[..., NetClient]) -> None:
    """An unknown room and a non-host start raise ServerError with the code; the error event
    becomes a toast with a short sentence for the player."""
    ada, sam = clients("ada"), clients("sam")
    with pytest.raises(ServerError) as unknown:
        sam.join_room("NOSUCHROOM").result(WAIT_S)
    assert unknown.value.code is ErrorCode.UNKNOWN_ROOM
    room_id = ada.create_room("Errors", "chemistry").result(WAIT_S).room_id
    sam.join_room(room_id).result(WAIT_S)
    with pytest.raises(ServerError) as refused:
        sam.start().result(WAIT_S)
    assert refused.value.code is ErrorCode.FORBIDDEN
    assert refused.value.user_message == USER_MESSAGES[ErrorCode.FORBIDDEN]
    toast = wait_for(
        "the forbidden toast",
        lambda: next((t for t in sam.snapshot().toasts if t.code is ErrorCode.FORBIDDEN), None),
    )
    assert toast.event == "room:start" and toast.text == "Only the host can do that."
    assert in_phase(ada, "lobby")()


def test_client_resumes_its_seat_after_a_server_restart(
    server: ServerThread, clients: Callable[..., NetClient]
) -> None:
    """The server stops mid-session: both clients show 'reconnecting' (requests fail at once),
    and when a new server starts on the same port and database they come back online by
    themselves, in the same slots, and A's frames reach B again."""
    ada, sam = clients("ada"), clients("sam")
    room_id = ada.create_room("Restart", "biology").result(WAIT_S).room_id
    sam.join_room(room_id).result(WAIT_S)
    ada.start().result(WAIT_S)
    wait_for("A's face at B", lambda: ada.send_face(face()) and 0 in sam.snapshot().faces)
    server.stop()
    for client in (ada, sam):
        wait_for("reconnecting", status_is(client, ConnectionStatus.RECONNECTING))
        assert toasted(client, LOST_CONNECTION)()
    with pytest.raises(NotConnectedError):
        ada.pause().result(WAIT_S)
    time.sleep(1.0)  # at least one attempt fails while the server is down
    server.start()
    for client in (ada, sam):
        wait_for("the seat taken back", toasted(client, RECONNECTED))
        wait_for("online", status_is(client, ConnectionStatus.ONLINE))
    snap = sam.snapshot()
    assert snap.slot == 1 and snap.room is not None and snap.room.room_id == room_id
    assert ada.snapshot().slot == 0
    wait_for("both connected", lambda: all(m.connected for m in sam.snapshot().members))
    assert in_phase(sam, "focus")()

    def fresh_face() -> bool:
        ada.send_face(face(jaw=0.8))
        remote = sam.snapshot().faces.get(0)
        return remote is not None and remote.blendshapes[JAW] > 0.7

    wait_for("A's new frames at B", fresh_face)
    assert ada.frame_transport == sam.frame_transport == "relay"  # reopened with the socket


def test_results_and_a_ghost_in_the_next_room(clients: Callable[..., NetClient]) -> None:
    """The host finishes a session: results arrive in the snapshot, the recording is listed
    as a ghost, and the ghost takes a seat in the next room."""
    ada = clients("ada")
    ada.create_room("Solo", "art", plan=Plan(focus_s=60, break_s=60, rounds=1)).result(WAIT_S)
    ada.start().result(WAIT_S)
    end = time.monotonic() + 1.5
    while time.monotonic() < end:
        ada.send_face(face(t=time.monotonic()))
        time.sleep(1 / 30)
    ada.finish().result(WAIT_S)
    results = wait_for("results", lambda: ada.snapshot().results)
    assert [m.member_id for m in results.members] == [ada.user_id]
    ghosts = wait_for("a ghost", lambda: ada.list_ghosts().result(WAIT_S).ghosts)
    assert ghosts[0].subject == "art"
    ada.leave().result(WAIT_S)
    assert ada.snapshot().room is None and ada.snapshot().results is None
    ada.create_room("With ghost", "art").result(WAIT_S)
    added = ada.add_ghost(ghosts[0].ghost_id).result(WAIT_S)
    assert added.slot == 1
    snap = wait_for("the ghost seated", seated(ada, 2))
    ghost = snap.member(1)
    assert ghost is not None and ghost.is_ghost


def test_close_joins_the_thread_and_is_idempotent(server: ServerThread) -> None:
    """close() disconnects and joins the network thread; a second close is a no-op; requests
    afterwards fail with ClientClosedError and faces are not sent."""
    client = NetClient(server.url)
    client.register("ada", PASSWORD).result(WAIT_S)
    client.connect().result(WAIT_S)
    client.create_room("Bye", "music").result(WAIT_S)
    assert client.thread.is_alive()
    client.close()
    assert not client.thread.is_alive()
    client.close()
    assert client.snapshot().status is ConnectionStatus.OFFLINE
    with pytest.raises(ClientClosedError):
        client.start().result(WAIT_S)
    assert client.send_face(FaceSample(t=0.0, blendshapes=(0.0,) * COUNT)) is False


def test_signing_in_elsewhere_is_not_fought_over(server: ServerThread) -> None:
    """A second connection of the same account closes the first (server side); the first goes
    offline with a toast instead of reconnecting and closing the second in turn, until the
    game asks it to connect again."""
    first, second = NetClient(server.url), NetClient(server.url)
    try:
        first.register("ada", PASSWORD).result(WAIT_S)
        first.connect().result(WAIT_S)
        second.login("ada", PASSWORD).result(WAIT_S)
        second.connect().result(WAIT_S)
        wait_for("the first offline", status_is(first, ConnectionStatus.OFFLINE))
        assert toasted(first, KICKED)()
        time.sleep(1.0)  # past the first reconnect delay: nothing comes back
        assert first.snapshot().status is ConnectionStatus.OFFLINE
        assert second.snapshot().status is ConnectionStatus.ONLINE
        room_id = second.create_room("Mine", "art").result(WAIT_S).room_id
        second.close()
        first.connect().result(WAIT_S)  # asked to, the first takes the account back
        assert first.snapshot().status is ConnectionStatus.ONLINE
        assert first.snapshot().room is None
        assert first.join_room(room_id).result(WAIT_S).slot == 0
    finally:
        first.close()
        second.close()
