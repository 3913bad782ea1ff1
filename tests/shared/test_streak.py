"""Streak rules: local days across DST, session crediting, rest days, current and longest."""

from __future__ import annotations

import itertools
import math
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.streak import (
    GOAL_EPSILON_MINUTES,
    DayKind,
    InvalidDayMinutesError,
    InvalidGoalError,
    InvalidSessionError,
    InvalidTimeError,
    StreakError,
    StreakSettings,
    StudySession,
    UnknownTimezoneError,
    classify_days,
    credit_by_local_day,
    daily_minutes,
    day_start,
    local_date,
    streak_status,
)

NY = "America/New_York"
LONDON = "Europe/London"
LORD_HOWE = "Australia/Lord_Howe"
KOLKATA = "Asia/Kolkata"
HAVANA = "America/Havana"  # springs forward at midnight: 2024-03-10 starts at 01:00
ZONES = (NY, LONDON, LORD_HOWE, KOLKATA, HAVANA, "UTC", "Pacific/Chatham", "America/Santiago")
DAY = timedelta(days=1)


def at(tz: str, y: int, mo: int, d: int, h: int = 0, mi: int = 0, fold: int = 0) -> float:
    """Epoch seconds of a local wall-clock time."""
    return datetime(y, mo, d, h, mi, tzinfo=ZoneInfo(tz), fold=fold).timestamp()


# ----------------------------------------------------------------------- settings


@pytest.mark.parametrize("goal", [0, -5, 1441, 10_000])
def test_goal_outside_a_day_is_refused(goal: int) -> None:
    """A goal must be 1..1440 minutes."""
    with pytest.raises(InvalidGoalError):
        StreakSettings(goal_minutes=goal, timezone="UTC")


@pytest.mark.parametrize("goal", [True, 30.0, "30"])
def test_goal_must_be_whole_minutes(goal: object) -> None:
    """Booleans, floats and strings are not a goal."""
    with pytest.raises(InvalidGoalError):
        StreakSettings(goal_minutes=goal, timezone="UTC")  # type: ignore[arg-type]


@pytest.mark.parametrize("goal", [1, 30, 1440])
def test_goal_limits_are_accepted(goal: int) -> None:
    """1 and 1440 minutes are valid goals."""
    assert StreakSettings(goal_minutes=goal, timezone=KOLKATA).goal_minutes == goal


@pytest.mark.parametrize(
    "name", ["Mars/Olympus_Mons", "", "America", "../etc/passwd", "America/New_York ", "x" * 300, 5]
)
def test_unknown_timezone_is_a_named_error(name: object) -> None:
    """Anything that is not an IANA zone raises UnknownTimezoneError (a ValueError)."""
    with pytest.raises(UnknownTimezoneError):
        StreakSettings(goal_minutes=30, timezone=name)  # type: ignore[arg-type]
    assert issubclass(UnknownTimezoneError, ValueError)


@pytest.mark.parametrize("cap", [-1, 8, True, 1.5, "2"])
def test_rest_cap_outside_a_week_is_refused(cap: int) -> None:
    """The rest-day cap is 0..7 per rolling week."""
    with pytest.raises(StreakError):
        StreakSettings(goal_minutes=30, timezone="UTC", max_rest_days_per_week=cap)


def test_settings_give_today_in_the_users_zone() -> None:
    """settings.today(now) is the local date in the user's zone, not UTC's."""
    now = datetime(2024, 6, 15, 20, 0, tzinfo=ZoneInfo("UTC")).timestamp()
    assert StreakSettings(30, KOLKATA).today(now) == date(2024, 6, 16)
    assert StreakSettings(30, NY).today(now) == date(2024, 6, 15)


# --------------------------------------------------------------- local days, DST


def test_kolkata_day_turns_at_1830_utc() -> None:
    """+5:30: the local date changes at 18:30 UTC."""
    turn = datetime(2024, 1, 1, 18, 30, tzinfo=ZoneInfo("UTC")).timestamp()
    assert local_date(turn - 1, KOLKATA) == date(2024, 1, 1)
    assert local_date(turn, KOLKATA) == date(2024, 1, 2)
    assert day_start(date(2024, 1, 2), KOLKATA) == turn


