"""Frame sources: webcam, video file, image folder and in-memory frames behind one interface.

Every source is an iterable of :class:`Frame` (``t`` in seconds, an RGB ``uint8``
array of shape H×W×3, C-contiguous) and a context manager whose ``close()``
releases the device or file. Frames are always the camera's **un-mirrored**
view; selfie-style mirroring is a display concern and never happens here (see
:mod:`game.capture`).

A source is iterated from one thread at a time; close it from that thread or
after iteration has stopped (:meth:`game.capture.tracker.FaceTracker.stop`
joins its reader thread before returning, so closing afterwards is safe).
Sources only read: nothing here writes or sends a frame anywhere.
"""

from __future__ import annotations

import math
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self

import cv2
import numpy as np
import numpy.typing as npt

RGBImage = npt.NDArray[np.uint8]
"""An H×W×3 ``uint8`` RGB image."""

DEFAULT_WIDTH: Final[int] = 640
DEFAULT_HEIGHT: Final[int] = 480
DEFAULT_FPS: Final[float] = 30.0
"""Webcam request and the frame rate of sources that have no clock of their own."""

MAX_CAMERA_READ_FAILURES: Final[int] = 10
"""Failed webcam reads in a row after which the camera counts as gone (a few happen at start)."""

IMAGE_EXTENSIONS: Final[frozenset[str]] = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}
)
"""File suffixes (lower case) that :class:`ImageFolderSource` reads."""


class FrameSourceError(Exception):
    """A frame source could not be opened or stopped delivering frames."""


class CameraUnavailableError(FrameSourceError, OSError):
    """The webcam cannot be opened or stopped delivering frames."""


class VideoFileError(FrameSourceError, OSError):
    """A video file is missing or cannot be decoded."""


class ImageFolderError(FrameSourceError, OSError):
    """An image folder is missing, empty, or holds an unreadable image."""


class InvalidFrameError(ValueError):
    """An image that is not an H×W×3 ``uint8`` array, or a frame time that is not finite."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One camera image: ``t`` in seconds on the source's clock, ``rgb`` as H×W×3 ``uint8``."""

    t: float
    rgb: RGBImage


def check_rgb(rgb: object) -> RGBImage:
    """``rgb`` as a C-contiguous H×W×3 ``uint8`` array (copied only if it was not contiguous)."""
    if not isinstance(rgb, np.ndarray):
        raise InvalidFrameError(f"a frame must be a numpy array, got {type(rgb).__name__}")
    if rgb.dtype != np.uint8:
        raise InvalidFrameError(f"a frame must be uint8, got {rgb.dtype}")
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.shape[0] == 0 or rgb.shape[1] == 0:
        raise InvalidFrameError(f"a frame must be H×W×3 RGB, got shape {rgb.shape}")
    # MediaPipe reads the raw buffer: a strided view (e.g. a mirrored slice) would be misread.
    return np.ascontiguousarray(rgb)


