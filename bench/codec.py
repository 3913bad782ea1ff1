"""Throughput and size of the face-frame codec and the room batch packet (shared/codec.py).

Run: ``.venv/bin/python bench/codec.py [--seconds S]``. Single core, pure Python,
realistic frames made from synthetic FaceSamples. Wire overhead is computed with
python-socketio's and python-engineio's own packet encoders (Socket.IO v5 over
Engine.IO v4 over WebSocket); TCP/IP and TLS bytes are not counted.
"""

from __future__ import annotations

import argparse
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from engineio import packet as eio_packet
from socketio import packet as sio_packet

from shared.blendshapes import COUNT
from shared.codec import (
    FRAME_SIZE,
    Frame,
    decode_batch,
    decode_frame,
    encode_batch,
    encode_frame,
)
from shared.face import FaceSample

FPS = 15
"""Frames each client sends per second."""

UPSTREAM_BUDGET = 1.5 * 1024
"""Product target: upstream bytes per user per second (1.5 KB/s)."""

DISTINCT_FRAMES = 1024
"""Distinct frames the loops cycle through, so consecutive calls see different data."""


def synthetic_samples(n: int, seed: int = 0) -> list[FaceSample]:
    """A student's face over n frames: blinks, small smiles, slow head drift, jittery confidence."""
    rng = random.Random(seed)
    phases = [rng.uniform(0.0, math.tau) for _ in range(COUNT)]
    peaks = [rng.uniform(0.0, 0.35) for _ in range(COUNT)]
    samples = []
    for i in range(n):
        t = i / FPS
        weights = [
            min(1.0, max(0.0, p * (0.5 + 0.5 * math.sin(0.7 * t + ph)) + rng.gauss(0.0, 0.02)))
            for p, ph in zip(peaks, phases, strict=True)
        ]
        weights[0] = max(0.0, 1.0 - sum(weights[1:]) / 10.0)
        blink = 1.0 if i % 60 < 3 else rng.uniform(0.0, 0.1)
        weights[9] = weights[10] = blink  # eyeBlinkLeft / eyeBlinkRight
        samples.append(
            FaceSample(
                t=t,
                blendshapes=tuple(weights),
                yaw=25.0 * math.sin(0.2 * t) + rng.gauss(0.0, 1.0),
                pitch=-10.0 + 8.0 * math.sin(0.13 * t),
                roll=4.0 * math.sin(0.31 * t),
                confidence=min(1.0, max(0.0, rng.gauss(0.92, 0.04))),
            )
        )
    return samples


@dataclass(frozen=True)
class Rate:
    """One throughput measurement."""

    name: str
    ops: int
    seconds: float

    @property
    def per_second(self) -> float:
        """Operations per second."""
        return self.ops / self.seconds

    @property
    def micros(self) -> float:
        """Microseconds per operation."""
        return 1e6 * self.seconds / self.ops


def measure(name: str, fn: Callable[[int], None], budget: float) -> Rate:
    """Call ``fn(i)`` in chunks until ``budget`` seconds have passed."""
    chunk = 1000
    ops = 0
    start = time.perf_counter()
    elapsed = 0.0
    while elapsed < budget:
        for i in range(ops, ops + chunk):
            fn(i)
        ops += chunk
        elapsed = time.perf_counter() - start
    return Rate(name, ops, elapsed)


def ws_header(payload: int, masked: bool) -> int:
    """Bytes of a WebSocket frame header (RFC 6455); clients mask, servers do not."""
    size = 2 if payload < 126 else 4 if payload < 65536 else 10
    return size + (4 if masked else 0)


def socketio_wire_bytes(event: str, payload: bytes, masked: bool) -> tuple[int, str]:
    """Bytes on the WebSocket for ``emit(event, payload)``, and the text part that carries it.

    A binary Socket.IO event goes out as two WebSocket messages: a text
    BINARY_EVENT packet with a placeholder, then the raw attachment.
    """
    text, *attachments = sio_packet.Packet(sio_packet.EVENT, data=[event, payload]).encode()
    eio_text = eio_packet.Packet(eio_packet.MESSAGE, data=text).encode()
    total = len(eio_text.encode()) + ws_header(len(eio_text), masked)
    for blob in attachments:
        total += len(blob) + ws_header(len(blob), masked)
    return total, eio_text


