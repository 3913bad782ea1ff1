"""Arena and results views without a window: plates, penalty lines, the ring, rows, the HP bar."""

from __future__ import annotations

import math

import pytest
from panda3d.core import NodePath, TextNode

from game.hud.bossbar import BossBar
from game.hud.damage import POOL, DamageNumbers
from game.hud.nameplate import FocusBadge, NamePlate, badge_for, plate_text
from game.scenes.arena import penalty_lines, preset_for, ring_positions
from game.scenes.results import result_rows
from shared.face import Attention
from shared.protocol import BattleMember, BattleState, Member, MemberResult, Results


def member(name: str = "sam", **changes: object) -> Member:
    fields: dict[str, object] = {
        "member_id": f"id-{name}",
        "username": name,
        "slot": 1,
        "connected": True,
        "asleep": False,
        "attention": Attention.FOCUSED,
        "is_ghost": False,
    }
    fields.update(changes)
    return Member.model_validate(fields)


def test_badges_follow_connection_sleep_and_attention() -> None:
    """Offline beats asleep beats attention; looking away is away, uncertain stays uncertain."""
    assert badge_for(member(connected=False, asleep=True)) is FocusBadge.OFFLINE
    assert badge_for(member(asleep=True)) is FocusBadge.ASLEEP
    assert badge_for(member()) is FocusBadge.FOCUSED
    assert badge_for(member(attention=Attention.UNCERTAIN)) is FocusBadge.UNCERTAIN
    for away in (Attention.LOOKING_LEFT, Attention.EYES_CLOSED, Attention.NO_FACE):
        assert badge_for(member(attention=away)) is FocusBadge.AWAY


def test_plate_text_names_ghosts_and_states() -> None:
    """Plates read "● ada", "z sam · asleep" and "● ghost of ada"; the local player is "you"."""
    assert plate_text(member("ada"), FocusBadge.FOCUSED) == "● ada"
    assert plate_text(member("sam"), FocusBadge.ASLEEP) == "z sam · asleep"
    assert plate_text(member("ada", is_ghost=True), FocusBadge.FOCUSED) == "● ghost of ada"
    assert plate_text(member("kim"), FocusBadge.FOCUSED, you=True) == "● you"


def test_penalty_lines_name_distracted_and_asleep_members() -> None:
    """Only members with a penalty get a line, in whole percent, asleep ones called asleep."""
    battle = BattleState.model_validate(
        {
            "room_id": "ROOM1",
            "boss_kind": "slime",
            "boss_hp": 50.0,
            "boss_max_hp": 100.0,
            "dps": 24.0,
            "penalty": 0.4,
            "members": [
                {
                    "member_id": "a",
                    "damage": 1.0,
                    "dps": 10.0,
                    "penalty": 0.0,
                    "is_ghost": False,
                    "asleep": False,
                },
                {
                    "member_id": "b",
                    "damage": 0.0,
                    "dps": 0.0,
                    "penalty": 0.2,
                    "is_ghost": False,
                    "asleep": False,
                },
                {
                    "member_id": "c",
                    "damage": 0.0,
                    "dps": 0.0,
                    "penalty": 0.2,
                    "is_ghost": False,
                    "asleep": True,
                },
            ],
            "outcome": "ongoing",
            "server_time": 1,
        }
    )
    assert isinstance(battle.members[0], BattleMember)
    lines = penalty_lines(battle, {"a": "ada", "b": "sam", "c": "leo"})
    assert lines == ["sam is distracted: −20 % DPS", "leo is asleep: −20 % DPS"]


def test_ring_positions_are_symmetric_and_in_front_of_the_boss() -> None:
    """Spots run left to right, mirror about x = 0, and stand in front of the boss (y < 3.4)."""
    assert ring_positions(0) == []
    ((x0, y0),) = ring_positions(1)
    assert x0 == 0.0
    assert y0 == pytest.approx(0.0)
    spots = ring_positions(5)
    xs = [x for x, _ in spots]
    assert xs == sorted(xs)
    for (x1, y1), (x2, y2) in zip(spots, reversed(spots), strict=True):
        assert x1 == pytest.approx(-x2)
        assert y1 == pytest.approx(y2)
    assert all(y < 3.4 for _, y in ring_positions(16))


def test_presets_are_stable_per_username() -> None:
    """A preset's own name gets that preset; other names always map to the same one."""
    assert preset_for("sam") == "sam"
    assert preset_for("zed") == preset_for("zed")


def test_result_rows_sort_by_damage_and_mark_mvp_and_ghosts() -> None:
    """Rows run most damage first; the MVP is starred; ghosts earn no XP ("—") and show "ghost"
    for a streak; a person shows their streak in days, "—" when the server sent none."""

    def line(
        mid: str, name: str, damage: float, ghost: bool = False, streak: int | None = None
    ) -> MemberResult:
        return MemberResult.model_validate(
            {
                "member_id": mid,
                "username": name,
                "is_ghost": ghost,
                "damage": damage,
                "share": damage / 300.0,
                "focused_seconds": 10.0,
                "xp": 0 if ghost else 12,
                "streak_days": streak,
            }
        )

    results = Results(
        room_id="ROOM1",
        boss_kind="golem",
        outcome="victory",
        members=(
            line("a", "ada", 100.0),
            line("g", "ada", 150.0, True),
            line("b", "kim", 50.0, streak=4),
        ),
        mvp="a",
    )
    rows = result_rows(results, you="b")
    assert rows == [
        ("ghost of ada", "150", "50 %", "—", "ghost"),
        ("★ ada  MVP", "100", "33 %", "+12", "—"),
        ("kim (you)", "50", "17 %", "+12", "4 days"),
    ]


def test_boss_bar_value_clamps_and_refuses_nan() -> None:
    """The HP fraction clamps to 0–1, hides the fill at 0, and NaN raises."""
    font = TextNode.getDefaultFont()
    bar = BossBar(NodePath("hud"), font, font)
    bar.show("Stone Golem", 150.0, 100.0)
    assert bar.value == 1.0
    assert bar.points.text == "150 / 100 HP"
    bar.value = -3.0
    assert bar.value == 0.0
    assert bar.fill.isHidden()
    bar.value = 0.25
    assert bar.fill.getSx() == pytest.approx(0.25)
    with pytest.raises(ValueError):
        bar.value = math.nan
    assert bar.value == 0.25


def test_damage_numbers_rise_fade_and_reuse_the_pool() -> None:
    """A number rises and fades over its life, then hides; more than the pool reuses the oldest."""
    numbers = DamageNumbers(NodePath("boss"), TextNode.getDefaultFont())
    numbers.spawn(12.4, 0.0)
    assert numbers.live == 1
    numbers.update(0.6)
    assert numbers.live == 1
    numbers.update(5.0)
    assert numbers.live == 0
    for i in range(POOL + 3):
        numbers.spawn(1.0, 10.0 + i * 0.01)
    assert numbers.live == POOL
    assert numbers.spawned == POOL + 4


def test_name_plate_colours_follow_the_badge() -> None:
    """A plate shows its text on the badge colour and remembers the badge."""
    plate = NamePlate(NodePath("avatar"), TextNode.getDefaultFont(), height=1.0)
    plate.show("z sam · asleep", FocusBadge.ASLEEP)
    assert plate.text == "z sam · asleep"
    assert plate.badge is FocusBadge.ASLEEP
