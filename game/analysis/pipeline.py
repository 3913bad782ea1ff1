"""The offline pipeline: a recording → MediaPipe face samples → the shared focus rules → a timeline.

:func:`analyze_video` decodes the file with :class:`game.capture.sources.VideoFileSource` (times
come from the file, not the wall clock), keeps every ``every``-th frame, runs each through one
:class:`game.capture.tracker.FaceAnalyzer` in VIDEO mode via
:func:`game.capture.calibration.analyse_frames` (nothing is dropped, timestamps forced strictly
increasing), and folds the samples through a :class:`game.analysis.timeline.TimelineBuilder`. A
recording in which no frame shows a face is refused with :class:`NoFaceFoundError`: a timeline of
pure absence would only say the camera pointed elsewhere.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from game.analysis.timeline import AnalysisMeta, CalibrationInfo, Timeline, TimelineBuilder
from game.capture.calibration import (
    analyse_frames,
    calibration_path,
    load_baseline,
    to_focus_calibration,
)
from game.capture.model import MODEL_SHA256
from game.capture.sources import Frame, VideoFileSource
from shared.focus import DEFAULT_CALIBRATION, GAP_CAP_S, Calibration

if TYPE_CHECKING:
    from game.capture.tracker import FaceAnalyzer

ProgressCallback = Callable[[int, int | None], None]
"""Called as ``progress(frames_decoded, frames_total_or_None)`` after each decoded frame."""

AnalyzerFactory = Callable[[str | Path | None], "FaceAnalyzer"]
"""Makes the :class:`~game.capture.tracker.FaceAnalyzer` for a model path (None = resolve)."""

MAX_STEP_S: Final[float] = GAP_CAP_S
"""Longest time between analysed frames: the focus rules count longer gaps as uncertain."""


class AnalysisError(Exception):
    """Base class for problems that stop an analysis."""


class InvalidStepError(AnalysisError, ValueError):
    """``every`` is not a positive integer, or spaces analysed frames further than the rules allow."""


class NoFaceFoundError(AnalysisError, ValueError):
    """Not one analysed frame of the recording shows a face."""

    def __init__(self, source: str, frames: int) -> None:
        super().__init__(f"no face found in any of {frames} frames of {source}")
        self.source = source
        self.frames = frames


class MissingCalibrationError(AnalysisError, LookupError):
    """A user was named whose calibration has not been recorded."""


@dataclass(frozen=True, slots=True)
class UserCalibration:
    """A user's stored calibration, as the focus rules use it and as the report describes it."""

    calibration: Calibration
    info: CalibrationInfo


def load_user_calibration(user: str, env: Mapping[str, str] | None = None) -> UserCalibration:
    """``user``'s saved calibration; :class:`MissingCalibrationError` if there is none.

    An unsafe user name raises :class:`game.capture.calibration.InvalidUserNameError` and a
    damaged file :class:`game.capture.calibration.CorruptCalibrationError`.
    """
    path = calibration_path(user, env)
    baseline = load_baseline(user, env)
    if baseline is None:
        raise MissingCalibrationError(
            f"user {user!r} has no calibration yet ({path} does not exist); record one with "
            f"`convex calibrate --user {user}`"
        )
    info = CalibrationInfo(
        user=user,
        path=str(path),
        centre_yaw=baseline.centre_yaw,
        centre_pitch=baseline.centre_pitch,
        samples_used=baseline.samples_used,
    )
    return UserCalibration(to_focus_calibration(baseline), info)


def _default_factory(model: str | Path | None) -> FaceAnalyzer:
    from game.capture.tracker import FaceAnalyzer

    return FaceAnalyzer(model)


class _Thinned:
    """Every ``every``-th frame of ``frames``, counting decoded frames and noting the frame size."""

    def __init__(
        self,
        frames: Iterable[Frame],
        every: int,
        total: int | None,
        progress: ProgressCallback | None,
    ) -> None:
        self._frames = frames
        self._every = every
        self._total = total
        self._progress = progress
        self.decoded = 0
        self.width = 0
        self.height = 0

    def __iter__(self) -> Iterator[Frame]:
        for index, frame in enumerate(self._frames):
            self.decoded = index + 1
            if index % self._every == 0:
                if not self.width:
                    self.height, self.width = frame.rgb.shape[:2]
                yield frame
            # Reported after the consumer is done with the frame, so "done" means analysed.
            if self._progress is not None:
                self._progress(self.decoded, self._total)


def check_step(every: int, fps: float | None) -> None:
    """Refuse an ``every`` that is not ≥ 1, or that spaces frames more than :data:`MAX_STEP_S`."""
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise InvalidStepError(f"--every must be a whole number ≥ 1, got {every!r}")
    if fps is not None and every / fps > MAX_STEP_S + 1e-9:
        most = max(1, math.floor(fps * MAX_STEP_S + 1e-9))
        raise InvalidStepError(
            f"--every {every} at {fps:g} fps analyses one frame every {every / fps:.2f} s; the "
            f"focus rules treat gaps over {MAX_STEP_S:g} s as lost tracking (use --every {most} "
            "or less)"
        )


def analyze_video(
    path: str | os.PathLike[str],
    *,
    subject: str | None = None,
    model: str | Path | None = None,
    calibration: UserCalibration | None = None,
    every: int = 1,
    progress: ProgressCallback | None = None,
    open_source: Callable[[Path], VideoFileSource] = VideoFileSource,
    open_analyzer: AnalyzerFactory = _default_factory,
) -> Timeline:
    """Analyse a recording end to end; see the module docstring.

    Raises :class:`game.capture.sources.VideoFileError` (missing or undecodable file),
    :class:`game.capture.model.ModelError` (no usable model), :class:`InvalidStepError` and
    :class:`NoFaceFoundError`. ``open_source``/``open_analyzer`` let a caller wrap the opening
    steps (the command line silences native library chatter there).
    """
    check_step(every, None)
    source_path = Path(path)
    with open_source(source_path) as source:
        check_step(every, source.fps)
        frames = _Thinned(source, every, source.frame_count, progress)
        with open_analyzer(model) as analyzer:
            builder = TimelineBuilder(
                DEFAULT_CALIBRATION if calibration is None else calibration.calibration,
                subject=subject,
            )
            builder.extend(analyse_frames(frames, analyzer))
            model_path = str(analyzer.model_path)
    if builder.face_frames == 0:
        raise NoFaceFoundError(str(path), builder.frames)
    meta = AnalysisMeta(
        source=str(path),
        subject=subject,
        model_path=model_path,
        # FaceAnalyzer only opens a model that resolve_model() verified against this hash.
        model_sha256=MODEL_SHA256,
        fps=source.fps,
        every=every,
        frames_decoded=frames.decoded,
        width=frames.width,
        height=frames.height,
        calibration=None if calibration is None else calibration.info,
    )
    return builder.finish(meta)
