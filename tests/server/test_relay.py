"""The /relay channel: auth, frames into the room, batches out per tick, errors that keep it open."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import socketio

from server.keys import GATEWAY, SETTINGS, STORE
from server.relay import CLOSE_REPLACED, CLOSE_UNAUTHORIZED, RELAY_PATH
from shared.codec import Frame, decode_batch, decode_frame, encode_frame
from shared.face import FaceSample
from tests.server.conftest import LiveServer

TIMEOUT_S = 5.0
ROOM_EVENTS = ("room:state", "timer", "battle", "room:results")


def frame(seq: int, yaw: float = 0.0) -> bytes:
    """A valid encoded face frame."""
    return encode_frame(Frame.from_sample(FaceSample(t=0.0, yaw=yaw), seq=seq, t_ms=seq * 66))


class Member:
    """A person with a Socket.IO connection (control) and optionally a relay channel."""

    def __init__(self, server: LiveServer, name: str) -> None:
        self.server = server
        self.name = name
        self.sio = socketio.AsyncClient(reconnection=False)
        self.sio_frames: list[bytes] = []
        self.sio.on("frames", self._keep_frames)
        self.sio_events: list[str] = []
        for name in ROOM_EVENTS:
            self.sio.on(name, self._keeper(name))
        self.relay: aiohttp.ClientWebSocketResponse | None = None
        self.token = ""
        self.user_id = ""
        self.slot = -1

    async def _keep_frames(self, data: bytes) -> None:
        self.sio_frames.append(data)

    def _keeper(self, name: str) -> Any:
        async def keep(data: object = None) -> None:
            self.sio_events.append(name)

        return keep

    async def connect(self) -> None:
        self.token = await self.server.register(self.name)
        found = await self.server.app[STORE].user_credentials(self.name)
        assert found is not None
        self.user_id = str(found[0].id)
        await self.sio.connect(
            self.server.url, auth={"token": self.token}, transports=["websocket"]
        )

    async def open_relay(self, *, events: bool = False) -> aiohttp.ClientWebSocketResponse:
        ws = await self.server.http.ws_connect(f"{self.server.url}{RELAY_PATH}")
        hello: dict[str, object] = {"token": self.token}
        if events:
            hello["events"] = True
        await ws.send_str(json.dumps(hello))
        assert await receive_json(ws) == {"ok": True}
        self.relay = ws
        return ws

    async def close(self) -> None:
        if self.relay is not None:
            await self.relay.close()
        await self.sio.disconnect()


async def receive_json(ws: aiohttp.ClientWebSocketResponse) -> Any:
    msg = await ws.receive(timeout=TIMEOUT_S)
    assert msg.type is aiohttp.WSMsgType.TEXT, msg
    return json.loads(msg.data)


async def receive_batch(ws: aiohttp.ClientWebSocketResponse) -> bytes:
    msg = await ws.receive(timeout=TIMEOUT_S)
    assert msg.type is aiohttp.WSMsgType.BINARY, msg
    data: bytes = msg.data
    return data


async def nothing_pending(
    ws: aiohttp.ClientWebSocketResponse, events: dict[str, Any] | None = None
) -> bool:
    """Whether no message arrives for a moment (the server had nothing more to say). With
    ``events``, a room event that does arrive (``["name", payload]``) is kept there."""
    try:
        msg = await ws.receive(timeout=0.2)
    except TimeoutError:
        return True
    if events is not None:
        assert msg.type is aiohttp.WSMsgType.TEXT, msg
        name, payload = json.loads(msg.data)
        events[name] = payload
    return False


@pytest.fixture
async def pair(server: LiveServer) -> AsyncIterator[tuple[Member, Member]]:
    """Two people seated in one room (not started), each with a relay channel."""
    host, guest = Member(server, "hostess"), Member(server, "guest")
    for m in (host, guest):
        await m.connect()
    created = await host.sio.call("room:create", {"name": "Relay", "subject": "maths"})
    joined = await guest.sio.call("room:join", {"room_id": created["room_id"]})
    host.slot, guest.slot = 0, joined["slot"]
    for m in (host, guest):
        await m.open_relay()
    yield host, guest
    for m in (host, guest):
        await m.close()


@pytest.mark.parametrize(
    "first",
    [
        json.dumps({"token": "v1.not-a-real.token"}),
        json.dumps({"nope": 1}),
        "not json",
    ],
)
async def test_a_channel_without_a_valid_token_is_refused(server: LiveServer, first: str) -> None:
    """A bad, missing or malformed token gets an unauthorized error and the channel closes."""
    ws = await server.http.ws_connect(f"{server.url}{RELAY_PATH}")
    await ws.send_str(first)
    body = await receive_json(ws)
    assert body["error"]["code"] == "unauthorized"
    msg = await ws.receive(timeout=TIMEOUT_S)
    assert msg.type is aiohttp.WSMsgType.CLOSE
    assert ws.close_code == CLOSE_UNAUTHORIZED
    assert server.app[GATEWAY].relay.channels == {}


async def test_a_binary_first_message_is_refused(server: LiveServer) -> None:
    """The handshake must be the auth JSON; a frame first is refused before it reaches a room."""
    ws = await server.http.ws_connect(f"{server.url}{RELAY_PATH}")
    await ws.send_bytes(frame(1))
    assert (await receive_json(ws))["error"]["code"] == "unauthorized"
    await ws.receive(timeout=TIMEOUT_S)
    assert ws.close_code == CLOSE_UNAUTHORIZED


async def test_frames_enter_the_room_and_each_tick_sends_one_batch(
    server: LiveServer, pair: tuple[Member, Member]
) -> None:
    """A frame sent on the channel is accepted by the room and comes back to every member in the
    tick's batch, on the relay channel and not also as a Socket.IO ``frames`` event."""
    host, guest = pair
    assert host.relay is not None and guest.relay is not None
    sent = frame(1, yaw=12.0)
    await host.relay.send_bytes(sent)
    await asyncio.sleep(0.1)  # let the server read it
    room = server.app[GATEWAY].manager.room_for(host.user_id)
    assert room.stats.accepted == 1
    await server.tick(0.1)
    for ws in (host.relay, guest.relay):
        batch = decode_batch(await receive_batch(ws))
        assert batch.entries == ((host.slot, decode_frame(sent)),)
    await server.tick(0.1)  # no new frame: no batch
    assert await nothing_pending(guest.relay)
    assert host.sio_frames == [] and guest.sio_frames == []


