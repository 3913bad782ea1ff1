"""`shared` stays pure: importing it loads no engine, network or event-loop module and never reads the clock."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Runs in a fresh interpreter so modules that pytest itself imported do not count.
PROBE = textwrap.dedent(
    """
    import datetime, importlib, json, pkgutil, sys, time

    SHARED = {shared!r}
    calls = []

    def guard(name, real):
        def wrapper(*args, **kwargs):
            caller = sys._getframe(1).f_code.co_filename
            if caller.startswith(SHARED):
                calls.append(f"{{name}} from {{caller}}")
            return real(*args, **kwargs)
        return wrapper

    for name in ("time", "time_ns", "monotonic", "monotonic_ns", "perf_counter",
                 "perf_counter_ns", "localtime", "gmtime", "ctime", "asctime", "strftime"):
        setattr(time, name, guard(f"time.{{name}}", getattr(time, name)))

    class GuardedDateTime(datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            calls.append("datetime.now")
            return super().now(tz)

        @classmethod
        def utcnow(cls):
            calls.append("datetime.utcnow")
            return super().utcnow()

        @classmethod
        def today(cls):
            calls.append("datetime.today")
            return super().today()

    class GuardedDate(datetime.date):
        @classmethod
        def today(cls):
            calls.append("date.today")
            return super().today()

    datetime.datetime = GuardedDateTime
    datetime.date = GuardedDate

    import shared
    names = ["shared"]
    for info in pkgutil.walk_packages(shared.__path__, "shared."):
        importlib.import_module(info.name)
        names.append(info.name)

    forbidden = ("panda3d", "direct", "aiohttp", "socketio", "engineio", "asyncio",
                 "cv2", "mediapipe")
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in forbidden)
    print(json.dumps({{"modules": names, "loaded": loaded, "calls": calls}}))
    """
)


def _probe() -> dict[str, list[str]]:
    code = PROBE.format(shared=str(ROOT / "shared"))
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    result: dict[str, list[str]] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_shared_imports_no_engine_network_or_loop_modules() -> None:
    """Importing every module of `shared` loads no panda3d, aiohttp, socketio, asyncio, cv2 or mediapipe."""
    result = _probe()
    assert len(result["modules"]) > 5, result["modules"]
    assert result["loaded"] == []


def test_shared_never_reads_the_clock_on_import() -> None:
    """No module of `shared` reads the wall or monotonic clock while being imported."""
    assert _probe()["calls"] == []


# Modules whose mere import in `shared` would mean time, randomness, threads or I/O sneaked in.
# (pydantic itself imports threading and random, so this is checked on our source, not sys.modules.)
BANNED_IMPORTS = {"time", "random", "secrets", "threading", "asyncio", "uuid", "socket", "os", "io"}
BANNED_CALLS = {"now", "utcnow", "today"}


def test_shared_source_has_no_clock_randomness_or_io() -> None:
    """No module in `shared` imports time/random/threads/sockets/os or calls datetime.now()-like clocks."""
    offences: list[str] = []
    for path in sorted((ROOT / "shared").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module.split(".")[0]]
            offences += [
                f"{path.name}:{node.lineno} imports {n}" for n in names if n in BANNED_IMPORTS
            ]
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in BANNED_CALLS
            ):
                offences.append(f"{path.name}:{node.lineno} calls .{node.func.attr}()")
    assert offences == []
