"""MediaPipe face tracking: ``FaceAnalyzer`` (frame → sample) and ``FaceTracker`` (its thread).

Theory of operation
-------------------
:class:`FaceAnalyzer` wraps one MediaPipe ``FaceLandmarker`` (Tasks API, VIDEO
mode, one face, blendshapes and the facial transformation matrix on) and turns
each RGB frame into a :class:`shared.face.FaceSample`: the 52 blendshape scores
in MediaPipe's order (checked against :data:`shared.blendshapes.NAMES` on the
first face), yaw/pitch/roll from :func:`game.capture.pose.pose_from_matrix`,
``present`` and a derived ``confidence``. VIDEO mode needs strictly increasing
millisecond timestamps; :meth:`FaceAnalyzer.process` refuses anything else with
:class:`TimestampOrderError` and changes nothing. Offline analysis and the
benchmark call it directly.

:class:`FaceTracker` runs an analyzer on a background thread. Producers
:meth:`~FaceTracker.submit` frames into a single **latest-frame slot**: a frame
that arrives while an older one still waits replaces it and counts as dropped,
so the worker always starts on the newest frame and a slow model can never
build a backlog. Each result replaces the published sample, which readers
(the render loop) fetch with :meth:`~FaceTracker.latest` without waiting. Given
a :class:`~game.capture.sources.FrameSource`, the tracker also runs a reader
thread that iterates it into the slot (a webcam read blocks for up to a frame
period, so it cannot share the worker thread). The landmarker is created and
closed on the worker thread; it is closed on every exit path, and
:meth:`~FaceTracker.stop` joins both threads and re-raises a worker failure as
:class:`TrackerError`.

Confidence
----------
The Tasks API returns no per-face score: a face is returned only when
MediaPipe's own detection, presence and tracking scores pass their thresholds
(0.5 each by default). On top of that gate we report how far the
blendshapes can be trusted:
``confidence = size_factor × inside_fraction``, where ``size_factor`` ramps
linearly from 0 at a face of :data:`MIN_FACE_PX` to 1 at :data:`FULL_FACE_PX`
(the geometric mean of the face outline's box width and height in pixels), and
``inside_fraction`` is the share of the 36 outline landmarks (:data:`FACE_OVAL`)
that lie inside the image (MediaPipe extrapolates landmarks past the border for
a half-visible face). A far-away or half-cropped face therefore drops below 0.5, which the
focus rules treat as *uncertain*. No face gives ``present=False``,
``confidence=0``.

Mirroring
---------
The tracker always receives the camera's un-mirrored image, so
``*Left``/``*Right`` blendshapes and the signs of yaw and roll refer to the
subject's own face (see :mod:`shared.face`). Selfie mirroring is applied by the
display only.
"""

from __future__ import annotations

import contextlib
import math
import operator
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self

import mediapipe as mp
from mediapipe.tasks.python import BaseOptions, vision

from game.capture.model import resolve_model
from game.capture.pose import pose_from_matrix
from game.capture.sources import Frame, FrameSource, InvalidFrameError, RGBImage, check_rgb
from shared.blendshapes import COUNT, NAMES
from shared.face import FaceSample

MIN_FACE_PX: Final[float] = 16.0
"""Face size (px, geometric mean of the landmark box) at and below which confidence is 0."""

FULL_FACE_PX: Final[float] = 64.0
"""Face size (px) from which the size factor of confidence is 1; 40 px gives 0.5."""

FACE_OVAL: Final[tuple[int, ...]] = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
    152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)  # fmt: skip
"""The 36 landmarks of the face outline (MediaPipe's FACE_OVAL), from the forehead clockwise."""

DETECTION_THRESHOLD: Final[float] = 0.5
PRESENCE_THRESHOLD: Final[float] = 0.5
TRACKING_THRESHOLD: Final[float] = 0.5
"""MediaPipe's own gates (its defaults): below them it reports no face at all."""

START_TIMEOUT_S: Final[float] = 30.0
"""How long :meth:`FaceTracker.start` waits for the model to load (normally 50–150 ms)."""

STOP_TIMEOUT_S: Final[float] = 10.0
"""How long :meth:`FaceTracker.stop` waits for each thread to finish."""


class TimestampOrderError(ValueError):
    """A frame time that is negative or not strictly after the previous one (VIDEO mode)."""


class AnalyzerClosedError(RuntimeError):
    """:meth:`FaceAnalyzer.process` called after :meth:`FaceAnalyzer.close`."""


class ModelOutputError(RuntimeError):
    """MediaPipe returned blendshapes or a pose matrix that do not match what we configured."""


class TrackerError(RuntimeError):
    """The tracker thread failed, or the tracker was used in the wrong state."""