async def test_socketio_members_still_get_frames_events(
    server: LiveServer, pair: tuple[Member, Member]
) -> None:
    """In a room where one member has no relay channel, that member gets the same batch as the
    Socket.IO ``frames`` event; the relay members get it once, on the channel."""
    host, guest = pair
    assert host.relay is not None and guest.relay is not None
    third = Member(server, "third")
    await third.connect()
    room_id = server.app[GATEWAY].manager.room_for(host.user_id).room_id
    await third.sio.call("room:join", {"room_id": room_id})
    try:
        await guest.relay.send_bytes(frame(1))
        await asyncio.sleep(0.1)
        await server.tick(0.1)
        on_relay = await receive_batch(host.relay)
        for _ in range(50):
            if third.sio_frames:
                break
            await asyncio.sleep(0.02)
        assert third.sio_frames == [on_relay]
        assert host.sio_frames == [] and guest.sio_frames == []
    finally:
        await third.close()


async def test_room_events_come_on_the_channel_that_asks_for_them(server: LiveServer) -> None:
    """A channel opened with ``"events": true`` gets the tick's room events as ``["event",
    payload]`` text messages after the tick's batch, and its member no longer gets them as
    Socket.IO events; a member whose channel did not ask still gets them on Socket.IO."""
    host, guest = Member(server, "hostess"), Member(server, "guest")
    try:
        for m in (host, guest):
            await m.connect()
        created = await host.sio.call("room:create", {"name": "Relay", "subject": "maths"})
        await guest.sio.call("room:join", {"room_id": created["room_id"]})
        on_relay = await host.open_relay(events=True)
        plain = await guest.open_relay()
        await host.sio.call("room:start")
        await server.tick(0.1)
        first: dict[str, Any] = {}
        while not await nothing_pending(on_relay, first):  # also lets Socket.IO's arrive
            pass
        assert first["room:state"]["phase"] == "focus" and first["timer"]["phase"] == "focus"
        host.sio_events.clear()
        guest.sio_events.clear()

        await on_relay.send_bytes(frame(1))
        await asyncio.sleep(0.1)
        await server.tick(1.0)  # a second of focus: the boss's HP moves
        batch = decode_batch(await receive_batch(on_relay))
        assert [slot for slot, _ in batch.entries] == [0]
        events: dict[str, Any] = {}
        while not await nothing_pending(on_relay, events):
            pass
        assert "battle" in events, events
        battle = events["battle"]
        assert battle["room_id"] == created["room_id"]
        assert battle["boss_hp"] < battle["boss_max_hp"]
        for _ in range(50):
            if "battle" in guest.sio_events:
                break
            await asyncio.sleep(0.02)
        assert "battle" in guest.sio_events  # the same event, on Socket.IO for this member
        assert host.sio_events == []  # ...and never twice for the member who asked
        decode_batch(await receive_batch(plain))  # the plain channel has the batch, no events
        assert await nothing_pending(plain)
        assert server.app[GATEWAY].relay.stats.events_out >= 1
    finally:
        for m in (host, guest):
            await m.close()


