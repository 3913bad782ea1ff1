"""Room snapshots: plain JSON, a restore that resumes the timer and boss exactly, corrupt ones refused."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from server.rooms import CorruptSnapshot, Room
from shared.battle import Outcome
from shared.ghost import GhostRecording
from shared.timer import Phase
from tests.server.test_room_support import (
    AWAY,
    FOCUSED,
    PLAN,
    T0,
    UNSURE,
    Ids,
    alice,
    bob,
    carol,
    drive,
    new_room,
    record_ghost,
)


def _no_ghosts(ghost_id: str) -> GhostRecording | None:
    return None


def _mid_battle() -> tuple[Room, float, GhostRecording, dict[str, Any]]:
    """Three people and a ghost, 30 s into round one; returns the room, the time, the ghost and the
    people by id."""
    a, b, c = alice(), bob(), carol()
    people = {p.user_id: p for p in (a, b, c)}
    ghost = record_ghost(focused_s=60.0)
    room = new_room(a, ids=Ids("m"))
    room.join(b.user_id, b.username, T0)
    room.join(c.user_id, c.username, T0)
    room.add_ghost(a.user_id, "ghost-1", ghost, "samuel", T0)
    room.start(a.user_id, T0)
    faces = {a.user_id: FOCUSED, b.user_id: FOCUSED, c.user_id: AWAY}
    run = drive(room, faces, people, start=T0, until=T0 + 30)
    return room, run.t, ghost, people


def test_a_snapshot_is_plain_json() -> None:
    """The snapshot survives json.dumps / json.loads unchanged."""
    room, _, _, _ = _mid_battle()
    snapshot = room.snapshot()
    assert json.loads(json.dumps(snapshot, allow_nan=False)) == snapshot


def test_restore_resumes_timer_and_boss_exactly_and_ticks_on() -> None:
    """Restored mid-battle: same end_time, same HP, people held as disconnected with a fresh
    window; they reconnect, the fight goes on and the session ends with every record."""
    room, t, ghost, people = _mid_battle()
    stored = json.loads(json.dumps(room.snapshot()))
    battle = room.battle
    assert battle is not None
    later = t + 7.0  # the server was down for seven seconds
    loaded: list[str] = []

    def load(ghost_id: str) -> GhostRecording | None:
        loaded.append(ghost_id)
        return ghost

    back = Room.restore(stored, later, load, new_id=Ids("r"))
    assert loaded == ["ghost-1"]
    assert back.timer.end_time == room.timer.end_time == T0 + 60
    assert back.timer == room.timer
    assert back.battle == battle
    state = back.state_view()
    assert state.model_copy(update={"members": ()}) == room.state_view().model_copy(
        update={"members": ()}
    )
    for member in state.members:
        original = room.member(member.member_id)
        assert member.slot == original.slot
        assert member.connected is member.is_ghost
    assert back.snapshot()["members"][1]["expires_at"] == later + 60.0

    hp = battle.boss_hp
    for user_id in people:
        people[user_id].seq = 0
        back.join(user_id, people[user_id].username, later)
    faces = {user_id: FOCUSED for user_id in people}
    run = drive(back, faces, people, start=later, until=later + 5)
    resumed = back.battle
    assert resumed is not None and resumed.boss_hp < hp
    run = drive(back, faces, people, start=run.t, until=T0 + PLAN.total_s + 1)
    finished = run.finished
    assert len(finished) == 1 and finished[0].finished is not None
    assert {r.user_id for r in finished[0].finished.records} == set(people)
    assert finished[0].finished.outcome in (Outcome.VICTORY, Outcome.DEFEAT)


def test_the_ghost_keeps_its_place_across_a_restore() -> None:
    """A restored ghost continues from what it had delivered: its total stays its recording's."""
    a = alice()
    ghost = record_ghost(focused_s=40.0)
    room = new_room(a, boss="dragon")
    g = room.add_ghost(a.user_id, "ghost-1", ghost, "samuel", T0)
    room.start(a.user_id, T0)
    run = drive(room, {a.user_id: UNSURE}, {a.user_id: a}, start=T0, until=T0 + 20)
    back = Room.restore(room.snapshot(), run.t, lambda _: ghost, new_id=Ids())
    a.seq = 0
    back.join(a.user_id, a.username, run.t)
    run = drive(back, {a.user_id: UNSURE}, {a.user_id: a}, start=run.t, until=T0 + PLAN.total_s + 1)
    assert run.finished
    battle = back.battle
    assert battle is not None
    assert battle.member(g.member_id).damage == pytest.approx(
        ghost.damage_at(ghost.duration_s), abs=1e-6
    )


