"""One room's authority: seats, host controls, face frames, timer and battle ticks, ghosts, results.

Theory of operation
-------------------
Rule 1: everything a room decides lives here; sockets, the database and the clock do not. Every
method takes ``now`` (Unix epoch seconds). A room never goes back in time: a ``now`` earlier than
one already seen is taken as the latest one seen (a wall clock can step back a little), so the
shared rules, which refuse time travel, never see it. Every call validates its input first; one
that raises a :class:`~server.rooms.errors.RoomError` has changed nothing (the frame counters in
:attr:`Room.stats` are metrics, not state, and count refused frames too) -- except that ``join``
first frees seats whose grace has run out, exactly as the next tick would.

*Seats.* A room has up to ``max_members`` seats (people and ghosts), each with the lowest free
one-byte slot. A disconnected person keeps the seat for ``reconnect_grace_s``; joining or
reconnecting within it takes the same seat and slot back, after it :meth:`Room.tick` frees the
seat. When the host's seat is freed the earliest-joined connected person (else the earliest
person) becomes host; when no person is left the room closes, ending a running session.

*Frames.* :meth:`Room.accept_frame` decodes strictly, drops a ``seq`` that is not newer than the
member's last (RFC 1982), keeps the raw bytes as the member's latest (a newer frame in the same
tick supersedes it) and runs the member's :class:`~shared.focus.FocusAnalyzer` on the sample
stamped with the server's ``now``: focus is judged on the server's clock, so a client cannot speed
time up. A member whose latest frame is older than :data:`FRAME_STALE_S` counts as ``uncertain``
(deals nothing, causes nothing): a client cannot send one focused frame and go quiet.

*Session clock.* ``S`` is the time the room timer has run since ``start``, pauses excluded and
breaks included; it is a pure function of the timer (see :meth:`Room._session_time`), so it
survives a restore. Ghost recordings are made and replayed on it, which keeps a ghost in step
with the timer whatever pauses either session had.

*Ticks.* :meth:`Room.tick` (15 Hz) frees expired seats, advances the timer, applies the pause
policy, advances the battle, replays ghosts, records sessions and builds one batch packet with
the latest new frame of every member (ghosts included). The room timer pauses with reason
``asleep`` only while there is a connected person and every connected person is asleep, and only
in a focus block (a break is for looking away); it resumes as soon as one wakes. So in a solo
room sleeping pauses the timer, and in a group one sleeper never holds up the others.

*Battle.* Damage is credited for focus time only: the battle advances by the growth of the
timer's ``focus_elapsed``, in fixed steps of :data:`BATTLE_STEP_S` while a focus block runs and
by the remainder whenever focus stops advancing (pause, break, results) or the roster changes,
so the total is exact and a tick's jitter does not matter. Each person's status is their latest
frame's attention and the guard's asleep flag, or missing (disconnected) without a connection.

*Ghosts* deal their recorded damage: a ghost is owed ``damage_at(S) - delivered`` and each step
hands it ``min(owed, MAX_GHOST_DPS × dt)``; what it recorded during our breaks or pauses is
therefore carried to the next focus step rather than lost, and a ghost recorded under the same
plan deals exactly its recorded total. Its frames are the recording's ``frame_at(S)``,
re-encoded once each.

*Recording.* Each participant's session is recorded as a ghost (frames at 10 Hz by default,
attention marks, cumulative damage at every battle step and phase change) on the session clock,
starting when they joined the session. Encoding it is left to the caller
(:meth:`SessionRecord.ghost_bytes`): it takes over a second of CPU per recorded hour.

*Results.* When the timer reaches results (or the host finishes, or the last person leaves), the
battle finishes and the next tick reports a :class:`FinishedSession`: one :class:`SessionRecord`
per participant and the wire :class:`~shared.protocol.Results`.

*Emission.* :class:`TickOutput` reports what changed since the previous tick, whatever caused it
(a tick or a direct call), so handlers may leave all broadcasting to the tick loop:
``state_changed`` at once for seats, connections, host, phase and sleep, and at most every
:data:`ATTENTION_STATE_INTERVAL_S` for attention alone; ``battle`` at once when who deals what
changes (stage, a person's dps, penalty or sleep, the roster) and otherwise at most every
:data:`BATTLE_EMIT_INTERVAL_S` while HP moves. Those paced events go out only on the room's own
*emit ticks* (every ``ceil(interval × tick_hz)``-th tick, at a phase taken from the room id), so a
server's rooms take turns: rooms started together would otherwise all emit on the same tick, and
a thousand members' Socket.IO events at once hold up the next batch by a tick or more.

*Snapshots.* :meth:`Room.snapshot` is plain JSON; :meth:`Room.restore` rebuilds the room with the
same timer (``end_time`` exactly) and battle (HP exactly); people come back disconnected with a
fresh grace window. What a snapshot does not hold: focus analysers (people restart as uncertain
and awake), relay state, and the participants' partial ghost recordings -- a restored
participant's recording restarts empty at the restore (its damage curve interpolates the gap).
"""

from __future__ import annotations

import contextlib
import math
import re
import unicodedata
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from server.rooms.errors import (
    CorruptSnapshot,
    GhostAlreadySeated,
    IllegalState,
    InvalidArgument,
    InvalidFrame,
    NotHost,
    NotMember,
    OutOfOrder,
    RoomFull,
    UnknownGhost,
)
from server.rooms.member import FrameStats, GhostReplay, Participant, Seat
from server.rooms.snapshot import (
    SNAPSHOT_VERSION,
    Json,
    Reader,
    battle_from,
    battle_to_dict,
    guarded,
    plan_from,
    plan_to_dict,
    timer_from,
    timer_to_dict,
)
from shared.battle import (
    DEFAULT_BOSS,
    MAX_GHOST_DPS,
    MAX_TICK_S,
    Battle,
    BossKind,
    GhostStatus,
    MemberStatus,
    Outcome,
    PlayerStatus,
    Stage,
)
from shared.codec import (
    CodecError,
    decode_relay_frame,
    encode_batch,
    seq_newer,
)
from shared.face import Attention, FaceSample
from shared.focus import GAP_CAP_S, FocusAnalyzer, GuardState
from shared.ghost import (
    DEFAULT_COMPRESSION,
    FRAME_INTERVAL_MS,
    MAX_FRAME_INTERVAL_MS,
    POSE_STEPS_PER_DEG,
    Compression,
    GhostRecorder,
    GhostRecorderError,
    GhostRecording,
    encode_ghost,
)
from shared.ghost import MAX_DURATION_MS as GHOST_MAX_DURATION_MS
from shared.protocol import (
    DEFAULT_MAX_MEMBERS,
    ID_PATTERN,
    MAX_ROOM_MEMBERS,
    MAX_SLOT,
    NAME_MAX_CHARS,
    ROOM_ID_PATTERN,
    USERNAME_PATTERN,
    BattleMember,
    BattleState,
    Member,
    MemberResult,
    Plan,
    Results,
    RoomState,
    TimerState,
)
from shared.timer import RUNNING_PHASES, Phase, RoomTimer, TimerError, TimerPlan

DEFAULT_RECONNECT_GRACE_S: Final[float] = 60.0
"""How long a dropped person keeps their seat (product: a 60-second reconnect window)."""
DEFAULT_TICK_HZ: Final[float] = 15.0
"""Relay ticks per second: the face tracker's rate, so one batch carries each member's frame."""
MAX_TICK_HZ: Final[float] = 60.0
"""Fastest tick rate accepted (the settings' bound)."""

