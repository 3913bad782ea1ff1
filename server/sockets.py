"""The Socket.IO gateway: authenticates connections and turns events into room calls and emits.

Handlers are thin: parse the wire model (``shared.protocol.parse_event``), call the room
manager, and emit what changed. Every failure is answered twice, as the event's ack
``{"error": {...}}`` and as an ``error`` event, and changes nothing. Rooms decide; the
ticker (:class:`Gateway.tick`) broadcasts frames, timers, battles and results once per tick.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final

import socketio
from aiohttp import web

from server.auth import InvalidToken
from server.db.store import ConfusionRow, SessionRecord, Store
from server.keys import CLOCK, METRICS, SETTINGS, SIGNER, STORE
from server.ratelimit import TokenBucket
from server.relay import RELAY_PATH, RelayHub
from server.rooms.errors import NotHost, UnknownGhost
from server.rooms.manager import RoomManager
from server.rooms.room import FinishedSession, Room, TickOutput
from server.streaks import streak_status
from shared.ghost import GhostFormatError, GhostRecording, decode_ghost, encode_ghost
from shared.protocol import (
    AddGhost,
    BinaryPayload,
    CreateRoom,
    ErrorCode,
    GhostAdded,
    JoinRoom,
    Ok,
    ProtocolError,
    Results,
    RoomCreated,
    RoomJoined,
    dump,
    error_event,
    error_payload,
    parse_auth,
    parse_event,
)
from shared.protocol.types import WireModel
from shared.timer import TimerPlan

log = logging.getLogger("convex.sockets")

MAX_SOCKET_MESSAGE_BYTES: Final[int] = 2 * 1024 * 1024
"""Engine.IO drops a connection that sends a bigger message; smaller ones that are still over
a payload limit get a ``payload_too_large`` error instead."""

EVENTS_BEHIND_MAX: Final[int] = 4
"""Ticks the room events may lag the batches before a tick waits for them to go out."""
SNAPSHOT_INTERVAL_S: Final[float] = 1.0
"""How often staged snapshots are written to the database; a crash loses at most about twice
this (a room is snapshotted once within each interval, then waits for the next write)."""
SNAPSHOT_PARTS: Final[int] = 15
"""Shares of the rooms snapshotted one per tick (15 ticks: every room once a second)."""

RATE_LIMIT_ERROR_INTERVAL_S: Final[float] = 1.0
"""At most one ``rate_limited`` error per connection per this many seconds (no error floods)."""

Ack = dict[str, Any] | None


@dataclass(slots=True)
class Connection:
    """One authenticated Socket.IO connection."""

    sid: str
    user_id: str
    username: str
    events: TokenBucket
    frames: TokenBucket
    room_key: str | None = None
    last_limit_error: float = field(default=-1e18)


class SocketServer(socketio.AsyncServer):  # type: ignore[misc]
    """python-socketio's server, answering undecodable packets instead of only logging them.

    A packet that is not valid Socket.IO (e.g. JSON cut off mid-way) raises inside the
    library's message dispatcher, which logs it and drops it; the sender would never know.
    (This overrides a private hook, checked by tests/server/test_malformed_packets.py.)
    """

    async def _handle_eio_message(self, eio_sid: str, data: object) -> None:
        try:
            await super()._handle_eio_message(eio_sid, data)
        except ValueError as exc:
            sid = self.manager.sid_from_eio_sid(eio_sid, "/")
            if sid is None:
                return
            error = ProtocolError(ErrorCode.BAD_REQUEST, f"malformed Socket.IO packet: {exc}")
            await self.emit("error", dump(error_event(error)), to=sid)


def room_key(room_id: str) -> str:
    """The Socket.IO room name of a Convex room."""
    return f"room:{room_id}"


class Gateway:
    """Binds an AsyncServer to the room manager and the store."""

    def __init__(self, app: web.Application, manager: RoomManager) -> None:
        settings = app[SETTINGS]
        self.app = app
        self.manager = manager
        self.sio = SocketServer(
            async_mode="aiohttp",
            async_handlers=False,  # one client's events run in order, without a task each
            max_http_buffer_size=MAX_SOCKET_MESSAGE_BYTES,
            cors_allowed_origins=settings.cors_origins(),
            logger=False,
            engineio_logger=False,
        )
        self.sio.attach(app)
        self.connections: dict[str, Connection] = {}
        self.user_sid: dict[str, str] = {}
        self._last_snapshot = -1e18
        self._staged: dict[str, str | None] = {}
        """Room snapshots (JSON; None: the room is gone) waiting for the next save."""
        self._parts_staged: set[int] = set()
        self._snapshot_part = 0
        self._saver: asyncio.Task[None] | None = None
        self._emitter: asyncio.Task[None] | None = None
        """The newest tick's events task; each waits for the one before it."""
        self._events_behind = 0
        """Ticks whose events are not all sent yet."""
        self._handlers: dict[str, Callable[[Connection, Any], Awaitable[WireModel | None]]] = {
            "room:create": self._create,
            "room:join": self._join,
            "room:leave": self._leave,
            "room:start": self._start,
            "room:pause": self._pause,
            "room:resume": self._resume,
            "room:finish": self._finish,
            "ghost:add": self._add_ghost,
        }
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        self.sio.on("*", self._on_event)
        self.relay = RelayHub(self)
        app.router.add_get(RELAY_PATH, self.relay.handle)
        app.on_shutdown.append(self.relay.close_all)

    # -- plumbing ---------------------------------------------------------------------------

    @property
    def now(self) -> float:
        return self.app[CLOCK]()

    @property
    def store(self) -> Store:
        return self.app[STORE]

    async def _on_connect(self, sid: str, environ: dict[str, Any], auth: object = None) -> None:
        try:
            token = parse_auth(auth).token
            try:
                claims = self.app[SIGNER].verify(token, self.now)
            except InvalidToken as exc:
                raise ProtocolError(ErrorCode.UNAUTHORIZED, str(exc)) from None
        except ProtocolError as exc:
            # Clients see `message` and, as `data`, the usual {"error": {code, message}}.
            self._count_error(exc.code)
            raise socketio.exceptions.ConnectionRefusedError(
                exc.message, error_payload(exc)
            ) from None
        settings = self.app[SETTINGS]
        user_id = str(claims.user_id)
        self.connections[sid] = Connection(
            sid=sid,
            user_id=user_id,
            username=claims.username,
            events=TokenBucket(settings.max_events_per_s, settings.max_events_per_s * 2),
            frames=TokenBucket(settings.max_frames_per_s, settings.max_frames_per_s),
        )
        previous = self.user_sid.get(user_id)
        self.user_sid[user_id] = sid
        if previous is not None and previous in self.connections:
            # The newest connection of a person speaks for them; the old one is closed.
            await self.sio.disconnect(previous)
        self.app[METRICS].connections.set(len(self.connections))

    async def _on_disconnect(self, sid: str, reason: object = None) -> None:
        conn = self.connections.pop(sid, None)
        self.app[METRICS].connections.set(len(self.connections))
        if conn is None or self.user_sid.get(conn.user_id) != sid:
            return
        del self.user_sid[conn.user_id]
        self.manager.disconnect(conn.user_id, self.now)

    async def _on_event(self, event: str, sid: str, *args: Any) -> Ack:
        conn = self.connections.get(sid)
        if conn is None:
            return None
        data = args[0] if args else None
        now = self.now
        try:
            if event == "frame":
                return await self._frame(conn, data, now)
            if not conn.events.allow(now):
                raise ProtocolError(ErrorCode.RATE_LIMITED, "too many events; slow down")
            handler = self._handlers.get(event)
            if handler is None:
                parse_event(event, data)  # raises: unknown or server-to-client event
                raise ProtocolError(ErrorCode.BAD_REQUEST, f"{event!r} is not a client event")
            result = await handler(conn, parse_event(event, data))
        except Exception as exc:
            return await self._fail(conn, event, exc, now)
        return dump(result) if result is not None else None

    async def _fail(self, conn: Connection, event: str, exc: Exception, now: float) -> Ack:
        if not isinstance(exc, ProtocolError):
            log.exception("event failed", extra={"event": event, "user_id": conn.user_id})
        code = exc.code if isinstance(exc, ProtocolError) else ErrorCode.INTERNAL
        self._count_error(code)
        if code is ErrorCode.RATE_LIMITED:
            if now - conn.last_limit_error < RATE_LIMIT_ERROR_INTERVAL_S:
                return error_payload(exc)
            conn.last_limit_error = now
        await self.sio.emit("error", dump(error_event(exc, event)), to=conn.sid)
        return error_payload(exc)

    def _count_error(self, code: ErrorCode) -> None:
        self.app[METRICS].errors.labels(code.value).inc()

    async def _frame(self, conn: Connection, data: object, now: float) -> Ack:
        metrics = self.app[METRICS]
        try:
            if not conn.frames.allow(now):
                raise ProtocolError(ErrorCode.RATE_LIMITED, "too many frames; send at most 15/s")
            payload = parse_event("frame", data)
            assert isinstance(payload, BinaryPayload)
            room = self.manager.room_for(conn.user_id)
            room.accept_frame(conn.user_id, payload.data, now)
        except Exception as exc:
            metrics.frames_rejected.inc()
            return await self._fail(conn, "frame", exc, now)
        metrics.frames_in.inc()
        if self.relay.naive:
            await self.relay.fan_out_frame(room, conn.user_id, payload.data, now)
        return None

    async def _enter(self, conn: Connection, room: Room) -> None:
        key = room_key(room.room_id)
        if conn.room_key and conn.room_key != key:
            await self.sio.leave_room(conn.sid, conn.room_key)
        await self.sio.enter_room(conn.sid, key)
        conn.room_key = key
        await self._emit_views(room, state=True, timer=True, to=None)

    async def _emit_views(self, room: Room, *, state: bool, timer: bool, to: str | None) -> None:
        target = to or room_key(room.room_id)
        if state:
            await self.sio.emit("room:state", dump(room.state_view()), room=target)
        if timer:
            await self.sio.emit("timer", dump(room.timer_view(self.now)), room=target)
        results = room.results_view()
        if results is not None and to is not None:
            await self.sio.emit("room:results", dump(results), room=target)
        elif to is not None:
            # A joiner (or a member back after a drop or a restart) needs the boss's HP now, not
            # when it next moves: it may not move for a while (paused, everyone away).
            battle = room.battle_view(self.now)
            if battle is not None:
                await self.sio.emit("battle", dump(battle), room=target)

    # -- events -----------------------------------------------------------------------------

    async def _create(self, conn: Connection, body: CreateRoom) -> WireModel:
        plan = None
        if body.plan is not None:
            plan = TimerPlan(
                focus_s=float(body.plan.focus_s),
                break_s=float(body.plan.break_s),
                rounds=body.plan.rounds,
            )
        kwargs: dict[str, Any] = {}
        if body.boss is not None:
            kwargs["boss_kind"] = body.boss
        room = self.manager.create(
            conn.user_id,
            conn.username,
            name=body.name,
            subject=body.subject,
            now=self.now,
            plan=plan,
            max_members=min(body.max_members, self.app[SETTINGS].max_room_members),
            **kwargs,
        )
        await self._enter(conn, room)
        return RoomCreated(room_id=room.room_id)

    async def _join(self, conn: Connection, body: JoinRoom) -> WireModel:
        room, member = self.manager.join(body.room_id, conn.user_id, conn.username, self.now)
        await self._enter(conn, room)
        await self._emit_views(room, state=False, timer=False, to=conn.sid)
        return RoomJoined(room_id=room.room_id, member_id=member.member_id, slot=member.slot)

    async def _leave(self, conn: Connection, body: object) -> WireModel:
        room = self.manager.leave(conn.user_id, self.now)
        if conn.room_key:
            await self.sio.leave_room(conn.sid, conn.room_key)
            conn.room_key = None
        if not room.closed:
            await self._emit_views(room, state=True, timer=False, to=None)
        return Ok()

    async def _host_control(self, conn: Connection, action: str) -> WireModel:
        room = self.manager.room_for(conn.user_id)
        getattr(room, action)(conn.user_id, self.now)
        await self._emit_views(room, state=True, timer=True, to=None)
        return Ok()

    async def _start(self, conn: Connection, body: object) -> WireModel:
        return await self._host_control(conn, "start")

    async def _pause(self, conn: Connection, body: object) -> WireModel:
        return await self._host_control(conn, "pause")

    async def _resume(self, conn: Connection, body: object) -> WireModel:
        return await self._host_control(conn, "resume")

    async def _finish(self, conn: Connection, body: object) -> WireModel:
        return await self._host_control(conn, "finish")

    async def _add_ghost(self, conn: Connection, body: AddGhost) -> WireModel:
        room = self.manager.room_for(conn.user_id)
        if room.host_id != conn.user_id:  # before any database work for a non-host
            raise NotHost("only the host can do that")
        found = await self.store.ghost_data(body.ghost_id)
        if found is None:
            raise UnknownGhost("no ghost with that id")
        owner_id, data = found
        if owner_id != int(conn.user_id) and not await self.store.are_mutual_friends(
            int(conn.user_id), owner_id
        ):
            raise ProtocolError(
                ErrorCode.NOT_FRIENDS, "only your own or a mutual friend's ghosts can join"
            )
        recording = await _decode_ghost(data)
        owner = await self.store.user_by_id(owner_id)
        member = room.add_ghost(
            conn.user_id,
            body.ghost_id,
            recording,
            owner.username if owner else "ghost",
            self.now,
        )
        await self._emit_views(room, state=True, timer=False, to=None)
        return GhostAdded(member_id=member.member_id, slot=member.slot)

    # -- ticks ------------------------------------------------------------------------------

    async def tick(self, *, background_events: bool = False) -> None:
        """Advance every room once, broadcast what changed, persist what must survive a crash.

        With ``background_events`` (the tick loop) the room events after the batches go out
        from a task, in tick order, so a slow Socket.IO emit never delays the next tick; tests
        that step ticks by hand leave it off and see every event sent when this returns.
        """
        now = self.now
        outputs = self.manager.tick_all(now)
        for room_id, out in list(outputs.items()):
            if out.finished is not None:
                # Stored before any snapshot can show the results; the results then go out with
                # each person's streak, this session credited.
                results = await self._persist(out.finished)
                if out.results is not None:
                    outputs[room_id] = dataclasses.replace(out, results=results)
        if not self.relay.naive:
            # Every room's batch before any other event: relay sends never wait, while a
            # Socket.IO emit yields to the event loop, and batches must not queue behind it.
            sent = 0
            for room_id, out in outputs.items():
                room = self.manager.rooms.get(room_id)
                if out.frames is not None and room is not None:
                    await self.relay.fan_out(room, out.frames)
                    sent += 1
            if sent:
                self.app[METRICS].batches_out.inc(sent)
        self.relay.flush_metrics()
        if background_events:
            previous = self._emitter
            if previous is not None and self._events_behind >= EVENTS_BEHIND_MAX:
                await previous  # back-pressure: the events may lag the batches, but not far
                previous = None
            # Chained, so the events stay in tick order; not awaited, because python-socketio's
            # emit takes a few turns of the event loop, and a busy loop's turn is milliseconds
            # of frames: waiting for the last tick's events here would make this tick late.
            self._events_behind += 1
            self._emitter = asyncio.create_task(
                self._broadcast_in_background(previous, outputs, now)
            )
        else:
            await self._broadcast_all(outputs, now)
        # A share of the rooms is snapshotted every tick rather than all of them once a second:
        # a thousand members' rooms at once is a pause long enough to disturb the relay.
        self._stage_snapshots(self._snapshot_part)
        self._snapshot_part = (self._snapshot_part + 1) % SNAPSHOT_PARTS
        if now - self._last_snapshot >= SNAPSHOT_INTERVAL_S and (
            self._saver is None or self._saver.done()
        ):
            self._last_snapshot = now
            for part in range(SNAPSHOT_PARTS):  # normally all staged already; not after a jump
                if part not in self._parts_staged:
                    self._stage_snapshots(part)
            staged, self._staged = self._staged, {}
            self._parts_staged.clear()
            # Database round trips must not hold up the next tick (the relay's latency is the
            # tick's): one save runs at a time beside the ticks; a slow one delays the next save.
            self._saver = asyncio.create_task(self._save_in_background(staged, now))

    def _stage_snapshots(self, part: int) -> None:
        """Snapshot (as JSON) the changed rooms in one share, to be written with the next save."""
        for room_id, snap in self.manager.snapshot_dirty(part, SNAPSHOT_PARTS).items():
            self._staged[room_id] = None if snap is None else json.dumps(snap)
        self._parts_staged.add(part)

    async def _save_in_background(self, staged: dict[str, str | None], now: float) -> None:
        try:
            await self._write_snapshots(staged, now)
        except Exception:
            log.exception("saving room snapshots failed")

    async def _broadcast_all(self, outputs: dict[str, TickOutput], now: float) -> None:
        """Each room's events in order, the rooms side by side: python-socketio's emit waits for
        a task per recipient, i.e. a turn of the event loop, and a busy loop's turn is several
        milliseconds of frames, so rooms one after another would take a tick or more."""
        busy = [
            self._broadcast(room_id, out, now)
            for room_id, out in outputs.items()
            if out.state_changed
            or out.timer_changed
            or out.battle is not None
            or out.results is not None
        ]
        for failed in await asyncio.gather(*busy, return_exceptions=True):
            if isinstance(failed, Exception):  # one room's failure must not silence the others
                log.error("room events failed", exc_info=failed)

    async def _broadcast_in_background(
        self, previous: asyncio.Task[None] | None, outputs: dict[str, TickOutput], now: float
    ) -> None:
        try:
            if previous is not None and not previous.done():
                await previous
            await self._broadcast_all(outputs, now)
        except Exception:
            log.exception("tick events failed")
        finally:
            self._events_behind -= 1

    async def _broadcast(self, room_id: str, out: TickOutput, now: float) -> None:
        key = room_key(room_id)
        room = self.manager.rooms.get(room_id)
        if room is None or out.closed:
            # Only the end of the battle can be left to tell, to whoever is still in the room.
            if out.battle is not None:
                await self.sio.emit("battle", dump(out.battle), room=key)
            if out.results is not None:
                await self.sio.emit("room:results", dump(out.results), room=key)
            return
        emit = self.relay.emit  # relay channels that take events, Socket.IO for the rest
        if out.state_changed:
            await emit(room, "room:state", dump(room.state_view()))
        if out.timer_changed:
            await emit(room, "timer", dump(room.timer_view(now)))
        if out.battle is not None:
            await emit(room, "battle", dump(out.battle))
        if out.results is not None:
            await emit(room, "room:results", dump(out.results))

    async def _persist(self, finished: FinishedSession) -> Results:
        """Store the finished sessions (crediting each person's streak), then return the results
        with every person's streak in days."""
        loop = asyncio.get_running_loop()
        records = []
        for r in finished.records:
            ghost = None
            if r.ghost is not None:
                ghost = await loop.run_in_executor(None, encode_ghost, r.ghost)
            records.append(
                SessionRecord(
                    id=stored_session_id(finished, r.user_id),
                    user_id=int(r.user_id),
                    room_id=r.room_id,
                    subject=r.subject,
                    started_at=r.started_at,
                    ended_at=r.ended_at,
                    focused_seconds=r.focused_seconds,
                    damage=r.damage,
                    xp=r.xp,
                    outcome=r.outcome.value,
                    ghost=ghost,
                    ghost_duration_s=r.ghost_duration_s,
                    confusion=tuple(ConfusionRow(a, b) for a, b in r.confusion),
                )
            )
        await self.store.save_sessions(records)
        log.info(
            "session stored",
            extra={
                "room_id": finished.room_id,
                "members": len(records),
                "outcome": finished.outcome,
            },
        )
        streaks = await self._streaks([r.user_id for r in finished.records])
        room = self.manager.rooms.get(finished.room_id)
        results = room.set_streaks(streaks) if room is not None else None
        return results if results is not None else with_streaks(finished.results, streaks)

    async def _streaks(self, user_ids: list[str]) -> dict[str, int]:
        """Each person's current streak in days; one that cannot be worked out is left out (the
        results show no streak for them rather than not going out at all)."""
        now = self.now
        out: dict[str, int] = {}
        for user_id in dict.fromkeys(user_ids):
            try:
                status, _ = await streak_status(self.store, int(user_id), now)
            except Exception:
                log.exception("streak lookup failed", extra={"user_id": user_id})
                continue
            out[user_id] = status.current
        return out

    async def save_snapshots(self, now: float) -> None:
        """Write rooms that changed since the last save; forget rooms that closed."""
        saver = self._saver
        if saver is not None and saver is not asyncio.current_task():
            await saver  # one writer at a time (the final save at shutdown waits for the last)
        staged, self._staged = self._staged, {}
        self._parts_staged.clear()
        for room_id, snap in self.manager.snapshot_dirty().items():
            staged[room_id] = None if snap is None else json.dumps(snap)
        await self._write_snapshots(staged, now)

    async def _write_snapshots(self, staged: dict[str, str | None], now: float) -> None:
        """Write staged snapshots in one transaction; delete the rows of rooms now gone."""
        gone = [room_id for room_id, snap in staged.items() if snap is None]
        live = {room_id: snap for room_id, snap in staged.items() if snap is not None}
        await self.store.save_rooms(live, now)
        await self.store.delete_rooms(gone)
        metrics = self.app[METRICS]
        metrics.rooms.set(len(self.manager.rooms))
        metrics.members.set(self.manager.member_count())

    async def restore_rooms(self) -> int:
        """Bring back every room saved before a restart; returns how many came back."""
        saved = await self.store.load_rooms()
        ghosts: dict[str, GhostRecording | None] = {}
        for state in saved.values():
            for ghost_id in _ghost_ids(state):
                found = await self.store.ghost_data(ghost_id)
                ghosts[ghost_id] = await _decode_ghost(found[1]) if found else None
        restored, broken = 0, []
        for room_id, state in saved.items():
            try:
                self.manager.restore(json.loads(state), self.now, ghosts.get)
                restored += 1
            except Exception:
                log.exception("could not restore room", extra={"room_id": room_id})
                broken.append(room_id)
        await self.store.delete_rooms(broken)
        return restored


