"""The client end of the server's lean ``/relay`` websocket: face frames up, batches down.

Theory of operation
-------------------
Socket.IO sends a binary event as two websocket messages (a text header, then the bytes);
the server's ``/relay`` channel (``server/relay.py``, ``docs/protocol.md``) carries the same
64-byte frames and batch packets as bare binary messages: 1,050 instead of 1,785 bytes per
second upstream at 15 frames/s. Room control stays on Socket.IO; the room events of each
server tick (``room:state``, ``timer``, ``battle``, ``room:results``) come on the link, asked
for with ``"events": true``, because the server sends them far more cheaply there.

:class:`RelayLink` lives on the network loop of :class:`~game.net.client.NetClient`. It opens
with the login token (``{"token": ..., "events": true}`` as the first text message,
``{"ok": true}`` back), then :meth:`RelayLink.send` writes frames without waiting and a reader
task hands every binary message to ``on_batch`` and every text message, parsed (a room event
as ``["name", payload]``, or an ``error`` event payload), to ``on_text``. When the socket closes for any reason ``on_closed`` runs once; the caller
falls back to Socket.IO frames and opens a new link after its next reconnect. The link adds
no policy of its own: pacing, the seat and reconnects stay with the caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Final

import aiohttp

from shared.protocol import PROTOCOL_VERSION

log = logging.getLogger("convex.net.relay")

RELAY_PATH: Final[str] = "/relay"
"""Where the server serves the channel (``server.relay.RELAY_PATH``)."""

MAX_MESSAGE_BYTES: Final[int] = 64 * 1024
"""Largest message taken from the server (a batch of 16 members is 1,054 bytes)."""


class RelayRefused(Exception):
    """The server did not open the channel (old server, bad token, refused handshake)."""


class RelayLink:
    """One open ``/relay`` channel; build it with :meth:`open`."""

    def __init__(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        on_batch: Callable[[bytes], None],
        on_text: Callable[[object], None],
        on_closed: Callable[[RelayLink], None],
    ) -> None:
        self._ws = ws
        self._on_batch = on_batch
        self._on_text = on_text
        self._on_closed = on_closed
        self._reader = asyncio.get_running_loop().create_task(self._read())
        self.frames_sent = 0
        """Frames written to the socket."""
        self.batches_received = 0
        """Batch packets read from the socket."""

    @classmethod
    async def open(
        cls,
        session: aiohttp.ClientSession,
        base_url: str,
        token: str,
        *,
        timeout_s: float,
        on_batch: Callable[[bytes], None],
        on_text: Callable[[object], None],
        on_closed: Callable[[RelayLink], None],
    ) -> RelayLink:
        """Connect and authenticate; raises :class:`RelayRefused` if the server says no or
        answers in anything but the protocol."""
        url = base_url.rstrip("/") + RELAY_PATH
        try:
            ws = await session.ws_connect(
                url,
                timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=timeout_s),
                max_msg_size=MAX_MESSAGE_BYTES,
                compress=0,
                autoping=True,
            )
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise RelayRefused(f"cannot open {url}: {exc}") from None
        try:
            await ws.send_str(
                json.dumps({"token": token, "protocol_version": PROTOCOL_VERSION, "events": True})
            )
            msg = await ws.receive(timeout=timeout_s)
            reply = json.loads(msg.data) if msg.type is aiohttp.WSMsgType.TEXT else None
            if not (isinstance(reply, dict) and reply.get("ok") is True):
                raise RelayRefused(f"{url} refused the channel: {msg.data!r}")
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
            await ws.close()
            raise RelayRefused(f"{url}: handshake failed: {exc}") from None
        except BaseException:
            await ws.close()
            raise
        return cls(ws, on_batch, on_text, on_closed)

    @property
    def closed(self) -> bool:
        """Whether the socket is closed or closing (frames would be lost)."""
        return self._ws.closed

    async def send(self, frame: bytes) -> bool:
        """Write one encoded frame; False (and nothing raised) if the link is going away."""
        if self._ws.closed:
            return False
        try:
            await self._ws.send_bytes(frame)
        except (ConnectionError, RuntimeError, aiohttp.ClientError):
            return False
        self.frames_sent += 1
        return True

    async def close(self) -> None:
        """Close the socket and wait for the reader to finish (``on_closed`` runs once)."""
        with contextlib.suppress(Exception):
            await self._ws.close()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._reader

    async def _read(self) -> None:
        try:
            async for msg in self._ws:
                if msg.type is aiohttp.WSMsgType.BINARY:
                    self.batches_received += 1
                    self._on_batch(msg.data)
                elif msg.type is aiohttp.WSMsgType.TEXT:
                    try:
                        payload: object = json.loads(msg.data)
                    except ValueError:
                        log.warning("ignored a relay text message that is not JSON")
                        continue
                    self._on_text(payload)
        finally:
            self._on_closed(self)
