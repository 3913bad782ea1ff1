"""The application factory: `create_app(settings, clock=...)` wires storage, HTTP, Socket.IO and loops."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

from aiohttp import web

from server import http_api
from server.auth import TokenSigner
from server.db.store import Store
from server.keys import CLOCK, METRICS, SETTINGS, SIGNER, STORE, Clock
from server.metrics import Metrics
from server.settings import Settings


def create_app(settings: Settings | None = None, *, clock: Clock = time.time) -> web.Application:
    """A ready-to-run aiohttp application; nothing is opened until it starts."""
    settings = settings or Settings()
    app = web.Application(
        client_max_size=settings.max_payload_bytes,
        middlewares=[http_api.errors_middleware],
    )
    app[SETTINGS] = settings
    app[CLOCK] = clock
    app[METRICS] = Metrics()
    http_api.add_routes(app)
    app.cleanup_ctx.append(_storage)
    return app


async def _storage(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    store = await Store.open(settings.database_url)
    secret = settings.secret.get_secret_value().encode()
    app[STORE] = store
    app[SIGNER] = TokenSigner(secret or await store.signing_key(), settings.token_ttl_s)
    try:
        yield
    finally:
        await store.close()
