"""The data layer: an async SQLAlchemy engine, migrations on open, and the queries the server needs."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from alembic import command
from alembic.config import Config
from sqlalchemy import bindparam, delete, event, func, insert, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from server.db import schema

MIGRATIONS = Path(__file__).with_name("migrations")

MIGRATION_LOCK_KEY: Final[int] = 0x436F6E76  # "Conv"
"""PostgreSQL advisory lock held while migrating (SQLite takes its write lock instead)."""


class StoreError(Exception):
    """A storage operation that cannot succeed as asked."""


class UsernameTaken(StoreError):
    """Registering a username that already exists."""


class UnknownUser(StoreError):
    """A username or id that has no account."""


class AlreadyFriends(StoreError):
    """Adding a friend twice."""


@dataclass(frozen=True, slots=True)
class FriendRow:
    """One friend of a user; `mutual` when they added the user back."""

    user_id: int
    username: str
    mutual: bool


@dataclass(frozen=True, slots=True)
class ConfusionRow:
    """A confusion episode in epoch seconds."""

    start: float
    end: float


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """One member's finished session, written with its ghost and confusion episodes in one go."""

    id: str
    user_id: int
    room_id: str | None
    subject: str
    started_at: float
    ended_at: float
    focused_seconds: float
    damage: float
    xp: int
    outcome: str
    ghost: bytes | None = None
    ghost_duration_s: float = 0.0
    confusion: tuple[ConfusionRow, ...] = ()


@dataclass(frozen=True, slots=True)
class GhostRow:
    """A stored ghost's listing (without its bytes)."""

    session_id: str
    owner_id: int
    owner_username: str
    subject: str
    started_at: float
    duration_s: float
    focused_seconds: float
    damage: float


