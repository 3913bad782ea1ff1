"""The lean relay channel: a plain binary websocket beside Socket.IO for face frames and batches.

Theory of operation
-------------------
Socket.IO costs several Python layers and two websocket messages per binary event (a text
header with a placeholder, then the bytes). At 15 frames/s per member that per-message cost,
not bandwidth, limits a server process. This channel carries only the relay, as bare
websocket binary messages, and leaves every control event (rooms, timer, battle, errors of
other events) on Socket.IO. It adds no relay logic of its own: upstream frames go through the
same :meth:`~server.rooms.room.Room.accept_frame` as the Socket.IO ``frame`` event, and
downstream batches are the same bytes the room tick builds for the ``frames`` event.

*Handshake.* ``GET /relay`` upgrades to a websocket. The first message must be a text
message holding the Socket.IO auth object as JSON, ``{"token": "..."}`` (optionally
``"protocol_version"``), within :data:`AUTH_TIMEOUT_S`. The server answers ``{"ok": true}``
or an error message and closes (:data:`CLOSE_UNAUTHORIZED`). One relay channel per person:
a newer one closes the older with :data:`CLOSE_REPLACED`.

*Upstream.* Each binary message is one 64-byte frame (``shared.codec``). The frame is
rate-limited per channel like the Socket.IO ``frame`` event; a refused frame is answered
with a text message holding the ``error`` event payload (``{"error": {...}, "event":
"frame"}``) and the channel stays open. A text message after the handshake is a
``bad_request``. Messages over :data:`MAX_RELAY_MESSAGE_BYTES` close the channel (1009).
Once authenticated, a channel's face frames are read by :mod:`server.relay_wire` straight off
the socket's bytes, inside ``data_received``, instead of through aiohttp's message queue and
a task wake-up per frame; everything else still goes through aiohttp's reader.

*Downstream.* Once per room tick every member with a relay channel gets the room's batch as
one binary message, framed once per room and written whole to each member's transport;
members without one get the Socket.IO ``frames`` event as before (the
channel replaces, never duplicates, it).

*Room events* (opt-in: ``"events": true`` in the auth message). The room events a tick sends
(``room:state``, ``timer``, ``battle``, ``room:results``) then reach that member on the channel,
as text messages holding ``["event", payload]`` -- Socket.IO's own event array -- instead of
as Socket.IO events: one JSON encoding per room and one write per member, where
python-socketio's emit costs a task per recipient and a turn of the event loop. They follow
the tick's batch on the same socket, in order. Replies to a member's own Socket.IO events
(acks, errors, the state sent on joining) stay on Socket.IO. A channel whose socket has more than
:data:`BACKLOG_LIMIT_BYTES` unsent skips batches until it drains: a slow reader loses
frames (it would only see stale ones) instead of stalling every room's tick.

*Naive mode* (``CONVEX_RELAY_MODE=naive``, for ``bench/relay.py`` only) sends every accepted
frame at once to every member as a one-entry batch instead of waiting for the tick: the
one-message-per-frame-per-member design the batched relay is measured against.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import struct
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from aiohttp import WSCloseCode, WSMsgType, web
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from server.auth import InvalidToken
from server.keys import CLOCK, METRICS, SETTINGS, SIGNER
from server.ratelimit import TokenBucket
from server.relay_wire import FastPathParser, FastPathProtocol
from server.rooms.room import Room
from shared.codec import encode_batch
from shared.protocol import (
    MAX_FRAME_BYTES,
    ErrorCode,
    Ok,
    ProtocolError,
    dump,
    error_event,
    parse_auth,
)

if TYPE_CHECKING:
    from server.sockets import Gateway

log = logging.getLogger("convex.relay")

RELAY_PATH: Final[str] = "/relay"
"""Where the relay websocket is served."""

AUTH_TIMEOUT_S: Final[float] = 10.0
"""How long a new channel may take to send its auth message before it is closed."""

MAX_RELAY_MESSAGE_BYTES: Final[int] = 4096
"""Largest message a client may send: the auth JSON (a token is at most 1 KiB) or a frame.
Anything bigger is a protocol violation and closes the channel (1009) before it is read."""

BACKLOG_LIMIT_BYTES: Final[int] = 32 * 1024
"""Unsent bytes above which a channel skips batches (about 6 s of a room of 5's batches at
15 Hz); below asyncio's 64 KiB high-water mark, so a send never waits for a slow reader."""