@pytest.mark.parametrize(
    ("tz", "day", "hours"),
    [
        (NY, date(2024, 3, 10), 23.0),
        (NY, date(2024, 11, 3), 25.0),
        (NY, date(2024, 7, 1), 24.0),
        (LONDON, date(2024, 3, 31), 23.0),
        (LONDON, date(2024, 10, 27), 25.0),
        (LORD_HOWE, date(2024, 10, 6), 23.5),
        (LORD_HOWE, date(2024, 4, 7), 24.5),
        (KOLKATA, date(2024, 3, 10), 24.0),
        (HAVANA, date(2024, 3, 10), 23.0),
    ],
)
def test_local_day_lengths_across_dst(tz: str, day: date, hours: float) -> None:
    """DST days last 23 h / 25 h (23.5 h / 24.5 h on Lord Howe); others 24 h."""
    assert (day_start(day + DAY, tz) - day_start(day, tz)) / 3600 == hours


def test_day_starts_at_the_transition_when_midnight_is_skipped() -> None:
    """Havana jumps from 00:00 to 01:00 on 2024-03-10: that day starts at 01:00 local."""
    start = day_start(date(2024, 3, 10), HAVANA)
    assert start == at(HAVANA, 2024, 3, 10, 1, 0)
    assert local_date(start - 1, HAVANA) == date(2024, 3, 9)


@pytest.mark.parametrize(
    ("tz", "start", "end", "expected"),
    [
        # spring forward: 23:00 → 04:00 is 4 real hours, 3 of them on the 10th
        (NY, (2024, 3, 9, 23), (2024, 3, 10, 4), {date(2024, 3, 9): 60, date(2024, 3, 10): 180}),
        # fall back: 23:00 → 03:00 is 5 real hours, 4 of them on the 3rd
        (NY, (2024, 11, 2, 23), (2024, 11, 3, 3), {date(2024, 11, 2): 60, date(2024, 11, 3): 240}),
        (
            LONDON,
            (2024, 3, 30, 23),
            (2024, 3, 31, 3),
            {date(2024, 3, 30): 60, date(2024, 3, 31): 120},
        ),
        (
            LONDON,
            (2024, 10, 26, 22),
            (2024, 10, 27, 2),
            {date(2024, 10, 26): 120, date(2024, 10, 27): 180},
        ),
        # Lord Howe moves by 30 minutes
        (
            LORD_HOWE,
            (2024, 10, 5, 23),
            (2024, 10, 6, 3),
            {date(2024, 10, 5): 60, date(2024, 10, 6): 150},
        ),
        (
            LORD_HOWE,
            (2024, 4, 6, 23),
            (2024, 4, 7, 3),
            {date(2024, 4, 6): 60, date(2024, 4, 7): 210},
        ),
        (
            KOLKATA,
            (2024, 6, 15, 23),
            (2024, 6, 16, 1),
            {date(2024, 6, 15): 60, date(2024, 6, 16): 60},
        ),
        (HAVANA, (2024, 3, 9, 23), (2024, 3, 10, 2), {date(2024, 3, 9): 60, date(2024, 3, 10): 60}),
    ],
)
def test_session_across_midnight_credits_each_local_day(
    tz: str,
    start: tuple[int, int, int, int],
    end: tuple[int, int, int, int],
    expected: dict[date, float],
) -> None:
    """A fully focused session over midnight credits each local day its real elapsed minutes."""
    s, e = at(tz, *start), at(tz, *end)
    credits = credit_by_local_day(s, e, e - s, tz)
    assert credits.keys() == expected.keys()
    for day, minutes in expected.items():
        assert credits[day] == pytest.approx(minutes)


@pytest.mark.parametrize(
    ("tz", "day", "minutes"),
    [
        (NY, date(2024, 3, 10), 1380),
        (NY, date(2024, 11, 3), 1500),
        (LONDON, date(2024, 6, 1), 1440),
    ],
)
def test_a_whole_local_day_credits_its_real_length(tz: str, day: date, minutes: int) -> None:
    """Studying a whole 23-h (25-h) day credits 1380 (1500) minutes to that day only."""
    s, e = day_start(day, tz), day_start(day + DAY, tz)
    assert credit_by_local_day(s, e, e - s, tz) == {day: pytest.approx(minutes)}