def test_a_missing_ghost_recording_drops_its_seat_but_not_its_line() -> None:
    """If a ghost's recording is gone, the ghost loses its seat; the battle keeps its damage."""
    room, t, _, _ = _mid_battle()
    back = Room.restore(room.snapshot(), t, _no_ghosts, new_id=Ids())
    assert all(not m.is_ghost for m in back.state_view().members)
    assert back.battle == room.battle


def test_restore_in_the_lobby_and_after_results() -> None:
    """Lobby rooms and rooms showing results come back as they were."""
    a = alice()
    lobby = new_room(a)
    back = Room.restore(lobby.snapshot(), T0 + 5, _no_ghosts, new_id=Ids())
    assert back.phase is Phase.LOBBY and back.battle is None and back.host_id == a.user_id
    room = new_room(a, room_id="ROOM-2")
    room.start(a.user_id, T0)
    run = drive(room, {a.user_id: FOCUSED}, {a.user_id: a}, start=T0, until=T0 + PLAN.total_s + 1)
    assert run.finished
    done = Room.restore(room.snapshot(), run.t + 5, _no_ghosts, new_id=Ids())
    assert done.phase is Phase.RESULTS
    assert done.results_view() == room.results_view()
    assert done.tick(run.t + 6).finished is None  # already reported before the restart


def test_a_restart_after_the_end_time_finishes_the_session() -> None:
    """A room restored after its session should have ended reports the finished session at once."""
    room, _, ghost, people = _mid_battle()
    stored = room.snapshot()
    back = Room.restore(stored, T0 + PLAN.total_s + 30, lambda _: ghost, new_id=Ids())
    out = back.tick(T0 + PLAN.total_s + 30)
    assert out.finished is not None
    assert {r.user_id for r in out.finished.records} == set(people)


def _set(path: tuple[object, ...], value: object) -> Callable[[dict[str, Any]], None]:
    def mutate(snapshot: dict[str, Any]) -> None:
        target: Any = snapshot
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    def mutate(snapshot: dict[str, Any]) -> None:
        del snapshot[key]

    return mutate


CORRUPTIONS: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("wrong version", _set(("version",), 99)),
    ("missing timer", _drop("timer")),
    ("HP as text", _set(("battle", "boss_hp"), "lots")),
    ("HP above max", _set(("battle", "boss_hp"), 1e9)),
    ("NaN end time", _set(("timer", "end_time"), float("nan"))),
    ("unknown phase", _set(("timer", "phase"), "nap")),
    ("unknown boss", _set(("boss_kind",), "hydra")),
    ("battle of another boss", _set(("battle", "boss_kind"), "dragon")),
    ("bool as slot", _set(("members", 0, "slot"), True)),
    ("duplicate slot", _set(("members", 1, "slot"), 0)),
    ("host not seated", _set(("host_id",), "u-nobody")),
    ("room id", _set(("room_id",), "!")),
    (
        "lobby with a battle",
        _set(
            ("timer",),
            {
                "phase": "lobby",
                "round_index": 0,
                "end_time": None,
                "paused_at": None,
                "pause_reasons": [],
                "focus_done_s": 0.0,
                "updated_at": None,
            },
        ),
    ),
    ("running timer without end", _set(("timer", "end_time"), None)),
    ("participant not in battle", _set(("participants", 0, "user_id"), "u-stranger")),
    ("episodes not pairs", _set(("participants", 0, "episodes"), [[1.0]])),
    ("members not a list", _set(("members",), {"a": 1})),
    ("name missing for a battle member", _set(("names",), {})),
    ("negative damage", _set(("battle", "members", 0, "damage"), -1.0)),
]


@pytest.mark.parametrize(("label", "corrupt"), CORRUPTIONS, ids=[c[0] for c in CORRUPTIONS])
def test_corrupt_snapshots_are_refused(
    label: str, corrupt: Callable[[dict[str, Any]], None]
) -> None:
    """Each malformed or self-contradictory snapshot raises CorruptSnapshot, nothing else."""
    room, t, ghost, _ = _mid_battle()
    snapshot = copy.deepcopy(room.snapshot())
    corrupt(snapshot)
    with pytest.raises(CorruptSnapshot):
        Room.restore(snapshot, t, lambda _: ghost, new_id=Ids())


@pytest.mark.parametrize("junk", [None, [], "room", 5])
def test_a_snapshot_must_be_an_object(junk: object) -> None:
    """Anything but a JSON object is a corrupt snapshot."""
    with pytest.raises(CorruptSnapshot):
        Room.restore(junk, T0, _no_ghosts, new_id=Ids())
