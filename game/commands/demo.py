"""``convex demo``: a local server, you, three bots and a ghost in one short boss fight."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Final

from game.commands.common import (
    EXIT_USAGE,
    CommandError,
    non_negative_int,
    positive_float,
    run_guarded,
)

PROG: Final[str] = "convex demo"

DEFAULT_SECONDS: Final[float] = 20.0
"""Same as :data:`game.demo.DEFAULT_SECONDS` (not imported: keep ``--help`` fast)."""

MIN_SECONDS: Final[float] = 8.0
"""Same as :data:`game.demo.MIN_SECONDS`."""

MAX_SECONDS: Final[float] = 600.0
"""Longest fight the demo plays (it runs in real time)."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``demo`` to the ``convex`` command."""
    p = subparsers.add_parser(
        "demo",
        help="see the whole game at once: a local server, three bots, a ghost, a boss fight",
        description="Start a local Convex server in this process (temporary database), join "
        "it with your webcam (or a scripted face when there is none), add three bots (one "
        "focused, one who looks away and falls asleep, one who glances around) and a ghost of "
        "an earlier session, and fight a boss together. Runs in real time; Q quits.",
    )
    p.add_argument(
        "--seconds",
        metavar="N",
        type=positive_float,
        default=DEFAULT_SECONDS,
        help=f"length of the fight's focus block (default: {DEFAULT_SECONDS:g})",
    )
    p.add_argument(
        "--source",
        choices=("webcam", "synthetic"),
        default="webcam",
        help="your face: the webcam (default; falls back to the scripted face) or synthetic",
    )
    p.add_argument(
        "--camera", metavar="INDEX", type=non_negative_int, default=0, help="webcam index"
    )
    p.add_argument(
        "--offscreen",
        action="store_true",
        help="render without a window (EGL) and stop after the results; needs --out",
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        type=Path,
        help="write screenshots (arena and results) and summary.json here",
    )
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Entry point of ``convex demo``."""
    return run_guarded(PROG, lambda: _demo(args))


def _demo(args: argparse.Namespace) -> int:
    if not MIN_SECONDS <= args.seconds <= MAX_SECONDS:
        raise CommandError(
            f"--seconds must be between {MIN_SECONDS:g} and {MAX_SECONDS:g}", EXIT_USAGE
        )
    if args.offscreen and args.out is None:
        raise CommandError(
            "--offscreen needs --out DIR (there is no window to look at)", EXIT_USAGE
        )
    if not args.offscreen:
        from game.commands.play import NO_DISPLAY_HINT, display_available

        if not display_available():
            raise CommandError(
                NO_DISPLAY_HINT.replace(
                    "convex play --offscreen --frames 300 --screenshot play.png",
                    "convex demo --offscreen --out demo-out",
                )
            )
    from game.app import WindowOpenError
    from game.demo import DemoError, DemoOptions, run_demo

    options = DemoOptions(
        seconds=args.seconds,
        offscreen=args.offscreen,
        out=args.out,
        source=args.source,
        camera=args.camera,
    )
    try:
        report = run_demo(options)
    except (DemoError, WindowOpenError) as exc:
        raise CommandError(str(exc)) from exc
    if report.outcome == "ongoing":
        print("stopped before the end of the fight")
        return 0
    damage = ", ".join(
        f"{'ghost of ' if m['is_ghost'] else ''}{m['username']} {m['damage']:.0f}"
        for m in report.members
    )
    print(f"{report.outcome}: the {report.boss_kind} fell to {damage} (MVP {report.mvp})")
    if report.slept:
        print(f"asleep during the fight: {', '.join(report.slept)}")
    if args.out is not None:
        print(f"wrote {len(report.screenshots)} screenshots and summary.json to {args.out}")
    return 0
