"""Boss battle rules: HP scaling, damage, capped peer-pressure penalty, ghosts, outcome and XP."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.battle import (
    BASE_DPS,
    HP_MULTIPLIER,
    MAX_GHOST_DPS,
    MAX_TICK_S,
    MAX_TOTAL_PENALTY,
    MIN_BOSS_HP,
    PENALTY_GRACE_S,
    PENALTY_PER_MEMBER,
    SHARE_BONUS_MAX_RATIO,
    SHARE_BONUS_XP,
    TARGET_FOCUS_RATIO,
    TRANSITIONS,
    VICTORY_XP_MULTIPLIER,
    XP_PER_FOCUSED_MINUTE,
    Battle,
    BattleError,
    BattleEvent,
    BossKind,
    DuplicateMember,
    GhostStatus,
    IllegalBattleEvent,
    InvalidBattleSetup,
    InvalidBattleState,
    InvalidStatus,
    InvalidTick,
    MemberStatus,
    Outcome,
    PlayerStatus,
    Stage,
    UnknownMember,
    boss_hp_for,
    group_penalty,
    xp_for,
)
from shared.face import Attention
from shared.timer import TimerPlan

ROOT = Path(__file__).resolve().parents[2]

FOCUSED = PlayerStatus()
ASLEEP = PlayerStatus(attention=Attention.NO_FACE, asleep=True)
UNCERTAIN = PlayerStatus(attention=Attention.UNCERTAIN)
LEFT = PlayerStatus(attention=Attention.LOOKING_LEFT)
GONE = PlayerStatus.disconnected()


def battle_of(n: int, planned_s: float = 1500.0, ghosts: tuple[str, ...] = ()) -> Battle:
    return Battle.start(
        planned_focus_s=planned_s, humans=[f"p{i}" for i in range(n)], ghosts=ghosts
    )


def run(
    battle: Battle, seconds: int, statuses: Mapping[str, MemberStatus], dt: float = 1.0
) -> Battle:
    for _ in range(seconds):
        battle, _result = battle.tick(dt, statuses)
    return battle


def everyone(battle: Battle, status: PlayerStatus) -> dict[str, MemberStatus]:
    return {m.member_id: status for m in battle.members if not m.is_ghost}


# -- boss HP ---------------------------------------------------------------------------------


def test_boss_hp_formula() -> None:
    """HP = BASE_DPS × members × planned focus × TARGET_FOCUS_RATIO × kind multiplier."""
    assert boss_hp_for(4, 1500.0) == pytest.approx(BASE_DPS * 4 * 1500.0 * TARGET_FOCUS_RATIO)
    assert battle_of(4).boss_max_hp == battle_of(4).boss_hp == boss_hp_for(4, 1500.0)


def test_more_members_or_a_longer_plan_mean_more_hp() -> None:
    """HP grows with group size and with planned focus time."""
    assert boss_hp_for(2, 1500.0) < boss_hp_for(3, 1500.0) < boss_hp_for(8, 1500.0)
    assert boss_hp_for(3, 600.0) < boss_hp_for(3, 1500.0) < boss_hp_for(3, 6000.0)


def test_boss_hp_has_a_floor() -> None:
    """A tiny plan still gets MIN_BOSS_HP."""
    assert boss_hp_for(1, 1.0) == MIN_BOSS_HP


def test_boss_kinds_scale_hp_a_little() -> None:
    """Slime < golem < dragon, all within ±25 % of the golem (multiplier 1)."""
    hp = {kind: boss_hp_for(3, 1500.0, kind) for kind in BossKind}
    assert hp[BossKind.SLIME] < hp[BossKind.GOLEM] < hp[BossKind.DRAGON]
    assert HP_MULTIPLIER[BossKind.GOLEM] == 1.0
    assert all(0.75 <= m <= 1.25 for m in HP_MULTIPLIER.values())
    assert set(HP_MULTIPLIER) == set(BossKind)


def test_ghosts_count_towards_hp() -> None:
    """A ghost adds as much HP as a human, because it also deals damage."""
    assert battle_of(2, ghosts=("g",)).boss_max_hp == boss_hp_for(3, 1500.0)


@pytest.mark.parametrize("n", [1, 3, 8])
def test_all_focused_group_wins_at_the_target_ratio_of_the_plan(n: int) -> None:
    """N focused members beat a golem after about TARGET_FOCUS_RATIO of the planned focus time."""
    plan = TimerPlan(focus_s=600.0, break_s=60.0, rounds=2)
    battle = battle_of(n, plan.planned_focus_s)
    statuses = everyone(battle, FOCUSED)
    seconds = 0
    while battle.outcome is Outcome.ONGOING:
        battle, _ = battle.tick(1.0, statuses)
        seconds += 1
    assert battle.outcome is Outcome.VICTORY
    assert seconds == pytest.approx(TARGET_FOCUS_RATIO * plan.planned_focus_s, abs=1.0)


def test_a_group_at_sixty_percent_focus_loses() -> None:
    """Focusing clearly less than the target ratio (60 %, no penalty) is a defeat."""
    battle = battle_of(2, 1000.0)
    battle = run(battle, 600, everyone(battle, FOCUSED))
    battle = run(battle, 400, everyone(battle, GONE))
    battle = battle.finish()
    assert battle.outcome is Outcome.DEFEAT and battle.boss_hp > 0


# -- damage and the penalty ------------------------------------------------------------------


def test_focused_members_deal_base_dps() -> None:
    """Each focused, awake member deals BASE_DPS."""
    battle, result = battle_of(3).tick(2.0, {"p0": FOCUSED, "p1": FOCUSED, "p2": FOCUSED})
    assert result.dps == 3 * BASE_DPS and result.penalty == 0.0
    assert result.damage == pytest.approx(6 * BASE_DPS)
    assert battle.member("p1").damage == pytest.approx(2 * BASE_DPS)
    assert battle.boss_hp == pytest.approx(battle.boss_max_hp - 6 * BASE_DPS)


def test_one_asleep_member_lowers_dps_by_exactly_the_per_member_penalty() -> None:
    """With one of four asleep, the other three deal (1 - PENALTY_PER_MEMBER) × their damage."""
    battle = battle_of(4)
    statuses = {"p0": ASLEEP, "p1": FOCUSED, "p2": FOCUSED, "p3": FOCUSED}
    battle, result = battle.tick(1.0, statuses)
    assert result.penalty == PENALTY_PER_MEMBER
    assert result.dps == pytest.approx(3 * BASE_DPS * (1 - PENALTY_PER_MEMBER))
    assert battle.dps == result.dps and battle.penalty == PENALTY_PER_MEMBER
    sleeper = battle.member("p0")
    assert sleeper.asleep and sleeper.distracted and sleeper.penalty == PENALTY_PER_MEMBER
    assert sleeper.dps == 0.0
    assert battle.member("p1").penalty == 0.0
    assert battle.member("p1").dps == pytest.approx(BASE_DPS * (1 - PENALTY_PER_MEMBER))


def test_a_short_glance_costs_only_your_own_damage() -> None:
    """Away for up to PENALTY_GRACE_S: no damage from that member but no group penalty."""
    battle = battle_of(2)
    statuses = {"p0": LEFT, "p1": FOCUSED}
    battle = run(battle, int(PENALTY_GRACE_S), statuses)
    assert battle.penalty == 0.0 and battle.dps == BASE_DPS
    battle = run(battle, 1, statuses)
    assert battle.penalty == PENALTY_PER_MEMBER
    assert battle.member("p0").away_s == PENALTY_GRACE_S + 1


def test_focusing_again_clears_the_penalty() -> None:
    """A distracted member who looks back resets their away clock and their penalty at once."""
    battle = run(battle_of(2), 10, {"p0": LEFT, "p1": FOCUSED})
    battle, result = battle.tick(1.0, {"p0": FOCUSED, "p1": FOCUSED})
    assert result.penalty == 0.0 and result.dps == 2 * BASE_DPS
    assert battle.member("p0").away_s == 0.0


def test_uncertain_neither_deals_nor_penalises() -> None:
    """Uncertain tracking deals nothing, causes no penalty and holds (not resets) the away clock."""
    battle = battle_of(2)
    battle = run(battle, 4, {"p0": LEFT, "p1": FOCUSED})
    battle = run(battle, 60, {"p0": UNCERTAIN, "p1": FOCUSED})
    assert battle.penalty == 0.0 and battle.dps == BASE_DPS
    assert battle.member("p0").focused_s == 0.0
    assert battle.member("p0").damage == 0.0
    assert battle.member("p0").away_s == 4.0
    battle = run(battle, 2, {"p0": LEFT, "p1": FOCUSED})
    assert battle.penalty == PENALTY_PER_MEMBER  # 4 + 2 s away in a row > grace


def test_disconnected_or_missing_members_deal_nothing_and_penalise_nothing() -> None:
    """A disconnected member (or one missing from the statuses) deals no damage and no penalty."""
    battle = run(battle_of(3), 10, {"p0": LEFT, "p1": FOCUSED, "p2": LEFT})
    assert battle.penalty == 2 * PENALTY_PER_MEMBER
    battle = run(battle, 30, {"p0": GONE, "p1": FOCUSED})  # p2 missing
    assert battle.penalty == 0.0 and battle.dps == BASE_DPS
    assert battle.member("p0").away_s == 10.0  # held, not reset: the link dropped, not the focus
    assert not battle.member("p2").connected and battle.member("p2").damage == 0.0


def test_asleep_beats_a_focused_attention() -> None:
    """An asleep flag wins over a focused attention in the same status: no damage, penalty."""
    battle, result = battle_of(2).tick(
        1.0, {"p0": PlayerStatus(attention=Attention.FOCUSED, asleep=True), "p1": FOCUSED}
    )
    assert result.penalty == PENALTY_PER_MEMBER and battle.member("p0").damage == 0.0


def test_group_penalty_caps() -> None:
    """group_penalty grows by PENALTY_PER_MEMBER per distracted member up to MAX_TOTAL_PENALTY."""
    assert [group_penalty(k) for k in range(5)] == pytest.approx([0.0, 0.2, 0.4, 0.5, 0.5])
    assert (PENALTY_PER_MEMBER, MAX_TOTAL_PENALTY) == (0.20, 0.50)


HUMAN_STATUSES = st.one_of(
    st.builds(
        PlayerStatus,
        attention=st.sampled_from(list(Attention)),
        asleep=st.booleans(),
        connected=st.booleans(),
    ),
    st.just(FOCUSED),
)


@settings(max_examples=100, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=40),
    ghosts=st.integers(min_value=0, max_value=3),
    dts=st.lists(st.floats(min_value=0.0, max_value=8.0), min_size=1, max_size=6),
    data=st.data(),
)
def test_penalty_caps_hold_for_any_statuses(
    n: int, ghosts: int, dts: list[float], data: st.DataObject
) -> None:
    """Total penalty ≤ MAX_TOTAL_PENALTY, each share ≤ PENALTY_PER_MEMBER, for any group."""
    battle = battle_of(n, planned_s=6000.0, ghosts=tuple(f"g{i}" for i in range(ghosts)))
    for dt in dts:
        picks = data.draw(st.lists(HUMAN_STATUSES, min_size=n, max_size=n))
        statuses: dict[str, MemberStatus] = {f"p{i}": picks[i] for i in range(n)}
        statuses |= {f"g{i}": GhostStatus(damage=BASE_DPS * dt) for i in range(ghosts)}
        battle, result = battle.tick(dt, statuses)
        shares = [m.penalty for m in battle.members]
        causing = sum(1 for s in shares if s > 0.0)
        assert result.penalty == group_penalty(causing) <= MAX_TOTAL_PENALTY
        assert all(0.0 <= s <= PENALTY_PER_MEMBER + 1e-12 for s in shares)
        assert math.fsum(shares) == pytest.approx(result.penalty)
        assert all(m.penalty == 0.0 for m in battle.members if m.is_ghost)
        dealing = sum(
            1 for p in picks if p.connected and not p.asleep and p.attention is Attention.FOCUSED
        )
        ghost_dps = ghosts * BASE_DPS if dt > 0 else 0.0
        assert result.dps == pytest.approx(
            (1 - result.penalty) * BASE_DPS * dealing + ghost_dps, abs=1e-9
        )
        # Even a mostly distracted group keeps at least (1 - cap) of its focused damage.
        assert result.dps >= (1 - MAX_TOTAL_PENALTY) * BASE_DPS * dealing + ghost_dps - 1e-9


# -- ghosts ----------------------------------------------------------------------------------


def test_ghost_deals_exactly_its_recorded_damage_and_is_not_penalised() -> None:
    """A ghost deals its recorded damage even while every human is asleep, and causes no penalty."""
    battle = battle_of(3, ghosts=("ghost",))
    statuses: dict[str, MemberStatus] = {"p0": ASLEEP, "p1": ASLEEP, "p2": ASLEEP}
    recorded = [7.25, 0.0, 10.0, 3.5]
    for damage in recorded:
        battle, result = battle.tick(1.0, {**statuses, "ghost": GhostStatus(damage=damage)})
        assert result.member_damage["ghost"] == damage
        assert battle.member("ghost").dps == damage
    ghost = battle.member("ghost")
    assert ghost.is_ghost and ghost.damage == sum(recorded)
    assert ghost.penalty == 0.0 and not ghost.asleep
    assert battle.penalty == MAX_TOTAL_PENALTY  # three sleepers: 3 × 0.2 capped at 0.5
    assert battle.damage_dealt == sum(recorded)


def test_ghost_missing_from_statuses_deals_nothing() -> None:
    """A ghost without a status this tick deals no damage."""
    _, result = battle_of(1, ghosts=("g",)).tick(1.0, {"p0": FOCUSED})
    assert result.member_damage["g"] == 0.0 and result.dps == BASE_DPS


# -- outcome ---------------------------------------------------------------------------------


def test_victory_leaves_hp_at_zero_and_damage_adding_up_to_max_hp() -> None:
    """The killing tick caps damage at the HP left: HP is 0 and members' damage sums to max HP."""
    battle = battle_of(2, planned_s=100.0, ghosts=("g",))  # max(100, 10 × 3 × 100 × 0.7) = 2100
    statuses: dict[str, MemberStatus] = {"p0": FOCUSED, "p1": FOCUSED, "g": GhostStatus(damage=75)}
    flags = []
    for _ in range(30):
        battle, result = battle.tick(7.0, statuses)
        flags.append(result.boss_defeated)
        assert battle.boss_hp >= 0.0
    assert flags.count(True) == 1
    assert battle.boss_hp == 0.0 and battle.outcome is Outcome.VICTORY
    assert battle.stage is Stage.BOSS_DOWN
    assert battle.damage_dealt == pytest.approx(battle.boss_max_hp)