def test_partial_focus_is_shared_pro_rata() -> None:
    """60 focused minutes in a 2-h session split 1:1 across midnight give 30 + 30."""
    s, e = at(LONDON, 2024, 6, 1, 23), at(LONDON, 2024, 6, 2, 1)
    assert credit_by_local_day(s, e, 3600, LONDON) == {
        date(2024, 6, 1): pytest.approx(30),
        date(2024, 6, 2): pytest.approx(30),
    }


def test_session_ending_at_midnight_does_not_touch_the_next_day() -> None:
    """A session that ends exactly at local midnight credits only the day it ran in."""
    s, e = at(NY, 2024, 6, 1, 23), at(NY, 2024, 6, 2, 0)
    assert credit_by_local_day(s, e, 1800, NY) == {date(2024, 6, 1): pytest.approx(30)}


def test_empty_session_credits_nothing() -> None:
    """A zero-length session credits no day."""
    s = at(NY, 2024, 6, 1, 12)
    assert credit_by_local_day(s, s, 0, NY) == {}


@pytest.mark.parametrize(
    ("start", "end", "focused"),
    [
        (10.0, 5.0, 0.0),
        (0.0, 10.0, 11.0),
        (0.0, 10.0, -1.0),
        (math.nan, 10.0, 1.0),
        (0.0, math.inf, 1),
    ],
)
def test_impossible_sessions_are_refused(start: float, end: float, focused: float) -> None:
    """End before start, focus beyond the session's length, or non-finite values raise."""
    with pytest.raises(InvalidSessionError):
        credit_by_local_day(start, end, focused, "UTC")


@pytest.mark.parametrize("t", [math.nan, math.inf, 1e20])
def test_local_date_refuses_impossible_times(t: float) -> None:
    """Non-finite or out-of-range epoch times raise InvalidTimeError."""
    with pytest.raises(InvalidTimeError):
        local_date(t, "UTC")


def test_daily_minutes_sums_sessions_per_local_day() -> None:
    """Sessions on the same local day add up; a session over midnight feeds both days."""
    sessions = [
        StudySession(at(KOLKATA, 2024, 5, 1, 9), at(KOLKATA, 2024, 5, 1, 10), 1800),
        StudySession(at(KOLKATA, 2024, 5, 1, 23), at(KOLKATA, 2024, 5, 2, 1), 7200),
    ]
    totals = daily_minutes(sessions, KOLKATA)
    assert totals == {date(2024, 5, 1): pytest.approx(90), date(2024, 5, 2): pytest.approx(60)}


DST_DAYS = st.sampled_from(
    [
        date(2024, 3, 10),
        date(2024, 11, 3),
        date(2024, 3, 31),
        date(2024, 10, 27),
        date(2024, 10, 6),
        date(2024, 4, 7),
        date(2024, 9, 8),
        date(2024, 4, 6),
    ]
)
EPOCH_2020 = datetime(2020, 1, 1, tzinfo=ZoneInfo("UTC")).timestamp()
EPOCH_2030 = datetime(2030, 1, 1, tzinfo=ZoneInfo("UTC")).timestamp()


@settings(max_examples=200, deadline=None)
@given(
    tz=st.sampled_from(ZONES),
    day=st.one_of(DST_DAYS, st.dates(date(2020, 1, 1), date(2029, 12, 31))),
)
def test_day_start_is_the_exact_boundary(tz: str, day: date) -> None:
    """day_start(d) has local date d and the second before it an earlier date."""
    b = day_start(day, tz)
    assert local_date(b, tz) == day
    assert local_date(b - 1, tz) < day
    assert local_date(b - 0.001, tz) < day


