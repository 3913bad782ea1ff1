"""Wire-level limits, id patterns, constrained field types and the base model of every JSON message.

Everything that bounds what a peer may send lives here, so the limits are in one
place and the documentation (``docs/protocol.md``) can quote them.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
)

from shared.codec import BATCH_ENTRY_SIZE, BATCH_HEADER_SIZE, FRAME_SIZE

PROTOCOL_VERSION: Final[int] = 1
"""Bumped on any incompatible change to an event, payload or binary layout."""

MAX_JSON_BYTES: Final[int] = 16 * 1024
"""Largest accepted JSON payload (compact UTF-8). The biggest legitimate message, a
``room:state`` of a full room, is about 3 KiB; anything larger is junk or an attack."""

MAX_HTTP_JSON_BYTES: Final[int] = 64 * 1024
"""Largest JSON body of an HTTP request or response (lists of up to ``MAX_LISTED`` items)."""

MAX_JSON_DEPTH: Final[int] = 8
"""Deepest accepted nesting of JSON containers; our messages nest at most four levels."""

MAX_FRAME_BYTES: Final[int] = FRAME_SIZE
"""Largest ``frame`` payload: one binary face frame as laid out by ``shared/codec.py``."""

MAX_ROOM_MEMBERS: Final[int] = 16
"""Hard cap on members (people and ghosts) in a room; also the most entries in a batch."""

DEFAULT_MAX_MEMBERS: Final[int] = 8
"""Room size when ``room:create`` does not say: the boss arena's ring holds eight avatars."""

MAX_BATCH_BYTES: Final[int] = BATCH_HEADER_SIZE + MAX_ROOM_MEMBERS * BATCH_ENTRY_SIZE
"""Largest ``frames`` payload: a batch header plus a full room of (slot, frame) entries."""

MAX_SLOT: Final[int] = 255
"""Slots are one byte in binary batches."""

MAX_ROUNDS: Final[int] = 12
"""Most focus rounds in one session plan (twelve pomodoros is a very long day)."""

MAX_FOCUS_S: Final[int] = 4 * 3600
"""Longest focus block of a plan, in seconds."""

MAX_BREAK_S: Final[int] = 3600
"""Longest break of a plan, in seconds."""

MAX_SAFE_INTEGER: Final[int] = 2**53 - 1
"""Largest integer a JavaScript client reads exactly; bounds epoch-millisecond fields."""

MAX_DURATION_MS: Final[int] = 7 * 24 * 3600 * 1000
"""Bound on any millisecond duration on the wire (a week)."""

MAX_AMOUNT: Final[float] = 1e12
"""Bound on damage, hit points and similar game quantities: far beyond any real battle."""

MAX_XP: Final[int] = 10**9
"""Bound on experience points awarded for one session."""

MAX_MESSAGE_CHARS: Final[int] = 500
"""Longest human-readable error message."""

MAX_LISTED: Final[int] = 100
"""Most items in any list response (friends, ghosts, subjects, rest days)."""

MAX_REST_DAYS: Final[int] = 366
"""Most rest days a streak setting may list (a year of them)."""

NAME_MAX_CHARS: Final[int] = 40
"""Room names and subjects: 1 to this many characters, no control characters."""

# Field patterns (Rust regex syntax, as pydantic-core runs them). Ids are chosen by the
# server, so their patterns only need to keep junk and injection out of logs and paths.
TEXT_PATTERN: Final[str] = r"^[^\p{Cc}]+$"
USERNAME_PATTERN: Final[str] = r"^[A-Za-z0-9_.-]{3,32}$"
ID_PATTERN: Final[str] = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
ROOM_ID_PATTERN: Final[str] = r"^[A-Za-z0-9_-]{4,36}$"
TOKEN_PATTERN: Final[str] = r"^[A-Za-z0-9._~+/=-]{16,1024}$"
SLUG_PATTERN: Final[str] = r"^[a-z][a-z0-9_]{0,31}$"
EVENT_NAME_PATTERN: Final[str] = r"^[a-z][a-z_:]{0,31}$"
TIMEZONE_PATTERN: Final[str] = r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}$"
DATE_PATTERN: Final[str] = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"