def landmarker_options(
    model_path: str | Path,
    *,
    min_detection_confidence: float = DETECTION_THRESHOLD,
    min_presence_confidence: float = PRESENCE_THRESHOLD,
    min_tracking_confidence: float = TRACKING_THRESHOLD,
) -> vision.FaceLandmarkerOptions:
    """The FaceLandmarker options we always use (VIDEO mode, one face, blendshapes, matrix)."""
    return vision.FaceLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(model_path)),
        running_mode=vision.RunningMode.VIDEO,
        num_faces=1,
        min_face_detection_confidence=min_detection_confidence,
        min_face_presence_confidence=min_presence_confidence,
        min_tracking_confidence=min_tracking_confidence,
        output_face_blendshapes=True,
        output_facial_transformation_matrixes=True,
    )


def to_mp_image(rgb: RGBImage) -> mp.Image:
    """A MediaPipe SRGB image of a validated, contiguous RGB frame (MediaPipe copies the pixels)."""
    return mp.Image(image_format=mp.ImageFormat.SRGB, data=check_rgb(rgb))


def face_confidence(landmarks: Sequence[Any], width: int, height: int) -> float:
    """Derived confidence in [0, 1]: the face's pixel size times its share inside the image."""
    if len(landmarks) <= max(FACE_OVAL):
        return 0.0
    outline = [landmarks[i] for i in FACE_OVAL]
    xs = [lm.x for lm in outline]
    ys = [lm.y for lm in outline]
    inside = sum(1 for x, y in zip(xs, ys, strict=True) if 0.0 <= x <= 1.0 and 0.0 <= y <= 1.0)
    inside_fraction = inside / len(outline)
    box_w = (max(xs) - min(xs)) * width
    box_h = (max(ys) - min(ys)) * height
    size_px = math.sqrt(max(box_w, 0.0) * max(box_h, 0.0))
    size_factor = (size_px - MIN_FACE_PX) / (FULL_FACE_PX - MIN_FACE_PX)
    confidence = min(1.0, max(0.0, size_factor)) * inside_fraction
    return confidence if math.isfinite(confidence) else 0.0


def _clamp01(x: float) -> float:
    # max() keeps its first argument when the comparison is False, so NaN maps to 0.
    return min(1.0, max(0.0, x))


class FaceAnalyzer:
    """One MediaPipe FaceLandmarker in VIDEO mode: ``process(rgb, t_ms)`` → :class:`FaceSample`.

    Not thread-safe: use it from one thread (the tracker's worker, or an
    offline loop). Always close it, or use it as a context manager.
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        min_detection_confidence: float = DETECTION_THRESHOLD,
        min_presence_confidence: float = PRESENCE_THRESHOLD,
        min_tracking_confidence: float = TRACKING_THRESHOLD,
    ) -> None:
        self.model_path = resolve_model(model_path)
        self._landmarker = vision.FaceLandmarker.create_from_options(
            landmarker_options(
                self.model_path,
                min_detection_confidence=min_detection_confidence,
                min_presence_confidence=min_presence_confidence,
                min_tracking_confidence=min_tracking_confidence,
            )
        )
        self._closed = False
        self._last_ms: int | None = None
        self._names_checked = False

    @property
    def landmarker(self) -> vision.FaceLandmarker:
        """The MediaPipe object itself (still reachable after :meth:`close`, for inspection)."""
        return self._landmarker

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has released the landmarker."""
        return self._closed

    @property
    def last_timestamp_ms(self) -> int | None:
        """The timestamp of the last processed frame; the next one must be larger."""
        return self._last_ms

    def process(self, rgb: RGBImage, t_ms: int, *, t: float | None = None) -> FaceSample:
        """Analyse one frame taken at ``t_ms`` (strictly increasing); ``t`` defaults to t_ms/1e3."""
        if self._closed:
            raise AnalyzerClosedError("this FaceAnalyzer is closed")
        t_ms = operator.index(t_ms)
        if t_ms < 0:
            raise TimestampOrderError(f"frame timestamp {t_ms} ms is negative")
        if self._last_ms is not None and t_ms <= self._last_ms:
            raise TimestampOrderError(
                f"frame timestamp {t_ms} ms is not after the previous one ({self._last_ms} ms); "
                "MediaPipe's VIDEO mode needs strictly increasing timestamps"
            )
        image = to_mp_image(rgb)
        sample_t = t_ms / 1000.0 if t is None else t
        if not math.isfinite(sample_t):
            raise InvalidFrameError(f"frame time must be finite, got {sample_t!r}")
        # MediaPipe may have recorded the timestamp even if detection then fails.
        self._last_ms = t_ms
        result = self._landmarker.detect_for_video(image, t_ms)
        return self._to_sample(result, sample_t, image.width, image.height)

    def _to_sample(
        self, result: vision.FaceLandmarkerResult, t: float, width: int, height: int
    ) -> FaceSample:
        if not result.face_landmarks:
            return FaceSample.absent(t)
        if not result.face_blendshapes or not result.facial_transformation_matrixes:
            raise ModelOutputError("MediaPipe returned a face without blendshapes or pose matrix")
        categories = result.face_blendshapes[0]
        if not self._names_checked:
            names = tuple(c.category_name for c in categories)
            if names != NAMES:
                raise ModelOutputError(
                    f"MediaPipe's blendshapes ({len(names)}) are not the {COUNT} expected, "
                    f"in order: first mismatch among {names[:3]}…"
                )
            self._names_checked = True
        weights = tuple(_clamp01(float(c.score)) for c in categories)
        pose = pose_from_matrix(result.facial_transformation_matrixes[0])
        return FaceSample(
            t=t,
            blendshapes=weights,
            yaw=pose.yaw,
            pitch=pose.pitch,
            roll=pose.roll,
            confidence=face_confidence(result.face_landmarks[0], width, height),
            present=True,
        )

    def close(self) -> None:
        """Release the landmarker (its native graph and worker thread). Safe to call twice."""
        if not self._closed:
            self._closed = True
            self._landmarker.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


