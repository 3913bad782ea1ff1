"""Face pipeline benchmark: raw MediaPipe vs ``FaceAnalyzer.process``; the tracker's sustained FPS.

Run ``python bench/tracker.py`` (``--help`` for options). Three measurements on
the same astronaut frames at 640×480, each slightly shifted and rotated so that
no two consecutive frames are identical:

1. per-frame time of raw ``FaceLandmarker.detect_for_video`` (the ``mp.Image``
   built beforehand) and of our full ``FaceAnalyzer.process`` (frame check,
   conversion, inference, blendshapes/pose/confidence), interleaved frame by
   frame on two landmarkers so drift hits both alike; p50/p99 and the overhead;
2. sustained throughput of :class:`FaceTracker`: frames fed at a fixed rate
   (default 30 fps) by a reader thread for ``--seconds``, counting published
   samples per second, dropped frames, and frame-to-sample latency;
3. the process's CPU use during (2).

Targets (product.md): ≥ 30 FPS sustained at 640×480 on 2 cores; overhead ≤ 10 %.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import cv2
import mediapipe as mp
import numpy as np
import skimage.data
from mediapipe.tasks.python import vision

from game.capture.model import resolve_model
from game.capture.sources import ArraySource, Frame, FrameSource, PacedSource, RGBImage
from game.capture.tracker import FaceAnalyzer, FaceTracker, landmarker_options
from shared.face import FaceSample

WIDTH, HEIGHT = 640, 480
WARMUP_FRAMES = 10
"""Frames run before timing starts (graph start-up, caches, first detection)."""


def make_frames(n: int) -> list[RGBImage]:
    """``n`` 640×480 astronaut frames with a small, smooth shift and rotation each."""
    astronaut = skimage.data.astronaut()  # type: ignore[no-untyped-call]
    base = cv2.resize(np.ascontiguousarray(astronaut), (WIDTH, HEIGHT))
    frames = []
    for i in range(n):
        angle = 3.0 * math.sin(i * 0.31)
        m = cv2.getRotationMatrix2D((WIDTH / 2, HEIGHT / 3), angle, 1.0)
        m[0, 2] += 4.0 * math.sin(i * 0.17)
        m[1, 2] += 3.0 * math.cos(i * 0.23)
        warped = cv2.warpAffine(base, m, (WIDTH, HEIGHT), borderMode=cv2.BORDER_REFLECT)
        frames.append(np.ascontiguousarray(warped, dtype=np.uint8))
    return frames


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100) by linear interpolation."""
    return float(np.percentile(np.asarray(values), q))


def bench_per_frame(model: Path, frames: list[RGBImage]) -> tuple[list[float], list[float]]:
    """Seconds per frame for raw detect_for_video and for FaceAnalyzer.process, interleaved."""
    raw_times: list[float] = []
    our_times: list[float] = []
    images = [mp.Image(image_format=mp.ImageFormat.SRGB, data=f) for f in frames]
    raw = vision.FaceLandmarker.create_from_options(landmarker_options(model))
    try:
        with FaceAnalyzer(model) as ours:
            for i, (frame, image) in enumerate(zip(frames, images, strict=True)):
                t_ms = i * 33

                def run_raw(image: mp.Image = image, t_ms: int = t_ms) -> float:
                    start = time.perf_counter()
                    raw.detect_for_video(image, t_ms)
                    return time.perf_counter() - start

                def run_ours(frame: RGBImage = frame, t_ms: int = t_ms) -> float:
                    start = time.perf_counter()
                    ours.process(frame, t_ms)
                    return time.perf_counter() - start

                # Alternate the order so neither side always runs on a warmer cache.
                if i % 2:
                    a, b = run_raw(), run_ours()
                else:
                    b, a = run_ours(), run_raw()
                if i >= WARMUP_FRAMES:
                    raw_times.append(a)
                    our_times.append(b)
    finally:
        raw.close()
    return raw_times, our_times


