"""``convex friends``: list your friends on a server, or add some; mutual friends share ghosts."""

from __future__ import annotations

import argparse
import contextlib
import sys
from typing import TYPE_CHECKING, Final

from game.commands.account import (
    PASSWORD_ENV,
    add_account_arguments,
    check_account,
    online_step,
    sign_in,
)
from game.commands.common import EXIT_RUNTIME, EXIT_USAGE, CommandError, run_guarded

if TYPE_CHECKING:
    from game.net import NetClient
    from shared.protocol import Friend

PROG: Final[str] = "convex friends"

ADD: Final[str] = "add"
"""The action word: ``convex friends ... add NAME [NAME ...]``."""

MUTUAL_MARK: Final[str] = "✓ mutual"
WAITING_NOTE: Final[str] = "(waiting for them to add you)"
"""How a friend's line ends: both of you added each other, or only you did so far."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``friends`` to the ``convex`` command."""
    p = subparsers.add_parser(
        "friends",
        help="list or add your friends on a server (mutual friends share ghosts)",
        description="List your friends on a Convex server (`convex serve`), or add some with "
        "`add NAME ...`. Once two players have added each other they are mutual friends: each "
        "can study beside the other's ghosts (`convex play --ghosts`). A ★ in the room list "
        f"marks a host you added. The password comes from ${PASSWORD_ENV} or is asked for. "
        "Example: convex friends --server http://192.168.1.20:8765 --username ada add sam leo",
    )
    add_account_arguments(p)
    p.add_argument(
        "action",
        nargs="?",
        choices=(ADD,),
        metavar=ADD,
        help="add the named players as friends (without it: list your friends)",
    )
    p.add_argument("names", nargs="*", metavar="NAME", help="usernames to add")
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Entry point of ``convex friends``."""
    return run_guarded(PROG, lambda: _friends(args))


def _friends(args: argparse.Namespace) -> int:
    check_account(args, PROG)
    names = _check_names(args)
    with contextlib.ExitStack() as stack:
        client = sign_in(args, stack)
        if args.action == ADD:
            return _add(client, args, names)
        return _list(client, args)


def _check_names(args: argparse.Namespace) -> tuple[str, ...]:
    """The names to add, each checked against the username rules before anything is sent."""
    from shared.protocol import FriendRequest, ProtocolError, parse_model

    if args.action != ADD:
        return ()
    if not args.names:
        raise CommandError(f"{ADD} needs at least one NAME to add", EXIT_USAGE)
    for name in args.names:
        try:
            parse_model(FriendRequest, {"username": name})
        except ProtocolError as exc:
            raise CommandError(f"{ADD} {name}: {exc.message}", EXIT_USAGE) from exc
    return tuple(args.names)


def friend_line(friend: Friend) -> str:
    """One friend for the list: ``"ada ✓ mutual"`` or ``"sam (waiting for them to add you)"``."""
    return f"{friend.username} {MUTUAL_MARK if friend.mutual else WAITING_NOTE}"


def _list(client: NetClient, args: argparse.Namespace) -> int:
    listing = online_step(client.list_friends(), args, "list your friends")
    if not listing.friends:
        print(
            f"no friends yet on {args.server}; add one with: convex friends --server "
            f"{args.server} --username {args.username} {ADD} NAME"
        )
        return 0
    for friend in listing.friends:
        print(friend_line(friend))
    return 0


def _add(client: NetClient, args: argparse.Namespace, names: tuple[str, ...]) -> int:
    """Add each name in turn; a refused one is reported and the rest are still added."""
    from game.net import ServerError
    from shared.protocol import ErrorCode

    refused = 0
    for name in names:
        try:
            friend = online_step(client.add_friend(name), args, f"{ADD} {name}")
        except CommandError as exc:
            cause = exc.__cause__
            if not isinstance(cause, ServerError):
                raise  # unreachable server, timeout: the remaining names would fail the same way
            if cause.code is ErrorCode.UNKNOWN_USER:
                message = f"there is no user {name} on {args.server} (check the spelling)"
            elif cause.code is ErrorCode.CONFLICT:
                # Yourself, or someone already on your list: the server's words say which.
                message = f"not added {name}: {cause.message}"
            else:
                message = str(exc)
            sys.stdout.flush()
            print(f"{PROG}: error: {message}", file=sys.stderr)
            refused += 1
            continue
        if friend.mutual:
            print(f"added {friend.username} ✓ mutual: you can study beside each other's ghosts")
        else:
            print(
                f"added {friend.username} {WAITING_NOTE}: once they add you back, you can study "
                "beside each other's ghosts"
            )
    return EXIT_RUNTIME if refused else 0
