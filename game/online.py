"""Playing on a server, shared by ``convex play --server`` and ``convex demo``: your face, waits, pacing.

Theory of operation
-------------------
The arena scene already sends the local face to the room (``link.send_face`` every frame, paced
to :data:`~game.net.timing.FACE_HZ` by the :class:`~game.net.NetClient`), so going online is:
a face feed (:func:`local_feed`: the webcam through the tracker, or a scripted face), a signed
in and connected client (:func:`sign_in`), a room (joined or created), then
:func:`enter_arena`. Offscreen runs pace their frames to real time (:class:`PacedLoop`) because
the server's clock is real. :func:`room_rows` is the room browser's table, the same in the
terminal (``--rooms``) and in the lobby scene. No image byte ever leaves this module's callers:
only :class:`~shared.face.FaceSample` numbers go to the client.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final, Protocol, TypeVar

from game.capture.synthetic import SyntheticFeed, SyntheticSource
from game.net import ConnectError, NetClient, ServerError
from shared.protocol import ErrorCode, ProtocolError

if TYPE_CHECKING:
    from game.app import ConvexApp, SampleFeed

log = logging.getLogger("convex.online")

T = TypeVar("T")

LOCAL_SCRIPT: Final[tuple[tuple[str, float], ...]] = (
    ("focused", 5.0),
    ("smile", 1.5),
    ("focused", 6.0),
    ("talking", 1.5),
)
"""Your scripted face when there is no webcam: focused, with a smile and a word now and then."""

SYNTHETIC: Final[str] = "synthetic"
"""The ``source`` value of the scripted face."""

STEP_TIMEOUT_S: Final[float] = 15.0
"""Longest wait for one setup step (login, connect, join, create)."""

FPS: Final[float] = 30.0
"""Frame rate offscreen online runs pace rendering to (real time)."""

PHASE_TEXT: Final[dict[str, str]] = {
    "lobby": "waiting",
    "focus": "focusing",
    "break": "on a break",
    "results": "finished",
}
"""How a room's timer phase reads in the room browser."""

ROOM_COLUMNS: Final[tuple[str, ...]] = ("id", "room", "subject", "host", "players", "phase")
"""Headers of the room browser's table (terminal and lobby)."""

FRIEND_MARK: Final[str] = "★"
"""Shown before the host's name when the host is on your friend list."""


class OnlineError(RuntimeError):
    """A step of going online did not finish in time."""


class RoomEntry(Protocol):
    """One open room as the server lists it (:class:`shared.protocol.RoomInfo`)."""

    @property
    def room_id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def host_username(self) -> str: ...
    @property
    def members(self) -> int: ...
    @property
    def capacity(self) -> int: ...
    @property
    def phase(self) -> str: ...
    @property
    def host_is_friend(self) -> bool: ...


def wait_for(
    future: concurrent.futures.Future[T],
    what: str,
    *,
    timeout: float = STEP_TIMEOUT_S,
    error: type[Exception] = OnlineError,
) -> T:
    """The future's result; ``error("timed out: what")`` if it takes longer than ``timeout``."""
    try:
        return future.result(timeout)
    except concurrent.futures.TimeoutError:
        raise error(f"timed out: {what}") from None


def describe(exc: Exception) -> str:
    """One sentence for the player about a failed network request."""
    if isinstance(exc, ServerError):
        return exc.user_message
    if isinstance(exc, ConnectError):
        return "Cannot reach the server; is it running?"
    if isinstance(exc, ProtocolError):
        return exc.message
    return str(exc) or type(exc).__name__


def sign_in(url: str, username: str, password: str, *, register: bool = False) -> NetClient:
    """A client logged in (or registered first) at ``url``; not yet connected. Raises
    :class:`~game.net.NetError` / :class:`~shared.protocol.ProtocolError` as the client does."""
    client = NetClient(url)
    try:
        request = client.register if register else client.login
        wait_for(request(username, password), "log in")
    except BaseException:
        client.close()
        raise
    return client


def is_code(exc: BaseException, code: ErrorCode) -> bool:
    """Whether ``exc`` is the server refusing with ``code``."""
    return isinstance(exc, ServerError) and exc.code is code


