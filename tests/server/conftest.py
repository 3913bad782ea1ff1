"""Server fixtures: a real server on a free loopback port, a throwaway database, a hand clock.

Every test that takes ``database_url`` (and so ``settings`` and ``server``) runs twice: on a fresh
SQLite file and on a fresh database in one session-wide throwaway PostgreSQL cluster
(``tests/server/postgres.py``). The tick loop is off: tests move the clock and call
``server.tick()`` themselves.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from server.app import create_app
from server.keys import GATEWAY
from server.settings import Settings
from tests.server.postgres import PostgresCluster, PostgresUnavailable

BACKENDS = ("sqlite", "postgresql")
"""The databases the integration suite runs on; a test's id names its backend."""


@dataclass
class HandClock:
    """A clock tests move forward by hand (Unix seconds)."""

    now: float = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def jump(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class LiveServer:
    """A running server: its base URL, clock, app, and an HTTP session to talk to it."""

    url: str
    clock: HandClock
    app: web.Application
    http: aiohttp.ClientSession
    tokens: dict[str, str] = field(default_factory=dict)

    async def tick(self, seconds: float = 0.0) -> None:
        """Move the clock forward, then tick every room once."""
        self.clock.jump(seconds)
        await self.app[GATEWAY].tick()

    async def register(self, username: str, password: str = "password123") -> str:
        async with self.http.post(
            f"{self.url}/api/register", json={"username": username, "password": password}
        ) as r:
            assert r.status == 201, await r.text()
            token: str = (await r.json())["token"]
        self.tokens[username] = token
        return token


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """One throwaway PostgreSQL cluster for the whole run, started on first use."""
    try:
        cluster = PostgresCluster.start()
    except PostgresUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database: a SQLite file in a folder that does not exist yet (the store
    makes it), or a new database in the session's PostgreSQL cluster."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'db' / 'server.sqlite3'}"
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    return await cluster.create_database()


@pytest.fixture
def settings(database_url: str) -> Settings:
    # _env_file=None: a developer's .env must not change what the tests run against.
    return Settings(host="127.0.0.1", port=0, database_url=database_url, _env_file=None)


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[LiveServer]:
    clock = HandClock()
    app = create_app(settings, clock=clock, run_loops=False)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    async with aiohttp.ClientSession() as http:
        yield LiveServer(f"http://127.0.0.1:{port}", clock, app, http)
    await runner.cleanup()