def test_after_victory_ticks_credit_focus_but_deal_no_damage() -> None:
    """Once the boss is down, focused time still counts for XP but no damage is dealt."""
    battle = run(battle_of(1, planned_s=20.0), 20, {"p0": FOCUSED})  # 140 HP: down after 14 s
    assert battle.outcome is Outcome.VICTORY
    focused = battle.member("p0").focused_s
    battle, result = battle.tick(1.0, {"p0": FOCUSED})
    assert result.damage == 0.0 and result.dps == 0.0 and battle.dps == 0.0
    assert battle.member("p0").focused_s == focused + 1.0
    assert battle.finish().outcome is Outcome.VICTORY


def test_finish_with_hp_left_is_a_defeat_and_ends_the_battle() -> None:
    """finish() with HP left gives defeat; further ticks and finishes are illegal."""
    battle = run(battle_of(2), 10, {"p0": FOCUSED}).finish()
    assert battle.outcome is Outcome.DEFEAT and battle.stage is Stage.OVER
    with pytest.raises(IllegalBattleEvent):
        battle.tick(1.0, {})
    with pytest.raises(IllegalBattleEvent):
        battle.finish()
    with pytest.raises(IllegalBattleEvent):
        battle.join("late", remaining_focus_s=0.0)


def test_transition_table() -> None:
    """The stage table has exactly the documented legal (stage, event) pairs."""
    assert dict(TRANSITIONS) == {
        (Stage.FIGHTING, BattleEvent.JOIN): Stage.FIGHTING,
        (Stage.FIGHTING, BattleEvent.TICK): Stage.FIGHTING,
        (Stage.FIGHTING, BattleEvent.BOSS_DEFEATED): Stage.BOSS_DOWN,
        (Stage.FIGHTING, BattleEvent.FINISH): Stage.OVER,
        (Stage.BOSS_DOWN, BattleEvent.JOIN): Stage.BOSS_DOWN,
        (Stage.BOSS_DOWN, BattleEvent.TICK): Stage.BOSS_DOWN,
        (Stage.BOSS_DOWN, BattleEvent.FINISH): Stage.OVER,
    }


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(min_value=1, max_value=6),
    ticks=st.lists(
        st.tuples(
            st.floats(min_value=0.0, max_value=MAX_TICK_S),
            st.lists(HUMAN_STATUSES, min_size=6, max_size=6),
            st.floats(min_value=0.0, max_value=1.0),
        ),
        max_size=40,
    ),
)
def test_hp_is_never_negative_and_damage_matches_hp_lost(
    n: int, ticks: list[tuple[float, list[PlayerStatus], float]]
) -> None:
    """Over any tick sequence HP stays in [0, max] and the members' damage equals the HP lost."""
    battle = battle_of(n, planned_s=120.0, ghosts=("g",))
    for dt, picks, ghost_frac in ticks:
        statuses: dict[str, MemberStatus] = {f"p{i}": picks[i] for i in range(n)}
        statuses["g"] = GhostStatus(damage=ghost_frac * MAX_GHOST_DPS * dt)
        battle, result = battle.tick(dt, statuses)
        assert 0.0 <= battle.boss_hp <= battle.boss_max_hp
        assert result.damage >= 0.0
        lost = battle.boss_max_hp - battle.boss_hp
        assert battle.damage_dealt == pytest.approx(lost, rel=1e-9, abs=1e-6)
        assert (battle.boss_hp == 0.0) == (battle.outcome is Outcome.VICTORY)


