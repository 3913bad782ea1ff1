"""The game's networking: a threaded Socket.IO client handing room snapshots to the frame loop.

:class:`NetClient` (``client``) talks to the server; :class:`RoomSnapshot` (``snapshot``) is
what the frame loop reads; ``jitter`` interpolates relayed faces; ``timing`` holds the pacer,
the clock offset and the reconnect backoff; ``errors`` the named failures and player messages.
"""

from __future__ import annotations

from game.net.client import CLOSE_TIMEOUT_S, REQUEST_TIMEOUT_S, NetClient
from game.net.errors import (
    USER_MESSAGES,
    BadReplyError,
    ClientClosedError,
    ConnectError,
    NetError,
    NotConnectedError,
    RequestTimeoutError,
    ServerError,
    user_message,
)
from game.net.jitter import BUFFER_FRAMES, PLAYOUT_DELAY_S, JitterBuffer, interpolate
from game.net.snapshot import MAX_TOASTS, ConnectionStatus, RoomSnapshot, Toast
from game.net.timing import (
    BACKOFF_FIRST_S,
    BACKOFF_MAX_S,
    FACE_HZ,
    OFFSET_WINDOW,
    ClockSync,
    FramePacer,
    backoff_delays,
    remaining_s,
)

__all__ = [
    "BACKOFF_FIRST_S",
    "BACKOFF_MAX_S",
    "BUFFER_FRAMES",
    "CLOSE_TIMEOUT_S",
    "FACE_HZ",
    "MAX_TOASTS",
    "OFFSET_WINDOW",
    "PLAYOUT_DELAY_S",
    "REQUEST_TIMEOUT_S",
    "USER_MESSAGES",
    "BadReplyError",
    "ClientClosedError",
    "ClockSync",
    "ConnectError",
    "ConnectionStatus",
    "FramePacer",
    "JitterBuffer",
    "NetClient",
    "NetError",
    "NotConnectedError",
    "RequestTimeoutError",
    "RoomSnapshot",
    "ServerError",
    "Toast",
    "backoff_delays",
    "interpolate",
    "remaining_s",
    "user_message",
]
