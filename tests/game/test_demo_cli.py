"""`convex demo` as installed: the offscreen run writes its screenshots and summary; bad flags fail."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

CONVEX = str(Path(sys.executable).with_name("convex"))


def run(*args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CONVEX, *args], capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_offscreen_demo_writes_screenshots_and_summary(tmp_path: Path) -> None:
    """`convex demo --offscreen --seconds 20 --out DIR` wins its fight and writes the files."""
    out = tmp_path / "demo"
    done = run("demo", "--offscreen", "--seconds", "20", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("victory:")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["outcome"] == "victory"
    assert summary["source"] == "synthetic"  # no webcam here: the scripted face stands in
    assert summary["slept"] == ["sam"]
    for name in ("arena-fight", "arena-asleep", "arena-victory", "results"):
        assert summary["screenshots"][name] == f"{name}.png"
        with Image.open(out / f"{name}.png") as image:
            assert image.size == (1280, 720)
            grey = np.asarray(image.convert("L"))
        assert len(np.unique(grey)) > 50  # a rendered scene, not a blank


def test_offscreen_without_out_is_a_usage_error(tmp_path: Path) -> None:
    """`--offscreen` without `--out` exits 2 with a one-line message, starting nothing."""
    done = run("demo", "--offscreen")
    assert done.returncode == 2
    assert "--offscreen needs --out" in done.stderr


def test_too_short_a_fight_is_a_usage_error() -> None:
    """`--seconds` below the minimum exits 2 naming the allowed range."""
    done = run("demo", "--seconds", "3", "--out", "x", "--offscreen")
    assert done.returncode == 2
    assert "--seconds must be between 8 and 600" in done.stderr


def test_help_describes_the_demo() -> None:
    """`convex demo --help` lists the demo's flags."""
    done = run("demo", "--help")
    assert done.returncode == 0
    for flag in ("--seconds", "--offscreen", "--out", "--source"):
        assert flag in done.stdout