ERROR_INTERVAL_S: Final[float] = 1.0
"""At most one ``rate_limited`` error message per channel per this many seconds."""

CLOSE_UNAUTHORIZED: Final[int] = 4401
"""Close code: the handshake failed (no, bad or expired token; wrong protocol version)."""

CLOSE_REPLACED: Final[int] = 4409
"""Close code: the same person opened a newer relay channel."""

CLOSE_SHUTDOWN: Final[int] = int(WSCloseCode.GOING_AWAY)
"""Close code when the server stops."""


def binary_message(payload: bytes) -> bytes:
    """``payload`` as one unmasked, uncompressed, final binary websocket frame (RFC 6455
    section 5.2): what a server writes to a client for ``send_bytes``."""
    return _message(0x82, payload)


def text_message(text: str) -> bytes:
    """``text`` as one unmasked, uncompressed, final text websocket frame (``send_str``)."""
    return _message(0x81, text.encode())


def _message(head: int, payload: bytes) -> bytes:
    size = len(payload)
    if size < 126:
        return _HEADER_SHORT.pack(head, size) + payload
    if size < 65536:
        return _HEADER_MEDIUM.pack(head, 126, size) + payload
    return _HEADER_LONG.pack(head, 127, size) + payload


_HEADER_SHORT: Final[struct.Struct] = struct.Struct("!BB")
_HEADER_MEDIUM: Final[struct.Struct] = struct.Struct("!BBH")
_HEADER_LONG: Final[struct.Struct] = struct.Struct("!BBQ")


class RelayMode(StrEnum):
    """How accepted frames reach the room (``Settings.relay_mode``)."""

    BATCHED = "batched"
    """One batch per room per tick with each member's latest frame (the product)."""
    NAIVE = "naive"
    """Every frame at once to every member (benchmark baseline only)."""


@dataclass(slots=True)
class RelayStats:
    """Counters of the relay channels (for benchmarks and logs; not room state)."""

    opened: int = 0
    """Channels that passed the handshake."""
    refused: int = 0
    """Handshakes refused."""
    frames_in: int = 0
    """Frames the room accepted."""
    frames_rejected: int = 0
    """Frames refused (rate limit, size, decoding, order, no seat)."""
    batches_out: int = 0
    """Batches written to a channel."""
    batches_skipped: int = 0
    """Batches not sent because the channel's socket was backed up or closing."""
    events_out: int = 0
    """Room events written to channels (members who asked for them)."""


