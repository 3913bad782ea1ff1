"""``python -m assets.build``: rebuild the avatar presets and bosses into GLBs, or check them.

Examples::

    python -m assets.build                      # everything into assets/models/
    python -m assets.build --preset mika --boss slime --out /tmp/models
    python -m assets.build --check              # exit 1 if a committed model is stale
"""

from __future__ import annotations

import argparse
import functools
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final

from assets import avatar, boss

MODELS_DIR: Final[Path] = Path(__file__).resolve().parent / "models"
"""Where the built models live (committed, shipped as package data)."""


def avatar_file(preset: str) -> str:
    """File name of an avatar preset's GLB."""
    return f"avatar-{preset}.glb"


def boss_file(kind: str) -> str:
    """File name of a boss's GLB."""
    return f"boss-{kind}.glb"


def catalogue(
    presets: Sequence[str] | None = None, bosses: Sequence[str] | None = None
) -> dict[str, Callable[[], bytes]]:
    """File name → builder for the chosen presets and bosses (all of both when neither is given)."""
    if presets is None and bosses is None:
        presets, bosses = list(avatar.PRESETS), list(boss.BOSS_KINDS)
    out: dict[str, Callable[[], bytes]] = {}
    for preset in presets or ():
        out[avatar_file(preset)] = functools.partial(
            avatar.build_glb, avatar.AvatarStyle.preset(preset), preset
        )
    for kind in bosses or ():
        if kind not in boss.BOSS_KINDS:
            raise boss.UnknownBossError(
                f"unknown boss {kind!r}; choose one of {', '.join(boss.BOSS_KINDS)}"
            )
        out[boss_file(kind)] = functools.partial(boss.build_glb, kind)
    return out


def _kb(size: int) -> str:
    return f"{size / 1024:7.1f} KB"


def build(out_dir: Path, models: dict[str, Callable[[], bytes]]) -> int:
    """Write every model, one progress line each; returns the total size in bytes."""
    out_dir.mkdir(parents=True, exist_ok=True)
    total = 0
    for i, (name, make) in enumerate(models.items(), 1):
        start = time.perf_counter()
        data = make()
        (out_dir / name).write_bytes(data)
        total += len(data)
        took = time.perf_counter() - start
        print(f"[{i}/{len(models)}] {name:<22} {_kb(len(data))}  ({took:.1f} s)", flush=True)
    print(f"total {_kb(total).strip()} in {out_dir}")
    return total


def check(out_dir: Path, models: dict[str, Callable[[], bytes]]) -> list[str]:
    """Names of the models whose file is missing or differs from a fresh build (in memory)."""
    stale = []
    for i, (name, make) in enumerate(models.items(), 1):
        path = out_dir / name
        fresh = make()
        if not path.is_file():
            verdict = "missing"
        elif path.read_bytes() != fresh:
            verdict = "STALE"
        else:
            verdict = "ok"
        if verdict != "ok":
            stale.append(name)
        print(f"[{i}/{len(models)}] {name:<22} {verdict}", flush=True)
    return stale


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m assets.build", description="Build Convex's avatar and boss GLBs."
    )
    parser.add_argument("--out", type=Path, default=MODELS_DIR, help="output folder")
    parser.add_argument(
        "--preset",
        action="append",
        choices=list(avatar.PRESETS),
        help="build only this avatar preset (repeatable)",
    )
    parser.add_argument(
        "--boss", action="append", choices=list(boss.BOSS_KINDS), help="build only this boss"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="rebuild in memory and exit 1 if any file in --out differs",
    )
    args = parser.parse_args(argv)
    models = catalogue(args.preset, args.boss)
    if args.check:
        stale = check(args.out, models)
        if stale:
            print(f"{len(stale)} model(s) out of date: run python -m assets.build", file=sys.stderr)
            return 1
        print("all models up to date")
        return 0
    build(args.out, models)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
