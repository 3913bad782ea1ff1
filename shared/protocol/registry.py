"""The event and endpoint registry, and the one safe door for untrusted input: :func:`parse_event`.

Theory of operation: a peer can send anything — wrong types, ``None``, NaN,
deep or huge structures, unknown events. :func:`parse_event` first walks the
payload iteratively with a byte budget (so a hostile payload costs at most
``MAX_JSON_BYTES`` steps and no recursion), then lets the event's model
validate it. Every failure leaves as a :class:`ProtocolError` whose code is
``bad_request``, ``payload_too_large`` or ``invalid_frame`` and whose message
names the offending field in plain words; no other exception escapes.
Handlers therefore never see raw dicts, only frozen models.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final, TypeVar

from pydantic import ValidationError

from shared.protocol.api import (
    AuthResponse,
    CognitiveLoadReport,
    Friend,
    FriendList,
    FriendRequest,
    GhostList,
    LoginRequest,
    RegisterRequest,
    RoomList,
    StreakGoal,
    StreakReport,
)
from shared.protocol.errors import (
    INTERNAL_MESSAGE,
    ErrorAck,
    ErrorCode,
    ErrorEvent,
    ErrorInfo,
    ProtocolError,
)
from shared.protocol.events import (
    AddGhost,
    Auth,
    BattleState,
    BinaryPayload,
    CreateRoom,
    FinishRoom,
    GhostAdded,
    JoinRoom,
    LeaveRoom,
    Ok,
    PauseRoom,
    Results,
    ResumeRoom,
    RoomCreated,
    RoomJoined,
    RoomState,
    StartRoom,
    TimerState,
)
from shared.protocol.types import (
    ID_PATTERN,
    MAX_BATCH_BYTES,
    MAX_FRAME_BYTES,
    MAX_HTTP_JSON_BYTES,
    MAX_JSON_BYTES,
    MAX_JSON_DEPTH,
    PATTERN_HINTS,
    PROTOCOL_VERSION,
    WireModel,
)

M = TypeVar("M", bound=WireModel)

MAX_PROBLEMS_LISTED: Final[int] = 3
"""How many validation problems an error message spells out before summarising the rest."""

_SHOWN_NAME_CHARS: Final[int] = 40


class Direction(StrEnum):
    """Who sends an event."""

    CLIENT_TO_SERVER = "client_to_server"
    SERVER_TO_CLIENT = "server_to_client"


@dataclass(frozen=True, slots=True)
class BinaryBody:
    """Marks an event whose payload is raw bytes laid out by ``shared/codec.py``, not JSON."""

    layout: str
    max_bytes: int


FRAME_BODY: Final[BinaryBody] = BinaryBody(
    "one face frame (shared.codec.encode_frame)", MAX_FRAME_BYTES
)
BATCH_BODY: Final[BinaryBody] = BinaryBody(
    "one relay tick's batch of (slot, frame) entries (shared.codec.encode_batch)",
    MAX_BATCH_BYTES,
)

MAX_GHOST_DOWNLOAD_BYTES: Final[int] = 64 * 1024 * 1024
"""Largest ghost recording a client downloads; a 12-hour recording (the format's cap) stays far
below it."""

GHOST_BODY: Final[BinaryBody] = BinaryBody(
    "one ghost recording in the stored format (shared.ghost.encode_ghost / decode_ghost)",
    MAX_GHOST_DOWNLOAD_BYTES,
)


@dataclass(frozen=True, slots=True)
class EventSpec:
    """One Socket.IO event: its direction, payload model (or binary body), ack and failures."""

    name: str
    direction: Direction
    model: type[WireModel] | BinaryBody
    ack: type[WireModel] | None
    errors: tuple[ErrorCode, ...]
    doc: str

    @property
    def is_binary(self) -> bool:
        """The payload is bytes, not a JSON object."""
        return isinstance(self.model, BinaryBody)


# Any client event can fail these ways before its handler runs.
COMMON_ERRORS: Final[tuple[ErrorCode, ...]] = (
    ErrorCode.BAD_REQUEST,
    ErrorCode.PAYLOAD_TOO_LARGE,
    ErrorCode.RATE_LIMITED,
    ErrorCode.INTERNAL,
)

_C2S, _S2C = Direction.CLIENT_TO_SERVER, Direction.SERVER_TO_CLIENT
_E = ErrorCode


def _spec(
    name: str,
    direction: Direction,
    model: type[WireModel] | BinaryBody,
    ack: type[WireModel] | None,
    errors: tuple[ErrorCode, ...],
    doc: str,
) -> tuple[str, EventSpec]:
    full = (*COMMON_ERRORS, *errors) if direction is _C2S else errors
    return name, EventSpec(name, direction, model, ack, full, doc)


EVENTS: Final[Mapping[str, EventSpec]] = MappingProxyType(
    dict(
        [
            _spec(
                "room:create",
                _C2S,
                CreateRoom,
                RoomCreated,
                (_E.ILLEGAL_STATE,),
                "Open a room; the sender becomes host and first member.",
            ),
            _spec(
                "room:join",
                _C2S,
                JoinRoom,
                RoomJoined,
                (_E.UNKNOWN_ROOM, _E.ROOM_FULL, _E.ILLEGAL_STATE),
                "Take a seat in a room, or reclaim one within the reconnect window.",
            ),
            _spec(
                "room:leave",
                _C2S,
                LeaveRoom,
                Ok,
                (_E.NOT_MEMBER,),
                "Give up the seat in the sender's room.",
            ),
            _spec(
                "room:start",
                _C2S,
                StartRoom,
                Ok,
                (_E.NOT_MEMBER, _E.FORBIDDEN, _E.ILLEGAL_STATE),
                "Host: start the first focus block.",
            ),
            _spec(
                "room:pause",
                _C2S,
                PauseRoom,
                Ok,
                (_E.NOT_MEMBER, _E.FORBIDDEN, _E.ILLEGAL_STATE),
                "Host: pause the timer.",
            ),
            _spec(
                "room:resume",
                _C2S,
                ResumeRoom,
                Ok,
                (_E.NOT_MEMBER, _E.FORBIDDEN, _E.ILLEGAL_STATE),
                "Host: resume the timer.",
            ),
            _spec(
                "room:finish",
                _C2S,
                FinishRoom,
                Ok,
                (_E.NOT_MEMBER, _E.FORBIDDEN, _E.ILLEGAL_STATE),
                "Host: end the session early and go to the results.",
            ),
            _spec(
                "ghost:add",
                _C2S,
                AddGhost,
                GhostAdded,
                (
                    _E.NOT_MEMBER,
                    _E.FORBIDDEN,
                    _E.ILLEGAL_STATE,
                    _E.UNKNOWN_GHOST,
                    _E.NOT_FRIENDS,
                    _E.ROOM_FULL,
                    _E.CONFLICT,
                ),
                "Host: seat a friend's (or one's own) recorded session as a ghost.",
            ),
            _spec(
                "frame",
                _C2S,
                FRAME_BODY,
                None,
                (_E.NOT_MEMBER, _E.INVALID_FRAME, _E.OUT_OF_ORDER),
                "One binary face frame from the sender's tracker.",
            ),
            _spec(
                "room:state",
                _S2C,
                RoomState,
                None,
                (),
                "Room membership and settings; on join and on every change.",
            ),
            _spec(
                "timer",
                _S2C,
                TimerState,
                None,
                (),
                "The authoritative timer; on every phase change, pause and resume.",
            ),
            _spec(
                "battle",
                _S2C,
                BattleState,
                None,
                (),
                "Boss HP, group DPS and penalties; once per battle tick.",
            ),
            _spec(
                "room:results",
                _S2C,
                Results,
                None,
                (),
                "End-of-session summary; on entering results and to late (re)joiners.",
            ),
            _spec(
                "frames",
                _S2C,
                BATCH_BODY,
                None,
                (),
                "Binary batch of the room's latest frames; once per relay tick.",
            ),
            _spec(
                "error",
                _S2C,
                ErrorEvent,
                None,
                (),
                "A client event failed; also sent as that event's ack.",
            ),
        ]
    )
)
"""Every Socket.IO event of the protocol, by name."""


@dataclass(frozen=True, slots=True)
class PathParam:
    """One ``{name}`` segment of an endpoint's path and the pattern its value must match."""

    name: str
    pattern: str
    doc: str


@dataclass(frozen=True, slots=True)
class HttpEndpoint:
    """One HTTP endpoint: method, path, bodies (JSON models, or bytes), success status, failures."""

    method: str
    path: str
    request: type[WireModel] | None
    response: type[WireModel] | BinaryBody
    status: int
    auth: bool
    errors: tuple[ErrorCode, ...]
    doc: str
    params: tuple[PathParam, ...] = ()

    @property
    def key(self) -> str:
        """``"METHOD /path"``, the endpoint's name in :data:`HTTP_ENDPOINTS` and the docs."""
        return f"{self.method} {self.path}"

    @property
    def is_binary(self) -> bool:
        """The success body is ``application/octet-stream`` bytes, not a JSON object."""
        return isinstance(self.response, BinaryBody)


_HTTP_COMMON: Final[tuple[ErrorCode, ...]] = (
    ErrorCode.BAD_REQUEST,
    ErrorCode.PAYLOAD_TOO_LARGE,
    ErrorCode.RATE_LIMITED,
    ErrorCode.INTERNAL,
)


def _http(
    method: str,
    path: str,
    request: type[WireModel] | None,
    response: type[WireModel] | BinaryBody,
    status: int,
    errors: tuple[ErrorCode, ...],
    doc: str,
    *,
    auth: bool = True,
    params: tuple[PathParam, ...] = (),
) -> tuple[str, HttpEndpoint]:
    needs = (ErrorCode.UNAUTHORIZED,) if auth else ()
    endpoint = HttpEndpoint(
        method,
        path,
        request,
        response,
        status,
        auth,
        (*_HTTP_COMMON, *needs, *errors),
        doc,
        params,
    )
    return endpoint.key, endpoint


HTTP_ENDPOINTS: Final[Mapping[str, HttpEndpoint]] = MappingProxyType(
    dict(
        [
            _http(
                "POST",
                "/api/register",
                RegisterRequest,
                AuthResponse,
                201,
                (_E.CONFLICT,),
                "Create an account and log in.",
                auth=False,
            ),
            _http(
                "POST",
                "/api/login",
                LoginRequest,
                AuthResponse,
                200,
                (_E.UNAUTHORIZED,),
                "Exchange username and password for a token.",
                auth=False,
            ),
            _http("GET", "/api/friends", None, FriendList, 200, (), "The caller's friends."),
            _http(
                "POST",
                "/api/friends",
                FriendRequest,
                Friend,
                201,
                (_E.UNKNOWN_USER, _E.CONFLICT),
                "Add a friend by username.",
            ),
            _http(
                "GET",
                "/api/streak/settings",
                None,
                StreakGoal,
                200,
                (),
                "The caller's daily goal, time zone and rest days.",
            ),
            _http(
                "PUT",
                "/api/streak/settings",
                StreakGoal,
                StreakGoal,
                200,
                (),
                "Replace the caller's daily goal, time zone and rest days.",
            ),
            _http(
                "GET",
                "/api/streak",
                None,
                StreakReport,
                200,
                (),
                "The caller's current and longest streak and today's progress.",
            ),
            _http(
                "GET",
                "/api/reports/cognitive-load",
                None,
                CognitiveLoadReport,
                200,
                (),
                "Per-subject cognitive load of the caller's sessions.",
            ),
            _http(
                "GET",
                "/api/ghosts",
                None,
                GhostList,
                200,
                (),
                "Recordings the caller may replay as ghosts.",
            ),
            _http(
                "GET",
                "/api/ghosts/{ghost_id}",
                None,
                GHOST_BODY,
                200,
                (_E.UNKNOWN_GHOST, _E.NOT_FRIENDS),
                "Download one recording (the caller's own or a mutual friend's) to replay locally.",
                params=(
                    PathParam(
                        "ghost_id", ID_PATTERN, "The recording's id, as GET /api/ghosts lists it."
                    ),
                ),
            ),
            _http(
                "GET",
                "/api/rooms",
                None,
                RoomList,
                200,
                (),
                "Open rooms the caller could join now (not full, no results showing).",
            ),
        ]
    )
)
"""Every HTTP endpoint of the JSON API, by ``"METHOD /path"``."""


# --- parsing ----------------------------------------------------------------------------------


def parse_event(name: object, payload: object) -> WireModel | BinaryPayload:
    """Validate one received event into its model; anything invalid raises :class:`ProtocolError`.

    Events whose model has no required field accept a missing (``None``) payload.
    Binary events return a size-checked :class:`BinaryPayload` for ``shared/codec.py``.
    """
    spec = EVENTS.get(name) if isinstance(name, str) else None
    if spec is None:
        raise ProtocolError(ErrorCode.BAD_REQUEST, f"unknown event {_shown_name(name)}")
    if isinstance(spec.model, BinaryBody):
        return _parse_binary(spec.name, spec.model, payload)
    if payload is None and not any(f.is_required() for f in spec.model.model_fields.values()):
        payload = {}
    return parse_model(spec.model, payload, max_bytes=MAX_JSON_BYTES)


def parse_model(model: type[M], payload: object, *, max_bytes: int = MAX_HTTP_JSON_BYTES) -> M:
    """Validate a decoded JSON value (an HTTP body, an ack, the auth object) into ``model``."""
    if not isinstance(payload, dict):
        raise ProtocolError(
            ErrorCode.BAD_REQUEST, f"payload must be a JSON object, got {_json_kind(payload)}"
        )
    _check_json(payload, max_bytes)
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise ProtocolError(ErrorCode.BAD_REQUEST, _describe(exc)) from None


def parse_auth(auth: object) -> Auth:
    """Validate the Socket.IO connection ``auth`` object; failures are ``unauthorized``
    (or ``unsupported_version`` when the client speaks another protocol version)."""
    if auth is None:
        raise ProtocolError(ErrorCode.UNAUTHORIZED, "missing auth: connect with {'token': ...}")
    try:
        parsed = parse_model(Auth, auth, max_bytes=MAX_JSON_BYTES)
    except ProtocolError as exc:
        raise ProtocolError(ErrorCode.UNAUTHORIZED, f"bad auth: {exc.message}") from None
    if parsed.protocol_version not in (None, PROTOCOL_VERSION):
        raise ProtocolError(
            ErrorCode.UNSUPPORTED_VERSION,
            f"client speaks protocol {parsed.protocol_version}, server speaks {PROTOCOL_VERSION}",
        )
    return parsed


def dump(model: WireModel) -> dict[str, Any]:
    """The JSON-ready dict to emit (enums as strings, tuples as lists, dates ISO)."""
    return model.model_dump(mode="json")


def error_info(exc: BaseException) -> ErrorInfo:
    """The wire form of any exception; anything but a :class:`ProtocolError` reveals nothing."""
    if isinstance(exc, ProtocolError):
        return exc.info()
    return ErrorInfo(code=ErrorCode.INTERNAL, message=INTERNAL_MESSAGE)


def error_payload(exc: BaseException) -> dict[str, Any]:
    """The ack dict ``{"error": {"code", "message"}}`` for a failed event or HTTP request."""
    return dump(ErrorAck(error=error_info(exc)))


def error_event(exc: BaseException, event: object = None) -> ErrorEvent:
    """The ``error`` event for a failure of client event ``event`` (dropped if not a known name)."""
    known = event if isinstance(event, str) and event in EVENTS else None
    return ErrorEvent(error=error_info(exc), event=known)


# --- internals --------------------------------------------------------------------------------


def _parse_binary(name: str, body: BinaryBody, payload: object) -> BinaryPayload:
    if not isinstance(payload, bytes | bytearray | memoryview):
        raise ProtocolError(
            ErrorCode.BAD_REQUEST,
            f"{name} payload must be binary (bytes), got {_json_kind(payload)}",
        )
    size = payload.nbytes if isinstance(payload, memoryview) else len(payload)
    if size > body.max_bytes:
        raise ProtocolError(
            ErrorCode.PAYLOAD_TOO_LARGE,
            f"{name} payload is {size} bytes; the limit is {body.max_bytes}",
        )
    if size == 0:
        raise ProtocolError(ErrorCode.INVALID_FRAME, f"{name} payload is empty")
    return BinaryPayload(event=name, data=bytes(payload))


def _check_json(payload: object, max_bytes: int) -> None:
    """Reject non-JSON values, nesting deeper than MAX_JSON_DEPTH and payloads over ``max_bytes``.

    The size is that of compact UTF-8 JSON, slightly underestimated (string escapes
    are not counted). Every value costs at least one byte, so the walk ends within
    ``max_bytes`` steps however the payload is shaped (even if it contains itself).
    """
    size = 0
    stack: list[tuple[object, int]] = [(payload, 0)]
    while stack:
        value, depth = stack.pop()
        if value is None or value is True:
            size += 4
        elif value is False:
            size += 5
        elif isinstance(value, str):
            size += _str_bytes(value, max_bytes) + 2
        elif isinstance(value, int):
            # Decimal digits from the bit length: str() of a huge int is slow and may raise.
            size += int(value.bit_length() * math.log10(2)) + 2
        elif isinstance(value, float):
            size += len(repr(value))
        elif isinstance(value, list | tuple | dict):
            if depth >= MAX_JSON_DEPTH:
                raise ProtocolError(
                    ErrorCode.BAD_REQUEST,
                    f"payload is nested more than {MAX_JSON_DEPTH} levels deep",
                )
            # Brackets plus one separator per item: checked before pushing the items.
            size += 2 + len(value)
            if size > max_bytes:
                break
            if isinstance(value, dict):
                for key, item in value.items():
                    if not isinstance(key, str):
                        raise ProtocolError(
                            ErrorCode.BAD_REQUEST, "payload has an object key that is not text"
                        )
                    size += _str_bytes(key, max_bytes) + 3
                    stack.append((item, depth + 1))
                    if size > max_bytes:
                        break
            else:
                stack.extend((item, depth + 1) for item in value)
        else:
            raise ProtocolError(
                ErrorCode.BAD_REQUEST,
                f"payload contains {_json_kind(value)}, which JSON cannot carry",
            )
        if size > max_bytes:
            break
    if size > max_bytes:
        raise ProtocolError(
            ErrorCode.PAYLOAD_TOO_LARGE, f"payload is over the {max_bytes}-byte limit"
        )


def _str_bytes(text: str, max_bytes: int) -> int:
    if len(text) > max_bytes:
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))


