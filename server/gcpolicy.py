"""When the cyclic garbage collector may stop the server: rarely, and never for long.

Theory of operation
-------------------
CPython's collector runs a *full* collection whenever the objects that survived into the
oldest generation grow by a quarter. A relay server holds a few hundred tracked objects per
connection (sockets, sessions, parsers), so with a thousand members a full pass walks a few
hundred thousand objects and stops the event loop for 100-200 ms on this machine: every
frame in flight misses its tick, and the fan-out p99 is gone (``bench/relay.py`` measured
the pauses). Almost nothing it walks is garbage; the relay's per-frame objects die by
reference counting.

:class:`GcPolicy` keeps full passes small and rare:

- after start-up, and after every full collection the collector runs by itself, the
  survivors are moved to the permanent generation (:func:`gc.freeze`), so the next
  automatic full pass walks only what was created since: milliseconds, not a tenth of a
  second;
- every :data:`FULL_INTERVAL_S` the policy unfreezes everything and runs one real full
  collection, so cycles among long-lived objects (closed connections, say) are still
  reclaimed; that pause is logged with its length.

The freeze is never done inside the collector's own callback: the callback only raises a
flag that the policy's task acts on at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from typing import Any, Final

log = logging.getLogger("convex.gc")

FULL_INTERVAL_S: Final[float] = 600.0
"""Seconds between the policy's own full collections."""

CHECK_INTERVAL_S: Final[float] = 0.05
"""How soon after an automatic full collection its survivors are frozen."""


class GcPolicy:
    """Install with :meth:`start` inside a running loop; :meth:`stop` undoes it."""

    def __init__(self, full_interval_s: float = FULL_INTERVAL_S) -> None:
        self.full_interval_s = full_interval_s
        self.freezes = 0
        """Times survivors were frozen (start-up, after automatic full passes)."""
        self.full_collections = 0
        """Full collections the policy ran itself."""
        self.last_full_pause_s = 0.0
        """Length of the policy's latest full collection."""
        self._full_seen = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Freeze what exists now and begin watching the collector."""
        gc.collect()
        self._freeze()
        gc.callbacks.append(self._on_gc)
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop watching and leave the collector as Python has it by default."""
        with contextlib.suppress(ValueError):
            gc.callbacks.remove(self._on_gc)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        gc.unfreeze()

    def full_collection(self) -> int:
        """Unfreeze, collect everything, freeze the survivors; returns objects collected."""
        started = time.perf_counter()
        gc.unfreeze()
        collected = gc.collect()
        self._freeze()
        self.full_collections += 1
        self.last_full_pause_s = time.perf_counter() - started
        log.info(
            "full garbage collection",
            extra={"collected": collected, "pause_ms": round(self.last_full_pause_s * 1e3, 1)},
        )
        return collected

    def _freeze(self) -> None:
        gc.freeze()
        self.freezes += 1

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "stop" and info.get("generation") == 2:
            self._full_seen = True

    async def _run(self) -> None:
        next_full = time.monotonic() + self.full_interval_s
        while True:
            await asyncio.sleep(CHECK_INTERVAL_S)
            if time.monotonic() >= next_full:
                self.full_collection()
                self._full_seen = False
                next_full = time.monotonic() + self.full_interval_s
            elif self._full_seen:
                self._full_seen = False
                self._freeze()
