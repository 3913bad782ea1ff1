"""The data layer: an async SQLAlchemy engine, migrations on open, and the queries the server needs."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from server.db import schema

MIGRATIONS = Path(__file__).with_name("migrations")


class StoreError(Exception):
    """A storage operation that cannot succeed as asked."""


class UsernameTaken(StoreError):
    """Registering a username that already exists."""


@dataclass(frozen=True, slots=True)
class User:
    """An account row without its password hash."""

    id: int
    username: str
    created_at: float


def _upgrade(connection: Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL keeps readers off the writer's back; synchronous=FULL makes every commit durable
    # (a kill -9 or power cut never loses a finished session); foreign keys are off by default.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class Store:
    """All reads and writes; every write is one transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @classmethod
    async def open(cls, url: str) -> Store:
        """Connect, create the SQLite folder if needed, and migrate the schema to the newest version."""
        if url.startswith("sqlite"):
            path = url.split("///", 1)[1] if "///" in url else ""
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url)
        if engine.dialect.name == "sqlite":
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade)
        return cls(engine)

    async def close(self) -> None:
        """Release every connection."""
        await self.engine.dispose()

    # -- accounts -------------------------------------------------------------------------

    async def create_user(self, username: str, password_hash: str, now: float) -> User:
        """Insert a new account; raises UsernameTaken if the name exists (case-insensitively)."""
        async with self.engine.begin() as conn:
            taken = await conn.scalar(
                select(schema.users.c.id).where(
                    schema.users.c.username.ilike(username.replace("_", r"\_"), escape="\\")
                )
            )
            if taken is not None:
                raise UsernameTaken(username)
            try:
                result = await conn.execute(
                    insert(schema.users).values(
                        username=username, password_hash=password_hash, created_at=now
                    )
                )
            except IntegrityError:
                raise UsernameTaken(username) from None
            user_id = result.inserted_primary_key[0] if result.inserted_primary_key else None
        assert user_id is not None
        return User(id=int(user_id), username=username, created_at=now)

    async def user_credentials(self, username: str) -> tuple[User, str] | None:
        """The account and its password hash, or None."""
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(select(schema.users).where(schema.users.c.username == username))
            ).first()
        if row is None:
            return None
        return User(row.id, row.username, row.created_at), row.password_hash

    async def user_by_id(self, user_id: int) -> User | None:
        """The account with this id, or None."""
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(select(schema.users).where(schema.users.c.id == user_id))
            ).first()
        return None if row is None else User(row.id, row.username, row.created_at)

    # -- server keys ----------------------------------------------------------------------

    async def signing_key(self, name: str = "token") -> bytes:
        """A random 32-byte key made once per database, so tokens survive restarts."""
        async with self.engine.begin() as conn:
            value = await conn.scalar(
                select(schema.server_keys.c.value).where(schema.server_keys.c.name == name)
            )
            if value is not None:
                return bytes(value)
            key = secrets.token_bytes(32)
            await conn.execute(insert(schema.server_keys).values(name=name, value=key))
            return key

    async def ping(self) -> None:
        """Raise if the database does not answer a trivial query."""
        async with self.engine.connect() as conn:
            await conn.scalar(select(1))
