"""The bad-input matrix over real sockets: each bad event gets its documented error and changes nothing."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from typing import Any

import pytest
import socketio

from server.keys import GATEWAY
from shared.codec import Frame, encode_frame
from shared.face import FaceSample
from tests.server.conftest import LiveServer


class Client:
    """A python-socketio client that records `error` events."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.errors: list[dict[str, Any]] = []
        self.sio.on("error", self.errors.append)

    async def connect(self, server: LiveServer, name: str) -> None:
        token = await server.register(name)
        await self.sio.connect(server.url, auth={"token": token}, transports=["websocket"])


@pytest.fixture
async def room(server: LiveServer) -> AsyncIterator[tuple[str, Client, Client, Client]]:
    """A room with a host and a member, plus an outsider; all connected."""
    host, member, outsider = Client(), Client(), Client()
    await host.connect(server, "host")
    await member.connect(server, "member")
    await outsider.connect(server, "outsider")
    created = await host.sio.call("room:create", {"name": "Maths", "subject": "algebra"})
    await member.sio.call("room:join", {"room_id": created["room_id"]})
    yield created["room_id"], host, member, outsider
    for c in (host, member, outsider):
        await c.sio.disconnect()


def room_state(server: LiveServer, room_id: str) -> Any:
    return server.app[GATEWAY].manager.get(room_id).snapshot()


async def test_connections_without_a_valid_token_are_refused(server: LiveServer) -> None:
    """No token, a malformed one and a forged one are refused with `unauthorized`."""
    for auth in (None, {}, {"token": "short"}, {"token": "v1." + "a" * 40 + ".b"}, "token"):
        client = socketio.AsyncClient(reconnection=False)
        reasons: list[Any] = []
        client.on("connect_error", reasons.append)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await client.connect(server.url, auth=auth, transports=["websocket"])
        assert reasons[0]["data"]["error"]["code"] == "unauthorized", (auth, reasons)
        assert reasons[0]["message"] == reasons[0]["data"]["error"]["message"]
        await client.disconnect()


def frame(seq: int, **pose: float) -> bytes:
    return encode_frame(Frame.from_sample(FaceSample(t=0.0, **pose), seq=seq, t_ms=seq))


CASES: list[tuple[str, str, Any, str]] = [
    # (who, event, payload, expected code)
    ("outsider", "room:start", None, "not_member"),
    ("outsider", "frame", frame(1), "not_member"),
    ("member", "room:start", None, "forbidden"),
    ("member", "room:pause", None, "forbidden"),
    ("member", "ghost:add", {"ghost_id": "g1"}, "forbidden"),
    ("outsider", "room:join", {"room_id": "NOSUCHROOM"}, "unknown_room"),
    ("member", "room:create", "not an object", "bad_request"),
    ("member", "room:create", ["name", "subject"], "bad_request"),
    ("member", "room:create", {"name": "x", "subject": "y", "owner": "me"}, "bad_request"),
    ("member", "room:create", {"name": "", "subject": "y"}, "bad_request"),
    (
        "member",
        "room:create",
        {"name": "x", "subject": "y", "plan": {"focus_s": math.nan, "break_s": 60, "rounds": 1}},
        "bad_request",
    ),
    (
        "member",
        "room:create",
        {"name": "x", "subject": "y", "plan": {"focus_s": -5, "break_s": 60, "rounds": 1}},
        "bad_request",
    ),
    ("member", "room:create", {"name": "x" * 1_000_000, "subject": "y"}, "payload_too_large"),
    ("member", "frame", b"\x11" * 63, "invalid_frame"),
    ("member", "frame", b"\x11" * 65, "payload_too_large"),
    ("member", "frame", b"\x21" + bytes(63), "invalid_frame"),
    ("member", "frame", "not bytes", "bad_request"),
    ("member", "room:resume", None, "forbidden"),
    ("host", "room:resume", None, "illegal_state"),
    ("host", "room:fly", {}, "bad_request"),
    ("host", "timer", {}, "bad_request"),
]


@pytest.mark.parametrize(
    ("who", "event", "payload", "code"),
    CASES,
    ids=[f"{c[1]}-{c[3]}-{i}" for i, c in enumerate(CASES)],
)
async def test_bad_events_get_their_error_and_change_nothing(
    server: LiveServer,
    room: tuple[str, Client, Client, Client],
    who: str,
    event: str,
    payload: Any,
    code: str,
) -> None:
    """The sender gets the documented code as the ack and as an `error` event; the room is unchanged."""
    room_id, host, member, outsider = room
    client = {"host": host, "member": member, "outsider": outsider}[who]
    before = room_state(server, room_id)
    ack = await client.sio.call(event, payload, timeout=10)
    assert ack["error"]["code"] == code, ack
    assert ack["error"]["message"]
    await asyncio.sleep(0.05)
    assert client.errors and client.errors[-1]["error"]["code"] == code
    assert room_state(server, room_id) == before
    # The connection survives: a good request still works.
    assert client.sio.connected


async def test_out_of_order_frames_are_refused(
    server: LiveServer, room: tuple[str, Client, Client, Client]
) -> None:
    """A frame whose seq is not newer than the last accepted one is `out_of_order` and dropped."""
    room_id, host, member, _ = room
    assert await host.sio.call("room:start") == {"ok": True}
    assert await member.sio.call("frame", frame(10)) is None
    before = room_state(server, room_id)
    ack = await member.sio.call("frame", frame(9, yaw=60.0))
    assert ack["error"]["code"] == "out_of_order"
    assert room_state(server, room_id) == before


async def test_a_frame_flood_is_rate_limited_without_an_error_flood(
    server: LiveServer, room: tuple[str, Client, Client, Client]
) -> None:
    """Far more frames than the limit in one instant: the excess is refused as `rate_limited`,
    the sender gets at most one error event for it, and the connection stays open."""
    _, host, member, _ = room
    await host.sio.call("room:start")
    acks = [await member.sio.call("frame", frame(seq)) for seq in range(1, 101)]
    refused = [a for a in acks if a and a["error"]["code"] == "rate_limited"]
    assert 50 <= len(refused) < 100
    await asyncio.sleep(0.05)
    assert sum(e["error"]["code"] == "rate_limited" for e in member.errors) == 1
    assert member.sio.connected