PATTERN_HINTS: Final[dict[str, str]] = {
    TEXT_PATTERN: "must not contain control characters",
    USERNAME_PATTERN: "must be 3 to 32 letters, digits, '_', '.' or '-'",
    ID_PATTERN: "must be an id: 1 to 64 letters, digits, '_', '.', ':' or '-', starting with "
    "a letter or digit",
    ROOM_ID_PATTERN: "must be a room id: 4 to 36 letters, digits, '_' or '-'",
    TOKEN_PATTERN: "must be a token: 16 to 1024 URL-safe characters",
    SLUG_PATTERN: "must be 1 to 32 lowercase letters, digits or '_', starting with a letter",
    EVENT_NAME_PATTERN: "must be an event name such as 'room:join'",
    TIMEZONE_PATTERN: "must be an IANA time zone name such as 'Europe/London'",
}
"""Plain-words explanation of each pattern, used in error messages instead of the regex."""

_DATE_RE: Final[re.Pattern[str]] = re.compile(DATE_PATTERN)


def _iso_date(value: object) -> object:
    # Only the ISO calendar form is a date on our wire; pydantic's lax mode would also
    # take epoch numbers and datetime strings, which hide client bugs.
    if isinstance(value, str):
        if not _DATE_RE.fullmatch(value):
            raise ValueError("must be a date written YYYY-MM-DD")
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError("is not a real calendar date") from None
    return value


_NOT_ZONES: Final[frozenset[str]] = frozenset({"localtime", "posixrules", "Factory"})
"""Files in a tz database that are not places: they would mean "wherever the server is"."""


def _known_zone(value: str) -> str:
    if value in _NOT_ZONES:
        raise ValueError("is not a known IANA time zone")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError("is not a known IANA time zone") from None
    return value


def _only_true(value: object) -> object:
    if value is not True:
        raise ValueError("must be true")
    return value


DisplayText = Annotated[
    str, Strict(), Field(min_length=1, max_length=NAME_MAX_CHARS, pattern=TEXT_PATTERN)
]
"""A room name or subject: 1–40 characters after trimming, no control characters."""

Username = Annotated[str, Strict(), Field(pattern=USERNAME_PATTERN)]
Password = Annotated[
    str, Strict(), StringConstraints(strip_whitespace=False, min_length=8, max_length=128)
]
"""8–128 characters, kept exactly as typed (spaces are part of a password)."""

Token = Annotated[str, Strict(), Field(pattern=TOKEN_PATTERN)]
Id = Annotated[str, Strict(), Field(pattern=ID_PATTERN)]
"""A user, member, ghost or session id, chosen by the server."""

RoomId = Annotated[str, Strict(), Field(pattern=ROOM_ID_PATTERN)]
Slug = Annotated[str, Strict(), Field(pattern=SLUG_PATTERN)]
"""A short machine name such as a boss kind (``slime``) or a pause reason (``host``)."""

EventName = Annotated[str, Strict(), Field(pattern=EVENT_NAME_PATTERN)]
TimeZoneName = Annotated[
    str, Strict(), Field(max_length=64, pattern=TIMEZONE_PATTERN), AfterValidator(_known_zone)
]
IsoDate = Annotated[date, Strict(), BeforeValidator(_iso_date)]
"""A calendar date, ``YYYY-MM-DD`` on the wire."""

EpochMs = Annotated[int, Strict(), Field(ge=0, le=MAX_SAFE_INTEGER)]
"""An instant: Unix epoch milliseconds."""

DurationMs = Annotated[int, Strict(), Field(ge=0, le=MAX_DURATION_MS)]
Slot = Annotated[int, Strict(), Field(ge=0, le=MAX_SLOT)]
Count = Annotated[int, Strict(), Field(ge=0, le=MAX_SAFE_INTEGER)]
Amount = Annotated[float, Strict(), Field(ge=0.0, le=MAX_AMOUNT, allow_inf_nan=False)]
"""A finite, non-negative game quantity (damage, hit points, damage per second)."""

Fraction = Annotated[float, Strict(), Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Seconds = Annotated[float, Strict(), Field(ge=0.0, le=MAX_DURATION_MS / 1000, allow_inf_nan=False)]
Minutes = Annotated[
    float, Strict(), Field(ge=0.0, le=MAX_DURATION_MS / 60_000, allow_inf_nan=False)
]
Flag = Annotated[bool, Strict()]
AlwaysTrue = Annotated[bool, BeforeValidator(_only_true)]


class WireModel(BaseModel):
    """Base of every JSON message: frozen, unknown fields forbidden, strings trimmed, floats finite.

    Scalar fields are strict (``"5"`` is not an int, ``1`` is not a bool); enums
    and dates accept their JSON spelling so ``model_validate(dump(m)) == m``.
    """

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        str_strip_whitespace=True,
        allow_inf_nan=False,
        # Error texts must never echo a password or a megabyte of junk back.
        hide_input_in_errors=True,
    )