SESSION_ID_NAMESPACE: Final[uuid.UUID] = uuid.UUID("8f5e2c1a-3b7d-4e69-9a0c-6d1f4b2e8a73")
"""Namespace of the name-based (UUID 5) ids under which finished sessions are stored."""


def stored_session_id(finished: FinishedSession, user_id: str) -> str:
    """The id one member's finished session is stored under: the same every time that session
    ends. A crash between storing a session and the next room snapshot restores the room as it
    was before the end, so the restored room ends the session again; the store skips ids it
    already has, so the session is kept once, as it was first stored."""
    name = f"{finished.room_id}/{finished.started_at!r}/{user_id}"
    return uuid.uuid5(SESSION_ID_NAMESPACE, name).hex


def with_streaks(results: Results, streaks: dict[str, int]) -> Results:
    """``results`` with each person's streak from ``streaks`` (ghosts keep none)."""
    return results.model_copy(
        update={
            "members": tuple(
                m
                if m.is_ghost or m.member_id not in streaks
                else m.model_copy(update={"streak_days": streaks[m.member_id]})
                for m in results.members
            )
        }
    )


async def _decode_ghost(data: bytes) -> GhostRecording:
    try:
        return await asyncio.get_running_loop().run_in_executor(None, decode_ghost, data)
    except GhostFormatError:
        raise UnknownGhost("that ghost's recording is damaged") from None


def _ghost_ids(state: str) -> list[str]:
    """Ghost ids named in a stored room snapshot (tolerant: restore validates properly)."""
    try:
        snap = json.loads(state)
        seats = snap.get("members", []) if isinstance(snap, dict) else []
        return [str(s["ghost_id"]) for s in seats if isinstance(s, dict) and s.get("ghost_id")]
    except (ValueError, TypeError, KeyError):
        return []
