"""Lean load-generator clients for bench/relay.py: raw websockets, no Socket.IO client library.

A python-socketio ``AsyncClient`` saturates its own core at about 100 clients (see
``../shared/docs/toolchain.md``), so each simulated student here is one or two bare
asyncio protocols that write pre-built websocket frames and parse the server's frames by
hand:

* ``socketio`` transport: one websocket to ``/socket.io/?EIO=4&transport=websocket``
  speaking Engine.IO v4 / Socket.IO v5 (open ``0``, connect ``40{auth}``, ping ``2`` →
  pong ``3``, events ``42``, acks ``43``, binary events ``451-[...]`` followed by one
  binary message) carries control events and the relay;
* ``relay`` transport: the same Socket.IO connection for control events, plus one
  websocket to ``/relay`` (``server/relay.py``) for frames up and batches down.

Client frames are masked with the all-zero key: RFC 6455 requires a mask, not a random
one for non-browser clients, and XOR with zero leaves the payload as it is, so a frame is
one ``bytes`` concatenation. Face frames are real ``shared.codec`` frames: one encoded
frame per template, with ``seq`` and ``t_ms`` (bytes 1–6) written per send; ``t_ms`` is
``CLOCK_MONOTONIC`` in ms, which every process on the machine shares, so a receiver in
another process measures fan-out latency as its own clock minus ``t_ms``.

:func:`worker` is one generator process: it seats its rooms, reports ready, sends at the
given schedule, and returns counters (frames sent and delivered in the window, a latency
histogram in ms, bytes on the wire, its own CPU time).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import random
import resource
import struct
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, Final

from game.net.timing import SEND_BAND
from shared.codec import FRAME_SIZE, Frame, encode_frame
from shared.face import FaceSample

HIST_MAX_MS: Final[int] = 10_000
"""Latencies are histogrammed per millisecond up to this; slower ones land in the last bin."""

T_MS_MASK: Final[int] = 0xFFFFFFFF
"""``t_ms`` is a u32 on the wire."""

BATCH_HEADER: Final[int] = 14
ENTRY: Final[int] = 1 + FRAME_SIZE

MASK_ZERO: Final[bytes] = b"\x00\x00\x00\x00"
OP_TEXT: Final[int] = 0x1
OP_BINARY: Final[int] = 0x2
OP_CLOSE: Final[int] = 0x8
OP_PING: Final[int] = 0x9
OP_PONG: Final[int] = 0xA

SIO_PATH: Final[str] = "/socket.io/?EIO=4&transport=websocket"
RELAY_PATH: Final[str] = "/relay"
SIO_FRAME_HEADER: Final[str] = '451-["frame",{"_placeholder":true,"num":0}]'
"""The text half of a Socket.IO binary ``frame`` event (the bytes follow as a binary message)."""

TEMPLATES: Final[int] = 16
"""Distinct face templates the clients cycle through (small, focused head movements)."""

ALIGN_AFTER_S: Final[float] = 0.5
"""Sending time after which aligned clients move into the send band (batches seen by then)."""
SEND_SLACK_S: Final[float] = 0.001
"""A frame due within this much is sent in the current sweep: one wake-up per millisecond at
most instead of one per frame (the frame carries its real send time either way)."""

SETUP_TIMEOUT_S: Final[float] = 60.0
"""Longest wait for one handshake or acknowledgement while seating rooms."""


def monotonic_ms() -> int:
    """The shared clock of every process on this machine, in ms, as a u32 like ``t_ms``."""
    return int(time.monotonic() * 1000.0) & T_MS_MASK


def client_frame(opcode: int, payload: bytes) -> bytes:
    """One masked (zero key), final websocket frame from client to server."""
    n = len(payload)
    if n < 126:
        head = struct.pack(">BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack(">BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack(">BBQ", 0x80 | opcode, 0x80 | 127, n)
    return head + MASK_ZERO + payload


def face_templates(seed: int) -> list[tuple[bytes, bytes]]:
    """(bytes 0, bytes 7–63) of real encoded frames: a focused face with small movements."""
    rng = random.Random(seed)
    out = []
    for _ in range(TEMPLATES):
        shapes = [0.0] * 52
        shapes[0] = 0.9
        for i in range(1, 52):
            shapes[i] = rng.uniform(0.0, 0.12)
        sample = FaceSample(
            t=0.0,
            blendshapes=tuple(shapes),
            yaw=rng.uniform(-4.0, 4.0),
            pitch=rng.uniform(-3.0, 3.0),
            roll=rng.uniform(-3.0, 3.0),
            confidence=rng.uniform(0.9, 1.0),
        )
        data = encode_frame(Frame.from_sample(sample, seq=0, t_ms=0))
        out.append((data[:1], data[7:]))
    return out


class WsConn(asyncio.Protocol):
    """A bare client websocket: HTTP upgrade, then whole messages to ``on_message``.

    Fragmented messages are not expected from these servers and are refused (closed).
    """

    def __init__(
        self, host: str, port: int, path: str, on_message: Callable[[int, bytes, float], None]
    ) -> None:
        self.host = host
        self.port = port
        self.path = path
        self.on_message = on_message
        self.transport: asyncio.Transport | None = None
        self.upgraded = asyncio.get_running_loop().create_future()
        self.closed = asyncio.get_running_loop().create_future()
        self.buf = b""
        self.bytes_out = 0
        self.bytes_in = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        request = (
            f"GET {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        self.write(request)

    def write(self, data: bytes) -> None:
        """Send raw bytes (already framed) and count them."""
        if self.transport is None or self.transport.is_closing():
            return
        self.bytes_out += len(data)
        self.transport.write(data)

    def send_text(self, text: str) -> None:
        self.write(client_frame(OP_TEXT, text.encode()))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.upgraded.done():
            self.upgraded.set_exception(ConnectionError(f"{self.path}: connection lost"))
        if not self.closed.done():
            self.closed.set_result(None)

    def data_received(self, data: bytes) -> None:
        self.bytes_in += len(data)
        buf = self.buf + data if self.buf else data
        if not self.upgraded.done():
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                self.buf = buf
                return
            status = buf[: buf.find(b"\r\n")]
            if b" 101 " not in status:
                self.upgraded.set_exception(ConnectionError(f"{self.path}: {status!r}"))
                self.close()
                return
            self.upgraded.set_result(None)
            buf = buf[end + 4 :]
        now = time.monotonic()
        pos, size = 0, len(buf)
        on_message = self.on_message
        while size - pos >= 2:
            b0 = buf[pos]
            n = buf[pos + 1] & 0x7F
            start = pos + 2
            if n == 126:
                if size - pos < 4:
                    break
                n = (buf[pos + 2] << 8) | buf[pos + 3]
                start = pos + 4
            elif n == 127:
                if size - pos < 10:
                    break
                n = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                start = pos + 10
            end = start + n
            if end > size:
                break
            opcode = b0 & 0x0F
            if not b0 & 0x80 or opcode == 0:
                self.close()  # fragmented: not something these servers send
                return
            payload = buf[start:end]
            pos = end
            if opcode == OP_PING:
                self.write(client_frame(OP_PONG, payload))
            elif opcode == OP_CLOSE:
                self.close()
                return
            elif opcode != OP_PONG:
                on_message(opcode, payload, now)
        self.buf = buf[pos:] if pos < size else b""


@dataclass
class Tally:
    """What one worker measured; every count covers frames sent inside the window."""

    sent: int = 0
    expected: int = 0
    delivered: int = 0
    hist: list[int] = field(default_factory=lambda: [0] * (HIST_MAX_MS + 1))
    errors: int = 0
    error_codes: dict[str, int] = field(default_factory=dict)
    bytes_up: int = 0
    bytes_down: int = 0
    cpu_s: float = 0.0
    send_lag_ms: list[int] = field(default_factory=list)
    lost_connections: int = 0
    clients: int = 0


class Window:
    """The measurement window as u32 ms on the shared clock."""

    def __init__(self, start_ms: int, length_ms: int) -> None:
        self.start = start_ms & T_MS_MASK
        self.length = length_ms
        self.ticks_wall_ms: deque[int] = deque(maxlen=64)
        """Server times (epoch ms) of recent batches: where the server's ticks fall."""