# -- joining ---------------------------------------------------------------------------------


def test_late_joiner_adds_hp_for_the_remaining_focus_time() -> None:
    """Joining adds BASE_DPS × remaining focus × ratio × multiplier to HP and max HP."""
    battle = run(battle_of(2, planned_s=1000.0), 100, {"p0": FOCUSED, "p1": FOCUSED})
    joined = battle.join("late", remaining_focus_s=400.0)
    extra = BASE_DPS * 400.0 * TARGET_FOCUS_RATIO
    assert joined.boss_max_hp == pytest.approx(battle.boss_max_hp + extra)
    assert joined.boss_hp == pytest.approx(battle.boss_hp + extra)
    assert joined.member("late").damage == 0.0 and not joined.member("late").is_ghost


def test_joining_after_the_boss_is_down_adds_no_hp() -> None:
    """A member joining after victory does not bring the boss back."""
    battle = run(battle_of(1, planned_s=20.0), 20, {"p0": FOCUSED})
    joined = battle.join("late", remaining_focus_s=5.0)
    assert joined.boss_hp == 0.0 and joined.outcome is Outcome.VICTORY


def test_joining_twice_raises() -> None:
    """A member id already in the battle cannot join again."""
    with pytest.raises(DuplicateMember):
        battle_of(2).join("p1", remaining_focus_s=10.0)