def room_rows(rooms: Sequence[RoomEntry]) -> list[tuple[str, str, str, str, str, str]]:
    """The room browser's rows: id, name, subject, host (★ for a friend), players, phase."""
    rows: list[tuple[str, str, str, str, str, str]] = []
    for room in rooms:
        host = (FRIEND_MARK + " " if room.host_is_friend else "") + room.host_username
        phase = str(room.phase)
        rows.append(
            (
                room.room_id,
                room.name,
                room.subject,
                host,
                f"{room.members}/{room.capacity}",
                PHASE_TEXT.get(phase, phase),
            )
        )
    return rows


def room_table(rooms: Sequence[RoomEntry]) -> str:
    """The rooms as a plain-text table for the terminal (header first)."""
    rows = [ROOM_COLUMNS, *room_rows(rooms)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(ROOM_COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def enter_arena(app: ConvexApp, client: NetClient) -> None:
    """Show ``client``'s room in ``app``: the arena (then the results), the face sent at 15 Hz."""
    from game.scenes.arena import attach_room
    from game.scenes.base import SceneId

    attach_room(app, client)
    app.switch(SceneId.ARENA)


def wait_for_room(client: NetClient, timeout: float = STEP_TIMEOUT_S) -> None:
    """Block until the joined room's state has arrived (so the first frame shows the room)."""
    deadline = time.monotonic() + timeout
    while client.snapshot().room is None:
        if time.monotonic() > deadline:
            raise OnlineError("timed out: the room's state did not arrive")
        time.sleep(0.02)


# -- your face -----------------------------------------------------------------------------------


def synthetic_local() -> SampleFeed:
    """The scripted face of :data:`LOCAL_SCRIPT`, on the real clock, started."""
    return SyntheticFeed(SyntheticSource(LOCAL_SCRIPT, seed=3), clock=time.monotonic).start()


@contextlib.contextmanager
def local_feed(
    source: str, camera: int = 0, *, model: Path | None = None, fallback: bool = True
) -> Iterator[tuple[SampleFeed, str]]:
    """Your face: the webcam through the tracker, else (or with ``synthetic``) a scripted one.

    With ``fallback`` a missing webcam or tracker is logged and the scripted face used instead
    (the demo); without it the error is raised (``convex play``: friends must not study with a
    fake face by accident). Yields the feed and ``"webcam"`` or ``"synthetic"``.
    """
    if source != SYNTHETIC:
        from game.capture.model import ModelError
        from game.capture.sources import CameraUnavailableError, WebcamSource
        from game.capture.tracker import FaceTracker, TrackerError

        try:
            webcam = WebcamSource(camera)
        except CameraUnavailableError as exc:
            if not fallback:
                raise
            log.warning("no webcam (%s); using the scripted demo face", exc)
        else:
            tracker = FaceTracker(model, source=webcam)
            try:
                tracker.start()
            except (ModelError, TrackerError) as exc:
                webcam.close()
                if not fallback:
                    raise
                log.warning("the tracker did not start (%s); using the scripted demo face", exc)
            else:
                try:
                    yield tracker, "webcam"
                finally:
                    with contextlib.suppress(TrackerError):
                        tracker.stop()
                    webcam.close()
                return
    yield synthetic_local(), SYNTHETIC


# -- frames --------------------------------------------------------------------------------------


class PacedLoop:
    """Renders frames paced to real time at ``fps``; ``on_frame(app, stage)`` after each."""

    def __init__(
        self,
        app: ConvexApp,
        on_frame: Callable[[ConvexApp, str], None] | None = None,
        fps: float = FPS,
    ) -> None:
        self.app = app
        self.on_frame = on_frame
        self.fps = fps
        self.next_frame = time.monotonic()
        self.t0 = time.monotonic()

    def frame(self, stage: str = "") -> None:
        """Run one frame, then sleep until the next one is due (never to catch up)."""
        self.app.run_frames(1)
        if self.on_frame is not None:
            self.on_frame(self.app, stage)
        self.next_frame += 1.0 / self.fps
        delay = self.next_frame - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:
            self.next_frame = time.monotonic()

    def elapsed(self) -> float:
        """Seconds since the loop was made."""
        return time.monotonic() - self.t0
