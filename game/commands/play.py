"""``convex play``: a solo study session with your avatar as a mirror, in a window or offscreen."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from game.commands.account import (
    PASSWORD_ENV,
    SERVER_ENV,
    USERNAME_ENV,
    add_account_arguments,
    check_account,
    online_error,
    online_step,
    sign_in,
)
from game.commands.common import (
    EXIT_USAGE,
    CommandError,
    native_stderr_silenced,
    non_negative_int,
    positive_float,
    positive_int,
    quietly,
    run_guarded,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from game.app import ConvexApp, FrameClock, LatestFrameTap, SampleFeed
    from game.capture.sources import FrameSource
    from game.capture.tracker import FaceTracker
    from shared.focus import Calibration
    from shared.protocol import Plan

PROG: Final[str] = "convex play"

WEBCAM: Final[str] = "webcam"
SYNTHETIC: Final[str] = "synthetic"
"""``--source`` values; anything else is a video file or an image folder."""

DEFAULT_PRESET: Final[str] = "mika"
"""Same as :data:`game.avatar.models.DEFAULT_PRESET` (not imported: keep ``--help`` fast)."""

DEFAULT_USER: Final[str] = "default"
"""Whose calibration the focus rules use, as in ``convex calibrate``."""

DEFAULT_MINUTES: Final[float] = 25.0
"""Same as :data:`game.config.DEFAULT_FOCUS_MINUTES`."""

OFFSCREEN_HINT: Final[str] = (
    "Render without a window instead: convex play --offscreen --frames 300 --screenshot play.png"
)
NO_DISPLAY_HINT: Final[str] = (
    "there is no display to open a window on (neither DISPLAY nor WAYLAND_DISPLAY is set). "
    + OFFSCREEN_HINT
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``play`` to the ``convex`` command."""
    p = subparsers.add_parser(
        "play",
        help="study alone with your avatar as a mirror (pomodoro, focus meter, streak)",
        description="Start a solo study session: your avatar mirrors your face, a pomodoro "
        "timer runs while you focus and pauses if you fall asleep (look away for 15 s). "
        "Keys: SPACE start/pause, E end the session, C local camera preview, Q or ESC quit. "
        "Video never leaves this computer.",
    )
    p.add_argument(
        "--source",
        metavar="webcam|synthetic|PATH",
        default=WEBCAM,
        help="the webcam (default), a scripted demo face (synthetic), or a video file or "
        "folder of images",
    )
    p.add_argument(
        "--camera",
        metavar="INDEX",
        type=non_negative_int,
        default=0,
        help="webcam index (default: 0)",
    )
    p.add_argument(
        "--avatar",
        metavar="GLB",
        type=Path,
        help='your own avatar: a GLB whose morph targets have ARKit names ("perfect sync")',
    )
    p.add_argument(
        "--preset",
        metavar="NAME",
        default=DEFAULT_PRESET,
        help=f"built-in avatar when --avatar is not given: mika, sam, leo or ada "
        f"(default: {DEFAULT_PRESET})",
    )
    p.add_argument("--subject", metavar="S", help="what you are studying (shown and recorded)")
    p.add_argument(
        "--minutes",
        metavar="M",
        type=positive_float,
        default=DEFAULT_MINUTES,
        help=f"length of a focus block (default: {DEFAULT_MINUTES:g})",
    )
    p.add_argument(
        "--user",
        metavar="NAME",
        default=DEFAULT_USER,
        help=f"whose calibration to use, from `convex calibrate` (default: {DEFAULT_USER})",
    )
    p.add_argument(
        "--model",
        metavar="PATH",
        type=Path,
        help="face_landmarker.task to use (default: see `convex model where`)",
    )
    p.add_argument(
        "--offscreen",
        action="store_true",
        help="render without a window (EGL); needs --frames. Time is simulated at 30 frames/s",
    )
    p.add_argument(
        "--frames",
        metavar="N",
        type=positive_int,
        help="stop after N frames (with --offscreen, N/30 s of simulated time)",
    )
    p.add_argument("--screenshot", metavar="PATH", type=Path, help="save the last frame as a PNG")
    _add_online_arguments(p)
    _add_ghost_arguments(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    """Entry point of ``convex play``."""
    if _wants_ghost(args):
        return run_guarded(PROG, lambda: _play_with_ghost(args))
    if _wants_online(args):
        return run_guarded(PROG, lambda: _play_online(args))
    return run_guarded(PROG, lambda: _play(args))


def display_available(env: dict[str, str] | None = None, platform: str | None = None) -> bool:
    """Whether a window can be opened: on Linux and BSDs, DISPLAY or WAYLAND_DISPLAY must be set."""
    env = dict(os.environ) if env is None else env
    platform = sys.platform if platform is None else platform
    if platform.startswith(("win", "darwin", "cygwin")):
        return True
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def _check_args(args: argparse.Namespace) -> None:
    if args.offscreen and args.frames is None:
        raise CommandError("--offscreen needs --frames N (there is no window to close)", EXIT_USAGE)
    if args.avatar is not None and not args.avatar.is_file():
        raise CommandError(f"--avatar {args.avatar}: no such file", EXIT_USAGE)
    if args.minutes * 60.0 > 4 * 3600.0:
        raise CommandError("--minutes: a focus block is at most 240 minutes", EXIT_USAGE)
    if not args.offscreen and not display_available():
        raise CommandError(NO_DISPLAY_HINT)


def _open_source(args: argparse.Namespace) -> FrameSource:
    from game.capture.sources import (
        CameraUnavailableError,
        FrameSourceError,
        ImageFolderSource,
        PacedSource,
        VideoFileSource,
        WebcamSource,
    )

    if args.source == WEBCAM:
        try:
            return quietly(WebcamSource)(args.camera)
        except CameraUnavailableError as exc:
            raise CommandError(
                f"no webcam: {exc} To try Convex without a camera, use the scripted demo "
                "face: convex play --source synthetic"
            ) from exc
    path = Path(args.source)
    if not path.exists():
        raise CommandError(
            f"--source {path}: no such file or folder (use '{WEBCAM}' for the camera or "
            f"'{SYNTHETIC}' for the demo face)",
            EXIT_USAGE,
        )
    try:
        inner: FrameSource = (
            ImageFolderSource(path) if path.is_dir() else quietly(VideoFileSource)(path)
        )
    except FrameSourceError as exc:
        raise CommandError(str(exc)) from exc
    # A recording plays at its own speed, as a camera would deliver it.
    return PacedSource(inner)


def _calibration(user: str) -> Calibration:
    from game.capture.calibration import (
        CalibrationError,
        load_baseline,
        to_focus_calibration,
    )
    from shared.focus import DEFAULT_CALIBRATION

    try:
        baseline = load_baseline(user)
    except CalibrationError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from exc
    return DEFAULT_CALIBRATION if baseline is None else to_focus_calibration(baseline)


def _avatar(args: argparse.Namespace) -> Path:
    if args.avatar is not None:
        return Path(args.avatar)
    from game.avatar.models import UnknownModelError, avatar_path

    try:
        return avatar_path(args.preset)
    except UnknownModelError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from exc


def _synthetic_feed(clock: FrameClock) -> SampleFeed:
    from game.capture.synthetic import SyntheticFeed, SyntheticSource
    from game.config import DEMO_SCRIPT, DEMO_SEED

    return SyntheticFeed(SyntheticSource(DEMO_SCRIPT, seed=DEMO_SEED), clock=clock.now).start()


def _stop_tracker(tracker: FaceTracker) -> None:
    from game.capture.tracker import TrackerError

    # A worker failure is reported from tracker.error after the app has shut down.
    with contextlib.suppress(TrackerError):
        tracker.stop()


def _play(args: argparse.Namespace, prepare: Callable[[ConvexApp], None] | None = None) -> int:
    _check_args(args)
    from game.app import AppSettings, ConvexApp, FrameClock, LatestFrameTap, WindowOpenError
    from game.avatar.rig import AvatarLoadError
    from game.config import (
        DEFAULT_BREAK_MINUTES,
        DEFAULT_ROUNDS,
        SIMULATED_DT,
        STREAK_GOAL_MINUTES,
    )
    from game.scenes.history import LocalHistory, local_timezone
    from shared.timer import TimerPlan

    calibration = _calibration(args.user)
    avatar = _avatar(args)
    synthetic = args.source == SYNTHETIC
    clock = FrameClock()
    settings = AppSettings(
        avatar=avatar,
        offscreen=args.offscreen,
        subject=args.subject,
        plan=TimerPlan(args.minutes * 60.0, DEFAULT_BREAK_MINUTES * 60.0, DEFAULT_ROUNDS),
        fixed_dt=SIMULATED_DT if args.offscreen else None,
        autostart=args.offscreen,
        calibration=calibration,
        record_sessions=not synthetic,
    )
    history = LocalHistory(goal_minutes=STREAK_GOAL_MINUTES, timezone=local_timezone())

    with contextlib.ExitStack() as stack:
        tap: LatestFrameTap | None = None
        feed: SampleFeed
        tracker = None
        if synthetic:
            feed = _synthetic_feed(clock)
        else:
            from game.capture.model import ModelError
            from game.capture.tracker import FaceTracker, TrackerError

            tap = stack.enter_context(LatestFrameTap(_open_source(args)))
            tracker = FaceTracker(args.model, source=tap)
            try:
                quietly(tracker.start)()
            except (ModelError, TrackerError) as exc:
                raise CommandError(str(exc)) from exc
            # Stopped (threads joined, landmarker closed) before the source is closed.
            stack.callback(_stop_tracker, tracker)
            feed = tracker
        try:
            app = ConvexApp(settings, feed, clock=clock, frames=tap, history=history)
            if prepare is not None:
                prepare(app)
        except WindowOpenError as exc:
            hint = "" if args.offscreen else " " + OFFSCREEN_HINT
            raise CommandError(f"{exc}.{hint}") from exc
        except AvatarLoadError as exc:
            raise CommandError(str(exc), EXIT_USAGE) from exc
        try:
            if args.frames is not None:
                app.run_frames(args.frames)
            else:
                app.run()
            if args.screenshot is not None and not app.closed:
                written = app.save_screenshot(args.screenshot)
                print(f"wrote {written}")
        finally:
            app.teardown()
        if tracker is not None and tracker.error is not None:
            raise CommandError(f"face tracking stopped: {tracker.error}")
    if args.offscreen:
        print(f"rendered {args.frames} frames ({args.frames * SIMULATED_DT:.1f} s simulated)")
    return 0


# -- online: `convex play --server URL` (login, the room browser, create/join, the arena) -------

BOSSES: Final[tuple[str, ...]] = ("slime", "golem", "dragon")
"""``--boss`` values: :class:`shared.battle.BossKind` (not imported: keep ``--help`` fast)."""

DEFAULT_ROOM_SUBJECT: Final[str] = "Study"
"""Same as :data:`game.scenes.lobby.DEFAULT_SUBJECT`: a room needs a subject."""


def _add_online_arguments(p: argparse.ArgumentParser) -> None:
    online = p.add_argument_group(
        "online",
        "play with friends on a Convex server (`convex serve`): sign in, then pick a room in the "
        "room browser, or use --rooms, --room ID or --create NAME. The password comes from "
        f"${PASSWORD_ENV} or is asked for. Keys in a room: SPACE starts (host), Q quits; "
        "after the results, Enter goes back to the room browser.",
    )
    add_account_arguments(online, server_note="without one you study alone")
    what = online.add_mutually_exclusive_group()
    what.add_argument(
        "--rooms", action="store_true", help="print the open rooms and exit (no window)"
    )
    what.add_argument("--room", metavar="ID", help="join the room with this id")
    what.add_argument(
        "--create",
        metavar="NAME",
        help="open a room with this name and host it (--subject, --minutes, --boss set it up)",
    )
    online.add_argument(
        "--boss", choices=BOSSES, help="the boss of a room you create (default: the server's)"
    )


def _wants_online(args: argparse.Namespace) -> bool:
    return bool(
        getattr(args, "server", None)
        or getattr(args, "rooms", False)
        or getattr(args, "room", None)
        or getattr(args, "create", None)
        or getattr(args, "register", False)
    )


def _check_online(args: argparse.Namespace) -> None:
    if not args.server:
        flag = next(
            f for f, on in (("--rooms", args.rooms), ("--room", args.room),
                            ("--create", args.create), ("--register", args.register)) if on
        )  # fmt: skip
        raise CommandError(f"{flag} needs --server URL (or ${SERVER_ENV})", EXIT_USAGE)
    check_account(args, "--server")
    if args.rooms:
        return  # the list needs no face and no window
    if args.source not in (WEBCAM, SYNTHETIC):
        raise CommandError(
            f"--source {args.source}: in a room your live face is shared, so use "
            f"'{WEBCAM}' or '{SYNTHETIC}'",
            EXIT_USAGE,
        )
    _check_args(args)


def _room_plan(args: argparse.Namespace) -> Plan:
    from game.config import DEFAULT_BREAK_MINUTES, DEFAULT_ROUNDS
    from shared.protocol import Plan

    return Plan(
        focus_s=max(1, round(args.minutes * 60.0)),
        break_s=round(DEFAULT_BREAK_MINUTES * 60.0),
        rounds=DEFAULT_ROUNDS,
    )


def _play_online(args: argparse.Namespace) -> int:
    _check_online(args)
    from game.net import NetError
    from shared.protocol import ProtocolError

    with contextlib.ExitStack() as stack:
        client = sign_in(args, stack)
        if args.rooms:
            return _print_rooms(client, args)
        online_step(client.connect(), args, "connect")
        try:
            if args.room is not None:
                online_step(client.join_room(args.room), args, "join")
            elif args.create is not None:
                subject = args.subject or DEFAULT_ROOM_SUBJECT
                created = online_step(
                    client.create_room(args.create, subject, _room_plan(args), args.boss),
                    args,
                    "create the room",
                )
                print(
                    f"created room {created.room_id} ({args.create}); friends join with: "
                    f"convex play --server {args.server} --room {created.room_id}"
                )
        except (ProtocolError, NetError) as exc:  # a malformed id or name, caught before sending
            raise online_error(exc, args, "join" if args.room else "create the room") from exc
        return _run_online(args, client, stack)


def _print_rooms(client: Any, args: argparse.Namespace) -> int:
    from game.online import room_table

    listing = online_step(client.list_rooms(), args, "list the rooms")
    if not listing.rooms:
        print(
            f"no open rooms on {args.server}; open one with: convex play --server "
            f"{args.server} --username {args.username} --create NAME"
        )
        return 0
    print(room_table(listing.rooms))
    return 0


def _run_online(args: argparse.Namespace, client: Any, stack: contextlib.ExitStack) -> int:
    from game.app import AppSettings, ConvexApp, WindowOpenError
    from game.avatar.rig import AvatarLoadError
    from game.capture.model import ModelError
    from game.capture.sources import CameraUnavailableError
    from game.capture.tracker import TrackerError
    from game.online import OnlineError, PacedLoop, enter_arena, local_feed, wait_for_room
    from game.scenes.base import SceneId
    from game.scenes.lobby import LobbyOptions, attach_lobby

    avatar = _avatar(args)
    try:
        with native_stderr_silenced():
            feed, _ = stack.enter_context(
                local_feed(args.source, args.camera, model=args.model, fallback=False)
            )
    except CameraUnavailableError as exc:
        raise CommandError(
            f"no webcam: {exc} To join without a camera, use the scripted demo face: "
            "--source synthetic"
        ) from exc
    except (ModelError, TrackerError) as exc:
        raise CommandError(str(exc)) from exc
    settings = AppSettings(
        avatar=avatar, offscreen=args.offscreen, subject=args.subject, record_sessions=False
    )
    try:
        app = ConvexApp(settings, feed)
    except WindowOpenError as exc:
        hint = (
            "" if args.offscreen else " Render without a window instead: add --offscreen --frames N"
        )
        raise CommandError(f"{exc}.{hint}") from exc
    except AvatarLoadError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from exc
    stack.callback(app.teardown)
    options = LobbyOptions(
        username=args.username,
        server=args.server,
        subject=args.subject,
        plan=_room_plan(args),
        boss=args.boss,
    )
    # Attached either way: after a session's results, Enter goes back to the room browser.
    attach_lobby(app, client, options)
    if args.room is not None or args.create is not None:
        try:
            wait_for_room(client)
        except OnlineError as exc:
            raise CommandError(str(exc)) from exc
        enter_arena(app, client)
    else:
        app.switch(SceneId.LOBBY)
    if args.frames is not None:
        loop = PacedLoop(app)
        for _ in range(args.frames):
            if app.closed:
                break
            loop.frame()
    else:
        app.run()
    if args.screenshot is not None and not app.closed:
        print(f"wrote {app.save_screenshot(args.screenshot)}")
    room = client.snapshot().room
    if room is not None:
        names = ", ".join(m.username for m in room.members if not m.is_ghost)
        print(f"room {room.room_id} ({room.name}): {names}")
    if args.frames is not None:
        print(f"rendered {args.frames} frames in the {app.scene_id} scene")
    return 0


# -- solo with a ghost: --ghost-file PATH, or --server URL with --ghost ID / --ghosts --------------


def _add_ghost_arguments(p: argparse.ArgumentParser) -> None:
    ghost = p.add_argument_group(
        "ghost",
        "study alone beside a ghost, a recorded session of yours or a friend's, with a pace "
        "comparison. In the game, G picks one from the server's list when --server is given.",
    )
    which = ghost.add_mutually_exclusive_group()
    which.add_argument(
        "--ghost-file", metavar="PATH", type=Path, help="study with the ghost in this file"
    )
    which.add_argument(
        "--ghost",
        metavar="ID",
        help="download this ghost from --server and study with it (ids: --ghosts)",
    )
    which.add_argument(
        "--ghosts",
        action="store_true",
        help="with --server: print the ghosts you may study with and exit (no window)",
    )


def _wants_ghost(args: argparse.Namespace) -> bool:
    return bool(
        getattr(args, "ghost_file", None)
        or getattr(args, "ghost", None)
        or getattr(args, "ghosts", False)
    )


def _check_ghost_args(args: argparse.Namespace) -> None:
    for flag, value in (("--rooms", args.rooms), ("--room", args.room), ("--create", args.create)):
        if value:
            raise CommandError(
                f"{flag} joins a room; a ghost is for studying alone: leave out one of them",
                EXIT_USAGE,
            )
    if (args.ghost or args.ghosts) and not args.server:
        flag = "--ghost" if args.ghost else "--ghosts"
        raise CommandError(f"{flag} needs --server URL (or ${SERVER_ENV})", EXIT_USAGE)
    if args.server:
        if not args.server.startswith(("http://", "https://")):
            raise CommandError(
                f"--server {args.server}: give the address with its scheme, e.g. "
                f"http://{args.server}",
                EXIT_USAGE,
            )
        if not args.username:
            raise CommandError(f"--server needs --username NAME (or ${USERNAME_ENV})", EXIT_USAGE)
    if args.ghost_file is not None and not args.ghost_file.is_file():
        raise CommandError(f"--ghost-file {args.ghost_file}: no such file", EXIT_USAGE)
    if not args.ghosts:
        _check_args(args)


def _play_with_ghost(args: argparse.Namespace) -> int:
    _check_ghost_args(args)
    from game.ghost_feed import (
        GhostLoadError,
        download_ghost,
        ghost_table,
        list_ghosts,
        load_ghost_file,
    )

    recording = None
    if args.ghost_file is not None:
        try:
            recording = load_ghost_file(args.ghost_file)
        except GhostLoadError as exc:
            raise CommandError(str(exc)) from exc
    if not args.server:
        return _play(args, prepare=lambda app: _with_ghost(app, recording, None))
    from shared.protocol import ProtocolError

    with contextlib.ExitStack() as stack:
        client = sign_in(args, stack)
        try:
            if args.ghosts:
                print(ghost_table(list_ghosts(client)))
                return 0
            if args.ghost is not None:
                recording = download_ghost(client, args.ghost)
        except (GhostLoadError, ProtocolError) as exc:
            raise CommandError(str(exc)) from exc
        return _play(args, prepare=lambda app: _with_ghost(app, recording, client))


def _with_ghost(app: ConvexApp, recording: Any, library: Any) -> None:
    from game.scenes.solo import attach_ghost_library, choose_ghost

    if library is not None:
        attach_ghost_library(app, library)
    if recording is not None:
        choose_ghost(app, recording)