_JSON_KINDS: Final[dict[type, str]] = {
    dict: "an object",
    list: "an array",
    tuple: "an array",
    str: "a string",
    bool: "a boolean",
    int: "a number",
    float: "a number",
}


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    for kind, words in _JSON_KINDS.items():
        if isinstance(value, kind):
            return words
    return f"a Python {_safe(type(value).__name__)}"


def _safe(text: str) -> str:
    clipped = "".join(ch if ch.isprintable() else "?" for ch in text[:_SHOWN_NAME_CHARS])
    return clipped + ("…" if len(text) > _SHOWN_NAME_CHARS else "")


def _shown_name(name: object) -> str:
    if isinstance(name, str):
        return repr(_safe(name))
    return f"name ({_json_kind(name)} instead of text)"


_SHOULD_PREFIXES: Final[tuple[str, ...]] = (
    "Input should ",
    "String should ",
    "Value should ",
    "List should ",
    "Tuple should ",
    "Dictionary should ",
    "Date should ",
)


def _explain(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a field of this message"
    if kind == "string_pattern_mismatch":
        return PATTERN_HINTS.get(str(ctx.get("pattern")), "has the wrong format")
    if kind == "finite_number":
        return "must be a finite number, not NaN or infinity"
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])
    msg = str(error["msg"])
    for prefix in _SHOULD_PREFIXES:
        if msg.startswith(prefix):
            return "must " + msg[len(prefix) :]
    return msg[:1].lower() + msg[1:]


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + _safe(part)
    return out


def _describe(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False, include_input=False)
    parts = []
    for error in errors[:MAX_PROBLEMS_LISTED]:
        where = _location(tuple(error["loc"]))
        what = _explain(error)
        parts.append(f"'{where}' {what}" if where else what)
    if len(errors) > MAX_PROBLEMS_LISTED:
        parts.append(f"and {len(errors) - MAX_PROBLEMS_LISTED} more problem(s)")
    return "; ".join(parts)