BATTLE_STEP_S: Final[float] = 0.2
"""Focus seconds per battle step while a focus block runs (5 Hz): damage resolution is 2 points,
and the battle costs a third of stepping at 15 Hz (~26 µs a step for five members)."""
BATTLE_EMIT_INTERVAL_S: Final[float] = 0.5
"""Least time between two ``battle`` events that only move HP and damage (~2 Hz)."""
ATTENTION_STATE_INTERVAL_S: Final[float] = 0.5
"""Least time between two ``room:state`` events caused by attention changes alone: glances flicker
at frame rate, and a full room state is ~3 KiB."""
EMIT_INTERVAL_S: Final[float] = max(BATTLE_EMIT_INTERVAL_S, ATTENTION_STATE_INTERVAL_S)
"""Paced events go out on every ``ceil(EMIT_INTERVAL_S × tick_hz)``-th tick of a room (8 at 15 Hz),
at the room's own phase (see *Emission* above)."""
FRAME_STALE_S: Final[float] = GAP_CAP_S
"""A person whose latest frame is older than this counts as uncertain; the same 1 s beyond which
the Distraction Guard stops trusting a gap between frames."""

HOST_REASON: Final[str] = "host"
"""Pause reason held while the host has paused the room."""
ASLEEP_REASON: Final[str] = "asleep"
"""Pause reason held while every connected person is asleep during a focus block."""

RECORD_CAP_S: Final[float] = GHOST_MAX_DURATION_MS / 1000.0
"""Ghost recordings stop growing after this much session time (the ghost format's 12 h cap)."""

_U32: Final[int] = 1 << 32
_ID_RE: Final[re.Pattern[str]] = re.compile(ID_PATTERN)
_USERNAME_RE: Final[re.Pattern[str]] = re.compile(USERNAME_PATTERN)
_ROOM_ID_RE: Final[re.Pattern[str]] = re.compile(ROOM_ID_PATTERN)
_STATUSES: Final[dict[tuple[Attention, bool], PlayerStatus]] = {
    (a, s): PlayerStatus(attention=a, asleep=s) for a in Attention for s in (False, True)
}
"""Every status a connected person can have, built once (the battle steps take thousands a second)."""


# --------------------------------------------------------------------------- outputs


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """One person's finished session, for the lead to persist (sessions, ghosts, episodes)."""

    session_id: str
    user_id: str
    username: str
    room_id: str
    subject: str
    started_at: float
    """Epoch seconds when they joined the session."""
    ended_at: float
    """Epoch seconds when the session ended for them (room end, or when their seat was freed)."""
    focused_seconds: float
    damage: float
    xp: int
    outcome: Outcome
    confusion: tuple[tuple[float, float], ...]
    """Confusion episodes (epoch start, end) during the session, for the subject report."""
    ghost: GhostRecording | None
    """Their session as a ghost; ``None`` if it could not be recorded."""

    @property
    def ghost_duration_s(self) -> float:
        """Length of the ghost recording in seconds (0 without one)."""
        return self.ghost.duration_s if self.ghost is not None else 0.0

    def ghost_bytes(self, compression: Compression = DEFAULT_COMPRESSION) -> bytes | None:
        """The ghost in the stored format; ~1–1.5 s of CPU per recorded hour, so run it off the
        event loop (e.g. ``loop.run_in_executor``)."""
        return encode_ghost(self.ghost, compression) if self.ghost is not None else None


@dataclass(frozen=True, slots=True)
class FinishedSession:
    """A room's session has ended: the records to persist and the results to show."""

    room_id: str
    subject: str
    started_at: float
    ended_at: float
    outcome: Outcome
    records: tuple[SessionRecord, ...]
    results: Results


@dataclass(frozen=True, slots=True)
class TickOutput:
    """What one tick has to say: the relay packet and which views changed since the last tick."""

    frames: bytes | None
    """One batch packet (``encode_batch``) to send to every member, or ``None`` if no frame is new."""
    timer_changed: bool
    """Phase, round, end time or pause reasons changed: emit ``timer``."""
    state_changed: bool
    """Seats, host, phase, connection, sleep or attention changed: emit ``room:state``."""
    battle: BattleState | None
    """A ``battle`` event to emit, or ``None`` (see the module docstring for the cadence)."""
    results: Results | None
    """Set once, on the tick that reports the end of the session: emit ``room:results``."""
    finished: FinishedSession | None
    """Set once with ``results``: the records to persist."""
    freed: tuple[str, ...]
    """People whose seats were freed since the last tick without a call (grace ran out)."""
    closed: bool
    """The room is closed (no people left, or retired after its results): drop it after this."""


@dataclass(frozen=True, slots=True)
class RoomListing:
    """A room as the room browser shows it (plain data; the HTTP handler maps it to the wire)."""

    room_id: str
    name: str
    subject: str
    host_id: str
    host_username: str
    people: int
    """People seated (held seats of people reconnecting included; ghosts not)."""
    capacity: int
    phase: Phase
    boss_kind: str
    created_at: float
    """Epoch seconds when the room was opened."""


# --------------------------------------------------------------------------- validation


def _check_now(now: object) -> float:
    if isinstance(now, bool) or not isinstance(now, int | float) or not math.isfinite(now):
        raise InvalidArgument(f"now must be finite epoch seconds, got {now!r}")
    return float(now)


def _check_id(value: object, what: str) -> str:
    if not isinstance(value, str) or not _ID_RE.fullmatch(value):
        raise InvalidArgument(
            f"{what} must be an id: 1 to 64 letters, digits, '_', '.', ':' or '-'"
        )
    return value


def _check_username(value: object, what: str = "username") -> str:
    if not isinstance(value, str) or not _USERNAME_RE.fullmatch(value):
        raise InvalidArgument(f"{what} must be 3 to 32 letters, digits, '_', '.' or '-'")
    return value


def _check_text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise InvalidArgument(f"{what} must be text")
    text = value.strip()
    if not 1 <= len(text) <= NAME_MAX_CHARS or any(unicodedata.category(c) == "Cc" for c in text):
        raise InvalidArgument(
            f"{what} must be 1 to {NAME_MAX_CHARS} characters, no control characters"
        )
    return text


def _check_plan(plan: object) -> TimerPlan:
    if not isinstance(plan, TimerPlan):
        raise InvalidArgument("plan must be a TimerPlan")
    # The wire's Plan carries whole seconds; a fractional plan could not be shown to clients.
    if not (float(plan.focus_s).is_integer() and float(plan.break_s).is_integer()):
        raise InvalidArgument("plan lengths must be whole seconds")
    return plan


def _check_boss(kind: object) -> BossKind:
    try:
        if not isinstance(kind, str):
            raise ValueError(kind)
        return BossKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in BossKind)
        raise InvalidArgument(f"unknown boss kind; known kinds: {known}") from None


# --------------------------------------------------------------------------- the room


