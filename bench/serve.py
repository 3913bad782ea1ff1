"""``convex serve`` as a child process for the benchmarks: started, waited for, stopped."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

REPO: Final[Path] = Path(__file__).resolve().parent.parent

START_TIMEOUT_S: Final[float] = 60.0
"""Longest wait for the server's "listening on" line."""

LISTENING: Final[re.Pattern[str]] = re.compile(r"listening on http://([^:\s]+):(\d+)")


class ServeProcess:
    """``convex serve`` on a free loopback port with the SQLite file ``db``, logging to ``log``.

    ``prefix`` goes before the Python command (``taskset -c 0``), ``python_args`` before
    ``-m game.cli`` (``-m cProfile -o FILE``); ``env`` is added to this process's environment.
    The working directory is the database's folder, so no stray ``.env`` is read.
    """

    def __init__(
        self,
        db: Path,
        log: Path,
        *,
        env: Mapping[str, str],
        prefix: Sequence[str] = (),
        python_args: Sequence[str] = (),
    ) -> None:
        cmd = [
            *prefix,
            sys.executable,
            *python_args,
            "-m",
            "game.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--database",
            f"sqlite+aiosqlite:///{db}",
            "--log-level",
            "WARNING",
        ]
        full_env = {**os.environ, **env}
        full_env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(REPO), full_env.get("PYTHONPATH")])
        )
        self.log_path = log
        self._log = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            cmd, cwd=db.parent, env=full_env, stdout=subprocess.PIPE, stderr=self._log, text=True
        )
        self.url = self._wait_listening()

    @property
    def pid(self) -> int:
        """The server's process id (the Python process; ``taskset`` execs into it)."""
        return self.proc.pid

    def _wait_listening(self) -> str:
        found: list[str] = []

        def read() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                m = LISTENING.search(line)
                if m:
                    found.append(f"http://{m.group(1)}:{m.group(2)}")
                    break

        reader = threading.Thread(target=read, name="bench-serve-stdout", daemon=True)
        reader.start()
        reader.join(START_TIMEOUT_S)
        if not found:
            self.stop()
            tail = self.log_path.read_text(errors="replace").splitlines()[-5:]
            raise RuntimeError("the server did not start: " + " | ".join(tail))
        return found[0]

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it lingers; idempotent."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        if not self._log.closed:
            self._log.close()
