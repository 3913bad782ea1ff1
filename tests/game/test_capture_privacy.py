"""Privacy: game.capture never sends or stores a frame (checked in its source and while it runs)."""

from __future__ import annotations

import ast
import builtins
import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import game.capture
from game.capture.sources import ArraySource, RGBImage
from game.capture.tracker import FaceTracker

NETWORK_MODULES = frozenset(
    {
        "socket", "ssl", "http", "urllib", "urllib3", "requests", "httpx", "aiohttp",
        "socketio", "engineio", "websocket", "websockets", "ftplib", "smtplib", "telnetlib",
        "xmlrpc", "asyncio", "grpc", "zmq", "paramiko", "subprocess", "multiprocessing",
    }
)  # fmt: skip
"""Modules through which bytes could leave the process."""

STORAGE_NAMES = frozenset(
    {
        "imwrite", "imwritemulti", "imencode", "VideoWriter", "VideoWriter_fourcc", "tofile",
        "save", "savez", "savez_compressed", "write_bytes", "write_text", "dump",
        "mkstemp", "NamedTemporaryFile", "TemporaryFile", "copyfile", "copy", "copy2",
        "O_WRONLY", "O_RDWR", "O_CREAT", "O_APPEND",
    }
)  # fmt: skip
"""Attribute or function names that write images or files."""

ALLOWED: dict[tuple[str, str], str] = {
    ("model.py", "fetch_model"): "downloads the public model file into the cache; sends no data",
    ("calibration.py", "save_baseline"): "writes the user's calibration numbers; never an image",
}
"""(file, function) → why it may use the network or write a file."""


@dataclass(frozen=True)
class Finding:
    """One suspicious construct: where it is and what it is."""

    file: str
    function: str
    line: int
    what: str


def _is_write_mode(node: ast.Call) -> bool:
    modes = [a.value for a in node.args[1:2] if isinstance(a, ast.Constant)]
    modes += [
        k.value.value
        for k in node.keywords
        if k.arg == "mode" and isinstance(k.value, ast.Constant)
    ]
    return any(isinstance(m, str) and set(m) & set("wax+") for m in modes)


