"""The room authority's domain logic: seats, host controls, frames, timer and battle ticks, ghosts.

No sockets, no asyncio, no database: every method takes ``now``; handlers call these and emit
what they return. :class:`Room` is one room, :class:`RoomManager` all of them in one process.
"""

from __future__ import annotations

from server.rooms.errors import (
    AlreadyInRoom,
    CorruptSnapshot,
    GhostAlreadySeated,
    IllegalState,
    InvalidArgument,
    InvalidFrame,
    NotHost,
    NotMember,
    OutOfOrder,
    RoomError,
    RoomFull,
    UnknownGhost,
    UnknownRoom,
)
from server.rooms.manager import RESULTS_LINGER_S, RoomManager
from server.rooms.member import FrameStats
from server.rooms.room import (
    ASLEEP_REASON,
    ATTENTION_STATE_INTERVAL_S,
    BATTLE_EMIT_INTERVAL_S,
    BATTLE_STEP_S,
    DEFAULT_RECONNECT_GRACE_S,
    DEFAULT_TICK_HZ,
    FRAME_STALE_S,
    HOST_REASON,
    RECORD_CAP_S,
    FinishedSession,
    Room,
    RoomListing,
    SessionRecord,
    TickOutput,
)
from server.rooms.snapshot import SNAPSHOT_VERSION

__all__ = [
    "ASLEEP_REASON",
    "ATTENTION_STATE_INTERVAL_S",
    "BATTLE_EMIT_INTERVAL_S",
    "BATTLE_STEP_S",
    "DEFAULT_RECONNECT_GRACE_S",
    "DEFAULT_TICK_HZ",
    "FRAME_STALE_S",
    "HOST_REASON",
    "RECORD_CAP_S",
    "RESULTS_LINGER_S",
    "SNAPSHOT_VERSION",
    "AlreadyInRoom",
    "CorruptSnapshot",
    "FinishedSession",
    "FrameStats",
    "GhostAlreadySeated",
    "IllegalState",
    "InvalidArgument",
    "InvalidFrame",
    "NotHost",
    "NotMember",
    "OutOfOrder",
    "Room",
    "RoomError",
    "RoomFull",
    "RoomListing",
    "RoomManager",
    "SessionRecord",
    "TickOutput",
    "UnknownGhost",
    "UnknownRoom",
]