@dataclass(slots=True, eq=False)
class RelayChannel:
    """One authenticated relay websocket."""

    user_id: str
    ws: web.WebSocketResponse
    transport: asyncio.Transport | None
    frames: TokenBucket
    last_limit_error: float = field(default=-1e18)
    fast_path: bool = False
    """Frames are read by :class:`~server.relay_wire.FastPathParser`."""
    events: bool = False
    """The client asked for the room's tick events on this channel (see *Room events*)."""

    def backed_up(self) -> bool:
        """Whether the socket is closing or has too much unsent data to take a batch now."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return True
        # Duck-typed: uvloop's transports have the method without subclassing WriteTransport.
        buffered: int = getattr(transport, "get_write_buffer_size", lambda: 0)()
        return buffered > BACKLOG_LIMIT_BYTES


class RelayHub:
    """Serves ``/relay`` and fans batches out to relay channels (and Socket.IO for the rest)."""

    def __init__(self, gateway: Gateway) -> None:
        from server.sockets import room_key  # a cycle at import time: sockets imports us

        self.gateway = gateway
        self.app = gateway.app
        self._room_key = room_key
        self.mode = RelayMode(self.app[SETTINGS].relay_mode)
        self.channels: dict[str, RelayChannel] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._fast_path_warned = False
        self._clock = self.app[CLOCK]
        self._flushed = (0, 0)
        self.stats = RelayStats()
        self.app[METRICS].registry.register(_RelayCollector(self))

    @property
    def naive(self) -> bool:
        """Whether frames are broadcast one by one (benchmark baseline) rather than per tick."""
        return self.mode is RelayMode.NAIVE

    # -- fan-out (called by the gateway) ------------------------------------------------------

    async def fan_out(self, room: Room, batch: bytes) -> None:
        """Send one batch to every member of ``room``: relay channels first, Socket.IO for the
        rest (one ``frames`` emit to the room, skipping members served here)."""
        served, everyone = self._channels_of(room, events=False)
        if served:
            message = binary_message(batch)
            for channel in served:
                self._send(channel, message)
        if not everyone:
            await self._emit_rest(room, "frames", batch, served)

    async def emit(self, room: Room, event: str, payload: dict[str, Any]) -> None:
        """Send one room event to every member of ``room``: on the relay channel to those whose
        channel takes events (see *Room events*), as a Socket.IO event to the rest."""
        served, everyone = self._channels_of(room, events=True)
        if served:
            message = text_message(json.dumps([event, payload], separators=(",", ":")))
            for channel in served:
                transport = channel.transport
                if channel.ws.closed or transport is None or transport.is_closing():
                    continue  # going away: the client gets the state again when it rejoins
                # Unlike a batch, an event is written even to a backed-up socket: each one may
                # be the only one of its kind for a while (results, a phase change); they are few.
                transport.write(message)
                self.stats.events_out += 1
        if not everyone:
            await self._emit_rest(room, event, payload, served)

    def _channels_of(self, room: Room, *, events: bool) -> tuple[list[RelayChannel], bool]:
        """The relay channels of ``room``'s people (with ``events``, only those that take room
        events), and whether every person has one."""
        channels = self.channels
        people = room.person_ids()
        served = [
            channel
            for user_id in people
            if (channel := channels.get(user_id)) is not None and (channel.events or not events)
        ]
        return served, len(served) == len(people)

    async def _emit_rest(
        self, room: Room, event: str, payload: object, served: list[RelayChannel]
    ) -> None:
        """The Socket.IO emit to ``room`` for the members not ``served`` on a relay channel."""
        user_sid = self.gateway.user_sid
        skip = [user_sid[c.user_id] for c in served if c.user_id in user_sid]
        await self.gateway.sio.emit(
            event, payload, room=self._room_key(room.room_id), skip_sid=skip or None
        )

    async def fan_out_frame(self, room: Room, user_id: str, frame: bytes, now: float) -> None:
        """Naive mode: relay one accepted frame at once as a one-entry batch."""
        slot = room.member(user_id).slot
        batch = encode_batch(0, max(round(now * 1000.0), 0), [(slot, frame)])
        await self.fan_out(room, batch)

    def _send(self, channel: RelayChannel, message: bytes) -> None:
        """Write one framed websocket message (see :func:`binary_message`) to a channel."""
        if channel.ws.closed or channel.backed_up():
            self.stats.batches_skipped += 1
            return
        transport = channel.transport
        assert transport is not None  # backed_up() says a missing transport is backed up
        # One write of a whole frame: the same bytes aiohttp's writer would produce for
        # send_bytes(compress off), framed once per room instead of once per member.
        transport.write(message)
        self.stats.batches_out += 1

    # -- the websocket endpoint ---------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """``GET /relay``: authenticate, then take frames until the client goes."""
        ws = web.WebSocketResponse(
            max_msg_size=MAX_RELAY_MESSAGE_BYTES, compress=False, autoping=True
        )
        await ws.prepare(request)
        channel = await self._authenticate(ws, request)
        if channel is None:
            return ws
        previous = self.channels.get(channel.user_id)
        self.channels[channel.user_id] = channel
        self.stats.opened += 1
        if previous is not None:
            await previous.ws.close(code=CLOSE_REPLACED, message=b"replaced by a newer channel")
        try:
            async for msg in ws:
                if msg.type is WSMsgType.BINARY:
                    await self._frame(channel, msg.data)
                elif msg.type is WSMsgType.TEXT:
                    await self._reject(
                        channel,
                        ProtocolError(
                            ErrorCode.BAD_REQUEST,
                            "after the handshake send frames as binary messages only",
                        ),
                        None,
                    )
        finally:
            if self.channels.get(channel.user_id) is channel:
                del self.channels[channel.user_id]
        return ws

    async def close_all(self, app: web.Application | None = None) -> None:
        """Close every channel (server shutdown); usable as an ``on_shutdown`` hook."""
        for channel in list(self.channels.values()):
            with contextlib.suppress(Exception):
                await channel.ws.close(code=CLOSE_SHUTDOWN, message=b"server shutting down")

    async def _authenticate(
        self, ws: web.WebSocketResponse, request: web.Request
    ) -> RelayChannel | None:
        try:
            try:
                msg = await ws.receive(timeout=AUTH_TIMEOUT_S)
            except TimeoutError:
                raise ProtocolError(
                    ErrorCode.UNAUTHORIZED, f"no auth message within {AUTH_TIMEOUT_S:g} s"
                ) from None
            if msg.type is not WSMsgType.TEXT:
                if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
                    return None
                raise ProtocolError(
                    ErrorCode.UNAUTHORIZED, "the first message must be the auth object as JSON"
                )
            try:
                body: Any = json.loads(msg.data)
            except ValueError:
                raise ProtocolError(ErrorCode.UNAUTHORIZED, "bad auth: not JSON") from None
            events = body.pop("events", False) if isinstance(body, dict) else False
            if not isinstance(events, bool):
                raise ProtocolError(ErrorCode.UNAUTHORIZED, "bad auth: events must be a boolean")
            auth = parse_auth(body)
            try:
                claims = self.app[SIGNER].verify(auth.token, self.app[CLOCK]())
            except InvalidToken as exc:
                raise ProtocolError(ErrorCode.UNAUTHORIZED, str(exc)) from None
        except ProtocolError as exc:
            self.stats.refused += 1
            self.app[METRICS].errors.labels(exc.code.value).inc()
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.send_json(dump(error_event(exc, None)))
            await ws.close(code=CLOSE_UNAUTHORIZED, message=b"unauthorized")
            return None
        rate = self.app[SETTINGS].max_frames_per_s
        channel = RelayChannel(
            user_id=str(claims.user_id),
            ws=ws,
            transport=request.transport,
            frames=TokenBucket(rate, rate),
            events=events,
        )
        # Before the answer: a client sends frames only after it, so they all take this path.
        channel.fast_path = self._install_fast_path(request, channel)
        await ws.send_json(dump(Ok()))
        return channel

    def _install_fast_path(self, request: web.Request, channel: RelayChannel) -> bool:
        """Put :class:`~server.relay_wire.FastPathParser` in front of aiohttp's websocket
        parser so face frames skip aiohttp's per-message queue and task wake-up. Relies on
        the connection's ``_payload_parser`` slot (aiohttp 3.9-3.14); where that is missing
        the channel keeps the ordinary path and says so once in the log."""
        protocol = request.protocol
        inner = getattr(protocol, "_payload_parser", None)
        if inner is None or not hasattr(inner, "feed_data") or not hasattr(inner, "feed_eof"):
            if not self._fast_path_warned:
                self._fast_path_warned = True
                log.warning("relay fast path unavailable with this aiohttp; using its reader")
            return False
        parser = FastPathParser(inner, lambda data: self._frame_now(channel, data))
        protocol._payload_parser = parser  # so the handler's teardown ends our parser too
        transport = request.transport
        if transport is not None:
            transport.set_protocol(FastPathProtocol(protocol, parser))
        return True

    def _frame_now(self, channel: RelayChannel, data: bytes) -> None:
        """A frame from the fast path, inside ``data_received``: nothing here may raise or
        wait; the rare replies (errors, naive-mode broadcasts) go out from a task."""
        now = self._clock()
        try:
            room = self._accept(channel, data, now)
        except Exception as exc:
            self._spawn(self._reject(channel, exc, "frame", now))
            return
        if self.mode is RelayMode.NAIVE:
            self._spawn(self.fan_out_frame(room, channel.user_id, data, now))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _frame(self, channel: RelayChannel, data: bytes) -> None:
        """A frame through aiohttp's reader (before the fast path, or without one)."""
        now = self.app[CLOCK]()
        try:
            room = self._accept(channel, data, now)
        except Exception as exc:
            await self._reject(channel, exc, "frame", now)
            return
        if self.mode is RelayMode.NAIVE:
            await self.fan_out_frame(room, channel.user_id, data, now)

    def _accept(self, channel: RelayChannel, data: bytes, now: float) -> Room:
        """Give one frame to its room; counts it, and raises what refused it."""
        try:
            if not channel.frames.allow(now):
                raise ProtocolError(ErrorCode.RATE_LIMITED, "too many frames; send at most 15/s")
            if len(data) > MAX_FRAME_BYTES:
                raise ProtocolError(
                    ErrorCode.PAYLOAD_TOO_LARGE,
                    f"a frame is at most {MAX_FRAME_BYTES} bytes, got {len(data)}",
                )
            room = self.gateway.manager.room_for(channel.user_id)
            room.accept_frame(channel.user_id, data, now)
        except Exception as exc:
            if not isinstance(exc, ProtocolError):
                log.exception("relay frame failed", extra={"user_id": channel.user_id})
            self.stats.frames_rejected += 1
            raise
        self.stats.frames_in += 1  # reaches the Prometheus counters in flush_metrics()
        return room

    def flush_metrics(self) -> None:
        """Add the frames counted since the last call to the server-wide Prometheus counters
        (once per tick: a locked counter increment per frame cost ~8 % of a busy relay)."""
        stats, metrics = self.stats, self.app[METRICS]
        accepted = stats.frames_in - self._flushed[0]
        rejected = stats.frames_rejected - self._flushed[1]
        if accepted:
            metrics.frames_in.inc(accepted)
        if rejected:
            metrics.frames_rejected.inc(rejected)
        self._flushed = (stats.frames_in, stats.frames_rejected)

    async def _reject(
        self,
        channel: RelayChannel,
        exc: Exception,
        event: str | None,
        now: float | None = None,
    ) -> None:
        """Answer a refused message with the ``error`` event payload as a text message."""
        code = exc.code if isinstance(exc, ProtocolError) else ErrorCode.INTERNAL
        self.app[METRICS].errors.labels(code.value).inc()
        if code is ErrorCode.RATE_LIMITED:
            now = self.app[CLOCK]() if now is None else now
            if now - channel.last_limit_error < ERROR_INTERVAL_S:
                return
            channel.last_limit_error = now
        with contextlib.suppress(ConnectionError, RuntimeError):
            await channel.ws.send_json(dump(error_event(exc, event)))