class Room:
    """The authority of one study room. See the module docstring for the rules it applies."""

    # -- construction ------------------------------------------------------------------------

    def __init__(
        self,
        *,
        room_id: str,
        name: str,
        subject: str,
        host_id: str,
        host_name: str,
        now: float,
        new_id: Callable[[], str],
        plan: TimerPlan | None = None,
        boss_kind: BossKind | str = DEFAULT_BOSS,
        max_members: int = DEFAULT_MAX_MEMBERS,
        reconnect_grace_s: float = DEFAULT_RECONNECT_GRACE_S,
        tick_hz: float = DEFAULT_TICK_HZ,
        ghost_frame_interval_ms: int = FRAME_INTERVAL_MS,
    ) -> None:
        """A room in the lobby whose creator is seated as host in slot 0.

        ``ghost_frame_interval_ms`` is the frame spacing of the ghosts recorded here (default
        100 ms, 10 Hz); recording costs ~12 µs a kept frame, so 200 ms halves that cost.
        """
        t = _check_now(now)
        self._setup(
            room_id=room_id,
            name=name,
            subject=subject,
            plan=TimerPlan() if plan is None else plan,
            boss_kind=boss_kind,
            max_members=max_members,
            reconnect_grace_s=reconnect_grace_s,
            tick_hz=tick_hz,
            ghost_frame_interval_ms=ghost_frame_interval_ms,
            new_id=new_id,
        )
        self._host_id = _check_id(host_id, "host id")
        self._last_now = t
        self.created_at = t
        self._seat_person(host_id, _check_username(host_name, "host name"), t)

    def _setup(
        self,
        *,
        room_id: str,
        name: str,
        subject: str,
        plan: TimerPlan,
        boss_kind: BossKind | str,
        max_members: int,
        reconnect_grace_s: float,
        tick_hz: float,
        ghost_frame_interval_ms: int,
        new_id: Callable[[], str],
    ) -> None:
        if not isinstance(room_id, str) or not _ROOM_ID_RE.fullmatch(room_id):
            raise InvalidArgument("room id must be 4 to 36 letters, digits, '_' or '-'")
        if (
            isinstance(max_members, bool)
            or not isinstance(max_members, int)
            or not 1 <= max_members <= MAX_ROOM_MEMBERS
        ):
            raise InvalidArgument(f"max_members must be an integer in 1..{MAX_ROOM_MEMBERS}")
        if (
            isinstance(reconnect_grace_s, bool)
            or not isinstance(reconnect_grace_s, int | float)
            or not 0.0 <= reconnect_grace_s < math.inf
        ):
            raise InvalidArgument("reconnect_grace_s must be a finite, non-negative number")
        if (
            isinstance(tick_hz, bool)
            or not isinstance(tick_hz, int | float)
            or not 0.0 < tick_hz <= MAX_TICK_HZ
        ):
            raise InvalidArgument(f"tick_hz must be in (0, {MAX_TICK_HZ:g}]")
        if (
            isinstance(ghost_frame_interval_ms, bool)
            or not isinstance(ghost_frame_interval_ms, int)
            or not 1 <= ghost_frame_interval_ms <= MAX_FRAME_INTERVAL_MS
        ):
            raise InvalidArgument(
                f"ghost_frame_interval_ms must be an integer in 1..{MAX_FRAME_INTERVAL_MS}"
            )
        self.room_id: str = room_id
        self.name: str = _check_text(name, "room name")
        self.subject: str = _check_text(subject, "subject")
        self.boss_kind: BossKind = _check_boss(boss_kind)
        self.plan: TimerPlan = _check_plan(plan)
        self.max_members: int = max_members
        self.reconnect_grace_s: float = float(reconnect_grace_s)
        self.tick_hz: float = float(tick_hz)
        self.ghost_frame_interval_ms: int = ghost_frame_interval_ms
        self._new_id = new_id
        self.stats = FrameStats()
        """Frame counters since the room was created (or restored)."""
        self.version = 0
        """Bumped on every change a snapshot would show; the manager persists on change."""
        self.created_at = 0.0
        """Epoch seconds when the room was opened (the room browser lists newest first)."""
        self._streaks: dict[str, int] = {}
        """Each person's streak in days after the finished session was credited (results)."""

        self._host_id = ""
        self._seats: dict[str, Seat] = {}
        self._joined = 0
        self._timer = RoomTimer(plan=self.plan)
        self._battle: Battle | None = None
        self._participants: dict[str, Participant] = {}
        self._names: dict[str, str] = {}
        """Username of every battle member, seated or not (results outlive seats)."""
        self._last_now = 0.0
        self._session_started_at: float | None = None
        self._session_end_s: float | None = None
        self._battle_f = 0.0
        """Focus time (timer.focus_elapsed) the battle has been advanced through."""
        self._recorded_timer: tuple[object, ...] = ()
        self._concluded_at: float | None = None
        self._closed = False

        self._tick_no = 0
        self._pending_freed: list[str] = []
        self._pending_finished: FinishedSession | None = None
        self._state_dirty = True
        self._attention_dirty = False
        self._attention_sent_at = -math.inf
        self._timer_key_sent: tuple[object, ...] | None = None
        self._battle_seen: Battle | None = None
        self._battle_sig_sent: tuple[object, ...] | None = None
        self._battle_unsent = False
        self._battle_sent_at = -math.inf
        self._emit_every = max(1, math.ceil(EMIT_INTERVAL_S * self.tick_hz - 1e-9))
        self._emit_phase = zlib.crc32(room_id.encode()) % self._emit_every

    # -- queries -----------------------------------------------------------------------------

    @property
    def host_id(self) -> str:
        """Member id of the host."""
        return self._host_id

    @property
    def phase(self) -> Phase:
        """The timer's phase as of the last call or tick."""
        return self._timer.phase

    @property
    def timer(self) -> RoomTimer:
        """The room timer as of the last call or tick."""
        return self._timer

    @property
    def battle(self) -> Battle | None:
        """The boss fight (``None`` in the lobby)."""
        return self._battle

    @property
    def closed(self) -> bool:
        """No person is left; the room takes no more calls."""
        return self._closed

    @property
    def concluded_at(self) -> float | None:
        """When the session ended (epoch seconds), once it has."""
        return self._concluded_at

    @property
    def tick_interval(self) -> float:
        """Seconds between two ticks at this room's rate."""
        return 1.0 / self.tick_hz

    def person_ids(self) -> tuple[str, ...]:
        """User ids of the people seated (connected or within their grace window)."""
        return tuple(s.member_id for s in self._seats.values() if not s.is_ghost)

    def member(self, member_id: str) -> Member:
        """The wire view of one seat; :class:`NotMember` if there is none."""
        seat = self._seats.get(member_id)
        if seat is None:
            raise NotMember(f"{member_id!r} has no seat in this room")
        return seat.view()

    def __len__(self) -> int:
        """Seats taken, people and ghosts."""
        return len(self._seats)

    def joinable(self) -> bool:
        """Open, with a free seat, and not showing results: someone new could join now."""
        return (
            not self._closed
            and self._timer.phase is not Phase.RESULTS
            and self._concluded_at is None
            and len(self._seats) < self.max_members
        )

    def listing(self) -> RoomListing:
        """The room as the room browser shows it."""
        host = self._seats.get(self._host_id)
        return RoomListing(
            room_id=self.room_id,
            name=self.name,
            subject=self.subject,
            host_id=self._host_id,
            host_username=host.username if host is not None else "unknown",
            people=sum(1 for s in self._seats.values() if not s.is_ghost),
            capacity=self.max_members,
            phase=self._timer.phase,
            boss_kind=self.boss_kind.value,
            created_at=self.created_at,
        )

    # -- membership --------------------------------------------------------------------------

    def join(self, user_id: str, username: str, now: float) -> Member:
        """Take a seat (lowest free slot), or one's own seat back within the grace window.

        Joining a running session adds the person to the battle (the boss gains HP for the
        focus time left); joining when the results show only takes a seat.
        """
        t = self._time(now)
        self._check_open()
        _check_id(user_id, "user id")
        _check_username(username)
        seat = self._seats.get(user_id)
        if seat is not None and not self._expired(seat, t):
            if seat.is_ghost:
                raise InvalidArgument(f"{user_id!r} is a ghost's member id")
            self._reclaim(seat, t)
            return seat.view()
        self._expire_seats(t)
        self._check_open()
        if len(self._seats) >= self.max_members:
            raise RoomFull(f"all {self.max_members} seats are taken")
        view = self._timer.advance(t)
        battle = self._battle
        joins_battle = (
            view.phase in RUNNING_PHASES
            and battle is not None
            and battle.stage is not Stage.OVER
            and not any(m.member_id == user_id for m in battle.members)
        )
        if joins_battle and battle is not None and len(battle.members) >= MAX_ROOM_MEMBERS:
            raise RoomFull(f"this session's roster already has {MAX_ROOM_MEMBERS} members")
        self._last_now = t
        seat = self._seat_person(user_id, username, t)
        if view.phase in RUNNING_PHASES and self._battle is not None:
            self._advance_battle(t, force=True)
            if joins_battle:
                remaining = self.plan.planned_focus_s - view.focus_elapsed(t)
                self._battle = self._battle.join(user_id, remaining_focus_s=max(remaining, 0.0))
                self._names[user_id] = username
            seat.participant = self._participate(user_id, username, t, view)
        return seat.view()

    def leave(self, user_id: str, now: float) -> None:
        """Give up one's seat at once; the host's role passes on; the last person closes the room."""
        t = self._time(now)
        self._check_open()
        seat = self._person_seat(user_id)
        self._last_now = t
        self._free_seat(seat, t)

    def disconnect(self, user_id: str, now: float) -> None:
        """The person's connection dropped: keep the seat for the grace window."""
        t = self._time(now)
        self._check_open()
        seat = self._person_seat(user_id)
        if not seat.connected:
            return
        self._last_now = t
        self._advance_battle(t, force=True)
        seat.connected = False
        seat.expires_at = t + self.reconnect_grace_s
        seat.pending = None
        self._mark(seat, Attention.UNCERTAIN, seat.asleep, t)
        self._changed()

    def reconnect(self, user_id: str, now: float) -> Member:
        """Take one's held seat back (same seat, slot and session); :class:`NotMember` after grace."""
        t = self._time(now)
        self._check_open()
        seat = self._person_seat(user_id)
        if self._expired(seat, t):
            raise NotMember(f"{user_id!r}'s seat was given up after {self.reconnect_grace_s:g} s")
        self._reclaim(seat, t)
        return seat.view()

    # -- host controls -----------------------------------------------------------------------

    def start(self, user_id: str, now: float) -> None:
        """Host: leave the lobby; the battle starts with everyone seated, people and ghosts."""
        t = self._time(now)
        self._check_host(user_id)
        if self._timer.phase is not Phase.LOBBY:
            raise IllegalState(f"the room is in {self._timer.phase}, not the lobby")
        people = [s for s in self._seats.values() if not s.is_ghost]
        ghosts = [s for s in self._seats.values() if s.is_ghost]
        try:
            battle = Battle.start(
                planned_focus_s=self.plan.planned_focus_s,
                humans=[s.member_id for s in people],
                ghosts=[s.member_id for s in ghosts],
                kind=self.boss_kind,
            )
            timer = self._timer.start(t)
        except (TimerError, ValueError) as exc:
            raise IllegalState(f"cannot start: {exc}") from None
        self._last_now = t
        self._timer = timer
        self._battle = battle
        self._battle_f = 0.0
        self._session_started_at = t
        self._names = {s.member_id: s.username for s in (*people, *ghosts)}
        for seat in people:
            seat.participant = self._participate(seat.member_id, seat.username, t, timer)
        self._changed()

    def pause(self, user_id: str, now: float) -> None:
        """Host: hold the pause reason ``host`` (focus or break)."""
        t = self._time(now)
        self._check_host(user_id)
        timer = self._timer_event(lambda: self._timer.pause(t, HOST_REASON))
        self._last_now = t
        self._timer = timer
        self._changed()

    def resume(self, user_id: str, now: float) -> None:
        """Host: release ``host``; the clock runs again once no other reason holds."""
        t = self._time(now)
        self._check_host(user_id)
        timer = self._timer_event(lambda: self._timer.resume(t, HOST_REASON))
        self._last_now = t
        self._timer = timer
        self._changed()

    def finish(self, user_id: str, now: float) -> None:
        """Host: end the session early; focus time up to ``now`` counts."""
        t = self._time(now)
        self._check_host(user_id)
        if self._timer.advance(t).phase not in RUNNING_PHASES:
            raise IllegalState(f"no session is running (the room is in {self._timer.phase})")
        self._last_now = t
        self._end_session(t)

    def add_ghost(
        self,
        user_id: str,
        ghost_id: str,
        recording: GhostRecording | None,
        owner_name: str,
        now: float,
    ) -> Member:
        """Host, lobby only: seat a recorded session as a ghost (``None``: :class:`UnknownGhost`)."""
        t = self._time(now)
        self._check_host(user_id)
        _check_id(ghost_id, "ghost id")
        if recording is None:
            raise UnknownGhost(f"no recording {ghost_id!r}")
        if not isinstance(recording, GhostRecording):
            raise InvalidArgument("recording must be a GhostRecording")
        _check_username(owner_name, "ghost owner name")
        if self._timer.phase is not Phase.LOBBY:
            raise IllegalState("ghosts can only be added in the lobby")
        if any(s.ghost is not None and s.ghost.ghost_id == ghost_id for s in self._seats.values()):
            raise GhostAlreadySeated(f"recording {ghost_id!r} is already seated")
        if len(self._seats) >= self.max_members:
            raise RoomFull(f"all {self.max_members} seats are taken")
        member_id = _check_id(self._new_id(), "new ghost member id")
        if member_id in self._seats:
            raise InvalidArgument(f"the id factory repeated {member_id!r}")
        self._last_now = t
        segment = recording.segment_at(0.0)
        seat = Seat(
            member_id=member_id,
            username=owner_name,
            slot=self._free_slot(),
            joined=self._next_joined(),
            is_ghost=True,
            attention=segment.attention,
            asleep=segment.asleep,
            ghost=GhostReplay(ghost_id=ghost_id, recording=recording),
        )
        self._seats[member_id] = seat
        self._changed()
        return seat.view()

    # -- frames ------------------------------------------------------------------------------

    def accept_frame(self, user_id: str, data: bytes | bytearray | memoryview, now: float) -> None:
        """Take one face frame from a connected person (see the module docstring)."""
        t = self._time(now)
        seat = self._seats.get(user_id)
        if seat is None or seat.is_ghost or not seat.connected or self._closed:
            raise NotMember(f"{user_id!r} has no connected seat in this room")
        stats = self.stats
        try:
            seq, sample, shapes, conf_byte = decode_relay_frame(data, t)
        except CodecError as exc:
            stats.dropped += 1
            raise InvalidFrame(str(exc)) from None
        last_seq = seat.last_seq
        if last_seq is not None and not seq_newer(seq, last_seq):
            stats.dropped += 1
            raise OutOfOrder(f"frame seq {seq} is not newer than {last_seq}")
        analyzer = seat.analyzer
        assert analyzer is not None  # every person's seat has one
        # update_attention(): the same analysis as update() without the FrameResult we'd discard.
        attention = analyzer.update_attention(sample)
        # Accepted: from here on nothing can fail.
        self._last_now = t
        stats.accepted += 1
        if seat.pending is not None:
            stats.superseded += 1
        seat.pending = data if isinstance(data, bytes) else bytes(data)
        seat.last_seq = seq
        seat.last_frame_at = t
        asleep = analyzer.state is GuardState.ASLEEP
        if attention is not seat.attention or asleep is not seat.asleep:
            self._mark(seat, attention, asleep, t)
        participant = seat.participant
        if (
            participant is not None
            and participant.recorder is not None
            and t >= participant.next_rec_at
        ):
            self._record_frame(participant, sample, shapes, conf_byte, t)

    def _record_frame(
        self, participant: Participant, sample: FaceSample, shapes: bytes, conf_byte: int, t: float
    ) -> None:
        """Offer an accepted frame to the member's ghost recording (one per frame slot).

        ``shapes`` and ``conf_byte`` are the frame's blendshape and confidence bytes as sent,
        ``sample`` its decoded sample (for the pose and presence)."""
        recorder = participant.recorder
        assert recorder is not None
        view = self._timer.advance(t)
        if view.phase not in RUNNING_PHASES:
            return
        s = self._session_time(view, t)
        offset = s - participant.record_t0
        if not 0.0 <= offset <= RECORD_CAP_S:
            return
        interval_ms = self.ghost_frame_interval_ms
        slot = round(offset * 1000.0) // interval_ms
        # The session clock never runs faster than the room's, so no frame before this room
        # time can open a new slot: later frames skip the timer arithmetic until then.
        participant.next_rec_at = t + ((slot + 1) * interval_ms - 0.5) / 1000.0 - offset
        if slot <= participant.last_rec_slot:
            return
        participant.last_rec_slot = slot
        try:  # noqa: SIM105 - suppress() costs ~1.5 µs per frame on the relay hot path
            # The frame is already quantised: hand its bytes over as they are (the confidence
            # byte is what quantize() of its decoded value gives back, for every byte).
            recorder.add_quantized(
                s,
                shapes,
                (
                    round(sample.yaw * POSE_STEPS_PER_DEG),
                    round(sample.pitch * POSE_STEPS_PER_DEG),
                    round(sample.roll * POSE_STEPS_PER_DEG),
                ),
                conf_byte,
                sample.present,
            )
        except GhostRecorderError:
            pass  # a recording that refuses an input keeps what it has; the session goes on

    # -- the tick ----------------------------------------------------------------------------

    def tick(self, now: float) -> TickOutput:
        """Advance the room to ``now`` and say what to send (see :class:`TickOutput`)."""
        t = self._time(now)
        self._last_now = t
        if not self._closed:
            self._expire_seats(t)
        if not self._closed:
            advanced = self._timer.advance(t)
            if advanced is not self._timer:
                self._timer = advanced
                self.version += 1
            self._refresh_stale(t)
            self._apply_sleep_policy(t)
            self._advance_battle(t, force=False)
            if self._timer.phase is Phase.RESULTS and self._concluded_at is None:
                self._end_session(t)
            timer = self._timer
            if (timer.phase, timer.round_index, timer.pause_reasons) != self._recorded_timer:
                # Pin the damage curve where phases change, so a flat break stays flat.
                self._recorded_timer = (timer.phase, timer.round_index, timer.pause_reasons)
                self._record_damage(t)
            self._replay_ghosts(t)
        return self._output(t)

    # -- views -------------------------------------------------------------------------------

    def state_view(self) -> RoomState:
        """``room:state``: settings and seats."""
        return RoomState(
            room_id=self.room_id,
            name=self.name,
            subject=self.subject,
            host_id=self._host_id,
            phase=self._timer.phase,
            members=tuple(s.view() for s in sorted(self._seats.values(), key=_slot_of)),
            max_members=self.max_members,
            plan=Plan(
                focus_s=int(self.plan.focus_s),
                break_s=int(self.plan.break_s),
                rounds=self.plan.rounds,
            ),
            boss_kind=self.boss_kind.value,
        )

    def timer_view(self, now: float) -> TimerState:
        """``timer`` at ``now``: times in epoch ms, round 1-based (0 in the lobby)."""
        t = self._time(now)
        timer = self._timer.advance(t)
        return TimerState(
            room_id=self.room_id,
            phase=timer.phase,
            round=0 if timer.phase is Phase.LOBBY else timer.round_index + 1,
            rounds=self.plan.rounds,
            end_time=None if timer.end_time is None else _ms(timer.end_time),
            server_time=_ms(t),
            paused=timer.paused,
            pause_reasons=tuple(sorted(timer.pause_reasons)),
            remaining_ms=_ms(timer.remaining(t)),
        )

    def battle_view(self, now: float) -> BattleState | None:
        """``battle`` at ``now`` (``None`` before the session starts)."""
        battle = self._battle
        if battle is None:
            return None
        t = self._time(now)
        return BattleState(
            room_id=self.room_id,
            boss_kind=battle.boss_kind.value,
            boss_hp=battle.boss_hp,
            boss_max_hp=battle.boss_max_hp,
            dps=battle.dps,
            penalty=battle.penalty,
            members=tuple(
                BattleMember(
                    member_id=m.member_id,
                    damage=m.damage,
                    dps=m.dps,
                    penalty=m.penalty,
                    is_ghost=m.is_ghost,
                    asleep=m.asleep,
                )
                for m in battle.members
            ),
            outcome=battle.outcome,
            server_time=_ms(t),
        )

    def results_view(self) -> Results | None:
        """``room:results`` once the session has ended, else ``None``."""
        battle = self._battle
        if battle is None or battle.stage is not Stage.OVER:
            return None
        final = battle.results()
        return Results(
            room_id=self.room_id,
            boss_kind=final.boss_kind.value,
            outcome=final.outcome,
            members=tuple(
                MemberResult(
                    member_id=m.member_id,
                    username=self._names.get(m.member_id, "unknown"),
                    is_ghost=m.is_ghost,
                    damage=m.damage,
                    share=min(max(m.share, 0.0), 1.0),
                    focused_seconds=m.focused_s,
                    xp=m.xp,
                    streak_days=None if m.is_ghost else self._streaks.get(m.member_id),
                )
                for m in final.members
            ),
            mvp=final.mvp,
        )

    def set_streaks(self, streaks: Mapping[str, int]) -> Results | None:
        """Record each person's streak (days, the finished session credited) for the results,
        and return the results that now carry them (``None`` before the session has ended)."""
        self._streaks.update(
            {k: v for k, v in streaks.items() if isinstance(v, int) and not isinstance(v, bool)}
        )
        self.version += 1  # the next snapshot keeps them for late joiners after a restart
        return self.results_view()

    # -- ending ------------------------------------------------------------------------------

    def close(self, now: float) -> None:
        """Close the room now (the manager retires finished rooms); a running session ends."""
        t = self._time(now)
        if self._closed:
            return
        self._last_now = t
        if self._battle is not None and self._concluded_at is None:
            self._end_session(t)
        self._closed = True
        self._changed()

    # -- snapshots ---------------------------------------------------------------------------

    def snapshot(self) -> Json:
        """The room as plain JSON, for crash recovery (see :meth:`restore`)."""
        members: list[Json] = []
        for s in sorted(self._seats.values(), key=_slot_of):
            members.append(
                {
                    "member_id": s.member_id,
                    "username": s.username,
                    "slot": s.slot,
                    "joined": s.joined,
                    "is_ghost": s.is_ghost,
                    "connected": s.connected,
                    "expires_at": s.expires_at,
                    "ghost_id": None if s.ghost is None else s.ghost.ghost_id,
                    "ghost_delivered": 0.0 if s.ghost is None else s.ghost.delivered,
                }
            )
        participants: list[Json] = []
        for p in self._participants.values():
            seat = self._seats.get(p.user_id)
            episodes = self._episodes(
                p, seat if seat is not None and seat.participant is p else None
            )
            participants.append(
                {
                    "user_id": p.user_id,
                    "username": p.username,
                    "started_at": p.started_at,
                    "record_t0": p.record_t0,
                    "recording": p.recorder is not None,
                    "left_at": p.left_at,
                    "left_s": p.left_s,
                    "episodes": [[a, b] for a, b in episodes],
                }
            )
        return {
            "version": SNAPSHOT_VERSION,
            "room_id": self.room_id,
            "name": self.name,
            "subject": self.subject,
            "boss_kind": self.boss_kind.value,
            "max_members": self.max_members,
            "reconnect_grace_s": self.reconnect_grace_s,
            "tick_hz": self.tick_hz,
            "ghost_frame_interval_ms": self.ghost_frame_interval_ms,
            "host_id": self._host_id,
            "plan": plan_to_dict(self.plan),
            "timer": timer_to_dict(self._timer),
            "battle": None if self._battle is None else battle_to_dict(self._battle),
            "battle_focus_s": self._battle_f,
            "session_started_at": self._session_started_at,
            "session_end_s": self._session_end_s,
            "concluded_at": self._concluded_at,
            "joined": self._joined,
            "names": dict(self._names),
            "streaks": dict(self._streaks),
            "created_at": self.created_at,
            "members": members,
            "participants": participants,
        }

    @classmethod
    def restore(
        cls,
        snapshot: object,
        now: float,
        load_ghost: Callable[[str], GhostRecording | None],
        *,
        new_id: Callable[[], str],
    ) -> Room:
        """The room in ``snapshot`` at ``now``: timer and battle exactly as stored, people
        disconnected with a fresh grace window, ghosts reloaded through ``load_ghost`` (a ghost
        whose recording is gone loses its seat but keeps its results line). Raises
        :class:`CorruptSnapshot` for anything malformed or self-contradictory."""
        t = _check_now(now)
        r = Reader(snapshot)
        if r.int_("version") != SNAPSHOT_VERSION:
            raise CorruptSnapshot(f"snapshot version must be {SNAPSHOT_VERSION}")
        room = cls.__new__(cls)
        plan = plan_from(r.obj("plan"))
        try:
            room._setup(
                room_id=r.str_("room_id"),
                name=r.str_("name"),
                subject=r.str_("subject"),
                plan=plan,
                boss_kind=r.str_("boss_kind"),
                max_members=r.int_("max_members"),
                reconnect_grace_s=r.float_("reconnect_grace_s"),
                tick_hz=r.float_("tick_hz"),
                ghost_frame_interval_ms=r.int_("ghost_frame_interval_ms"),
                new_id=new_id,
            )
        except InvalidArgument as exc:
            raise CorruptSnapshot(f"corrupt room settings: {exc.message}") from None
        # Snapshots written before rooms kept their opening time or streaks have neither.
        room.created_at = (r.opt_float("created_at") if r.has("created_at") else None) or t
        room._restore_state(r, t, load_ghost)
        if r.has("streaks"):
            streaks_r = r.obj("streaks")
            room._streaks = {mid: streaks_r.int_(mid) for mid in room._names if streaks_r.has(mid)}
        return room

    # -- internals: time and checks ------------------------------------------------------------

    def _time(self, now: float) -> float:
        return max(_check_now(now), self._last_now)

    def _check_open(self) -> None:
        if self._closed:
            raise IllegalState("the room is closed")

    def _person_seat(self, user_id: str) -> Seat:
        seat = self._seats.get(user_id)
        if seat is None or seat.is_ghost:
            raise NotMember(f"{user_id!r} has no seat in this room")
        return seat

    def _check_host(self, user_id: str) -> None:
        self._check_open()
        seat = self._person_seat(user_id)
        if seat.member_id != self._host_id:
            raise NotHost("only the host can do that")

    def _timer_event(self, event: Callable[[], RoomTimer]) -> RoomTimer:
        try:
            return event()
        except TimerError as exc:
            raise IllegalState(str(exc)) from None

    def _expired(self, seat: Seat, t: float) -> bool:
        return seat.expires_at is not None and seat.expires_at <= t

    def _changed(self) -> None:
        self.version += 1
        self._state_dirty = True

    def _next_joined(self) -> int:
        self._joined += 1
        return self._joined

    def _free_slot(self) -> int:
        taken = {s.slot for s in self._seats.values()}
        for slot in range(MAX_SLOT + 1):
            if slot not in taken:
                return slot
        raise RoomFull("no free slot")  # unreachable: max_members <= 16

    # -- internals: seats ----------------------------------------------------------------------

    def _seat_person(self, user_id: str, username: str, t: float) -> Seat:
        seat = Seat(
            member_id=user_id,
            username=username,
            slot=self._free_slot(),
            joined=self._next_joined(),
            analyzer=FocusAnalyzer(subject=self.subject),
        )
        self._seats[user_id] = seat
        self._changed()
        return seat

    def _reclaim(self, seat: Seat, t: float) -> None:
        """The person is back (new connection): same seat, slot and session; a fresh frame stream."""
        self._last_now = t
        if not seat.connected:
            self._advance_battle(t, force=True)
        seat.connected = True
        seat.expires_at = None
        seat.last_seq = None
        seat.pending = None
        self._changed()

    def _participate(self, user_id: str, username: str, t: float, timer: RoomTimer) -> Participant:
        """The person's participant record in the running session (a returning one resumes)."""
        p = self._participants.get(user_id)
        if p is not None:
            p.left_at = None
            p.left_s = None
            return p
        s = self._session_time(timer, t)
        recorder: GhostRecorder | None
        try:
            recorder = GhostRecorder(
                user_id=user_id,
                user_name=username,
                subject=self.subject,
                started_at=t,
                t0=s,
                frame_interval_ms=self.ghost_frame_interval_ms,
            )
        except (GhostRecorderError, ValueError):
            recorder = None
        p = Participant(
            user_id=user_id, username=username, started_at=t, record_t0=s, recorder=recorder
        )
        self._participants[user_id] = p
        return p

    def _free_seat(self, seat: Seat, t: float) -> None:
        """Remove a person's seat: harvest their session data, pass the host on, maybe close."""
        running = self._battle is not None and self._concluded_at is None
        if running:
            self._advance_battle(t, force=True)
        del self._seats[seat.member_id]
        p = seat.participant
        if p is not None and self._concluded_at is None:
            self._mark(seat, Attention.UNCERTAIN, False, t)  # the recording shows them gone
            p.episodes = self._episodes(p, seat)
            p.left_at = t
            p.left_s = self._session_time(self._timer.advance(t), t)
        people = sorted((s for s in self._seats.values() if not s.is_ghost), key=_joined_of)
        if not people:
            if running:
                self._end_session(t)
            self._closed = True
        elif seat.member_id == self._host_id:
            connected = [s for s in people if s.connected]
            self._host_id = (connected or people)[0].member_id
        self._changed()

    def _expire_seats(self, t: float) -> None:
        for seat in [s for s in self._seats.values() if self._expired(s, t)]:
            if self._closed:
                return
            self._pending_freed.append(seat.member_id)
            self._free_seat(seat, t)

    # -- internals: attention and recording ----------------------------------------------------

    def _mark(self, seat: Seat, attention: Attention, asleep: bool, t: float) -> None:
        """Set a seat's attention and sleep; note the change for room:state and the recording."""
        if asleep is not seat.asleep:
            self._state_dirty = True
        elif attention is not seat.attention:
            self._attention_dirty = True
        else:
            return
        seat.attention = attention
        seat.asleep = asleep
        p = seat.participant
        if p is not None and p.recorder is not None and p.left_s is None:
            view = self._timer.advance(t)
            if view.phase in RUNNING_PHASES:
                s = self._session_time(view, t)
                if s - p.record_t0 <= RECORD_CAP_S:
                    with _recording_guard():
                        p.recorder.mark(s, attention, asleep)

    def _refresh_stale(self, t: float) -> None:
        for seat in self._seats.values():
            if (
                not seat.is_ghost
                and seat.connected
                and seat.attention is not Attention.UNCERTAIN
                and (seat.last_frame_at is None or t - seat.last_frame_at > FRAME_STALE_S)
            ):
                self._mark(seat, Attention.UNCERTAIN, seat.asleep, t)

    def _record_damage(self, t: float) -> None:
        battle = self._battle
        if battle is None or not self._participants:
            return
        timer = self._timer.advance(t)
        if timer.phase not in RUNNING_PHASES:
            return
        s = self._session_time(timer, t)
        damage = {m.member_id: m.damage for m in battle.members}
        for p in self._participants.values():
            if p.recorder is not None and p.left_s is None and s - p.record_t0 <= RECORD_CAP_S:
                with _recording_guard():
                    p.recorder.record_damage(s, damage.get(p.user_id, 0.0))

    def _episodes(self, p: Participant, seat: Seat | None) -> list[tuple[float, float]]:
        """The participant's confusion episodes within the session (clipped to when they joined)."""
        found = list(p.episodes)
        if seat is not None and seat.analyzer is not None:
            for e in seat.analyzer.confusion_episodes:
                if e.end > p.started_at:
                    found.append((max(e.start, p.started_at), e.end))
        return found

    # -- internals: timer, battle, ghosts ------------------------------------------------------

    def _session_time(self, timer: RoomTimer, t: float) -> float:
        """The session clock S at ``t`` for a caught-up ``timer`` (see the module docstring)."""
        phase = timer.phase
        if phase is Phase.LOBBY:
            return 0.0
        plan = self.plan
        if phase is Phase.RESULTS:
            return plan.total_s if self._session_end_s is None else self._session_end_s
        r = timer.round_index
        if phase is Phase.FOCUS:
            return r * (plan.focus_s + plan.break_s) + plan.focus_s - timer.remaining(t)
        return (r + 1) * plan.focus_s + r * plan.break_s + plan.break_s - timer.remaining(t)

    def _apply_sleep_policy(self, t: float) -> None:
        timer = self._timer
        awake_or_asleep = [s.asleep for s in self._seats.values() if not s.is_ghost and s.connected]
        want = timer.phase is Phase.FOCUS and bool(awake_or_asleep) and all(awake_or_asleep)
        held = ASLEEP_REASON in timer.pause_reasons
        if want and not held:
            self._advance_battle(t, force=True)
            self._timer = timer.pause(t, ASLEEP_REASON)
            self.version += 1
        elif held and not want:
            self._timer = timer.resume(t, ASLEEP_REASON)
            self.version += 1

    def _statuses(self, t: float, battle: Battle) -> dict[str, MemberStatus]:
        ids = {m.member_id for m in battle.members if not m.is_ghost}
        out: dict[str, MemberStatus] = {}
        for seat in self._seats.values():
            if seat.is_ghost or not seat.connected or seat.member_id not in ids:
                continue
            fresh = seat.last_frame_at is not None and t - seat.last_frame_at <= FRAME_STALE_S
            attention = seat.attention if fresh else Attention.UNCERTAIN
            out[seat.member_id] = _STATUSES[(attention, seat.asleep)]
        return out

    def _advance_battle(self, t: float, *, force: bool) -> None:
        """Advance the battle through the focus time since the last step (see the docstring)."""
        battle = self._battle
        if battle is None or battle.stage is Stage.OVER:
            return
        timer = self._timer.advance(t)
        f_now = timer.focus_elapsed(t)
        pending = f_now - self._battle_f
        if pending <= 0.0:
            return
        if (
            not force
            and timer.phase is Phase.FOCUS
            and not timer.paused
            and pending < BATTLE_STEP_S
        ):
            return
        statuses = self._statuses(t, battle)
        s = self._session_time(timer, t)
        ghost_ids = {m.member_id for m in battle.members if m.is_ghost}
        owed: list[tuple[str, GhostReplay, float]] = []
        for seat in self._seats.values():
            g = seat.ghost
            if g is not None and seat.member_id in ghost_ids:
                owed.append((seat.member_id, g, max(g.recording.damage_at(s) - g.delivered, 0.0)))
        chunks = max(1, math.ceil(pending / MAX_TICK_S))
        dt = pending / chunks
        cap = MAX_GHOST_DPS * dt
        for _ in range(chunks):
            for i, (member_id, g, left) in enumerate(owed):
                give = min(left, cap)
                g.delivered += give
                owed[i] = (member_id, g, left - give)
                statuses[member_id] = GhostStatus(give)
            battle, _ = battle.tick(dt, statuses)
        self._battle = battle
        self._battle_f = f_now
        self.version += 1
        self._record_damage(t)

    def _replay_ghosts(self, t: float) -> None:
        ghosts = [s for s in self._seats.values() if s.ghost is not None]
        if not ghosts:
            return
        s = self._session_time(self._timer, t)
        for seat in ghosts:
            g = seat.ghost
            assert g is not None
            rec = g.recording
            segment = rec.segment_at(s)
            if segment.attention is not seat.attention or segment.asleep is not seat.asleep:
                self._mark(seat, segment.attention, segment.asleep, t)
            frame = rec.frame_at(s)
            if frame is not None and frame.t_ms != g.sent_ms:
                g.sent_ms = frame.t_ms
                seat.pending = g.frame_bytes(frame)

    def _end_session(self, t: float) -> None:
        """Finish a running session (or conclude one the timer finished): battle, records, results."""
        view = self._timer.advance(t)
        if view.phase in RUNNING_PHASES:
            self._session_end_s = self._session_time(view, t)
            self._advance_battle(t, force=True)
            view = view.finish(t)
        elif view.phase is Phase.RESULTS and self._session_end_s is None:
            self._session_end_s = self.plan.total_s
        self._timer = view
        battle = self._battle
        if battle is None or self._concluded_at is not None:
            return
        self._advance_battle(t, force=True)
        battle = self._battle
        assert battle is not None
        if battle.stage is not Stage.OVER:
            battle = battle.finish()
            self._battle = battle
        self._concluded_at = t
        results = self.results_view()
        assert results is not None
        self._pending_finished = FinishedSession(
            room_id=self.room_id,
            subject=self.subject,
            started_at=self._session_started_at if self._session_started_at is not None else t,
            ended_at=t,
            outcome=battle.outcome,
            records=self._records(t, battle),
            results=results,
        )
        for seat in self._seats.values():
            seat.participant = None
        self._participants = {}
        self._changed()

    def _records(self, t: float, battle: Battle) -> tuple[SessionRecord, ...]:
        final = {m.member_id: m for m in battle.results().members}
        end_s = self._session_end_s if self._session_end_s is not None else self.plan.total_s
        out: list[SessionRecord] = []
        for p in self._participants.values():
            seat = self._seats.get(p.user_id)
            episodes = self._episodes(
                p, seat if seat is not None and seat.participant is p else None
            )
            result = final.get(p.user_id)
            damage = result.damage if result is not None else 0.0
            stop = min((p.left_s if p.left_s is not None else end_s), p.record_t0 + RECORD_CAP_S)
            ghost: GhostRecording | None = None
            if p.recorder is not None:
                if p.left_s is None:
                    with _recording_guard():
                        p.recorder.record_damage(stop, damage)
                try:
                    ghost = p.recorder.finish(max(stop, p.record_t0))
                except GhostRecorderError:
                    ghost = None
            out.append(
                SessionRecord(
                    session_id=self._new_id(),
                    user_id=p.user_id,
                    username=p.username,
                    room_id=self.room_id,
                    subject=self.subject,
                    started_at=p.started_at,
                    ended_at=p.left_at if p.left_at is not None else t,
                    focused_seconds=result.focused_s if result is not None else 0.0,
                    damage=damage,
                    xp=result.xp if result is not None else 0,
                    outcome=battle.outcome,
                    confusion=tuple(episodes),
                    ghost=ghost,
                )
            )
        return tuple(out)

    # -- internals: output ---------------------------------------------------------------------

    def _output(self, t: float) -> TickOutput:
        frames: bytes | None = None
        if not self._closed:
            entries: list[tuple[int, bytes]] = []
            for s in sorted(self._seats.values(), key=_slot_of):
                if s.pending is not None:
                    entries.append((s.slot, s.pending))
            if entries:
                frames = encode_batch(self._tick_no % _U32, _ms(t), entries)
                self.stats.relayed += len(entries)
                for s in self._seats.values():
                    s.pending = None
        self._tick_no += 1

        timer = self._timer
        timer_key = (timer.phase, timer.round_index, timer.end_time, timer.pause_reasons)
        timer_changed = timer_key != self._timer_key_sent
        self._timer_key_sent = timer_key
        if timer_changed:
            self._state_dirty = True  # the phase is part of room:state

        state_changed = self._state_dirty
        emit_tick = self._tick_no % self._emit_every == self._emit_phase
        if (
            emit_tick
            and self._attention_dirty
            and t - self._attention_sent_at >= ATTENTION_STATE_INTERVAL_S
        ):
            state_changed = True
        if state_changed:
            self._state_dirty = False
            self._attention_dirty = False
            self._attention_sent_at = t

        battle_out: BattleState | None = None
        battle = self._battle
        if battle is not None and battle is not self._battle_seen:
            self._battle_seen = battle
            if _battle_signature(battle) != self._battle_sig_sent:
                battle_out = self.battle_view(t)
            else:
                self._battle_unsent = True  # only HP and damage moved
        if (
            battle_out is None
            and emit_tick
            and self._battle_unsent
            and (t - self._battle_sent_at >= BATTLE_EMIT_INTERVAL_S)
        ):
            battle_out = self.battle_view(t)
        if battle_out is not None and battle is not None:
            self._battle_sig_sent = _battle_signature(battle)
            self._battle_unsent = False
            self._battle_sent_at = t

        finished = self._pending_finished
        self._pending_finished = None
        freed = tuple(self._pending_freed)
        self._pending_freed = []
        return TickOutput(
            frames=frames,
            timer_changed=timer_changed,
            state_changed=state_changed,
            battle=battle_out,
            results=None if finished is None else finished.results,
            finished=finished,
            freed=freed,
            closed=self._closed,
        )

    # -- internals: restore --------------------------------------------------------------------

    def _restore_state(
        self, r: Reader, t: float, load_ghost: Callable[[str], GhostRecording | None]
    ) -> None:
        plan = self.plan
        timer = timer_from(r.obj("timer"), plan)
        battle_r = r.opt_obj("battle")
        battle = None if battle_r is None else battle_from(battle_r)
        if (timer.phase is Phase.LOBBY) != (battle is None):
            raise CorruptSnapshot("a battle exists exactly when the room has left the lobby")
        if battle is not None:
            if (
                battle.boss_kind is not self.boss_kind
                or battle.planned_focus_s != plan.planned_focus_s
            ):
                raise CorruptSnapshot("the battle does not match the room's boss and plan")
            if (battle.stage is Stage.OVER) != (
                timer.phase is Phase.RESULTS and r.opt_float("concluded_at") is not None
            ):
                raise CorruptSnapshot("a battle is over exactly when the session has concluded")
        self._timer = timer
        self._battle = battle
        self._battle_f = r.float_("battle_focus_s")
        if not 0.0 <= self._battle_f <= plan.planned_focus_s:
            raise CorruptSnapshot("battle_focus_s is outside the plan")
        self._session_started_at = r.opt_float("session_started_at")
        self._session_end_s = r.opt_float("session_end_s")
        self._concluded_at = r.opt_float("concluded_at")
        self._joined = r.int_("joined")
        names_r = r.obj("names")
        battle_ids = [] if battle is None else [m.member_id for m in battle.members]
        self._names = {mid: names_r.str_(mid) for mid in battle_ids}
        try:
            self._host_id = _check_id(r.str_("host_id"), "host id")
            for name in self._names.values():
                _check_username(name, "a battle member's name")
        except InvalidArgument as exc:
            raise CorruptSnapshot(f"corrupt snapshot: {exc.message}") from None
        self._last_now = max(t, timer.updated_at or t)
        t = self._last_now

        for m in r.objs("members"):
            self._restore_seat(m, t, load_ghost)
        slots = [s.slot for s in self._seats.values()]
        if len(set(slots)) != len(slots) or len(self._seats) > self.max_members:
            raise CorruptSnapshot("member slots must be unique and fit the room")
        if any(s.joined > self._joined for s in self._seats.values()):
            raise CorruptSnapshot("a member joined after the join counter")
        host = self._seats.get(self._host_id)
        if host is None or host.is_ghost:
            raise CorruptSnapshot("the host must be a seated person")
        in_battle = set(battle_ids)
        if battle is not None and self._concluded_at is None:
            for seat in self._seats.values():
                if seat.is_ghost and seat.member_id not in in_battle:
                    raise CorruptSnapshot(
                        f"ghost {seat.member_id!r} is seated but not in the battle"
                    )

        for p_r in r.objs("participants"):
            self._restore_participant(p_r, t, in_battle)
        if self._participants and (battle is None or self._concluded_at is not None):
            raise CorruptSnapshot("participants exist only while a session runs")

    def _restore_seat(
        self, m: Reader, t: float, load_ghost: Callable[[str], GhostRecording | None]
    ) -> None:
        member_id = m.str_("member_id")
        if member_id in self._seats:
            raise CorruptSnapshot(f"member {member_id!r} is seated twice")
        try:
            _check_id(member_id, "member id")
            username = _check_username(m.str_("username"))
        except InvalidArgument as exc:
            raise CorruptSnapshot(f"corrupt member: {exc.message}") from None
        slot = m.int_("slot")
        if not 0 <= slot <= MAX_SLOT:
            raise CorruptSnapshot(f"slot {slot} is outside 0..{MAX_SLOT}")
        seat = Seat(member_id=member_id, username=username, slot=slot, joined=m.int_("joined"))
        if m.bool_("is_ghost"):
            ghost_id = m.str_("ghost_id")
            delivered = m.float_("ghost_delivered")
            if delivered < 0.0:
                raise CorruptSnapshot("ghost_delivered must not be negative")
            recording = load_ghost(ghost_id)
            if recording is None:
                return  # the recording is gone: no seat, but the battle keeps its line
            seat.is_ghost = True
            seat.ghost = GhostReplay(ghost_id=ghost_id, recording=recording, delivered=delivered)
            segment = recording.segment_at(self._session_time(self._timer.advance(t), t))
            seat.attention = segment.attention
            seat.asleep = segment.asleep
        else:
            seat.analyzer = FocusAnalyzer(subject=self.subject)
            seat.connected = False
            seat.expires_at = t + self.reconnect_grace_s
        self._seats[member_id] = seat

    def _restore_participant(self, p: Reader, t: float, in_battle: set[str]) -> None:
        user_id = p.str_("user_id")
        if user_id not in in_battle or user_id in self._participants:
            raise CorruptSnapshot(f"participant {user_id!r} is not (once) in the battle")
        username = p.str_("username")
        started_at = p.float_("started_at")
        record_t0 = p.float_("record_t0")
        left_at = p.opt_float("left_at")
        left_s = p.opt_float("left_s")
        if (left_at is None) != (left_s is None):
            raise CorruptSnapshot("left_at and left_s are set together")
        seat = self._seats.get(user_id)
        if (seat is None) == (left_at is None):
            raise CorruptSnapshot(f"participant {user_id!r} must be seated exactly when not gone")
        recorder: GhostRecorder | None = None
        if p.bool_("recording"):
            with guarded("participant recording"):
                recorder = GhostRecorder(
                    user_id=user_id,
                    user_name=username,
                    subject=self.subject,
                    started_at=started_at,
                    t0=record_t0,
                    frame_interval_ms=self.ghost_frame_interval_ms,
                )
        participant = Participant(
            user_id=user_id,
            username=username,
            started_at=started_at,
            record_t0=record_t0,
            recorder=recorder,
            episodes=p.pairs("episodes"),
            left_at=left_at,
            left_s=left_s,
        )
        # Recording resumes from the restore: frames before it are lost (see the docstring).
        participant.last_rec_slot = -1
        participant.next_rec_at = -math.inf
        self._participants[user_id] = participant
        if seat is not None:
            seat.participant = participant


def _recording_guard() -> contextlib.suppress:
    """A ghost recording that refuses an input keeps what it has; the session itself goes on."""
    return contextlib.suppress(GhostRecorderError)


def _battle_signature(battle: Battle) -> tuple[object, ...]:
    """What makes a ``battle`` event urgent: who deals what. A ghost's dps follows its recorded
    curve and HP moves every step; those wait for the emission interval."""
    return (
        battle.stage,
        battle.penalty,
        tuple(
            (m.member_id, None if m.is_ghost else m.dps, m.penalty, m.asleep)
            for m in battle.members
        ),
    )


def _slot_of(seat: Seat) -> int:
    return seat.slot


def _joined_of(seat: Seat) -> int:
    return seat.joined


def _ms(seconds: float) -> int:
    return max(round(seconds * 1000.0), 0)
