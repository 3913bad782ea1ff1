"""All rooms of one server process: ids, who sits where, ticking, retiring rooms, dirty snapshots.

Membership changes go through the manager (``create``, ``join``, ``leave``, ``disconnect``,
``reconnect``) so that it always knows each person's one room; everything else (host controls,
frames, views) is called on the :class:`~server.rooms.room.Room` that :meth:`RoomManager.room_for`
returns. A person seated in a room only through a held seat (disconnected, within the grace
window) who creates or joins another room gives the held seat up; a connected one gets
:class:`~server.rooms.errors.AlreadyInRoom`.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Final

from server.rooms.errors import AlreadyInRoom, CorruptSnapshot, NotMember, RoomError, UnknownRoom
from server.rooms.member import FrameStats
from server.rooms.room import (
    DEFAULT_RECONNECT_GRACE_S,
    DEFAULT_TICK_HZ,
    Room,
    RoomListing,
    TickOutput,
)
from server.rooms.snapshot import Json
from shared.battle import DEFAULT_BOSS, BossKind
from shared.ghost import FRAME_INTERVAL_MS, GhostRecording
from shared.protocol import DEFAULT_MAX_MEMBERS, Member
from shared.timer import TimerPlan

RESULTS_LINGER_S: Final[float] = 600.0
"""How long a finished room stays open for its results screen before it is closed and removed."""

MAX_ID_ATTEMPTS: Final[int] = 16
"""Fresh room ids tried before giving up (a short join-code factory can collide)."""

_GONE: Final[int] = -1
"""Saved-version marker of a room already reported to snapshot_dirty as gone."""


class RoomManager:
    """Every live room by id and the room each person is in (at most one)."""

    def __init__(
        self,
        *,
        new_id: Callable[[], str],
        new_room_id: Callable[[], str] | None = None,
        reconnect_grace_s: float = DEFAULT_RECONNECT_GRACE_S,
        tick_hz: float = DEFAULT_TICK_HZ,
        results_linger_s: float = RESULTS_LINGER_S,
        ghost_frame_interval_ms: int = FRAME_INTERVAL_MS,
    ) -> None:
        """``new_id`` makes ghost member and session ids; ``new_room_id`` room ids (default:
        ``new_id``)."""
        self._new_id = new_id
        self._new_room_id = new_room_id or new_id
        self.reconnect_grace_s = reconnect_grace_s
        self.tick_hz = tick_hz
        self.results_linger_s = results_linger_s
        self.ghost_frame_interval_ms = ghost_frame_interval_ms
        self._rooms: dict[str, Room] = {}
        self._where: dict[str, str] = {}
        self._saved: dict[str, int] = {}
        self._removed: set[str] = set()

    # -- queries -----------------------------------------------------------------------------

    @property
    def rooms(self) -> Mapping[str, Room]:
        """Live rooms by id (read-only view)."""
        return MappingProxyType(self._rooms)

    def get(self, room_id: str) -> Room:
        """The open room with this id; :class:`UnknownRoom` otherwise."""
        room = self._rooms.get(room_id)
        if room is None or room.closed:
            raise UnknownRoom("no open room with that id")
        return room

    def room_of(self, user_id: str) -> Room | None:
        """The room the person has a seat in, if any."""
        room_id = self._where.get(user_id)
        return None if room_id is None else self._rooms.get(room_id)

    def room_for(self, user_id: str) -> Room:
        """The room the person has a seat in; :class:`NotMember` if none."""
        room = self.room_of(user_id)
        if room is None or room.closed:
            raise NotMember("you are not in a room")
        return room

    def stats(self) -> FrameStats:
        """Frame counters summed over the live rooms."""
        total = FrameStats()
        for room in self._rooms.values():
            total.add(room.stats)
        return total

    def member_count(self) -> int:
        """Seats taken across the live rooms (people and ghosts)."""
        return sum(len(room) for room in self._rooms.values())

    def joinable(self, limit: int) -> list[RoomListing]:
        """The rooms someone new could join now (see :meth:`Room.joinable`), newest first."""
        rooms = [room.listing() for room in self._rooms.values() if room.joinable()]
        rooms.sort(key=lambda r: (-r.created_at, r.room_id))
        return rooms[: max(limit, 0)]

    # -- membership --------------------------------------------------------------------------

    def create(
        self,
        user_id: str,
        username: str,
        *,
        name: str,
        subject: str,
        now: float,
        plan: TimerPlan | None = None,
        boss_kind: BossKind | str = DEFAULT_BOSS,
        max_members: int = DEFAULT_MAX_MEMBERS,
    ) -> Room:
        """Open a room in the lobby with the creator seated as host in slot 0."""
        self._check_free(user_id, None)
        room_id = self._fresh_room_id()
        room = Room(
            room_id=room_id,
            name=name,
            subject=subject,
            host_id=user_id,
            host_name=username,
            now=now,
            new_id=self._new_id,
            plan=plan,
            boss_kind=boss_kind,
            max_members=max_members,
            reconnect_grace_s=self.reconnect_grace_s,
            tick_hz=self.tick_hz,
            ghost_frame_interval_ms=self.ghost_frame_interval_ms,
        )
        self._vacate(user_id, now)
        self._rooms[room_id] = room
        self._where[user_id] = room_id
        self._removed.discard(room_id)
        return room

    def join(self, room_id: str, user_id: str, username: str, now: float) -> tuple[Room, Member]:
        """Take a seat in a room (or one's held seat back)."""
        room = self.get(room_id)
        self._check_free(user_id, room_id)
        member = room.join(user_id, username, now)
        if self._where.get(user_id) != room_id:
            self._vacate(user_id, now)
        self._where[user_id] = room_id
        return room, member

    def leave(self, user_id: str, now: float) -> Room:
        """Give up one's seat at once."""
        room = self.room_for(user_id)
        room.leave(user_id, now)
        self._forget(user_id, room.room_id)
        if room.closed:
            self._unindex_room(room.room_id)
        return room

    def disconnect(self, user_id: str, now: float) -> Room | None:
        """The person's connection dropped: hold their seat, if they have one."""
        room = self.room_of(user_id)
        if room is None or room.closed:
            return None
        room.disconnect(user_id, now)
        return room

    def reconnect(self, user_id: str, now: float) -> tuple[Room, Member]:
        """Take one's held seat back."""
        room = self.room_for(user_id)
        return room, room.reconnect(user_id, now)

    # -- time --------------------------------------------------------------------------------

    def tick_all(self, now: float) -> dict[str, TickOutput]:
        """Tick every room; retire closed rooms and finished ones past their linger time."""
        out: dict[str, TickOutput] = {}
        for room_id, room in list(self._rooms.items()):
            result = room.tick(now)
            out[room_id] = result
            for user_id in result.freed:
                self._forget(user_id, room_id)
            if result.closed:
                self._remove(room_id)
            elif room.concluded_at is not None and now - room.concluded_at >= self.results_linger_s:
                room.close(now)
                self._unindex_room(room_id)
        return out

    # -- persistence -------------------------------------------------------------------------

    def snapshot_dirty(self, part: int = 0, parts: int = 1) -> dict[str, Json | None]:
        """Snapshots of the rooms changed since their last snapshot; ``None`` for rooms now gone
        (closed or removed: delete their stored row). With ``parts`` > 1 only the rooms whose
        id falls in share ``part`` are looked at, so a caller can spread the work over several
        calls (every room is in exactly one share); gone rooms are always reported."""
        out: dict[str, Json | None] = {room_id: None for room_id in self._removed}
        self._removed.clear()
        for room_id, room in self._rooms.items():
            if parts > 1 and zlib.crc32(room_id.encode()) % parts != part:
                continue
            if room.closed:
                if self._saved.get(room_id) != _GONE:
                    out[room_id] = None
                    self._saved[room_id] = _GONE
            elif self._saved.get(room_id) != room.version:
                out[room_id] = room.snapshot()
                self._saved[room_id] = room.version
        return out

    def restore(
        self,
        snapshot: object,
        now: float,
        load_ghost: Callable[[str], GhostRecording | None],
    ) -> Room:
        """Bring a stored room back (see :meth:`Room.restore`); :class:`CorruptSnapshot` if it
        is malformed or clashes with a room or seat already restored."""
        room = Room.restore(snapshot, now, load_ghost, new_id=self._new_id)
        if room.room_id in self._rooms:
            raise CorruptSnapshot(f"room {room.room_id!r} is already live")
        people = room.person_ids()
        for user_id in people:
            if user_id in self._where:
                raise CorruptSnapshot(f"{user_id!r} is already seated in another room")
        self._rooms[room.room_id] = room
        for user_id in people:
            self._where[user_id] = room.room_id
        return room

    # -- internals ---------------------------------------------------------------------------

    def _check_free(self, user_id: str, target: str | None) -> None:
        current = self.room_of(user_id)
        if current is None or current.closed or current.room_id == target:
            return
        if current.member(user_id).connected:
            raise AlreadyInRoom("you are already in another room; leave it first")

    def _vacate(self, user_id: str, now: float) -> None:
        """Give up a held seat elsewhere (only called once the new seat is certain)."""
        current = self.room_of(user_id)
        if current is not None and not current.closed:
            current.leave(user_id, now)
            if current.closed:
                self._unindex_room(current.room_id)
        self._where.pop(user_id, None)

    def _fresh_room_id(self) -> str:
        for _ in range(MAX_ID_ATTEMPTS):
            room_id = self._new_room_id()
            if room_id not in self._rooms and room_id not in self._removed:
                return room_id
        raise RoomError("the room id factory keeps repeating ids")

    def _forget(self, user_id: str, room_id: str) -> None:
        if self._where.get(user_id) == room_id:
            del self._where[user_id]

    def _unindex_room(self, room_id: str) -> None:
        for user_id in [u for u, r in self._where.items() if r == room_id]:
            del self._where[user_id]

    def _remove(self, room_id: str) -> None:
        self._rooms.pop(room_id, None)
        if self._saved.pop(room_id, None) != _GONE:
            self._removed.add(room_id)
        self._unindex_room(room_id)
