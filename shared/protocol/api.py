"""Request and response bodies of the HTTP (aiohttp) JSON API.

Every endpoint except register and login needs ``Authorization: Bearer <token>``.
A failed request answers with the :class:`~shared.protocol.errors.ErrorAck` body and
the status from :data:`~shared.protocol.errors.HTTP_STATUS`.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, Strict, model_validator

from shared.protocol.types import (
    MAX_LISTED,
    MAX_REST_DAYS,
    MAX_ROOM_MEMBERS,
    Amount,
    Count,
    DisplayText,
    EpochMs,
    Flag,
    Id,
    IsoDate,
    Minutes,
    Password,
    RoomId,
    Seconds,
    Slug,
    TimeZoneName,
    Token,
    Username,
    WireModel,
)
from shared.timer import Phase

_GoalMinutes = Annotated[int, Strict(), Field(ge=1, le=24 * 60)]
_Seats = Annotated[int, Strict(), Field(ge=0, le=MAX_ROOM_MEMBERS)]
_Capacity = Annotated[int, Strict(), Field(ge=1, le=MAX_ROOM_MEMBERS)]


class RegisterRequest(WireModel):
    """``POST /api/register``: create an account."""

    username: Username = Field(description="3–32 letters, digits, '_', '.' or '-'; unique.")
    password: Password = Field(repr=False, description="8–128 characters, kept as typed.")


class LoginRequest(WireModel):
    """``POST /api/login``: get a token for an existing account."""

    username: Username = Field(description="The account's username.")
    password: Password = Field(repr=False, description="The account's password.")


class AuthResponse(WireModel):
    """The answer to register and login: who you are and the token that proves it."""

    token: Token = Field(
        repr=False,
        description="Bearer token for HTTP and the Socket.IO auth object; keep it secret.",
    )
    user_id: Id = Field(description="The account's id (also its member id in rooms).")
    username: Username = Field(description="The account's username.")
    expires_at: EpochMs = Field(description="When the token stops working (epoch ms).")


class FriendRequest(WireModel):
    """``POST /api/friends``: add a user as a friend."""

    username: Username = Field(description="The user to add.")


class Friend(WireModel):
    """A user on the caller's friend list."""

    user_id: Id = Field(description="The friend's user id.")
    username: Username = Field(description="The friend's username.")
    mutual: Flag = Field(
        description="They have added the caller too; ghosts are shared only between mutual friends."
    )


class FriendList(WireModel):
    """``GET /api/friends``: the caller's friends."""

    friends: tuple[Friend, ...] = Field(
        max_length=MAX_LISTED, description=f"At most {MAX_LISTED} friends, by username."
    )


class StreakGoal(WireModel):
    """``GET``/``PUT /api/streak/settings``: the daily goal, the local day, and rest days."""

    goal_minutes: _GoalMinutes = Field(
        description="Focused minutes a day needs for the streak (1–1440)."
    )
    timezone: TimeZoneName = Field(
        description="IANA time zone whose midnights divide the days, e.g. 'Europe/London'."
    )
    rest_days: tuple[IsoDate, ...] = Field(
        default=(),
        max_length=MAX_REST_DAYS,
        description="Local dates (YYYY-MM-DD) that neither break nor extend the streak.",
    )

    @model_validator(mode="after")
    def _unique_days(self) -> StreakGoal:
        if len(set(self.rest_days)) != len(self.rest_days):
            raise ValueError("rest_days must not repeat a date")
        return self


class StreakReport(WireModel):
    """``GET /api/streak``: where the caller's streak stands today."""

    current: Count = Field(description="Consecutive goal days up to today (rest days skipped).")
    longest: Count = Field(description="Longest streak ever.")
    today: IsoDate = Field(description="Today's date in the user's time zone.")
    today_minutes: Minutes = Field(description="Focused minutes credited to today so far.")
    goal_minutes: _GoalMinutes = Field(description="The daily goal in force.")
    goal_met_today: Flag = Field(description="today_minutes has reached the goal.")
    rest_today: Flag = Field(description="Today is a rest day.")

    @model_validator(mode="after")
    def _consistent(self) -> StreakReport:
        if self.current > self.longest:
            raise ValueError("current streak cannot exceed the longest")
        return self


class SubjectLoad(WireModel):
    """Cognitive load for one subject, over all the caller's sessions in it."""

    subject: DisplayText = Field(description="The subject.")
    sessions: Count = Field(description="Sessions studied under this subject.")
    focused_seconds: Seconds = Field(description="Focused time across those sessions (s).")
    confusion_moments: Count = Field(
        description="Moments of sustained furrowed brow (high cognitive load) detected."
    )
    confusion_per_hour: Amount = Field(
        description="confusion_moments per focused hour; higher means harder going."
    )


class CognitiveLoadReport(WireModel):
    """``GET /api/reports/cognitive-load``: per-subject load, hardest first."""

    subjects: tuple[SubjectLoad, ...] = Field(
        max_length=MAX_LISTED, description=f"At most {MAX_LISTED} subjects."
    )


class GhostInfo(WireModel):
    """A recorded session that can be replayed as a ghost."""

    ghost_id: Id = Field(description="The recording's id; pass it to ghost:add.")
    owner_id: Id = Field(description="User id of whoever studied in it.")
    owner_username: Username = Field(description="Their username.")
    subject: DisplayText = Field(description="Subject of the session.")
    started_at: EpochMs = Field(description="When the session started (epoch ms).")
    duration_s: Seconds = Field(description="Length of the recording (s).")
    focused_seconds: Seconds = Field(description="Focused time in it (s).")
    total_damage: Amount = Field(description="Damage it dealt over the whole session.")


class GhostList(WireModel):
    """``GET /api/ghosts``: the caller's own and mutual friends' recordings, newest first."""

    ghosts: tuple[GhostInfo, ...] = Field(
        max_length=MAX_LISTED, description=f"At most {MAX_LISTED} recordings."
    )


class RoomInfo(WireModel):
    """One open room in the room browser (``GET /api/rooms``)."""

    room_id: RoomId = Field(description="The room's id; pass it to room:join.")
    name: DisplayText = Field(description="The room's name.")
    subject: DisplayText = Field(description="What the room studies.")
    host_id: Id = Field(description="User id of the host.")
    host_username: Username = Field(description="The host's username.")
    members: _Seats = Field(
        description="People seated now (held seats of people reconnecting included; ghosts not)."
    )
    capacity: _Capacity = Field(description="Seats in the room, people and ghosts together.")
    phase: Phase = Field(
        description="lobby, focus or break (rooms showing results are not listed)."
    )
    boss_kind: Slug = Field(description="The boss the room fights.")
    host_is_friend: Flag = Field(
        description="The caller has added the host as a friend (mutual or not)."
    )

    @model_validator(mode="after")
    def _fits(self) -> RoomInfo:
        if self.members > self.capacity:
            raise ValueError("members cannot exceed capacity")
        return self


class RoomList(WireModel):
    """``GET /api/rooms``: rooms the caller could join now, newest first."""

    rooms: tuple[RoomInfo, ...] = Field(
        max_length=MAX_LISTED, description=f"At most {MAX_LISTED} rooms, newest first."
    )
