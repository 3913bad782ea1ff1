"""Tests for game.analysis.pipeline: real videos through real MediaPipe and the shared focus rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from game.analysis.pipeline import (
    InvalidStepError,
    MissingCalibrationError,
    NoFaceFoundError,
    analyze_video,
    check_step,
    load_user_calibration,
)
from game.capture.calibration import (
    Baseline,
    CorruptCalibrationError,
    InvalidUserNameError,
    calibration_path,
    save_baseline,
)
from game.capture.model import MODEL_SHA256, ModelNotFoundError
from game.capture.sources import RGBImage, VideoFileError
from game.capture.tracker import FaceAnalyzer
from shared.blendshapes import COUNT
from shared.face import Attention
from shared.focus import FellAsleep, GuardState, WokeUp
from tests.game.test_analysis_videos import (
    ABSENCE_END_S,
    ABSENCE_FRAMES,
    ABSENCE_START_S,
    FPS,
    HEIGHT,
    WIDTH,
    absence_video,
    face_video,
    no_face_video,
)

FRAME = 1.0 / FPS


@pytest.fixture(scope="module")
def absence(tmp_path_factory: pytest.TempPathFactory, astronaut: RGBImage) -> Path:
    """The 32 s absence video (face, out of view, black, face)."""
    return absence_video(tmp_path_factory.mktemp("videos") / "absence.avi", astronaut)


@pytest.fixture(scope="module")
def progress_log(absence: Path, model_path: Path) -> list[tuple[int, int | None]]:
    """Progress reports of one full analysis (kept so that one run serves several tests)."""
    log: list[tuple[int, int | None]] = []
    analyze_video(absence, model=model_path, progress=lambda d, t: log.append((d, t)))
    return log


def test_absence_video_sleeps_after_15_s_and_wakes_on_return(
    absence: Path, model_path: Path
) -> None:
    """Real frames: asleep 15 s after the face left (±1 frame), awake the frame it returns."""
    timeline = analyze_video(absence, subject="maths", model=model_path)
    assert timeline.frames == ABSENCE_FRAMES
    (asleep,) = [e for e in timeline.events if isinstance(e, FellAsleep)]
    (woke,) = [e for e in timeline.events if isinstance(e, WokeUp)]
    assert asleep.t == pytest.approx(ABSENCE_START_S + 15.0, abs=FRAME)
    assert woke.t == pytest.approx(ABSENCE_END_S, abs=FRAME)
    by_t = {round(r.t, 3): r for r in timeline.rows}
    assert by_t[round(ABSENCE_START_S - FRAME, 3)].attention is Attention.FOCUSED
    assert by_t[round(ABSENCE_START_S + 1.0, 3)].attention is Attention.NO_FACE
    assert by_t[round(ABSENCE_END_S - FRAME, 3)].state is GuardState.ASLEEP
    assert by_t[round(ABSENCE_END_S, 3)].state is GuardState.AWAKE
    (run,) = timeline.distractions
    assert run.kind is Attention.NO_FACE and run.flagged
    meta = timeline.meta
    assert (meta.width, meta.height, meta.fps) == (WIDTH, HEIGHT, FPS)
    assert meta.frames_decoded == ABSENCE_FRAMES and meta.subject == "maths"
    assert meta.model_sha256 == MODEL_SHA256 and meta.model_path == str(model_path)
    assert timeline.summary.face_frames == round((ABSENCE_START_S + 5.0) * FPS)


def test_progress_is_reported_for_every_decoded_frame_with_the_total(
    progress_log: list[tuple[int, int | None]],
) -> None:
    """The callback counts 1..N against the container's frame count."""
    assert [d for d, _ in progress_log] == list(range(1, ABSENCE_FRAMES + 1))
    assert {t for _, t in progress_log} == {ABSENCE_FRAMES}


