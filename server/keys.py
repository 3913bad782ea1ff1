"""Typed keys for everything the aiohttp application holds (`app[STORE]`, `app[CLOCK]`, ...)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from server.auth import TokenSigner
from server.db.store import Store
from server.metrics import Metrics
from server.settings import Settings

if TYPE_CHECKING:
    from server.sockets import Gateway

Clock = Callable[[], float]
"""Returns Unix epoch seconds; injected so tests can move time by hand."""

SETTINGS = web.AppKey("settings", Settings)
CLOCK: web.AppKey[Clock] = web.AppKey("clock")
STORE = web.AppKey("store", Store)
SIGNER = web.AppKey("signer", TokenSigner)
METRICS = web.AppKey("metrics", Metrics)
OPENAPI: web.AppKey[dict[str, Any]] = web.AppKey("openapi")
GATEWAY: web.AppKey[Gateway] = web.AppKey("gateway")
