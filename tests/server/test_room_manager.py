"""The room manager: one room per person, ids, ticking every room, retiring rooms, dirty snapshots."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.rooms import (
    RESULTS_LINGER_S,
    AlreadyInRoom,
    CorruptSnapshot,
    NotMember,
    Room,
    RoomError,
    RoomManager,
    UnknownRoom,
)
from shared.ghost import GhostRecording
from shared.protocol import ErrorCode
from shared.timer import Phase, TimerPlan
from tests.server.test_room_support import FOCUSED, T0, Ids, Person, alice, bob, carol, drive

SHORT = TimerPlan(focus_s=5, break_s=5, rounds=1)


def _manager() -> RoomManager:
    return RoomManager(new_id=Ids("s"), new_room_id=Ids("ROOM"))


def _no_ghosts(ghost_id: str) -> GhostRecording | None:
    return None


def test_create_seats_the_creator_as_host() -> None:
    """create() opens a lobby with the creator as host in slot 0 and remembers where they are."""
    mgr = _manager()
    a = alice()
    room = mgr.create(a.user_id, a.username, name="Maths", subject="algebra", now=T0)
    assert room.room_id == "ROOM0001"
    assert mgr.get(room.room_id) is room
    assert mgr.room_for(a.user_id) is room
    assert room.member(a.user_id).slot == 0 and room.host_id == a.user_id
    assert mgr.member_count() == 1


def test_unknown_rooms_and_strangers() -> None:
    """An unknown id is unknown_room; someone without a seat is not_member."""
    mgr = _manager()
    with pytest.raises(UnknownRoom) as info:
        mgr.get("NOPE")
    assert info.value.code is ErrorCode.UNKNOWN_ROOM
    with pytest.raises(NotMember):
        mgr.room_for("u-nobody")
    with pytest.raises(NotMember):
        mgr.leave("u-nobody", T0)
    assert mgr.disconnect("u-nobody", T0) is None


def test_a_person_is_in_one_room_at_a_time() -> None:
    """A connected member cannot create or join another room (illegal_state); nothing changes."""
    mgr = _manager()
    a, b = alice(), bob()
    first = mgr.create(a.user_id, a.username, name="One", subject="maths", now=T0)
    second = mgr.create(b.user_id, b.username, name="Two", subject="maths", now=T0)
    with pytest.raises(AlreadyInRoom) as info:
        mgr.join(second.room_id, a.user_id, a.username, T0)
    assert info.value.code is ErrorCode.ILLEGAL_STATE
    with pytest.raises(AlreadyInRoom):
        mgr.create(a.user_id, a.username, name="Three", subject="maths", now=T0)
    assert len(second) == 1 and mgr.room_for(a.user_id) is first
    assert len(mgr.rooms) == 2


def test_a_held_seat_is_given_up_when_joining_elsewhere() -> None:
    """Someone whose old seat is only held (disconnected) may join another room; the old seat goes."""
    mgr = _manager()
    a, b, c = alice(), bob(), carol()
    first = mgr.create(a.user_id, a.username, name="One", subject="maths", now=T0)
    mgr.join(first.room_id, c.user_id, c.username, T0)
    second = mgr.create(b.user_id, b.username, name="Two", subject="maths", now=T0)
    mgr.disconnect(c.user_id, T0 + 1)
    room, member = mgr.join(second.room_id, c.user_id, c.username, T0 + 2)
    assert room is second and member.slot == 1
    assert mgr.room_for(c.user_id) is second
    assert c.user_id not in first.person_ids()


def test_rejoining_the_same_room_takes_the_held_seat() -> None:
    """Joining one's own room again within the window gives the same seat back."""
    mgr = _manager()
    a, b = alice(), bob()
    room = mgr.create(a.user_id, a.username, name="One", subject="maths", now=T0)
    _, first = mgr.join(room.room_id, b.user_id, b.username, T0)
    mgr.disconnect(b.user_id, T0 + 1)
    _, again = mgr.join(room.room_id, b.user_id, b.username, T0 + 30)
    assert again.slot == first.slot and again.connected
    mgr.disconnect(b.user_id, T0 + 31)
    _, back = mgr.reconnect(b.user_id, T0 + 40)
    assert back.connected


def test_expired_seats_and_empty_rooms_leave_the_index() -> None:
    """tick_all frees expired seats, forgets who sat there, and removes rooms that closed."""
    mgr = _manager()
    a, b = alice(), bob()
    room = mgr.create(a.user_id, a.username, name="One", subject="maths", now=T0)
    mgr.join(room.room_id, b.user_id, b.username, T0)
    mgr.disconnect(b.user_id, T0)
    outputs = mgr.tick_all(T0 + 61)
    assert outputs[room.room_id].freed == (b.user_id,)
    assert mgr.room_of(b.user_id) is None
    mgr.leave(a.user_id, T0 + 62)
    assert mgr.room_of(a.user_id) is None
    with pytest.raises(UnknownRoom):
        mgr.get(room.room_id)
    last = mgr.tick_all(T0 + 63)
    assert last[room.room_id].closed
    assert room.room_id not in mgr.rooms
    assert mgr.tick_all(T0 + 64) == {}


def test_finished_rooms_linger_for_their_results_then_go() -> None:
    """A finished room stays for RESULTS_LINGER_S so members see results, then closes."""
    mgr = _manager()
    a = alice()
    room = mgr.create(a.user_id, a.username, name="One", subject="maths", now=T0, plan=SHORT)
    room.start(a.user_id, T0)
    t = T0
    while room.concluded_at is None:
        t += 0.25
        a.send(room, FOCUSED, t)
        mgr.tick_all(t)
    done = room.concluded_at
    mgr.tick_all(done + RESULTS_LINGER_S - 1)
    assert room.room_id in mgr.rooms and room.phase is Phase.RESULTS
    mgr.tick_all(done + RESULTS_LINGER_S)
    assert room.closed and mgr.room_of(a.user_id) is None
    assert mgr.tick_all(done + RESULTS_LINGER_S + 0.1)[room.room_id].closed
    assert room.room_id not in mgr.rooms


