"""Blink counting (closures that reopen within 0.5 s) and blinks per minute over 60 s."""

from __future__ import annotations

import pytest

from shared.face import Attention
from shared.focus import BlinkCounter, InvalidSettingsError, OutOfOrderSampleError

OPEN = Attention.FOCUSED
SHUT = Attention.EYES_CLOSED
FPS = 15.0


def feed(counter: BlinkCounter, pattern: list[tuple[Attention, int]], start_frame: int = 0) -> int:
    """Feed (attention, frame count) runs at 15 fps; returns the next frame number."""
    frame = start_frame
    for attention, n in pattern:
        for _ in range(n):
            counter.update(attention, frame / FPS)
            frame += 1
    return frame


def test_short_closure_is_a_blink() -> None:
    """Open, 3 closed frames (0.2 s), open again: one blink, reported on the reopening frame."""
    counter = BlinkCounter()
    feed(counter, [(OPEN, 10), (SHUT, 3)])
    assert counter.total == 0
    assert counter.update(OPEN, 13 / FPS) is True
    assert counter.total == 1


def test_closure_of_exactly_half_a_second_is_a_blink() -> None:
    """A closure reopening 0.5 s after it started still counts."""
    counter = BlinkCounter()
    counter.update(OPEN, 0.0)
    counter.update(SHUT, 1.0)
    assert counter.update(OPEN, 1.5) is True


def test_long_closure_is_not_a_blink() -> None:
    """Eyes closed for 0.6 s or more are resting, not blinking."""
    counter = BlinkCounter()
    feed(counter, [(OPEN, 10), (SHUT, 9), (OPEN, 5)])
    assert counter.total == 0


def test_closure_needs_a_seen_open_eye_before_it() -> None:
    """A closure right after tracking loss (no open frame seen) is not counted."""
    counter = BlinkCounter()
    feed(counter, [(Attention.NO_FACE, 5), (SHUT, 2), (OPEN, 5)])
    assert counter.total == 0


def test_tracking_loss_cancels_a_closure_in_progress() -> None:
    """Open, closed, uncertain, open: not a blink (we do not know what happened)."""
    counter = BlinkCounter()
    feed(counter, [(OPEN, 5), (SHUT, 2), (Attention.UNCERTAIN, 1), (OPEN, 5)])
    assert counter.total == 0


def test_looking_away_with_open_eyes_counts_as_open() -> None:
    """A blink while looking left is still a blink."""
    counter = BlinkCounter()
    feed(counter, [(Attention.LOOKING_LEFT, 5), (SHUT, 2), (Attention.LOOKING_LEFT, 5)])
    assert counter.total == 1


def test_rate_is_blinks_per_minute_over_the_last_sixty_seconds() -> None:
    """12 blinks 5 s apart over 60 s read 12/min; 30 s later only the last 6 remain: 6/min."""
    counter = BlinkCounter()
    frame = 0
    for _ in range(12):
        frame = feed(counter, [(OPEN, 73), (SHUT, 2)], frame)  # 75 frames = 5 s per blink
    frame = feed(counter, [(OPEN, 1)], frame)
    assert counter.total == 12
    assert counter.rate(60.0) == pytest.approx(12.0)
    assert counter.rate(90.0) == pytest.approx(6.0)


def test_rate_uses_the_observed_span_early_in_a_session() -> None:
    """Two blinks in the first 10 s read 12 blinks per minute, not 2."""
    counter = BlinkCounter()
    feed(counter, [(OPEN, 30), (SHUT, 2), (OPEN, 30), (SHUT, 2), (OPEN, 86)])
    assert counter.total == 2
    assert counter.rate(10.0) == pytest.approx(12.0)


def test_rate_before_any_time_is_zero() -> None:
    """No samples (or no elapsed time) gives rate 0."""
    counter = BlinkCounter()
    assert counter.rate(5.0) == 0.0
    counter.update(OPEN, 5.0)
    assert counter.rate(5.0) == 0.0


def test_out_of_order_is_rejected_without_change() -> None:
    """A sample or query earlier than the last sample raises OutOfOrderSampleError."""
    counter = BlinkCounter()
    feed(counter, [(OPEN, 5), (SHUT, 1)])
    with pytest.raises(OutOfOrderSampleError):
        counter.update(OPEN, 0.0)
    with pytest.raises(OutOfOrderSampleError):
        counter.rate(0.0)
    assert counter.update(OPEN, 6 / FPS) is True  # the closure in progress survived


def test_invalid_settings_raise() -> None:
    """A non-positive blink length or window raises InvalidSettingsError."""
    with pytest.raises(InvalidSettingsError):
        BlinkCounter(max_s=0.0)
    with pytest.raises(InvalidSettingsError):
        BlinkCounter(window_s=float("nan"))
