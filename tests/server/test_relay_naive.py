"""Naive relay mode (the benchmark's baseline): every frame goes to every member at once."""

from __future__ import annotations

import asyncio

import pytest

from server.keys import GATEWAY
from server.settings import Settings
from shared.codec import decode_batch, decode_frame
from tests.server.conftest import LiveServer
from tests.server.test_relay import Member, frame, nothing_pending, receive_batch


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        host="127.0.0.1",
        port=0,
        database_url=database_url,
        relay_mode="naive",
        _env_file=None,
    )


async def test_each_frame_is_sent_at_once_and_ticks_send_no_batch(server: LiveServer) -> None:
    """A frame from a relay channel or a Socket.IO ``frame`` reaches every member immediately as
    a one-entry batch, over each member's own transport; the tick adds no batch of its own."""
    host, guest, third = Member(server, "hostess"), Member(server, "guest"), Member(server, "third")
    for m in (host, guest, third):
        await m.connect()
    try:
        created = await host.sio.call("room:create", {"name": "Naive", "subject": "maths"})
        for m in (guest, third):
            await m.sio.call("room:join", {"room_id": created["room_id"]})
        assert server.app[GATEWAY].relay.naive
        for m in (host, guest):
            await m.open_relay()
        assert host.relay is not None and guest.relay is not None
        sent = frame(1)
        await host.relay.send_bytes(sent)
        for ws in (host.relay, guest.relay):
            batch = decode_batch(await receive_batch(ws))
            assert batch.entries == ((0, decode_frame(sent)),)
        for _ in range(50):
            if third.sio_frames:
                break
            await asyncio.sleep(0.02)
        assert len(third.sio_frames) == 1
        assert decode_batch(third.sio_frames[0]).entries == ((0, decode_frame(sent)),)

        await third.sio.emit("frame", frame(1))  # the Socket.IO path relays at once too
        batch = decode_batch(await receive_batch(guest.relay))
        assert [slot for slot, _ in batch.entries] == [2]

        await server.tick(0.1)
        assert await nothing_pending(guest.relay)
        assert host.sio_frames == [] and guest.sio_frames == []
    finally:
        for m in (host, guest, third):
            await m.close()
