"""`convex friends` as a user runs it: add friends, see who is mutual, share ghosts, clear errors."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from shared.blendshapes import COUNT
from shared.face import Attention, FaceSample
from shared.ghost import GhostRecorder, encode_ghost
from tests.game.net_server import ServerThread
from tests.game.test_play_online import PASSWORD, run_convex

convex = run_convex


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    """One real server (fresh SQLite) for this file's players; each test uses its own names."""
    srv = ServerThread(tmp_path_factory.mktemp("server") / "server.sqlite3")
    srv.start()
    try:
        yield srv
    finally:
        srv.close()


def friends(
    tmp_path: Path, server: ServerThread, user: str, *args: str
) -> subprocess.CompletedProcess[str]:
    """``convex friends --server URL --username USER ARGS``."""
    return convex(tmp_path, "friends", "--server", server.url, "--username", user, *args)


def user_id(server: ServerThread, username: str) -> int:
    """The account's id, from logging in over HTTP."""

    async def go() -> int:
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{server.url}/api/login", json={"username": username, "password": PASSWORD}
            ) as r,
        ):
            assert r.status == 200, await r.text()
            return int((await r.json())["user_id"])

    return server.run(go)


def store_ghost(server: ServerThread, owner: str) -> str:
    """Store one finished 20-second session of ``owner``'s, with its ghost; returns its id."""
    from server.db.store import SessionRecord
    from server.keys import STORE

    rec = GhostRecorder(user_id="u", user_name=owner, subject="Chemistry", started_at=1.7e9, t0=0.0)
    rec.mark(0.0, Attention.FOCUSED, False)
    for i in range(200):
        rec.add_sample(FaceSample(i / 10, (0.05,) * COUNT, yaw=0.0, pitch=0.0, roll=0.0,
                                  confidence=0.9))  # fmt: skip
    ghost = rec.finish(20.0)
    session_id = f"s-{owner}-1"
    owner_id = user_id(server, owner)

    async def go() -> None:
        assert server.app is not None
        await server.app[STORE].save_sessions(
            [
                SessionRecord(
                    id=session_id,
                    user_id=owner_id,
                    room_id=None,
                    subject="Chemistry",
                    started_at=1.7e9,
                    ended_at=1.7e9 + ghost.duration_s,
                    focused_seconds=20.0,
                    damage=0.0,
                    xp=1,
                    outcome="victory",
                    ghost=encode_ghost(ghost),
                    ghost_duration_s=ghost.duration_s,
                )
            ]
        )

    server.run(go)
    return session_id


def test_adding_a_friend_then_being_added_back_makes_it_mutual(
    server: ServerThread, tmp_path: Path
) -> None:
    """ann adds bea (waiting for bea), bea adds ann back, and both lists then say mutual."""
    server.register("bea", PASSWORD)
    empty = friends(tmp_path, server, "ann", "--register")
    assert empty.returncode == 0, empty.stderr
    assert f"registered ann on {server.url}" in empty.stdout
    assert f"no friends yet on {server.url}" in empty.stdout
    added = friends(tmp_path, server, "ann", "add", "bea")
    assert added.returncode == 0, added.stderr
    assert "added bea (waiting for them to add you)" in added.stdout
    listed = friends(tmp_path, server, "ann")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == ["bea (waiting for them to add you)"]
    back = friends(tmp_path, server, "bea", "add", "ann")
    assert back.returncode == 0, back.stderr
    assert "added ann ✓ mutual" in back.stdout
    for me, other in (("ann", "bea"), ("bea", "ann")):
        mine = friends(tmp_path, server, me)
        assert mine.returncode == 0, mine.stderr
        assert mine.stdout.splitlines() == [f"{other} ✓ mutual"]


def test_mutual_friends_see_each_others_ghosts_in_play(
    server: ServerThread, tmp_path: Path
) -> None:
    """Once cal and dan have added each other, `convex play --ghosts` shows cal dan's ghost."""
    server.register("cal", PASSWORD)
    server.register("dan", PASSWORD)
    ghost_id = store_ghost(server, "dan")
    login = ("play", "--server", server.url, "--username", "cal", "--ghosts")
    before = convex(tmp_path, *login)
    assert before.returncode == 0, before.stderr
    assert ghost_id not in before.stdout
    for me, other in (("cal", "dan"), ("dan", "cal")):
        result = friends(tmp_path, server, me, "add", other)
        assert result.returncode == 0, result.stderr
    after = convex(tmp_path, *login)
    assert after.returncode == 0, after.stderr
    assert f"{ghost_id}  dan · Chemistry · 0:20 long · 0:20 focused" in after.stdout


def test_unknown_user_is_named_and_the_others_are_still_added(
    server: ServerThread, tmp_path: Path
) -> None:
    """`add zed eli` with no zed says so in one line, still adds eli, and exits 1."""
    server.register("eve2", PASSWORD)
    server.register("eli", PASSWORD)
    result = friends(tmp_path, server, "eve2", "add", "zed", "eli")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"convex friends: error: there is no user zed on {server.url} (check the spelling)"
    )
    assert "added eli (waiting for them to add you)" in result.stdout
    listed = friends(tmp_path, server, "eve2")
    assert listed.stdout.splitlines() == ["eli (waiting for them to add you)"]


def test_adding_yourself_or_a_friend_again_shows_the_servers_reason(
    server: ServerThread, tmp_path: Path
) -> None:
    """Adding yourself, or someone already on your list, says why it was refused and exits 1."""
    server.register("fox", PASSWORD)
    server.register("gil", PASSWORD)
    assert friends(tmp_path, server, "fox", "add", "gil").returncode == 0
    result = friends(tmp_path, server, "fox", "add", "fox", "gil")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "convex friends: error: not added fox: you cannot add yourself as a friend",
        "convex friends: error: not added gil: already in your friends",
    ]
    assert "Traceback" not in result.stderr


def test_no_tty_and_no_password_is_the_same_error_as_play(
    server: ServerThread, tmp_path: Path
) -> None:
    """Without CONVEX_PASSWORD and no terminal, friends says to set it, exactly as play does."""
    login = ("--server", server.url, "--username", "hana")
    listed = convex(tmp_path, "friends", *login, password=None)
    played = convex(tmp_path, "play", *login, "--rooms", password=None)
    assert listed.returncode == played.returncode == 2
    assert "set CONVEX_PASSWORD" in listed.stderr
    assert listed.stderr.removeprefix("convex friends") == played.stderr.removeprefix("convex play")


def test_missing_flags_and_bad_names_are_usage_errors(tmp_path: Path) -> None:
    """No --server, no --username, `add` with no name or a malformed one: one line, exit 2."""
    no_server = convex(tmp_path, "friends")
    assert no_server.returncode == 2
    assert "convex friends needs --server URL (or $CONVEX_SERVER)" in no_server.stderr
    url = "http://127.0.0.1:9"
    no_user = convex(tmp_path, "friends", "--server", url)
    assert no_user.returncode == 2
    assert "--server needs --username NAME" in no_user.stderr
    no_name = convex(tmp_path, "friends", "--server", url, "--username", "ivo", "add")
    assert no_name.returncode == 2
    assert "add needs at least one NAME" in no_name.stderr
    bad_name = convex(tmp_path, "friends", "--server", url, "--username", "ivo", "add", "a b")
    assert bad_name.returncode == 2
    assert "add a b: 'username' must be 3 to 32 letters" in bad_name.stderr
    for result in (no_server, no_user, no_name, bad_name):
        assert "Traceback" not in result.stderr
