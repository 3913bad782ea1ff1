"""Per-frame attention classification from blendshapes, head pose, confidence and calibration."""

from __future__ import annotations

import math

import pytest

from shared.blendshapes import COUNT, INDEX
from shared.face import NEUTRAL_WEIGHTS, Attention, FaceSample
from shared.focus import (
    Calibration,
    InvalidCalibrationError,
    InvalidSettingsError,
    NoUsableSamplesError,
    Thresholds,
    brow_furrowed,
    classify,
    eyes_closed,
    horizontal_gaze,
    vertical_gaze,
)


def weights(**shapes: float) -> tuple[float, ...]:
    """A neutral face with the named blendshapes set."""
    w = list(NEUTRAL_WEIGHTS)
    for name, value in shapes.items():
        w[INDEX[name]] = value
    return tuple(w)


def face(
    yaw: float = 0.0, pitch: float = 0.0, confidence: float = 1.0, **shapes: float
) -> FaceSample:
    """A present face at t=0 with the given pose, confidence and blendshapes."""
    return FaceSample(
        t=0.0, blendshapes=weights(**shapes), yaw=yaw, pitch=pitch, confidence=confidence
    )


CLOSED = {"eyeBlinkLeft": 0.9, "eyeBlinkRight": 0.9}


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        (face(), Attention.FOCUSED),
        (face(yaw=30.0), Attention.LOOKING_LEFT),
        (face(yaw=-30.0), Attention.LOOKING_RIGHT),
        (face(pitch=25.0), Attention.LOOKING_UP),
        (face(pitch=-40.0), Attention.LOOKING_DOWN),
        (face(yaw=30.0, pitch=25.0), Attention.LOOKING_DIAGONAL),
        (face(yaw=-30.0, pitch=-40.0), Attention.LOOKING_DIAGONAL),
        (face(**CLOSED), Attention.EYES_CLOSED),
        (FaceSample.absent(0.0), Attention.NO_FACE),
        (face(confidence=0.3), Attention.UNCERTAIN),
        (face(yaw=10.0, pitch=-10.0), Attention.FOCUSED),
    ],
    ids=[
        "neutral",
        "yaw+30",
        "yaw-30",
        "pitch-up",
        "pitch-down",
        "up-left",
        "down-right",
        "blink",
        "absent",
        "low-confidence",
        "small-offsets",
    ],
)
def test_classification_table(sample: FaceSample, expected: Attention) -> None:
    """Each canonical pose, eye state and tracking state maps to its attention."""
    assert classify(sample) is expected


def test_confidence_floor_is_inclusive_at_one_half() -> None:
    """Confidence exactly 0.5 is judged; just below it is uncertain."""
    assert classify(face(confidence=0.5)) is Attention.FOCUSED
    assert classify(face(confidence=0.4999)) is Attention.UNCERTAIN


def test_uncertain_wins_over_pose_and_eyes() -> None:
    """A low-confidence frame is uncertain however far away or closed-eyed it looks."""
    assert classify(face(yaw=90.0, confidence=0.2, **CLOSED)) is Attention.UNCERTAIN


def test_closed_eyes_win_over_head_pose() -> None:
    """Closed eyes are reported even with the head turned (gaze shapes mean nothing then)."""
    assert classify(face(yaw=40.0, **CLOSED)) is Attention.EYES_CLOSED


def test_one_closed_eye_is_not_eyes_closed() -> None:
    """A wink (one eye) is not eyes_closed."""
    assert classify(face(eyeBlinkLeft=0.95)) is Attention.FOCUSED


def test_downward_limit_is_more_lenient_than_upward() -> None:
    """20° down (notes, keyboard) stays focused while 20° up is looking up."""
    assert classify(face(pitch=-20.0)) is Attention.FOCUSED
    assert classify(face(pitch=20.0)) is Attention.LOOKING_UP


