"""Payload models of the Socket.IO events, in both directions.

Client → server events carry small requests; server → client events carry the
room's authoritative state. Times are Unix epoch milliseconds (``EpochMs``);
durations carry their unit in the field name. Cross-field rules (unique slots,
hit points within the maximum, ...) are checked here, so a model in hand is
consistent. The binary ``frame`` and ``frames`` events have no model here: their
bytes are laid out by ``shared/codec.py`` (see :class:`BinaryPayload`).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict, model_validator

from shared.battle import Outcome
from shared.face import Attention
from shared.protocol.types import (
    DEFAULT_MAX_MEMBERS,
    MAX_BREAK_S,
    MAX_FOCUS_S,
    MAX_ROOM_MEMBERS,
    MAX_ROUNDS,
    MAX_XP,
    PROTOCOL_VERSION,
    AlwaysTrue,
    Amount,
    Count,
    DisplayText,
    DurationMs,
    EpochMs,
    EventName,
    Flag,
    Fraction,
    Id,
    RoomId,
    Seconds,
    Slot,
    Slug,
    Token,
    Username,
    WireModel,
)
from shared.timer import Phase

_Rounds = Annotated[int, Strict(), Field(ge=1, le=MAX_ROUNDS)]
_RoomSize = Annotated[int, Strict(), Field(ge=1, le=MAX_ROOM_MEMBERS)]
_Version = Annotated[int, Strict(), Field(ge=1, le=2**31 - 1)]


# --- connection -------------------------------------------------------------------------------


class Auth(WireModel):
    """The Socket.IO ``auth`` object sent when connecting."""

    token: Token = Field(description="Session token from POST /api/login or /api/register.")
    protocol_version: _Version | None = Field(
        default=None,
        description="The protocol version the client speaks; the connection is refused with "
        "unsupported_version if it differs from the server's. Omitted: assume the server's.",
    )


# --- client → server --------------------------------------------------------------------------


class Plan(WireModel):
    """A session plan: ``rounds`` focus blocks with a break between consecutive ones."""

    focus_s: Annotated[int, Strict(), Field(ge=1, le=MAX_FOCUS_S)] = Field(
        default=25 * 60, description=f"Length of each focus block in seconds (1–{MAX_FOCUS_S})."
    )
    break_s: Annotated[int, Strict(), Field(ge=1, le=MAX_BREAK_S)] = Field(
        default=5 * 60, description=f"Length of each break in seconds (1–{MAX_BREAK_S})."
    )
    rounds: _Rounds = Field(
        default=4, description=f"Number of focus blocks (1–{MAX_ROUNDS}); no break after the last."
    )


class CreateRoom(WireModel):
    """``room:create``: open a room; the sender becomes its host and first member."""

    name: DisplayText = Field(description="Room name shown to members (1–40 characters).")
    subject: DisplayText = Field(
        description="What the room studies (1–40 characters); sessions are filed under it."
    )
    plan: Plan | None = Field(
        default=None, description="Session plan; null or omitted: the server's default plan."
    )
    boss: Slug | None = Field(
        default=None,
        description="Boss kind (e.g. 'slime'); null or omitted: the server picks one. "
        "A kind the server does not know is a bad_request.",
    )
    max_members: _RoomSize = Field(
        default=DEFAULT_MAX_MEMBERS,
        description=f"Seats for people and ghosts together (1–{MAX_ROOM_MEMBERS}).",
    )


class JoinRoom(WireModel):
    """``room:join``: take a seat in an existing room (or get the old seat back on reconnect)."""

    room_id: RoomId = Field(description="The room to join, as returned by room:create.")


class LeaveRoom(WireModel):
    """``room:leave``: give up the seat in the sender's current room. No payload."""


class StartRoom(WireModel):
    """``room:start`` (host only): leave the lobby and start the first focus block. No payload."""


class PauseRoom(WireModel):
    """``room:pause`` (host only): pause the room timer with reason ``host``. No payload."""


class ResumeRoom(WireModel):
    """``room:resume`` (host only): clear the host's pause reason. No payload."""


class FinishRoom(WireModel):
    """``room:finish`` (host only): end the session now and go to the results. No payload."""


class AddGhost(WireModel):
    """``ghost:add`` (host only): seat a recorded session as a ghost member."""

    ghost_id: Id = Field(
        description="Id of the recorded session to replay, as listed by GET /api/ghosts."
    )


# --- acknowledgements -------------------------------------------------------------------------


class Ok(WireModel):
    """Acknowledgement of a successful event that returns nothing else."""

    ok: AlwaysTrue = Field(default=True, description="Always true.")


