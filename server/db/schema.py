"""The database tables (SQLAlchemy Core). Changes here need a new migration in `migrations/versions/`."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    func,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(32), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", Float, nullable=False),
)
# Usernames are unique whatever their letter case ("Ada" blocks "ada"), on both backends.
Index("uq_users_username_lower", func.lower(users.c.username), unique=True)

friendships = Table(
    "friendships",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("friend_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("created_at", Float, nullable=False),
)

streak_settings = Table(
    "streak_settings",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("goal_minutes", Integer, nullable=False),
    Column("timezone", String(64), nullable=False),
)

rest_days = Table(
    "rest_days",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("day", String(10), primary_key=True),  # ISO date in the user's own calendar
)

# One row per member per finished room (or solo) session: the record results, streaks and
# reports are computed from. Written once, in one transaction with its ghost and episodes.
sessions = Table(
    "sessions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("room_id", String(36), nullable=True),
    Column("subject", String(40), nullable=False),
    Column("started_at", Float, nullable=False),
    Column("ended_at", Float, nullable=False),
    Column("focused_seconds", Float, nullable=False),
    Column("damage", Float, nullable=False),
    Column("xp", Integer, nullable=False),
    Column("outcome", String(16), nullable=False),
    Index("ix_sessions_user_ended", "user_id", "ended_at"),
)

ghosts = Table(
    "ghosts",
    metadata,
    Column(
        "session_id", String(36), ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("subject", String(40), nullable=False),
    Column("duration_s", Float, nullable=False),
    Column("data", LargeBinary, nullable=False),
)

confusion_episodes = Table(
    "confusion_episodes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session_id", String(36), ForeignKey("sessions.id", ondelete="CASCADE")),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("subject", String(40), nullable=False),
    Column("start", Float, nullable=False),
    Column("end", Float, nullable=False),
)

# Live rooms, snapshotted on every state change so a restarted server resumes them.
rooms = Table(
    "rooms",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("state", Text, nullable=False),  # JSON snapshot
    Column("updated_at", Float, nullable=False),
)

server_keys = Table(
    "server_keys",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", LargeBinary, nullable=False),
)
