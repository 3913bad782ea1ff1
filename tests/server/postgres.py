"""A throwaway PostgreSQL cluster for tests: initdb in a temporary folder, serve on loopback.

The cluster uses the newest Debian server binaries (``/usr/lib/postgresql/<version>/bin``), trust
authentication on 127.0.0.1 only, its Unix socket inside its own folder, and fsync off (a test
cluster never needs to survive a power cut). PostgreSQL refuses to run as root, so as root every
server command runs as the ``postgres`` user the Debian package creates, in a folder that user
owns. Tests get one cluster per session and a fresh database per test (:meth:`create_database`).
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import asyncpg  # type: ignore[import-untyped]

INITDB_GLOB: Final[str] = "/usr/lib/postgresql/*/bin/initdb"
"""Where Debian's ``postgresql-<version>`` packages put the server binaries."""

DEBIAN_PACKAGES: Final[tuple[str, ...]] = ("postgresql",)
"""What to install for these tests (the metapackage pulls in the newest server version)."""

SUPERUSER: Final[str] = "postgres"
"""The cluster's superuser role, and the system user that runs it when the tests run as root."""

START_TIMEOUT_S: Final[int] = 60
"""How long ``pg_ctl`` may wait for the server to accept connections (a loaded CI machine)."""

PORT_ATTEMPTS: Final[int] = 3
"""Free ports tried: another process can take a port between our probe and the server's bind."""

SERVER_OPTIONS: Final[tuple[str, ...]] = (
    "-F",  # fsync off: durability is the operating system's problem in a throwaway cluster
    "-c",
    "full_page_writes=off",
    "-c",
    "max_connections=200",  # a pool per live test server, plus killed servers' dying sessions
)


class PostgresUnavailable(RuntimeError):
    """PostgreSQL is not installed here, or the throwaway cluster could not be started."""


def find_bin_dir(pattern: str = INITDB_GLOB) -> Path:
    """The folder of the newest installed PostgreSQL server binaries."""
    found = sorted(
        (Path(p).parent for p in glob.glob(pattern)),
        key=lambda d: tuple(int(n) for n in re.findall(r"\d+", d.parent.name)) or (0,),
    )
    if not found:
        packages = " ".join(DEBIAN_PACKAGES)
        raise PostgresUnavailable(
            f"PostgreSQL is not installed (no {pattern}); the server tests run against a real "
            f"PostgreSQL as well as SQLite. Install the Debian package: "
            f"apt-get install --no-install-recommends {packages}"
        )
    return found[-1]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class PostgresCluster:
    """A running throwaway cluster; :meth:`stop` shuts it down and deletes its folder."""

    def __init__(self, bin_dir: Path, root: Path, port: int, run_as: Sequence[str]) -> None:
        self.bin_dir = bin_dir
        self.root = root
        self.port = port
        self._run_as = tuple(run_as)
        self._names = itertools.count(1)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        return self.root / "server.log"

    @classmethod
    def start(cls, bin_dir: Path | None = None) -> PostgresCluster:
        """initdb into a new temporary folder and start the server on a free loopback port."""
        bin_dir = bin_dir or find_bin_dir()
        root = Path(tempfile.mkdtemp(prefix="convex-pg-"))
        run_as: tuple[str, ...] = ()
        try:
            if os.geteuid() == 0:
                try:
                    user = pwd.getpwnam(SUPERUSER)
                except KeyError:
                    raise PostgresUnavailable(
                        f"running as root needs the {SUPERUSER!r} system user that the Debian "
                        f"package {DEBIAN_PACKAGES[0]!r} creates"
                    ) from None
                os.chown(root, user.pw_uid, user.pw_gid)
                run_as = ("runuser", "-u", SUPERUSER, "--")
            cluster = cls(bin_dir, root, 0, run_as)
            cluster._initdb()
            for attempt in range(PORT_ATTEMPTS):
                cluster.port = free_port()
                if cluster._pg_ctl_start(last=attempt == PORT_ATTEMPTS - 1):
                    return cluster
        except BaseException:
            shutil.rmtree(root, ignore_errors=True)
            raise
        raise AssertionError("unreachable")  # the last attempt raises on failure

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        # cwd: the server commands call getcwd(), which fails where the postgres user may not look.
        return subprocess.run(
            [*self._run_as, *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "LC_ALL": "C.UTF-8"},
        )

    def _initdb(self) -> None:
        done = self._run(
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        if done.returncode != 0:
            raise PostgresUnavailable(f"initdb failed:\n{done.stdout}\n{done.stderr}")

    def _pg_ctl_start(self, *, last: bool) -> bool:
        options = " ".join(
            ("-k", str(self.root), "-h", "127.0.0.1", "-p", str(self.port), *SERVER_OPTIONS)
        )
        done = self._run(
            str(self.bin_dir / "pg_ctl"),
            "start",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_file),
            "-w",
            "-t",
            str(START_TIMEOUT_S),
            "-o",
            options,
        )
        if done.returncode == 0:
            return True
        log = self.log_file.read_text(errors="replace") if self.log_file.exists() else ""
        if not last and "could not bind" in log:
            return False
        raise PostgresUnavailable(
            f"pg_ctl start failed:\n{done.stdout}\n{done.stderr}\n--- server log ---\n{log}"
        )

    def url(self, database: str) -> str:
        """The SQLAlchemy URL the Convex server takes for one of this cluster's databases."""
        return f"postgresql+asyncpg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    async def create_database(self, name: str | None = None) -> str:
        """Create an empty database (default name ``test_<n>``) and return its server URL."""
        name = name or f"test_{next(self._names)}"
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
            raise ValueError(f"{name!r} is not a plain lower-case database name")
        conn = await asyncpg.connect(
            host="127.0.0.1", port=self.port, user=SUPERUSER, database="postgres"
        )
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return self.url(name)

    def stop(self) -> None:
        """Shut the server down (fast: sessions are cut off) and delete the cluster's folder."""
        try:
            if self.data_dir.exists():
                self._run(
                    str(self.bin_dir / "pg_ctl"), "stop", "-D", str(self.data_dir), "-m", "fast"
                )
        finally:
            with contextlib.suppress(OSError):
                shutil.rmtree(self.root)
