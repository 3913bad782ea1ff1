"""A user's streak as the server sees it: their stored settings and sessions through shared.streak."""

from __future__ import annotations

from datetime import date
from typing import Final

from server.db.store import Store
from shared import streak

DEFAULT_GOAL_MINUTES: Final[int] = 60
"""Daily goal of a user who never set one."""

DEFAULT_TIMEZONE: Final[str] = "UTC"
"""Time zone of a user who never set one."""


async def streak_settings(store: Store, user_id: int) -> tuple[int, str, tuple[date, ...]]:
    """(goal minutes, time zone, rest days) as stored, or the defaults until the user sets them."""
    stored = await store.streak_settings(user_id)
    if stored is None:
        return DEFAULT_GOAL_MINUTES, DEFAULT_TIMEZONE, ()
    goal, tz, days = stored
    return goal, tz, tuple(date.fromisoformat(d) for d in days)


async def streak_status(store: Store, user_id: int, now: float) -> tuple[streak.StreakStatus, date]:
    """Where the user's streak stands at ``now`` (every stored session credited) and their
    local today."""
    goal, tz, rest_days = await streak_settings(store, user_id)
    settings = streak.StreakSettings(goal_minutes=goal, timezone=tz)
    sessions = [
        streak.StudySession(start=a, end=b, focused_seconds=f)
        for a, b, f in await store.study_sessions(user_id)
    ]
    today = streak.local_date(now, tz)
    status = streak.streak_status(streak.daily_minutes(sessions, tz), rest_days, settings, today)
    return status, today
