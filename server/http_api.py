"""HTTP endpoints: thin handlers that parse a wire model, call the store, and answer JSON."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, Final, TypeVar

from aiohttp import web

from server.auth import InvalidToken, TokenClaims, hash_password, verify_password
from server.db.store import AlreadyFriends, UnknownUser, UsernameTaken
from server.keys import CLOCK, GATEWAY, METRICS, OPENAPI, SIGNER, STORE
from server.openapi import build_openapi
from server.streaks import streak_settings, streak_status
from shared.protocol import (
    HTTP_STATUS,
    ID_PATTERN,
    MAX_LISTED,
    PATTERN_HINTS,
    AuthResponse,
    CognitiveLoadReport,
    ErrorCode,
    Friend,
    FriendList,
    FriendRequest,
    GhostInfo,
    GhostList,
    LoginRequest,
    ProtocolError,
    RegisterRequest,
    RoomInfo,
    RoomList,
    StreakGoal,
    StreakReport,
    SubjectLoad,
    dump,
    error_payload,
    parse_model,
)
from shared.protocol.types import WireModel

log = logging.getLogger("convex.http")
M = TypeVar("M", bound=WireModel)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

LOGIN_FAILED = "unknown username or wrong password"

GHOST_MEDIA_TYPE: Final[str] = "application/octet-stream"
"""Content type of a ghost download (the bytes shared.ghost.decode_ghost reads)."""

_GHOST_ID_RE: Final[re.Pattern[str]] = re.compile(ID_PATTERN)


def json_response(model: WireModel, status: int = 200) -> web.Response:
    """A JSON answer from a wire model."""
    return web.json_response(dump(model), status=status)


def error_response(exc: BaseException) -> web.Response:
    """The JSON error body and HTTP status for any failure."""
    code = exc.code if isinstance(exc, ProtocolError) else ErrorCode.INTERNAL
    return web.json_response(error_payload(exc), status=HTTP_STATUS[code])


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure becomes `{"error": {...}}` with the code's status; nothing leaks a traceback."""
    route = (
        request.match_info.route.resource.canonical if request.match_info.route.resource else "?"
    )
    try:
        response = await handler(request)
    except ProtocolError as exc:
        response = error_response(exc)
    except web.HTTPRequestEntityTooLarge:
        response = error_response(
            ProtocolError(ErrorCode.PAYLOAD_TOO_LARGE, "request body is too large")
        )
    except web.HTTPException as exc:
        if exc.status < 400 or not request.path.startswith("/api/"):
            raise
        response = error_response(ProtocolError(ErrorCode.BAD_REQUEST, exc.reason))
        response.set_status(exc.status)
    except Exception:
        log.exception("unhandled error", extra={"path": request.path})
        response = error_response(RuntimeError())
    request.app[METRICS].http_requests.labels(route, str(response.status)).inc()
    return response


async def read_model(request: web.Request, model: type[M]) -> M:
    """The request body parsed as `model`; malformed JSON is a bad_request."""
    raw = await request.read()
    try:
        body: Any = json.loads(raw) if raw else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ProtocolError(ErrorCode.BAD_REQUEST, "request body is not valid JSON") from None
    return parse_model(model, body)


