"""The solo session's logic, driven with synthetic samples and a fake clock (no window, no sleeping)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import pytest

from game.avatar.mapping import AvatarMode
from game.capture.synthetic import SyntheticSource
from game.config import ASLEEP_REASON, USER_PAUSE_REASON
from game.hud.chart import chart_points, time_label
from game.hud.overlay import OverlayKind, overlay_text
from game.hud.streak import streak_text
from game.hud.timer import format_clock, timer_caption
from game.scenes.history import HistoryError, LocalHistory, local_timezone
from game.scenes.session import SoloSession, SoloStatus
from game.scenes.solo import overlay_for
from game.scenes.summary import format_duration, summary_rows
from shared.face import FaceSample
from shared.focus import SLEEP_AFTER_S
from shared.timer import IllegalTransition, Phase, TimerPlan

DT = 1.0 / 30.0
PLAN = TimerPlan(focus_s=600.0, break_s=60.0, rounds=2)


def script(*segments: tuple[str, float]) -> SyntheticSource:
    """A deterministic scripted face without idle motion."""
    return SyntheticSource(segments, idle_motion=False, idle_blinks=False)


def run(
    session: SoloSession, source: SyntheticSource, start: float, end: float
) -> list[tuple[float, SoloStatus]]:
    """Step the session every 1/30 s from ``start`` to ``end`` with the script's samples."""
    out = []
    n = round((end - start) / DT)
    for i in range(1, n + 1):
        now = start + i * DT
        out.append((now, session.step(source.sample_at(now), now)))
    return out


def first(statuses: Iterable[tuple[float, SoloStatus]], pred: object) -> float:
    """The time of the first status for which ``pred`` holds."""
    for now, status in statuses:
        if pred(status):  # type: ignore[operator]
            return now
    raise AssertionError("never happened")


def test_timer_pauses_while_asleep_and_resumes_on_return() -> None:
    """Looking away 15 s puts the avatar to sleep and pauses the pomodoro; focus resumes it."""
    source = script(("focused", 2.0), ("away_down", 20.0), ("focused", 10.0))
    session = SoloSession(PLAN)
    session.start(0.0)
    statuses = run(session, source, 0.0, 30.0)
    asleep_at = first(statuses, lambda s: s.asleep)
    awake_at = first(((t, s) for t, s in statuses if t > asleep_at), lambda s: not s.asleep)
    assert 2.0 + SLEEP_AFTER_S <= asleep_at <= 2.0 + SLEEP_AFTER_S + 0.5
    assert 22.0 <= awake_at <= 22.5
    during = [s for t, s in statuses if asleep_at <= t < awake_at]
    assert all(ASLEEP_REASON in s.pause_reasons for s in during)
    assert all(s.avatar_mode is AvatarMode.ASLEEP for s in during)
    assert len({round(s.remaining_s, 9) for s in during}) == 1
    final = statuses[-1][1]
    assert ASLEEP_REASON not in final.pause_reasons
    # The clock lost exactly the time spent asleep.
    assert final.remaining_s == pytest.approx(600.0 - (30.0 - (awake_at - asleep_at)), abs=1e-6)


def test_away_time_counts_up_before_sleep() -> None:
    """While away and awake, the status carries the away seconds that lead to sleep."""
    source = script(("focused", 1.0), ("away_left", 8.0))
    session = SoloSession(PLAN)
    session.start(0.0)
    statuses = run(session, source, 0.0, 7.0)
    _, status = statuses[-1]
    assert not status.asleep and 5.0 < status.away_s < 6.5
    assert overlay_for(status) == (OverlayKind.AWAY, status.away_s)


def test_user_pause_stops_measuring() -> None:
    """SPACE pauses: the score and the clock hold, and away time does not count while paused."""
    source = script(("focused", 2.0), ("away_left", 30.0))
    session = SoloSession(PLAN)
    session.start(0.0)
    run(session, source, 0.0, 1.0)
    assert session.toggle_pause(1.0) is True
    statuses = run(session, source, 1.0, 25.0)
    status = statuses[-1][1]
    assert USER_PAUSE_REASON in status.pause_reasons and not status.asleep
    assert status.score == 100.0 and status.away_s == 0.0
    assert status.remaining_s == pytest.approx(599.0)
    assert session.toggle_pause(25.0) is False


