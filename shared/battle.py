"""Boss battle rules: boss HP, damage from the group's focus, capped peer-pressure penalty, XP.

Theory of operation
-------------------
A :class:`Battle` is a value; :meth:`Battle.tick` advances it by a fixed ``dt``
with one :data:`MemberStatus` per member and returns a new battle plus a
:class:`TickResult`. Illegal input (bad ``dt``, unknown member, wrong kind of
status, a battle that is over) raises a :class:`BattleError` and changes
nothing. The caller ticks only while the room timer runs a focus phase.

Boss HP::

    boss_max_hp = max(MIN_BOSS_HP,
                      BASE_DPS × members × planned_focus_s × TARGET_FOCUS_RATIO × HP_MULTIPLIER)

``members`` counts humans and ghosts; ``HP_MULTIPLIER`` depends on the boss
kind. A group that focuses for ``TARGET_FOCUS_RATIO`` (70 %) of the planned
focus time beats a golem (multiplier 1); a slime is a little easier, a dragon a
little harder. A member who joins late adds ``BASE_DPS × remaining_focus_s ×
TARGET_FOCUS_RATIO × HP_MULTIPLIER`` to both HP and max HP, so the fight stays
as hard per person and late joiners owe nothing for the time before they came.
Members who leave stay in the roster (disconnected); their HP stays too.

Damage, per member per tick (sample-and-hold: the status holds for the whole tick):

- a human deals ``BASE_DPS`` while connected, awake and ``focused``; nothing while
  away, asleep or disconnected; ``uncertain`` (tracking trouble) deals nothing
  and causes no penalty;
- a ghost deals exactly the damage its recording says it dealt during this tick
  (:class:`GhostStatus`); ghosts are never penalised and never cause a penalty.

Peer pressure: a connected human is *distracted* while asleep or once they
have been away for more than ``PENALTY_GRACE_S`` seconds in a row (focused
resets that away clock; uncertain and disconnected hold it). With ``k``
distracted humans the group penalty is::

    penalty = min(MAX_TOTAL_PENALTY, PENALTY_PER_MEMBER × k)

and each distracted member's visible share of it is ``penalty / k`` -- never
more than ``PENALTY_PER_MEMBER`` and never more than ``MAX_TOTAL_PENALTY`` in
total, whatever the group size, so a mostly distracted group still deals half
its focused damage and no one member can cost the party more than 20 % of it. The
group's damage per second is::

    dps = (1 - penalty) × Σ human BASE_DPS (focused, awake) + Σ ghost recorded dps

HP never goes below zero: on the killing tick every member's damage is scaled
down in proportion so that the members' damage adds up to exactly the boss's
max HP. When HP reaches 0 the outcome is *victory* and the boss is down;
ticking goes on (focused time still earns XP) but deals no damage. The caller
calls :meth:`Battle.finish` when the timer reaches results; a boss with HP left
is then a *defeat*. Stages follow :data:`TRANSITIONS`.

Results and XP (humans only; ghosts earn nothing and cannot be MVP)::

    xp = round_half_up(focused_s / 60 × XP_PER_FOCUSED_MINUTE × (VICTORY_XP_MULTIPLIER if won)
                       + SHARE_BONUS_XP × min(SHARE_BONUS_MAX_RATIO, rate / mean_rate))

``focused_s`` is the time a member was connected, awake and focused while the
battle ticked. ``rate`` is the member's damage per second of fight since they
joined (``damage / fight_s``), ``mean_rate`` the mean of that over humans who
fought; so the bonus rewards pulling one's weight while present and a late
joiner is not punished for the time before joining. ``share`` (shown, not
used in XP) is the member's fraction of all damage dealt. The MVP is the human
with the most damage (ties: who joined first); nobody if no human dealt damage.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from shared.face import Attention
from shared.timer import MAX_FOCUS_S, MAX_ROUNDS

BASE_DPS: Final[float] = 10.0
"""Damage per second one focused, awake human deals before any penalty."""
TARGET_FOCUS_RATIO: Final[float] = 0.7
"""Fraction of the planned focus time a group must focus to beat a multiplier-1 boss."""
MIN_BOSS_HP: Final[float] = 100.0
"""Floor for boss HP, so a tiny plan still has a boss worth hitting (10 s of one member)."""

PENALTY_PER_MEMBER: Final[float] = 0.20
"""Fraction of the group's human damage one distracted member removes (and the most one can)."""
MAX_TOTAL_PENALTY: Final[float] = 0.50
"""Cap on the whole group's penalty: a group always keeps at least half its focused damage."""
PENALTY_GRACE_S: Final[float] = 5.0
"""Continuous away seconds before a member counts as distracted (short glances cost only their
own damage)."""