class FrameSource(ABC):
    """An iterable of :class:`Frame` that owns a device or file until :meth:`close`."""

    _closed: bool = False

    @abstractmethod
    def frames(self) -> Iterator[Frame]:
        """Yield frames in time order until the source ends or is closed."""

    def _release(self) -> None:  # noqa: B027 - optional hook, most sources hold nothing
        """Free the device or file; called once by :meth:`close`."""

    def __iter__(self) -> Iterator[Frame]:
        return self.frames()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has been called."""
        return self._closed

    def close(self) -> None:
        """Release the device or file. Safe to call more than once."""
        if not self._closed:
            self._closed = True
            self._release()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _bgr_to_rgb(bgr: npt.NDArray[Any]) -> RGBImage:
    if bgr.ndim == 2:
        code = cv2.COLOR_GRAY2RGB
    elif bgr.shape[2] == 4:
        code = cv2.COLOR_BGRA2RGB
    else:
        code = cv2.COLOR_BGR2RGB
    return np.ascontiguousarray(cv2.cvtColor(bgr, code), dtype=np.uint8)


class WebcamSource(FrameSource):
    """Frames from ``cv2.VideoCapture(index)``, stamped with ``clock()`` as they arrive.

    The requested size and rate are hints: the driver picks the nearest mode it
    has, and :attr:`width`, :attr:`height` and :attr:`fps` report what it chose.
    """

    def __init__(
        self,
        index: int = 0,
        *,
        width: int = DEFAULT_WIDTH,
        height: int = DEFAULT_HEIGHT,
        fps: float = DEFAULT_FPS,
        clock: Callable[[], float] = time.monotonic,
        backend: int = cv2.CAP_ANY,
    ) -> None:
        self.index = index
        self._clock = clock
        self._capture = cv2.VideoCapture(index, backend)
        if not self._capture.isOpened():
            self._capture.release()
            self._closed = True
            raise CameraUnavailableError(
                f"camera {index} could not be opened: there is no such camera, another "
                "program is using it, or this user may not access it (on Linux: the "
                "`video` group). Try another camera index, or analyse a video file instead."
            )
        self._capture.set(cv2.CAP_PROP_FRAME_WIDTH, float(width))
        self._capture.set(cv2.CAP_PROP_FRAME_HEIGHT, float(height))
        self._capture.set(cv2.CAP_PROP_FPS, float(fps))
        self.width = int(self._capture.get(cv2.CAP_PROP_FRAME_WIDTH)) or width
        self.height = int(self._capture.get(cv2.CAP_PROP_FRAME_HEIGHT)) or height
        self.fps = float(self._capture.get(cv2.CAP_PROP_FPS)) or fps

    def frames(self) -> Iterator[Frame]:
        """Yield frames as the camera delivers them; raises if it stops delivering."""
        failures = 0
        while not self._closed:
            ok, bgr = self._capture.read()
            t = self._clock()
            if not ok or bgr is None:
                failures += 1
                if failures >= MAX_CAMERA_READ_FAILURES:
                    raise CameraUnavailableError(
                        f"camera {self.index} stopped delivering frames "
                        f"({failures} failed reads in a row); was it unplugged?"
                    )
                continue
            failures = 0
            yield Frame(t, _bgr_to_rgb(bgr))

    def _release(self) -> None:
        self._capture.release()


class VideoFileSource(FrameSource):
    """Frames decoded from a video file, timed by the file itself (not by the wall clock).

    ``t`` is ``index / fps`` when the container states a frame rate (constant
    frame rate assumed), otherwise the decoder's position
    (``CAP_PROP_POS_MSEC``), forced strictly increasing.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            self._closed = True
            raise VideoFileError(f"video file {self.path} does not exist or is not a file")
        self._capture = cv2.VideoCapture(str(self.path))
        if not self._capture.isOpened():
            self._capture.release()
            self._closed = True
            raise VideoFileError(
                f"video file {self.path} cannot be decoded: it is damaged or in a format "
                "OpenCV's FFmpeg cannot read"
            )
        fps = float(self._capture.get(cv2.CAP_PROP_FPS))
        self.fps: float | None = fps if math.isfinite(fps) and fps > 0 else None
        count = int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT))
        self.frame_count: int | None = count if count > 0 else None
        """The container's frame count, when it states one (may be approximate)."""

    def frames(self) -> Iterator[Frame]:
        """Yield every decodable frame in order; raises if not even the first one decodes."""
        index = 0
        last_t = -math.inf
        while not self._closed:
            ok, bgr = self._capture.read()
            if not ok or bgr is None:
                if index == 0:
                    raise VideoFileError(f"video file {self.path} has no decodable frames")
                return
            if self.fps is not None:
                t = index / self.fps
            else:
                t = float(self._capture.get(cv2.CAP_PROP_POS_MSEC)) / 1000.0
                if not math.isfinite(t) or t <= last_t:
                    # Decoders without timestamps report 0 or repeat themselves.
                    t = 0.0 if index == 0 else last_t + 0.001
            last_t = t
            index += 1
            yield Frame(t, _bgr_to_rgb(bgr))

    def _release(self) -> None:
        self._capture.release()