# -- results and XP --------------------------------------------------------------------------


def test_xp_formula() -> None:
    """XP = focused minutes × 1 (× 1.5 on victory) + 10 × capped rate ratio, rounded half up."""
    assert (XP_PER_FOCUSED_MINUTE, VICTORY_XP_MULTIPLIER, SHARE_BONUS_XP) == (1.0, 1.5, 10.0)
    assert xp_for(1500.0, victory=False, rate_ratio=1.0) == 25 + 10
    assert xp_for(1500.0, victory=True, rate_ratio=1.0) == 48  # 37.5 + 10 = 47.5 → 48
    assert xp_for(900.0, victory=True, rate_ratio=0.0) == 23  # 22.5 rounds half up, not to even
    assert xp_for(600.0, victory=True, rate_ratio=0.5) == 20  # 15 + 5
    assert xp_for(0.0, victory=True, rate_ratio=9.0) == SHARE_BONUS_XP * SHARE_BONUS_MAX_RATIO
    assert xp_for(0.0, victory=False, rate_ratio=0.0) == 0


def test_results_give_damage_share_focused_time_xp_and_mvp() -> None:
    """Results list each member's damage, share, focused time and XP; the top human is MVP."""
    battle = battle_of(2, planned_s=600.0, ghosts=("g",))
    battle = run(battle, 300, {"p0": FOCUSED, "p1": FOCUSED, "g": GhostStatus(damage=5.0)})
    battle = run(battle, 300, {"p0": FOCUSED, "p1": GONE, "g": GhostStatus(damage=5.0)})
    results = battle.finish().results()
    assert results.outcome is Outcome.DEFEAT  # 9000 + 3000 = 12000 < 12600
    by_id = {m.member_id: m for m in results.members}
    assert by_id["p0"].damage == pytest.approx(6000.0) and by_id["p1"].damage == 3000.0
    assert math.fsum(m.share for m in results.members) == pytest.approx(1.0)
    assert by_id["p0"].share == pytest.approx(0.5)
    assert results.mvp == "p0" and by_id["p0"].mvp and not by_id["p1"].mvp
    assert by_id["p0"].focused_s == 600.0 and by_id["p1"].focused_s == 300.0
    # rates: p0 10/s, p1 5/s, mean 7.5 → ratios 4/3 and 2/3.
    assert by_id["p0"].xp == xp_for(600.0, victory=False, rate_ratio=4 / 3) == 23
    assert by_id["p1"].xp == xp_for(300.0, victory=False, rate_ratio=2 / 3) == 12
    assert by_id["g"].xp == 0 and not by_id["g"].mvp


