"""Tests for game.capture.calibration: robust baselines, JSON storage, corruption, focus rules."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from game.capture.calibration import (
    Baseline,
    CorruptCalibrationError,
    InvalidUserNameError,
    NotEnoughSamplesError,
    analyse_frames,
    calibration_path,
    collect,
    compute_baseline,
    load_baseline,
    save_baseline,
    to_focus_calibration,
)
from game.capture.sources import ArraySource, RGBImage
from game.capture.synthetic import SyntheticSource
from game.capture.tracker import FaceAnalyzer
from shared.blendshapes import COUNT, index_of
from shared.face import Attention, FaceSample
from shared.focus import Thresholds, classify


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """An environment whose XDG data root is a fresh temporary directory."""
    return {"XDG_DATA_HOME": str(tmp_path / "data")}


def _baseline(**changes: object) -> Baseline:
    values: dict[str, object] = {
        "neutral": tuple(0.01 * (i % 7) for i in range(COUNT)),
        "centre_yaw": 4.5,
        "centre_pitch": -12.0,
        "samples_used": 140,
        "samples_total": 150,
        "thresholds": {"yaw_away_deg": 30.0},
    }
    values.update(changes)
    return Baseline(**values)  # type: ignore[arg-type]


def test_medians_ignore_blinks_and_glances() -> None:
    """Idle blinks in the recording do not raise the neutral eyeBlink; the centre is the median."""
    samples = list(SyntheticSource([("focused", 20.0)], seed=5, fps=30.0))
    blink = index_of("eyeBlinkLeft")
    assert max(s.blendshapes[blink] for s in samples) > 0.9  # blinks are in the recording
    baseline = compute_baseline(samples)
    assert baseline.neutral[blink] < 0.05
    assert abs(baseline.centre_yaw) < 2.5 and abs(baseline.centre_pitch) < 1.5
    assert baseline.samples_used == baseline.samples_total == len(samples)


def test_screen_off_to_the_side_becomes_the_centre() -> None:
    """A screen to the user's left becomes the centre yaw, and that pose then counts as focused."""
    samples = list(SyntheticSource([("away_left", 5.0)], seed=2, idle_blinks=False))
    baseline = compute_baseline(samples)
    assert baseline.centre_yaw == pytest.approx(40.0, abs=3.0)
    calibration = to_focus_calibration(baseline)
    middle = samples[len(samples) // 2]
    assert classify(middle) is Attention.LOOKING_LEFT
    assert classify(middle, calibration) is Attention.FOCUSED


def test_absent_and_uncertain_samples_are_not_used() -> None:
    """Only present samples at or above the confidence floor enter the medians."""
    script = [("focused", 2.0), ("no_face", 2.0), ("uncertain", 2.0)]
    samples = list(SyntheticSource(script, fps=10.0))
    baseline = compute_baseline(samples)
    assert (baseline.samples_used, baseline.samples_total) == (20, 60)


def test_too_few_usable_samples_is_refused() -> None:
    """A recording with no face seen raises NotEnoughSamplesError explaining what to do."""
    samples = list(SyntheticSource([("no_face", 3.0)]))
    with pytest.raises(NotEnoughSamplesError, match="calibrate again"):
        compute_baseline(samples)


def test_collect_takes_the_first_seconds() -> None:
    """collect() keeps samples until `seconds` after the first one."""
    source = SyntheticSource([("focused", 10.0)], fps=10.0, start=3.0)
    got = collect(source, seconds=2.0)
    assert len(got) == 20 and got[0].t == 3.0


def test_save_and_load_round_trip(env: dict[str, str]) -> None:
    """A saved baseline loads back equal, from $XDG_DATA_HOME/convex/users/NAME/calibration.json."""
    baseline = _baseline()
    path = save_baseline(baseline, "sam", env)
    assert path == Path(env["XDG_DATA_HOME"]) / "convex" / "users" / "sam" / "calibration.json"
    assert load_baseline("sam", env) == baseline
    doc = json.loads(path.read_text())
    assert doc["neutral"]["eyeBlinkLeft"] == baseline.neutral[index_of("eyeBlinkLeft")]
    assert sorted(p.name for p in path.parent.iterdir()) == ["calibration.json"]


def test_missing_calibration_is_none(env: dict[str, str]) -> None:
    """A user who never calibrated has no baseline (not an error)."""
    assert load_baseline("newcomer", env) is None


@pytest.mark.parametrize(
    "damage",
    [
        lambda doc: "{not json",
        lambda doc: json.dumps({**doc, "version": 99}),
        lambda doc: json.dumps({**doc, "centre_yaw": "left"}),
        lambda doc: json.dumps({**doc, "neutral": {**doc["neutral"], "jawOpen": 3.0}}),
        lambda doc: json.dumps({k: v for k, v in doc.items() if k != "centre_pitch"}),
        lambda doc: json.dumps({**doc, "thresholds": {"yaw_away_deg": -1.0}}),
        lambda doc: json.dumps({**doc, "thresholds": {"bogus": 1.0}}),
        lambda doc: json.dumps([1, 2, 3]),
    ],
)
def test_corrupt_files_are_refused_with_a_fix(
    env: dict[str, str], damage: Callable[[dict[str, Any]], str]
) -> None:
    """Bad JSON, wrong version, types, ranges or missing values raise, naming the file and fix."""
    path = save_baseline(_baseline(), "sam", env)
    path.write_text(damage(json.loads(path.read_text())))
    with pytest.raises(CorruptCalibrationError) as info:
        load_baseline("sam", env)
    assert str(path) in str(info.value) and "convex calibrate" in str(info.value)


@pytest.mark.parametrize("name", ["../evil", "a/b", ".hidden", "", "x" * 65, "sp ace"])
def test_unsafe_user_names_are_refused(name: str, env: dict[str, str]) -> None:
    """User names that could escape the users directory raise InvalidUserNameError."""
    with pytest.raises(InvalidUserNameError):
        calibration_path(name, env)


def test_thresholds_travel_into_the_focus_calibration() -> None:
    """Saved threshold overrides become the focus rules' Thresholds."""
    calibration = to_focus_calibration(_baseline())
    assert calibration.thresholds == Thresholds(yaw_away_deg=30.0)
    assert calibration.centre_pitch == -12.0


def test_calibrating_from_real_frames(model_path: Path, face_frames: list[RGBImage]) -> None:
    """Real frames through the model give a baseline with the astronaut's pose and resting smile."""
    with (
        ArraySource(face_frames, fps=30.0, repeat=2) as source,
        FaceAnalyzer(model_path) as analyzer,
    ):
        samples: list[FaceSample] = list(analyse_frames(source, analyzer))
    baseline = compute_baseline(samples)
    assert baseline.samples_used == 16
    assert baseline.centre_pitch == pytest.approx(-15.0, abs=5.0)
    assert baseline.neutral[index_of("mouthSmileLeft")] > 0.5
    assert np.all(np.diff([s.t for s in samples]) > 0)
