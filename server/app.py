"""The application factory: `create_app(settings, clock=...)` wires storage, HTTP, Socket.IO and loops."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import secrets
import time
import uuid
from collections.abc import AsyncIterator

from aiohttp import web

from server import http_api
from server.auth import TokenSigner
from server.db.store import Store
from server.keys import CLOCK, GATEWAY, METRICS, SETTINGS, SIGNER, STORE, Clock
from server.metrics import Metrics
from server.rooms.manager import RoomManager
from server.settings import Settings
from server.sockets import Gateway

log = logging.getLogger("convex.server")

ROOM_ID_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread


def new_room_id() -> str:
    """A short join code people can read aloud (8 characters, ~40 bits)."""
    return "".join(secrets.choice(ROOM_ID_ALPHABET) for _ in range(8))


def new_id() -> str:
    """A random id for sessions and ghost members."""
    return uuid.uuid4().hex


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock = time.time,
    run_loops: bool = True,
) -> web.Application:
    """A ready-to-run aiohttp application; nothing is opened until it starts.

    `clock` returns Unix seconds (tests pass a hand clock); with `run_loops=False` the room
    tick loop is not started and tests call `app[GATEWAY].tick()` themselves.
    """
    settings = settings or Settings()
    app = web.Application(
        client_max_size=settings.max_payload_bytes,
        middlewares=[http_api.errors_middleware],
    )
    app[SETTINGS] = settings
    app[CLOCK] = clock
    app[METRICS] = Metrics()
    http_api.add_routes(app)
    manager = RoomManager(
        new_id=new_id,
        new_room_id=new_room_id,
        reconnect_grace_s=settings.reconnect_grace_s,
        tick_hz=settings.tick_hz,
    )
    app[GATEWAY] = Gateway(app, manager)
    app.cleanup_ctx.append(_storage)
    if run_loops:
        app.cleanup_ctx.append(_tick_loop)
    return app


async def _storage(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    store = await Store.open(settings.database_url)
    secret = settings.secret.get_secret_value().encode()
    app[STORE] = store
    app[SIGNER] = TokenSigner(secret or await store.signing_key(), settings.token_ttl_s)
    restored = await app[GATEWAY].restore_rooms()
    if restored:
        log.info("rooms restored", extra={"rooms": restored})
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            await app[GATEWAY].save_snapshots(app[CLOCK]())
        await store.close()


async def _tick_loop(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(_run_ticks(app))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _run_ticks(app: web.Application) -> None:
    """Tick all rooms at `tick_hz` on a fixed grid: a late tick runs at once, ticks missed by
    more than a whole interval are dropped (never made up in a burst), and the next tick is
    still on the grid. Keeping the phase matters: members send at the tick rate, and every
    shift of the tick's phase makes some members' frames land two to a tick (one overtaken)
    and none in the next."""
    interval = 1.0 / app[SETTINGS].tick_hz
    metrics = app[METRICS]
    gateway = app[GATEWAY]
    loop = asyncio.get_running_loop()
    next_at = loop.time()
    while True:
        next_at += interval
        delay = next_at - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -interval:
            next_at += math.floor(-delay / interval) * interval  # dropped, phase kept
        metrics.tick_lag.observe(max(0.0, -delay))
        started = loop.time()
        try:
            await gateway.tick(background_events=True)
        except Exception:
            log.exception("tick failed")
        metrics.tick_duration.observe(loop.time() - started)