def test_avatar_freezes_when_tracking_is_uncertain_or_lost() -> None:
    """Uncertain or absent faces freeze the avatar; a focused face is live again."""
    source = script(("focused", 1.0), ("uncertain", 1.0), ("no_face", 1.0), ("focused", 1.0))
    session = SoloSession(PLAN)
    session.start(0.0)
    modes = {round(t, 3): s.avatar_mode for t, s in run(session, source, 0.0, 4.0)}
    assert modes[0.5] is AvatarMode.LIVE
    assert modes[1.5] is AvatarMode.FROZEN
    assert modes[2.5] is AvatarMode.FROZEN
    assert modes[3.5] is AvatarMode.LIVE


def test_lobby_waits_for_start_and_refuses_pause() -> None:
    """Before SPACE the timer is in the lobby; pausing there is illegal and changes nothing."""
    session = SoloSession(PLAN)
    status = session.step(FaceSample(t=0.0), 0.0)
    assert status.phase is Phase.LOBBY and status.avatar_mode is AvatarMode.LIVE
    with pytest.raises(IllegalTransition):
        session.toggle_pause(1.0)
    assert session.timer.phase is Phase.LOBBY and not session.timer.paused


def test_end_gives_a_summary_with_a_chart() -> None:
    """Ending early credits the focus so far and keeps about one chart point per second."""
    source = script(("focused", 5.0), ("away_left", 5.0), ("focused", 5.0))
    session = SoloSession(PLAN, subject="Maths")
    session.start(0.0)
    run(session, source, 0.0, 15.0)
    summary = session.end(15.0)
    assert session.end(16.0) is summary
    assert summary.subject == "Maths" and summary.focus_s == pytest.approx(15.0)
    assert summary.focus is not None and 9.0 < summary.focus.focused_s < 11.0
    assert 14 <= len(summary.chart) <= 16
    assert summary.chart[0][1] == 100.0 and min(score for _, score in summary.chart) < 80.0
    assert session.step(source.sample_at(16.0), 16.0).finished
    rows = dict(summary_rows(summary))
    assert rows["Fell asleep"] == "never" and rows["Focus score"].isdigit()


def test_last_block_running_out_finishes_the_session() -> None:
    """When the last focus block ends the status says finished and the summary is ready."""
    source = script(("focused", 10.0))
    session = SoloSession(TimerPlan(focus_s=2.0, break_s=1.0, rounds=2))
    session.start(0.0)
    statuses = run(session, source, 0.0, 6.0)
    phases = [s.phase for _, s in statuses]
    assert Phase.BREAK in phases and phases[-1] is Phase.RESULTS
    assert statuses[-1][1].finished
    assert session.summary is not None and session.summary.rounds_done == 2


def test_hud_text_formats() -> None:
    """Clock, captions, banners, streak and chart labels read as a player expects."""
    assert format_clock(1500.0) == "25:00" and format_clock(59.2) == "01:00"
    assert format_clock(0.0) == "00:00" and format_clock(3725.0) == "1:02:05"
    assert timer_caption(Phase.FOCUS, 0, 4, frozenset()) == "Focus · round 1 of 4"
    assert "asleep" in timer_caption(Phase.FOCUS, 0, 4, frozenset({ASLEEP_REASON}))
    assert timer_caption(Phase.LOBBY, 0, 4, frozenset()) == "Press SPACE to start"
    assert overlay_text(OverlayKind.AWAY, 7.4, 15.0) == (
        "Looking away… 7 s",
        "The timer pauses in 8 s",
    )
    assert overlay_text(OverlayKind.ASLEEP, 0.0, 15.0)[0] == "Asleep — timer paused"
    assert overlay_text(OverlayKind.NONE, 3.0, 15.0) == ("", "")
    assert [streak_text(n) for n in (0, 1, 5)] == ["0 days", "1 day", "5 days"]
    assert [format_duration(s) for s in (45, 1100, 3900)] == ["45 s", "18 min 20 s", "1 h 05 min"]
    assert [time_label(s) for s in (30, 600, 3900)] == ["30 s", "10 min", "1 h 05"]
    with pytest.raises(ValueError):
        format_clock(float("nan"))


