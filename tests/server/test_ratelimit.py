"""Token buckets allow bursts up to their size, then the steady rate, and never go backwards in time."""

from __future__ import annotations

from server.ratelimit import TokenBucket


def test_burst_then_steady_rate() -> None:
    """A full bucket allows a burst, then one event per 1/rate seconds."""
    bucket = TokenBucket(rate=10.0, burst=5.0)
    assert [bucket.allow(0.0) for _ in range(6)] == [True] * 5 + [False]
    assert not bucket.allow(0.05)
    assert bucket.allow(0.1)


def test_refill_is_capped_and_clock_jumps_back_are_harmless() -> None:
    """Idle time refills only up to the burst; a clock that steps back adds nothing."""
    bucket = TokenBucket(rate=1.0, burst=2.0)
    assert bucket.allow(0.0) and bucket.allow(0.0) and not bucket.allow(0.0)
    assert bucket.allow(100.0) and bucket.allow(100.0) and not bucket.allow(100.0)
    assert not bucket.allow(50.0)
