"""``convex play``: a solo study session with your avatar as a mirror, in a window or offscreen."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Final

from game.commands.common import (
    EXIT_USAGE,
    CommandError,
    non_negative_int,
    positive_float,
    positive_int,
    quietly,
    run_guarded,
)

if TYPE_CHECKING:
    from game.app import FrameClock, LatestFrameTap, SampleFeed
    from game.capture.sources import FrameSource
    from game.capture.tracker import FaceTracker
    from shared.focus import Calibration

PROG: Final[str] = "convex play"

WEBCAM: Final[str] = "webcam"
SYNTHETIC: Final[str] = "synthetic"
"""``--source`` values; anything else is a video file or an image folder."""

DEFAULT_PRESET: Final[str] = "mika"
"""Same as :data:`game.avatar.models.DEFAULT_PRESET` (not imported: keep ``--help`` fast)."""

DEFAULT_USER: Final[str] = "default"
"""Whose calibration the focus rules use, as in ``convex calibrate``."""

DEFAULT_MINUTES: Final[float] = 25.0
"""Same as :data:`game.config.DEFAULT_FOCUS_MINUTES`."""

OFFSCREEN_HINT: Final[str] = (
    "Render without a window instead: convex play --offscreen --frames 300 --screenshot play.png"
)
NO_DISPLAY_HINT: Final[str] = (
    "there is no display to open a window on (neither DISPLAY nor WAYLAND_DISPLAY is set). "
    + OFFSCREEN_HINT
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``play`` to the ``convex`` command."""
    p = subparsers.add_parser(
        "play",
        help="study alone with your avatar as a mirror (pomodoro, focus meter, streak)",
        description="Start a solo study session: your avatar mirrors your face, a pomodoro "
        "timer runs while you focus and pauses if you fall asleep (look away for 15 s). "
        "Keys: SPACE start/pause, E end the session, C local camera preview, Q or ESC quit. "
        "Video never leaves this computer.",
    )
    p.add_argument(
        "--source",
        metavar="webcam|synthetic|PATH",
        default=WEBCAM,
        help="the webcam (default), a scripted demo face (synthetic), or a video file or "
        "folder of images",
    )
    p.add_argument(
        "--camera",
        metavar="INDEX",
        type=non_negative_int,
        default=0,
        help="webcam index (default: 0)",
    )
    p.add_argument(
        "--avatar",
        metavar="GLB",
        type=Path,
        help='your own avatar: a GLB whose morph targets have ARKit names ("perfect sync")',
    )
    p.add_argument(
        "--preset",
        metavar="NAME",
        default=DEFAULT_PRESET,
        help=f"built-in avatar when --avatar is not given: mika, sam, leo or ada "
        f"(default: {DEFAULT_PRESET})",
    )
    p.add_argument("--subject", metavar="S", help="what you are studying (shown and recorded)")
    p.add_argument(
        "--minutes",
        metavar="M",
        type=positive_float,
        default=DEFAULT_MINUTES,
        help=f"length of a focus block (default: {DEFAULT_MINUTES:g})",
    )
    p.add_argument(
        "--user",
        metavar="NAME",
        default=DEFAULT_USER,
        help=f"whose calibration to use, from `convex calibrate` (default: {DEFAULT_USER})",
    )
    p.add_argument(
        "--model",
        metavar="PATH",
        type=Path,
        help="face_landmarker.task to use (default: see `convex model where`)",
    )
    p.add_argument(
        "--offscreen",
        action="store_true",
        help="render without a window (EGL); needs --frames. Time is simulated at 30 frames/s",
    )
    p.add_argument(
        "--frames",
        metavar="N",
        type=positive_int,
        help="stop after N frames (with --offscreen, N/30 s of simulated time)",
    )
    p.add_argument("--screenshot", metavar="PATH", type=Path, help="save the last frame as a PNG")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Entry point of ``convex play``."""
    return run_guarded(PROG, lambda: _play(args))


def display_available(env: dict[str, str] | None = None, platform: str | None = None) -> bool:
    """Whether a window can be opened: on Linux and BSDs, DISPLAY or WAYLAND_DISPLAY must be set."""
    env = dict(os.environ) if env is None else env
    platform = sys.platform if platform is None else platform
    if platform.startswith(("win", "darwin", "cygwin")):
        return True
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def _check_args(args: argparse.Namespace) -> None:
    if args.offscreen and args.frames is None:
        raise CommandError("--offscreen needs --frames N (there is no window to close)", EXIT_USAGE)
    if args.avatar is not None and not args.avatar.is_file():
        raise CommandError(f"--avatar {args.avatar}: no such file", EXIT_USAGE)
    if args.minutes * 60.0 > 4 * 3600.0:
        raise CommandError("--minutes: a focus block is at most 240 minutes", EXIT_USAGE)
    if not args.offscreen and not display_available():
        raise CommandError(NO_DISPLAY_HINT)


def _open_source(args: argparse.Namespace) -> FrameSource:
    from game.capture.sources import (
        CameraUnavailableError,
        FrameSourceError,
        ImageFolderSource,
        PacedSource,
        VideoFileSource,
        WebcamSource,
    )

    if args.source == WEBCAM:
        try:
            return quietly(WebcamSource)(args.camera)
        except CameraUnavailableError as exc:
            raise CommandError(
                f"no webcam: {exc} To try Convex without a camera, use the scripted demo "
                "face: convex play --source synthetic"
            ) from exc
    path = Path(args.source)
    if not path.exists():
        raise CommandError(
            f"--source {path}: no such file or folder (use '{WEBCAM}' for the camera or "
            f"'{SYNTHETIC}' for the demo face)",
            EXIT_USAGE,
        )
    try:
        inner: FrameSource = (
            ImageFolderSource(path) if path.is_dir() else quietly(VideoFileSource)(path)
        )
    except FrameSourceError as exc:
        raise CommandError(str(exc)) from exc
    # A recording plays at its own speed, as a camera would deliver it.
    return PacedSource(inner)


def _calibration(user: str) -> Calibration:
    from game.capture.calibration import (
        CalibrationError,
        load_baseline,
        to_focus_calibration,
    )
    from shared.focus import DEFAULT_CALIBRATION

    try:
        baseline = load_baseline(user)
    except CalibrationError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from exc
    return DEFAULT_CALIBRATION if baseline is None else to_focus_calibration(baseline)


def _avatar(args: argparse.Namespace) -> Path:
    if args.avatar is not None:
        return Path(args.avatar)
    from game.avatar.models import UnknownModelError, avatar_path

    try:
        return avatar_path(args.preset)
    except UnknownModelError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from exc


def _synthetic_feed(clock: FrameClock) -> SampleFeed:
    from game.capture.synthetic import SyntheticFeed, SyntheticSource
    from game.config import DEMO_SCRIPT, DEMO_SEED

    return SyntheticFeed(SyntheticSource(DEMO_SCRIPT, seed=DEMO_SEED), clock=clock.now).start()


def _stop_tracker(tracker: FaceTracker) -> None:
    from game.capture.tracker import TrackerError

    # A worker failure is reported from tracker.error after the app has shut down.
    with contextlib.suppress(TrackerError):
        tracker.stop()


def _play(args: argparse.Namespace) -> int:
    _check_args(args)
    from game.app import AppSettings, ConvexApp, FrameClock, LatestFrameTap, WindowOpenError
    from game.avatar.rig import AvatarLoadError
    from game.config import (
        DEFAULT_BREAK_MINUTES,
        DEFAULT_ROUNDS,
        SIMULATED_DT,
        STREAK_GOAL_MINUTES,
    )
    from game.scenes.history import LocalHistory, local_timezone
    from shared.timer import TimerPlan

    calibration = _calibration(args.user)
    avatar = _avatar(args)
    synthetic = args.source == SYNTHETIC
    clock = FrameClock()
    settings = AppSettings(
        avatar=avatar,
        offscreen=args.offscreen,
        subject=args.subject,
        plan=TimerPlan(args.minutes * 60.0, DEFAULT_BREAK_MINUTES * 60.0, DEFAULT_ROUNDS),
        fixed_dt=SIMULATED_DT if args.offscreen else None,
        autostart=args.offscreen,
        calibration=calibration,
        record_sessions=not synthetic,
    )
    history = LocalHistory(goal_minutes=STREAK_GOAL_MINUTES, timezone=local_timezone())

    with contextlib.ExitStack() as stack:
        tap: LatestFrameTap | None = None
        feed: SampleFeed
        tracker = None
        if synthetic:
            feed = _synthetic_feed(clock)
        else:
            from game.capture.model import ModelError
            from game.capture.tracker import FaceTracker, TrackerError

            tap = stack.enter_context(LatestFrameTap(_open_source(args)))
            tracker = FaceTracker(args.model, source=tap)
            try:
                quietly(tracker.start)()
            except (ModelError, TrackerError) as exc:
                raise CommandError(str(exc)) from exc
            # Stopped (threads joined, landmarker closed) before the source is closed.
            stack.callback(_stop_tracker, tracker)
            feed = tracker
        try:
            app = ConvexApp(settings, feed, clock=clock, frames=tap, history=history)
        except WindowOpenError as exc:
            hint = "" if args.offscreen else " " + OFFSCREEN_HINT
            raise CommandError(f"{exc}.{hint}") from exc
        except AvatarLoadError as exc:
            raise CommandError(str(exc), EXIT_USAGE) from exc
        try:
            if args.frames is not None:
                app.run_frames(args.frames)
            else:
                app.run()
            if args.screenshot is not None and not app.closed:
                written = app.save_screenshot(args.screenshot)
                print(f"wrote {written}")
        finally:
            app.teardown()
        if tracker is not None and tracker.error is not None:
            raise CommandError(f"face tracking stopped: {tracker.error}")
    if args.offscreen:
        print(f"rendered {args.frames} frames ({args.frames * SIMULATED_DT:.1f} s simulated)")
    return 0