MAX_TICK_S: Final[float] = 60.0
"""Longest tick accepted; a larger dt is almost certainly milliseconds passed as seconds."""
MAX_GHOST_DPS: Final[float] = 2 * BASE_DPS
"""Sanity bound on a ghost's recorded damage rate; honest recordings stay at or below BASE_DPS."""
MAX_PLANNED_FOCUS_S: Final[float] = MAX_FOCUS_S * MAX_ROUNDS
"""Longest planned focus time a battle accepts: the longest plan a room timer accepts."""
MAX_MEMBER_ID_LEN: Final[int] = 64
"""Longest member id accepted."""
HP_EPSILON: Final[float] = 1e-9
"""Relative HP below which the boss counts as dead (round-off must not leave it at 1e-12 HP)."""

XP_PER_FOCUSED_MINUTE: Final[float] = 1.0
"""XP for each minute a member spent focused during the battle."""
VICTORY_XP_MULTIPLIER: Final[float] = 1.5
"""Focus XP multiplier when the boss was beaten."""
SHARE_BONUS_XP: Final[float] = 10.0
"""Bonus XP for a member whose damage rate equals the group's mean rate."""
SHARE_BONUS_MAX_RATIO: Final[float] = 2.0
"""Cap on rate / mean rate in the share bonus, so the bonus is at most 2 × SHARE_BONUS_XP."""


class BossKind(StrEnum):
    """The bosses a room can fight; they differ in looks and a little in HP."""

    SLIME = "slime"
    GOLEM = "golem"
    DRAGON = "dragon"


HP_MULTIPLIER: Final[Mapping[BossKind, float]] = MappingProxyType(
    {BossKind.SLIME: 0.8, BossKind.GOLEM: 1.0, BossKind.DRAGON: 1.2}
)
"""Boss HP scale per kind: a slime needs 56 % focus to beat, a golem 70 %, a dragon 84 %."""

DEFAULT_BOSS: Final[BossKind] = BossKind.GOLEM


class Outcome(StrEnum):
    """How the battle stands, as shown to players."""

    ONGOING = "ongoing"
    VICTORY = "victory"
    DEFEAT = "defeat"


class Stage(StrEnum):
    """The battle's state machine: fighting, boss down (session still running), over."""

    FIGHTING = "fighting"
    BOSS_DOWN = "boss_down"
    OVER = "over"


class BattleEvent(StrEnum):
    """What can happen to a battle; keys of :data:`TRANSITIONS` together with a stage."""

    JOIN = "join"
    TICK = "tick"
    BOSS_DEFEATED = "boss_defeated"
    FINISH = "finish"


TRANSITIONS: Final[Mapping[tuple[Stage, BattleEvent], Stage]] = MappingProxyType(
    {
        (Stage.FIGHTING, BattleEvent.JOIN): Stage.FIGHTING,
        (Stage.FIGHTING, BattleEvent.TICK): Stage.FIGHTING,
        (Stage.FIGHTING, BattleEvent.BOSS_DEFEATED): Stage.BOSS_DOWN,
        (Stage.FIGHTING, BattleEvent.FINISH): Stage.OVER,
        (Stage.BOSS_DOWN, BattleEvent.JOIN): Stage.BOSS_DOWN,
        (Stage.BOSS_DOWN, BattleEvent.TICK): Stage.BOSS_DOWN,
        (Stage.BOSS_DOWN, BattleEvent.FINISH): Stage.OVER,
    }
)
"""Every legal ``(stage, event)`` pair and the stage it leads to; anything else is illegal."""


class BattleError(ValueError):
    """Base class for every battle rule violation."""


class IllegalBattleEvent(BattleError):
    """The event is not allowed in the battle's stage (e.g. a tick after finish)."""


class InvalidTick(BattleError):
    """A tick length that is negative, NaN, infinite or longer than MAX_TICK_S."""


class UnknownMember(BattleError):
    """A status for a member id that is not in the battle."""


class DuplicateMember(BattleError):
    """A member id that is already in the battle."""


class InvalidStatus(BattleError):
    """A status of the wrong kind for the member, or a ghost damage that is negative or too big."""


