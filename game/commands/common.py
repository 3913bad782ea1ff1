"""Plumbing shared by the subcommands: error exits, a plain progress bar, quieting native logs."""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import Final, ParamSpec, TextIO, TypeVar

EXIT_RUNTIME: Final[int] = 1
"""Exit code for a failure while running (undecodable video, no face, no model, no camera)."""

EXIT_USAGE: Final[int] = 2
"""Exit code for a bad command line (argparse's own code): missing file, bad value."""

EXIT_INTERRUPTED: Final[int] = 130
"""Exit code after Ctrl-C (128 + SIGINT), the shell convention."""

BAR_WIDTH: Final[int] = 24
"""Characters in the bar itself."""

REDRAW_S: Final[float] = 0.1
"""Shortest time between two redraws: often enough to look live, rarely enough to cost nothing."""

P = ParamSpec("P")
R = TypeVar("R")


class CommandError(Exception):
    """An expected failure, printed as one line before the command exits with ``exit_code``."""

    def __init__(self, message: str, exit_code: int = EXIT_RUNTIME) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def run_guarded(prog: str, body: Callable[[], int]) -> int:
    """Run a command body; a :class:`CommandError` or Ctrl-C becomes a message and an exit code."""
    try:
        return body()
    except CommandError as exc:
        sys.stdout.flush()
        message = " ".join(str(exc).split("\n"))
        print(f"{prog}: error: {message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"\n{prog}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader of our stdout went away (`convex analyze x.mp4 | head`): stop quietly, and
        # keep Python from complaining again when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_RUNTIME


def _whole_number(text: str, minimum: int, requirement: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be {requirement}, got {value}")
    return value


def positive_int(text: str) -> int:
    """argparse type: a whole number ≥ 1."""
    return _whole_number(text, 1, "at least 1")


def non_negative_int(text: str) -> int:
    """argparse type: a whole number ≥ 0."""
    return _whole_number(text, 0, "0 or more")


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


@contextlib.contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null for the block.

    MediaPipe (glog/absl), TensorFlow Lite and FFmpeg print set-up chatter and warnings straight
    to the process's stderr, where they would bury our one-line messages and the progress bar.
    Only the opening steps run inside this block; Python's own ``sys.stderr`` is flushed around
    it, and errors still surface as exceptions.
    """
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 2)
        finally:
            os.close(devnull)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def quietly(opener: Callable[P, R]) -> Callable[P, R]:
    """``opener`` wrapped so that native libraries print nothing while it runs."""

    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        with native_stderr_silenced():
            return opener(*args, **kwargs)

    return wrapped


def wants_progress(forced: bool, stream: TextIO | None = None) -> bool:
    """Show a progress bar if asked to (``--progress``) or if ``stream`` is a terminal."""
    stream = sys.stderr if stream is None else stream
    if forced:
        return True
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class ProgressBar:
    """A dependency-free one-line progress bar, redrawn in place with a carriage return.

    ``label [#########---------]  123/400 frames  31 %  215 fps``; with an unknown total the
    bar and percentage are left out. Values are shown multiplied by ``scale`` (e.g. bytes → MB).
    """

    def __init__(
        self,
        label: str,
        *,
        stream: TextIO | None = None,
        unit: str = "frames",
        rate_unit: str | None = "fps",
        scale: float = 1.0,
        decimals: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self._stream = sys.stderr if stream is None else stream
        self._unit = unit
        self._rate_unit = rate_unit
        self._scale = scale
        self._decimals = decimals
        self._clock = clock
        self._started: float | None = None
        self._last_draw = -math.inf
        self._done = 0.0
        self._total: float | None = None
        self._drawn = False
        self._width = 0

    def line(self, done: float, total: float | None, elapsed: float) -> str:
        """The text of the bar for ``done`` of ``total`` after ``elapsed`` seconds."""
        d = self._decimals
        shown_done = f"{done * self._scale:.{d}f}"
        parts = [self.label]
        if total is not None and total > 0:
            fraction = min(1.0, max(0.0, done / total))
            filled = round(fraction * BAR_WIDTH)
            parts.append("[" + "#" * filled + "-" * (BAR_WIDTH - filled) + "]")
            parts.append(f"{shown_done}/{total * self._scale:.{d}f} {self._unit}")
            parts.append(f"{fraction * 100:3.0f} %")
        else:
            parts.append(f"{shown_done} {self._unit}")
        if self._rate_unit is not None and elapsed > 0:
            parts.append(f"{done * self._scale / elapsed:.{max(d, 0)}f} {self._rate_unit}")
        return "  ".join(parts)

    def update(self, done: float, total: float | None) -> None:
        """Record progress; redraws at most every :data:`REDRAW_S` seconds and at the end."""
        self._done = done
        self._total = total
        now = self._clock()
        if self._started is None:
            # Rates count from the first report, not from set-up (loading a model takes a while).
            self._started = now
        finished = total is not None and done >= total
        if finished or now - self._last_draw >= REDRAW_S:
            self._draw(now)

    def _draw(self, now: float) -> None:
        started = now if self._started is None else self._started
        text = self.line(self._done, self._total, now - started)
        # Pad over the previous, possibly longer, line instead of relying on terminal escapes.
        padded = text.ljust(self._width)
        self._width = len(text)
        self._stream.write("\r" + padded)
        self._stream.flush()
        self._last_draw = now
        self._drawn = True

    def finish(self) -> None:
        """Draw the final state and end the line (nothing if nothing was ever drawn)."""
        if not self._drawn:
            return
        self._draw(self._clock())
        self._stream.write("\n")
        self._stream.flush()
        self._drawn = False
