"""Rendering benchmark: offscreen FPS at 1280×720 and the Python cost of driving avatars.

Run ``python bench/render.py`` (``--help`` for options). Each configuration
runs in a fresh process (Mesa reads ``LP_NUM_THREADS`` once, when GL starts):

1. **solo** — the real client (:class:`game.app.ConvexApp`) offscreen with the
   synthetic demo face: one avatar, the HUD, the focus rules, the timer;
2. **arena, worst case** — 8 avatars (the four presets, twice) in an arc,
   plus the boss model behind them, every avatar driven through
   :class:`game.avatar.driver.AvatarDriver` with **all 52 weights changing
   every frame** (phase-shifted sines between 0 and 1) and a moving head, so
   that every slider is written and every avatar is re-morphed and re-skinned
   each frame;
3. **arena, live faces** — the same stage driven the way a room is: each
   avatar follows its own scripted synthetic face (idle sway, blinks, talking,
   smiling), updated at the relay's 15 Hz while frames render as fast as they can.

For each, frames per second over ``--frames`` rendered frames (after a
warm-up), the main process's CPU time per frame (on a busy machine the
better guide: 1000 / CPU ms is the FPS one free core would give), and for the
arenas the Python CPU time per frame spent in the eight ``driver.update``
calls (p50/p99, thread CPU time, so preemption does not count), plus "morph
8": the thread CPU time per frame the eight avatars' morph banks
(:mod:`game.avatar.morph`) spend inside ``renderFrame``. Each row ends with
the 1-minute load average when its run ended: the machine is shared, so
compare rows taken back to back. ``--lp-threads`` lists the llvmpipe thread
counts to try (``LP_NUM_THREADS``). ``--legacy`` adds, right after each
arena run, the same run with the avatars loaded as before issue 4's speed
work (Panda3D's own CPU morphing, one draw call per material).

Targets (product.md): 8 avatars + boss ≥ 60 FPS at 1280×720 on llvmpipe;
applying 8 samples ≤ 1 ms of Python per frame.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

WIDTH, HEIGHT = 1280, 720
WARMUP_FRAMES = 20
RING_RADIUS = 1.55
"""Arena ring radius (scene units; an avatar is about 1 tall)."""


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, math.ceil(q / 100.0 * len(ordered)) - 1))
    return ordered[k]


def bench_solo(frames: int) -> dict[str, Any]:
    """FPS of the real solo scene offscreen (synthetic face, fixed 1/30 s steps)."""
    from game.app import AppSettings, ConvexApp, FrameClock
    from game.avatar.models import avatar_path
    from game.capture.synthetic import SyntheticFeed, SyntheticSource
    from game.config import DEMO_SCRIPT, DEMO_SEED, SIMULATED_DT

    clock = FrameClock()
    feed = SyntheticFeed(SyntheticSource(DEMO_SCRIPT, seed=DEMO_SEED), clock=clock.now).start()
    settings = AppSettings(
        avatar=avatar_path(),
        offscreen=True,
        size=(WIDTH, HEIGHT),
        subject="Bench",
        fixed_dt=SIMULATED_DT,
        autostart=True,
    )
    app = ConvexApp(settings, feed, clock=clock)
    try:
        app.run_frames(WARMUP_FRAMES)
        cpu = time.process_time()
        start = time.perf_counter()
        app.run_frames(frames)
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu
    finally:
        app.teardown()
    return {
        "scene": "solo",
        "frames": frames,
        "fps": frames / elapsed,
        "cpu_ms": cpu / frames * 1000.0,
    }


def _all_shapes_sample(t: float, k: int) -> Any:
    from shared.blendshapes import COUNT
    from shared.face import FaceSample

    weights = tuple(
        0.5 + 0.5 * math.sin(2.0 * math.pi * (0.7 + 0.05 * i) * t + 0.9 * i + 1.7 * k)
        for i in range(COUNT)
    )
    return FaceSample(
        t=t,
        blendshapes=weights,
        yaw=20.0 * math.sin(1.3 * t + k),
        pitch=10.0 * math.sin(0.9 * t + 2 * k),
        roll=6.0 * math.sin(0.7 * t + 3 * k),
    )


def _live_faces() -> list[Any]:
    from game.capture.synthetic import SyntheticSource

    scripts = [
        (("focused", 3.0), ("talking", 2.0), ("smile", 2.0)),
        (("talking", 2.5), ("focused", 2.0), ("away_left", 1.0)),
        (("smile", 2.0), ("focused", 3.0), ("confused", 2.0)),
    ]
    return [SyntheticSource(scripts[k % 3], seed=k) for k in range(8)]


def _morph_ns(rigs: Sequence[Any]) -> int:
    """Thread CPU time the rigs' morph banks have spent so far (they run inside renderFrame)."""
    return sum(bank.update_ns for rig in rigs for bank in rig.morph_banks)