class _Scanner(ast.NodeVisitor):
    def __init__(self, file: str) -> None:
        self.file = file
        self.scope: list[str] = []
        self.findings: list[Finding] = []

    def _add(self, node: ast.AST, what: str) -> None:
        function = ".".join(self.scope) or "<module>"
        self.findings.append(Finding(self.file, function, getattr(node, "lineno", 0), what))

    def _visit_scope(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()

    visit_FunctionDef = _visit_scope
    visit_AsyncFunctionDef = _visit_scope
    visit_ClassDef = _visit_scope

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.split(".")[0] in NETWORK_MODULES:
                self._add(node, f"import {alias.name}")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module and node.module.split(".")[0] in NETWORK_MODULES:
            self._add(node, f"from {node.module} import ...")
        for alias in node.names:
            if alias.name in STORAGE_NAMES:
                self._add(node, f"import of {alias.name}")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in STORAGE_NAMES:
            self._add(node, f".{node.attr}")
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in STORAGE_NAMES:
            self._add(node, node.id)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = (
            func.id
            if isinstance(func, ast.Name)
            else func.attr
            if isinstance(func, ast.Attribute)
            else ""
        )
        if name in {"open", "fdopen"} and _is_write_mode(node):
            self._add(node, f"{name}(..., write mode)")
        if name == "__import__":
            self._add(node, "__import__()")
        self.generic_visit(node)


def scan_source(text: str, file: str) -> list[Finding]:
    """Every network use or file write in one module's source."""
    scanner = _Scanner(file)
    scanner.visit(ast.parse(text))
    return scanner.findings


def _package_files() -> list[Path]:
    return sorted(Path(p) for root in game.capture.__path__ for p in Path(root).glob("*.py"))


def test_scanner_catches_what_it_looks_for() -> None:
    """The scanner flags sockets, HTTP, image writes, video writers and binary file writes."""
    bad = (
        "import socket\n"
        "from urllib.request import urlopen\n"
        "def leak(frame, path):\n"
        "    cv2.imwrite(path, frame)\n"
        "    w = cv2.VideoWriter(path, 0, 30, (1, 1))\n"
        "    open(path, 'wb').write(frame.tobytes())\n"
        "    np.save(path, frame)\n"
    )
    found = {(f.function, f.what) for f in scan_source(bad, "bad.py")}
    assert ("<module>", "import socket") in found
    assert ("<module>", "from urllib.request import ...") in found
    assert ("leak", ".imwrite") in found
    assert ("leak", ".VideoWriter") in found
    assert ("leak", "open(..., write mode)") in found
    assert ("leak", ".save") in found


def test_capture_package_has_no_network_or_file_writes_outside_the_allowlist() -> None:
    """Only model.fetch_model may touch the network or write a file; no module writes images."""
    files = _package_files()
    assert {f.name for f in files} >= {"sources.py", "tracker.py", "model.py"}
    findings = [
        f
        for path in files
        for f in scan_source(path.read_text(encoding="utf-8"), path.name)
        if (f.file, f.function) not in ALLOWED
    ]
    assert findings == []


def test_the_allowlist_is_not_stale() -> None:
    """Every allow-listed function exists and really is the one doing the network or write work."""
    by_file = {p.name: p for p in _package_files()}
    for file, function in ALLOWED:
        findings = scan_source(by_file[file].read_text(encoding="utf-8"), file)
        assert any(f.function == function for f in findings), (file, function)


# -- behaviour: run the tracker with the network and file writes booby-trapped ------------------


def _socket_inodes() -> set[str]:
    fd_dir = Path("/proc/self/fd")
    inodes = set()
    for entry in fd_dir.iterdir():
        try:
            target = os.readlink(entry)
        except OSError:
            continue
        if target.startswith("socket:"):
            inodes.add(target)
    return inodes


@pytest.fixture
def tripwires(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[list[str]]:
    """Make every socket send/connect and every write-mode open() record itself and fail."""
    hits: list[str] = []

    def trap(name: str) -> Callable[..., Any]:
        def tripped(*args: object, **kwargs: object) -> Any:
            hits.append(name)
            raise AssertionError(f"game.capture attempted {name}")

        return tripped

    for method in ("connect", "connect_ex", "send", "sendall", "sendto", "sendmsg", "sendfile"):
        monkeypatch.setattr(socket.socket, method, trap(f"socket.{method}"))
    monkeypatch.setattr(socket, "create_connection", trap("socket.create_connection"))
    real_open = builtins.open

    def guarded_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if set(mode) & set("wax+"):
            return trap(f"open({file!r}, {mode!r})")()
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    monkeypatch.chdir(tmp_path)
    yield hits


def test_tripwires_fire(tripwires: list[str]) -> None:
    """The traps catch a connection attempt and a file write (so silence below means something)."""
    with pytest.raises(AssertionError):
        socket.create_connection(("127.0.0.1", 9))
    with pytest.raises(AssertionError):
        open("frame.raw", "wb")  # noqa: SIM115
    assert tripwires == ["socket.create_connection", "open('frame.raw', 'wb')"]


def test_tracking_sends_and_stores_nothing(
    tripwires: list[str], model_path: Path, face_frames: list[RGBImage], tmp_path: Path
) -> None:
    """Tracking real faces end to end: no socket call, no new socket, no file written anywhere."""
    sockets_before = _socket_inodes()
    with (
        ArraySource(face_frames, fps=30.0, repeat=2) as source,
        FaceTracker(model_path, source=source) as tracker,
    ):
        assert tracker.wait_idle(60.0)
        latest = tracker.latest()
    assert latest is not None and latest.present
    assert tripwires == []
    assert _socket_inodes() <= sockets_before
    assert list(tmp_path.iterdir()) == []