def test_every_n_analyses_every_nth_frame_and_keeps_the_sleep_time(
    absence: Path, model_path: Path
) -> None:
    """--every 5 at 10 fps: a fifth of the rows, all frames decoded, sleep still at +15 s."""
    timeline = analyze_video(absence, model=model_path, every=5)
    assert timeline.frames == ABSENCE_FRAMES // 5
    assert timeline.meta.frames_decoded == ABSENCE_FRAMES and timeline.meta.every == 5
    (asleep,) = [e for e in timeline.events if isinstance(e, FellAsleep)]
    assert asleep.t == pytest.approx(ABSENCE_START_S + 15.0, abs=5 * FRAME)


def test_a_step_longer_than_the_rules_gap_cap_is_refused(absence: Path) -> None:
    """Frames more than 1 s apart would all count as uncertain: refused, with the largest N."""
    with pytest.raises(InvalidStepError, match="use --every 10 or less"):
        analyze_video(absence, every=11)
    with pytest.raises(InvalidStepError):
        check_step(0, None)


def test_a_video_without_any_face_is_refused(
    tmp_path: Path, cameraman: RGBImage, model_path: Path
) -> None:
    """The cameraman clip: 'no face found in any of 30 frames'."""
    video = no_face_video(tmp_path / "cameraman.avi", cameraman, 3.0)
    with pytest.raises(NoFaceFoundError, match=r"no face found in any of 30 frames") as info:
        analyze_video(video, model=model_path)
    assert info.value.frames == 30


def test_a_text_file_named_like_a_video_is_refused(tmp_path: Path) -> None:
    """Not decodable → VideoFileError naming the file; the model is never loaded."""
    fake = tmp_path / "notes.mp4"
    fake.write_text("these are my notes, not a video\n", encoding="utf-8")

    def no_model(model: object) -> FaceAnalyzer:
        raise AssertionError("the model must not be loaded for an unreadable video")

    with pytest.raises(VideoFileError, match=r"notes\.mp4 cannot be decoded"):
        analyze_video(fake, open_analyzer=no_model)


def test_a_missing_model_is_reported_before_any_frame_is_analysed(
    tmp_path: Path, astronaut: RGBImage
) -> None:
    """An explicit model path that does not exist raises the actionable ModelNotFoundError."""
    video = face_video(tmp_path / "face.avi", astronaut, 1.0)
    with pytest.raises(ModelNotFoundError, match="convex model fetch"):
        analyze_video(video, model=tmp_path / "missing.task")


def _baseline(centre_pitch: float) -> Baseline:
    return Baseline(
        neutral=(1.0,) + (0.0,) * (COUNT - 1),
        centre_yaw=0.0,
        centre_pitch=centre_pitch,
        samples_used=20,
        samples_total=20,
    )


def test_a_users_calibration_is_applied_and_recorded(
    tmp_path: Path, astronaut: RGBImage, model_path: Path
) -> None:
    """A screen centre far above the face makes the same frames 'looking down'; meta names it."""
    env = {"XDG_DATA_HOME": str(tmp_path / "data")}
    save_baseline(_baseline(centre_pitch=30.0), "tester", env)
    calibration = load_user_calibration("tester", env)
    assert calibration.info.path == str(calibration_path("tester", env))
    video = face_video(tmp_path / "face.avi", astronaut, 1.0)
    plain = analyze_video(video, model=model_path)
    calibrated = analyze_video(video, model=model_path, calibration=calibration)
    assert {r.attention for r in plain.rows} == {Attention.FOCUSED}
    assert {r.attention for r in calibrated.rows} == {Attention.LOOKING_DOWN}
    assert calibrated.meta.calibration == calibration.info
    assert calibrated.calibration.centre_pitch == 30.0


def test_missing_corrupt_and_unsafe_calibrations_are_named_errors(tmp_path: Path) -> None:
    """No file → MissingCalibrationError with the command to run; bad file or name → their errors."""
    env = {"XDG_DATA_HOME": str(tmp_path / "data")}
    with pytest.raises(MissingCalibrationError, match="convex calibrate --user sam"):
        load_user_calibration("sam", env)
    path = calibration_path("sam", env)
    path.parent.mkdir(parents=True)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(CorruptCalibrationError):
        load_user_calibration("sam", env)
    with pytest.raises(InvalidUserNameError):
        load_user_calibration("../etc", env)