def bench_arena(frames: int, with_boss: bool, live: bool, legacy: bool = False) -> dict[str, Any]:
    """8 avatars (+ the boss), worst case or live faces: FPS, CPU per frame and driver cost.

    ``legacy`` loads the avatars the way they were before issue 4's speed work
    (Panda3D's own CPU morphing, one draw call per material), for comparison.
    """
    from panda3d.core import AmbientLight, DirectionalLight, loadPrcFileData

    from game.avatar.driver import AvatarDriver
    from game.avatar.mapping import AvatarMode
    from game.avatar.models import avatar_path, boss_path, presets
    from game.avatar.rig import AvatarRig
    from game.config import (
        AMBIENT_LIGHT,
        BACKGROUND,
        KEY_LIGHT,
        PRC_COMMON,
        PRC_OFFSCREEN,
        apply_offscreen_env,
    )
    from game.hud.text import load_font

    apply_offscreen_env()
    loadPrcFileData("bench", PRC_COMMON + PRC_OFFSCREEN + f"win-size {WIDTH} {HEIGHT}\n")
    from direct.showbase.ShowBase import ShowBase

    base = ShowBase(windowType="offscreen")
    base.disableMouse()
    base.setBackgroundColor(*BACKGROUND)
    ambient = AmbientLight("ambient")
    ambient.setColor((AMBIENT_LIGHT, AMBIENT_LIGHT, AMBIENT_LIGHT, 1.0))
    base.render.setLight(base.render.attachNewNode(ambient))
    key = DirectionalLight("key")
    key.setColor((KEY_LIGHT, KEY_LIGHT, KEY_LIGHT, 1.0))
    key_np = base.render.attachNewNode(key)
    key_np.setHpr(18.0, -28.0, 0.0)
    base.render.setLight(key_np)
    base.camLens.setMinFov(40.0)
    base.camera.setPos(0.0, -5.2, 2.6)
    base.camera.lookAt(0.0, 0.0, 0.5)
    font = load_font(base.loader)
    names = list(presets())
    drivers = []
    rigs = []
    for k in range(8):
        angle = math.pi * (0.15 + 0.7 * k / 7)  # a front-facing arc, like a party before a boss
        rig = AvatarRig(
            avatar_path(names[k % len(names)]),
            base.render,
            font=font,
            name=f"a{k}",
            vector_morphs=not legacy,
            bake_colours=not legacy,
        )
        rig.actor.setPos(RING_RADIUS * math.cos(angle), -RING_RADIUS * math.sin(angle) + 0.6, 0.0)
        rigs.append(rig)
        drivers.append(AvatarDriver(rig, mirror=False))
    boss = None
    if with_boss:
        from direct.actor.Actor import Actor

        boss = Actor(str(boss_path("dragon")))
        boss.reparentTo(base.render)
        boss.setPos(0.0, 2.2, 0.0)
        boss.setScale(1.2)
    engine = base.graphicsEngine
    dt = 1.0 / 60.0
    faces = _live_faces() if live else []
    apply_ms: list[float] = []
    frame_s: list[float] = []
    cpu = 0.0
    t = 0.0
    try:
        for i in range(WARMUP_FRAMES + frames):
            t += dt
            if live:
                # Remote faces arrive at the relay's 15 Hz; frames in between reuse them.
                tick = math.floor(t * 15.0) / 15.0
                samples = [face.sample_at(tick % face.duration) for face in faces]
            else:
                samples = [_all_shapes_sample(t, k) for k in range(8)]
            if i == WARMUP_FRAMES:
                cpu = time.process_time()
                morph_ns = _morph_ns(rigs)
            start = time.perf_counter()
            # Thread CPU time: what the Python work costs, not how long the OS preempted it.
            apply_start = time.thread_time_ns()
            for driver, sample in zip(drivers, samples, strict=True):
                driver.update(sample, AvatarMode.LIVE, dt)
            apply_ns = time.thread_time_ns() - apply_start
            engine.renderFrame()
            done = time.perf_counter()
            if i >= WARMUP_FRAMES:
                apply_ms.append(apply_ns / 1e6)
                frame_s.append(done - start)
        cpu = time.process_time() - cpu
        morph_ns = _morph_ns(rigs) - morph_ns
        written = sum(int(d.frames_applied) for d in drivers)
    finally:
        for rig in rigs:
            rig.destroy()
        if boss is not None:
            boss.cleanup()
            boss.removeNode()
        base.destroy()
    return {
        "scene": ("arena live" if live else "arena worst")
        + (" +boss" if with_boss else "")
        + (" legacy" if legacy else ""),
        "frames": frames,
        "fps": frames / sum(frame_s),
        "cpu_ms": cpu / frames * 1000.0,
        "apply_p50_ms": statistics.median(apply_ms),
        "apply_p99_ms": _percentile(apply_ms, 99),
        "morph_ms": morph_ns / 1e6 / frames,
        "samples_applied": written,
    }


