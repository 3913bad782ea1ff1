"""Tests for game.capture.tracker.FaceTracker: latest-frame slot, lifecycle and failure handling."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from game.capture.sources import ArraySource, InvalidFrameError, RGBImage
from game.capture.tracker import FaceAnalyzer, FaceTracker, TimestampOrderError, TrackerError
from shared.face import FaceSample

WAIT_S = 30.0
"""Generous upper bound for waits on the worker; the tests never measure time."""


def test_fast_producer_drops_to_the_latest_frame(
    model_path: Path, face_frames: list[RGBImage]
) -> None:
    """While the worker is busy, every new frame replaces the waiting one: only the newest runs."""
    in_callback = threading.Event()
    release = threading.Event()
    published: list[FaceSample] = []

    def on_sample(sample: FaceSample) -> None:
        published.append(sample)
        if len(published) == 1:
            in_callback.set()
            release.wait(WAIT_S)

    with FaceTracker(model_path, on_sample=on_sample) as tracker:
        tracker.submit(0.0, face_frames[0])
        assert in_callback.wait(WAIT_S)
        # The worker is held inside on_sample: frames 1..49 pile onto one slot.
        replaced = [tracker.submit(i / 30, face_frames[i % len(face_frames)]) for i in range(1, 50)]
        assert replaced == [False] + [True] * 48
        assert tracker.stats.dropped == 48
        release.set()
        assert tracker.wait_idle(WAIT_S)
        stats = tracker.stats
    assert [s.t for s in published] == [0.0, 49 / 30]
    assert (stats.submitted, stats.processed, stats.dropped) == (50, 2, 48)


def test_stop_joins_the_threads_and_closes_the_landmarker(
    model_path: Path, face_frames: list[RGBImage]
) -> None:
    """After stop() no thread runs and MediaPipe's landmarker has released its native handle."""
    with ArraySource(face_frames, fps=30.0) as source:
        tracker = FaceTracker(model_path, source=source).start()
        assert tracker.wait_idle(WAIT_S)
        analyzer = tracker.analyzer
        assert analyzer is not None and not analyzer.closed
        tracker.stop()
    assert not tracker.running
    assert analyzer.closed
    # MediaPipe's own state: close() sets the handle to its native graph to None.
    assert analyzer.landmarker._handle is None
    names = {t.name for t in threading.enumerate()}
    assert not any(name.startswith("convex-face") for name in names)


def test_source_frames_all_accounted_for(model_path: Path, face_frames: list[RGBImage]) -> None:
    """With a source, every frame is either processed or dropped, and the last one is processed."""
    with (
        ArraySource(face_frames, fps=30.0, repeat=3) as source,
        FaceTracker(model_path, source=source) as tracker,
    ):
        assert tracker.wait_idle(WAIT_S)
        latest = tracker.latest()
    stats = tracker.stats
    assert stats.source_frames == stats.submitted == 24
    assert stats.processed + stats.dropped == 24 and stats.processed >= 1
    assert latest is not None and latest.present and latest.t == pytest.approx(23 / 30)


def test_frames_within_one_millisecond_are_both_processed(
    model_path: Path, face_frames: list[RGBImage]
) -> None:
    """Two frames 0.4 ms apart get distinct VIDEO-mode timestamps and keep their own times."""
    with FaceTracker(model_path) as tracker:
        tracker.submit(1.0, face_frames[0])
        first = tracker.wait_for_sample(0, WAIT_S)
        assert first is not None
        tracker.submit(1.0004, face_frames[1])
        second = tracker.wait_for_sample(first[0], WAIT_S)
    assert second is not None
    assert (first[1].t, second[1].t) == (1.0, 1.0004)
    assert tracker.error is None


def test_submit_guards(model_path: Path, face_frames: list[RGBImage]) -> None:
    """submit() refuses use before start, a non-increasing time, NaN and a non-RGB frame."""
    tracker = FaceTracker(model_path)
    with pytest.raises(TrackerError, match="start"):
        tracker.submit(0.0, face_frames[0])
    with tracker:
        tracker.submit(5.0, face_frames[0])
        with pytest.raises(TimestampOrderError):
            tracker.submit(5.0, face_frames[1])
        with pytest.raises(InvalidFrameError):
            tracker.submit(float("nan"), face_frames[1])
        with pytest.raises(InvalidFrameError):
            tracker.submit(6.0, np.zeros((4, 4), np.uint8))
        assert tracker.stats.submitted == 1
    with pytest.raises(TrackerError):
        tracker.start()


def test_callback_failure_stops_the_tracker_and_closes(
    model_path: Path, face_frames: list[RGBImage]
) -> None:
    """An exception in on_sample ends the worker, closes the landmarker, and stop() re-raises it."""

    def explode(sample: FaceSample) -> None:
        raise RuntimeError("consumer bug")

    tracker = FaceTracker(model_path, on_sample=explode).start()
    tracker.submit(0.0, face_frames[0])
    assert not tracker.wait_idle(WAIT_S)
    with pytest.raises(TrackerError, match="consumer bug"):
        tracker.stop()
    assert tracker.analyzer is not None and tracker.analyzer.closed
    assert not tracker.running


def test_unloadable_model_fails_start(tmp_path: Path) -> None:
    """A missing model file makes start() raise TrackerError and leaves no thread behind."""
    tracker = FaceTracker(tmp_path / "missing.task")
    with pytest.raises(TrackerError, match="could not start"):
        tracker.start()
    assert not tracker.running


def test_latest_before_and_after_a_sample(model_path: Path, face_frames: list[RGBImage]) -> None:
    """latest() is None until the first result, then the newest sample without blocking."""
    with FaceTracker(analyzer_factory=lambda: FaceAnalyzer(model_path)) as tracker:
        assert tracker.latest() is None
        tracker.submit(0.5, face_frames[0])
        got = tracker.wait_for_sample(0, WAIT_S)
        assert got is not None and tracker.latest() is got[1]
        assert got[1].t == 0.5 and got[1].present
