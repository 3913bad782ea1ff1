"""What the network hands the frame loop: one immutable :class:`RoomSnapshot` per read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from game.net.timing import remaining_s
from shared.face import FaceSample
from shared.protocol import BattleState, ErrorCode, Member, Results, RoomState, TimerState

MAX_TOASTS: Final[int] = 5
"""Recent messages kept for in-game toasts (older ones drop off)."""


class ConnectionStatus(StrEnum):
    """Where the client's connection to the server stands."""

    OFFLINE = "offline"
    CONNECTING = "connecting"
    ONLINE = "online"
    RECONNECTING = "reconnecting"


@dataclass(frozen=True, slots=True)
class Toast:
    """One message for the player: ``text`` to show, the server's ``code`` and ``detail`` (if it
    came from the server), the failed ``event``, and the local time ``at`` it arrived."""

    text: str
    at: float
    code: ErrorCode | None = None
    detail: str = ""
    event: str | None = None


@dataclass(frozen=True, slots=True)
class RoomSnapshot:
    """The room as the client knows it at local time ``taken_at``.

    ``faces`` maps member slots to their face at the playout instant (interpolated from the
    jitter buffer; see :mod:`game.net.jitter`); each sample's ``t`` is that instant on the
    server's clock (epoch seconds). ``clock_offset`` is the estimated ``server − local``
    clock difference in seconds, None before the first ``timer`` or batch.
    """

    taken_at: float
    status: ConnectionStatus = ConnectionStatus.OFFLINE
    room: RoomState | None = None
    timer: TimerState | None = None
    battle: BattleState | None = None
    results: Results | None = None
    member_id: str | None = None
    slot: int | None = None
    faces: Mapping[int, FaceSample] = field(default_factory=lambda: MappingProxyType({}))
    toasts: tuple[Toast, ...] = ()
    clock_offset: float | None = None

    @property
    def remaining_s(self) -> float | None:
        """Seconds left in the running phase at ``taken_at``; None in lobby/results or unknown."""
        return remaining_s(self.timer, self.clock_offset, self.taken_at)

    @property
    def members(self) -> tuple[Member, ...]:
        """Everyone seated (people and ghosts), or nobody outside a room."""
        return self.room.members if self.room is not None else ()

    def member(self, slot: int) -> Member | None:
        """The member in a slot, if any."""
        return next((m for m in self.members if m.slot == slot), None)