def test_snapshot_dirty_reports_changed_and_removed_rooms() -> None:
    """Only rooms changed since the last call are snapshotted; a removed room is reported as None."""
    mgr = _manager()
    a, b = alice(), bob()
    one = mgr.create(a.user_id, a.username, name="One", subject="maths", now=T0)
    two = mgr.create(b.user_id, b.username, name="Two", subject="maths", now=T0)
    first = mgr.snapshot_dirty()
    assert set(first) == {one.room_id, two.room_id}
    assert mgr.snapshot_dirty() == {}
    mgr.tick_all(T0 + 1)
    assert mgr.snapshot_dirty() == {}  # a tick in the lobby changes nothing worth storing
    one.start(a.user_id, T0 + 2)
    changed = mgr.snapshot_dirty()
    assert list(changed) == [one.room_id]
    snap = changed[one.room_id]
    assert snap is not None and snap["timer"]["phase"] == "focus"
    mgr.leave(b.user_id, T0 + 3)
    assert mgr.snapshot_dirty() == {two.room_id: None}
    mgr.tick_all(T0 + 4)
    assert two.room_id not in mgr.snapshot_dirty()


def test_restore_rebuilds_rooms_and_the_index() -> None:
    """Rooms restored from storage are live again and know who sits in them; clashes are refused."""
    mgr = _manager()
    a, b = alice(), bob()
    room = mgr.create(a.user_id, a.username, name="One", subject="maths", now=T0)
    mgr.join(room.room_id, b.user_id, b.username, T0)
    room.start(a.user_id, T0 + 1)
    stored = json.loads(json.dumps(mgr.snapshot_dirty()[room.room_id]))

    fresh = _manager()
    back = fresh.restore(stored, T0 + 10, _no_ghosts)
    assert fresh.get(room.room_id) is back
    assert fresh.room_for(b.user_id) is back
    assert not back.member(b.user_id).connected
    with pytest.raises(CorruptSnapshot):
        fresh.restore(stored, T0 + 10, _no_ghosts)
    _, member = fresh.join(room.room_id, b.user_id, b.username, T0 + 11)
    assert member.connected and member.slot == 1
    assert fresh.snapshot_dirty()[room.room_id] is not None


def test_frame_counters_add_up_across_rooms() -> None:
    """stats() sums the rooms' frame counters."""
    mgr = _manager()
    a, b = alice(), bob()
    one = mgr.create(a.user_id, a.username, name="One", subject="maths", now=T0)
    two = mgr.create(b.user_id, b.username, name="Two", subject="maths", now=T0)
    drive(one, {a.user_id: FOCUSED}, {a.user_id: a}, start=T0, until=T0 + 1)
    drive(two, {b.user_id: FOCUSED}, {b.user_id: b}, start=T0, until=T0 + 0.5)
    stats = mgr.stats()
    assert (stats.accepted, stats.relayed) == (6, 6)


REFUSALS = {
    ErrorCode.NOT_MEMBER,
    ErrorCode.ILLEGAL_STATE,
    ErrorCode.UNKNOWN_ROOM,
    ErrorCode.ROOM_FULL,
    ErrorCode.FORBIDDEN,
}
"""The refusals a random sequence of membership calls may meet."""

OPS = st.lists(
    st.tuples(
        st.sampled_from(["join", "leave", "disconnect", "start", "tick", "frame"]),
        st.integers(min_value=0, max_value=5),
        st.floats(min_value=0.0, max_value=40.0),
    ),
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(ops=OPS)
def test_membership_invariants_hold_under_any_sequence(ops: list[tuple[str, int, float]]) -> None:
    """Whatever people do, each sits in at most one room, slots are unique, the host is seated,
    and every live room survives a snapshot round trip."""
    mgr = RoomManager(new_id=Ids("s"), new_room_id=Ids("ROOM"))
    people = [alice(), bob(), carol()] + [Person(f"u-p{i}", f"person{i}") for i in range(3)]
    rooms = [
        mgr.create(p.user_id, p.username, name="R", subject="s", now=T0, max_members=3)
        for p in people[:2]
    ]
    t = T0
    for op, who, dt in ops:
        t += dt
        person = people[who]
        target = rooms[who % 2]
        try:
            if op == "join" and not target.closed:
                mgr.join(target.room_id, person.user_id, person.username, t)
            elif op == "leave":
                mgr.leave(person.user_id, t)
            elif op == "disconnect":
                mgr.disconnect(person.user_id, t)
            elif op == "start":
                mgr.room_for(person.user_id).start(person.user_id, t)
            elif op == "frame":
                person.send(mgr.room_for(person.user_id), FOCUSED, t)
            else:
                mgr.tick_all(t)
        except RoomError as exc:  # anything else fails the test
            assert exc.code in REFUSALS, exc
        seen: dict[str, str] = {}
        for room in mgr.rooms.values():
            if room.closed:
                continue
            state = room.state_view()
            slots = [m.slot for m in state.members]
            assert len(set(slots)) == len(slots) <= room.max_members
            assert any(m.member_id == room.host_id and not m.is_ghost for m in state.members)
            for user_id in room.person_ids():
                assert user_id not in seen
                seen[user_id] = room.room_id
                assert mgr.room_of(user_id) is room
            back = Room.restore(room.snapshot(), t, _no_ghosts, new_id=Ids("z"))
            assert back.timer == room.timer and back.battle == room.battle