def claims(request: web.Request) -> TokenClaims:
    """The caller's verified token claims from `Authorization: Bearer ...`."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise ProtocolError(ErrorCode.UNAUTHORIZED, "send Authorization: Bearer <token>")
    try:
        return request.app[SIGNER].verify(token.strip(), request.app[CLOCK]())
    except InvalidToken as exc:
        raise ProtocolError(ErrorCode.UNAUTHORIZED, str(exc)) from None


def _auth_response(request: web.Request, user_id: int, username: str) -> AuthResponse:
    now = request.app[CLOCK]()
    signer = request.app[SIGNER]
    return AuthResponse(
        token=signer.issue(user_id, username, now),
        user_id=str(user_id),
        username=username,
        expires_at=int((now + signer.ttl_s) * 1000),
    )


async def register(request: web.Request) -> web.Response:
    """`POST /api/register`: create an account and log it in."""
    body = await read_model(request, RegisterRequest)
    try:
        user = await request.app[STORE].create_user(
            body.username, hash_password(body.password), request.app[CLOCK]()
        )
    except UsernameTaken:
        raise ProtocolError(ErrorCode.CONFLICT, "that username is taken") from None
    log.info("registered", extra={"user_id": user.id})
    return json_response(_auth_response(request, user.id, user.username), status=201)


async def login(request: web.Request) -> web.Response:
    """`POST /api/login`: exchange a username and password for a token."""
    body = await read_model(request, LoginRequest)
    found = await request.app[STORE].user_credentials(body.username)
    if found is None or not verify_password(body.password, found[1]):
        raise ProtocolError(ErrorCode.UNAUTHORIZED, LOGIN_FAILED)
    user = found[0]
    return json_response(_auth_response(request, user.id, user.username))


async def healthz(request: web.Request) -> web.Response:
    """`GET /healthz`: 200 when the process is up and the database answers."""
    await request.app[STORE].ping()
    return web.json_response({"status": "ok"})


async def openapi(request: web.Request) -> web.Response:
    """`GET /api/openapi.json`: the OpenAPI description of this API."""
    return web.json_response(request.app[OPENAPI])


async def metrics(request: web.Request) -> web.Response:
    """`GET /metrics`: Prometheus text exposition."""
    m = request.app[METRICS]
    request.app[GATEWAY].relay.flush_metrics()  # relay frames since the last tick count too
    return web.Response(body=m.render(), headers={"Content-Type": m.content_type})


def add_routes(app: web.Application) -> None:
    """Register every HTTP route."""
    app.router.add_post("/api/register", register)
    app.router.add_post("/api/login", login)
    app.router.add_get("/api/friends", list_friends)
    app.router.add_post("/api/friends", add_friend)
    app.router.add_get("/api/streak/settings", get_streak_settings)
    app.router.add_put("/api/streak/settings", put_streak_settings)
    app.router.add_get("/api/streak", get_streak)
    app.router.add_get("/api/reports/cognitive-load", cognitive_load)
    app.router.add_get("/api/ghosts", list_ghosts)
    app.router.add_get("/api/ghosts/{ghost_id}", download_ghost)
    app.router.add_get("/api/rooms", list_rooms)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/api/openapi.json", openapi)
    app[OPENAPI] = build_openapi()


# -- friends, streaks, reports, ghosts ----------------------------------------------------


async def list_friends(request: web.Request) -> web.Response:
    """`GET /api/friends`."""
    me = claims(request)
    rows = await request.app[STORE].friends(me.user_id)
    return json_response(
        FriendList(
            friends=tuple(
                Friend(user_id=str(r.user_id), username=r.username, mutual=r.mutual)
                for r in rows[:MAX_LISTED]
            )
        )
    )


async def add_friend(request: web.Request) -> web.Response:
    """`POST /api/friends`: add a user; mutual once they add you back."""
    me = claims(request)
    body = await read_model(request, FriendRequest)
    if body.username.lower() == me.username.lower():
        raise ProtocolError(ErrorCode.CONFLICT, "you cannot add yourself as a friend")
    try:
        row = await request.app[STORE].add_friend(me.user_id, body.username, request.app[CLOCK]())
    except UnknownUser:
        raise ProtocolError(ErrorCode.UNKNOWN_USER, "no user has that username") from None
    except AlreadyFriends:
        raise ProtocolError(ErrorCode.CONFLICT, "already in your friends") from None
    return json_response(
        Friend(user_id=str(row.user_id), username=row.username, mutual=row.mutual), status=201
    )


async def _streak_goal(request: web.Request, user_id: int) -> StreakGoal:
    goal, tz, days = await streak_settings(request.app[STORE], user_id)
    return StreakGoal(goal_minutes=goal, timezone=tz, rest_days=days)


async def get_streak_settings(request: web.Request) -> web.Response:
    """`GET /api/streak/settings`: the goal, time zone and rest days (defaults until set)."""
    return json_response(await _streak_goal(request, claims(request).user_id))


async def put_streak_settings(request: web.Request) -> web.Response:
    """`PUT /api/streak/settings`: replace the goal, time zone and rest days."""
    me = claims(request)
    body = await read_model(request, StreakGoal)
    await request.app[STORE].set_streak_settings(
        me.user_id, body.goal_minutes, body.timezone, [d.isoformat() for d in body.rest_days]
    )
    return json_response(body)


async def get_streak(request: web.Request) -> web.Response:
    """`GET /api/streak`: current and longest streak as of the user's local today."""
    me = claims(request)
    status, today = await streak_status(request.app[STORE], me.user_id, request.app[CLOCK]())
    return json_response(
        StreakReport(
            current=status.current,
            longest=status.longest,
            today=today,
            today_minutes=round(status.today_minutes, 3),
            goal_minutes=status.goal_minutes,
            goal_met_today=status.goal_met_today,
            rest_today=status.today_is_rest,
        )
    )