class _RelayCollector:
    """Exposes the relay's counters on ``/metrics`` when scraped (nothing on the hot path)."""

    def __init__(self, hub: RelayHub) -> None:
        self.hub = hub

    def collect(self) -> Iterator[Metric]:
        hub = self.hub
        s = hub.stats
        yield GaugeMetricFamily(
            "convex_relay_channels", "Open /relay channels.", value=len(hub.channels)
        )
        frames = CounterMetricFamily(
            "convex_relay_frames", "Face frames received on /relay channels.", labels=["result"]
        )
        frames.add_metric(["accepted"], s.frames_in)
        frames.add_metric(["rejected"], s.frames_rejected)
        yield frames
        batches = CounterMetricFamily(
            "convex_relay_batches",
            "Batches for /relay channels; skipped: the channel's socket was backed up.",
            labels=["result"],
        )
        batches.add_metric(["sent"], s.batches_out)
        batches.add_metric(["skipped"], s.batches_skipped)
        yield batches
        yield CounterMetricFamily(
            "convex_relay_events",
            "Room events written to /relay channels that asked for them.",
            value=s.events_out,
        )
        rooms = hub.gateway.manager.stats()
        live = GaugeMetricFamily(
            "convex_room_frames",
            "Face-frame counters summed over live rooms (a room's counts leave with it); "
            "superseded: overtaken by a newer frame of the same member before the tick.",
            labels=["kind"],
        )
        for kind in ("accepted", "dropped", "superseded", "relayed"):
            live.add_metric([kind], getattr(rooms, kind))
        yield live
