"""Tests for game.capture.tracker.FaceAnalyzer on real faces with the real MediaPipe model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from game.capture.sources import InvalidFrameError, RGBImage
from game.capture.tracker import (
    AnalyzerClosedError,
    FaceAnalyzer,
    TimestampOrderError,
    to_mp_image,
)
from shared.blendshapes import COUNT, NAMES
from shared.face import FaceSample

ROLL_TOLERANCE_DEG = 5.0

Analyse = Callable[[RGBImage], FaceSample]


def _rotate(rgb: RGBImage, degrees: float) -> RGBImage:
    """Rotate the picture counter-clockwise on screen by ``degrees`` about its centre."""
    h, w = rgb.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return np.ascontiguousarray(cv2.warpAffine(rgb, m, (w, h)))


@pytest.mark.parametrize("image", ["astronaut", "grace_hopper"])
def test_one_face_with_all_52_named_blendshapes(
    image: str, model_path: Path, request: pytest.FixtureRequest
) -> None:
    """Each portrait gives exactly one face, 478 landmarks and MediaPipe's 52 names in our order."""
    rgb: RGBImage = request.getfixturevalue(image)
    with FaceAnalyzer(model_path) as analyzer:
        raw = analyzer.landmarker.detect_for_video(to_mp_image(rgb), 0)
        sample = analyzer.process(rgb, 1)
    assert len(raw.face_landmarks) == 1 and len(raw.face_landmarks[0]) == 478
    assert tuple(c.category_name for c in raw.face_blendshapes[0]) == NAMES
    assert sample.present and len(sample.blendshapes) == COUNT
    assert sample.confidence > 0.9


def test_astronaut_smiles(analyse: Analyse, astronaut: RGBImage) -> None:
    """The astronaut's smile scores high on both mouth corners."""
    sample = analyse(astronaut)
    assert sample.weight("mouthSmileLeft") > 0.5
    assert sample.weight("mouthSmileRight") > 0.5


@pytest.mark.parametrize("image", ["blank", "cameraman"])
def test_no_face_means_absent(image: str, analyse: Analyse, request: pytest.FixtureRequest) -> None:
    """A black frame and the cameraman (no detectable face) give present=False, confidence 0."""
    rgb = np.zeros((480, 640, 3), np.uint8) if image == "blank" else request.getfixturevalue(image)
    sample = analyse(rgb)
    assert not sample.present
    assert sample.confidence == 0.0


@pytest.mark.parametrize("degrees", [20.0, -20.0])
def test_rotating_the_picture_rolls_the_head(
    degrees: float, analyse: Analyse, astronaut: RGBImage
) -> None:
    """Turning the picture counter-clockwise by d tilts her head to her right: roll -d (±5°)."""
    upright = analyse(astronaut)
    rotated = analyse(_rotate(astronaut, degrees))
    assert rotated.roll - upright.roll == pytest.approx(-degrees, abs=ROLL_TOLERANCE_DEG)


def test_mirroring_swaps_left_and_right_blendshapes(
    analyse: Analyse, astronaut: RGBImage, astronaut_wink: RGBImage
) -> None:
    """A wink of her own left eye reads as eyeBlinkLeft; mirrored, it reads as eyeBlinkRight."""
    wink = analyse(astronaut_wink)
    mirrored = analyse(astronaut_wink[:, ::-1])
    assert wink.weight("eyeBlinkLeft") > wink.weight("eyeBlinkRight") + 0.15
    assert mirrored.weight("eyeBlinkRight") > mirrored.weight("eyeBlinkLeft") + 0.15
    # The symmetric smile keeps its size across the swap.
    plain_mirrored = analyse(astronaut[:, ::-1])
    plain = analyse(astronaut)
    assert plain_mirrored.weight("mouthSmileRight") == pytest.approx(
        plain.weight("mouthSmileLeft"), abs=0.1
    )


def test_mirroring_flips_yaw_and_roll(
    analyse: Analyse, astronaut: RGBImage, grace_hopper: RGBImage
) -> None:
    """A face off to one side (turned to the lens) flips yaw sign when mirrored; so does roll."""
    h, w = grace_hopper.shape[:2]
    off_left = np.zeros((h, 2 * w, 3), np.uint8)
    off_left[:, :w] = grace_hopper
    a, b = analyse(off_left), analyse(off_left[:, ::-1])
    assert a.yaw > 3 and b.yaw < -3
    c, d = analyse(astronaut), analyse(astronaut[:, ::-1])
    assert c.roll > 2 and d.roll < -2
    assert b.pitch == pytest.approx(a.pitch, abs=3) and d.pitch == pytest.approx(c.pitch, abs=3)


def test_small_face_is_present_but_uncertain(analyse: Analyse, astronaut: RGBImage) -> None:
    """Shrunk to a quarter (a ~25 px face), the face is still found but confidence is below 0.5."""
    small = np.ascontiguousarray(
        cv2.resize(astronaut, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA), dtype=np.uint8
    )
    sample = analyse(small)
    assert sample.present
    assert sample.confidence < 0.5


def test_strided_view_is_analysed_like_its_copy(analyse: Analyse, astronaut: RGBImage) -> None:
    """A mirrored view (negative stride) gives the same sample as a contiguous copy of it."""
    view = astronaut[:, ::-1]
    assert analyse(view) == analyse(np.ascontiguousarray(view))


def test_timestamps_must_increase(model_path: Path, astronaut: RGBImage) -> None:
    """A repeated, earlier or negative timestamp raises and changes nothing; a later one works."""
    with FaceAnalyzer(model_path) as analyzer:
        analyzer.process(astronaut, 100)
        for bad in (100, 99, -5):
            with pytest.raises(TimestampOrderError):
                analyzer.process(astronaut, bad)
        assert analyzer.last_timestamp_ms == 100
        sample = analyzer.process(astronaut, 101, t=7.5)
    assert sample.t == 7.5 and sample.present


def test_invalid_frame_changes_nothing(model_path: Path, astronaut: RGBImage) -> None:
    """A float image raises InvalidFrameError and leaves the timestamp guard where it was."""
    with FaceAnalyzer(model_path) as analyzer:
        analyzer.process(astronaut, 10)
        with pytest.raises(InvalidFrameError):
            analyzer.process(astronaut.astype(np.float32), 20)
        assert analyzer.last_timestamp_ms == 10
        assert analyzer.process(astronaut, 20).t == 0.02


def test_closed_analyzer_refuses_work(model_path: Path, astronaut: RGBImage) -> None:
    """After close() the landmarker is released and process() raises AnalyzerClosedError."""
    analyzer = FaceAnalyzer(model_path)
    analyzer.close()
    analyzer.close()
    assert analyzer.closed
    with pytest.raises(AnalyzerClosedError):
        analyzer.process(astronaut, 0)