class InvalidBattleSetup(BattleError):
    """Bad arguments to start or join: no humans, bad ids, a bad planned or remaining focus time."""


class InvalidBattleState(BattleError):
    """A battle whose fields contradict each other (e.g. restored from corrupt storage)."""


@dataclass(frozen=True, slots=True)
class PlayerStatus:
    """A human member's state for one tick: attention, the Distraction Guard's asleep flag, link."""

    attention: Attention = Attention.FOCUSED
    asleep: bool = False
    connected: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.attention, Attention):
            raise InvalidStatus(f"attention must be an Attention, got {self.attention!r}")
        if not isinstance(self.asleep, bool) or not isinstance(self.connected, bool):
            raise InvalidStatus("asleep and connected must be booleans")

    @classmethod
    def disconnected(cls) -> PlayerStatus:
        """A member whose client is not connected (deals nothing, penalises nothing)."""
        return cls(attention=Attention.NO_FACE, connected=False)


@dataclass(frozen=True, slots=True)
class GhostStatus:
    """A ghost's recorded damage during this tick (e.g. a difference of its recorded damage_at)."""

    damage: float = 0.0

    def __post_init__(self) -> None:
        d = self.damage
        if isinstance(d, bool) or not isinstance(d, int | float) or not (0.0 <= d < math.inf):
            raise InvalidStatus(f"ghost damage must be finite and >= 0, got {d!r}")


MemberStatus = PlayerStatus | GhostStatus
"""What :meth:`Battle.tick` takes per member: PlayerStatus for humans, GhostStatus for ghosts."""


@dataclass(frozen=True, slots=True)
class MemberState:
    """One member's part in the battle; the first six fields are the wire view."""

    member_id: str
    is_ghost: bool = False
    damage: float = 0.0
    """Cumulative damage dealt."""
    dps: float = 0.0
    """Damage per second in the last tick, after the group penalty."""
    penalty: float = 0.0
    """This member's share of the group penalty in the last tick (0..PENALTY_PER_MEMBER)."""
    asleep: bool = False
    connected: bool = True
    away_s: float = 0.0
    """Continuous away time (the peer-pressure clock; not the Distraction Guard's)."""
    focused_s: float = 0.0
    """Time credited as focused (connected, awake, focused) while the battle ticked."""
    fight_s: float = 0.0
    """Time the battle ticked with the boss alive since this member joined."""

    @property
    def distracted(self) -> bool:
        """Whether this member caused part of the group penalty in the last tick."""
        return self.penalty > 0.0


@dataclass(frozen=True, slots=True)
class TickResult:
    """What one tick did: damage dealt (total and per member), the group's dps and penalty."""

    damage: float
    member_damage: Mapping[str, float]
    dps: float
    penalty: float
    boss_defeated: bool
    """True only on the tick that brought the boss's HP to 0."""


@dataclass(frozen=True, slots=True)
class MemberResult:
    """One member's results: damage, contribution share, focused time, XP, MVP flag."""

    member_id: str
    is_ghost: bool
    damage: float
    share: float
    """Fraction of all damage dealt to the boss (ghosts included)."""
    focused_s: float
    xp: int
    mvp: bool


@dataclass(frozen=True, slots=True)
class BattleResults:
    """The end-of-session summary (provisional while the battle is still running)."""

    outcome: Outcome
    boss_kind: BossKind
    boss_max_hp: float
    boss_hp: float
    members: tuple[MemberResult, ...]
    mvp: str | None


def boss_hp_for(members: int, planned_focus_s: float, kind: BossKind = DEFAULT_BOSS) -> float:
    """Boss max HP for a group of ``members`` (humans and ghosts) and a planned focus time."""
    return max(MIN_BOSS_HP, _hp_share(planned_focus_s, kind) * members)


def group_penalty(distracted: int) -> float:
    """The group's penalty fraction with ``distracted`` distracted humans (capped)."""
    return min(MAX_TOTAL_PENALTY, PENALTY_PER_MEMBER * max(distracted, 0))


def xp_for(focused_s: float, *, victory: bool, rate_ratio: float) -> int:
    """XP for one human: focused minutes (×1.5 on victory) plus the capped share bonus."""
    focus_xp = focused_s / 60.0 * XP_PER_FOCUSED_MINUTE
    if victory:
        focus_xp *= VICTORY_XP_MULTIPLIER
    bonus = SHARE_BONUS_XP * min(max(rate_ratio, 0.0), SHARE_BONUS_MAX_RATIO)
    return math.floor(focus_xp + bonus + 0.5)


