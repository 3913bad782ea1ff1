"""The official JavaScript Socket.IO client (npm socket.io-client, run by Node) speaks our protocol."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
from pathlib import Path
from typing import Any, Final

import pytest

from shared.codec import Frame, decode_batch, encode_frame
from shared.face import FaceSample
from shared.protocol import ErrorEvent, RoomState, TimerState, parse_event
from tests.server.conftest import LiveServer

JS_DIR: Final = Path(__file__).parent / "js"
CLIENT: Final = JS_DIR / "client.mjs"
INSTALL_COMMAND: Final = "npm ci --prefix tests/server/js"
PASSWORD: Final = "password123"  # what LiveServer.register uses
FOCUS_S: Final = 60
FRAMES_EACH: Final = 4
TICK_EVERY_S: Final = 0.05
"""Real seconds between ticks while Node runs; the hand clock moves the same amount each time."""
NODE_TIMEOUT_S: Final = 20.0
"""The script gives up by itself after 15 s; this only guards against a hung Node."""


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is not installed: this test needs `node` (v18+) on PATH")
    if not (JS_DIR / "node_modules" / "socket.io-client" / "package.json").is_file():
        pytest.fail(f"socket.io-client is not installed; run `{INSTALL_COMMAND}` first")
    return node


def _frames(yaw: float) -> list[str]:
    sample = FaceSample(t=0.0, yaw=yaw)
    return [
        encode_frame(Frame.from_sample(sample, seq=i, t_ms=i * 66)).hex()
        for i in range(1, FRAMES_EACH + 1)
    ]


async def _run_client(server: LiveServer, config: dict[str, Any]) -> dict[str, Any]:
    """Run client.mjs with ``config`` on stdin while ticking the server; its JSON output."""
    proc = await asyncio.create_subprocess_exec(
        _node(),
        str(CLIENT),
        cwd=JS_DIR,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )

    async def ticker() -> None:
        while True:
            await server.tick(TICK_EVERY_S)
            await asyncio.sleep(TICK_EVERY_S)

    ticking = asyncio.create_task(ticker())
    try:
        out, err = await asyncio.wait_for(
            proc.communicate(json.dumps(config).encode()), NODE_TIMEOUT_S
        )
    except TimeoutError:
        proc.kill()
        await proc.wait()
        pytest.fail(f"node {CLIENT.name} did not finish within {NODE_TIMEOUT_S} s")
    finally:
        ticking.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticking
    assert proc.returncode == 0, f"node {CLIENT.name} failed:\n{err.decode()}"
    seen: dict[str, Any] = json.loads(out)
    return seen


async def test_official_js_client_plays_a_room(server: LiveServer) -> None:
    """The npm client logs in, is refused without a token, gets unknown_room for a bad join,
    joins a room and receives room:state, an epoch-ms timer and binary frames batches."""
    await server.register("jshost")
    await server.register("jsguest")
    host_frames, guest_frames = _frames(0.0), _frames(60.0)
    seen = await _run_client(
        server,
        {
            "url": server.url,
            "host": {"username": "jshost", "password": PASSWORD},
            "guest": {"username": "jsguest", "password": PASSWORD},
            "plan": {"focus_s": FOCUS_S, "break_s": 30, "rounds": 1},
            "frames": {"host": host_frames, "guest": guest_frames},
        },
    )

    # Refused handshakes: connect_error's `data` is the ErrorAck.
    for refusal in (seen["no_token"], seen["bad_token"]):
        data = refusal["data"]
        assert isinstance(data, dict), f"connect_error carried no ErrorAck as data: {refusal}"
        assert data["error"]["code"] == "unauthorized", refusal
        assert refusal["message"] == data["error"]["message"]
    assert seen["login"] == {"host": "jshost", "guest": "jsguest"}
    assert seen["transport"] == "websocket"

    # A bad event: error ack and `error` event, both naming the code.
    assert seen["unknown_join_ack"]["error"]["code"] == "unknown_room"
    error = parse_event("error", seen["unknown_join_error"])
    assert isinstance(error, ErrorEvent)
    assert error.error.code == "unknown_room" and error.event == "room:join"

    room_id = seen["create_ack"]["room_id"]
    assert seen["join_ack"]["room_id"] == room_id and seen["join_ack"]["slot"] == 1
    state = parse_event("room:state", seen["join_state"])
    assert isinstance(state, RoomState) and state.room_id == room_id
    by_name = {m.username: m for m in state.members}
    assert by_name["jshost"].slot == 0 and by_name["jsguest"].slot == 1
    assert state.host_id == by_name["jshost"].member_id
    lobby = parse_event("timer", seen["join_timer"])
    assert isinstance(lobby, TimerState) and lobby.phase == "lobby" and lobby.end_time is None

    # The running timer: absolute epoch-ms integers a JavaScript number holds exactly.
    assert seen["start_ack"] == {"ok": True}
    assert seen["focus_timer_types"] == {
        "end_time": "number",
        "server_time": "number",
        "safe_integers": True,
    }
    timer = parse_event("timer", seen["focus_timer"])
    assert isinstance(timer, TimerState) and timer.end_time is not None
    assert abs(timer.server_time - server.clock.now * 1000) < 60_000
    assert 0 < timer.end_time - timer.server_time <= FOCUS_S * 1000
    assert timer.remaining_ms == timer.end_time - timer.server_time

    # Binary batches arrive as Buffers and carry each member's frames verbatim, by slot.
    assert seen["guest_errors"] == [seen["unknown_join_error"]] and not seen["host_errors"]
    for batches in (seen["guest_batches"], seen["host_batches"]):
        assert batches and {b["kind"] for b in batches} == {"Buffer"}
        relayed: dict[int, list[str]] = {0: [], 1: []}
        for b in batches:
            for slot, frame in decode_batch(bytes.fromhex(b["hex"])).entries:
                relayed[slot].append(encode_frame(frame).hex())
        assert relayed[0] and set(relayed[0]) <= set(host_frames)
        assert relayed[1] and set(relayed[1]) <= set(guest_frames)
        assert relayed[0][-1] == host_frames[-1] and relayed[1][-1] == guest_frames[-1]