def test_victory_multiplies_focus_xp() -> None:
    """The same focused time earns VICTORY_XP_MULTIPLIER times the focus XP when the boss falls."""
    won = run(battle_of(1, planned_s=600.0), 600, {"p0": FOCUSED}).finish().results()
    assert won.outcome is Outcome.VICTORY
    assert won.members[0].xp == round(10 * VICTORY_XP_MULTIPLIER + SHARE_BONUS_XP)


def test_late_joiner_is_not_punished_for_time_before_joining() -> None:
    """Someone who joins halfway and focuses fully gets the same share bonus as the early birds."""
    battle = run(battle_of(1, planned_s=1000.0), 500, {"p0": FOCUSED})
    battle = battle.join("late", remaining_focus_s=500.0)
    battle = run(battle, 500, {"p0": FOCUSED, "late": FOCUSED})
    results = battle.finish().results()
    by_id = {m.member_id: m for m in results.members}
    assert by_id["late"].focused_s == 500.0
    won = results.outcome is Outcome.VICTORY
    early_bonus = by_id["p0"].xp - xp_for(1000.0, victory=won, rate_ratio=0.0)
    late_bonus = by_id["late"].xp - xp_for(500.0, victory=won, rate_ratio=0.0)
    assert early_bonus == late_bonus == SHARE_BONUS_XP


