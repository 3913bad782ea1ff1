"""Prometheus metrics for one server process, in its own registry (so tests can run several apps)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST


class Metrics:
    """Counters and gauges the server updates; `render()` is the `/metrics` body."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.rooms = Gauge("convex_rooms", "Live rooms.", registry=r)
        self.members = Gauge(
            "convex_members", "Seated room members (connected or in grace).", registry=r
        )
        self.connections = Gauge("convex_connections", "Open Socket.IO connections.", registry=r)
        self.frames_in = Counter("convex_frames_received", "Face frames accepted.", registry=r)
        self.frames_rejected = Counter(
            "convex_frames_rejected",
            "Face frames refused (invalid, stale, rate-limited).",
            registry=r,
        )
        self.batches_out = Counter("convex_batches_sent", "Batched frame packets sent.", registry=r)
        self.errors = Counter(
            "convex_errors", "Error replies sent to clients, by code.", ["code"], registry=r
        )
        self.http_requests = Counter(
            "convex_http_requests",
            "HTTP API requests, by route and status.",
            ["route", "status"],
            registry=r,
        )
        self.tick_lag = Histogram(
            "convex_tick_lag_seconds",
            "How late each room tick ran compared with its schedule.",
            buckets=(0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0),
            registry=r,
        )
        self.tick_duration = Histogram(
            "convex_tick_duration_seconds",
            "Time spent ticking all rooms once.",
            buckets=(0.0005, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1),
            registry=r,
        )

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
