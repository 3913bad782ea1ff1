"""``convex calibrate``: record a relaxed look at the screen and store it as the user's baseline."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Final

from game.commands.common import (
    EXIT_USAGE,
    CommandError,
    ProgressBar,
    non_negative_int,
    positive_float,
    positive_int,
    quietly,
    run_guarded,
    wants_progress,
)

if TYPE_CHECKING:
    from game.capture.sources import FrameSource
    from shared.face import FaceSample

PROG: Final[str] = "convex calibrate"

WEBCAM: Final[str] = "webcam"
"""The ``--source`` value that means the camera (anything else is a video file or image folder)."""

DEFAULT_USER: Final[str] = "default"
"""The user a calibration is stored for when ``--user`` is not given."""

DEFAULT_SECONDS: Final[float] = 5.0
"""Same as :data:`game.capture.calibration.DEFAULT_SECONDS` (not imported: it pulls in NumPy)."""

DEFAULT_CAMERA_WIDTH: Final[int] = 640
DEFAULT_CAMERA_HEIGHT: Final[int] = 480
DEFAULT_CAMERA_FPS: Final[float] = 30.0
"""The webcam mode requested by default (the tracker's design point: 640×480 at 30 fps)."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``calibrate`` to the ``convex`` command."""
    p = subparsers.add_parser(
        "calibrate",
        help="record your neutral face and screen position (per user)",
        description="Look at your screen with a relaxed face for a few seconds. The medians of "
        "the blendshapes and of the head pose are stored as your baseline, in your data "
        "directory ($XDG_DATA_HOME/convex/users/NAME/calibration.json). Numbers only: no image "
        "is kept.",
    )
    p.add_argument(
        "--user",
        metavar="NAME",
        default=DEFAULT_USER,
        help=f"whose calibration (default: {DEFAULT_USER})",
    )
    p.add_argument(
        "--seconds",
        metavar="S",
        type=positive_float,
        default=DEFAULT_SECONDS,
        help=f"how long to record (default: {DEFAULT_SECONDS:g})",
    )
    p.add_argument(
        "--source",
        metavar="webcam|PATH",
        default=WEBCAM,
        help="the webcam (default), or a video file or folder of images of you at your screen",
    )
    p.add_argument(
        "--camera",
        metavar="INDEX",
        type=non_negative_int,
        default=0,
        help="webcam index (default: 0)",
    )
    p.add_argument(
        "--width",
        metavar="W",
        type=positive_int,
        default=DEFAULT_CAMERA_WIDTH,
        help=f"webcam frame width to ask for (default: {DEFAULT_CAMERA_WIDTH})",
    )
    p.add_argument(
        "--height",
        metavar="H",
        type=positive_int,
        default=DEFAULT_CAMERA_HEIGHT,
        help=f"webcam frame height to ask for (default: {DEFAULT_CAMERA_HEIGHT})",
    )
    p.add_argument(
        "--fps",
        metavar="F",
        type=positive_float,
        default=DEFAULT_CAMERA_FPS,
        help="webcam frame rate to ask for; also the rate of an image folder "
        f"(default: {DEFAULT_CAMERA_FPS:g})",
    )
    p.add_argument(
        "--model",
        metavar="PATH",
        type=Path,
        help="face_landmarker.task to use (default: see `convex model where`)",
    )
    p.add_argument(
        "--progress",
        action="store_true",
        help="show the progress bar even when stderr is not a terminal",
    )
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Entry point of ``convex calibrate``."""
    return run_guarded(PROG, lambda: _calibrate(args))


def _open_source(args: argparse.Namespace) -> FrameSource:
    from game.capture.sources import (
        CameraUnavailableError,
        FrameSourceError,
        ImageFolderSource,
        VideoFileSource,
        WebcamSource,
    )

    if args.source == WEBCAM:
        try:
            return quietly(WebcamSource)(
                args.camera, width=args.width, height=args.height, fps=args.fps
            )
        except CameraUnavailableError as exc:
            raise CommandError(
                f"{exc} On a machine without a camera, calibrate from a recording of yourself "
                "at the screen instead: --source VIDEO or --source FOLDER_OF_IMAGES."
            ) from exc
    path = Path(args.source)
    if not path.exists():
        raise CommandError(
            f"--source {path}: no such file or folder (use '{WEBCAM}' for the camera)",
            EXIT_USAGE,
        )
    try:
        if path.is_dir():
            return ImageFolderSource(path, fps=args.fps)
        return quietly(VideoFileSource)(path)
    except FrameSourceError as exc:
        raise CommandError(str(exc)) from exc


def _with_progress(
    samples: Iterable[FaceSample], seconds: float, bar: ProgressBar | None
) -> Iterator[FaceSample]:
    first: float | None = None
    for sample in samples:
        if first is None:
            first = sample.t
        if bar is not None:
            bar.update(min(sample.t - first, seconds), seconds)
        yield sample


def _calibrate(args: argparse.Namespace) -> int:
    from game.capture.calibration import (
        InvalidUserNameError,
        NotEnoughSamplesError,
        analyse_frames,
        calibration_path,
        collect,
        compute_baseline,
        save_baseline,
    )
    from game.capture.model import ModelError
    from game.capture.sources import FrameSourceError
    from game.capture.tracker import FaceAnalyzer

    try:
        calibration_path(args.user)
    except InvalidUserNameError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from exc
    seconds: float = args.seconds

    source = _open_source(args)
    with source:
        try:
            analyzer = quietly(FaceAnalyzer)(args.model)
        except ModelError as exc:
            raise CommandError(str(exc)) from exc
        with analyzer:
            if args.source == WEBCAM:
                print(
                    f"Look at your screen with a relaxed face for {seconds:g} s…",
                    file=sys.stderr,
                    flush=True,
                )
            bar = (
                ProgressBar("calibrate", unit="s", rate_unit=None, decimals=1)
                if wants_progress(args.progress)
                else None
            )
            try:
                samples = collect(
                    _with_progress(analyse_frames(source, analyzer), seconds, bar), seconds
                )
            except FrameSourceError as exc:
                raise CommandError(str(exc)) from exc
            finally:
                if bar is not None:
                    bar.finish()
    try:
        baseline = compute_baseline(samples)
    except NotEnoughSamplesError as exc:
        raise CommandError(str(exc)) from exc
    try:
        saved = save_baseline(baseline, args.user)
    except OSError as exc:
        raise CommandError(f"cannot save the calibration: {exc}") from exc

    span = samples[-1].t - samples[0].t if samples else 0.0
    print(f"Calibration for {args.user} saved to {saved}")
    print(f"  screen centre: yaw {baseline.centre_yaw:+.1f}°, pitch {baseline.centre_pitch:+.1f}°")
    print(f"  from {baseline.samples_used} of {baseline.samples_total} frames over {span:.1f} s")
    print(f"Use it with: convex analyze VIDEO --user {args.user}")
    return 0