@st.composite
def sessions(draw: st.DrawFn) -> tuple[str, float, float, float]:
    """A zone and a session (start, end, focused) of up to three days, often near a DST change."""
    tz = draw(st.sampled_from(ZONES))
    near = draw(st.one_of(st.none(), DST_DAYS))
    if near is None:
        start = draw(st.floats(EPOCH_2020, EPOCH_2030))
    else:
        start = day_start(near, tz) + draw(st.floats(-30 * 3600, 30 * 3600))
    length = draw(st.one_of(st.floats(0, 3 * 86400), st.integers(0, 3 * 86400).map(float)))
    fraction = draw(st.floats(0, 1))
    end = start + length
    return tz, start, end, fraction * (end - start)


@settings(max_examples=300, deadline=None)
@given(sessions())
def test_credits_sum_to_the_sessions_focused_minutes(case: tuple[str, float, float, float]) -> None:
    """Per-day credits add up to the focused minutes, on consecutive local days, none negative."""
    tz, start, end, focused = case
    credits = credit_by_local_day(start, end, focused, tz)
    assert math.fsum(credits.values()) == pytest.approx(focused / 60, rel=1e-9, abs=1e-9)
    assert all(m >= 0 for m in credits.values())
    days = sorted(credits)
    assert all(b - a == DAY for a, b in itertools.pairwise(days))
    if days:
        assert days[0] == local_date(start, tz)
        assert days[-1] <= local_date(end, tz)


@settings(max_examples=200, deadline=None)
@given(sessions(), st.floats(0, 1))
def test_every_instant_of_a_session_lands_on_its_own_local_day(
    case: tuple[str, float, float, float], where: float
) -> None:
    """For a fully focused session, the local day of any instant inside it gets credit."""
    tz, start, end, _ = case
    if end - start < 1:
        return
    credits = credit_by_local_day(start, end, end - start, tz)
    instant = min(start + where * (end - start), math.nextafter(end, start))
    day = local_date(instant, tz)
    assert credits[day] > 0
    # No day holds more than its real length (at most 25 h).
    assert max(credits.values()) <= 25 * 60 + 1e-6


# ------------------------------------------------------------------------ streaks

TODAY = date(2024, 6, 20)


def days_ago(n: int) -> date:
    """The date n days before TODAY."""
    return TODAY - timedelta(days=n)


S30 = StreakSettings(goal_minutes=30, timezone=NY)


def test_no_data_means_no_streak() -> None:
    """With no study and no rest days, current and longest are 0 and today is in progress."""
    status = streak_status({}, set(), S30, TODAY)
    assert (status.current, status.longest) == (0, 0)
    assert status.in_progress
    assert status.minutes_to_goal == 30


def test_today_in_progress_does_not_break_the_streak() -> None:
    """Three met days and a short today: current is 3, today still open."""
    minutes = {days_ago(3): 40.0, days_ago(2): 30.0, days_ago(1): 35.0, TODAY: 10.0}
    status = streak_status(minutes, set(), S30, TODAY)
    assert (status.current, status.longest) == (3, 3)
    assert status.in_progress and not status.goal_met_today
    assert status.today_minutes == 10.0
    assert status.minutes_to_goal == 20.0


def test_meeting_today_extends_the_streak() -> None:
    """Once today's minutes reach the goal, today counts."""
    minutes = {days_ago(2): 30.0, days_ago(1): 35.0, TODAY: 30.0}
    status = streak_status(minutes, set(), S30, TODAY)
    assert (status.current, status.longest) == (3, 3)
    assert status.goal_met_today and not status.in_progress
    assert status.minutes_to_goal == 0.0


def test_a_missed_day_breaks_the_streak() -> None:
    """A day under the goal (not a rest day) resets the run."""
    minutes = {days_ago(4): 40.0, days_ago(3): 29.0, days_ago(2): 40.0, days_ago(1): 40.0}
    status = streak_status(minutes, set(), S30, TODAY)
    assert (status.current, status.longest) == (2, 2)


def test_missing_yesterday_leaves_no_current_streak() -> None:
    """Yesterday missed and today not met yet: current 0, the old run stays the longest."""
    minutes = {days_ago(n): 60.0 for n in range(2, 7)}
    status = streak_status(minutes, set(), S30, TODAY)
    assert (status.current, status.longest) == (0, 5)