class _Restamped(FrameSource):
    """Passes frames through, re-timed with the monotonic clock as they are released."""

    def __init__(self, inner: FrameSource) -> None:
        self.inner = inner

    def frames(self) -> Iterator[Frame]:
        for frame in self.inner:
            if self.closed:
                return
            yield Frame(time.monotonic(), frame.rgb)

    def _release(self) -> None:
        self.inner.close()


def bench_sustained(model: Path, frames: list[RGBImage], seconds: float, fps: float) -> None:
    """Feed frames at ``fps`` for ``seconds`` into FaceTracker; print rate, drops, latency, CPU."""
    needed = max(1, math.ceil(seconds * fps))
    repeat = math.ceil(needed / len(frames))
    latencies: list[float] = []
    lock = threading.Lock()

    def on_sample(sample: FaceSample) -> None:
        with lock:
            latencies.append(time.monotonic() - sample.t)

    paced = PacedSource(ArraySource(frames, fps=fps, repeat=repeat))
    with _Restamped(paced) as source, FaceTracker(model, source=source, on_sample=on_sample) as tr:
        cpu0, wall0 = time.process_time(), time.monotonic()
        done = tr.wait_idle(seconds * 3 + 30)
        wall, cpu = time.monotonic() - wall0, time.process_time() - cpu0
        stats = tr.stats
    if not done:
        print("  warning: the tracker did not drain in time")
    published = stats.processed
    print(f"  fed {stats.submitted} frames at {fps:g} fps over {wall:.1f} s")
    print(f"  published samples: {published} = {published / wall:.1f} samples/s")
    print(f"  dropped frames:    {stats.dropped} ({100 * stats.dropped / stats.submitted:.1f} %)")
    if latencies:
        print(
            f"  frame→sample latency: p50 {1000 * percentile(latencies, 50):.1f} ms, "
            f"p99 {1000 * percentile(latencies, 99):.1f} ms"
        )
    print(f"  process CPU: {100 * cpu / wall:.0f} % of one core ({os.cpu_count()} cores)")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(
        description="Benchmark raw MediaPipe vs Convex's face pipeline and the tracker thread."
    )
    parser.add_argument("--frames", type=int, default=300, help="frames per-frame timing (300)")
    parser.add_argument("--seconds", type=float, default=10.0, help="sustained run length (10)")
    parser.add_argument("--fps", type=float, default=30.0, help="feed rate of the sustained run")
    parser.add_argument("--model", type=Path, default=None, help="face_landmarker.task to use")
    args = parser.parse_args(argv)
    if args.frames <= WARMUP_FRAMES:
        parser.error(f"--frames must be more than {WARMUP_FRAMES}")

    model = resolve_model(args.model)
    frames = make_frames(args.frames)
    print(f"model: {model}")
    print(f"frames: {len(frames)} × {WIDTH}×{HEIGHT} (first {WARMUP_FRAMES} not timed)")

    raw, ours = bench_per_frame(model, frames)
    raw50, raw99 = 1000 * percentile(raw, 50), 1000 * percentile(raw, 99)
    our50, our99 = 1000 * percentile(ours, 50), 1000 * percentile(ours, 99)
    raw_mean, our_mean = 1000 * statistics.fmean(raw), 1000 * statistics.fmean(ours)
    print("per frame (ms)                        p50     p99    mean")
    print(f"  raw detect_for_video            {raw50:7.2f} {raw99:7.2f} {raw_mean:7.2f}")
    print(f"  FaceAnalyzer.process            {our50:7.2f} {our99:7.2f} {our_mean:7.2f}")
    print(f"  overhead (p50 ratio)            {100 * (our50 / raw50 - 1):+6.1f} %")
    print(f"  overhead (mean difference)      {our_mean - raw_mean:+6.2f} ms")
    print(f"  single-thread ceiling           {1000 / our50:6.1f} FPS")

    print(f"sustained through FaceTracker ({args.seconds:g} s at {args.fps:g} fps):")
    bench_sustained(model, frames, args.seconds, args.fps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
