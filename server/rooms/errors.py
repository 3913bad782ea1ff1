"""Named errors of the room domain, each carrying the wire error code a handler sends back."""

from __future__ import annotations

from typing import ClassVar

from shared.protocol import ErrorCode, ProtocolError


class RoomError(ProtocolError):
    """Base of every room failure: ``code`` is the stable wire code, ``message`` plain words.

    It is a :class:`~shared.protocol.ProtocolError`, so a handler can pass it straight to
    ``error_payload`` / ``error_event``. A method that raises one has changed nothing.
    """

    default_code: ClassVar[ErrorCode] = ErrorCode.INTERNAL

    def __init__(self, message: str, code: ErrorCode | None = None) -> None:
        super().__init__(self.default_code if code is None else code, message)

    def __reduce__(self) -> tuple[type[RoomError], tuple[str, ErrorCode]]:  # type: ignore[override]
        return (type(self), (self.message, self.code))


class InvalidArgument(RoomError):
    """A value the room cannot take: bad name, id, plan, boss kind, time or size."""

    default_code = ErrorCode.BAD_REQUEST


class NotHost(RoomError):
    """A host-only control from someone who is not the host."""

    default_code = ErrorCode.FORBIDDEN


class NotMember(RoomError):
    """The user has no seat (or no connected seat) in the room."""

    default_code = ErrorCode.NOT_MEMBER


class RoomFull(RoomError):
    """Every seat is taken (or the session's roster is at the wire's member limit)."""

    default_code = ErrorCode.ROOM_FULL


class IllegalState(RoomError):
    """Not possible now: wrong phase, illegal timer transition, a closed room."""

    default_code = ErrorCode.ILLEGAL_STATE


class AlreadyInRoom(IllegalState):
    """The user is connected in another room (protocol.md: ``illegal_state``)."""


class InvalidFrame(RoomError):
    """Bytes that are not a valid face frame."""

    default_code = ErrorCode.INVALID_FRAME


class OutOfOrder(RoomError):
    """A frame whose ``seq`` is not newer than the member's last accepted frame."""

    default_code = ErrorCode.OUT_OF_ORDER


class UnknownGhost(RoomError):
    """No recording with that id."""

    default_code = ErrorCode.UNKNOWN_GHOST


class GhostAlreadySeated(RoomError):
    """That recording already has a seat in the room."""

    default_code = ErrorCode.CONFLICT


class UnknownRoom(RoomError):
    """No open room with that id."""

    default_code = ErrorCode.UNKNOWN_ROOM


class CorruptSnapshot(RoomError):
    """A stored room snapshot that is malformed or contradicts itself; nothing was restored."""

    default_code = ErrorCode.INTERNAL
