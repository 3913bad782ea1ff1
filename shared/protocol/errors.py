"""Stable machine-readable error codes, the error payloads, and :class:`ProtocolError`.

Every failed event is answered twice with the same :class:`ErrorInfo`: as the
acknowledgement ``{"error": {...}}`` (:class:`ErrorAck`) and as an ``error``
event (:class:`ErrorEvent`). HTTP errors use the :class:`ErrorAck` body with the
status in :data:`HTTP_STATUS`. Codes never change meaning once published.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Annotated, Final

from pydantic import Field, Strict

from shared.protocol.types import MAX_MESSAGE_CHARS, EventName, WireModel


class ErrorCode(StrEnum):
    """Why a request failed; clients switch on these, never on the message text."""

    BAD_REQUEST = "bad_request"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_MEMBER = "not_member"
    UNKNOWN_ROOM = "unknown_room"
    ROOM_FULL = "room_full"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    RATE_LIMITED = "rate_limited"
    INVALID_FRAME = "invalid_frame"
    OUT_OF_ORDER = "out_of_order"
    ILLEGAL_STATE = "illegal_state"
    UNKNOWN_GHOST = "unknown_ghost"
    UNKNOWN_USER = "unknown_user"
    NOT_FRIENDS = "not_friends"
    CONFLICT = "conflict"
    UNSUPPORTED_VERSION = "unsupported_version"
    INTERNAL = "internal"


HTTP_STATUS: Final[Mapping[ErrorCode, int]] = MappingProxyType(
    {
        ErrorCode.BAD_REQUEST: 400,
        ErrorCode.UNAUTHORIZED: 401,
        ErrorCode.FORBIDDEN: 403,
        ErrorCode.NOT_MEMBER: 403,
        ErrorCode.UNKNOWN_ROOM: 404,
        ErrorCode.ROOM_FULL: 409,
        ErrorCode.PAYLOAD_TOO_LARGE: 413,
        ErrorCode.RATE_LIMITED: 429,
        ErrorCode.INVALID_FRAME: 400,
        ErrorCode.OUT_OF_ORDER: 409,
        ErrorCode.ILLEGAL_STATE: 409,
        ErrorCode.UNKNOWN_GHOST: 404,
        ErrorCode.UNKNOWN_USER: 404,
        ErrorCode.NOT_FRIENDS: 403,
        ErrorCode.CONFLICT: 409,
        ErrorCode.UNSUPPORTED_VERSION: 400,
        ErrorCode.INTERNAL: 500,
    }
)
"""The HTTP status that goes with each code when an HTTP endpoint fails."""

INTERNAL_MESSAGE: Final[str] = "internal server error"
"""The only text an unexpected failure reveals to a client."""


def _clip(message: str) -> str:
    text = " ".join(message.split()) or "error"
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[: MAX_MESSAGE_CHARS - 1] + "…"
    return text


class ProtocolError(ValueError):
    """A request that cannot be honoured, carrying the code and message sent back to the peer.

    The message is normalised on construction (one line, at most
    ``MAX_MESSAGE_CHARS`` characters) so it always fits :class:`ErrorInfo`.
    """

    def __init__(self, code: ErrorCode, message: str) -> None:
        self.code: ErrorCode = ErrorCode(code)
        self.message: str = _clip(message)
        super().__init__(self.message)

    def __reduce__(self) -> tuple[type[ProtocolError], tuple[ErrorCode, str]]:
        return (ProtocolError, (self.code, self.message))

    def __repr__(self) -> str:
        return f"ProtocolError({self.code.value!r}, {self.message!r})"

    def info(self) -> ErrorInfo:
        """The wire form of this error."""
        return ErrorInfo(code=self.code, message=self.message)


_Message = Annotated[str, Strict(), Field(min_length=1, max_length=MAX_MESSAGE_CHARS)]


class ErrorInfo(WireModel):
    """What went wrong, for machines (``code``) and for people (``message``)."""

    code: ErrorCode = Field(description="Stable machine-readable error code.")
    message: _Message = Field(
        description="One-line explanation in plain words, naming the offending field if any."
    )


class ErrorAck(WireModel):
    """The acknowledgement of a failed event, and the body of a failed HTTP request."""

    error: ErrorInfo = Field(description="The failure.")


class ErrorEvent(WireModel):
    """Server → client ``error`` event, sent alongside the error acknowledgement."""

    error: ErrorInfo = Field(description="The failure.")
    event: EventName | None = Field(
        default=None,
        description="Name of the client event that failed; null when it cannot be named "
        "(e.g. an unknown event or a connection-level failure).",
    )