def _child(args: argparse.Namespace) -> int:
    if args.scene == "solo":
        result = bench_solo(args.frames)
    else:
        result = bench_arena(
            args.frames, with_boss=not args.no_boss, live=args.scene == "live", legacy=args.legacy
        )
    result["lp_threads"] = os.environ.get("LP_NUM_THREADS", "default")
    result["load"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print("RESULT " + json.dumps(result))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run every configuration in its own process and print a table."""
    parser = argparse.ArgumentParser(prog="python bench/render.py", description=__doc__)
    parser.add_argument("--frames", type=int, default=300, help="timed frames per run")
    parser.add_argument(
        "--lp-threads", default="1,2", help="LP_NUM_THREADS values to try (comma-separated)"
    )
    parser.add_argument("--no-boss", action="store_true", help="leave the boss out of the arena")
    parser.add_argument(
        "--legacy",
        action="store_true",
        help="also run the arenas with Panda3D's own morphing and per-material draws (as before)",
    )
    parser.add_argument("--scene", choices=["solo", "arena", "live"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.scene is not None:
        return _child(args)
    runs: list[tuple[str, bool]] = [("solo", False)]
    for scene in ("arena", "live"):
        runs.append((scene, False))
        if args.legacy:
            runs.append((scene, True))  # back to back, so both see the same machine load
    rows = []
    for threads in [s.strip() for s in args.lp_threads.split(",") if s.strip()]:
        for scene, legacy in runs:
            env = dict(os.environ, LP_NUM_THREADS=threads)
            cmd = [sys.executable, str(Path(__file__).resolve()), "--scene", scene,
                   "--frames", str(args.frames)]  # fmt: skip
            if args.no_boss:
                cmd.append("--no-boss")
            if legacy:
                cmd.append("--legacy")
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
            line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
            if proc.returncode != 0 or line is None:
                print(proc.stderr[-2000:], file=sys.stderr)
                return 1
            rows.append(json.loads(line[len("RESULT ") :]))
    print(f"offscreen {WIDTH}×{HEIGHT}, llvmpipe, {args.frames} frames per run")
    header = f"{'scene':<29} {'LP':>3} {'FPS':>6} {'CPU/frame':>10}"
    print(header + f" {'apply 8 p50':>12} {'p99':>9} {'morph 8':>9} {'load':>5}")
    for r in rows:
        p50 = f"{r['apply_p50_ms']:.3f} ms" if "apply_p50_ms" in r else "-"
        p99 = f"{r['apply_p99_ms']:.3f} ms" if "apply_p99_ms" in r else "-"
        morph = f"{r['morph_ms']:.2f} ms" if "morph_ms" in r else "-"
        print(
            f"{r['scene']:<29} {r['lp_threads']:>3} {r['fps']:>6.1f} {r['cpu_ms']:>7.1f} ms"
            f" {p50:>12} {p99:>9} {morph:>9} {r['load']:>5.2f}"
        )
    print(f"load average: 1-minute, at the end of each run; {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
