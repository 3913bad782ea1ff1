"""Real test videos written with OpenCV (shared by the analysis and command tests), and their check."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Final

import cv2
import numpy as np

from game.capture.sources import RGBImage, VideoFileSource

FPS: Final[float] = 10.0
"""Frame rate of the test videos: slow enough to analyse quickly, fast enough for the rules."""

WIDTH: Final[int] = 320
HEIGHT: Final[int] = 240

FOURCC: Final[str] = "MJPG"
SUFFIX: Final[str] = ".avi"
"""Motion-JPEG in AVI: this OpenCV build (FFmpeg backend) writes it and reads it back exactly."""

FACE_S: Final[float] = 5.0
OUT_OF_VIEW_S: Final[float] = 11.0
BLACK_S: Final[float] = 11.0
RETURN_S: Final[float] = 5.0
"""The absence video: face, face slid out of the picture, black frames, face again."""

ABSENCE_START_S: Final[float] = FACE_S
ABSENCE_END_S: Final[float] = FACE_S + OUT_OF_VIEW_S + BLACK_S
ABSENCE_FRAMES: Final[int] = round((FACE_S + OUT_OF_VIEW_S + BLACK_S + RETURN_S) * FPS)


def face_frame(astronaut: RGBImage) -> RGBImage:
    """The astronaut scaled to the frame height and centred (her face fills the upper middle)."""
    square = cv2.resize(astronaut, (HEIGHT, HEIGHT), interpolation=cv2.INTER_AREA)
    frame = np.zeros((HEIGHT, WIDTH, 3), dtype=np.uint8)
    left = (WIDTH - HEIGHT) // 2
    frame[:, left : left + HEIGHT] = square
    return frame


def out_of_view_frame(astronaut: RGBImage) -> RGBImage:
    """The same picture slid sideways until her face has left the frame (the camera sees a wall)."""
    shift = np.array([[1.0, 0.0, WIDTH * 0.8], [0.0, 1.0, 0.0]], dtype=np.float32)
    moved = cv2.warpAffine(face_frame(astronaut), shift, (WIDTH, HEIGHT))
    return np.ascontiguousarray(moved, dtype=np.uint8)


def black_frame() -> RGBImage:
    """A blacked-out frame (lens covered)."""
    return np.zeros((HEIGHT, WIDTH, 3), dtype=np.uint8)


def grey_frame(gray: RGBImage) -> RGBImage:
    """Any RGB image fitted to the frame size (for the cameraman: no face anywhere)."""
    return np.ascontiguousarray(cv2.resize(gray, (WIDTH, HEIGHT), interpolation=cv2.INTER_AREA))


def write_video(path: Path, frames: Iterable[RGBImage], fps: float = FPS) -> Path:
    """Write RGB frames as a real video file with ``cv2.VideoWriter``; returns ``path``."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*FOURCC), fps, (WIDTH, HEIGHT))
    assert writer.isOpened(), f"OpenCV cannot write {FOURCC} into {path}"
    try:
        for rgb in frames:
            writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    finally:
        writer.release()
    return path


def repeat(frame: RGBImage, seconds: float, fps: float = FPS) -> list[RGBImage]:
    """``seconds`` worth of one frame."""
    return [frame] * round(seconds * fps)


def absence_video(path: Path, astronaut: RGBImage) -> Path:
    """Face 5 s, out of view 11 s, black 11 s, face 5 s (32 s, 320 frames at 10 fps)."""
    face = face_frame(astronaut)
    return write_video(
        path,
        [
            *repeat(face, FACE_S),
            *repeat(out_of_view_frame(astronaut), OUT_OF_VIEW_S),
            *repeat(black_frame(), BLACK_S),
            *repeat(face, RETURN_S),
        ],
    )


def face_video(path: Path, astronaut: RGBImage, seconds: float) -> Path:
    """The astronaut looking at the camera for ``seconds``."""
    return write_video(path, repeat(face_frame(astronaut), seconds))


def no_face_video(path: Path, cameraman: RGBImage, seconds: float = 3.0) -> Path:
    """The cameraman (a person, but no detectable face) for ``seconds``."""
    return write_video(path, repeat(grey_frame(cameraman), seconds))


def test_written_video_reads_back_with_its_frame_count_and_rate(
    tmp_path: Path, astronaut: RGBImage
) -> None:
    """This OpenCV build writes MJPG/AVI that reads back with every frame, the rate and the size."""
    path = face_video(tmp_path / f"face{SUFFIX}", astronaut, 1.5)
    with VideoFileSource(path) as source:
        frames = list(source)
        assert source.fps == FPS
    assert len(frames) == 15
    assert frames[-1].t == 14 / FPS
    assert frames[0].rgb.shape == (HEIGHT, WIDTH, 3)
    # MJPG is lossy, but the picture must survive it.
    error = np.abs(frames[0].rgb.astype(int) - face_frame(astronaut).astype(int)).mean()
    assert error < 8.0