async def cognitive_load(request: web.Request) -> web.Response:
    """`GET /api/reports/cognitive-load`: per subject, confusion moments per focused hour."""
    me = claims(request)
    rows = await request.app[STORE].subject_report(me.user_id)
    subjects = [
        SubjectLoad(
            subject=r.subject,
            sessions=r.sessions,
            focused_seconds=round(r.focused_seconds, 3),
            confusion_moments=r.confusion_moments,
            confusion_per_hour=round(r.confusion_moments / (r.focused_seconds / 3600), 3)
            if r.focused_seconds > 0
            else 0.0,
        )
        for r in rows
    ]
    subjects.sort(key=lambda s: (-s.confusion_per_hour, s.subject))
    return json_response(CognitiveLoadReport(subjects=tuple(subjects[:MAX_LISTED])))


async def list_ghosts(request: web.Request) -> web.Response:
    """`GET /api/ghosts`: your own and your mutual friends' recordings, newest first."""
    me = claims(request)
    rows = await request.app[STORE].ghosts_visible_to(me.user_id, limit=MAX_LISTED)
    return json_response(
        GhostList(
            ghosts=tuple(
                GhostInfo(
                    ghost_id=r.session_id,
                    owner_id=str(r.owner_id),
                    owner_username=r.owner_username,
                    subject=r.subject,
                    started_at=int(r.started_at * 1000),
                    duration_s=round(r.duration_s, 3),
                    focused_seconds=round(r.focused_seconds, 3),
                    total_damage=round(r.damage, 3),
                )
                for r in rows
            )
        )
    )


async def download_ghost(request: web.Request) -> web.Response:
    """`GET /api/ghosts/{ghost_id}`: one recording's stored bytes, under the listing's rule
    (the caller's own, or a mutual friend's)."""
    me = claims(request)
    ghost_id = request.match_info["ghost_id"]
    if not _GHOST_ID_RE.fullmatch(ghost_id):
        raise ProtocolError(ErrorCode.BAD_REQUEST, f"'ghost_id' {PATTERN_HINTS[ID_PATTERN]}")
    store = request.app[STORE]
    found = await store.ghost_data(ghost_id)
    if found is None:
        raise ProtocolError(ErrorCode.UNKNOWN_GHOST, "no ghost with that id")
    owner_id, data = found
    if owner_id != me.user_id and not await store.are_mutual_friends(me.user_id, owner_id):
        raise ProtocolError(
            ErrorCode.NOT_FRIENDS, "only your own or a mutual friend's ghosts can be downloaded"
        )
    return web.Response(body=data, content_type=GHOST_MEDIA_TYPE)


async def list_rooms(request: web.Request) -> web.Response:
    """`GET /api/rooms`: open rooms the caller could join now, newest first."""
    me = claims(request)
    friends = {row.user_id for row in await request.app[STORE].friends(me.user_id)}
    listings = request.app[GATEWAY].manager.joinable(MAX_LISTED)
    return json_response(
        RoomList(
            rooms=tuple(
                RoomInfo(
                    room_id=r.room_id,
                    name=r.name,
                    subject=r.subject,
                    host_id=r.host_id,
                    host_username=r.host_username,
                    members=r.people,
                    capacity=r.capacity,
                    phase=r.phase,
                    boss_kind=r.boss_kind,
                    host_is_friend=r.host_id.isdigit() and int(r.host_id) in friends,
                )
                for r in listings
            )
        )
    )
