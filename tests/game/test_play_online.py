"""`convex play --server` as a user runs it: sign in, list rooms, join or create one, clear errors."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from game.net import NetClient
from tests.game.net_server import ServerThread
from tests.game.test_play import assert_not_blank

CONVEX = str(Path(sys.executable).with_name("convex"))
PASSWORD = "password123"
WAIT_S = 15.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    """One real server (tick loop on, fresh SQLite) for this file's players."""
    srv = ServerThread(tmp_path_factory.mktemp("server") / "server.sqlite3")
    srv.start()
    try:
        yield srv
    finally:
        srv.close()


@pytest.fixture
def bob(server: ServerThread) -> Iterator[NetClient]:
    """Another player, connected and hosting a fresh room ("Bob's maths")."""
    client = NetClient(server.url)
    name = f"bob{os.urandom(3).hex()}"
    try:
        client.register(name, PASSWORD).result(WAIT_S)
        client.connect().result(WAIT_S)
        client.create_room("Bob's maths", "Maths").result(WAIT_S)
        yield client
    finally:
        client.close()


def run_convex(
    tmp_path: Path, *args: str, password: str | None = PASSWORD
) -> subprocess.CompletedProcess[str]:
    """Run the installed console script with no display, no TTY and a private data dir."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY") and not k.startswith("CONVEX_")
    }
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    if password is not None:
        env["CONVEX_PASSWORD"] = password
    return subprocess.run(
        [CONVEX, *args],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def play(
    tmp_path: Path, *args: str, password: str | None = PASSWORD
) -> subprocess.CompletedProcess[str]:
    """``convex play ARGS`` as :func:`run_convex` runs it."""
    return run_convex(tmp_path, "play", *args, password=password)


def room_of(client: NetClient) -> str:
    snap = client.snapshot()
    assert snap.room is not None
    return snap.room.room_id


def test_rooms_prints_the_open_rooms_with_friends_starred(
    server: ServerThread, bob: NetClient, tmp_path: Path
) -> None:
    """--register signs up, --rooms prints bob's room as a table and stars him once he's a friend."""
    snap = bob.snapshot()
    assert snap.room is not None
    host = snap.members[0].username
    result = play(tmp_path, "--server", server.url, "--username", "dora", "--register", "--rooms")
    assert result.returncode == 0, result.stderr
    assert f"registered dora on {server.url}" in result.stdout
    line = next(x for x in result.stdout.splitlines() if room_of(bob) in x)
    assert line.split()[:3] == [room_of(bob), "Bob's", "maths"]
    assert host in line and "1/8" in line and "waiting" in line and "★" not in line

    async def befriend() -> None:
        async with aiohttp.ClientSession() as http:
            async with http.post(
                f"{server.url}/api/login", json={"username": "dora", "password": PASSWORD}
            ) as r:
                token = (await r.json())["token"]
            async with http.post(
                f"{server.url}/api/friends",
                json={"username": host},
                headers={"Authorization": f"Bearer {token}"},
            ) as r:
                assert r.status < 300, await r.text()

    server.run(befriend)
    again = play(tmp_path, "--server", server.url, "--username", "dora", "--rooms")
    assert again.returncode == 0, again.stderr
    line = next(x for x in again.stdout.splitlines() if room_of(bob) in x)
    assert f"★ {host}" in line


def test_room_id_joins_and_renders_the_arena(
    server: ServerThread, bob: NetClient, tmp_path: Path
) -> None:
    """--room ID --offscreen --frames N --screenshot joins bob's room and renders the arena."""
    room_id = room_of(bob)
    out = tmp_path / "arena.png"
    result = play(
        tmp_path, "--server", server.url, "--username", "eve", "--register", "--room", room_id,
        "--source", "synthetic", "--offscreen", "--frames", "20", "--screenshot", str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "rendered 20 frames in the arena scene" in result.stdout
    assert f"room {room_id} (Bob's maths)" in result.stdout
    assert_not_blank(out)
    # The host's client saw eve take a seat (she is still seated, reconnecting, after quitting).
    snap = bob.snapshot()
    assert "eve" in {m.username for m in snap.members}


def test_create_opens_a_room_others_can_join(server: ServerThread, tmp_path: Path) -> None:
    """--create NAME --subject --minutes --boss opens a room and prints the id friends join with."""
    result = play(
        tmp_path, "--server", server.url, "--username", "fay", "--register",
        "--create", "Fay's revision", "--subject", "Biology", "--minutes", "30", "--boss", "slime",
        "--source", "synthetic", "--offscreen", "--frames", "5",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if x.startswith("created room "))
    room_id = line.split()[2]
    assert f"convex play --server {server.url} --room {room_id}" in line
    with NetClient(server.url) as gus:
        gus.register("gus", PASSWORD).result(WAIT_S)
        rooms = {r.room_id: r for r in gus.list_rooms().result(WAIT_S).rooms}
    room = rooms[room_id]
    assert (room.name, room.subject, room.boss_kind, room.host_username) == (
        "Fay's revision",
        "Biology",
        "slime",
        "fay",
    )


def test_wrong_password_is_a_clear_error(server: ServerThread, tmp_path: Path) -> None:
    """A wrong password says so (and how to register) and exits 1, before any window opens."""
    server.register("hal", PASSWORD)
    result = play(tmp_path, "--server", server.url, "--username", "hal", "--rooms",
                  password="not-the-password")  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"convex play: error: wrong username or password for hal on {server.url} "
        "(new here? add --register)"
    )


