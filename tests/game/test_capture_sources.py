"""Tests for game.capture.sources: webcam errors, video files, image folders, arrays and pacing."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from game.capture.sources import (
    ArraySource,
    CameraUnavailableError,
    Frame,
    ImageFolderError,
    ImageFolderSource,
    InvalidFrameError,
    PacedSource,
    VideoFileError,
    VideoFileSource,
    WebcamSource,
    check_rgb,
)

NO_SUCH_CAMERA = 97
"""A camera index no machine here has (index 0 could open a developer's real webcam)."""


def _solid_bgr(value: tuple[int, int, int], w: int = 64, h: int = 48) -> np.ndarray:
    return np.full((h, w, 3), value, dtype=np.uint8)


@pytest.fixture
def video(tmp_path: Path) -> Path:
    """A 5-frame, 10 fps MJPG video whose frames get brighter and are pure blue in BGR."""
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (64, 48))
    assert writer.isOpened()
    for i in range(5):
        writer.write(_solid_bgr((40 + 40 * i, 0, 0)))
    writer.release()
    return path


def test_missing_webcam_raises_camera_unavailable() -> None:
    """Opening a camera that does not exist raises CameraUnavailableError naming the index."""
    with pytest.raises(CameraUnavailableError, match=f"camera {NO_SUCH_CAMERA}") as info:
        WebcamSource(NO_SUCH_CAMERA)
    assert isinstance(info.value, OSError)
    assert "video file" in str(info.value)


def test_video_file_frames_are_rgb_and_timed_by_fps(video: Path) -> None:
    """A video yields every frame, as RGB, at index / fps seconds."""
    with VideoFileSource(video) as source:
        assert source.fps == pytest.approx(10.0)
        frames = list(source)
    assert [f.t for f in frames] == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])
    for i, frame in enumerate(frames):
        assert frame.rgb.shape == (48, 64, 3) and frame.rgb.dtype == np.uint8
        assert frame.rgb.flags.c_contiguous
        r, g, b = frame.rgb[24, 32].astype(int)
        assert abs(b - (40 + 40 * i)) <= 8 and r <= 8 and g <= 8
    assert source.closed


def test_missing_video_file_is_a_clear_error(tmp_path: Path) -> None:
    """A path that does not exist raises VideoFileError naming it."""
    with pytest.raises(VideoFileError, match=r"missing\.mp4.*does not exist"):
        VideoFileSource(tmp_path / "missing.mp4")


def test_undecodable_video_file_is_a_clear_error(tmp_path: Path) -> None:
    """A file that is not a video raises VideoFileError saying it cannot be decoded."""
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all " * 64)
    with pytest.raises(VideoFileError, match=r"cannot be decoded|no decodable frames"):
        list(VideoFileSource(junk))


def test_image_folder_is_read_in_natural_order(tmp_path: Path) -> None:
    """Images come in natural name order (2 before 10) at i / fps; other files are ignored."""
    for n in (10, 2, 1):
        cv2.imwrite(str(tmp_path / f"frame{n}.png"), _solid_bgr((0, 0, 10 * n)))
    (tmp_path / "notes.txt").write_text("not an image")
    with ImageFolderSource(tmp_path, fps=5.0) as source:
        assert [p.name for p in source.paths] == ["frame1.png", "frame2.png", "frame10.png"]
        frames = list(source)
    assert [f.t for f in frames] == pytest.approx([0.0, 0.2, 0.4])
    # Written as BGR with red = 10n; read back as RGB, red is channel 0.
    assert [int(f.rgb[0, 0, 0]) for f in frames] == [10, 20, 100]


def test_image_folder_errors(tmp_path: Path) -> None:
    """A missing folder, an empty folder and an unreadable image each raise ImageFolderError."""
    with pytest.raises(ImageFolderError, match="does not exist"):
        ImageFolderSource(tmp_path / "absent")
    with pytest.raises(ImageFolderError, match="no images"):
        ImageFolderSource(tmp_path)
    (tmp_path / "a.png").write_bytes(b"\x89PNG broken")
    source = ImageFolderSource(tmp_path)
    with pytest.raises(ImageFolderError, match=r"a\.png"):
        list(source)


def test_array_source_times_and_repeats() -> None:
    """ArraySource yields its images repeat times over at start + i / fps."""
    images = [np.zeros((4, 4, 3), np.uint8), np.ones((4, 4, 3), np.uint8)]
    frames = list(ArraySource(images, fps=4.0, start=10.0, repeat=2))
    assert [f.t for f in frames] == [10.0, 10.25, 10.5, 10.75]
    assert [int(f.rgb[0, 0, 0]) for f in frames] == [0, 1, 0, 1]


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((4, 4, 3), np.float32),
        np.zeros((4, 4), np.uint8),
        np.zeros((4, 4, 4), np.uint8),
        np.zeros((0, 4, 3), np.uint8),
        [[0, 0, 0]],
    ],
)
def test_check_rgb_refuses_non_rgb(bad: object) -> None:
    """Anything but a non-empty H×W×3 uint8 array raises InvalidFrameError."""
    with pytest.raises(InvalidFrameError):
        check_rgb(bad)


def test_check_rgb_makes_strided_views_contiguous() -> None:
    """A mirrored (strided) view comes back as a contiguous array with the same pixels."""
    image = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    view = image[:, ::-1]
    fixed = check_rgb(view)
    assert fixed.flags.c_contiguous
    assert np.array_equal(fixed, view)


def test_paced_source_waits_for_each_frame_time() -> None:
    """PacedSource releases frame i at (t_i - t_0) / speed after the first, by the given clock."""
    now = [100.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    inner = ArraySource([np.zeros((2, 2, 3), np.uint8)] * 4, fps=10.0)
    with PacedSource(inner, speed=2.0, clock=lambda: now[0], sleep=sleep) as paced:
        frames = list(paced)
    assert [f.t for f in frames] == pytest.approx([0.0, 0.1, 0.2, 0.3])
    assert sleeps == pytest.approx([0.05, 0.05, 0.05])
    assert inner.closed


def test_frame_is_immutable() -> None:
    """A Frame cannot be re-timed after the fact."""
    frame = Frame(1.0, np.zeros((1, 1, 3), np.uint8))
    with pytest.raises(AttributeError):
        frame.t = 2.0  # type: ignore[misc]