class Client:
    """One simulated student: a Socket.IO connection and, for the relay transport, /relay."""

    def __init__(self, user_id: int, token: str, relay: bool, tally: Tally, window: Window) -> None:
        self.user_id = user_id
        self.token = token
        self.use_relay = relay
        self.tally = tally
        self.window = window
        self.slot = -1
        self.room_size = 0
        self.seq = 0
        self.sio: WsConn | None = None
        self.relay: WsConn | None = None
        self.sio_open: asyncio.Future[None] | None = None
        self.sio_connected: asyncio.Future[Any] | None = None
        self.relay_ok: asyncio.Future[Any] | None = None
        self.acks: dict[int, asyncio.Future[Any]] = {}
        self.next_ack = 0

    # -- connecting ---------------------------------------------------------------------------

    async def connect(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        self.sio_open = loop.create_future()
        self.sio_connected = loop.create_future()
        _, sio = await loop.create_connection(
            lambda: WsConn(host, port, SIO_PATH, self._on_sio), host, port
        )
        self.sio = sio
        await asyncio.wait_for(sio.upgraded, SETUP_TIMEOUT_S)
        await asyncio.wait_for(self.sio_open, SETUP_TIMEOUT_S)
        sio.send_text("40" + json.dumps({"token": self.token}, separators=(",", ":")))
        await asyncio.wait_for(self.sio_connected, SETUP_TIMEOUT_S)
        if self.use_relay:
            self.relay_ok = loop.create_future()
            _, relay = await loop.create_connection(
                lambda: WsConn(host, port, RELAY_PATH, self._on_relay), host, port
            )
            self.relay = relay
            await asyncio.wait_for(relay.upgraded, SETUP_TIMEOUT_S)
            # Room events on the channel too, as the game's NetClient asks for them.
            hello = {"token": self.token, "events": True}
            relay.send_text(json.dumps(hello, separators=(",", ":")))
            await asyncio.wait_for(self.relay_ok, SETUP_TIMEOUT_S)

    async def call(self, event: str, data: object = None) -> Any:
        """A Socket.IO event with an acknowledgement; returns the ack's first argument."""
        assert self.sio is not None
        ack_id = self.next_ack
        self.next_ack += 1
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.acks[ack_id] = fut
        args = [event] if data is None else [event, data]
        self.sio.send_text(f"42{ack_id}" + json.dumps(args, separators=(",", ":")))
        result = await asyncio.wait_for(fut, SETUP_TIMEOUT_S)
        if isinstance(result, dict) and "error" in result:
            raise RuntimeError(f"{event} failed: {result['error']}")
        return result

    def close(self) -> None:
        for conn in (self.relay, self.sio):
            if conn is not None:
                conn.close()

    # -- receiving ----------------------------------------------------------------------------

    def _on_sio(self, opcode: int, payload: bytes, now: float) -> None:
        if opcode == OP_BINARY:
            self.on_batch(payload, now)
            return
        text = payload.decode()
        kind = text[:1]
        if kind == "4":
            sub = text[1:2]
            if sub == "2":  # event: only errors matter here
                if text.startswith('42["error"'):
                    self._count_error(json.loads(text[2:])[1])
            elif sub == "3":  # ack: 43<id>[data]
                bracket = text.index("[")
                fut = self.acks.pop(int(text[2:bracket]), None)
                if fut is not None and not fut.done():
                    fut.set_result(json.loads(text[bracket:])[0])
            elif sub == "0" and self.sio_connected is not None and not self.sio_connected.done():
                self.sio_connected.set_result(None)
            elif sub == "4" and self.sio_connected is not None and not self.sio_connected.done():
                self.sio_connected.set_exception(RuntimeError(f"connect refused: {text}"))
        elif kind == "2":
            assert self.sio is not None
            self.sio.send_text("3")
        elif kind == "0" and self.sio_open is not None and not self.sio_open.done():
            self.sio_open.set_result(None)

    def _on_relay(self, opcode: int, payload: bytes, now: float) -> None:
        if opcode == OP_BINARY:
            self.on_batch(payload, now)
            return
        body = json.loads(payload)
        if self.relay_ok is not None and not self.relay_ok.done():
            if body.get("ok"):
                self.relay_ok.set_result(None)
            else:
                self.relay_ok.set_exception(RuntimeError(f"relay refused: {body}"))
            return
        if isinstance(body, dict) and "error" in body:
            self._count_error(body)  # else a room event: ["battle", {...}] and the like

    def _count_error(self, body: Any) -> None:
        self.tally.errors += 1
        code = str(body.get("error", {}).get("code", "?")) if isinstance(body, dict) else "?"
        self.tally.error_codes[code] = self.tally.error_codes.get(code, 0) + 1

    def on_batch(self, data: bytes, now: float) -> None:
        """Count the other members' frames sent inside the window, and their latency."""
        if len(data) < BATCH_HEADER:
            return
        now_ms = int(now * 1000.0)
        win = self.window
        win.ticks_wall_ms.append(int.from_bytes(data[5:13], "big"))
        start, length = win.start, win.length
        tally = self.tally
        hist = tally.hist
        mine = self.slot
        off = BATCH_HEADER
        for _ in range(data[13]):
            if data[off] != mine:
                t = int.from_bytes(data[off + 4 : off + 8], "big")
                if (t - start) & T_MS_MASK < length:
                    tally.delivered += 1
                    lat = (now_ms - t) & T_MS_MASK
                    hist[lat if lat < HIST_MAX_MS else HIST_MAX_MS] += 1
            off += ENTRY


# -- one worker process -----------------------------------------------------------------------


@dataclass
class WorkerPlan:
    """What the parent gives a worker: where the server is and whom to seat where."""

    host: str
    port: int
    transport: str
    fps: float
    rooms: list[list[tuple[int, str]]]
    """Per room, (user id, token) of each member; the first creates and starts the room."""
    cpus: list[int] | None
    seed: int
    setup_concurrency: int = 16
    aligned: bool = True
    """Send like the game client: inside SEND_BAND of the server's tick period, each client at
    its own place in the band (False: each client at a random phase of the period)."""


async def _seat_room(members: list[Client], host: str, port: int, sem: asyncio.Semaphore) -> None:
    async with sem:
        await asyncio.gather(*(c.connect(host, port) for c in members))
        first = members[0]
        created = await first.call("room:create", {"name": "bench room", "subject": "bench"})
        first.slot = 0
        room_id = created["room_id"]
        for c in members[1:]:
            joined = await c.call("room:join", {"room_id": room_id})
            c.slot = int(joined["slot"])
        await first.call("room:start")
        for c in members:
            c.room_size = len(members)


async def _run(plan: WorkerPlan, pipe: Connection) -> Tally:
    loop = asyncio.get_running_loop()
    tally = Tally()
    window = Window(0, 0)
    relay = plan.transport == "relay"
    rooms = [[Client(uid, tok, relay, tally, window) for uid, tok in room] for room in plan.rooms]
    clients = [c for room in rooms for c in room]
    tally.clients = len(clients)
    sem = asyncio.Semaphore(plan.setup_concurrency)
    try:
        await asyncio.gather(*(_seat_room(r, plan.host, plan.port, sem) for r in rooms))
    except Exception as exc:
        pipe.send({"ready": False, "error": f"{type(exc).__name__}: {exc}"})
        for c in clients:
            c.close()
        raise SystemExit(1) from None
    pipe.send({"ready": True})
    go = await loop.run_in_executor(None, pipe.recv)
    t0, win_start, win_end, stop_at = go["t0"], go["win_start"], go["win_end"], go["stop"]
    window.start = int(win_start * 1000.0) & T_MS_MASK
    window.length = int((win_end - win_start) * 1000.0)

    conns: list[WsConn] = [conn for c in clients for conn in (c.sio, c.relay) if conn is not None]
    snap: dict[str, float] = {}

    def snapshot(tag: str) -> None:
        ru = resource.getrusage(resource.RUSAGE_SELF)
        snap[f"{tag}_cpu"] = ru.ru_utime + ru.ru_stime
        snap[f"{tag}_up"] = sum(c.bytes_out for c in conns)
        snap[f"{tag}_down"] = sum(c.bytes_in for c in conns)

    loop.call_at(loop.time() + (win_start - time.monotonic()), snapshot, "start")
    loop.call_at(loop.time() + (win_end - time.monotonic()), snapshot, "end")
    await _send_loop(clients, plan, t0, win_start, win_end, stop_at, tally, window)
    await asyncio.sleep(max(0.0, stop_at - time.monotonic()) + 0.3)
    if "end_cpu" not in snap:
        snapshot("end")
    tally.cpu_s = snap["end_cpu"] - snap["start_cpu"]
    tally.bytes_up = int(snap["end_up"] - snap["start_up"])
    tally.bytes_down = int(snap["end_down"] - snap["start_down"])
    tally.lost_connections = sum(1 for c in conns if c.closed.done())
    for c in clients:
        c.close()
    return tally


async def _send_loop(
    clients: list[Client],
    plan: WorkerPlan,
    t0: float,
    win_start: float,
    win_end: float,
    stop_at: float,
    tally: Tally,
    window: Window,
) -> None:
    """Every client sends at ``fps`` until ``stop_at``: first at its own random phase, then,
    with ``plan.aligned`` and once batches show where the server's ticks fall, at its own
    place inside the game client's send band (``game.net.timing.SEND_BAND``)."""
    rng = random.Random(plan.seed)
    period = 1.0 / plan.fps
    align_at = t0 + ALIGN_AFTER_S if plan.aligned else math.inf
    band_places = [rng.random() for _ in clients]
    templates = face_templates(plan.seed)
    relay = plan.transport == "relay"
    if relay:
        frame_head = bytes((0x80 | OP_BINARY, 0x80 | FRAME_SIZE)) + MASK_ZERO
    else:
        frame_head = (
            client_frame(OP_TEXT, SIO_FRAME_HEADER.encode())
            + bytes((0x80 | OP_BINARY, 0x80 | FRAME_SIZE))
            + MASK_ZERO
        )
    phases = sorted((rng.random() * period, i) for i in range(len(clients)))
    order = [clients[i] for _, i in phases]
    offsets = [p for p, _ in phases]
    writers = [(c.relay if relay else c.sio) for c in order]
    win_start_ms = int(win_start * 1000.0) & T_MS_MASK
    win_len = int((win_end - win_start) * 1000.0)
    pack_seq_t = struct.Struct(">HI").pack
    sent_in_window = [0] * len(order)
    lags: list[int] = []
    cycle = 0
    n = len(order)
    while True:
        base = t0 + cycle * period
        if base >= stop_at:
            break
        if base >= align_at and window.ticks_wall_ms:
            align_at = math.inf
            # Batches carry the server's wall clock; sends run on the monotonic clock. Late
            # ticks only ever add delay, so the grid is the earliest phase seen (as NetClient).
            wall_to_mono = time.time() - time.monotonic()
            ticks = [ms / 1000.0 - wall_to_mono for ms in window.ticks_wall_ms]
            newest = ticks[-1]
            half = period / 2
            tick = newest + min(((t - newest + half) % period) - half for t in ticks)
            tick_phase = (tick - t0) % period
            lo, hi = SEND_BAND
            phases = sorted(
                ((tick_phase + (lo + place * (hi - lo)) * period) % period, i)
                for i, place in enumerate(band_places)
            )
            order = [clients[i] for _, i in phases]
            offsets = [p for p, _ in phases]
            writers = [(c.relay if relay else c.sio) for c in order]
            assert not any(sent_in_window), "aligned after the window opened"
        i = 0
        while i < n:
            due = base + offsets[i]
            now = time.monotonic()
            if due > now + SEND_SLACK_S:
                await asyncio.sleep(due - now)
                now = time.monotonic()
            # One sweep sends every frame due within the slack (at most that much early).
            horizon = now + SEND_SLACK_S
            while i < n and base + offsets[i] <= horizon:
                c = order[i]
                c.seq = (c.seq + 1) & 0xFFFF
                t_ms = int(now * 1000.0) & T_MS_MASK
                head, tail = templates[(c.seq + i) % TEMPLATES]
                w = writers[i]
                assert w is not None
                w.write(frame_head + head + pack_seq_t(c.seq, t_ms) + tail)
                if (t_ms - win_start_ms) & T_MS_MASK < win_len:
                    sent_in_window[i] += 1
                    if (cycle + i) % 16 == 0:
                        lags.append(int((now - base - offsets[i]) * 1000.0))
                i += 1
        cycle += 1
    for i, c in enumerate(order):
        tally.sent += sent_in_window[i]
        tally.expected += sent_in_window[i] * (c.room_size - 1)
    tally.send_lag_ms = lags


def worker(plan: WorkerPlan, pipe: Connection) -> None:
    """Entry point of one generator process (run by multiprocessing)."""
    if plan.cpus:
        os.sched_setaffinity(0, plan.cpus)
    try:
        tally = asyncio.run(_run(plan, pipe))
    except SystemExit:
        return
    except Exception as exc:
        with contextlib.suppress(Exception):
            pipe.send({"ready": False, "error": f"{type(exc).__name__}: {exc}"})
        return
    pipe.send({"tally": tally})


def percentile(hist: list[int], q: float) -> float:
    """The q-quantile (0–1) of a per-millisecond histogram, in ms (nan when empty)."""
    total = sum(hist)
    if total == 0:
        return math.nan
    rank = q * total
    seen = 0
    for ms, count in enumerate(hist):
        seen += count
        if seen >= rank:
            return float(ms)
    return float(len(hist) - 1)