def test_taken_username_is_a_clear_error(server: ServerThread, tmp_path: Path) -> None:
    """--register with a name someone has says it is taken and how to log in instead."""
    server.register("ivy", PASSWORD)
    result = play(tmp_path, "--server", server.url, "--username", "ivy", "--register", "--rooms")
    assert result.returncode == 1
    assert f"the username ivy is taken on {server.url}" in result.stderr
    assert "leave out --register to log in" in result.stderr


def test_unknown_room_is_a_clear_error(server: ServerThread, tmp_path: Path) -> None:
    """--room with an id no open room has says so, points at --rooms and exits 1."""
    server.register("jon", PASSWORD)
    result = play(
        tmp_path, "--server", server.url, "--username", "jon", "--room", "NOSUCHROOM",
        "--source", "synthetic", "--offscreen", "--frames", "5",
    )  # fmt: skip
    assert result.returncode == 1
    assert f"there is no open room NOSUCHROOM on {server.url}" in result.stderr
    assert "--rooms" in result.stderr
    assert "Traceback" not in result.stderr


def test_no_tty_and_no_password_is_a_clear_error(server: ServerThread, tmp_path: Path) -> None:
    """Without CONVEX_PASSWORD and with no terminal to ask on, it says to set the variable."""
    result = play(tmp_path, "--server", server.url, "--username", "kim", "--rooms", password=None)
    assert result.returncode == 2
    assert "set CONVEX_PASSWORD" in result.stderr


def test_unreachable_server_and_missing_flags_are_clear_errors(tmp_path: Path) -> None:
    """No server there, --room without --server, or no --username: one line each, no traceback."""
    refused = play(tmp_path, "--server", "http://127.0.0.1:9", "--username", "lea", "--rooms")
    assert refused.returncode == 1
    assert "cannot reach the server at http://127.0.0.1:9" in refused.stderr
    no_server = play(tmp_path, "--room", "ABCD1234")
    assert no_server.returncode == 2
    assert "--room needs --server URL (or $CONVEX_SERVER)" in no_server.stderr
    no_user = play(tmp_path, "--server", "http://127.0.0.1:9", "--rooms")
    assert no_user.returncode == 2
    assert "--server needs --username NAME" in no_user.stderr
    for result in (refused, no_server, no_user):
        assert "Traceback" not in result.stderr
