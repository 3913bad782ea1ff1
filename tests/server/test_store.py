"""The data layer migrates a fresh SQLite file to exactly the declared schema and keeps its data."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from server.db import schema
from server.db.store import Store, UsernameTaken


def _diff(conn: Connection) -> list[object]:
    return list(compare_metadata(MigrationContext.configure(conn), schema.metadata))


async def test_migrations_build_the_declared_schema(tmp_path: Path) -> None:
    """After migrating a new database, it matches schema.py table for table, column for column."""
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        async with store.engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
    finally:
        await store.close()


async def test_users_persist_and_names_are_unique(tmp_path: Path) -> None:
    """A registered user survives a reopen; the same name (any case) cannot register twice."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'nested' / 'db.sqlite3'}"
    store = await Store.open(url)
    user = await store.create_user("Sam_1", "hash", now=5.0)
    with pytest.raises(UsernameTaken):
        await store.create_user("sam_1", "hash2", now=6.0)
    await store.create_user("samX1", "hash3", now=7.0)  # '_' is not a wildcard
    key = await store.signing_key()
    await store.close()

    store = await Store.open(url)
    try:
        found = await store.user_credentials("Sam_1")
        assert found is not None and found[0] == user and found[1] == "hash"
        assert await store.user_by_id(user.id) == user
        assert await store.user_credentials("nobody") is None
        assert await store.signing_key() == key and len(key) == 32
    finally:
        await store.close()
