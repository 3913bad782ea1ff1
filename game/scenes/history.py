"""The local study history behind the streak badge: finished sessions as numbers in a JSON file.

The file is ``$XDG_DATA_HOME/convex/history.json`` (``~/.local/share/...``
when unset) and holds, per session, its start and end (epoch seconds) and the
focus seconds the pomodoro credited: no images, no face data. It is written
to a temporary file and renamed into place. A file that cannot be read is
left untouched (and reported once in the log); the streak then shows 0 days
and nothing is recorded over it.
"""

from __future__ import annotations

import json
import logging
import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from shared.streak import (
    StreakError,
    StreakSettings,
    StreakStatus,
    StudySession,
    daily_minutes,
    streak_status,
    zone,
)

log = logging.getLogger(__name__)

FORMAT_VERSION: Final[int] = 1
"""Version written into the history file; other versions are not read."""

FILE_NAME: Final[str] = "history.json"


class HistoryError(ValueError):
    """A history file that is not valid JSON of the expected shape."""


def data_root(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME/convex`` (``~/.local/share/convex`` when unset)."""
    env = os.environ if env is None else env
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "convex"


def local_timezone(env: Mapping[str, str] | None = None) -> str:
    """The IANA name of this machine's time zone: ``$TZ``, the ``/etc/localtime`` link, or UTC."""
    env = os.environ if env is None else env
    candidates = [env.get("TZ", "").lstrip(":")]
    localtime = Path("/etc/localtime")
    if localtime.is_symlink():
        target = str(localtime.resolve())
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    for name in candidates:
        if not name:
            continue
        try:
            zone(name)
        except StreakError:
            continue
        return name
    return "UTC"


class LocalHistory:
    """Finished sessions stored on this machine, and the streak they make."""

    def __init__(self, path: Path | None = None, *, goal_minutes: int, timezone: str) -> None:
        self.path = path if path is not None else data_root() / FILE_NAME
        self.settings = StreakSettings(goal_minutes=goal_minutes, timezone=timezone)

    def load(self) -> list[StudySession]:
        """Every recorded session; [] when there is no file yet. Raises :class:`HistoryError`."""
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise HistoryError(f"cannot read {self.path}: {exc}") from exc
        try:
            data = json.loads(raw)
            if data.get("version") != FORMAT_VERSION:
                raise HistoryError(f"{self.path}: unknown version {data.get('version')!r}")
            return [
                StudySession(float(s["start"]), float(s["end"]), float(s["focused_s"]))
                for s in data["sessions"]
            ]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            if isinstance(exc, HistoryError):
                raise
            raise HistoryError(f"{self.path} is not a Convex history file: {exc}") from exc

    def record(self, start: float, end: float, focused_s: float) -> None:
        """Add one finished session (epoch seconds); raises :class:`HistoryError` on a bad file."""
        session = StudySession(start, end, min(max(0.0, focused_s), max(0.0, end - start)))
        sessions = [*self.load(), session]
        payload = {
            "version": FORMAT_VERSION,
            "sessions": [
                {"start": s.start, "end": s.end, "focused_s": s.focused_seconds} for s in sessions
            ],
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=FILE_NAME, suffix=".part")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(payload, out, indent=1)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def status(self, now: float) -> StreakStatus | None:
        """The streak as of epoch time ``now``; None (and one log line) if the file is unreadable."""
        if not math.isfinite(now):
            raise ValueError(f"now must be finite, got {now!r}")
        try:
            sessions = self.load()
        except HistoryError as exc:
            log.warning("streak unavailable: %s", exc)
            return None
        minutes = daily_minutes(sessions, self.settings.timezone)
        return streak_status(minutes, (), self.settings, self.settings.today(now))
