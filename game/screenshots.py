"""``python -m game.screenshots``: regenerate the README's screenshots of the game, offscreen.

Each shot runs the real client (:class:`game.app.ConvexApp`, offscreen, fixed
1/30 s frames) on a scripted synthetic face, so the pictures are what a
player sees and come out the same every time: the solo scene with a neutral
face, a smile, a blink, asleep, and the session summary. The summary plays a
three-minute demo session (logic only, no rendering, so it takes seconds)
with a throwaway local history that holds the two days before, so the
streak badge has something to show.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from game.config import DEMO_SCRIPT, DEMO_SEED, SIMULATED_DT, STREAK_GOAL_MINUTES

if TYPE_CHECKING:
    from game.scenes.history import LocalHistory

DEFAULT_OUT: Final[Path] = Path(__file__).resolve().parent.parent / "docs" / "screenshots"

SUBJECT: Final[str] = "Maths"
"""The subject shown in the screenshots."""

SUMMARY_SECONDS: Final[float] = 180.0
"""Length of the demo session behind the summary screenshot."""

WALL_NOW: Final[float] = 1_780_000_000.0
"""A fixed 'now' (epoch seconds) for the summary's streak, so the picture never changes."""


@dataclass(frozen=True)
class Shot:
    """One picture: a synthetic script, how long to play it, and whether to end on the summary."""

    name: str
    script: tuple[tuple[str, float], ...]
    seconds: float
    summary: bool = False
    idle: bool = True


SHOTS: Final[tuple[Shot, ...]] = (
    Shot("solo-neutral", (("focused", 10.0),), 3.0),
    Shot("solo-smiling", (("focused", 1.0), ("smile", 10.0)), 3.0),
    # The blink segment's lids are fully shut half-way through it.
    Shot("solo-blinking", (("focused", 2.0), ("blink", 0.6), ("focused", 5.0)), 2.3, idle=False),
    Shot("solo-asleep", (("focused", 1.0), ("away_down", 60.0)), 19.0),
    Shot("summary", DEMO_SCRIPT, SUMMARY_SECONDS, summary=True),
)


def _history(folder: Path) -> LocalHistory:
    from game.scenes.history import LocalHistory

    history = LocalHistory(
        folder / "history.json", goal_minutes=STREAK_GOAL_MINUTES, timezone="UTC"
    )
    for days_ago in (2, 1):
        end = WALL_NOW - days_ago * 86_400.0
        history.record(end - 40 * 60.0, end, 30 * 60.0)
    # Today's goal is met by an earlier session too, so the summary shows a 3-day streak.
    history.record(WALL_NOW - 5 * 3600.0, WALL_NOW - 4 * 3600.0, 30 * 60.0)
    return history


def take(shot: Shot, out: Path, avatar: Path) -> Path:
    """Render one shot to ``out/<name>.png``."""
    from game.app import AppSettings, ConvexApp, FrameClock
    from game.capture.synthetic import SyntheticFeed, SyntheticSource
    from game.scenes.base import Command

    clock = FrameClock()
    source = SyntheticSource(
        shot.script, seed=DEMO_SEED, idle_motion=shot.idle, idle_blinks=shot.idle
    )
    feed = SyntheticFeed(source, clock=clock.now).start()
    settings = AppSettings(
        avatar=avatar,
        offscreen=True,
        subject=SUBJECT,
        fixed_dt=SIMULATED_DT,
        autostart=True,
        record_sessions=shot.summary,
        antialias=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        history = _history(Path(tmp)) if shot.summary else None
        app = ConvexApp(settings, feed, clock=clock, history=history, wall_clock=lambda: WALL_NOW)
        try:
            frames = round(shot.seconds / SIMULATED_DT)
            if shot.summary:
                # Logic only: the world advances exactly as in a run, without drawing frames.
                for _ in range(frames):
                    app.advance(SIMULATED_DT)
                app.press(Command.END)
                app.run_frames(3)
            else:
                app.run_frames(frames)
            return app.save_screenshot(out / f"{shot.name}.png")
        finally:
            app.teardown()


def main(argv: Sequence[str] | None = None, *, log: Callable[[str], None] = print) -> int:
    """Write every screenshot; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m game.screenshots", description=__doc__)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the PNGs")
    parser.add_argument("--only", action="append", metavar="NAME", help="take only this shot")
    args = parser.parse_args(argv)
    from game.avatar.models import avatar_path

    avatar = avatar_path()
    wanted = [s for s in SHOTS if not args.only or s.name in args.only]
    if not wanted:
        names = ", ".join(s.name for s in SHOTS)
        print(f"no such shot; choose from {names}", file=sys.stderr)
        return 2
    for shot in wanted:
        log(f"wrote {take(shot, args.out, avatar)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