def test_no_mvp_when_no_human_dealt_damage() -> None:
    """If no human dealt damage there is no MVP (a ghost never is)."""
    battle = run(battle_of(2, ghosts=("g",)), 10, {"g": GhostStatus(damage=10.0)})
    results = battle.results()
    assert results.mvp is None and not any(m.mvp for m in results.members)


# -- illegal input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dt", "statuses", "error"),
    [
        (math.nan, {}, InvalidTick),
        (-1.0, {}, InvalidTick),
        (math.inf, {}, InvalidTick),
        (MAX_TICK_S + 1, {}, InvalidTick),
        (True, {}, InvalidTick),
        (1.0, {"stranger": FOCUSED}, UnknownMember),
        (1.0, {"p0": GhostStatus(damage=1.0)}, InvalidStatus),
        (1.0, {"g": FOCUSED}, InvalidStatus),
        (1.0, {"g": GhostStatus(damage=MAX_GHOST_DPS + 0.5)}, InvalidStatus),
        (0.0, {"g": GhostStatus(damage=0.1)}, InvalidStatus),
    ],
)
def test_illegal_ticks_raise_and_change_nothing(
    dt: float, statuses: dict[str, MemberStatus], error: type[BattleError]
) -> None:
    """Bad dt, unknown members, wrong status kinds and impossible ghost damage raise; no change."""
    battle = run(battle_of(2, ghosts=("g",)), 3, {"p0": FOCUSED, "p1": LEFT})
    snapshot = Battle(
        **{f: getattr(battle, f) for f in battle.__dataclass_fields__}  # an equal copy
    )
    with pytest.raises(error) as info:
        battle.tick(dt, {"p0": FOCUSED, **statuses})
    assert isinstance(info.value, BattleError) and isinstance(info.value, ValueError)
    assert battle == snapshot