@dataclass(frozen=True, slots=True)
class TrackerStats:
    """Counters of a :class:`FaceTracker`; once stopped, submitted = processed + dropped."""

    submitted: int
    """Frames handed to :meth:`FaceTracker.submit` (by the caller or the reader thread)."""
    processed: int
    """Frames the model analysed; each published one sample."""
    dropped: int
    """Frames replaced in the slot by a newer one before the worker took them (or left at stop)."""
    source_frames: int
    """Frames the reader thread took from the source (0 without a source)."""


class FaceTracker:
    """Runs a :class:`FaceAnalyzer` on a background thread over a latest-frame slot.

    Use as a context manager, or call :meth:`start` and :meth:`stop`. Feed it
    with :meth:`submit` or give it a ``source``; the tracker iterates the
    source but does not close it (close it after :meth:`stop`, e.g. with both
    in one ``with`` statement, source first). ``on_sample`` (optional) runs on
    the worker thread after each published sample; keep it short, and an
    exception from it stops the tracker.
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        source: FrameSource | None = None,
        on_sample: Callable[[FaceSample], None] | None = None,
        analyzer_factory: Callable[[], FaceAnalyzer] | None = None,
        name: str = "convex-face",
    ) -> None:
        self._factory = analyzer_factory or (lambda: FaceAnalyzer(model_path))
        self._source = source
        self._on_sample = on_sample
        self._name = name
        self._cond = threading.Condition()
        self._slot: Frame | None = None
        self._last_submitted_t = -math.inf
        self._busy = False
        self._stopping = False
        self._started = False
        self._stopped = False
        self._latest: FaceSample | None = None
        self._seq = 0
        self._submitted = 0
        self._processed = 0
        self._dropped = 0
        self._source_frames = 0
        self._source_done = source is None
        self._error: BaseException | None = None
        self._analyzer: FaceAnalyzer | None = None
        self._ready = threading.Event()
        self._worker: threading.Thread | None = None
        self._reader: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        """Load the model on the worker thread, wait until it is ready, then start the reader."""
        if self._started:
            raise TrackerError("a FaceTracker can be started only once")
        self._started = True
        self._worker = threading.Thread(target=self._run_worker, name=f"{self._name}-worker")
        self._worker.daemon = True
        self._worker.start()
        if not self._ready.wait(START_TIMEOUT_S):
            self._stop_threads()
            raise TrackerError(f"the face model did not load within {START_TIMEOUT_S} s")
        if self._error is not None:
            self._worker.join(STOP_TIMEOUT_S)
            self._stopped = True
            raise TrackerError(f"the face tracker could not start: {self._error}") from self._error
        if self._source is not None:
            self._reader = threading.Thread(target=self._run_reader, name=f"{self._name}-reader")
            self._reader.daemon = True
            self._reader.start()
        return self

    def stop(self) -> None:
        """Stop and join both threads; the landmarker is closed. Re-raises a worker failure."""
        if not self._started or self._stopped:
            return
        self._stopped = True
        self._stop_threads()
        if self._error is not None:
            raise TrackerError(f"the face tracker failed: {self._error}") from self._error

    def _stop_threads(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for thread in (self._reader, self._worker):
            if thread is not None:
                thread.join(STOP_TIMEOUT_S)
                if thread.is_alive():
                    raise TrackerError(
                        f"thread {thread.name} did not stop within {STOP_TIMEOUT_S} s"
                    )
        with self._cond:
            if self._slot is not None:
                self._slot = None
                self._dropped += 1

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.stop()
            return
        # The exception already in flight is the one to report.
        with contextlib.suppress(TrackerError):
            self.stop()

    # -- producer side -----------------------------------------------------------------------

    def submit(self, t: float, rgb: RGBImage) -> bool:
        """Put a frame in the slot; returns True if it replaced (dropped) one still waiting.

        ``t`` (seconds) must be finite and strictly after the previous frame's.
        """
        if not math.isfinite(t):
            raise InvalidFrameError(f"frame time must be finite, got {t!r}")
        replaced = self._put(Frame(t, check_rgb(rgb)), from_reader=False)
        return bool(replaced)

    def _put(self, frame: Frame, *, from_reader: bool) -> bool | None:
        """Fill the slot; None if the reader raced with :meth:`stop` (the frame is discarded)."""
        with self._cond:
            if self._stopping and from_reader:
                return None
            if not self._started or self._stopping:
                raise TrackerError("submit() needs a running tracker (call start() first)")
            if frame.t <= self._last_submitted_t:
                raise TimestampOrderError(
                    f"frame time {frame.t} s is not after the previous frame's "
                    f"({self._last_submitted_t} s)"
                )
            self._last_submitted_t = frame.t
            replaced = self._slot is not None
            if replaced:
                self._dropped += 1
            self._slot = frame
            self._submitted += 1
            if from_reader:
                self._source_frames += 1
            self._cond.notify_all()
            return replaced

    # -- consumer side -----------------------------------------------------------------------

    def latest(self) -> FaceSample | None:
        """The newest published sample, or None before the first; never blocks on the model."""
        return self._latest

    def wait_for_sample(
        self, after_seq: int = 0, timeout: float | None = None
    ) -> tuple[int, FaceSample] | None:
        """Wait for a sample newer than ``after_seq``: (seq, sample), or None on timeout or stop."""
        with self._cond:
            self._cond.wait_for(
                lambda: self._seq > after_seq or self._stopping or self._error is not None,
                timeout,
            )
            if self._seq > after_seq and self._latest is not None:
                return self._seq, self._latest
            return None

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until the source is done and every frame processed or dropped; False on timeout."""
        with self._cond:
            return (
                self._cond.wait_for(
                    lambda: (
                        self._error is not None
                        or self._stopping
                        or (self._source_done and self._slot is None and not self._busy)
                    ),
                    timeout,
                )
                and self._error is None
            )

    @property
    def stats(self) -> TrackerStats:
        """A consistent snapshot of the counters."""
        with self._cond:
            return TrackerStats(
                submitted=self._submitted,
                processed=self._processed,
                dropped=self._dropped,
                source_frames=self._source_frames,
            )

    @property
    def error(self) -> BaseException | None:
        """What stopped the worker or reader thread, if anything did."""
        return self._error

    @property
    def analyzer(self) -> FaceAnalyzer | None:
        """The analyzer the worker made (None before :meth:`start`); closed after :meth:`stop`."""
        return self._analyzer

    @property
    def running(self) -> bool:
        """Whether the worker thread is alive."""
        return self._worker is not None and self._worker.is_alive()

    # -- threads -----------------------------------------------------------------------------

    def _fail(self, exc: BaseException) -> None:
        with self._cond:
            if self._error is None:
                self._error = exc
            self._cond.notify_all()

    def _run_worker(self) -> None:
        try:
            analyzer = self._factory()
        except BaseException as exc:
            self._fail(exc)
            self._ready.set()
            return
        self._analyzer = analyzer
        self._ready.set()
        try:
            with analyzer:
                last_ms = -1
                while True:
                    with self._cond:
                        self._cond.wait_for(lambda: self._slot is not None or self._stopping)
                        if self._stopping or self._slot is None:
                            return
                        frame, self._slot = self._slot, None
                        self._busy = True
                    # Distinct frames may share a millisecond; VIDEO mode needs them distinct.
                    t_ms = max(round(frame.t * 1000.0), last_ms + 1)
                    sample = analyzer.process(frame.rgb, t_ms, t=frame.t)
                    last_ms = t_ms
                    with self._cond:
                        self._latest = sample
                        self._seq += 1
                        self._processed += 1
                        self._cond.notify_all()
                    if self._on_sample is not None:
                        self._on_sample(sample)
                    with self._cond:
                        self._busy = False
                        self._cond.notify_all()
        except BaseException as exc:
            self._fail(exc)
        finally:
            with self._cond:
                self._busy = False
                self._cond.notify_all()

    def _run_reader(self) -> None:
        assert self._source is not None
        try:
            for frame in self._source:
                if self._error is not None or self._put(frame, from_reader=True) is None:
                    return
        except BaseException as exc:
            self._fail(exc)
        finally:
            with self._cond:
                self._source_done = True
                self._cond.notify_all()
