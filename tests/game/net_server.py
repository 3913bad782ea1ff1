"""A real Convex server on its own thread for the game's network tests, restartable on one port.

Like ``tests/server/conftest.py`` it runs ``create_app(settings, clock=...)`` on a free loopback
port with a throwaway SQLite file, but on a background thread with its own event loop (the
game's :class:`~game.net.NetClient` is threaded, so the tests are plain functions), with the
real clock and the 15 Hz tick loop on. :meth:`ServerThread.restart` stops the app and starts a
new one on the same port and database, as a server restart mid-session would.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, Final, TypeVar

import aiohttp
from aiohttp import web

from server.app import create_app
from server.settings import Settings

T = TypeVar("T")

STEP_TIMEOUT_S: Final[float] = 20.0
"""Longest wait for the server to start, stop or answer one request."""

SHUTDOWN_TIMEOUT_S: Final[float] = 0.25
"""How long a stopping server waits for open connections before closing them."""


class ServerThread:
    """A real server (real clock, tick loop on) on a background thread; start, stop, restart."""

    def __init__(self, db_path: Path) -> None:
        self.database_url = f"sqlite+aiosqlite:///{db_path}"
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="test-server")
        self._thread.start()
        self._runner: web.AppRunner | None = None
        self.app: web.Application | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def run(self, factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """Run a coroutine on the server's loop and wait for its result."""
        future = asyncio.run_coroutine_threadsafe(factory(), self._loop)
        try:
            return future.result(STEP_TIMEOUT_S)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise

    def start(self) -> None:
        """Start the app (on a free port the first time, then on the same port again)."""
        self.run(self._start)

    def stop(self) -> None:
        """Stop the app: connections close, rooms are saved; the port is free again."""
        self.run(self._stop)

    def restart(self) -> None:
        """Stop, then start a new app on the same port and database."""
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop the app if running and end the thread."""
        if self._runner is not None:
            self.stop()
        self.run(_cancel_leftovers)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(STEP_TIMEOUT_S)
        self._loop.close()

    async def _start(self) -> None:
        settings = Settings(
            host="127.0.0.1", port=self.port, database_url=self.database_url, _env_file=None
        )
        self.app = create_app(settings, clock=time.time, run_loops=True)
        self._runner = web.AppRunner(self.app, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is None:
            return
        # No goodbye to the clients: their sockets just close, as in a crash or a restart.
        await runner.cleanup()

    def register(self, username: str, password: str = "password123") -> str:
        """A new account's token, straight over HTTP."""

        async def go() -> str:
            async with (
                aiohttp.ClientSession() as http,
                http.post(
                    f"{self.url}/api/register", json={"username": username, "password": password}
                ) as r,
            ):
                assert r.status == 201, await r.text()
                token: str = (await r.json())["token"]
                return token

        return self.run(go)


async def _cancel_leftovers() -> None:
    """Cancel what the stopped apps left on the loop (Engine.IO ping tasks) before it closes."""
    current = asyncio.current_task()
    tasks = [t for t in asyncio.all_tasks() if t is not current]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
