"""Ghost storage benchmark: bytes per recorded hour and encode/decode time, DEFLATE vs LZMA.

The input is a simulated session, not real video: 30 fps samples with smooth head
motion (slow sinusoids plus a random walk, glances away, a phone check), blinks,
smiles, talking and brow furrows, a break with no face, and per-frame sensor noise
of about 1.5/255 on every blendshape channel (real MediaPipe output jitters like
that) and 0.3° on every pose angle. The recorder downsamples it to ~10 Hz.
``tests/shared/test_ghost.py`` imports :func:`simulate_session` and
:func:`record_session` from here, so the size the test asserts is the size this
script prints.

Run: ``.venv/bin/python bench/ghost.py`` (about 10 s); ``--help`` for options.
"""

from __future__ import annotations

import argparse
import math
import struct
import time
from collections.abc import Callable, Sequence
from functools import partial

import numpy as np

from shared.blendshapes import COUNT, INDEX
from shared.face import Attention, FaceSample
from shared.ghost import (
    Compression,
    GhostRecorder,
    GhostRecording,
    decode_ghost,
    encode_ghost,
)

BUDGET_BYTES_PER_HOUR = 500_000  # "0.5 MB per hour", the product target (decimal MB)
DPS_FOCUSED = 12.5  # damage per second while focused; any steady rate will do
RAW_FLOAT32_BYTES_PER_FRAME = (COUNT + 3 + 1) * 4 + 8 + 1  # weights, pose, confidence, t, present


def _bump(t: np.ndarray, start: float, rise: float, hold: float, fall: float) -> np.ndarray:
    """A 0→1→0 raised-cosine bump: rise, hold, fall (seconds), starting at ``start``."""
    x = np.zeros_like(t)
    up = (t >= start) & (t < start + rise)
    x[up] = 0.5 - 0.5 * np.cos(np.pi * (t[up] - start) / rise)
    x[(t >= start + rise) & (t < start + rise + hold)] = 1.0
    down_start = start + rise + hold
    down = (t >= down_start) & (t < down_start + fall)
    x[down] = 0.5 + 0.5 * np.cos(np.pi * (t[down] - down_start) / fall)
    return x


def _events(
    rng: np.random.Generator, t: np.ndarray, every: float, rise: float, hold: tuple[float, float]
) -> np.ndarray:
    """Bumps at random times (mean gap ``every`` s), each lasting a random hold."""
    out = np.zeros_like(t)
    at = float(rng.exponential(every))
    end = float(t[-1]) if len(t) else 0.0
    while at < end:
        h = float(rng.uniform(*hold))
        i0, i1 = np.searchsorted(t, [at, at + 2 * rise + h + 0.1])
        seg = t[i0:i1]
        out[i0:i1] = np.maximum(out[i0:i1], _bump(seg, at, rise, h, rise * 1.5))
        at += 2 * rise + h + float(rng.exponential(every))
    return out


