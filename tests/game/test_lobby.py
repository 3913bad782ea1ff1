"""The room browser in the game: a real server, real clients, the lobby rendering offscreen."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from game.app import AppSettings, ConvexApp
from game.avatar.models import avatar_path
from game.config import SIMULATED_DT
from game.net import NetClient
from game.online import room_rows, room_table, synthetic_local
from game.scenes.arena import ArenaScene, lobby_status
from game.scenes.base import Command, SceneId
from game.scenes.lobby import REFRESH_S, LobbyOptions, LobbyScene, attach_lobby, empty_hint
from game.scenes.results import BACK_HINT, ResultsScene
from shared.protocol import Plan, RoomInfo
from tests.game.net_server import ServerThread

PASSWORD = "password123"
WAIT_S = 15.0
SIZE = (960, 540)


@pytest.fixture
def clients(server: ServerThread) -> Iterator[Callable[[str], NetClient]]:
    """Makes registered, connected clients; closes them all afterwards."""
    made: list[NetClient] = []

    def make(name: str) -> NetClient:
        client = NetClient(server.url)
        made.append(client)
        client.register(name, PASSWORD).result(WAIT_S)
        client.connect().result(WAIT_S)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def lobby(
    server: ServerThread, clients: Callable[[str], NetClient]
) -> Iterator[tuple[ConvexApp, NetClient]]:
    """amy's game, offscreen, in the room browser of the real server."""
    amy = clients("amy")
    feed = synthetic_local()
    settings = AppSettings(
        avatar=avatar_path(),
        offscreen=True,
        size=SIZE,
        fixed_dt=SIMULATED_DT,
        record_sessions=False,
    )
    app = ConvexApp(settings, feed)
    try:
        options = LobbyOptions(
            username="amy", server=server.url, subject="Chemistry", plan=Plan(focus_s=600)
        )
        attach_lobby(app, amy, options)
        app.switch(SceneId.LOBBY)
        yield app, amy
    finally:
        app.teardown()


def run_until(app: ConvexApp, done: Callable[[], bool], what: str) -> None:
    """Render frames until ``done()`` (the network answers in real time); fail after WAIT_S."""
    deadline = time.monotonic() + WAIT_S
    while not done():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        app.run_frames(1)
        time.sleep(0.005)


def lobby_scene(app: ConvexApp) -> LobbyScene:
    scene = app.scene
    assert isinstance(scene, LobbyScene)
    return scene


def first_row_band(image: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Pixels of the table's first row (below the header), where a listed room is drawn."""
    h, w, _ = image.shape
    return image[int(h * 0.23) : int(h * 0.29), int(w * 0.15) : int(w * 0.85)]


def shot(app: ConvexApp, path: Path) -> np.ndarray[Any, Any]:
    app.save_screenshot(path)
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.float64)


def test_lobby_lists_a_friends_room_and_shows_it(
    lobby: tuple[ConvexApp, NetClient], clients: Callable[[str], NetClient], tmp_path: Path
) -> None:
    """A room another player opens appears in the browser (on the next refresh) and on screen."""
    app, _ = lobby
    scene = lobby_scene(app)
    run_until(app, lambda: scene.loaded, "the first room list")
    assert scene.rows == []
    assert "No open rooms. Press N to create one" in scene.empty.text
    empty = shot(app, tmp_path / "empty.png")

    bob = clients("bob")
    room_id = bob.create_room("Bob's maths", "Maths").result(WAIT_S).room_id
    # No key pressed: the list refreshes by itself every few seconds.
    frames_per_refresh = int(REFRESH_S / SIMULATED_DT) + 2
    for _ in range(frames_per_refresh):
        app.run_frames(1)
    run_until(app, lambda: bool(scene.rows), "the refreshed list")
    assert scene.rows == [(room_id, "Bob's maths", "Maths", "bob", "1/8", "waiting")]
    assert scene.selected == room_id
    assert [label.text for label in scene.cells[0]][:4] == [room_id, "Bob's maths", "Maths", "bob"]
    assert scene.empty.text == ""
    listed = shot(app, tmp_path / "listed.png")
    # The row is drawn (text and the selection band), where the empty list had plain panel.
    change = np.abs(first_row_band(listed) - first_row_band(empty)).sum(axis=2)
    assert (change > 30).mean() > 0.2


def test_enter_joins_the_selected_room_and_shows_its_members(
    lobby: tuple[ConvexApp, NetClient], clients: Callable[[str], NetClient]
) -> None:
    """Up/Down pick a room, Enter joins it: the arena shows the host's avatar next to yours."""
    app, amy = lobby
    bob = clients("bob")
    bob_room = bob.create_room("Bob's maths", "Maths").result(WAIT_S).room_id
    cat = clients("cat")
    cat_room = cat.create_room("Cat's physics", "Physics").result(WAIT_S).room_id
    scene = lobby_scene(app)
    app.press(Command.REFRESH)
    run_until(app, lambda: len(scene.rows) == 2, "both rooms")
    ids = [row[0] for row in scene.rows]
    # Walk to bob's room whichever order the server listed them in.
    app.press(Command.DOWN if ids.index(bob_room) > ids.index(scene.selected or "") else Command.UP)
    app.run_frames(1)
    assert scene.selected == bob_room
    app.press(Command.SELECT)
    run_until(app, lambda: app.scene_id is SceneId.ARENA, "the arena")
    arena = app.scene
    assert isinstance(arena, ArenaScene)
    run_until(app, lambda: arena.avatar_for("bob") is not None, "bob's avatar")
    snap = amy.snapshot()
    assert snap.room is not None and snap.room.room_id == bob_room != cat_room
    assert {m.username for m in snap.members} == {"amy", "bob"}
    assert arena.avatar_for("amy") is not None
    assert lobby_status(snap) == f"Room {bob_room} · waiting for bob to start"


