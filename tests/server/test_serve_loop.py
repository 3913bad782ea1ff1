"""`convex serve --loop`: the event loop it runs on, said at start-up, and a clean stop on each."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Final

import pytest

REPO: Final[Path] = Path(__file__).resolve().parents[2]
TIMEOUT_S: Final[float] = 60.0


def serve(tmp_path: Path, *flags: str) -> tuple[str, str, int]:
    """Start `convex serve` with ``flags``; return its first line, /healthz, and its exit code
    after SIGTERM."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONVEX_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    db = f"sqlite+aiosqlite:///{tmp_path / 'server.sqlite3'}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "game.cli", "serve", "--port", "0", "--database", db, *flags],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        url = line.split("listening on ", 1)[1].split()[0]
        with urllib.request.urlopen(url + "/healthz", timeout=TIMEOUT_S) as response:
            health = json.loads(response.read())["status"]
        proc.send_signal(signal.SIGTERM)
        return line, health, proc.wait(TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_serve_runs_on_the_chosen_event_loop(tmp_path: Path, loop: str) -> None:
    """--loop picks the event loop; the start-up line names it, the server answers, and SIGTERM
    stops it with exit code 0."""
    line, health, code = serve(tmp_path, "--loop", loop)
    assert f"event loop: {loop})" in line
    assert health == "ok" and code == 0


def test_serve_uses_uvloop_by_default(tmp_path: Path) -> None:
    """With no --loop, uvloop (a dependency on this platform) is used."""
    line, _, code = serve(tmp_path)
    assert "event loop: uvloop)" in line and code == 0