@dataclass(frozen=True, slots=True)
class SubjectRow:
    """Per-subject totals for the cognitive-load report."""

    subject: str
    sessions: int
    focused_seconds: float
    confusion_moments: int


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
            # Servers starting together on one fresh database migrate one after the other; the
            # later ones then find the schema current instead of failing on "table exists".
            if engine.dialect.name == "postgresql":
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
            else:
                # pysqlite runs DDL outside any transaction unless one is begun explicitly.
                await conn.exec_driver_sql("BEGIN IMMEDIATE")
            await conn.run_sync(_upgrade)
        return cls(engine)

    async def close(self) -> None:
        """Release every connection."""
        await self.engine.dispose()

    # -- accounts -------------------------------------------------------------------------

    async def create_user(self, username: str, password_hash: str, now: float) -> User:
        """Insert a new account; raises UsernameTaken if the name exists (case-insensitively).

        The lookup gives the common case a clear answer; the unique index on ``lower(username)``
        settles two registrations of one name racing past it.
        """
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
        """A random 32-byte key made once per database, so tokens survive restarts.

        Two servers starting together on a fresh database may both make one; the second insert
        fails on the primary key and that server reads the first one's key instead.
        """
        query = select(schema.server_keys.c.value).where(schema.server_keys.c.name == name)
        try:
            async with self.engine.begin() as conn:
                value = await conn.scalar(query)
                if value is not None:
                    return bytes(value)
                key = secrets.token_bytes(32)
                await conn.execute(insert(schema.server_keys).values(name=name, value=key))
                return key
        except IntegrityError:
            async with self.engine.connect() as conn:
                value = await conn.scalar(query)
            if value is None:
                raise
            return bytes(value)

    async def ping(self) -> None:
        """Raise if the database does not answer a trivial query."""
        async with self.engine.connect() as conn:
            await conn.scalar(select(1))

    # -- friends --------------------------------------------------------------------------

    async def add_friend(self, user_id: int, friend_username: str, now: float) -> FriendRow:
        """Add `friend_username` to the user's friends; raises UnknownUser or AlreadyFriends."""
        async with self.engine.begin() as conn:
            friend = (
                await conn.execute(
                    select(schema.users.c.id, schema.users.c.username).where(
                        schema.users.c.username == friend_username
                    )
                )
            ).first()
            if friend is None:
                raise UnknownUser(friend_username)
            exists = await conn.scalar(
                select(func.count()).where(
                    schema.friendships.c.user_id == user_id,
                    schema.friendships.c.friend_id == friend.id,
                )
            )
            if exists:
                raise AlreadyFriends(friend_username)
            await conn.execute(
                insert(schema.friendships).values(
                    user_id=user_id, friend_id=friend.id, created_at=now
                )
            )
            back = await conn.scalar(
                select(func.count()).where(
                    schema.friendships.c.user_id == friend.id,
                    schema.friendships.c.friend_id == user_id,
                )
            )
        return FriendRow(friend.id, friend.username, bool(back))

    async def friends(self, user_id: int) -> list[FriendRow]:
        """The user's friends, by username."""
        f, back = schema.friendships, schema.friendships.alias("back")
        query = (
            select(schema.users.c.id, schema.users.c.username, back.c.user_id.is_not(None))
            .select_from(
                f.join(schema.users, schema.users.c.id == f.c.friend_id).outerjoin(
                    back, (back.c.user_id == f.c.friend_id) & (back.c.friend_id == f.c.user_id)
                )
            )
            .where(f.c.user_id == user_id)
            .order_by(schema.users.c.username)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [FriendRow(r[0], r[1], bool(r[2])) for r in rows]

    async def are_mutual_friends(self, a: int, b: int) -> bool:
        """Whether both users added each other."""
        f = schema.friendships
        async with self.engine.connect() as conn:
            n = await conn.scalar(
                select(func.count()).where(
                    ((f.c.user_id == a) & (f.c.friend_id == b))
                    | ((f.c.user_id == b) & (f.c.friend_id == a))
                )
            )
        return n == 2

    # -- streak settings ------------------------------------------------------------------

    async def streak_settings(self, user_id: int) -> tuple[int, str, list[str]] | None:
        """(goal minutes, time zone, rest days as ISO dates) or None when never set."""
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(schema.streak_settings).where(
                        schema.streak_settings.c.user_id == user_id
                    )
                )
            ).first()
            days = (
                await conn.scalars(
                    select(schema.rest_days.c.day)
                    .where(schema.rest_days.c.user_id == user_id)
                    .order_by(schema.rest_days.c.day)
                )
            ).all()
        if row is None:
            return None
        return row.goal_minutes, row.timezone, list(days)

    async def set_streak_settings(
        self, user_id: int, goal_minutes: int, timezone: str, rest_days: list[str]
    ) -> None:
        """Replace the user's goal, time zone and rest days in one transaction."""
        async with self.engine.begin() as conn:
            await conn.execute(
                delete(schema.streak_settings).where(schema.streak_settings.c.user_id == user_id)
            )
            await conn.execute(
                insert(schema.streak_settings).values(
                    user_id=user_id, goal_minutes=goal_minutes, timezone=timezone
                )
            )
            await conn.execute(
                delete(schema.rest_days).where(schema.rest_days.c.user_id == user_id)
            )
            if rest_days:
                await conn.execute(
                    insert(schema.rest_days), [{"user_id": user_id, "day": d} for d in rest_days]
                )

    # -- finished sessions ----------------------------------------------------------------

    async def save_sessions(self, records: list[SessionRecord]) -> None:
        """Write finished sessions with their ghosts and confusion episodes, all or nothing.

        Saving a session id that is already stored is a no-op, so a retry after a
        crash between the write and the room's cleanup never duplicates a session.
        """
        if not records:
            return
        async with self.engine.begin() as conn:
            stored = set(
                (
                    await conn.scalars(
                        select(schema.sessions.c.id).where(
                            schema.sessions.c.id.in_([r.id for r in records])
                        )
                    )
                ).all()
            )
            for r in records:
                if r.id in stored:
                    continue
                await conn.execute(
                    insert(schema.sessions).values(
                        id=r.id,
                        user_id=r.user_id,
                        room_id=r.room_id,
                        subject=r.subject,
                        started_at=r.started_at,
                        ended_at=r.ended_at,
                        focused_seconds=r.focused_seconds,
                        damage=r.damage,
                        xp=r.xp,
                        outcome=r.outcome,
                    )
                )
                if r.ghost is not None:
                    await conn.execute(
                        insert(schema.ghosts).values(
                            session_id=r.id,
                            user_id=r.user_id,
                            subject=r.subject,
                            duration_s=r.ghost_duration_s,
                            data=r.ghost,
                        )
                    )
                if r.confusion:
                    await conn.execute(
                        insert(schema.confusion_episodes),
                        [
                            {
                                "session_id": r.id,
                                "user_id": r.user_id,
                                "subject": r.subject,
                                "start": c.start,
                                "end": c.end,
                            }
                            for c in r.confusion
                        ],
                    )

    async def study_sessions(self, user_id: int) -> list[tuple[float, float, float]]:
        """(started_at, ended_at, focused_seconds) of every finished session of the user."""
        s = schema.sessions
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(s.c.started_at, s.c.ended_at, s.c.focused_seconds)
                    .where(s.c.user_id == user_id)
                    .order_by(s.c.ended_at)
                )
            ).all()
        return [(r[0], r[1], r[2]) for r in rows]

    async def session(self, session_id: str) -> SessionRecord | None:
        """One stored session (without ghost bytes or episodes), or None."""
        async with self.engine.connect() as conn:
            r = (
                await conn.execute(
                    select(schema.sessions).where(schema.sessions.c.id == session_id)
                )
            ).first()
        if r is None:
            return None
        return SessionRecord(
            r.id,
            r.user_id,
            r.room_id,
            r.subject,
            r.started_at,
            r.ended_at,
            r.focused_seconds,
            r.damage,
            r.xp,
            r.outcome,
        )

    async def subject_report(self, user_id: int) -> list[SubjectRow]:
        """Per subject: sessions, focused seconds and confusion moments."""
        s, c = schema.sessions, schema.confusion_episodes
        async with self.engine.connect() as conn:
            totals = (
                await conn.execute(
                    select(s.c.subject, func.count(), func.sum(s.c.focused_seconds))
                    .where(s.c.user_id == user_id)
                    .group_by(s.c.subject)
                )
            ).all()
            moments: dict[str, int] = dict(
                (
                    await conn.execute(
                        select(c.c.subject, func.count())
                        .where(c.c.user_id == user_id)
                        .group_by(c.c.subject)
                    )
                ).all()
            )
        return [
            SubjectRow(subject, int(n), float(secs or 0.0), int(moments.get(subject, 0)))
            for subject, n, secs in totals
        ]

    # -- ghosts ---------------------------------------------------------------------------

    async def ghosts_visible_to(self, user_id: int, limit: int = 100) -> list[GhostRow]:
        """The user's own ghosts and their mutual friends', newest first."""
        g, s, u = schema.ghosts, schema.sessions, schema.users
        mine = select(schema.friendships.c.friend_id).where(schema.friendships.c.user_id == user_id)
        theirs = select(schema.friendships.c.user_id).where(
            schema.friendships.c.friend_id == user_id
        )
        owner_ok = (g.c.user_id == user_id) | (g.c.user_id.in_(mine) & g.c.user_id.in_(theirs))
        query = (
            select(
                g.c.session_id,
                g.c.user_id,
                u.c.username,
                g.c.subject,
                s.c.started_at,
                g.c.duration_s,
                s.c.focused_seconds,
                s.c.damage,
            )
            .select_from(g.join(s, s.c.id == g.c.session_id).join(u, u.c.id == g.c.user_id))
            .where(owner_ok)
            .order_by(s.c.started_at.desc())
            .limit(limit)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [GhostRow(*row) for row in rows]

    async def ghost_data(self, session_id: str) -> tuple[int, bytes] | None:
        """(owner user id, encoded ghost) or None."""
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(schema.ghosts.c.user_id, schema.ghosts.c.data).where(
                        schema.ghosts.c.session_id == session_id
                    )
                )
            ).first()
        return None if row is None else (int(row[0]), bytes(row[1]))

    # -- live rooms -----------------------------------------------------------------------

    async def save_rooms(self, snapshots: dict[str, str], now: float) -> None:
        """Upsert room snapshots (JSON text) in one transaction."""
        if not snapshots:
            return
        r = schema.rooms
        async with self.engine.begin() as conn:
            existing = set(
                (await conn.scalars(select(r.c.id).where(r.c.id.in_(list(snapshots))))).all()
            )
            # Two statements whatever the number of rooms (executemany): a round trip per room
            # would hold a busy server's database connection for most of every second.
            changed = [
                {"b_id": room_id, "b_state": state, "b_at": now}
                for room_id, state in snapshots.items()
                if room_id in existing
            ]
            added = [
                {"id": room_id, "state": state, "updated_at": now}
                for room_id, state in snapshots.items()
                if room_id not in existing
            ]
            if changed:
                await conn.execute(
                    update(r)
                    .where(r.c.id == bindparam("b_id"))
                    .values(state=bindparam("b_state"), updated_at=bindparam("b_at")),
                    changed,
                )
            if added:
                await conn.execute(insert(r), added)

    async def delete_rooms(self, room_ids: list[str]) -> None:
        """Forget rooms that closed."""
        if room_ids:
            async with self.engine.begin() as conn:
                await conn.execute(delete(schema.rooms).where(schema.rooms.c.id.in_(room_ids)))

    async def load_rooms(self) -> dict[str, str]:
        """Every saved live-room snapshot."""
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(schema.rooms.c.id, schema.rooms.c.state))).all()
        return {row[0]: row[1] for row in rows}