@pytest.mark.parametrize("damage", [-1.0, math.nan, math.inf])
def test_bad_ghost_damage_is_rejected_on_construction(damage: float) -> None:
    """A ghost status with negative or non-finite damage raises InvalidStatus."""
    with pytest.raises(InvalidStatus):
        GhostStatus(damage=damage)


def test_bad_player_status_is_rejected() -> None:
    """A player status with a non-Attention attention raises InvalidStatus."""
    with pytest.raises(InvalidStatus):
        PlayerStatus(attention="focused")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"planned_focus_s": 0.0, "humans": ["a"]},
        {"planned_focus_s": math.nan, "humans": ["a"]},
        {"planned_focus_s": 1e9, "humans": ["a"]},
        {"planned_focus_s": 100.0, "humans": []},
        {"planned_focus_s": 100.0, "humans": [], "ghosts": ["g"]},
        {"planned_focus_s": 100.0, "humans": [""]},
        {"planned_focus_s": 100.0, "humans": ["x" * 65]},
        {"planned_focus_s": 100.0, "humans": ["a"], "kind": "hydra"},
    ],
)
def test_bad_battle_setups_raise(kwargs: dict[str, object]) -> None:
    """No humans, bad ids, bad kinds or a bad planned focus time raise InvalidBattleSetup."""
    with pytest.raises(InvalidBattleSetup):
        Battle.start(**kwargs)  # type: ignore[arg-type]


def test_duplicate_ids_at_start_raise() -> None:
    """The same id twice (even as human and ghost) raises DuplicateMember."""
    with pytest.raises(DuplicateMember):
        Battle.start(planned_focus_s=100.0, humans=["a"], ghosts=["a"])


def test_bad_join_time_raises_and_changes_nothing() -> None:
    """A remaining focus time outside [0, planned] raises and the battle is unchanged."""
    battle = battle_of(1, planned_s=100.0)
    for remaining in (-1.0, 101.0, math.nan):
        with pytest.raises(InvalidBattleSetup):
            battle.join("x", remaining_focus_s=remaining)
    assert battle == battle_of(1, planned_s=100.0)


def test_contradictory_battle_state_is_rejected() -> None:
    """A battle (e.g. restored) fighting at 0 HP or with HP above max raises InvalidBattleState."""
    good = battle_of(1)
    fields = {f: getattr(good, f) for f in good.__dataclass_fields__}
    for change in ({"boss_hp": 0.0}, {"boss_hp": good.boss_max_hp + 1}, {"penalty": 0.9}):
        with pytest.raises(InvalidBattleState):
            Battle(**{**fields, **change})


# -- the player-facing rules page ------------------------------------------------------------


def test_rules_page_states_the_actual_constants() -> None:
    """docs/rules.md quotes the battle constants with their real values."""
    text = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")

    def pct(x: float) -> str:
        return f"{x * 100:g} %"

    expected = [
        f"{BASE_DPS:g} damage per second",
        pct(TARGET_FOCUS_RATIO),
        pct(PENALTY_PER_MEMBER),
        pct(MAX_TOTAL_PENALTY),
        f"{PENALTY_GRACE_S:g} seconds",
        f"{XP_PER_FOCUSED_MINUTE:g} XP per focused minute",
        f"× {VICTORY_XP_MULTIPLIER:g}",
        f"{SHARE_BONUS_XP:g} XP",
    ]
    for kind, mult in HP_MULTIPLIER.items():
        expected.append(f"{kind.value} | × {mult:g}")
    missing = [e for e in expected if e not in re.sub(r"\s+", " ", text)]
    assert missing == []
