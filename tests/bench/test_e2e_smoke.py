"""Smoke test of bench/e2e.py: the smallest real run prints every figure as a plausible number."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path
from typing import Final

import pytest

REPO: Final[Path] = Path(__file__).resolve().parents[2]
BENCH: Final[Path] = REPO / "bench" / "e2e.py"
RUN_TIMEOUT_S: Final[float] = 300.0
"""Generous: a real server, two offscreen clients, on a shared two-core machine."""

STEPS: Final[int] = 6
NUMBER: Final[str] = r"(\d+(?:\.\d+)?)"


def _row(out: str, label: str) -> list[str]:
    """The whitespace-separated figures after ``label`` on its table row."""
    line = next((x for x in out.splitlines() if x.strip().startswith(label)), None)
    assert line is not None, f"no {label!r} row in:\n{out}"
    return line.strip()[len(label) :].split()


def _load(out: str, when: str) -> list[float]:
    m = re.search(rf"load average at {when}: {NUMBER} {NUMBER} {NUMBER}", out)
    assert m is not None, f"no load average at {when} in:\n{out}"
    return [float(x) for x in m.groups()]


@pytest.mark.slow
def test_smallest_run_prints_latency_and_fps_figures() -> None:
    """A developer running the bench gets p50/p99 latency parts, arena FPS and load figures."""
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--steps", str(STEPS), "--fps-seconds", "2"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout

    count, p50, p90, p99, worst = _row(out, "total (A send → B frame)")
    assert 1 <= int(count) <= STEPS
    total = [float(p50), float(p90), float(p99), float(worst)]
    assert all(math.isfinite(v) and v > 0.0 for v in total), out
    assert total == sorted(total), out
    for part in ("network (→ B's batch)", "playout + filter", "render (update+draw)"):
        figures = _row(out, part)
        assert int(figures[0]) == int(count), out
        assert all(math.isfinite(float(v)) for v in figures[1:]), out

    assert re.search(r"arena FPS: 8 avatars \+ boss \(dragon\)", out), out
    lines = out.splitlines()
    header = next(i for i, x in enumerate(lines) if x.split()[:3] == ["frames", "seconds", "FPS"])
    frames, seconds, fps, f50, f99, cpu, _ms, applied = lines[header + 1].split()
    assert int(frames) > 0 and float(seconds) > 0.0
    assert float(fps) > 0.0 and math.isclose(float(fps), int(frames) / float(seconds), rel_tol=0.05)
    assert 0.0 < float(f50) <= float(f99)
    assert float(cpu) > 0.0
    assert float(applied) > 0.0, "the remote faces did not move the avatars"

    for when in ("start", "end"):
        assert all(v >= 0.0 for v in _load(out, when))
    assert "LP_NUM_THREADS=" in out
