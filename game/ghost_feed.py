"""Ghosts for the solo game: read one from a file or a server, and play it back as face samples.

Theory of operation
-------------------
A ghost is a friend's (or your own) recorded session in the :mod:`shared.ghost` format:
blendshape numbers, pose and focus states, never an image. The solo scene gets one in one
of three ways, all ending in a :class:`~shared.ghost.GhostRecording`:

- :func:`load_ghost_file`: a local ``.ghost`` file (``convex play --ghost-file``);
- :func:`download_ghost`: by id from the server, through anything with ``fetch_ghost``
  (:class:`~game.net.NetClient`), waiting at most :data:`FETCH_TIMEOUT_S`;
- the in-game picker (key G), which lists :meth:`GhostLibrary.list_ghosts` and fetches
  the chosen one without blocking the frame loop (it polls the futures).

:class:`GhostPlayback` then turns the recording into what the avatar driver wants at the
session's elapsed time: a :class:`~shared.face.FaceSample` (the frame at that time, its ``t``
on the replay's clock so a held frame is not re-applied) and an
:class:`~game.avatar.mapping.AvatarMode` (asleep when the recording says so, frozen when no
face was tracked or the recording has finished, else live).
"""

from __future__ import annotations

import concurrent.futures
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol

from game.avatar.mapping import AvatarMode
from shared.face import FaceSample
from shared.ghost import GhostFormatError, GhostRecording, decode_ghost
from shared.pace import GhostState, format_clock, ghost_state
from shared.protocol import GhostInfo, GhostList

FETCH_TIMEOUT_S: Final[float] = 30.0
"""Longest wait for the server to list or send a ghost from the command line."""

MAX_GHOST_FILE_BYTES: Final[int] = 64 * 1024 * 1024
"""Largest ghost file read (a 12-hour ghost is a few MB; this only guards against a wrong file)."""


class GhostLoadError(RuntimeError):
    """A ghost that cannot be used: missing or corrupt file, unknown id, server error."""


class GhostLibrary(Protocol):
    """Where the picker finds ghosts: :class:`~game.net.NetClient` once logged in."""

    def list_ghosts(self) -> concurrent.futures.Future[GhostList]:
        """The ghosts this player may use, newest first."""
        ...

    def fetch_ghost(self, ghost_id: str) -> concurrent.futures.Future[GhostRecording]:
        """Download and decode one ghost."""
        ...


def load_ghost_file(path: Path) -> GhostRecording:
    """The ghost in ``path``; :class:`GhostLoadError` saying what is wrong otherwise."""
    try:
        size = path.stat().st_size
        if size > MAX_GHOST_FILE_BYTES:
            raise GhostLoadError(
                f"{path}: {size} bytes is too large for a ghost "
                f"(at most {MAX_GHOST_FILE_BYTES // (1024 * 1024)} MB)"
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise GhostLoadError(f"{path}: no such ghost file") from None
    except IsADirectoryError:
        raise GhostLoadError(f"{path} is a folder, not a ghost file") from None
    except OSError as exc:
        raise GhostLoadError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    try:
        return decode_ghost(data)
    except GhostFormatError as exc:
        raise GhostLoadError(f"{path} is not a valid ghost recording: {exc}") from None


def download_ghost(
    library: GhostLibrary, ghost_id: str, *, timeout: float = FETCH_TIMEOUT_S
) -> GhostRecording:
    """Fetch ghost ``ghost_id`` and wait for it; :class:`GhostLoadError` on any failure."""
    future = library.fetch_ghost(ghost_id)
    try:
        return future.result(timeout)
    except concurrent.futures.TimeoutError:
        future.cancel()
        raise GhostLoadError(
            f"ghost {ghost_id}: the server did not answer in {timeout:g} s"
        ) from None
    except GhostFormatError as exc:
        raise GhostLoadError(
            f"ghost {ghost_id}: the server sent a corrupt recording: {exc}"
        ) from None
    except Exception as exc:  # the client's errors (ServerError, NetError) carry the reason
        raise GhostLoadError(f"ghost {ghost_id}: {exc}") from exc


def list_ghosts(
    library: GhostLibrary, *, timeout: float = FETCH_TIMEOUT_S
) -> tuple[GhostInfo, ...]:
    """The ghosts this player may use; :class:`GhostLoadError` on any failure."""
    future = library.list_ghosts()
    try:
        return future.result(timeout).ghosts
    except concurrent.futures.TimeoutError:
        future.cancel()
        raise GhostLoadError(f"the server did not list ghosts in {timeout:g} s") from None
    except Exception as exc:  # the client's errors carry the reason
        raise GhostLoadError(f"cannot list ghosts: {exc}") from exc


def ghost_line(info: GhostInfo) -> str:
    """One ghost for a list: ``"sam · Maths · 25:00 long · 18:20 focused"``."""
    parts = [info.owner_username]
    if info.subject:
        parts.append(info.subject)
    parts.append(f"{format_clock(info.duration_s)} long")
    parts.append(f"{format_clock(info.focused_seconds)} focused")
    return " · ".join(parts)


def ghost_table(ghosts: tuple[GhostInfo, ...]) -> str:
    """What ``convex play --ghosts`` prints: one ghost per line, its id first."""
    if not ghosts:
        return "no ghosts yet: finish a session on this server, or add a friend who has"
    return "\n".join(f"{g.ghost_id}  {ghost_line(g)}" for g in ghosts)


@dataclass(frozen=True, slots=True)
class GhostFrameView:
    """What the ghost avatar shows at one moment."""

    state: GhostState
    sample: FaceSample | None
    mode: AvatarMode


class GhostPlayback:
    """A recording played back on the session's elapsed clock (see the module docstring)."""

    def __init__(self, recording: GhostRecording) -> None:
        self.recording = recording

    @property
    def owner(self) -> str:
        """Whose session this is."""
        return self.recording.meta.user_name

    def at(self, elapsed_s: float) -> GhostFrameView:
        """The ghost at ``elapsed_s`` seconds into your session."""
        return self.view(ghost_state(self.recording, max(elapsed_s, 0.0)))

    @staticmethod
    def view(state: GhostState) -> GhostFrameView:
        """The avatar sample and mode for a ghost state."""
        frame = state.frame
        sample = frame.to_sample() if frame is not None else None
        if state.asleep and not state.finished:
            mode = AvatarMode.ASLEEP
        elif state.finished or sample is None or not sample.present:
            mode = AvatarMode.FROZEN
        else:
            mode = AvatarMode.LIVE
        return GhostFrameView(state, sample, mode)
