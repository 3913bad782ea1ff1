"""Time on the client: the face-frame pacer, the server clock offset, the reconnect backoff.

Theory of operation
-------------------
Everything here is pure: local times come in as arguments (seconds on the client's
monotonic clock), so the rules are tested without sleeping.

*Pacer.* :class:`FramePacer` is a GCRA (a token bucket in one number): a frame at ``now`` is
sent if ``now >= due``, after which ``due = max(due, now - period / 2) + period``. The half
period of tolerance lets a 20 Hz or 30 Hz tracker keep a steady 15 frames a second instead
of aliasing down to 10; over any interval of ``T`` seconds at most ``T / period + 2`` frames
pass, far inside the server's limit of 30 a second.

*Tick alignment.* The room relays each member's newest frame once per server tick (15 Hz, the
pace of the frames themselves). A frame that reaches the server close to a tick may land
before it one time and after it the next, so two frames meet in one tick (the older one is
overtaken and never relayed) and the next tick has none. Told when ticks happen
(:meth:`FramePacer.on_tick`, from each batch's server time), the pacer sends only in the
:data:`SEND_BAND` of the tick period, well clear of the next tick: frames then land in the
tick they were meant for even when the server or the network is a few tens of milliseconds
late. The band is only waited for when samples come at least as often as it is wide (a
30 Hz tracker or a render loop calling every frame); slower callers send what they have, and
a frame a whole period overdue goes out anyway, so the band never lowers the rate. Without
tick times (before the first batch, or when they are older than :data:`TICK_STALE_S`) the
pacer paces alone.

*Clock offset.* Each ``timer`` event (and each ``frames`` batch) carries the server's clock
(epoch ms) at sending; ``server - local_receive_time`` is the true offset minus the one-way
delay of that message. :class:`ClockSync` keeps the last :data:`OFFSET_WINDOW` such samples
and estimates the offset as their **maximum**: the sample that travelled fastest, the
min-RTT idea of NTP with one-way samples. The estimate is low by the smallest delay in the
window (well under a millisecond on loopback, a few ms on a LAN), and every client in a room
is low by about the same, so their countdowns agree. A window (not all-time) lets the
estimate follow a server that restarts with another clock; the client also resets it on
every new connection.

*Remaining time.* While a phase runs, ``remaining = end_time − (local_now + offset)``; while
paused, the server's ``remaining_ms`` (frozen); in the lobby and results, ``None``.

*Backoff.* Reconnect attempts wait 0.5, 1, 2, 4, 8, 10, 10, … seconds.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final

from shared.protocol import TimerState

FACE_HZ: Final[float] = 15.0
"""Face frames sent per second at most (the tracker may run faster; extras are dropped)."""

SEND_BAND: Final[tuple[float, float]] = (0.05, 0.70)
"""Where in the tick period (fractions after a tick) frames are sent: 3 ms to 47 ms after a
15 Hz tick, leaving 20 ms before the next one for delays. Wide, because a thousand members'
frames all arrive inside it and the server must get through them before the next tick."""

TICK_WINDOW: Final[int] = 16
"""Recent ticks the send band is placed after (about a second at 15 Hz)."""

TICK_STALE_S: Final[float] = 1.0
"""Tick times older than this are not used for alignment (the room stopped sending batches)."""

OFFSET_WINDOW: Final[int] = 32
"""Clock samples the offset estimate looks at (about 2 s of batches at 15 Hz)."""

BACKOFF_FIRST_S: Final[float] = 0.5
BACKOFF_MAX_S: Final[float] = 10.0
"""Reconnect delays double from the first to the cap."""


_EPSILON_S: Final[float] = 1e-6
"""Rounding slack: a frame due at exactly ``due`` must not miss it by a float's last bit."""


@dataclass(slots=True)
class FramePacer:
    """Decides which face samples go out so that at most ``hz`` are sent per second."""

    hz: float = FACE_HZ
    band: tuple[float, float] = SEND_BAND
    _due: float = field(default=float("-inf"), repr=False)
    _tick_at: float | None = field(default=None, repr=False)
    _ticks: deque[float] = field(default_factory=lambda: deque(maxlen=TICK_WINDOW), repr=False)
    _last_call: float = field(default=float("-inf"), repr=False)

    def __post_init__(self) -> None:
        if not self.hz > 0:
            raise ValueError(f"pacer rate must be positive, got {self.hz!r}")
        lo, hi = self.band
        if not 0.0 <= lo < hi <= 1.0:
            raise ValueError(f"send band must be 0 <= lo < hi <= 1, got {self.band!r}")

    def on_tick(self, at: float) -> None:
        """The server ticked at local time ``at`` (a batch's server time, offset-corrected).

        A busy server ticks late now and then, never early, so the grid is taken from the
        earliest of the last :data:`TICK_WINDOW` ticks (each folded onto the newest by whole
        periods): one late tick does not move the band onto the next one."""
        ticks = self._ticks
        ticks.append(at)
        period = 1.0 / self.hz
        half = period / 2
        self._tick_at = at + min(((t - at + half) % period) - half for t in ticks)

    def allow(self, now: float) -> bool:
        """Whether a sample at local time ``now`` is sent; a sent one counts against the rate."""
        gap, self._last_call = now - self._last_call, now
        if now < self._due - _EPSILON_S:
            return False
        period = 1.0 / self.hz
        tick = self._tick_at
        lo, hi = self.band
        # Wait for the band only if samples come often enough for one to fall inside it soon;
        # a slower tracker sends what it has (unaligned beats missing a tick).
        if (
            tick is not None
            and abs(now - tick) < TICK_STALE_S
            and gap <= (hi - lo) * period + _EPSILON_S
            and now < self._due + period
        ):
            phase = ((now - tick) % period) / period
            if not lo <= phase <= hi:
                return False
        self._due = max(self._due, now - period / 2) + period
        return True


@dataclass(slots=True)
class ClockSync:
    """Estimates ``server_clock - local_clock`` (seconds) from server-stamped messages."""

    window: int = OFFSET_WINDOW
    _samples: deque[float] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.window < 1:
            raise ValueError(f"window must be at least 1, got {self.window!r}")
        self._samples = deque(maxlen=self.window)

    def add(self, server_ms: int, local_received: float) -> None:
        """One message stamped ``server_ms`` (epoch ms) arrived at local time ``local_received``."""
        self._samples.append(server_ms / 1000.0 - local_received)

    def reset(self) -> None:
        """Forget every sample (a new connection may be to a server with another clock)."""
        self._samples.clear()

    @property
    def offset(self) -> float | None:
        """The estimate (the fastest sample in the window), or None before any sample."""
        return max(self._samples) if self._samples else None

    def __len__(self) -> int:
        return len(self._samples)


def remaining_s(timer: TimerState | None, offset: float | None, now: float) -> float | None:
    """Seconds left in the running phase at local time ``now``; None in lobby/results or unknown.

    Paused: the server's frozen ``remaining_ms``. Running: ``end_time`` against the estimated
    server clock ``now + offset``, never below zero.
    """
    if timer is None or timer.end_time is None:
        return None
    if timer.paused:
        return timer.remaining_ms / 1000.0
    if offset is None:
        return None
    return max(0.0, timer.end_time / 1000.0 - (now + offset))


def backoff_delays(first: float = BACKOFF_FIRST_S, cap: float = BACKOFF_MAX_S) -> Iterator[float]:
    """Endless reconnect delays: ``first``, doubling, then ``cap`` forever."""
    delay = first
    while True:
        yield min(delay, cap)
        delay = min(delay * 2, cap)