def simulate_session(seconds: float, fps: float = 30.0, seed: int = 0) -> list[FaceSample]:
    """A deterministic, realistic-looking tracker output for ``seconds`` at ``fps`` (see above)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * fps)
    t = np.arange(n) / fps + rng.uniform(-0.003, 0.003, n)  # capture timestamps jitter
    t[0] = 0.0

    walk = np.cumsum(rng.normal(0.0, 0.04, n))
    walk -= np.convolve(walk, np.ones(301) / 301, mode="same")  # keep the drift local
    glance = _events(rng, t, every=150.0, rise=0.4, hold=(1.5, 8.0))
    glance_dir = np.sign(np.sin(2 * np.pi * t / 397.0) + 0.1)
    phone = _events(rng, t, every=600.0, rise=0.6, hold=(5.0, 25.0))
    yaw = (
        5.0 * np.sin(2 * np.pi * t / 47.0)
        + 2.0 * np.sin(2 * np.pi * t / 13.0 + 1.0)
        + walk
        + 38.0 * glance * glance_dir
        + rng.normal(0.0, 0.3, n)
    )
    pitch = (
        -6.0
        + 3.0 * np.sin(2 * np.pi * t / 61.0)
        + 0.5 * walk
        - 28.0 * phone
        + rng.normal(0.0, 0.3, n)
    )
    roll = 2.0 * np.sin(2 * np.pi * t / 29.0 + 0.5) + rng.normal(0.0, 0.3, n)

    base = rng.uniform(0.02, 0.25, COUNT)
    periods = rng.uniform(20.0, 120.0, COUNT)
    phases = rng.uniform(0.0, 2 * np.pi, COUNT)
    w = base * (1.0 + 0.3 * np.sin(2 * np.pi * t[:, None] / periods + phases))

    blink = _events(rng, t, every=3.5, rise=0.08, hold=(0.03, 0.08))
    smile = _events(rng, t, every=90.0, rise=0.5, hold=(2.0, 10.0))
    talk = _events(rng, t, every=120.0, rise=0.3, hold=(4.0, 20.0))
    furrow = _events(rng, t, every=200.0, rise=1.0, hold=(3.0, 15.0))
    chatter = np.abs(np.sin(2 * np.pi * 3.5 * t)) * talk
    for name, signal, gain in (
        ("eyeBlinkLeft", blink, 0.85),
        ("eyeBlinkRight", blink, 0.82),
        ("eyeSquintLeft", blink, 0.25),
        ("eyeSquintRight", blink, 0.25),
        ("mouthSmileLeft", smile, 0.7),
        ("mouthSmileRight", smile, 0.65),
        ("cheekSquintLeft", smile, 0.3),
        ("cheekSquintRight", smile, 0.3),
        ("jawOpen", chatter, 0.35),
        ("mouthFunnel", chatter, 0.15),
        ("mouthLowerDownLeft", chatter, 0.2),
        ("mouthLowerDownRight", chatter, 0.2),
        ("browDownLeft", furrow, 0.45),
        ("browDownRight", furrow, 0.45),
    ):
        w[:, INDEX[name]] += gain * signal
    w += rng.normal(0.0, 1.5 / 255.0, w.shape)  # sensor noise on every channel, every frame
    np.clip(w, 0.0, 1.0, out=w)
    confidence = np.clip(0.93 + 0.02 * np.sin(2 * np.pi * t / 71.0) + rng.normal(0, 0.006, n), 0, 1)

    away = (t > 0.42 * seconds) & (t < 0.42 * seconds + 40.0)  # left the desk for 40 s
    yaw = np.clip(yaw, -180.0, 180.0)
    pitch = np.clip(pitch, -90.0, 90.0)
    samples = []
    rows = w.tolist()
    for i in range(n):
        ti = float(t[i])
        if away[i]:
            samples.append(FaceSample.absent(ti))
        else:
            samples.append(
                FaceSample(
                    ti,
                    tuple(rows[i]),
                    float(yaw[i]),
                    float(pitch[i]),
                    float(roll[i]),
                    float(confidence[i]),
                )
            )
    return samples


def _attention(s: FaceSample) -> Attention:
    """A crude stand-in for the focus rules, good enough to give the timeline realistic runs."""
    if not s.present:
        return Attention.NO_FACE
    if s.pitch < -20.0:
        return Attention.LOOKING_DOWN
    if s.yaw > 25.0:
        return Attention.LOOKING_LEFT
    if s.yaw < -25.0:
        return Attention.LOOKING_RIGHT
    return Attention.FOCUSED


def record_session(samples: Sequence[FaceSample], started_at: float = 1.7e9) -> GhostRecording:
    """Records samples the way a room would: frames, attention marks, damage every 100 ms."""
    t0 = samples[0].t
    rec = GhostRecorder(
        user_id="u-1", user_name="Sam", subject="maths", started_at=started_at, t0=t0
    )
    damage = 0.0
    away_since: float | None = None
    last_t = t0
    next_report = t0
    for s in samples:
        state = _attention(s)
        if state is Attention.FOCUSED:
            damage += DPS_FOCUSED * (s.t - last_t)
            away_since = None
        elif away_since is None:
            away_since = s.t
        asleep = away_since is not None and s.t - away_since > 15.0
        last_t = s.t
        rec.add_sample(s)
        rec.mark(s.t, state, asleep)
        if s.t >= next_report:
            rec.record_damage(s.t, damage)
            next_report += 0.1
    return rec.finish(samples[-1].t)


def _time(fn: Callable[[], object], repeat: int) -> float:
    """Best wall time of ``repeat`` calls."""
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: Sequence[str] | None = None) -> int:
    """Simulate, record, encode with both compressors, report sizes and times."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3600.0, help="session length (3600)")
    parser.add_argument("--fps", type=float, default=30.0, help="tracker rate (30)")
    parser.add_argument("--seed", type=int, default=0, help="simulation seed (0)")
    parser.add_argument("--repeat", type=int, default=3, help="timing repeats, best kept (3)")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    samples = simulate_session(args.seconds, args.fps, args.seed)
    simulated = time.perf_counter() - start
    start = time.perf_counter()
    rec = record_session(samples)
    recorded = time.perf_counter() - start
    hours = rec.duration_s / 3600.0
    n = len(rec.frames)
    print(
        f"simulated {len(samples)} samples at {args.fps:g} fps in {simulated:.1f} s; "
        f"recorded {n} frames ({n / rec.duration_s:.2f} Hz), {len(rec.timeline)} segments, "
        f"{len(rec.damage)} damage samples in {recorded:.1f} s"
    )
    raw = n * RAW_FLOAT32_BYTES_PER_FRAME
    body = struct.unpack_from("<I", encode_ghost(rec), 18)[0]  # header field L
    print(
        f"raw float32 frames: {raw / hours:,.0f} B/h; delta columns before compression: "
        f"{body / hours:,.0f} B/h"
    )
    print(f"budget: {BUDGET_BYTES_PER_HOUR:,} B/h")
    print(f"{'codec':8} {'bytes/hour':>12} {'vs raw':>8} {'budget':>7} {'encode':>9} {'decode':>9}")
    for codec in Compression:
        blob = encode_ghost(rec, codec)
        assert decode_ghost(blob) == rec
        enc = _time(partial(encode_ghost, rec, codec), args.repeat)
        dec = _time(partial(decode_ghost, blob), args.repeat)
        per_hour = len(blob) / hours
        print(
            f"{codec.name:8} {per_hour:12,.0f} {raw / len(blob):7.1f}x "
            f"{per_hour / BUDGET_BYTES_PER_HOUR:6.0%} {enc / hours:8.3f}s {dec / hours:8.3f}s"
        )
    print("(encode/decode: best of --repeat runs, per recorded hour)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