def msgpack_event_bytes(event: str, payload: bytes) -> int:
    """Size of ``{"type": 2, "data": [event, payload], "nsp": "/"}`` in msgpack.

    That dict is what python-socketio's msgpack serializer sends as one binary
    message. Computed by hand (msgpack is not a project dependency); valid for
    event names under 32 bytes and payloads under 256 bytes.
    """
    fixmap = 1
    keys = len(b"\xa4type") + len(b"\xa4data") + len(b"\xa3nsp")
    type_and_array = 1 + 1  # positive fixint 2, fixarray of 2
    values = type_and_array + (1 + len(event.encode())) + (2 + len(payload)) + len(b"\xa1/")
    return fixmap + keys + values


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="total time budget (default 10)"
    )
    parser.add_argument("--room", type=int, default=5, help="members per room batch (default 5)")
    parser.add_argument(
        "--event", default="frame", help="Socket.IO event name assumed upstream (default 'frame')"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.room <= 255:
        parser.error("--room must be in 1..255")

    samples = synthetic_samples(DISTINCT_FRAMES)
    frames = [Frame.from_sample(s, seq=i, t_ms=int(s.t * 1000)) for i, s in enumerate(samples)]
    blobs = [encode_frame(f) for f in frames]
    mask = DISTINCT_FRAMES - 1
    room = args.room
    entry_lists = [
        [(slot, blobs[(tick + slot) & mask]) for slot in range(room)]
        for tick in range(DISTINCT_FRAMES)
    ]
    batches = [encode_batch(tick, tick * 66, entries) for tick, entries in enumerate(entry_lists)]

    def from_sample_and_encode(i: int) -> None:
        s = samples[i & mask]
        encode_frame(Frame.from_sample(s, seq=i, t_ms=i * 66))

    def encode_only(i: int) -> None:
        encode_frame(frames[i & mask])

    def decode_only(i: int) -> None:
        decode_frame(blobs[i & mask])

    def decode_to_sample(i: int) -> None:
        decode_frame(blobs[i & mask]).to_sample(t=0.5)

    def batch_encode(i: int) -> None:
        encode_batch(i & 0xFFFF_FFFF, i * 66, entry_lists[i & mask])

    def batch_decode(i: int) -> None:
        decode_batch(batches[i & mask])

    cases: list[tuple[str, Callable[[int], None]]] = [
        ("frame: from_sample + encode (client)", from_sample_and_encode),
        ("frame: encode_frame", encode_only),
        ("frame: decode_frame (server)", decode_only),
        ("frame: decode_frame + to_sample", decode_to_sample),
        (f"batch of {room}: encode_batch (server tick)", batch_encode),
        (f"batch of {room}: decode_batch (client)", batch_decode),
    ]
    budget = max(0.05, args.seconds / len(cases) * 0.95)
    rates = [measure(name, fn, budget) for name, fn in cases]

    batch_bytes = len(batches[0])
    blob = blobs[0]
    up_wire, up_text = socketio_wire_bytes(args.event, blob, masked=True)
    down_wire, down_text = socketio_wire_bytes("batch", batches[0], masked=False)
    per_user = up_wire * FPS
    short_wire, _ = socketio_wire_bytes("f", blob, masked=True)
    pair_wire, _ = socketio_wire_bytes(args.event, blob + blob, masked=True)
    msgpack_message = msgpack_event_bytes(args.event, blob)
    msgpack_wire = msgpack_message + ws_header(msgpack_message, masked=True)
    raw_wire = FRAME_SIZE + ws_header(FRAME_SIZE, masked=True)
    sizes: list[tuple[str, float]] = [
        ("frame", FRAME_SIZE),
        (f"batch of {room}", batch_bytes),
        ("frame on the wire (Socket.IO + WebSocket)", up_wire),
        (f"batch of {room} on the wire", down_wire),
        (f"upstream per user at {FPS} frames/s, payload only", FRAME_SIZE * FPS),
        (f"upstream per user at {FPS} frames/s, on the wire", per_user),
        (f"downstream per user at {FPS} ticks/s, on the wire", down_wire * FPS),
    ]
    what_if: list[tuple[str, float]] = [
        ("event named 'f'", short_wire * FPS),
        ("two frames per emit (+67 ms latency)", pair_wire * FPS / 2),
        ("msgpack serializer (estimate)", msgpack_wire * FPS),
        ("raw Engine.IO binary message, no Socket.IO", raw_wire * FPS),
    ]

    width = max(len(label) for label in [r.name for r in rates] + [n for n, _ in sizes + what_if])
    rule = f"{'-' * width}  {'-' * 12}"
    print(f"{'operation':<{width}}  {'ops/s':>12}  {'µs/op':>8}")
    print(f"{rule}  {'-' * 8}")
    for r in rates:
        print(f"{r.name:<{width}}  {r.per_second:>12,.0f}  {r.micros:>8.2f}")
    print()
    print(f"{'size':<{width}}  {'bytes':>12}")
    print(rule)
    for label, value in sizes:
        print(f"{label:<{width}}  {value:>12,.0f}")
    print()
    print(f"{'upstream per user on the wire, what if':<{width}}  {'bytes/s':>12}")
    print(rule)
    for label, value in what_if:
        print(f"{label:<{width}}  {value:>12,.0f}")
    verdict = "within" if per_user <= UPSTREAM_BUDGET else "OVER"
    print()
    print(
        f"Upstream {per_user / 1024:.2f} KB/s is {verdict} the {UPSTREAM_BUDGET / 1024:.1f} KB/s"
        " target."
    )
    print(
        "Wire assumption: one emit per frame as a Socket.IO v5 binary event over Engine.IO v4 "
        f"WebSocket: text message {up_text!r} ({len(up_text)} B) + {FRAME_SIZE} B binary "
        "message, each with a WebSocket header (client frames masked: 2 + 4 B); default "
        "namespace, no ack id; TCP/IP and TLS not counted."
    )
    print(f"Downstream text part: {down_text!r} (server frames unmasked).")


if __name__ == "__main__":
    main()