def test_downward_limit_is_configurable() -> None:
    """A stricter pitch_down_deg turns the same 20° glance down into looking_down."""
    strict = Calibration(thresholds=Thresholds(pitch_down_deg=15.0))
    assert classify(face(pitch=-20.0), strict) is Attention.LOOKING_DOWN


def test_eyes_only_sideways_glance_counts() -> None:
    """Eyes turned fully to the subject's left with the head still is looking_left."""
    sample = face(eyeLookOutLeft=1.0, eyeLookInRight=1.0)
    assert horizontal_gaze(sample.blendshapes) == 1.0
    assert classify(sample) is Attention.LOOKING_LEFT
    right = face(eyeLookInLeft=1.0, eyeLookOutRight=1.0)
    assert classify(right) is Attention.LOOKING_RIGHT


def test_eyes_only_vertical_glance_counts() -> None:
    """Eyes rolled fully up with the head still is looking_up."""
    sample = face(eyeLookUpLeft=1.0, eyeLookUpRight=1.0)
    assert vertical_gaze(sample.blendshapes) == 1.0
    assert classify(sample) is Attention.LOOKING_UP


def test_eyes_back_on_screen_cancel_a_turned_head() -> None:
    """Head 30° left with the eyes turned right towards the screen is still focused."""
    sample = face(yaw=30.0, eyeLookInLeft=1.0, eyeLookOutRight=1.0)
    assert classify(sample) is Attention.FOCUSED


def test_head_and_eyes_add_up() -> None:
    """Head 15° and eyes half way (15°) the same side together pass the 25° limit."""
    assert classify(face(yaw=15.0)) is Attention.FOCUSED
    assert classify(face(yaw=15.0, eyeLookOutLeft=0.5, eyeLookInRight=0.5)) is (
        Attention.LOOKING_LEFT
    )


def test_gaze_contribution_can_be_switched_off() -> None:
    """With gaze_yaw_deg=0 only the head pose counts horizontally."""
    cal = Calibration(thresholds=Thresholds(gaze_yaw_deg=0.0))
    assert classify(face(eyeLookOutLeft=1.0, eyeLookInRight=1.0), cal) is Attention.FOCUSED


def test_calibration_centre_moves_the_screen() -> None:
    """A user whose screen is at yaw 20 is focused at yaw 20 and looking right at yaw −10."""
    cal = Calibration(centre_yaw=20.0)
    assert classify(face(yaw=20.0), cal) is Attention.FOCUSED
    assert classify(face(yaw=0.0), cal) is Attention.FOCUSED
    assert classify(face(yaw=-10.0), cal) is Attention.LOOKING_RIGHT
    assert classify(face(yaw=50.0), cal) is Attention.LOOKING_LEFT
    assert classify(face(yaw=20.0)) is Attention.FOCUSED  # default calibration: 20° is inside


def test_calibration_centre_pitch_moves_the_screen() -> None:
    """A screen below eye level (centre pitch −20) makes −45° focused and −55° looking down."""
    cal = Calibration(centre_pitch=-20.0)
    assert classify(face(pitch=-45.0), cal) is Attention.FOCUSED
    assert classify(face(pitch=-55.0), cal) is Attention.LOOKING_DOWN
    assert classify(face(pitch=0.0), cal) is Attention.LOOKING_UP


def test_yaw_difference_wraps_around() -> None:
    """Relative yaw is taken the short way round the circle (centre 170, yaw −175 is 15° apart)."""
    cal = Calibration(centre_yaw=170.0)
    assert classify(face(yaw=-175.0), cal) is Attention.FOCUSED