async def test_events_must_be_a_boolean(server: LiveServer) -> None:
    """``"events"`` other than true or false refuses the handshake like a bad token."""
    token = await server.register("picky")
    ws = await server.http.ws_connect(f"{server.url}{RELAY_PATH}")
    await ws.send_str(json.dumps({"token": token, "events": "yes"}))
    body = await receive_json(ws)
    assert body["error"]["code"] == "unauthorized" and "events" in body["error"]["message"]
    await ws.receive(timeout=TIMEOUT_S)
    assert ws.close_code == CLOSE_UNAUTHORIZED
    assert server.app[GATEWAY].relay.channels == {}


async def test_bad_frames_get_an_error_and_the_channel_survives(
    server: LiveServer, pair: tuple[Member, Member]
) -> None:
    """Wrong length, oversize, stale seq and text each get their error code on the channel; the
    channel stays open and the next good frame is relayed."""
    host, guest = pair
    ws = host.relay
    assert ws is not None and guest.relay is not None
    await ws.send_bytes(frame(5))
    await ws.send_bytes(b"\x11" * 10)
    assert (await receive_json(ws))["error"]["code"] == "invalid_frame"
    await ws.send_bytes(b"\x11" * 65)
    assert (await receive_json(ws))["error"]["code"] == "payload_too_large"
    await ws.send_bytes(frame(4))
    body = await receive_json(ws)
    assert body == {"error": body["error"], "event": "frame"}
    assert body["error"]["code"] == "out_of_order"
    await ws.send_str("hello")
    assert (await receive_json(ws))["error"]["code"] == "bad_request"
    await ws.send_bytes(frame(6))
    await asyncio.sleep(0.1)
    await server.tick(0.1)
    batch = decode_batch(await receive_batch(guest.relay))
    assert [(slot, f.seq) for slot, f in batch.entries] == [(host.slot, 6)]
    assert not ws.closed


async def test_a_frame_outside_any_room_is_not_member(server: LiveServer) -> None:
    """A person with no seat gets ``not_member`` for a frame and keeps the channel."""
    loner = Member(server, "loner")
    await loner.connect()
    try:
        ws = await loner.open_relay()
        await ws.send_bytes(frame(1))
        assert (await receive_json(ws))["error"]["code"] == "not_member"
        assert not ws.closed
    finally:
        await loner.close()


async def test_a_frame_flood_gets_one_rate_limit_error(
    server: LiveServer, pair: tuple[Member, Member]
) -> None:
    """Past the per-channel frame budget frames are refused with one ``rate_limited`` error, not
    one error per frame."""
    host, _ = pair
    ws = host.relay
    assert ws is not None
    limit = int(server.app[SETTINGS].max_frames_per_s)
    for seq in range(1, limit + 11):
        await ws.send_bytes(frame(seq))
    assert (await receive_json(ws))["error"]["code"] == "rate_limited"
    assert await nothing_pending(ws)
    room = server.app[GATEWAY].manager.room_for(host.user_id)
    assert room.stats.accepted == limit


async def test_a_newer_channel_replaces_the_older(
    server: LiveServer, pair: tuple[Member, Member]
) -> None:
    """The same person opening a second channel closes the first with ``CLOSE_REPLACED``; batches
    go to the new one."""
    host, guest = pair
    old = host.relay
    assert old is not None and guest.relay is not None
    new = await host.open_relay()
    msg = await old.receive(timeout=TIMEOUT_S)
    assert msg.type is aiohttp.WSMsgType.CLOSE and old.close_code == CLOSE_REPLACED
    await guest.relay.send_bytes(frame(1))
    await asyncio.sleep(0.1)
    await server.tick(0.1)
    assert decode_batch(await receive_batch(new)).entries[0][0] == guest.slot
    await old.close()
