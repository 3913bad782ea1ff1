"""HTTP endpoints: thin handlers that parse a wire model, call the store, and answer JSON."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web

from server.auth import InvalidToken, TokenClaims, hash_password, verify_password
from server.db.store import UsernameTaken
from server.keys import CLOCK, METRICS, SIGNER, STORE
from shared.protocol import (
    HTTP_STATUS,
    AuthResponse,
    ErrorCode,
    LoginRequest,
    ProtocolError,
    RegisterRequest,
    dump,
    error_payload,
    parse_model,
)
from shared.protocol.types import WireModel

log = logging.getLogger("convex.http")
M = TypeVar("M", bound=WireModel)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

LOGIN_FAILED = "unknown username or wrong password"


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


async def metrics(request: web.Request) -> web.Response:
    """`GET /metrics`: Prometheus text exposition."""
    m = request.app[METRICS]
    return web.Response(body=m.render(), headers={"Content-Type": m.content_type})


def add_routes(app: web.Application) -> None:
    """Register every HTTP route."""
    app.router.add_post("/api/register", register)
    app.router.add_post("/api/login", login)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