def test_chart_points_fit_the_box() -> None:
    """Samples map into the chart box; scores clamp to 0–100 and late samples are dropped."""
    pts = chart_points([(0.0, 100.0), (5.0, 50.0), (10.0, 120.0), (20.0, 0.0)], 2.0, 1.0, 10.0)
    assert pts == [(0.0, 1.0), (1.0, 0.5), (2.0, 1.0)]
    assert chart_points([], 1.0, 1.0) == []


def test_widgets_clamp_their_values() -> None:
    """The focus meter clamps to 0–100 and refuses NaN; the streak badge never goes negative."""
    from panda3d.core import NodePath, TextNode

    from game.hud.meter import FocusMeter, meter_colour
    from game.hud.streak import StreakBadge

    font = TextNode.getDefaultFont()
    root = NodePath("hud")
    meter = FocusMeter(root, font, font)
    meter.value = 140.0
    assert meter.value == 100.0 and meter.number.text == "100"
    meter.value = -3.0
    assert meter.value == 0.0
    with pytest.raises(ValueError):
        meter.value = float("nan")
    assert meter_colour(10.0) != meter_colour(90.0)
    badge = StreakBadge(root, font, font)
    badge.days = -2
    assert badge.days == 0 and badge.label.text == "0 days"


def test_history_records_sessions_and_counts_the_streak(tmp_path: Path) -> None:
    """Finished sessions on consecutive days make a streak; the file holds numbers only."""
    path = tmp_path / "convex" / "history.json"
    history = LocalHistory(path, goal_minutes=25, timezone="UTC")
    day = 86_400.0
    today = 20_000 * day + 12 * 3600.0
    assert history.status(today) is not None and history.status(today).current == 0  # type: ignore[union-attr]
    for d in (2, 1, 0):
        end = today - d * day
        history.record(end - 1800.0, end, 1700.0)
    status = history.status(today)
    assert status is not None and status.current == 3
    stored = json.loads(path.read_text())
    assert set(stored["sessions"][0]) == {"start", "end", "focused_s"}


def test_unreadable_history_is_left_alone(tmp_path: Path) -> None:
    """A corrupt history file shows no streak and is never overwritten."""
    path = tmp_path / "history.json"
    path.write_text("{not json")
    history = LocalHistory(path, goal_minutes=25, timezone="UTC")
    assert history.status(1e9) is None
    with pytest.raises(HistoryError):
        history.record(0.0, 100.0, 50.0)
    assert path.read_text() == "{not json"


def test_local_timezone_prefers_a_valid_tz_variable() -> None:
    """$TZ wins when it names a real zone; nonsense falls back to the system zone or UTC."""
    assert local_timezone({"TZ": "Europe/Paris"}) == "Europe/Paris"
    assert local_timezone({"TZ": "Not/AZone"}) != "Not/AZone"


def test_ghost_clock_runs_while_you_sleep_but_waits_while_you_pause() -> None:
    """Dozing off lets a ghost gain ground (its clock runs); a SPACE pause holds it still."""
    source = script(("focused", 2.0), ("away_down", 28.0), ("focused", 10.0))
    session = SoloSession(PLAN)
    session.start(0.0)
    statuses = run(session, source, 0.0, 30.0)
    assert any(status.asleep for _, status in statuses)
    assert session.elapsed_s == pytest.approx(30.0, abs=2 * DT)
    session.toggle_pause(30.0)
    run(session, source, 30.0, 40.0)
    assert session.elapsed_s == pytest.approx(30.0, abs=2 * DT)
