"""The ``convex`` command: one entry point with a subcommand per job."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

import shared
from game.commands import analyze, calibrate, demo, friends, model, play, serve

Handler = Callable[[argparse.Namespace], int]


def _cmd_version(args: argparse.Namespace) -> int:
    from shared.protocol import PROTOCOL_VERSION

    print(f"convex {shared.__version__} (protocol {PROTOCOL_VERSION})")
    return 0


def _cmd_rules(args: argparse.Namespace) -> int:
    from shared.rules import summary

    print(summary())
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="convex",
        description="Convex: a study game where your face controls the game "
        "and never leaves your machine.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("version", help="print the Convex and protocol versions")
    p.set_defaults(handler=_cmd_version)

    p = sub.add_parser("rules", help="print the game rules with the values in force")
    p.set_defaults(handler=_cmd_rules)

    analyze.register(sub)
    calibrate.register(sub)
    model.register(sub)
    serve.register(sub)
    play.register(sub)
    friends.register(sub)
    demo.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