def _natural_key(path: Path) -> tuple[tuple[int, int | str], ...]:
    """Sort key so that ``frame2`` comes before ``frame10``."""
    parts = re.split(r"(\d+)", path.name)
    return tuple((0, int(p)) if p.isdigit() else (1, p.lower()) for p in parts if p)


class ImageFolderSource(FrameSource):
    """A folder's images in natural name order (``2.png`` before ``10.png``) at a fixed rate."""

    def __init__(
        self,
        folder: str | Path,
        *,
        fps: float = DEFAULT_FPS,
        extensions: frozenset[str] = IMAGE_EXTENSIONS,
    ) -> None:
        if not (math.isfinite(fps) and fps > 0):
            raise ValueError(f"fps must be positive, got {fps!r}")
        self.folder = Path(folder)
        self.fps = fps
        if not self.folder.is_dir():
            self._closed = True
            raise ImageFolderError(f"image folder {self.folder} does not exist or is not a folder")
        self.paths: tuple[Path, ...] = tuple(
            sorted(
                (
                    p
                    for p in self.folder.iterdir()
                    if p.is_file() and p.suffix.lower() in extensions
                ),
                key=_natural_key,
            )
        )
        if not self.paths:
            self._closed = True
            raise ImageFolderError(
                f"image folder {self.folder} has no images ({', '.join(sorted(extensions))})"
            )

    def frames(self) -> Iterator[Frame]:
        """Yield each image at ``t = i / fps``; raises naming the first unreadable file."""
        for i, path in enumerate(self.paths):
            if self._closed:
                return
            bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if bgr is None:
                raise ImageFolderError(f"image {path} cannot be read or decoded")
            yield Frame(i / self.fps, _bgr_to_rgb(bgr))


class ArraySource(FrameSource):
    """In-memory RGB frames at a fixed rate (tests, benchmarks, and replays of captured arrays)."""

    def __init__(
        self,
        images: Sequence[RGBImage],
        *,
        fps: float = DEFAULT_FPS,
        start: float = 0.0,
        repeat: int = 1,
    ) -> None:
        if not (math.isfinite(fps) and fps > 0):
            raise ValueError(f"fps must be positive, got {fps!r}")
        if repeat < 1:
            raise ValueError(f"repeat must be at least 1, got {repeat}")
        self.images = tuple(check_rgb(img) for img in images)
        self.fps = fps
        self.start = start
        self.repeat = repeat

    def frames(self) -> Iterator[Frame]:
        """Yield the images ``repeat`` times over, at ``start + i / fps``."""
        i = 0
        for _ in range(self.repeat):
            for img in self.images:
                if self._closed:
                    return
                yield Frame(self.start + i / self.fps, img)
                i += 1


class PacedSource(FrameSource):
    """Replays another source in real time: frame ``i`` is released ``t_i - t_0`` after the first.

    Timestamps pass through unchanged. A consumer slower than real time makes
    frames late, never early; the pacer does not skip frames itself (the
    tracker's latest-frame slot does that). Closing it closes the inner source.
    """

    def __init__(
        self,
        inner: FrameSource,
        *,
        speed: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not (math.isfinite(speed) and speed > 0):
            raise ValueError(f"speed must be positive, got {speed!r}")
        self.inner = inner
        self.speed = speed
        self._clock = clock
        self._sleep = sleep

    def frames(self) -> Iterator[Frame]:
        """Yield the inner source's frames no sooner than their (scaled) time offsets."""
        wall0: float | None = None
        t0 = 0.0
        for frame in self.inner:
            if self._closed:
                return
            if wall0 is None:
                wall0, t0 = self._clock(), frame.t
            else:
                delay = wall0 + (frame.t - t0) / self.speed - self._clock()
                if delay > 0:
                    self._sleep(delay)
            yield frame

    def _release(self) -> None:
        self.inner.close()