def test_longest_remembers_an_older_run() -> None:
    """A 5-day run, a gap, then 2 days: current 2, longest 5."""
    minutes = {days_ago(n): 45.0 for n in (10, 9, 8, 7, 6, 2, 1)}
    assert streak_status(minutes, set(), S30, TODAY).longest == 5
    assert streak_status(minutes, set(), S30, TODAY).current == 2


def test_rest_day_protects_but_does_not_extend() -> None:
    """A rest day between met days keeps the streak alive and is not counted in it."""
    minutes = {days_ago(2): 40.0, TODAY: 40.0}
    status = streak_status(minutes, {days_ago(1)}, S30, TODAY)
    assert (status.current, status.longest) == (2, 2)


def test_rest_today_keeps_yesterdays_streak() -> None:
    """Resting today: the streak up to yesterday stands and today is not in progress."""
    minutes = {days_ago(2): 40.0, days_ago(1): 40.0}
    status = streak_status(minutes, {TODAY}, S30, TODAY)
    assert status.current == 2
    assert status.today_is_rest and not status.in_progress


def test_meeting_the_goal_on_a_rest_day_counts() -> None:
    """A rest day on which the goal was met is a met day (and uses no rest)."""
    minutes = {days_ago(1): 40.0, TODAY: 40.0}
    status = streak_status(minutes, {days_ago(1)}, S30, TODAY)
    assert status.current == 2
    kinds = classify_days(minutes, {days_ago(1)}, S30, TODAY)
    assert kinds[days_ago(1)] is DayKind.MET


def test_future_rest_days_are_ignored() -> None:
    """Planned rest days after today change nothing."""
    minutes = {days_ago(1): 40.0}
    with_plan = streak_status(minutes, {TODAY + DAY, TODAY + 2 * DAY}, S30, TODAY)
    assert with_plan == streak_status(minutes, set(), S30, TODAY)


def test_rest_day_cap_turns_extra_rest_days_into_misses() -> None:
    """With at most 1 rest day a week, a second one within 7 days breaks the streak."""
    capped = StreakSettings(goal_minutes=30, timezone=NY, max_rest_days_per_week=1)
    minutes = {days_ago(5): 40.0, days_ago(3): 40.0, days_ago(1): 40.0}
    rest = {days_ago(4), days_ago(2)}
    assert streak_status(minutes, rest, S30, TODAY).current == 3
    assert streak_status(minutes, rest, capped, TODAY).current == 1
    kinds = classify_days(minutes, rest, capped, TODAY)
    assert kinds[days_ago(4)] is DayKind.REST
    assert kinds[days_ago(2)] is DayKind.MISSED


def test_rest_day_cap_renews_after_a_week() -> None:
    """Rest days 7 days apart are both honoured under a cap of 1."""
    capped = StreakSettings(goal_minutes=30, timezone=NY, max_rest_days_per_week=1)
    rest = {days_ago(8), days_ago(1)}
    minutes = {days_ago(n): 40.0 for n in range(0, 10) if days_ago(n) not in rest}
    status = streak_status(minutes, rest, capped, TODAY)
    assert status.current == 8


def test_a_zero_cap_honours_no_rest_day() -> None:
    """max_rest_days_per_week=0: rest days are ordinary days."""
    none_allowed = StreakSettings(goal_minutes=30, timezone=NY, max_rest_days_per_week=0)
    minutes = {days_ago(2): 40.0}
    assert streak_status(minutes, {days_ago(1)}, none_allowed, TODAY).current == 0


def test_float_splits_just_below_the_goal_still_meet_it() -> None:
    """29.9999999 minutes (a float split) meets a 30-minute goal; 29.99 does not."""
    just = 30 - GOAL_EPSILON_MINUTES / 2
    assert streak_status({TODAY: just}, set(), S30, TODAY).goal_met_today
    assert not streak_status({TODAY: 29.99}, set(), S30, TODAY).goal_met_today


