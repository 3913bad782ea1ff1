"""Server fixtures: a real server on a free loopback port with a throwaway SQLite file and a hand clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from server.app import create_app
from server.settings import Settings


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

    async def register(self, username: str, password: str = "password123") -> str:
        async with self.http.post(
            f"{self.url}/api/register", json={"username": username, "password": password}
        ) as r:
            assert r.status == 201, await r.text()
            token: str = (await r.json())["token"]
        self.tokens[username] = token
        return token


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        host="127.0.0.1",
        port=0,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'server.sqlite3'}",
    )


@pytest.fixture
async def server(settings: Settings) -> AsyncIterator[LiveServer]:
    clock = HandClock()
    app = create_app(settings, clock=clock)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    async with aiohttp.ClientSession() as http:
        yield LiveServer(f"http://127.0.0.1:{port}", clock, app, http)
    await runner.cleanup()
