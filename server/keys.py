"""Typed keys for everything the aiohttp application holds (`app[STORE]`, `app[CLOCK]`, ...)."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from server.auth import TokenSigner
from server.db.store import Store
from server.metrics import Metrics
from server.settings import Settings

Clock = Callable[[], float]
"""Returns Unix epoch seconds; injected so tests can move time by hand."""

SETTINGS = web.AppKey("settings", Settings)
CLOCK: web.AppKey[Clock] = web.AppKey("clock")
STORE = web.AppKey("store", Store)
SIGNER = web.AppKey("signer", TokenSigner)
METRICS = web.AppKey("metrics", Metrics)
