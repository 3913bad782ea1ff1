"""The relay's fast path: whole websocket frames split off the byte stream, face frames taken at
once, everything else handed to aiohttp intact, and the real server using it end to end."""

from __future__ import annotations

import asyncio
import json
import struct
from collections.abc import AsyncIterator

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.keys import GATEWAY
from server.relay import RELAY_PATH
from server.relay_wire import FastPathParser, FastPathProtocol, unmask
from tests.server.conftest import LiveServer
from tests.server.test_relay import TIMEOUT_S, Member, frame, receive_json

MASK = b"\x11\x22\x33\x44"


def client_frame(opcode: int, payload: bytes, *, fin: bool = True, rsv: int = 0) -> bytes:
    """A masked client-to-server websocket frame (RFC 6455 section 5.2)."""
    first = (0x80 if fin else 0) | rsv | opcode
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", first, 0x80 | size)
    else:
        header = struct.pack("!BBH", first, 0x80 | 126, size)
    return header + MASK + unmask(payload, MASK)


class Inner:
    """Stands in for aiohttp's parser in the pure tests: records what it is given."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.eof = False

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        self.chunks.append(bytes(data))
        return False, b""

    def feed_eof(self) -> None:
        self.eof = True


def test_unmask_is_its_own_inverse_and_matches_the_rfc_example() -> None:
    """Masking twice gives the payload back; RFC 6455's 'Hello' example unmasks correctly."""
    assert unmask(unmask(b"payload bytes", MASK), MASK) == b"payload bytes"
    masked = bytes.fromhex("7f9f4d5158")
    assert unmask(masked, bytes.fromhex("37fa213d")) == b"Hello"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=30))
def test_binary_frames_arrive_whole_however_the_bytes_are_split(cuts: list[int]) -> None:
    """Three face frames, cut into arbitrary chunks, come out as the three payloads in order;
    nothing reaches aiohttp's parser."""
    payloads = [bytes([i]) * 64 for i in (1, 2, 3)]
    stream = b"".join(client_frame(0x2, p) for p in payloads)
    got: list[bytes] = []
    inner = Inner()
    parser = FastPathParser(inner, got.append)
    pos = 0
    for cut in cuts:
        parser.feed_data(stream[pos : pos + cut])
        pos += cut
    parser.feed_data(stream[pos:])
    assert got == payloads and inner.chunks == [] and not parser.passthrough


def test_text_ping_and_close_frames_go_to_aiohttp_whole_and_in_order() -> None:
    """Control and text frames are passed on byte for byte, each whole; face frames around them
    still take the fast path."""
    ping, text = client_frame(0x9, b"hi"), client_frame(0x1, b'{"x": 1}')
    close = client_frame(0x8, struct.pack("!H", 1000))
    got: list[bytes] = []
    inner = Inner()
    parser = FastPathParser(inner, got.append)
    parser.feed_data(client_frame(0x2, b"a" * 64) + ping + text[:3])
    parser.feed_data(text[3:] + client_frame(0x2, b"b" * 64) + close)
    assert got == [b"a" * 64, b"b" * 64]
    assert inner.chunks == [ping, text, close]


@pytest.mark.parametrize(
    "unusual",
    [
        client_frame(0x2, b"x" * 64, fin=False),  # fragmented
        client_frame(0x2, b"x" * 64, rsv=0x40),  # compressed (RSV1)
        client_frame(0x2, b"x" * 200),  # longer than the 7-bit length
        b"\x82\x40" + b"x" * 64,  # unmasked
    ],
    ids=["fragmented", "compressed", "long", "unmasked"],
)
def test_anything_unusual_hands_the_rest_of_the_stream_to_aiohttp(unusual: bytes) -> None:
    """From an unusual frame on, aiohttp sees every byte (that frame included) and applies its
    own rules; frames before it were already taken."""
    first = client_frame(0x2, b"a" * 64)
    later = client_frame(0x2, b"b" * 64)
    got: list[bytes] = []
    inner = Inner()
    parser = FastPathParser(inner, got.append)
    parser.feed_data(first + unusual)
    parser.feed_data(later)
    assert got == [b"a" * 64]
    assert parser.passthrough and b"".join(inner.chunks) == unusual + later


def test_end_of_stream_reaches_aiohttp() -> None:
    """When the connection ends, aiohttp's reader is told, so the handler's loop ends."""
    inner = Inner()
    parser = FastPathParser(inner, lambda _: None)
    parser.feed_data(client_frame(0x2, b"a" * 64)[:10])
    parser.feed_eof()
    assert inner.eof


@pytest.fixture
async def host(server: LiveServer) -> AsyncIterator[Member]:
    """A person seated in a room with a relay channel open."""
    member = Member(server, "hostess")
    await member.connect()
    await member.sio.call("room:create", {"name": "Relay", "subject": "maths"})
    await member.open_relay()
    yield member
    await member.close()


async def test_the_server_reads_face_frames_on_the_fast_path(
    server: LiveServer, host: Member
) -> None:
    """A real channel gets the fast path; its frames reach the room without aiohttp's reader,
    a ping in between disturbs nothing, and errors still come back as text."""
    assert host.relay is not None
    channel = server.app[GATEWAY].relay.channels[host.user_id]
    assert channel.fast_path and channel.transport is not None
    assert isinstance(channel.transport.get_protocol(), FastPathProtocol)
    for seq in (1, 2, 3):
        await host.relay.send_bytes(frame(seq))
    room = server.app[GATEWAY].manager.room_for(host.user_id)
    for _ in range(50):
        if room.stats.accepted == 3:
            break
        await asyncio.sleep(0.02)
    assert room.stats.accepted == 3
    await host.relay.ping(b"are you there")
    await host.relay.send_bytes(b"\x00" * 10)  # a bad frame: an error comes back as text
    body = await receive_json(host.relay)
    assert body["event"] == "frame" and body["error"]["code"] == "invalid_frame"


async def test_a_fragmented_frame_is_still_understood(server: LiveServer, host: Member) -> None:
    """A client that fragments a frame (legal websocket) is served by aiohttp's reader from then
    on: the frame is assembled and accepted, and later frames are accepted too."""
    reader, writer = await asyncio.open_connection("127.0.0.1", int(server.url.rsplit(":", 1)[1]))
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    writer.write(
        f"GET {RELAY_PATH} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    assert b"101" in await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT_S)
    writer.write(client_frame(0x1, json.dumps({"token": host.token}).encode()))
    assert b'"ok"' in await asyncio.wait_for(reader.read(100), TIMEOUT_S)
    room = server.app[GATEWAY].manager.room_for(host.user_id)
    data = frame(10)
    writer.write(client_frame(0x2, data[:30], fin=False) + client_frame(0x0, data[30:]))
    writer.write(client_frame(0x2, frame(11)))
    await writer.drain()
    for _ in range(50):
        if room.stats.accepted == 2:
            break
        await asyncio.sleep(0.02)
    assert room.stats.accepted == 2
    writer.close()


async def test_close_handshake_still_works(server: LiveServer, host: Member) -> None:
    """A client's close frame is answered (aiohttp's close handshake) and the channel is gone."""
    assert host.relay is not None
    await host.relay.close()
    assert host.relay.close_code == aiohttp.WSCloseCode.OK
    for _ in range(50):
        if host.user_id not in server.app[GATEWAY].relay.channels:
            break
        await asyncio.sleep(0.02)
    assert host.user_id not in server.app[GATEWAY].relay.channels
