"""The game's rules in a few lines, built from the constants in force (what `convex rules` prints)."""

from __future__ import annotations

from shared import battle, timer
from shared.focus import attention, guard


def _n(value: float) -> str:
    return f"{value:g}"


def summary() -> str:
    """A player-facing summary of focus, timer, battle and XP rules with their real numbers."""
    pct = round(battle.PENALTY_PER_MEMBER * 100)
    cap = round(battle.MAX_TOTAL_PENALTY * 100)
    lines = [
        "Convex: the rules in force",
        "",
        "Focus (judged on your machine, from your face; no image ever leaves it)",
        f"  - Looking at the screen counts as focused. Turning away more than "
        f"{_n(attention.YAW_AWAY_DEG)} deg sideways, {_n(attention.PITCH_UP_DEG)} deg up or "
        f"{_n(attention.PITCH_DOWN_DEG)} deg down (notes are fine) counts as looking away.",
        f"  - Distraction Guard: away for more than {_n(guard.SLEEP_AFTER_S)} s in a row and "
        "your avatar falls asleep; alone, your timer pauses until you look back.",
        f"  - Tracking confidence under {_n(attention.CONFIDENCE_FLOOR)} is 'uncertain': "
        "your avatar freezes and that time is neither credited nor held against you.",
        f"  - Blinks (eyes shut under {_n(attention.BLINK_MAX_S)} s) never count as away.",
        "",
        "Timer",
        f"  - Default plan: {_n(timer.DEFAULT_ROUNDS)} x {_n(timer.DEFAULT_FOCUS_S / 60)} min "
        f"focus with {_n(timer.DEFAULT_BREAK_S / 60)} min breaks; no break after the last block.",
        "  - Everyone counts down to the same absolute end time; pauses move it later by "
        "exactly the paused time.",
        "",
        "Boss battle",
        f"  - Each focused, awake member deals {_n(battle.BASE_DPS)} damage per second.",
        f"  - Boss HP is set so a group focused {round(battle.TARGET_FOCUS_RATIO * 100)} % "
        "of the planned time wins.",
        f"  - Asleep, or away more than {_n(battle.PENALTY_GRACE_S)} s: -{pct} % group damage "
        f"per distracted member, never more than -{cap} % in total.",
        "  - Friends' ghosts deal the damage they dealt when they recorded the session.",
        "",
        "XP",
        f"  - {_n(battle.XP_PER_FOCUSED_MINUTE)} XP per focused minute "
        f"(x{_n(battle.VICTORY_XP_MULTIPLIER)} on victory) plus up to "
        f"{_n(battle.SHARE_BONUS_XP * battle.SHARE_BONUS_MAX_RATIO)} XP for pulling your weight.",
        "",
        "Full rules: docs/rules.md",
    ]
    return "\n".join(lines)