def test_neutral_blendshapes_are_subtracted() -> None:
    """A user whose resting eyes read half-closed and turned left is focused at rest."""
    resting_shapes = {
        "eyeBlinkLeft": 0.45,
        "eyeBlinkRight": 0.45,
        "eyeLookOutLeft": 0.9,
        "eyeLookInRight": 0.9,
    }
    cal = Calibration(neutral=weights(**resting_shapes))
    resting = face(**resting_shapes)
    assert classify(resting) is Attention.LOOKING_LEFT  # 0.9 · 30° = 27° without calibration
    assert classify(resting, cal) is Attention.FOCUSED
    assert classify(face(**CLOSED), cal) is not Attention.EYES_CLOSED  # 0.9 − 0.45 < 0.5
    assert classify(face(eyeBlinkLeft=1.0, eyeBlinkRight=1.0), cal) is Attention.EYES_CLOSED
    assert eyes_closed(face(**CLOSED))
    assert not eyes_closed(face(**CLOSED), cal)


def test_brow_furrow_is_relative_to_neutral_and_needs_a_confident_face() -> None:
    """browDown above neutral by the level is furrowed; absent or uncertain faces never are."""
    furrow = face(browDownLeft=0.6, browDownRight=0.5)
    assert brow_furrowed(furrow)
    assert not brow_furrowed(face(browDownLeft=0.2, browDownRight=0.2))
    assert not brow_furrowed(face(confidence=0.3, browDownLeft=0.9, browDownRight=0.9))
    assert not brow_furrowed(FaceSample.absent(0.0))
    frowny = Calibration(neutral=weights(browDownLeft=0.3, browDownRight=0.3))
    assert not brow_furrowed(furrow, frowny)


def test_calibration_from_samples_averages_confident_frames() -> None:
    """from_samples averages pose and blendshapes over present, confident frames only."""
    samples = [
        FaceSample(t=0.0, yaw=18.0, pitch=-4.0, blendshapes=weights(eyeBlinkLeft=0.2)),
        FaceSample(t=0.1, yaw=22.0, pitch=-6.0, blendshapes=weights(eyeBlinkLeft=0.4)),
        FaceSample(t=0.2, yaw=-60.0, pitch=30.0, confidence=0.1),
        FaceSample.absent(0.3),
    ]
    cal = Calibration.from_samples(samples)
    assert cal.centre_yaw == pytest.approx(20.0)
    assert cal.centre_pitch == pytest.approx(-5.0)
    assert cal.neutral[INDEX["eyeBlinkLeft"]] == pytest.approx(0.3)
    assert classify(FaceSample(t=1.0, yaw=20.0, pitch=-5.0), cal) is Attention.FOCUSED


def test_calibration_from_no_usable_samples_raises() -> None:
    """Calibrating from only absent or uncertain frames raises NoUsableSamplesError."""
    with pytest.raises(NoUsableSamplesError):
        Calibration.from_samples([FaceSample.absent(0.0), FaceSample(t=1.0, confidence=0.2)])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"neutral": (0.0,) * (COUNT - 1)},
        {"neutral": (math.nan,) * COUNT},
        {"neutral": (1.2,) * COUNT},
        {"centre_yaw": 200.0},
        {"centre_pitch": math.nan},
    ],
)
def test_invalid_calibration_raises(kwargs: dict[str, object]) -> None:
    """A calibration with a bad neutral vector or centre raises InvalidCalibrationError."""
    with pytest.raises(InvalidCalibrationError):
        Calibration(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"yaw_away_deg": 0.0},
        {"yaw_away_deg": math.inf},
        {"pitch_down_deg": -5.0},
        {"pitch_up_deg": math.nan},
        {"gaze_yaw_deg": -1.0},
        {"eyes_closed_level": 0.0},
        {"confusion_brow_level": 1.5},
        {"confidence_floor": 1.1},
        {"confusion_min_s": 0.0},
        {"confusion_relax_s": math.nan},
    ],
)
def test_invalid_thresholds_raise(kwargs: dict[str, float]) -> None:
    """Thresholds out of range raise InvalidSettingsError."""
    with pytest.raises(InvalidSettingsError):
        Thresholds(**kwargs)