class RoomCreated(WireModel):
    """Acknowledgement of ``room:create``."""

    room_id: RoomId = Field(description="Id of the new room; share it for others to join.")


class RoomJoined(WireModel):
    """Acknowledgement of ``room:join``."""

    room_id: RoomId = Field(description="The room joined.")
    member_id: Id = Field(description="The sender's member id in this room (their user id).")
    slot: Slot = Field(description="The sender's slot, which tags their frames in batches.")


class GhostAdded(WireModel):
    """Acknowledgement of ``ghost:add``."""

    member_id: Id = Field(description="Member id given to the ghost in this room.")
    slot: Slot = Field(description="The ghost's slot in frame batches.")


# --- server → client --------------------------------------------------------------------------


class Member(WireModel):
    """One seat in a room, as every member sees it."""

    member_id: Id = Field(description="User id for a person; a server-made id for a ghost.")
    username: Username = Field(description="The person's username (for a ghost: its owner's).")
    slot: Slot = Field(description="One-byte index that tags this member's frames in batches.")
    connected: Flag = Field(
        description="False while a person is away within the reconnect window; ghosts: true."
    )
    asleep: Flag = Field(description="The Distraction Guard has put this member's avatar asleep.")
    attention: Attention = Field(description="The member's latest attention state.")
    is_ghost: Flag = Field(description="A replayed recording rather than a live person.")


class RoomState(WireModel):
    """``room:state``: the room's membership and settings, sent on every change and on join."""

    room_id: RoomId = Field(description="The room.")
    name: DisplayText = Field(description="Room name.")
    subject: DisplayText = Field(description="Study subject of the room.")
    host_id: Id = Field(description="Member id of the host, who may start/pause/resume/add ghosts.")
    phase: Phase = Field(description="Current timer phase: lobby, focus, break or results.")
    members: tuple[Member, ...] = Field(
        max_length=MAX_ROOM_MEMBERS, description="Everyone seated, people and ghosts."
    )
    max_members: _RoomSize = Field(description="Seats in the room, people and ghosts together.")
    plan: Plan = Field(description="The session plan in force.")
    boss_kind: Slug = Field(description="The boss this room fights.")
    protocol_version: _Version = Field(
        default=PROTOCOL_VERSION, description="The server's protocol version."
    )

    @model_validator(mode="after")
    def _consistent(self) -> RoomState:
        ids = [m.member_id for m in self.members]
        slots = [m.slot for m in self.members]
        if len(set(ids)) != len(ids):
            raise ValueError("member ids must be unique")
        if len(set(slots)) != len(slots):
            raise ValueError("member slots must be unique")
        if len(self.members) > self.max_members:
            raise ValueError(f"{len(self.members)} members do not fit in {self.max_members} seats")
        return self


class TimerState(WireModel):
    """``timer``: the authoritative room timer, sent on every phase change, pause and resume.

    Clients compute the time left as ``end_time - server_time`` corrected by their
    own clock offset; ``remaining_ms`` is a convenience and the value to show
    while ``paused`` (then the clock is stopped and ``end_time`` moves on resume).
    """

    room_id: RoomId = Field(description="The room.")
    phase: Phase = Field(description="Current phase: lobby, focus, break or results.")
    round: Annotated[int, Strict(), Field(ge=0, le=MAX_ROUNDS)] = Field(
        description="Current focus round, 1-based (a break belongs to the round before it); "
        "0 in the lobby."
    )
    rounds: _Rounds = Field(description="Number of focus rounds in the plan.")
    end_time: EpochMs | None = Field(
        description="When the current phase ends (epoch ms); null in lobby and results."
    )
    server_time: EpochMs = Field(description="The server's clock when this was sent (epoch ms).")
    paused: Flag = Field(
        description="The clock is stopped; true exactly when pause_reasons is set."
    )
    pause_reasons: tuple[Slug, ...] = Field(
        default=(),
        max_length=8,
        description="Why the clock is stopped, e.g. 'host' or 'asleep'; it runs again once "
        "every reason has cleared.",
    )
    remaining_ms: DurationMs = Field(description="Time left in the phase at server_time (ms).")

    @model_validator(mode="after")
    def _consistent(self) -> TimerState:
        timed = self.phase in (Phase.FOCUS, Phase.BREAK)
        if timed and self.end_time is None:
            raise ValueError(f"end_time is required in the {self.phase} phase")
        if not timed and self.end_time is not None:
            raise ValueError(f"end_time must be null in the {self.phase} phase")
        if self.round > self.rounds:
            raise ValueError(f"round {self.round} is past the plan's {self.rounds} rounds")
        if timed and self.round == 0:
            raise ValueError(f"round must be at least 1 in the {self.phase} phase")
        if self.paused != bool(self.pause_reasons):
            raise ValueError("paused must be true exactly when pause_reasons is not empty")
        if len(set(self.pause_reasons)) != len(self.pause_reasons):
            raise ValueError("pause_reasons must be unique")
        return self


