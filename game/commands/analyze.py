"""``convex analyze VIDEO``: the focus pipeline over a recording, a summary, and three report files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Final

from game.commands.common import (
    EXIT_USAGE,
    CommandError,
    ProgressBar,
    positive_int,
    quietly,
    run_guarded,
    wants_progress,
)

PROG: Final[str] = "convex analyze"

DEFAULT_OUT_ROOT: Final[Path] = Path("convex-analysis")
"""Reports go to ``./convex-analysis/<video stem>/`` unless ``--out`` says otherwise."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``analyze`` to the ``convex`` command."""
    p = subparsers.add_parser(
        "analyze",
        help="analyse a recording offline: focus timeline (JSON, CSV) and a report picture",
        description="Run the face tracker and the focus rules over a video file and write "
        "timeline.json, timeline.csv and report.png. Nothing leaves this machine.",
    )
    p.add_argument("video", metavar="VIDEO", type=Path, help="the recording to analyse")
    p.add_argument("--subject", metavar="S", help="what was being studied (tags confusion)")
    p.add_argument(
        "--out",
        metavar="DIR",
        type=Path,
        help="where to write the reports (default: ./convex-analysis/<video name>/)",
    )
    p.add_argument(
        "--user",
        metavar="NAME",
        help="use NAME's calibration (recorded with `convex calibrate --user NAME`)",
    )
    p.add_argument(
        "--model",
        metavar="PATH",
        type=Path,
        help="face_landmarker.task to use (default: see `convex model where`)",
    )
    p.add_argument(
        "--every",
        metavar="N",
        type=positive_int,
        default=1,
        help="analyse only every N-th frame (faster; at most 1 s apart)",
    )
    p.add_argument(
        "--progress",
        action="store_true",
        help="show the progress bar even when stderr is not a terminal",
    )
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Entry point of ``convex analyze``."""
    return run_guarded(PROG, lambda: _analyze(args))


def _analyze(args: argparse.Namespace) -> int:
    video: Path = args.video
    if not video.exists():
        raise CommandError(f"{video}: no such file", EXIT_USAGE)
    if not video.is_file():
        raise CommandError(f"{video} is not a file", EXIT_USAGE)
    out_dir: Path = args.out if args.out is not None else DEFAULT_OUT_ROOT / video.stem
    if out_dir.exists() and not out_dir.is_dir():
        raise CommandError(f"--out {out_dir} exists and is not a directory", EXIT_USAGE)

    # Heavy imports (OpenCV, NumPy, MediaPipe, matplotlib) only once the command really runs.
    from game.analysis.pipeline import (
        InvalidStepError,
        MissingCalibrationError,
        NoFaceFoundError,
        UserCalibration,
        analyze_video,
        load_user_calibration,
    )
    from game.analysis.report import format_events, format_summary_table, write_report
    from game.capture.calibration import CorruptCalibrationError, InvalidUserNameError
    from game.capture.model import ModelError
    from game.capture.sources import VideoFileError, VideoFileSource
    from game.capture.tracker import FaceAnalyzer

    calibration: UserCalibration | None = None
    if args.user is not None:
        try:
            calibration = load_user_calibration(args.user)
        except InvalidUserNameError as exc:
            raise CommandError(str(exc), EXIT_USAGE) from exc
        except (MissingCalibrationError, CorruptCalibrationError) as exc:
            raise CommandError(str(exc)) from exc

    bar = ProgressBar("analyze") if wants_progress(args.progress) else None
    try:
        timeline = analyze_video(
            video,
            subject=args.subject,
            model=args.model,
            calibration=calibration,
            every=args.every,
            progress=None if bar is None else bar.update,
            open_source=quietly(VideoFileSource),
            open_analyzer=quietly(FaceAnalyzer),
        )
    except InvalidStepError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from exc
    except (VideoFileError, ModelError, NoFaceFoundError) as exc:
        raise CommandError(str(exc)) from exc
    finally:
        if bar is not None:
            bar.finish()

    try:
        paths = write_report(timeline, out_dir)
    except OSError as exc:
        raise CommandError(f"cannot write the reports into {out_dir}: {exc}") from exc

    print(format_summary_table(timeline))
    print()
    print(format_events(timeline))
    print()
    print("Wrote:")
    for path in paths:
        print(f"  {path}")
    sys.stdout.flush()
    return 0