def _hp_share(focus_s: float, kind: BossKind) -> float:
    return BASE_DPS * focus_s * TARGET_FOCUS_RATIO * HP_MULTIPLIER[kind]


def _check_member_id(member_id: str) -> None:
    if not isinstance(member_id, str) or not 0 < len(member_id) <= MAX_MEMBER_ID_LEN:
        raise InvalidBattleSetup(
            f"a member id must be a string of 1..{MAX_MEMBER_ID_LEN} characters, got {member_id!r}"
        )


def _next_stage(stage: Stage, event: BattleEvent) -> Stage:
    try:
        return TRANSITIONS[(stage, event)]
    except KeyError:
        raise IllegalBattleEvent(f"{event} is not allowed when the battle is {stage}") from None


@dataclass(frozen=True, slots=True)
class Battle:
    """One room's boss fight; every event returns a new battle."""

    boss_kind: BossKind
    boss_max_hp: float
    boss_hp: float
    planned_focus_s: float
    members: tuple[MemberState, ...]
    stage: Stage = Stage.FIGHTING
    dps: float = 0.0
    """Group damage per second in the last tick, after the penalty."""
    penalty: float = 0.0
    """Group penalty fraction in the last tick (0..MAX_TOTAL_PENALTY)."""

    def __post_init__(self) -> None:
        if not isinstance(self.boss_kind, BossKind):
            raise InvalidBattleState(f"unknown boss kind {self.boss_kind!r}")
        if not (0.0 < self.planned_focus_s <= MAX_PLANNED_FOCUS_S):
            raise InvalidBattleState(f"planned_focus_s {self.planned_focus_s!r} out of range")
        if not (0.0 < self.boss_max_hp < math.inf) or not (0.0 <= self.boss_hp <= self.boss_max_hp):
            raise InvalidBattleState(
                f"boss HP {self.boss_hp!r} / {self.boss_max_hp!r} out of range"
            )
        if (self.stage is Stage.FIGHTING and self.boss_hp == 0.0) or (
            self.stage is Stage.BOSS_DOWN and self.boss_hp != 0.0
        ):
            raise InvalidBattleState(f"a boss with {self.boss_hp!r} HP cannot be {self.stage}")
        ids = [m.member_id for m in self.members]
        if len(set(ids)) != len(ids):
            raise InvalidBattleState("member ids must be unique")
        if not any(not m.is_ghost for m in self.members):
            raise InvalidBattleState("a battle needs at least one human member")
        if not 0.0 <= self.penalty <= MAX_TOTAL_PENALTY:
            raise InvalidBattleState(f"penalty {self.penalty!r} out of range")

    # -- construction ----------------------------------------------------------

    @classmethod
    def start(
        cls,
        *,
        planned_focus_s: float,
        humans: Iterable[str],
        ghosts: Iterable[str] = (),
        kind: BossKind | str = DEFAULT_BOSS,
    ) -> Battle:
        """A fresh battle for these members over a plan with ``planned_focus_s`` of focus.

        ``kind`` may be a :class:`BossKind` or its string value.
        """
        if (
            isinstance(planned_focus_s, bool)
            or not isinstance(planned_focus_s, int | float)
            or not (0.0 < planned_focus_s <= MAX_PLANNED_FOCUS_S)
        ):
            raise InvalidBattleSetup(
                f"planned_focus_s must be in (0, {MAX_PLANNED_FOCUS_S:g}], got {planned_focus_s!r}"
            )
        try:
            kind = BossKind(kind)
        except ValueError:
            raise InvalidBattleSetup(f"unknown boss kind {kind!r}") from None
        members = [MemberState(member_id=h) for h in humans]
        if not members:
            raise InvalidBattleSetup("a battle needs at least one human member")
        members += [MemberState(member_id=g, is_ghost=True) for g in ghosts]
        seen: set[str] = set()
        for m in members:
            _check_member_id(m.member_id)
            if m.member_id in seen:
                raise DuplicateMember(f"member {m.member_id!r} is listed twice")
            seen.add(m.member_id)
        hp = boss_hp_for(len(members), planned_focus_s, kind)
        return cls(
            boss_kind=kind,
            boss_max_hp=hp,
            boss_hp=hp,
            planned_focus_s=float(planned_focus_s),
            members=tuple(members),
        )

    # -- queries ---------------------------------------------------------------

    @property
    def outcome(self) -> Outcome:
        """Victory as soon as the boss is down; defeat once finished with HP left."""
        if self.boss_hp == 0.0:
            return Outcome.VICTORY
        return Outcome.DEFEAT if self.stage is Stage.OVER else Outcome.ONGOING

    def member(self, member_id: str) -> MemberState:
        """The state of one member; UnknownMember if there is none."""
        for m in self.members:
            if m.member_id == member_id:
                return m
        raise UnknownMember(f"no member {member_id!r} in this battle")

    @property
    def damage_dealt(self) -> float:
        """Total damage the members have dealt (equals max HP minus HP)."""
        return math.fsum(m.damage for m in self.members)

    # -- events ----------------------------------------------------------------

    def join(self, member_id: str, *, remaining_focus_s: float, is_ghost: bool = False) -> Battle:
        """Add a member mid-battle; the boss gains HP for the focus time still ahead.

        ``remaining_focus_s`` is the planned focus time left in the session
        (the room timer knows it). Once the boss is down, it gains nothing.
        """
        stage = _next_stage(self.stage, BattleEvent.JOIN)
        _check_member_id(member_id)
        if any(m.member_id == member_id for m in self.members):
            raise DuplicateMember(f"member {member_id!r} is already in the battle")
        if (
            isinstance(remaining_focus_s, bool)
            or not isinstance(remaining_focus_s, int | float)
            or not (0.0 <= remaining_focus_s <= self.planned_focus_s)
        ):
            raise InvalidBattleSetup(
                f"remaining_focus_s must be in [0, {self.planned_focus_s:g}], "
                f"got {remaining_focus_s!r}"
            )
        extra = _hp_share(remaining_focus_s, self.boss_kind) if stage is Stage.FIGHTING else 0.0
        return replace(
            self,
            stage=stage,
            boss_max_hp=self.boss_max_hp + extra,
            boss_hp=self.boss_hp + extra,
            members=(*self.members, MemberState(member_id=member_id, is_ghost=bool(is_ghost))),
        )

    def tick(self, dt: float, statuses: Mapping[str, MemberStatus]) -> tuple[Battle, TickResult]:
        """Advance by ``dt`` seconds with each member's status for this tick.

        A human missing from ``statuses`` counts as disconnected; a ghost
        missing from it deals nothing this tick.
        """
        if isinstance(dt, bool) or not isinstance(dt, int | float) or not 0.0 <= dt <= MAX_TICK_S:
            raise InvalidTick(f"dt must be in [0, {MAX_TICK_S:g}] seconds, got {dt!r}")
        stage = _next_stage(self.stage, BattleEvent.TICK)
        by_id = {m.member_id: m for m in self.members}
        for member_id, status in statuses.items():
            member = by_id.get(member_id)
            if member is None:
                raise UnknownMember(f"no member {member_id!r} in this battle")
            if member.is_ghost:
                if not isinstance(status, GhostStatus):
                    raise InvalidStatus(f"ghost {member_id!r} needs a GhostStatus")
                if status.damage > MAX_GHOST_DPS * dt:
                    raise InvalidStatus(
                        f"ghost {member_id!r} damage {status.damage!r} exceeds "
                        f"{MAX_GHOST_DPS:g}/s over {dt!r} s"
                    )
            elif not isinstance(status, PlayerStatus):
                raise InvalidStatus(f"member {member_id!r} needs a PlayerStatus")

        fighting = stage is Stage.FIGHTING
        absent = PlayerStatus.disconnected()
        no_damage = GhostStatus()

        # First pass: each human's new away clock, whether they deal damage, whether distracted.
        dealing: dict[str, bool] = {}
        away: dict[str, float] = {}
        distracted: list[str] = []
        for m in self.members:
            if m.is_ghost:
                continue
            st = statuses.get(m.member_id, absent)
            assert isinstance(st, PlayerStatus)
            asleep = st.connected and st.asleep
            if not st.connected:
                away_s = m.away_s  # a dropped link is not the student's fault: hold the clock
            elif asleep or st.attention.is_away:
                away_s = m.away_s + dt
            elif st.attention is Attention.FOCUSED:
                away_s = 0.0
            else:
                away_s = m.away_s  # uncertain: neither counts nor resets
            away[m.member_id] = away_s
            dealing[m.member_id] = st.connected and not asleep and st.attention is Attention.FOCUSED
            if st.connected and (asleep or away_s > PENALTY_GRACE_S):
                distracted.append(m.member_id)

        penalty = group_penalty(len(distracted)) if fighting else 0.0
        share = penalty / len(distracted) if distracted and fighting else 0.0
        is_distracted = set(distracted)

        rates: dict[str, float] = {}
        dealt: dict[str, float] = {}
        for m in self.members:
            if m.is_ghost:
                gst = statuses.get(m.member_id, no_damage)
                assert isinstance(gst, GhostStatus)
                rate = gst.damage / dt if fighting and dt > 0.0 else 0.0
                rates[m.member_id] = rate
                dealt[m.member_id] = gst.damage if fighting else 0.0
            else:
                rate = BASE_DPS * (1.0 - penalty) if fighting and dealing[m.member_id] else 0.0
                rates[m.member_id] = rate
                dealt[m.member_id] = rate * dt

        total = math.fsum(dealt.values())
        hp = self.boss_hp
        defeated = False
        if fighting and total > 0.0 and total >= hp - HP_EPSILON * self.boss_max_hp:
            # Killing blow: scale everyone's hit so the members' damage sums to exactly max HP.
            scale = hp / total
            dealt = {k: v * scale for k, v in dealt.items()}
            total = hp
            hp = 0.0
            defeated = True
            stage = _next_stage(stage, BattleEvent.BOSS_DEFEATED)
        elif fighting:
            hp = hp - total

        members: list[MemberState] = []
        for m in self.members:
            mid = m.member_id
            if m.is_ghost:
                members.append(
                    replace(
                        m,
                        damage=m.damage + dealt[mid],
                        dps=rates[mid],
                        fight_s=m.fight_s + (dt if fighting else 0.0),
                    )
                )
                continue
            st = statuses.get(mid, absent)
            assert isinstance(st, PlayerStatus)
            members.append(
                replace(
                    m,
                    damage=m.damage + dealt[mid],
                    dps=rates[mid],
                    penalty=share if mid in is_distracted else 0.0,
                    asleep=st.connected and st.asleep,
                    connected=st.connected,
                    away_s=away[mid],
                    focused_s=m.focused_s + (dt if dealing[mid] else 0.0),
                    fight_s=m.fight_s + (dt if fighting else 0.0),
                )
            )
        dps = math.fsum(rates.values())
        battle = replace(
            self, stage=stage, boss_hp=hp, members=tuple(members), dps=dps, penalty=penalty
        )
        result = TickResult(
            damage=total,
            member_damage=MappingProxyType(dealt),
            dps=dps,
            penalty=penalty,
            boss_defeated=defeated,
        )
        return battle, result

    def finish(self) -> Battle:
        """The session's focus time is over: the battle ends (defeat if the boss has HP left)."""
        stage = _next_stage(self.stage, BattleEvent.FINISH)
        return replace(self, stage=stage, dps=0.0, penalty=0.0)

    def results(self) -> BattleResults:
        """Per-member damage, share, focused time and XP, and the MVP (final once finished)."""
        victory = self.outcome is Outcome.VICTORY
        total = self.damage_dealt
        humans = [m for m in self.members if not m.is_ghost]
        rates = {m.member_id: m.damage / m.fight_s for m in humans if m.fight_s > 0.0}
        mean_rate = math.fsum(rates.values()) / len(rates) if rates else 0.0

        mvp: str | None = None
        best = 0.0
        for m in humans:
            if m.damage > best:
                mvp, best = m.member_id, m.damage

        out: list[MemberResult] = []
        for m in self.members:
            if m.is_ghost:
                xp = 0
            else:
                ratio = rates.get(m.member_id, 0.0) / mean_rate if mean_rate > 0.0 else 0.0
                xp = xp_for(m.focused_s, victory=victory, rate_ratio=ratio)
            out.append(
                MemberResult(
                    member_id=m.member_id,
                    is_ghost=m.is_ghost,
                    damage=m.damage,
                    share=m.damage / total if total > 0.0 else 0.0,
                    focused_s=m.focused_s,
                    xp=xp,
                    mvp=m.member_id == mvp,
                )
            )
        return BattleResults(
            outcome=self.outcome,
            boss_kind=self.boss_kind,
            boss_max_hp=self.boss_max_hp,
            boss_hp=self.boss_hp,
            members=tuple(out),
            mvp=mvp,
        )
