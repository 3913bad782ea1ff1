"""Per-user calibration: record a relaxed look at the screen, keep its medians, store them as JSON.

Theory of operation
-------------------
The student looks at their screen with a relaxed face for a few seconds.
:func:`compute_baseline` keeps the samples that are present and at least
:data:`MIN_CONFIDENCE` confident, and takes per-channel **medians**: the
neutral value of each of the 52 blendshapes, and yaw/pitch as the screen
centre. Medians rather than means, so that the blinks, glances and twitches
that happen during any recording do not shift the baseline.

A :class:`Baseline` is saved as JSON at
``$XDG_DATA_HOME/convex/users/<name>/calibration.json``
(``~/.local/share/...`` when ``XDG_DATA_HOME`` is unset), written to a
temporary file and renamed into place. The file holds numbers only (never an
image), keyed by blendshape name so that it survives a reordering of slots. A
file that cannot be read back exactly (bad JSON, unknown version, missing or
out-of-range values) raises :class:`CorruptCalibrationError`, which names the
file and says to recalibrate; a missing file is simply "not calibrated yet".
:func:`to_focus_calibration` turns a baseline into the focus rules'
:class:`shared.focus.Calibration`.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from game.capture.sources import Frame
from shared.blendshapes import COUNT, NAMES
from shared.face import PITCH_LIMIT, YAW_LIMIT, FaceSample
from shared.focus import Calibration, InvalidSettingsError, Thresholds

if TYPE_CHECKING:
    from game.capture.tracker import FaceAnalyzer

FORMAT_VERSION: Final[int] = 1
"""Version number written into calibration files; others are refused as corrupt."""

DEFAULT_SECONDS: Final[float] = 5.0
"""Recording length that gives a stable median at 30 fps (150 frames, several blinks)."""

MIN_CONFIDENCE: Final[float] = 0.5
"""Samples below this confidence are not used (the focus rules' own uncertainty line)."""

MIN_USABLE_SAMPLES: Final[int] = 10
"""Fewest usable samples a baseline may rest on (a third of a second at 30 fps)."""

USER_NAME_PATTERN: Final[re.Pattern[str]] = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
"""User names that are safe as one directory name (no separators, no leading dot)."""


class CalibrationError(ValueError):
    """Base class for calibration problems."""


class NotEnoughSamplesError(CalibrationError):
    """Too few present, confident samples to compute a baseline."""


class CorruptCalibrationError(CalibrationError):
    """A calibration file that exists but cannot be read back exactly."""


class InvalidUserNameError(CalibrationError):
    """A user name that is not safe as a single directory name."""


@dataclass(frozen=True, slots=True)
class Baseline:
    """A user's calibration: neutral blendshapes, screen-centre pose, and threshold overrides."""

    neutral: tuple[float, ...]
    centre_yaw: float
    centre_pitch: float
    samples_used: int
    samples_total: int
    thresholds: Mapping[str, float] = field(default_factory=dict)
    """Overrides of :class:`shared.focus.Thresholds` fields; empty means the defaults."""

    def __post_init__(self) -> None:
        if len(self.neutral) != COUNT:
            raise CalibrationError(f"expected {COUNT} neutral weights, got {len(self.neutral)}")
        for i, w in enumerate(self.neutral):
            if not (0.0 <= w <= 1.0):  # also rejects NaN
                raise CalibrationError(f"neutral weight of {NAMES[i]} is {w!r}, outside [0, 1]")
        if not -YAW_LIMIT <= self.centre_yaw <= YAW_LIMIT:
            raise CalibrationError(f"centre_yaw {self.centre_yaw!r} is out of range")
        if not -PITCH_LIMIT <= self.centre_pitch <= PITCH_LIMIT:
            raise CalibrationError(f"centre_pitch {self.centre_pitch!r} is out of range")
        if not 0 < self.samples_used <= self.samples_total:
            raise CalibrationError(
                f"samples_used {self.samples_used} must be in 1..samples_total "
                f"({self.samples_total})"
            )
        known = {f.name for f in fields(Thresholds)}
        unknown = set(self.thresholds) - known
        if unknown:
            raise CalibrationError(f"unknown threshold names {sorted(unknown)}")
        try:
            Thresholds(**dict(self.thresholds))
        except InvalidSettingsError as exc:
            raise CalibrationError(f"invalid thresholds: {exc}") from exc
        object.__setattr__(self, "thresholds", dict(self.thresholds))

    def to_json(self) -> dict[str, Any]:
        """The JSON document saved for this baseline."""
        return {
            "version": FORMAT_VERSION,
            "centre_yaw": self.centre_yaw,
            "centre_pitch": self.centre_pitch,
            "samples_used": self.samples_used,
            "samples_total": self.samples_total,
            "neutral": dict(zip(NAMES, self.neutral, strict=True)),
            "thresholds": dict(self.thresholds),
        }

    @classmethod
    def from_json(cls, doc: object) -> Baseline:
        """Parse a document written by :meth:`to_json`; raises :class:`CalibrationError`."""
        if not isinstance(doc, dict):
            raise CalibrationError("a calibration must be a JSON object")
        if doc.get("version") != FORMAT_VERSION:
            raise CalibrationError(f"unsupported calibration version {doc.get('version')!r}")
        neutral = doc.get("neutral")
        if not isinstance(neutral, dict) or set(neutral) != set(NAMES):
            raise CalibrationError(f"'neutral' must map all {COUNT} blendshape names to weights")
        thresholds = doc.get("thresholds", {})
        if not isinstance(thresholds, dict):
            raise CalibrationError("'thresholds' must be an object")
        try:
            return cls(
                neutral=tuple(_number(neutral[name], name) for name in NAMES),
                centre_yaw=_number(doc.get("centre_yaw"), "centre_yaw"),
                centre_pitch=_number(doc.get("centre_pitch"), "centre_pitch"),
                samples_used=_integer(doc.get("samples_used"), "samples_used"),
                samples_total=_integer(doc.get("samples_total"), "samples_total"),
                thresholds={str(k): _number(v, str(k)) for k, v in thresholds.items()},
            )
        except TypeError as exc:
            raise CalibrationError(str(exc)) from exc


def _number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise CalibrationError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def _integer(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise CalibrationError(f"{name} must be an integer, got {value!r}")
    return value


def collect(samples: Iterable[FaceSample], seconds: float = DEFAULT_SECONDS) -> list[FaceSample]:
    """The samples of the first ``seconds`` (by their own ``t``), starting at the first one."""
    if not (math.isfinite(seconds) and seconds > 0):
        raise ValueError(f"seconds must be positive, got {seconds!r}")
    out: list[FaceSample] = []
    for sample in samples:
        if out and sample.t - out[0].t >= seconds:
            break
        out.append(sample)
    return out


def analyse_frames(frames: Iterable[Frame], analyzer: FaceAnalyzer) -> Iterator[FaceSample]:
    """Every frame through ``analyzer`` in order (offline: nothing is dropped)."""
    last_ms = analyzer.last_timestamp_ms
    for frame in frames:
        # Millisecond stamps must strictly increase even when frames are closer than 1 ms.
        t_ms = round(frame.t * 1000.0)
        if last_ms is not None and t_ms <= last_ms:
            t_ms = last_ms + 1
        last_ms = t_ms
        yield analyzer.process(frame.rgb, t_ms, t=frame.t)


def compute_baseline(
    samples: Iterable[FaceSample],
    *,
    min_confidence: float = MIN_CONFIDENCE,
    min_samples: int = MIN_USABLE_SAMPLES,
    thresholds: Mapping[str, float] | None = None,
) -> Baseline:
    """Per-channel medians of the present, confident samples; see the module docstring."""
    all_samples = list(samples)
    usable = [s for s in all_samples if s.present and s.confidence >= min_confidence]
    if len(usable) < min_samples:
        raise NotEnoughSamplesError(
            f"only {len(usable)} of {len(all_samples)} samples show a face with confidence "
            f"≥ {min_confidence} (need {min_samples}): face the camera in good light and "
            "calibrate again"
        )
    weights = np.median(np.array([s.blendshapes for s in usable], dtype=np.float64), axis=0)
    return Baseline(
        neutral=tuple(min(1.0, max(0.0, float(w))) for w in weights),
        centre_yaw=float(np.median([s.yaw for s in usable])),
        centre_pitch=float(np.median([s.pitch for s in usable])),
        samples_used=len(usable),
        samples_total=len(all_samples),
        thresholds=dict(thresholds or {}),
    )


def to_focus_calibration(baseline: Baseline) -> Calibration:
    """The focus rules' :class:`~shared.focus.Calibration` for this baseline."""
    return Calibration(
        neutral=baseline.neutral,
        centre_yaw=baseline.centre_yaw,
        centre_pitch=baseline.centre_pitch,
        thresholds=Thresholds(**dict(baseline.thresholds)),
    )


def data_root(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME/convex`` (``~/.local/share/convex`` when unset or relative)."""
    env = os.environ if env is None else env
    base = env.get("XDG_DATA_HOME") or ""
    root = Path(base) if os.path.isabs(base) else Path.home() / ".local" / "share"
    return root / "convex"


def calibration_path(user: str, env: Mapping[str, str] | None = None) -> Path:
    """Where ``user``'s calibration lives; the name must be one safe directory name."""
    if not USER_NAME_PATTERN.fullmatch(user):
        raise InvalidUserNameError(
            f"user name {user!r} must be 1–64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return data_root(env) / "users" / user / "calibration.json"


def save_baseline(baseline: Baseline, user: str, env: Mapping[str, str] | None = None) -> Path:
    """Write ``user``'s calibration atomically (temporary file, then rename); returns the path."""
    path = calibration_path(user, env)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(baseline.to_json(), indent=2, sort_keys=True) + "\n"
    fd, tmp_name = tempfile.mkstemp(prefix=".calibration.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return path


def load_baseline(user: str, env: Mapping[str, str] | None = None) -> Baseline | None:
    """``user``'s saved calibration, None if there is none; raises if the file is corrupt."""
    path = calibration_path(user, env)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise CorruptCalibrationError(
            f"calibration file {path} cannot be read ({exc}); delete it and run "
            "`convex calibrate` again"
        ) from exc
    try:
        return Baseline.from_json(json.loads(text))
    except (json.JSONDecodeError, CalibrationError) as exc:
        raise CorruptCalibrationError(
            f"calibration file {path} is corrupt ({exc}); delete it and run "
            "`convex calibrate` again"
        ) from exc
