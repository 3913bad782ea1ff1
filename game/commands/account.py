"""Signing in to a Convex server from the command line, shared by ``convex play`` and ``convex friends``."""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import os
import sys
from typing import TYPE_CHECKING, Final, TypeVar

from game.commands.common import EXIT_USAGE, CommandError

if TYPE_CHECKING:
    from game.net import NetClient

T = TypeVar("T")

SERVER_ENV: Final[str] = "CONVEX_SERVER"
USERNAME_ENV: Final[str] = "CONVEX_USERNAME"
PASSWORD_ENV: Final[str] = "CONVEX_PASSWORD"
"""Environment defaults of ``--server`` and ``--username``, and the password (never a flag)."""


def add_account_arguments(
    group: argparse._ActionsContainer, *, server_note: str | None = None
) -> None:
    """Add ``--server``, ``--username`` and ``--register`` to ``group`` (a parser or an argument
    group), defaulting to ``$CONVEX_SERVER`` and ``$CONVEX_USERNAME``; ``server_note`` ends the
    help of ``--server``."""
    note = f"; {server_note}" if server_note else ""
    group.add_argument(
        "--server",
        metavar="URL",
        default=os.environ.get(SERVER_ENV) or None,
        help=f"the server, e.g. http://192.168.1.20:8765 (default: ${SERVER_ENV}){note}",
    )
    group.add_argument(
        "--username",
        metavar="NAME",
        default=os.environ.get(USERNAME_ENV) or None,
        help=f"your account on the server (default: ${USERNAME_ENV})",
    )
    group.add_argument(
        "--register",
        action="store_true",
        help="create the account first (once per server)",
    )


def check_account(args: argparse.Namespace, needed_by: str) -> None:
    """Usage errors (exit 2) for a missing ``--server`` (which ``needed_by`` needs), an address
    without its scheme, or a missing ``--username``."""
    if not args.server:
        raise CommandError(f"{needed_by} needs --server URL (or ${SERVER_ENV})", EXIT_USAGE)
    if not args.server.startswith(("http://", "https://")):
        raise CommandError(
            f"--server {args.server}: give the address with its scheme, e.g. http://{args.server}",
            EXIT_USAGE,
        )
    if not args.username:
        raise CommandError(
            f"--server needs --username NAME (or ${USERNAME_ENV}); new on this server? "
            "add --register",
            EXIT_USAGE,
        )


def password(args: argparse.Namespace) -> str:
    """The password: ``$CONVEX_PASSWORD``, else asked for on the terminal (a usage error when
    there is no terminal to ask on, or nothing is typed)."""
    given = os.environ.get(PASSWORD_ENV)
    if given:
        return given
    if not sys.stdin.isatty():
        raise CommandError(
            f"no password: set {PASSWORD_ENV} (the input is not a terminal, so it cannot be "
            "asked for)",
            EXIT_USAGE,
        )
    import getpass

    try:
        return getpass.getpass(f"password for {args.username} on {args.server}: ")
    except EOFError:
        raise CommandError(f"no password given (or set {PASSWORD_ENV})", EXIT_USAGE) from None


def online_error(exc: BaseException, args: argparse.Namespace, what: str) -> CommandError:
    """A failed network step (``what``: "log in", "join" …) as one clear line and exit code."""
    from game.net import ConnectError, ServerError
    from shared.protocol import ErrorCode, ProtocolError

    server, user = args.server, args.username
    room = getattr(args, "room", None)
    rooms_hint = f"see the open rooms with: convex play --server {server} --username {user} --rooms"
    if isinstance(exc, ConnectError):
        return CommandError(
            f"cannot reach the server at {server}: is `convex serve` running there, and is the "
            "address right?"
        )
    if isinstance(exc, ProtocolError):
        return CommandError(f"{what}: {exc.message}", EXIT_USAGE)
    if isinstance(exc, ServerError):
        if exc.code is ErrorCode.UNAUTHORIZED and what == "log in":
            return CommandError(
                f"wrong username or password for {user} on {server} (new here? add --register)"
            )
        if exc.code is ErrorCode.CONFLICT and what == "register":
            return CommandError(
                f"the username {user} is taken on {server}: pick another, or leave out "
                "--register to log in"
            )
        if exc.code is ErrorCode.UNKNOWN_ROOM:
            return CommandError(f"there is no open room {room} on {server}; {rooms_hint}")
        if exc.code is ErrorCode.ROOM_FULL:
            return CommandError(f"room {room} is full; {rooms_hint}")
        return CommandError(f"{what}: {exc.user_message} ({exc.message})")
    return CommandError(f"{what}: {exc}")


def online_step(future: concurrent.futures.Future[T], args: argparse.Namespace, what: str) -> T:
    """Wait for one network step; a failure or a timeout is :func:`online_error`'s line."""
    from game.net import NetError
    from game.online import OnlineError, wait_for
    from shared.protocol import ProtocolError

    try:
        return wait_for(future, what)
    except (NetError, ProtocolError, OnlineError) as exc:
        raise online_error(exc, args, what) from exc


def sign_in(args: argparse.Namespace, stack: contextlib.ExitStack) -> NetClient:
    """A :class:`~game.net.NetClient` logged in (``--register``: signed up) at ``--server``,
    closed when ``stack`` closes; failures are :class:`CommandError` with a clear line."""
    secret = password(args)
    from game.net import NetClient
    from shared.protocol import ProtocolError

    client = NetClient(args.server)
    stack.callback(client.close)
    what = "register" if args.register else "log in"
    try:
        request = client.register if args.register else client.login
        future = request(args.username, secret)
    except ProtocolError as exc:  # checked before anything is sent: a bad name or password
        raise CommandError(f"{what}: {exc.message}", EXIT_USAGE) from exc
    online_step(future, args, what)
    if args.register:
        print(f"registered {args.username} on {args.server}")
    return client