def test_n_creates_your_own_room_and_you_host_it(
    lobby: tuple[ConvexApp, NetClient], clients: Callable[[str], NetClient]
) -> None:
    """N opens "amy's room" with the --subject and plan given, and puts you in it as host."""
    app, amy = lobby
    scene = lobby_scene(app)
    run_until(app, lambda: scene.loaded, "the first room list")
    app.press(Command.NEW)
    run_until(app, lambda: app.scene_id is SceneId.ARENA, "the arena")
    snap = amy.snapshot()
    assert snap.room is not None
    assert (snap.room.name, snap.room.subject, snap.room.plan.focus_s) == (
        "amy's room",
        "Chemistry",
        600,
    )
    assert snap.room.host_id == snap.member_id
    assert lobby_status(snap).endswith("you host: press SPACE to start")
    # Another player sees it in their browser.
    listing = clients("bob").list_rooms().result(WAIT_S)
    assert [(r.name, r.host_username) for r in listing.rooms] == [("amy's room", "amy")]


def test_enter_after_the_results_goes_back_to_the_room_browser(
    lobby: tuple[ConvexApp, NetClient], clients: Callable[[str], NetClient]
) -> None:
    """After a session's results, Enter leaves the room (it closes, being empty) and shows the
    room browser again, where N opens the next room."""
    app, amy = lobby
    scene = lobby_scene(app)
    run_until(app, lambda: scene.loaded, "the first room list")
    app.press(Command.NEW)
    run_until(app, lambda: app.scene_id is SceneId.ARENA, "the arena")
    first = amy.snapshot().room
    assert first is not None
    amy.start().result(WAIT_S)
    amy.finish().result(WAIT_S)
    run_until(app, lambda: app.scene_id is SceneId.RESULTS, "the results")
    results = app.scene
    assert isinstance(results, ResultsScene)
    run_until(app, lambda: results.results is not None, "the results panel")
    assert results.footer.text.endswith(BACK_HINT)
    app.press(Command.SELECT)
    run_until(app, lambda: app.scene_id is SceneId.LOBBY, "the room browser")
    assert amy.snapshot().room is None
    assert clients("bob").list_rooms().result(WAIT_S).rooms == ()  # amy's room closed
    again = lobby_scene(app)
    run_until(app, lambda: again.loaded, "the room list")
    app.press(Command.NEW)
    run_until(app, lambda: app.scene_id is SceneId.ARENA, "the next arena")
    second = amy.snapshot().room
    assert second is not None and second.room_id != first.room_id


def test_server_refusal_is_an_in_game_message(
    lobby: tuple[ConvexApp, NetClient], clients: Callable[[str], NetClient]
) -> None:
    """Joining a room that closed meanwhile keeps you in the lobby with the server's reason."""
    app, _ = lobby
    bob = clients("bob")
    bob.create_room("Bob's maths", "Maths").result(WAIT_S)
    scene = lobby_scene(app)
    app.press(Command.REFRESH)
    run_until(app, lambda: bool(scene.rows), "bob's room")
    bob.leave().result(WAIT_S)  # the last member left: the room is gone
    app.press(Command.SELECT)
    run_until(app, lambda: "failed" in scene.message_label.text, "the error line")
    assert app.scene_id is SceneId.LOBBY
    assert scene.message_label.text == (
        "Joining Bob's maths failed: That room does not exist any more."
    )
    # The next refresh drops the closed room and shows the empty list's hint again.
    app.press(Command.REFRESH)
    run_until(app, lambda: not scene.rows and bool(scene.empty.text), "the empty list")
    assert scene.empty.text == empty_hint(scene.options.server)


def test_room_table_marks_friends_hosts() -> None:
    """The terminal table and the lobby rows star a host who is on your friend list."""
    info = RoomInfo.model_validate(
        {
            "room_id": "ABCD2345",
            "name": "Evening revision",
            "subject": "History",
            "host_id": "7",
            "host_username": "ada",
            "members": 3,
            "capacity": 8,
            "phase": "focus",
            "boss_kind": "dragon",
            "host_is_friend": True,
        }
    )
    assert room_rows([info]) == [
        ("ABCD2345", "Evening revision", "History", "★ ada", "3/8", "focusing")
    ]
    lines = room_table([info]).splitlines()
    assert lines[0].split() == ["id", "room", "subject", "host", "players", "phase"]
    assert "★ ada" in lines[1] and "3/8" in lines[1]