def test_a_split_session_feeds_the_streak() -> None:
    """A fully focused 23:00–01:00 session meets a 60-minute goal on both local days."""
    s60 = StreakSettings(goal_minutes=60, timezone=LONDON)
    session = StudySession(at(LONDON, 2024, 6, 19, 23), at(LONDON, 2024, 6, 20, 1), 7200)
    minutes = daily_minutes([session], s60.timezone)
    status = streak_status(minutes, set(), s60, s60.today(session.end))
    assert (status.current, status.longest, status.goal_met_today) == (2, 2, True)


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf])
def test_impossible_day_minutes_are_refused(bad: float) -> None:
    """Negative or non-finite minutes raise InvalidDayMinutesError."""
    with pytest.raises(InvalidDayMinutesError):
        streak_status({days_ago(1): bad}, set(), S30, TODAY)


def test_minutes_after_today_are_refused() -> None:
    """Minutes credited to tomorrow mean the caller's today is wrong."""
    with pytest.raises(InvalidDayMinutesError):
        streak_status({TODAY + DAY: 40.0}, set(), S30, TODAY)


def oracle(minutes: dict[date, float], rest: set[date], goal: int, today: date) -> tuple[int, int]:
    """Current and longest streak, computed the slow obvious way (no rest cap)."""
    known = [*minutes, *(d for d in rest if d <= today)]
    if not known:
        return 0, 0
    first = min(known)

    def met(d: date) -> bool:
        return minutes.get(d, 0.0) >= goal

    current = 1 if met(today) else 0
    d = today - DAY
    while d >= first and (met(d) or d in rest):
        current += met(d)
        d -= DAY
    longest = run = 0
    d = first
    while d <= today:
        if met(d):
            run += 1
            longest = max(longest, run)
        elif d not in rest and d != today:
            run = 0
        d += DAY
    return current, longest


@st.composite
def histories(draw: st.DrawFn) -> tuple[dict[date, float], set[date]]:
    """Up to 60 days of minutes (around a 30-minute goal) and rest days ending at TODAY."""
    offsets = st.integers(0, 59)
    amounts = st.one_of(st.sampled_from([0.0, 29.0, 30.0, 45.0]), st.floats(0, 120))
    raw = draw(st.dictionaries(offsets, amounts, max_size=60))
    rest = draw(st.sets(st.integers(-3, 59), max_size=20))
    return {days_ago(n): m for n, m in raw.items()}, {days_ago(n) for n in rest}


@settings(max_examples=300, deadline=None)
@given(histories())
def test_streaks_match_the_obvious_computation(
    history: tuple[dict[date, float], set[date]],
) -> None:
    """Without a cap, current and longest equal a direct day-by-day count, and current ≤ longest."""
    minutes, rest = history
    status = streak_status(minutes, rest, S30, TODAY)
    assert (status.current, status.longest) == oracle(minutes, rest, 30, TODAY)
    assert status.current <= status.longest


@settings(max_examples=300, deadline=None)
@given(histories(), st.integers(0, 7))
def test_capped_rest_days_respect_the_weekly_limit(
    history: tuple[dict[date, float], set[date]], cap: int
) -> None:
    """With a cap, any 7 days in a row hold at most `cap` honoured rest days; current ≤ longest."""
    minutes, rest = history
    capped = StreakSettings(goal_minutes=30, timezone=NY, max_rest_days_per_week=cap)
    status = streak_status(minutes, rest, capped, TODAY)
    assert status.current <= status.longest
    honoured = sorted(
        d for d, k in classify_days(minutes, rest, capped, TODAY).items() if k == "rest"
    )
    for i, d in enumerate(honoured):
        assert sum(1 for h in honoured[i:] if (h - d).days < 7) <= cap
    # The cap can only take protection away.
    uncapped = streak_status(minutes, rest, S30, TODAY)
    assert status.current <= uncapped.current
    assert status.longest <= uncapped.longest


@settings(max_examples=200, deadline=None)
@given(histories(), st.integers(0, 59))
def test_adding_a_rest_day_never_shortens_the_current_streak(
    history: tuple[dict[date, float], set[date]], extra: int
) -> None:
    """Marking one more past day as rest can only keep or lengthen the current streak."""
    minutes, rest = history
    before = streak_status(minutes, rest, S30, TODAY).current
    after = streak_status(minutes, rest | {days_ago(extra)}, S30, TODAY).current
    assert after >= before
