"""``convex serve``: run the room authority (aiohttp + Socket.IO) on this machine."""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING

from game.commands.common import EXIT_USAGE, CommandError, run_guarded

if TYPE_CHECKING:
    from server.settings import Settings


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``serve`` to the ``convex`` command."""
    p = subparsers.add_parser(
        "serve",
        help="run the room server (rooms, timers, boss battles, relay, ghosts)",
        description="Run the Convex room authority. Every setting can also come from the "
        "environment (CONVEX_HOST, CONVEX_PORT, CONVEX_DATABASE_URL, CONVEX_SECRET, ...) or a "
        ".env file in the working directory; flags win. With no database URL the server keeps "
        "an embedded SQLite file in your data directory.",
    )
    p.add_argument("--host", help="interface to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="TCP port (default 8765; 0 picks a free one)")
    p.add_argument(
        "--database",
        metavar="URL",
        help="sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER:PASS@HOST/DB",
    )
    p.add_argument("--log-level", help="DEBUG, INFO (default), WARNING or ERROR")
    p.add_argument(
        "--loop",
        choices=("auto", "asyncio", "uvloop"),
        help="event loop (default auto: uvloop where installed, else asyncio's)",
    )
    p.set_defaults(handler=lambda args: run_guarded("convex serve", lambda: _serve(args)))


def _serve(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from server import logs
    from server.settings import Settings

    overrides = {
        key: value
        for key, value in (
            ("host", args.host),
            ("port", args.port),
            ("database_url", args.database),
            ("log_level", args.log_level),
            ("event_loop", args.loop),
        )
        if value is not None
    }
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise CommandError(f"bad setting: {problems}", EXIT_USAGE) from None
    logs.configure(settings.log_level)
    try:
        with asyncio.Runner(loop_factory=loop_factory(settings.event_loop)) as runner:
            runner.run(_run(settings))
    except OSError as exc:
        raise CommandError(
            f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}"
        ) from None
    return 0


def loop_factory(choice: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event loop ``--loop`` asks for (None: asyncio's default); a clear error when
    uvloop is asked for by name but not installed."""
    if choice == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        if choice == "uvloop":
            raise CommandError(
                "--loop uvloop: uvloop is not installed (pip install uvloop), "
                "or use --loop asyncio",
                EXIT_USAGE,
            ) from None
        return None
    return uvloop.new_event_loop


async def _run(settings: Settings) -> None:
    """Serve until SIGINT or SIGTERM, then close rooms' snapshots and the database cleanly."""
    from aiohttp import web

    from server.app import create_app
    from server.gcpolicy import GcPolicy

    gc_policy = GcPolicy()

    runner = web.AppRunner(create_app(settings), access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.host, settings.port)
        await site.start()
        host, port = runner.addresses[0][:2]
        backend = settings.database_url.split("://", 1)[0]
        loop_name = type(asyncio.get_running_loop()).__module__.split(".")[0]
        # Long full garbage collections would stall every room's relay: see server.gcpolicy.
        gc_policy.start()
        print(
            f"convex serve: listening on http://{host}:{port} "
            f"(database: {backend}, event loop: {loop_name})",
            flush=True,
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        print("convex serve: shutting down", flush=True)
    finally:
        await runner.cleanup()
        await gc_policy.stop()
