"""`convex calibrate` end to end: from a real video or image folder, and with no camera."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest

from game.capture import calibration as capture_calibration
from game.capture.sources import RGBImage
from game.commands import calibrate
from tests.game.test_analysis_videos import face_frame, face_video, no_face_video
from tests.game.test_commands_analyze import assert_clean_failure, convex_env, run_convex


def _calibration_file(tmp: Path, user: str) -> Path:
    return tmp / "data" / "convex" / "users" / user / "calibration.json"


def test_calibrate_from_a_video_then_analyze_uses_it(tmp_path: Path, astronaut: RGBImage) -> None:
    """--source VIDEO --user tester --seconds 2 saves a baseline; analyze --user tester uses it."""
    env = convex_env(tmp_path)
    video = face_video(tmp_path / "me.avi", astronaut, 3.0)
    result = run_convex(
        "calibrate",
        "--source",
        video.name,
        "--user",
        "tester",
        "--seconds",
        "2",
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    saved = _calibration_file(tmp_path, "tester")
    assert f"saved to {saved}" in result.stdout
    doc = json.loads(saved.read_text(encoding="utf-8"))
    assert doc["samples_used"] == doc["samples_total"] == 20  # 2 s at 10 fps
    assert f"pitch {doc['centre_pitch']:+.1f}°" in result.stdout
    assert f"yaw {doc['centre_yaw']:+.1f}°" in result.stdout
    assert "Traceback" not in result.stderr and "W0000" not in result.stderr

    analysed = run_convex(
        "analyze", video.name, "--user", "tester", "--out", "report", cwd=tmp_path, env=env
    )
    assert analysed.returncode == 0, analysed.stderr
    assert "calibrated for tester" in analysed.stdout.splitlines()[0]
    meta = json.loads((tmp_path / "report" / "timeline.json").read_text("utf-8"))["meta"]
    assert meta["calibration"]["user"] == "tester"
    assert meta["calibration"]["path"] == str(saved)
    assert meta["calibration"]["centre_pitch"] == round(doc["centre_pitch"], 2)


def test_calibrate_from_a_folder_of_images(tmp_path: Path, astronaut: RGBImage) -> None:
    """--source FOLDER reads the images in name order at --fps."""
    folder = tmp_path / "frames"
    folder.mkdir()
    bgr = cv2.cvtColor(face_frame(astronaut), cv2.COLOR_RGB2BGR)
    for i in range(12):
        assert cv2.imwrite(str(folder / f"frame{i}.png"), bgr)
    result = run_convex(
        "calibrate",
        "--source",
        "frames",
        "--fps",
        "10",
        "--seconds",
        "1",
        cwd=tmp_path,
        env=convex_env(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    doc = json.loads(_calibration_file(tmp_path, "default").read_text(encoding="utf-8"))
    assert doc["samples_used"] == 10


def test_no_webcam_gives_a_clear_message_suggesting_source(tmp_path: Path) -> None:
    """A camera index with no device: exit 1, one line that suggests --source, nothing saved."""
    result = run_convex(
        "calibrate", "--camera", "63", "--user", "cam", cwd=tmp_path, env=convex_env(tmp_path)
    )
    assert_clean_failure(result, 1, "camera 63 could not be opened")
    assert "--source VIDEO" in result.stderr
    assert not _calibration_file(tmp_path, "cam").exists()


def test_a_recording_without_a_face_cannot_calibrate(tmp_path: Path, cameraman: RGBImage) -> None:
    """No usable face in the recording: exit 1 with the advice to face the camera."""
    video = no_face_video(tmp_path / "cameraman.avi", cameraman, 2.0)
    result = run_convex(
        "calibrate",
        "--source",
        video.name,
        "--seconds",
        "1",
        cwd=tmp_path,
        env=convex_env(tmp_path),
    )
    assert_clean_failure(result, 1, "face the camera")
    assert not _calibration_file(tmp_path, "default").exists()


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["--source", "missing.avi"], "no such file or folder"),
        (["--user", "a/b", "--source", "missing.avi"], "user name 'a/b'"),
        (["--seconds", "0"], "must be a positive number"),
        (["--camera", "-1"], "must be 0 or more"),
    ],
)
def test_bad_arguments_are_usage_errors(tmp_path: Path, args: list[str], text: str) -> None:
    """Missing source, unsafe user name, zero seconds, negative camera: exit 2, clear message."""
    result = run_convex("calibrate", *args, cwd=tmp_path, env=convex_env(tmp_path))
    assert result.returncode == 2, result.stderr
    assert text in result.stderr and "Traceback" not in result.stderr


def test_default_recording_length_matches_the_capture_package() -> None:
    """The command's default --seconds is the calibration module's DEFAULT_SECONDS."""
    assert calibrate.DEFAULT_SECONDS == capture_calibration.DEFAULT_SECONDS