class BattleMember(WireModel):
    """One member's part in the battle."""

    member_id: Id = Field(description="The member.")
    damage: Amount = Field(description="Damage dealt so far this session (cumulative).")
    dps: Amount = Field(description="Damage per second this member deals right now.")
    penalty: Fraction = Field(
        description="Share of the group's damage this member's distraction removes right now "
        "(0–1; capped per member)."
    )
    is_ghost: Flag = Field(description="A replayed recording; ghosts are never penalised.")
    asleep: Flag = Field(description="The member is asleep (deals nothing, may cause a penalty).")


class BattleState(WireModel):
    """``battle``: the boss fight, sent once per battle tick while a session runs."""

    room_id: RoomId = Field(description="The room.")
    boss_kind: Slug = Field(description="The boss being fought.")
    boss_hp: Amount = Field(description="Hit points left (never negative).")
    boss_max_hp: Amount = Field(gt=0.0, description="Hit points at the start of the battle.")
    dps: Amount = Field(description="The group's damage per second now, after the penalty.")
    penalty: Fraction = Field(description="Fraction of group damage lost to distraction now (0–1).")
    members: tuple[BattleMember, ...] = Field(
        max_length=MAX_ROOM_MEMBERS, description="Every member's contribution."
    )
    outcome: Outcome = Field(description="ongoing, victory (boss at 0 HP) or defeat (time up).")
    server_time: EpochMs = Field(description="The server's clock at this tick (epoch ms).")

    @model_validator(mode="after")
    def _consistent(self) -> BattleState:
        if self.boss_hp > self.boss_max_hp:
            raise ValueError("boss_hp must not exceed boss_max_hp")
        if self.outcome is Outcome.VICTORY and self.boss_hp != 0.0:
            raise ValueError("a victory leaves the boss at 0 hp")
        if self.outcome is Outcome.DEFEAT and self.boss_hp == 0.0:
            raise ValueError("a defeat leaves the boss with hp")
        ids = [m.member_id for m in self.members]
        if len(set(ids)) != len(ids):
            raise ValueError("member ids must be unique")
        return self


class MemberResult(WireModel):
    """One member's line on the results screen."""

    member_id: Id = Field(description="The member.")
    username: Username = Field(description="The person's username (for a ghost: its owner's).")
    is_ghost: Flag = Field(description="A replayed recording (earns no XP).")
    damage: Amount = Field(description="Total damage dealt this session.")
    share: Fraction = Field(description="This member's fraction of the group's total damage.")
    focused_seconds: Seconds = Field(description="Seconds credited as focused while seated.")
    xp: Annotated[int, Strict(), Field(ge=0, le=MAX_XP)] = Field(
        description="Experience points awarded for this session."
    )
    streak_days: Count | None = Field(
        default=None,
        description="The person's current study streak in days, this session included; null "
        "for a ghost, or when the server could not work it out.",
    )

    @model_validator(mode="after")
    def _ghosts_have_no_streak(self) -> MemberResult:
        if self.is_ghost and self.streak_days is not None:
            raise ValueError("a ghost has no streak_days")
        return self


class Results(WireModel):
    """``room:results``: the end-of-session summary, sent once on entering the results phase
    and again to anyone who joins or reconnects while the room shows results."""

    room_id: RoomId = Field(description="The room.")
    boss_kind: Slug = Field(description="The boss fought.")
    outcome: Outcome = Field(description="victory or defeat (never ongoing).")
    members: tuple[MemberResult, ...] = Field(
        max_length=MAX_ROOM_MEMBERS, description="One line per member who took part."
    )
    mvp: Id | None = Field(
        description="Member id of the most valuable member as the battle rules name them; "
        "null if nobody dealt damage."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Results:
        if self.outcome is Outcome.ONGOING:
            raise ValueError("results need a final outcome (victory or defeat)")
        ids = [m.member_id for m in self.members]
        if len(set(ids)) != len(ids):
            raise ValueError("member ids must be unique")
        if self.mvp is not None and self.mvp not in ids:
            raise ValueError("mvp must be one of the members")
        return self


class BinaryPayload(BaseModel):
    """A binary event's raw bytes (``frame``/``frames``), size-checked; ``shared/codec.py``
    decodes them. Not a :class:`WireModel`: it is sent as bytes, never as JSON."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event: EventName = Field(description="The binary event these bytes arrived on.")
    data: Annotated[bytes, Strict()] = Field(description="The payload, verbatim.")
