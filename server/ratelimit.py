"""Per-connection rate limits: token buckets refilled from an injected clock."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class TokenBucket:
    """Allows `rate` events per second on average with bursts up to `burst`."""

    rate: float
    burst: float
    tokens: float = -1.0
    updated: float = 0.0

    def allow(self, now: float, cost: float = 1.0) -> bool:
        """Take `cost` tokens if there are enough; refills by elapsed time first."""
        if self.tokens < 0:  # first use: start full
            self.tokens, self.updated = self.burst, now
        # max()/min() spelled as conditionals (same results, NaN included): this runs for
        # every relayed frame, and the builtin calls were most of its cost.
        elapsed = now - self.updated
        if not elapsed > 0.0:
            elapsed = 0.0
        tokens = self.tokens + elapsed * self.rate
        burst = self.burst
        self.tokens = tokens if tokens < burst else burst
        self.updated = now
        if self.tokens >= cost:
            self.tokens -= cost
            return True
        return False
