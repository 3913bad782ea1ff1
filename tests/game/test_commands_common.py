"""Tests for game.commands.common and the command registration: bars, exits, quiet natives, --help."""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys

import pytest

from game.cli import build_parser
from game.commands.common import (
    BAR_WIDTH,
    EXIT_INTERRUPTED,
    EXIT_RUNTIME,
    EXIT_USAGE,
    CommandError,
    ProgressBar,
    native_stderr_silenced,
    non_negative_int,
    positive_float,
    positive_int,
    quietly,
    run_guarded,
    wants_progress,
)
from tests.game.test_commands_analyze import CONVEX


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bar_shows_done_total_percent_and_rate() -> None:
    """With a total: the bar, done/total, percentage and frames per second."""
    bar = ProgressBar("analyze", stream=io.StringIO())
    line = bar.line(100, 400, elapsed=2.0)
    filled = BAR_WIDTH // 4
    assert (
        line
        == f"analyze  [{'#' * filled}{'-' * (BAR_WIDTH - filled)}]  100/400 frames   25 %  50 fps"
    )


def test_bar_without_a_total_shows_only_the_count_and_rate() -> None:
    """An unknown total leaves out the bar and the percentage."""
    bar = ProgressBar("analyze", stream=io.StringIO())
    assert bar.line(7, None, elapsed=0.5) == "analyze  7 frames  14 fps"


def test_bar_scales_units_for_downloads() -> None:
    """Bytes shown as megabytes with one decimal, rate in MB/s."""
    bar = ProgressBar(
        "download", stream=io.StringIO(), unit="MB", rate_unit="MB/s", scale=1e-6, decimals=1
    )
    assert bar.line(1_900_000, 3_800_000, elapsed=1.0).endswith("1.9/3.8 MB   50 %  1.9 MB/s")


def test_bar_redraws_at_most_ten_times_a_second_and_always_at_the_end() -> None:
    """Updates closer than 0.1 s are not drawn, except the final one; finish ends the line."""
    clock = FakeClock()
    out = io.StringIO()
    bar = ProgressBar("x", stream=out, clock=clock)
    bar.update(1, 10)
    clock.now += 0.05
    bar.update(2, 10)
    clock.now += 0.06
    bar.update(3, 10)
    bar.update(10, 10)
    bar.finish()
    text = out.getvalue()
    drawn = [part for part in text.split("\r") if part]
    assert [d.split()[2] for d in drawn] == ["1/10", "3/10", "10/10", "10/10"]
    assert text.endswith("\n") and text.count("\n") == 1


def test_bar_that_never_drew_writes_nothing_on_finish() -> None:
    """finish() before any update leaves the stream untouched."""
    out = io.StringIO()
    ProgressBar("x", stream=out).finish()
    assert out.getvalue() == ""


def test_progress_only_on_a_terminal_unless_forced() -> None:
    """A pipe or buffer is not a terminal; --progress forces the bar."""
    assert not wants_progress(False, io.StringIO())
    assert wants_progress(True, io.StringIO())


def test_native_stderr_is_silenced_inside_the_block_only(capfd: pytest.CaptureFixture[str]) -> None:
    """Writes to file descriptor 2 vanish inside the block and show again after it."""
    with native_stderr_silenced():
        os.write(2, b"glog chatter\n")
    os.write(2, b"our message\n")
    err = capfd.readouterr().err
    assert "glog chatter" not in err and "our message" in err


def test_quietly_passes_arguments_and_results_through(capfd: pytest.CaptureFixture[str]) -> None:
    """The wrapped opener gets its arguments, returns its result, and prints nothing natively."""

    def opener(a: int, *, b: int) -> int:
        os.write(2, b"noise\n")
        return a + b

    assert quietly(opener)(2, b=3) == 5
    assert "noise" not in capfd.readouterr().err


def test_run_guarded_turns_command_errors_into_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """A CommandError prints 'prog: error: message' on one line and returns its exit code."""

    def body() -> int:
        raise CommandError("first part\nsecond part", EXIT_USAGE)

    assert run_guarded("convex test", body) == EXIT_USAGE
    assert capsys.readouterr().err == "convex test: error: first part second part\n"


def test_run_guarded_maps_ctrl_c_and_passes_success_through(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Ctrl-C exits 130 with a short note; a normal body's code is returned as is."""

    def interrupted() -> int:
        raise KeyboardInterrupt

    assert run_guarded("convex test", interrupted) == EXIT_INTERRUPTED
    assert "interrupted" in capsys.readouterr().err
    assert run_guarded("convex test", lambda: 0) == 0
    assert CommandError("x").exit_code == EXIT_RUNTIME


@pytest.mark.parametrize(
    ("parse", "text", "expected"),
    [
        (positive_int, "3", 3),
        (non_negative_int, "0", 0),
        (positive_float, "2.5", 2.5),
    ],
)
def test_argument_types_accept_good_values(parse: object, text: str, expected: object) -> None:
    """Each argparse type converts a good value."""
    assert callable(parse) and parse(text) == expected


@pytest.mark.parametrize(
    ("parse", "text"),
    [
        (positive_int, "0"),
        (positive_int, "two"),
        (non_negative_int, "-1"),
        (positive_float, "0"),
        (positive_float, "nan"),
        (positive_float, "inf"),
    ],
)
def test_argument_types_refuse_bad_values(parse: object, text: str) -> None:
    """Zero, negatives, words, NaN and infinity are refused as argparse errors."""
    assert callable(parse)
    with pytest.raises(argparse.ArgumentTypeError):
        parse(text)


def test_parser_registers_the_new_subcommands() -> None:
    """analyze, calibrate and model fetch/where parse to their handlers."""
    parser = build_parser()
    assert parser.parse_args(["analyze", "x.mp4", "--every", "2"]).every == 2
    assert parser.parse_args(["calibrate"]).source == "webcam"
    fetch = parser.parse_args(["model", "fetch", "--force"])
    assert fetch.force and fetch.url is None
    assert parser.parse_args(["model", "where"]).model is None
    for argv in (["analyze", "x"], ["calibrate"], ["model", "fetch"], ["model", "where"]):
        assert callable(parser.parse_args(argv).handler)


def test_help_stays_light_and_lists_the_new_commands() -> None:
    """`convex --help` names the new commands, and importing the CLI loads no heavy library."""
    out = subprocess.run([CONVEX, "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    for command in ("analyze", "calibrate", "model"):
        assert command in out.stdout
    probe = (
        "import sys, game.cli; "
        "print(','.join(m for m in ('cv2', 'mediapipe', 'matplotlib', 'numpy') if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60
    )
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == ""
