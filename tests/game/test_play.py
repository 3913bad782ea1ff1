"""`convex play` as a user runs it: offscreen screenshots, and clear messages instead of tracebacks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from game.avatar.models import avatar_path
from game.capture.sources import RGBImage
from game.commands.play import display_available

CONVEX = str(Path(sys.executable).with_name("convex"))


def run(
    tmp_path: Path, *args: str, display: str | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed console script with a private data dir and (by default) no display."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    if display is not None:
        env["DISPLAY"] = display
    return subprocess.run(
        [CONVEX, "play", *args], capture_output=True, text=True, timeout=180, env=env, cwd=cwd
    )


def assert_not_blank(path: Path) -> None:
    """A real picture: right size, many colours, not one flat fill."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert image is not None, f"{path} is not a readable PNG"
    assert image.shape == (720, 1280, 3)
    assert image.std() > 20
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 500


def test_synthetic_offscreen_run_writes_a_screenshot(tmp_path: Path) -> None:
    """`--source synthetic --offscreen --frames 120 --screenshot out.png` exits 0 with a picture."""
    out = tmp_path / "out.png"
    result = run(
        tmp_path,
        "--source",
        "synthetic",
        "--offscreen",
        "--frames",
        "120",
        "--screenshot",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "4.0 s simulated" in result.stdout
    assert_not_blank(out)
    # The synthetic demo is not study time: nothing is recorded in the local history.
    assert not (tmp_path / "data" / "convex" / "history.json").exists()


def test_own_avatar_by_relative_path(tmp_path: Path) -> None:
    """--avatar takes a GLB path relative to where the command runs."""
    shutil.copy(avatar_path("leo"), tmp_path / "me.glb")
    out = tmp_path / "me.png"
    result = run(
        tmp_path, "--source", "synthetic", "--avatar", "me.glb", "--offscreen", "--frames", "3",
        "--screenshot", "me.png", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert_not_blank(out)


def test_offscreen_screenshots_are_deterministic(tmp_path: Path) -> None:
    """Simulated time makes two identical runs give the same picture."""
    shots = []
    for name in ("a.png", "b.png"):
        out = tmp_path / name
        result = run(
            tmp_path, "--source", "synthetic", "--offscreen", "--frames", "20",
            "--screenshot", str(out),
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        image = cv2.imread(str(out))
        assert image is not None
        shots.append(image)
    assert np.array_equal(shots[0], shots[1])


def test_no_display_suggests_offscreen(tmp_path: Path) -> None:
    """Without a display and without --offscreen: one clear line suggesting it, exit 1."""
    result = run(tmp_path, "--source", "synthetic")
    assert result.returncode == 1
    assert "--offscreen" in result.stderr and "display" in result.stderr
    assert "Traceback" not in result.stderr


def test_window_that_fails_to_open_suggests_offscreen(tmp_path: Path) -> None:
    """DISPLAY set but no X server answering: the window fails, the message suggests --offscreen."""
    result = run(tmp_path, "--source", "synthetic", "--frames", "5", display=":97")
    assert result.returncode == 1
    assert "could not open a window" in result.stderr and "--offscreen" in result.stderr
    assert "Traceback" not in result.stderr


def test_no_webcam_suggests_the_synthetic_source(tmp_path: Path) -> None:
    """No camera at the index: a clear message naming --source synthetic, exit 1."""
    result = run(tmp_path, "--camera", "99", "--offscreen", "--frames", "5")
    assert result.returncode == 1
    assert "--source synthetic" in result.stderr and "camera" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_arguments_are_usage_errors(tmp_path: Path) -> None:
    """--offscreen without --frames, a missing avatar file, or an unknown preset exit 2."""
    assert run(tmp_path, "--source", "synthetic", "--offscreen").returncode == 2
    missing = run(tmp_path, "--avatar", str(tmp_path / "none.glb"), "--offscreen", "--frames", "1")
    assert missing.returncode == 2 and "none.glb" in missing.stderr
    preset = run(tmp_path, "--source", "synthetic", "--preset", "x", "--offscreen", "--frames", "1")
    assert preset.returncode == 2 and "mika" in preset.stderr


@pytest.fixture
def astronaut_video(tmp_path: Path, astronaut: RGBImage) -> Path:
    """A 1.5 s MJPEG video of the astronaut (a recording of a student at the screen)."""
    path = tmp_path / "student.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 30.0, (512, 512))
    assert writer.isOpened()
    bgr = cv2.cvtColor(astronaut, cv2.COLOR_RGB2BGR)
    for _ in range(45):
        writer.write(bgr)
    writer.release()
    return path


def test_video_source_runs_the_real_tracker_and_shuts_down(
    tmp_path: Path, astronaut_video: Path
) -> None:
    """A video source goes through MediaPipe on the tracker thread; the run ends cleanly."""
    out = tmp_path / "video.png"
    result = run(
        tmp_path, "--source", str(astronaut_video), "--offscreen", "--frames", "45",
        "--screenshot", str(out), "--subject", "Art",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert_not_blank(out)


def test_display_detection() -> None:
    """Linux needs DISPLAY or WAYLAND_DISPLAY; Windows and macOS always have a desktop."""
    assert not display_available({}, "linux")
    assert display_available({"DISPLAY": ":0"}, "linux")
    assert display_available({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert display_available({}, "win32") and display_available({}, "darwin")
