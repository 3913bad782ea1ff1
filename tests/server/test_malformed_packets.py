"""Socket.IO packets that are not even valid JSON get a `bad_request` error; the connection lives on."""

from __future__ import annotations

import asyncio
import json

import aiohttp

from tests.server.conftest import LiveServer


async def test_malformed_json_packet_is_answered_and_survived(server: LiveServer) -> None:
    """A broken JSON event packet is answered with an `error` event; the next good event works."""
    token = await server.register("mallory")
    url = server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        assert (await ws.receive(timeout=5)).data.startswith("0")  # Engine.IO open
        await ws.send_str("40" + json.dumps({"token": token}))
        assert (await ws.receive(timeout=5)).data.startswith("40")  # Socket.IO connected
        await ws.send_str('421["room:create",{"name": "x", "subj')  # cut off mid-JSON
        await ws.send_str('422["room:create",{"name":"ok","subject":"maths"}]')
        seen: list[str] = []
        while not any(m.startswith("432") for m in seen):
            msg = await ws.receive(timeout=5)
            assert msg.type == aiohttp.WSMsgType.TEXT, msg
            if msg.data == "2":  # Engine.IO ping
                await ws.send_str("3")
                continue
            seen.append(msg.data)
        errors = [json.loads(m[2:]) for m in seen if m.startswith('42["error"')]
        assert errors and errors[0][1]["error"]["code"] == "bad_request"
        ack = json.loads(next(m for m in seen if m.startswith("432"))[3:])
        assert "room_id" in ack[0]
        await asyncio.sleep(0)
