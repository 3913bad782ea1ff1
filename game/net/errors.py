"""Named failures of the game's network layer, and short sentences for the player per error code."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from shared.protocol import ErrorCode


class NetError(Exception):
    """Anything the network layer could not do for the game."""


class ServerError(NetError):
    """The server refused a request: its stable ``code`` and its one-line ``message``."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        self.code: ErrorCode = code
        self.message: str = message
        super().__init__(f"{code.value}: {message}")

    @property
    def user_message(self) -> str:
        """A short sentence to show the player (see :data:`USER_MESSAGES`)."""
        return user_message(self.code)


class ConnectError(NetError):
    """The server could not be reached (refused, unreachable, or the socket failed)."""


class NotConnectedError(NetError):
    """A room request while there is no live connection (before connect, or reconnecting)."""


class RequestTimeoutError(NetError):
    """The server did not answer a request in time (or the connection dropped meanwhile)."""


class BadReplyError(NetError):
    """The server answered with something that is not the protocol's reply to that request."""


class ClientClosedError(NetError):
    """The client was closed before (or while) the request ran."""


USER_MESSAGES: Final[Mapping[ErrorCode, str]] = MappingProxyType(
    {
        ErrorCode.BAD_REQUEST: "The server could not understand that request.",
        ErrorCode.UNAUTHORIZED: "Please log in again.",
        ErrorCode.FORBIDDEN: "Only the host can do that.",
        ErrorCode.NOT_MEMBER: "You are not in a room.",
        ErrorCode.UNKNOWN_ROOM: "That room does not exist any more.",
        ErrorCode.ROOM_FULL: "That room is full.",
        ErrorCode.PAYLOAD_TOO_LARGE: "That was too much for the server.",
        ErrorCode.RATE_LIMITED: "Slow down a little: too many requests.",
        ErrorCode.INVALID_FRAME: "A face frame could not be read by the server.",
        ErrorCode.OUT_OF_ORDER: "A late face frame was skipped.",
        ErrorCode.ILLEGAL_STATE: "That is not possible right now.",
        ErrorCode.UNKNOWN_GHOST: "That ghost no longer exists.",
        ErrorCode.UNKNOWN_USER: "There is no player with that name.",
        ErrorCode.NOT_FRIENDS: "Only ghosts of mutual friends can join.",
        ErrorCode.CONFLICT: "That is already taken.",
        ErrorCode.UNSUPPORTED_VERSION: "This game and the server do not match; please update.",
        ErrorCode.INTERNAL: "The server had a problem; please try again.",
    }
)
"""What the player reads for each error code (the server's ``message`` is for logs)."""

LOST_CONNECTION: Final[str] = "Connection lost; reconnecting…"
RECONNECTED: Final[str] = "Reconnected."
SEAT_LOST: Final[str] = "Reconnected, but your seat in the room is gone."
KICKED: Final[str] = "The server closed the connection (signed in somewhere else?)."
"""Toasts the client itself raises about its connection."""


def user_message(code: ErrorCode | str) -> str:
    """The sentence for a code; an unknown code reads like ``internal``, as the protocol says."""
    try:
        return USER_MESSAGES[ErrorCode(code)]
    except ValueError:
        return USER_MESSAGES[ErrorCode.INTERNAL]
