"""The game's connection to a Convex server: a Socket.IO client on its own thread.

Theory of operation
-------------------
:class:`NetClient` owns one thread running one asyncio loop; every socket, HTTP session and
piece of room state lives there. The game thread never waits on it unless it asks to:

- requests (``login``, ``create_room``, ``start`` …) are scheduled on the loop and return a
  :class:`concurrent.futures.Future` that resolves to the parsed ack model or raises a
  :class:`~game.net.errors.NetError` (:class:`~game.net.errors.ServerError` carries the
  server's code); arguments are validated before anything is sent (``ProtocolError``);
- :meth:`NetClient.send_face` paces samples (:class:`~game.net.timing.FramePacer`), encodes
  the survivor on the caller's thread and drops it into a one-frame slot that the loop
  empties (latest frame wins, never a queue, never a block);
- face frames and room batches travel on the server's lean ``/relay`` websocket
  (:mod:`game.net.relay`) when it opens after connecting, else as Socket.IO ``frame`` /
  ``frames`` events; a relay that closes hands the frames back to Socket.IO at once;
- the loop is the only writer of the published state (:class:`_Published`, immutable,
  swapped in one assignment); :meth:`NetClient.snapshot` reads that reference and
  interpolates member faces for the caller's ``now`` (:mod:`game.net.jitter`).

Each connection is a fresh ``socketio.AsyncClient`` with its own reconnection off: this module
runs the reconnect loop itself so that it can take the seat back. When the socket drops
(transport closed or failed) the status turns ``reconnecting``, attempts follow
:func:`~game.net.timing.backoff_delays`, and after connecting again the client sends
``room:join`` for the same room, which the server answers with the same seat and slot within
its 60-second window. A disconnect *by the server* (the same account connected elsewhere) is
not retried: that would start a tug of war between two game windows. An expired token is
renewed by logging in again with the remembered credentials.

Requests in flight when the socket drops fail at once with
:class:`~game.net.errors.RequestTimeoutError` instead of waiting for their timeout.
:meth:`NetClient.close` disconnects, stops the loop and joins the thread, each step bounded.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import logging
import threading
import time
import urllib.parse
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType, TracebackType
from typing import Any, Final, Self, TypeVar

import aiohttp
import socketio

from game.net.errors import (
    KICKED,
    LOST_CONNECTION,
    RECONNECTED,
    SEAT_LOST,
    BadReplyError,
    ClientClosedError,
    ConnectError,
    NetError,
    NotConnectedError,
    RequestTimeoutError,
    ServerError,
    user_message,
)
from game.net.jitter import PLAYOUT_DELAY_S, JitterBuffer
from game.net.relay import RelayLink, RelayRefused
from game.net.snapshot import MAX_TOASTS, ConnectionStatus, RoomSnapshot, Toast
from game.net.timing import (
    BACKOFF_FIRST_S,
    BACKOFF_MAX_S,
    FACE_HZ,
    ClockSync,
    FramePacer,
    backoff_delays,
    remaining_s,
)
from shared.codec import SEQ_MODULUS, BatchDecodeError, Frame, decode_batch, encode_frame
from shared.face import FaceSample
from shared.ghost import GhostFormatError, GhostRecording, decode_ghost
from shared.protocol import (
    MAX_GHOST_DOWNLOAD_BYTES,
    PROTOCOL_VERSION,
    AddGhost,
    AuthResponse,
    BattleState,
    CreateRoom,
    ErrorAck,
    ErrorCode,
    ErrorEvent,
    Friend,
    FriendList,
    FriendRequest,
    GhostAdded,
    GhostList,
    JoinRoom,
    LoginRequest,
    Ok,
    Plan,
    ProtocolError,
    RegisterRequest,
    Results,
    RoomCreated,
    RoomJoined,
    RoomList,
    RoomState,
    TimerState,
    WireModel,
    dump,
    parse_event,
    parse_model,
)

log = logging.getLogger("convex.net")

M = TypeVar("M", bound=WireModel)
T = TypeVar("T")

REQUEST_TIMEOUT_S: Final[float] = 5.0
"""Longest wait for one answer (ack, HTTP response, connection handshake)."""

DOWNLOAD_CHUNK_BYTES: Final[int] = 64 * 1024
"""Read size of a binary download (a ghost), checked against its limit chunk by chunk."""

CLOSE_TIMEOUT_S: Final[float] = 3.0
"""Longest :meth:`NetClient.close` waits for each of: saying goodbye, the thread to end."""

_JSON_EVENTS: Final[tuple[str, ...]] = ("room:state", "timer", "battle", "room:results", "error")
_REASONS: Final = socketio.AsyncClient.reason


@dataclass(frozen=True, slots=True)
class _Published:
    """Everything :meth:`NetClient.snapshot` needs, written only by the network thread."""

    status: ConnectionStatus = ConnectionStatus.OFFLINE
    room: RoomState | None = None
    timer: TimerState | None = None
    battle: BattleState | None = None
    results: Results | None = None
    member_id: str | None = None
    slot: int | None = None
    toasts: tuple[Toast, ...] = ()
    offset: float | None = None
    buffers: Mapping[int, JitterBuffer] = field(default_factory=lambda: MappingProxyType({}))


class NetClient:
    """A thread-safe handle on one player's connection to a Convex server at ``base_url``.

    ``clock`` is the local monotonic clock (seconds) used for snapshots, pacing and the clock
    offset; tests may skew it. Use as a context manager or call :meth:`close`.
    """

    def __init__(
        self,
        base_url: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        request_timeout_s: float = REQUEST_TIMEOUT_S,
        face_hz: float = FACE_HZ,
        playout_delay_s: float = PLAYOUT_DELAY_S,
        backoff: tuple[float, float] = (BACKOFF_FIRST_S, BACKOFF_MAX_S),
        relay: bool = True,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._use_relay = relay
        self._clock = clock
        self._timeout = request_timeout_s
        self._playout_delay = playout_delay_s
        self._backoff = backoff
        self._pub = _Published()
        # Caller-side sending state (any thread), under one small lock.
        self._send_lock = threading.Lock()
        self._pacer = FramePacer(face_hz)
        self._seq = 0
        self._pending_frame: bytes | None = None
        self._flush_scheduled = False
        self._frames_on = False
        self.frames_sent = 0
        """Face frames handed to the socket (paced, in a room)."""
        # Loop-side state (network thread only).
        self._sio: socketio.AsyncClient | None = None
        self._relay: RelayLink | None = None
        self._relay_http: aiohttp.ClientSession | None = None
        self._lost: asyncio.Event | None = None
        self._http: aiohttp.ClientSession | None = None
        self._token: str | None = None
        self._credentials: tuple[str, str] | None = None
        self._user_id: str | None = None
        self._room_id: str | None = None
        self._refusal: ServerError | None = None
        self._sync = ClockSync()
        self._reconnector: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing = False
        self._closed = False
        self._close_lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="convex-net", daemon=True)
        self._thread.start()

    # -- public API (any thread) ---------------------------------------------------------------

    @property
    def thread(self) -> threading.Thread:
        """The network thread (alive from construction until :meth:`close`)."""
        return self._thread

    @property
    def frame_transport(self) -> str:
        """How face frames travel now: ``"relay"`` (the lean ``/relay`` channel) or
        ``"socketio"`` (the ``frame``/``frames`` events, the fallback)."""
        relay = self._relay
        return "relay" if relay is not None and not relay.closed else "socketio"

    @property
    def user_id(self) -> str | None:
        """The logged-in account's id (its member id in rooms), once logged in."""
        return self._user_id

    def register(self, username: str, password: str) -> concurrent.futures.Future[AuthResponse]:
        """Create an account and log in with it."""
        body = parse_model(RegisterRequest, {"username": username, "password": password})
        return self._submit(self._authenticate("/api/register", dump(body), (username, password)))

    def login(self, username: str, password: str) -> concurrent.futures.Future[AuthResponse]:
        """Log in; the token is kept for :meth:`connect` and for reconnecting."""
        body = parse_model(LoginRequest, {"username": username, "password": password})
        return self._submit(self._authenticate("/api/login", dump(body), (username, password)))

    def connect(self) -> concurrent.futures.Future[None]:
        """Open the Socket.IO connection with the token from :meth:`login` / :meth:`register`
        (and take the seat back if the client was left offline in a room)."""
        return self._submit(self._connect_first())

    def create_room(
        self,
        name: str,
        subject: str,
        plan: Plan | None = None,
        boss: str | None = None,
    ) -> concurrent.futures.Future[RoomCreated]:
        """Open a room and take its first seat as host."""
        raw: dict[str, Any] = {"name": name, "subject": subject, "boss": boss}
        raw["plan"] = dump(plan) if plan is not None else None
        body = parse_model(CreateRoom, raw)
        return self._submit(self._enter("room:create", body, RoomCreated))

    def join_room(self, room_id: str) -> concurrent.futures.Future[RoomJoined]:
        """Take a seat in a room (or one's own seat back)."""
        body = parse_model(JoinRoom, {"room_id": room_id})
        return self._submit(self._enter("room:join", body, RoomJoined))

    def leave(self) -> concurrent.futures.Future[Ok]:
        """Give the seat up."""
        return self._submit(self._leave())

    def start(self) -> concurrent.futures.Future[Ok]:
        """Host: start the first focus block."""
        return self._submit(self._call("room:start", None, Ok))

    def pause(self) -> concurrent.futures.Future[Ok]:
        """Host: pause the timer."""
        return self._submit(self._call("room:pause", None, Ok))

    def resume(self) -> concurrent.futures.Future[Ok]:
        """Host: resume the timer."""
        return self._submit(self._call("room:resume", None, Ok))

    def finish(self) -> concurrent.futures.Future[Ok]:
        """Host: end the session now and go to the results."""
        return self._submit(self._call("room:finish", None, Ok))

    def add_ghost(self, ghost_id: str) -> concurrent.futures.Future[GhostAdded]:
        """Host: seat a recorded session (from :meth:`list_ghosts`) as a ghost."""
        body = parse_model(AddGhost, {"ghost_id": ghost_id})
        return self._submit(self._call("ghost:add", body, GhostAdded))

    def list_ghosts(self) -> concurrent.futures.Future[GhostList]:
        """The recordings this player may add as ghosts, newest first."""
        return self._submit(self._get_ghosts())

    def list_rooms(self) -> concurrent.futures.Future[RoomList]:
        """The open rooms this player could join now (not full, no results showing), newest
        first, each with whether its host is on this player's friend list."""
        return self._submit(self._get_rooms())

    def list_friends(self) -> concurrent.futures.Future[FriendList]:
        """This player's friends by username, each with whether they added this player back
        (only mutual friends can use each other's ghosts)."""
        return self._submit(self._get_friends())

    def add_friend(self, username: str) -> concurrent.futures.Future[Friend]:
        """Add ``username`` as a friend; the reply says whether that made it mutual.

        Fails with :class:`ServerError` ``unknown_user`` when no account has that name, and
        ``conflict`` for this player's own name or someone already on the list.
        """
        body = parse_model(FriendRequest, {"username": username})
        return self._submit(self._post_friend(body))

    def fetch_ghost(self, ghost_id: str) -> concurrent.futures.Future[GhostRecording]:
        """Download and decode one recording (from :meth:`list_ghosts`) to replay locally.

        Fails with :class:`ServerError` ``unknown_ghost`` or ``not_friends`` when the server
        refuses, and :class:`BadReplyError` when the download is not a valid ghost.
        """
        body = parse_model(AddGhost, {"ghost_id": ghost_id})  # the same id rules as ghost:add
        return self._submit(self._get_ghost(body.ghost_id))

    def send_face(self, sample: FaceSample) -> bool:
        """Send one tracker sample if the pacer allows and a room is joined; never blocks.

        Returns whether the sample was handed on. ``t_ms`` on the wire is ``sample.t`` in ms.
        """
        if not self._frames_on or self._closed:
            return False
        with self._send_lock:
            if not self._pacer.allow(self._clock()):
                return False
            self._seq = (self._seq + 1) % SEQ_MODULUS
            seq = self._seq
        data = encode_frame(Frame.from_sample(sample, seq=seq, t_ms=round(sample.t * 1000)))
        with self._send_lock:
            self._pending_frame = data
            wake = not self._flush_scheduled
            self._flush_scheduled = True
        if wake:
            try:
                self._loop.call_soon_threadsafe(self._flush_frame)
            except RuntimeError:  # the loop closed under us: the frame is simply not sent
                return False
        return True

    def snapshot(self, now: float | None = None) -> RoomSnapshot:
        """The room as known now, member faces interpolated for local time ``now``."""
        pub = self._pub
        now = self._clock() if now is None else now
        faces: dict[int, FaceSample] = {}
        if pub.offset is not None:
            playout = now + pub.offset - self._playout_delay
            for slot, buffer in pub.buffers.items():
                face = buffer.sample_at(playout)
                if face is not None:
                    faces[slot] = face
        return RoomSnapshot(
            taken_at=now,
            status=pub.status,
            room=pub.room,
            timer=pub.timer,
            battle=pub.battle,
            results=pub.results,
            member_id=pub.member_id,
            slot=pub.slot,
            faces=MappingProxyType(faces),
            toasts=pub.toasts,
            clock_offset=pub.offset,
        )

    def remaining_s(self, now: float | None = None) -> float | None:
        """Seconds left in the running phase at local time ``now`` (see :func:`remaining_s`)."""
        pub = self._pub
        return remaining_s(pub.timer, pub.offset, self._clock() if now is None else now)

    def server_now(self, now: float | None = None) -> float | None:
        """The server's clock (epoch seconds) at local time ``now``, once estimated."""
        offset = self._pub.offset
        return None if offset is None else (self._clock() if now is None else now) + offset

    def close(self, timeout: float = CLOSE_TIMEOUT_S) -> None:
        """Disconnect, stop the loop and join the thread; idempotent, bounded by ``timeout``
        per step. Requests still pending are cancelled."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        self._frames_on = False
        if self._thread.is_alive():
            goodbye = asyncio.run_coroutine_threadsafe(self._shutdown(timeout), self._loop)
            try:
                goodbye.result(timeout + 1.0)
            except Exception:  # close must not raise; the thread is stopped regardless
                log.warning("network shutdown did not finish cleanly", exc_info=True)
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("network thread did not stop within %.1f s", timeout)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- loop plumbing -------------------------------------------------------------------------

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_forever()
        finally:
            tasks = asyncio.all_tasks(self._loop)
            for task in tasks:
                task.cancel()
            with contextlib.suppress(Exception):
                self._loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
                self._loop.run_until_complete(self._loop.shutdown_asyncgens())
            self._loop.close()

    def _submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        if not self._closed:
            try:
                return asyncio.run_coroutine_threadsafe(coro, self._loop)
            except RuntimeError:  # loop already closed
                pass
        coro.close()
        failed: concurrent.futures.Future[T] = concurrent.futures.Future()
        failed.set_exception(ClientClosedError("the network client is closed"))
        return failed

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = self._loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _publish(self, **changes: Any) -> None:
        self._pub = dataclasses.replace(self._pub, **changes)

    def _toast(
        self,
        text: str,
        *,
        code: ErrorCode | None = None,
        detail: str = "",
        event: str | None = None,
    ) -> None:
        toast = Toast(text=text, at=self._clock(), code=code, detail=detail, event=event)
        self._publish(toasts=(*self._pub.toasts, toast)[-MAX_TOASTS:])

    def _set_room(self, room_id: str | None) -> None:
        """Enter (or leave, with None) a room. What already arrived for that room is kept (the
        server sends ``room:state`` and ``timer`` before the ack); anything else is dropped."""
        self._room_id = room_id
        self._frames_on = room_id is not None
        pub = self._pub
        same = room_id is not None and pub.room is not None and pub.room.room_id == room_id
        self._publish(
            room=pub.room if same else None,
            timer=pub.timer if _in(pub.timer, room_id) else None,
            battle=pub.battle if _in(pub.battle, room_id) else None,
            results=pub.results if _in(pub.results, room_id) else None,
            slot=pub.slot if same else None,
            member_id=self._user_id if room_id else None,
            buffers=pub.buffers if same else MappingProxyType({}),
        )

    # -- HTTP ------------------------------------------------------------------------------------

    async def _http_json(self, method: str, path: str, body: object = None) -> object:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout))
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        try:
            async with self._http.request(
                method, self.base_url + path, json=body, headers=headers
            ) as response:
                try:
                    payload = await response.json(content_type=None)
                except ValueError:
                    payload = None
                if response.status >= 400:
                    raise _server_error(payload, f"HTTP {response.status} from {path}")
                return payload
        except aiohttp.ClientError as exc:
            raise ConnectError(f"cannot reach {self.base_url}: {exc}") from None
        except TimeoutError:
            raise RequestTimeoutError(f"{path}: no answer in {self._timeout:g} s") from None

    async def _authenticate(
        self, path: str, body: dict[str, Any], credentials: tuple[str, str]
    ) -> AuthResponse:
        reply = _parse_reply(path, await self._http_json("POST", path, body), AuthResponse)
        self._token, self._user_id = reply.token, reply.user_id
        self._credentials = credentials
        return reply

    async def _get_ghosts(self) -> GhostList:
        if self._token is None:
            raise NotConnectedError("log in first")
        return _parse_reply("/api/ghosts", await self._http_json("GET", "/api/ghosts"), GhostList)

    async def _get_rooms(self) -> RoomList:
        if self._token is None:
            raise NotConnectedError("log in first")
        return _parse_reply("/api/rooms", await self._http_json("GET", "/api/rooms"), RoomList)

    async def _get_friends(self) -> FriendList:
        if self._token is None:
            raise NotConnectedError("log in first")
        reply = await self._http_json("GET", "/api/friends")
        return _parse_reply("/api/friends", reply, FriendList)

    async def _post_friend(self, body: FriendRequest) -> Friend:
        if self._token is None:
            raise NotConnectedError("log in first")
        reply = await self._http_json("POST", "/api/friends", dump(body))
        return _parse_reply("/api/friends", reply, Friend)

    async def _get_ghost(self, ghost_id: str) -> GhostRecording:
        if self._token is None:
            raise NotConnectedError("log in first")
        path = "/api/ghosts/" + urllib.parse.quote(ghost_id, safe="")
        data = await self._http_bytes(path, MAX_GHOST_DOWNLOAD_BYTES)
        try:
            # ~1 s of CPU per recorded hour: off the network loop, so frames keep flowing.
            return await asyncio.get_running_loop().run_in_executor(None, decode_ghost, data)
        except GhostFormatError as exc:
            raise BadReplyError(
                f"ghost {ghost_id}: the download is not a valid ghost: {exc}"
            ) from None

    async def _http_bytes(self, path: str, max_bytes: int) -> bytes:
        """``GET path`` whose success body is raw bytes (at most ``max_bytes``); an error body is
        the usual JSON ``{"error": {...}}``."""
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self._timeout))
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        try:
            async with self._http.get(self.base_url + path, headers=headers) as response:
                if response.status >= 400:
                    try:
                        payload = await response.json(content_type=None)
                    except ValueError:
                        payload = None
                    raise _server_error(payload, f"HTTP {response.status} from {path}")
                if response.content_length is not None and response.content_length > max_bytes:
                    raise BadReplyError(
                        f"{path}: {response.content_length} bytes is over the {max_bytes}-byte limit"
                    )
                data = bytearray()
                async for chunk in response.content.iter_chunked(DOWNLOAD_CHUNK_BYTES):
                    data += chunk
                    if len(data) > max_bytes:
                        raise BadReplyError(f"{path}: the body is over the {max_bytes}-byte limit")
                return bytes(data)
        except aiohttp.ClientError as exc:
            raise ConnectError(f"cannot reach {self.base_url}: {exc}") from None
        except TimeoutError:
            raise RequestTimeoutError(f"{path}: no answer in {self._timeout:g} s") from None

    # -- connection --------------------------------------------------------------------------

    async def _connect_first(self) -> None:
        if self._sio is not None or (self._reconnector and not self._reconnector.done()):
            return  # already connected, or the reconnect loop is on it
        self._publish(status=ConnectionStatus.CONNECTING)
        try:
            await self._open()
            if self._room_id is not None:  # offline in a room (e.g. signed in elsewhere)
                await self._rejoin(self._room_id)
        except BaseException:
            self._publish(status=ConnectionStatus.OFFLINE)
            raise
        self._publish(status=ConnectionStatus.ONLINE)

    async def _open(self) -> None:
        """One connection attempt; on success it becomes the current connection."""
        if self._token is None:
            raise NotConnectedError("log in first")
        sio = socketio.AsyncClient(reconnection=False, logger=False, engineio_logger=False)
        for name in _JSON_EVENTS:
            sio.on(name, self._json_handler(sio, name))
        sio.on("frames", self._frames_handler(sio))
        sio.on("connect_error", self._on_connect_error)
        sio.on("disconnect", self._disconnect_handler(sio))
        self._refusal = None
        auth = {"token": self._token, "protocol_version": PROTOCOL_VERSION}
        try:
            await asyncio.wait_for(
                sio.connect(
                    self.base_url, auth=auth, transports=["websocket"], wait_timeout=self._timeout
                ),
                self._timeout + 1.0,
            )
        except (socketio.exceptions.ConnectionError, TimeoutError, OSError) as exc:
            with contextlib.suppress(Exception):
                await sio.disconnect()
            if self._refusal is not None:
                raise self._refusal from None
            raise ConnectError(f"cannot connect to {self.base_url}: {exc}") from None
        self._sync.reset()
        self._lost = asyncio.Event()
        self._sio = sio
        await self._open_relay()

    async def _open_relay(self) -> None:
        """Move face frames to ``/relay`` (best effort: Socket.IO carries them otherwise)."""
        if not self._use_relay or self._token is None:
            return
        if self._relay_http is None:
            # No total timeout: it would cut the long-lived websocket, not just the handshake.
            self._relay_http = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=None, connect=self._timeout)
            )
        try:
            link = await RelayLink.open(
                self._relay_http,
                self.base_url,
                self._token,
                timeout_s=self._timeout,
                on_batch=self._on_relay_batch,
                on_text=self._on_relay_text,
                on_closed=self._on_relay_closed,
            )
        except RelayRefused as exc:
            log.info("face frames go over Socket.IO: %s", exc)
            return
        old, self._relay = self._relay, link
        if old is not None:
            self._spawn(old.close())

    def _on_relay_batch(self, data: bytes) -> None:
        self._on_frames(data, self._clock())

    def _on_relay_text(self, payload: object) -> None:
        if isinstance(payload, list) and len(payload) == 2 and payload[0] in _JSON_EVENTS:
            self._on_json(payload[0], payload[1], self._clock())  # a room event of a tick
        else:
            self._on_json("error", payload, self._clock())

    def _on_relay_closed(self, link: RelayLink) -> None:
        if link is self._relay:
            self._relay = None  # frames fall back to Socket.IO until the next reconnect

    async def _on_connect_error(self, data: object = None) -> None:
        detail = data.get("data") if isinstance(data, dict) else None
        self._refusal = _server_error(detail, "connection refused")

    def _disconnect_handler(self, sio: socketio.AsyncClient) -> Callable[..., Any]:
        async def on_disconnect(reason: object = None) -> None:
            if sio is not self._sio:
                return  # an old connection, or one we closed ourselves
            self._sio = None
            relay, self._relay = self._relay, None
            if relay is not None:
                self._spawn(relay.close())
            if self._lost is not None:
                self._lost.set()
            self._frames_on = False  # until the seat is back: the server would refuse them
            if self._closing:
                return
            if reason == _REASONS.SERVER_DISCONNECT:
                self._toast(KICKED)
                self._publish(status=ConnectionStatus.OFFLINE)
                return
            self._toast(LOST_CONNECTION)
            self._publish(status=ConnectionStatus.RECONNECTING)
            if self._reconnector is None or self._reconnector.done():
                self._reconnector = self._spawn(self._reconnect())

        return on_disconnect

    async def _reconnect(self) -> None:
        """Connect again with backoff, then take the seat back; until it works or close()."""
        delays = backoff_delays(*self._backoff)
        while not self._closing:
            await asyncio.sleep(next(delays))
            try:
                if self._sio is None:
                    await self._open()
                if self._room_id is not None:
                    await self._rejoin(self._room_id)  # toasts how that went
                else:
                    self._toast(RECONNECTED)
            except ServerError as exc:
                if exc.code is ErrorCode.UNAUTHORIZED and self._credentials is not None:
                    with contextlib.suppress(NetError):
                        await self._authenticate(
                            "/api/login", _login_body(self._credentials), self._credentials
                        )
                    continue
                if exc.code is ErrorCode.UNSUPPORTED_VERSION:
                    self._toast(exc.user_message, code=exc.code, detail=exc.message)
                    self._publish(status=ConnectionStatus.OFFLINE)
                    return
                continue
            except NetError:
                continue
            if self._sio is not None:
                self._publish(status=ConnectionStatus.ONLINE)
                return

    async def _rejoin(self, room_id: str) -> None:
        try:
            joined = await self._call("room:join", JoinRoom(room_id=room_id), RoomJoined)
        except ServerError as exc:
            if exc.code in (ErrorCode.UNKNOWN_ROOM, ErrorCode.ROOM_FULL, ErrorCode.ILLEGAL_STATE):
                self._set_room(None)
                self._toast(SEAT_LOST, code=exc.code, detail=exc.message, event="room:join")
                return
            raise
        self._publish(slot=joined.slot, member_id=joined.member_id)
        self._frames_on = True
        self._toast(RECONNECTED)

    async def _shutdown(self, timeout: float) -> None:
        self._closing = True
        self._frames_on = False
        if self._reconnector is not None:
            self._reconnector.cancel()
        sio, self._sio = self._sio, None
        relay, self._relay = self._relay, None
        if relay is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(relay.close(), timeout)
        if sio is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(sio.disconnect(), timeout)
        if self._relay_http is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._relay_http.close(), timeout)
        if self._http is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._http.close(), timeout)
        self._publish(status=ConnectionStatus.OFFLINE)

    # -- requests ----------------------------------------------------------------------------

    async def _call(self, event: str, body: WireModel | None, ack: type[M]) -> M:
        """Emit ``event`` and wait for its ack; fails at once if the socket drops meanwhile."""
        sio, lost = self._sio, self._lost
        if sio is None or lost is None:
            raise NotConnectedError(f"{event}: not connected to the server")
        call = asyncio.ensure_future(
            sio.call(event, dump(body) if body is not None else {}, timeout=self._timeout)
        )
        dropped = asyncio.ensure_future(lost.wait())
        try:
            await asyncio.wait({call, dropped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            dropped.cancel()
        if not call.done():
            call.cancel()
            raise RequestTimeoutError(f"{event}: the connection dropped before the answer")
        try:
            reply = call.result()
        except socketio.exceptions.TimeoutError:
            raise RequestTimeoutError(f"{event}: no answer in {self._timeout:g} s") from None
        except socketio.exceptions.SocketIOError as exc:
            raise NotConnectedError(f"{event}: {exc}") from None
        return _parse_reply(event, reply, ack)

    async def _enter(self, event: str, body: WireModel, ack: type[M]) -> M:
        reply = await self._call(event, body, ack)
        room_id = getattr(reply, "room_id", None)
        assert isinstance(room_id, str)
        self._set_room(room_id)
        if isinstance(reply, RoomJoined):
            self._publish(slot=reply.slot, member_id=reply.member_id)
        return reply

    async def _leave(self) -> Ok:
        reply = await self._call("room:leave", None, Ok)
        self._set_room(None)
        return reply

    # -- frames out --------------------------------------------------------------------------

    def _flush_frame(self) -> None:
        with self._send_lock:
            data, self._pending_frame = self._pending_frame, None
            self._flush_scheduled = False
        sio = self._sio
        if data is None or sio is None or self._closing:
            return
        relay = self._relay
        if relay is not None and not relay.closed:
            self._spawn(self._relay_frame(relay, sio, data))
        else:
            self._spawn(self._emit_frame(sio, data))

    async def _relay_frame(self, relay: RelayLink, sio: socketio.AsyncClient, data: bytes) -> None:
        if await relay.send(data):
            self.frames_sent += 1
        else:
            await self._emit_frame(sio, data)  # the link just closed: this one goes the old way

    async def _emit_frame(self, sio: socketio.AsyncClient, data: bytes) -> None:
        try:
            await sio.emit("frame", data)
        except socketio.exceptions.SocketIOError:
            return  # the socket is going away; the reconnect logic takes over
        self.frames_sent += 1

    # -- events in ---------------------------------------------------------------------------

    def _json_handler(self, sio: socketio.AsyncClient, name: str) -> Callable[..., Any]:
        async def on_event(data: object = None) -> None:
            if sio is self._sio:
                self._on_json(name, data, self._clock())

        return on_event

    def _on_json(self, name: str, data: object, now: float) -> None:
        try:
            model = parse_event(name, data)
        except ProtocolError as exc:
            log.warning("ignored a malformed %s event: %s", name, exc.message)
            return
        if isinstance(model, ErrorEvent):
            info = model.error
            self._toast(
                user_message(info.code), code=info.code, detail=info.message, event=model.event
            )
            return
        if isinstance(model, RoomState):
            self._on_room_state(model)
        elif isinstance(model, TimerState):
            self._sync.add(model.server_time, now)
            self._publish(timer=model, offset=self._sync.offset)
        elif isinstance(model, BattleState):
            self._sync.add(model.server_time, now)
            self._publish(battle=model, offset=self._sync.offset)
        elif isinstance(model, Results):
            self._publish(results=model)

    def _on_room_state(self, state: RoomState) -> None:
        before = {m.slot: m.member_id for m in self._pub.room.members} if self._pub.room else {}
        after = {m.slot: m.member_id for m in state.members}
        # A buffer belongs to the member, not the slot: a reused slot starts empty.
        buffers = {s: b for s, b in self._pub.buffers.items() if after.get(s) == before.get(s)}
        slot = next((m.slot for m in state.members if m.member_id == self._user_id), None)
        self._publish(room=state, slot=slot, buffers=MappingProxyType(buffers))

    def _frames_handler(self, sio: socketio.AsyncClient) -> Callable[..., Any]:
        async def on_frames(data: object = None) -> None:
            if sio is self._sio:
                self._on_frames(data, self._clock())

        return on_frames

    def _on_frames(self, data: object, now: float) -> None:
        if not isinstance(data, bytes | bytearray | memoryview):
            log.warning("ignored a frames event that is not binary")
            return
        try:
            batch = decode_batch(data)
        except BatchDecodeError as exc:
            log.warning("ignored a malformed batch: %s", exc)
            return
        self._sync.add(batch.server_time_ms, now)
        server_t = batch.server_time_ms / 1000.0
        offset = self._sync.offset
        if offset is not None:
            with self._send_lock:
                self._pacer.on_tick(server_t - offset)  # send between ticks, not on them
        buffers = dict(self._pub.buffers)
        for slot, frame in batch.entries:
            buffer = buffers.get(slot, JitterBuffer())
            buffers[slot] = buffer.push(server_t, frame.to_sample(server_t))
        self._publish(buffers=MappingProxyType(buffers), offset=self._sync.offset)


def _in(model: TimerState | BattleState | Results | None, room_id: str | None) -> bool:
    return model is not None and model.room_id == room_id


def _login_body(credentials: tuple[str, str]) -> dict[str, Any]:
    return dump(LoginRequest(username=credentials[0], password=credentials[1]))


def _server_error(payload: object, fallback: str) -> ServerError:
    """The :class:`ServerError` in an ``{"error": {...}}`` body; an unreadable one (or an
    unknown code) reads as ``internal``, as the protocol asks."""
    try:
        info = parse_model(ErrorAck, payload).error
    except ProtocolError:
        return ServerError(ErrorCode.INTERNAL, fallback)
    return ServerError(info.code, info.message)


def _parse_reply(what: str, reply: object, model: type[M]) -> M:
    if isinstance(reply, dict) and "error" in reply:
        raise _server_error(reply, f"{what} failed")
    try:
        return parse_model(model, reply)
    except ProtocolError as exc:
        raise BadReplyError(f"{what}: unexpected reply: {exc.message}") from None
