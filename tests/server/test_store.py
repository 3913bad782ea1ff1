"""The data layer migrates a fresh SQLite or PostgreSQL database to exactly the declared schema,
keeps its data, and stays consistent when servers race on one database."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from server.db import schema
from server.db.store import Store, UsernameTaken

REPO = Path(__file__).resolve().parents[2]

OPEN_AND_PRINT_KEY = """
import asyncio, sys
from server.db.store import Store

async def main():
    store = await Store.open(sys.argv[1])
    print((await store.signing_key()).hex())
    await store.close()

asyncio.run(main())
"""


def _diff(conn: Connection) -> list[object]:
    with warnings.catch_warnings():
        # SQLite cannot reflect the lower(username) index; the racing-registration test covers it.
        warnings.filterwarnings("ignore", message=".*expression-based index")
        return list(compare_metadata(MigrationContext.configure(conn), schema.metadata))


async def test_migrations_build_the_declared_schema(database_url: str) -> None:
    """After migrating a new database, it matches schema.py table for table, column for column."""
    store = await Store.open(database_url)
    try:
        async with store.engine.connect() as conn:
            assert await conn.run_sync(_diff) == []
    finally:
        await store.close()


async def test_users_persist_and_names_are_unique(database_url: str) -> None:
    """A registered user survives a reopen; the same name (any case) cannot register twice."""
    store = await Store.open(database_url)
    user = await store.create_user("Sam_1", "hash", now=5.0)
    with pytest.raises(UsernameTaken):
        await store.create_user("sam_1", "hash2", now=6.0)
    await store.create_user("samX1", "hash3", now=7.0)  # '_' is not a wildcard
    key = await store.signing_key()
    await store.close()

    store = await Store.open(database_url)
    try:
        found = await store.user_credentials("Sam_1")
        assert found is not None and found[0] == user and found[1] == "hash"
        assert await store.user_by_id(user.id) == user
        assert await store.user_credentials("nobody") is None
        assert await store.signing_key() == key and len(key) == 32
    finally:
        await store.close()


async def test_racing_registrations_of_one_name_in_two_cases_register_one(
    database_url: str,
) -> None:
    """Two servers registering "Ada" and "ada" at the same moment: exactly one account exists."""
    first, second = await Store.open(database_url), await Store.open(database_url)
    try:
        for round_ in range(5):
            name = f"ada{round_}"
            outcomes = await asyncio.gather(
                first.create_user(name.upper(), "hash", now=1.0),
                second.create_user(name, "hash", now=1.0),
                return_exceptions=True,
            )
            kinds = sorted(type(o).__name__ for o in outcomes)
            assert kinds == ["User", "UsernameTaken"], outcomes
    finally:
        await first.close()
        await second.close()


def test_servers_starting_together_on_a_fresh_database_share_one_schema_and_key(
    database_url: str,
) -> None:
    """Two processes opening one empty database at once both migrate and agree on the token key."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_AND_PRINT_KEY, database_url],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [p.communicate(timeout=60) for p in procs]
    for p, (_, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err
    keys = {out.strip() for out, _ in results}
    assert len(keys) == 1 and len(keys.pop()) == 64


async def test_racing_first_signing_keys_agree(database_url: str) -> None:
    """Two servers asking a fresh database for its signing key at once both get the same key."""
    first, second = await Store.open(database_url), await Store.open(database_url)
    try:
        keys = await asyncio.gather(first.signing_key(), second.signing_key())
        assert keys[0] == keys[1] and len(keys[0]) == 32
        assert await first.signing_key() == keys[0]
    finally:
        await first.close()
        await second.close()
