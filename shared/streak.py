"""Daily study streaks: a user-set goal in minutes, local-calendar days, and rest days.

Theory of operation
-------------------
Everything here is a function of plain values; nothing reads the clock. The caller
passes ``now`` (epoch seconds) or ``today`` (a local :class:`~datetime.date`).

1. **Days are local calendar days** in the user's IANA time zone
   (:class:`StreakSettings.timezone`). A local day is the half-open interval of
   instants ``[B(d), B(d + 1))`` where ``B(d)`` is the first instant whose local date
   is ``d``. Around DST changes a day lasts 23 h, 25 h (or 23.5 h / 24.5 h on
   Lord Howe Island); where a zone skips midnight, the day starts at the transition.
2. **Crediting a session** (:func:`credit_by_local_day`): a session
   ``[start, end)`` with ``focused_seconds`` of credited focus gives each local day
   the share of the focus proportional to the *elapsed* (absolute) seconds of the
   session that fall in that day. Pro rata is the only choice when all we know is
   (start, end, focused); a caller that knows exactly when the student was focused
   credits each focused interval on its own (``focused_seconds = end - start``),
   which is then exact. :func:`daily_minutes` sums many sessions.
3. **Classifying days** (:func:`classify_days`): from the first day with any
   data up to ``today``, each day is

   - ``MET``     minutes ≥ goal (also on a day marked as rest: meeting the goal
                 counts and does not use up a rest day),
   - ``REST``    a rest day that is honoured (see the cap below),
   - ``PENDING`` only ``today``, when the goal is not met yet: the day is in progress,
   - ``MISSED``  anything else.

   Rest-day cap (optional, :attr:`StreakSettings.max_rest_days_per_week`): walking
   forward in time, a rest day is honoured only if fewer than ``cap`` rest days were
   honoured in the six days before it (any rolling 7-day window holds at most
   ``cap`` honoured rest days). A rest day over the cap is an ordinary day.
   ``None`` means no cap.
4. **Streaks** are a fold over that classification: ``MET`` extends the run,
   ``REST`` and ``PENDING`` are skipped (they neither extend nor break it),
   ``MISSED`` breaks it. ``current`` is the run that is still alive at ``today``;
   ``longest`` is the longest run ever (so ``current ≤ longest`` always).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MIN_GOAL_MINUTES: Final[int] = 1
MAX_GOAL_MINUTES: Final[int] = 24 * 60
"""The goal is per day, so more than a day's worth of minutes could never be met."""

GOAL_EPSILON_MINUTES: Final[float] = 1e-6
"""Slack when comparing a day's minutes with the goal: day credits come from float
splits (a 30-minute session split across midnight may sum to 29.999999...)."""

_DAY: Final[timedelta] = timedelta(days=1)
_EPOCH_DATE: Final[date] = date(1970, 1, 1)
_SEARCH_SPAN_S: Final[int] = 2 * 86_400
"""Half-width of the window searched for a day boundary around UTC midnight. UTC
offsets stay within ±26 h (real ones within −12 h…+14 h), so two days is safe."""


class StreakError(ValueError):
    """Base class of the streak rules' domain errors."""


class InvalidGoalError(StreakError):
    """A daily goal outside 1..1440 minutes."""


class UnknownTimezoneError(StreakError):
    """A time zone name that is not a known IANA zone."""


class InvalidTimeError(StreakError):
    """A non-finite or unrepresentable epoch time."""


class InvalidSessionError(StreakError):
    """A session that ends before it starts, or credits more focus than its length."""


class InvalidDayMinutesError(StreakError):
    """Negative or non-finite minutes for a day, or minutes credited to a day after today."""


def zone(name: str) -> ZoneInfo:
    """The :class:`ZoneInfo` for an IANA name; :class:`UnknownTimezoneError` if there is none."""
    if not isinstance(name, str):
        raise UnknownTimezoneError(f"a time zone is named by a string, got {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # ZoneInfo reports bad keys as ValueError, missing ones as a KeyError subclass and
        # directory or over-long names as OSError; to a caller they are all "no such zone".
        raise UnknownTimezoneError(f"unknown time zone {name!r}") from None


def _as_zone(tz: str | ZoneInfo) -> ZoneInfo:
    return tz if isinstance(tz, ZoneInfo) else zone(tz)


@dataclass(frozen=True, slots=True)
class StreakSettings:
    """A user's streak settings: daily goal in minutes, IANA time zone, optional rest-day cap."""

    goal_minutes: int
    timezone: str
    max_rest_days_per_week: int | None = None
    """At most this many honoured rest days in any rolling 7 days (0..7); ``None``: no cap."""

    def __post_init__(self) -> None:
        if isinstance(self.goal_minutes, bool) or not isinstance(self.goal_minutes, int):
            raise InvalidGoalError(f"goal must be whole minutes, got {self.goal_minutes!r}")
        if not MIN_GOAL_MINUTES <= self.goal_minutes <= MAX_GOAL_MINUTES:
            raise InvalidGoalError(
                f"goal {self.goal_minutes} min is outside "
                f"{MIN_GOAL_MINUTES}..{MAX_GOAL_MINUTES} minutes"
            )
        zone(self.timezone)
        cap = self.max_rest_days_per_week
        if cap is not None and (
            isinstance(cap, bool) or not isinstance(cap, int) or not 0 <= cap <= 7
        ):
            raise StreakError(f"rest-day cap {cap!r} is outside 0..7")

    @property
    def zone(self) -> ZoneInfo:
        """The time zone as a :class:`ZoneInfo`."""
        return zone(self.timezone)

    def today(self, now: float) -> date:
        """The user's local date at epoch time ``now``."""
        return local_date(now, self.timezone)


def local_date(epoch_s: float, tz: str | ZoneInfo) -> date:
    """The local calendar date in ``tz`` of the instant ``epoch_s`` (seconds since the epoch)."""
    if not math.isfinite(epoch_s):
        raise InvalidTimeError(f"epoch time must be finite, got {epoch_s!r}")
    try:
        return datetime.fromtimestamp(epoch_s, _as_zone(tz)).date()
    except (OverflowError, OSError, ValueError):
        raise InvalidTimeError(f"epoch time {epoch_s!r} is out of range") from None


def day_start(day: date, tz: str | ZoneInfo) -> int:
    """The first instant (epoch seconds) whose local date in ``tz`` is ``day``.

    Usually local midnight; where a DST gap swallows midnight, the moment of the
    transition. Found by bisection on whole seconds rather than by building a local
    midnight, because a wall-clock time inside a gap has no instant of its own.
    Offsets and transitions are whole seconds, so the boundary is too.
    """
    z = _as_zone(tz)
    utc_midnight = (day - _EPOCH_DATE).days * 86_400
    lo = utc_midnight - _SEARCH_SPAN_S  # local date < day here
    hi = utc_midnight + _SEARCH_SPAN_S  # local date >= day here
    try:
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if datetime.fromtimestamp(mid, z).date() >= day:
                hi = mid
            else:
                lo = mid
    except (OverflowError, OSError, ValueError):
        raise InvalidTimeError(f"no instants for {day} in the supported range") from None
    return hi


def credit_by_local_day(
    start: float, end: float, focused_seconds: float, tz: str | ZoneInfo
) -> dict[date, float]:
    """Split a session's focused seconds over the local days it spans, in minutes.

    Each local day gets ``focused_seconds × (elapsed seconds of [start, end) in that
    day) / (end − start)``, converted to minutes. Days the session only touches at an
    endpoint are left out; an empty session credits nothing.
    """
    session = StudySession(start, end, focused_seconds)
    z = _as_zone(tz)
    credits: dict[date, float] = {}
    duration = session.end - session.start
    if duration == 0:
        return credits
    day = local_date(session.start, z)
    cursor = session.start
    while cursor < session.end:
        try:
            boundary = day_start(day + _DAY, z)
        except OverflowError:
            raise InvalidTimeError(f"session end {session.end} is out of range") from None
        piece_end = min(session.end, float(boundary))
        if piece_end > cursor:
            credits[day] = session.focused_seconds * (piece_end - cursor) / duration / 60.0
            cursor = piece_end
        day += _DAY
    return credits


@dataclass(frozen=True, slots=True)
class StudySession:
    """One study session: start and end (epoch seconds) and the focused seconds it credits."""

    start: float
    end: float
    focused_seconds: float

    def __post_init__(self) -> None:
        for name, value in (
            ("start", self.start),
            ("end", self.end),
            ("focused_seconds", self.focused_seconds),
        ):
            if not math.isfinite(value):
                raise InvalidSessionError(f"session {name} must be finite, got {value!r}")
        if self.end < self.start:
            raise InvalidSessionError(f"session ends ({self.end}) before it starts ({self.start})")
        if not 0.0 <= self.focused_seconds <= self.end - self.start:
            raise InvalidSessionError(
                f"focused seconds {self.focused_seconds} outside 0..{self.end - self.start} "
                "(the session's length)"
            )


def daily_minutes(sessions: Iterable[StudySession], tz: str | ZoneInfo) -> dict[date, float]:
    """Credited minutes per local day, summed over sessions (see :func:`credit_by_local_day`)."""
    z = _as_zone(tz)
    totals: dict[date, float] = {}
    for s in sessions:
        for day, minutes in credit_by_local_day(s.start, s.end, s.focused_seconds, z).items():
            totals[day] = totals.get(day, 0.0) + minutes
    return totals


class DayKind(StrEnum):
    """How one local day counts towards a streak."""

    MET = "met"
    REST = "rest"
    PENDING = "pending"
    MISSED = "missed"


def classify_days(
    daily_minutes: Mapping[date, float],
    rest_days: Collection[date],
    settings: StreakSettings,
    today: date,
) -> dict[date, DayKind]:
    """Each local day from the first one with data through ``today``, classified.

    Rest days after ``today`` are plans, not data, and are ignored. Minutes credited
    to a day after ``today`` are an error (the caller's ``today`` is wrong).
    """
    for day, minutes in daily_minutes.items():
        if not (math.isfinite(minutes) and minutes >= 0.0):
            raise InvalidDayMinutesError(f"minutes for {day} must be finite and ≥ 0, got {minutes}")
        if day > today:
            raise InvalidDayMinutesError(f"{minutes} min credited to {day}, after today ({today})")
    known = [d for d in daily_minutes] + [d for d in rest_days if d <= today]
    if not known:
        return {}
    goal = settings.goal_minutes - GOAL_EPSILON_MINUTES
    cap = settings.max_rest_days_per_week
    rest = frozenset(rest_days)
    honoured: list[date] = []
    kinds: dict[date, DayKind] = {}
    day = min(known)
    while day <= today:
        if daily_minutes.get(day, 0.0) >= goal:
            kinds[day] = DayKind.MET
        elif day in rest and (
            cap is None or (cap > 0 and _honoured_in_week(honoured[-cap:], day) < cap)
        ):
            kinds[day] = DayKind.REST
            honoured.append(day)
        elif day == today:
            kinds[day] = DayKind.PENDING
        else:
            kinds[day] = DayKind.MISSED
        day += _DAY
    return kinds


def _honoured_in_week(recent: list[date], day: date) -> int:
    """How many of ``recent`` (honoured rest days before ``day``) fall in the 6 days before it."""
    return sum(1 for h in recent if (day - h).days < 7)


@dataclass(frozen=True, slots=True)
class StreakStatus:
    """Where a user's streak stands on ``today``."""

    current: int
    """Goal-met days in the run still alive at today (today counts once its goal is met)."""
    longest: int
    """The longest run of goal-met days ever (≥ ``current``)."""
    today_minutes: float
    goal_minutes: int
    goal_met_today: bool
    today_is_rest: bool
    """Today is an honoured rest day (and its goal is not met)."""

    @property
    def minutes_to_goal(self) -> float:
        """Minutes still needed today (0 once met)."""
        return max(0.0, self.goal_minutes - self.today_minutes)

    @property
    def in_progress(self) -> bool:
        """Today's goal is still open: meeting it extends the streak, missing it breaks it."""
        return not (self.goal_met_today or self.today_is_rest)


def streak_status(
    daily_minutes: Mapping[date, float],
    rest_days: Collection[date],
    settings: StreakSettings,
    today: date,
) -> StreakStatus:
    """Current and longest streak as of ``today`` (see the module docstring for the rules)."""
    kinds = classify_days(daily_minutes, rest_days, settings, today)
    longest = run = 0
    for day in sorted(kinds):
        kind = kinds[day]
        if kind is DayKind.MET:
            run += 1
            longest = max(longest, run)
        elif kind is DayKind.MISSED:
            run = 0
    # Only a MISSED day resets the run, so the run left at the end is the one alive today.
    today_kind = kinds.get(today, DayKind.PENDING)
    return StreakStatus(
        current=run,
        longest=longest,
        today_minutes=daily_minutes.get(today, 0.0),
        goal_minutes=settings.goal_minutes,
        goal_met_today=today_kind is DayKind.MET,
        today_is_rest=today_kind is DayKind.REST,
    )
