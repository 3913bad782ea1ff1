"""One room: seats, host controls, frames and the relay batch, the pause policy, views and errors."""

from __future__ import annotations

import itertools

import pytest

from server.rooms import (
    ASLEEP_REASON,
    FRAME_STALE_S,
    HOST_REASON,
    AlreadyInRoom,
    CorruptSnapshot,
    GhostAlreadySeated,
    IllegalState,
    InvalidArgument,
    InvalidFrame,
    NotHost,
    NotMember,
    OutOfOrder,
    Room,
    RoomError,
    RoomFull,
    UnknownGhost,
    UnknownRoom,
)
from shared.battle import BASE_DPS, Stage, boss_hp_for
from shared.codec import Frame, decode_batch, encode_frame
from shared.face import Attention
from shared.protocol import ErrorCode, ProtocolError, error_payload
from shared.timer import Phase, TimerPlan
from tests.server.test_room_support import (
    ABSENT,
    AWAY,
    FOCUSED,
    PLAN,
    T0,
    Ids,
    Person,
    alice,
    bob,
    carol,
    dave,
    drive,
    new_room,
    record_ghost,
)

# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (InvalidArgument, ErrorCode.BAD_REQUEST),
        (NotHost, ErrorCode.FORBIDDEN),
        (NotMember, ErrorCode.NOT_MEMBER),
        (RoomFull, ErrorCode.ROOM_FULL),
        (IllegalState, ErrorCode.ILLEGAL_STATE),
        (AlreadyInRoom, ErrorCode.ILLEGAL_STATE),
        (InvalidFrame, ErrorCode.INVALID_FRAME),
        (OutOfOrder, ErrorCode.OUT_OF_ORDER),
        (UnknownGhost, ErrorCode.UNKNOWN_GHOST),
        (GhostAlreadySeated, ErrorCode.CONFLICT),
        (UnknownRoom, ErrorCode.UNKNOWN_ROOM),
        (CorruptSnapshot, ErrorCode.INTERNAL),
    ],
)
def test_each_error_carries_its_wire_code(error: type[RoomError], code: ErrorCode) -> None:
    """Every room error has the stable code protocol.md gives it, and a handler can send it as is."""
    exc = error("plain words")
    assert exc.code is code
    assert isinstance(exc, ProtocolError)
    assert error_payload(exc) == {"error": {"code": code.value, "message": "plain words"}}


# --------------------------------------------------------------------------- creation


def test_creator_is_host_in_slot_zero() -> None:
    """A new room is in the lobby with its creator seated as host in slot 0."""
    a = alice()
    room = new_room(a)
    state = room.state_view()
    assert state.host_id == a.user_id
    assert state.phase is Phase.LOBBY
    assert [(m.member_id, m.slot, m.connected, m.is_ghost) for m in state.members] == [
        (a.user_id, 0, True, False)
    ]
    assert state.plan.focus_s == 60 and state.boss_kind == "golem"


@pytest.mark.parametrize(
    "override",
    [
        {"room_id": "x"},
        {"name": "   "},
        {"name": "a" * 41},
        {"subject": "bad\x07subject"},
        {"host_id": "has space"},
        {"host_name": "x"},
        {"boss_kind": "hydra"},
        {"max_members": 0},
        {"max_members": 17},
        {"plan": TimerPlan(focus_s=60.5, break_s=10, rounds=1)},
        {"now": float("nan")},
        {"reconnect_grace_s": -1.0},
        {"tick_hz": 0.0},
    ],
)
def test_invalid_settings_are_refused(override: dict[str, object]) -> None:
    """Names, ids, boss, size, plan (whole seconds), time and rates are checked on creation."""
    settings: dict[str, object] = {
        "room_id": "ROOM-1",
        "name": "Study",
        "subject": "algebra",
        "host_id": "u-alice",
        "host_name": "alice",
        "now": T0,
        "new_id": Ids(),
        "plan": PLAN,
        "boss_kind": "golem",
        "max_members": 8,
        "reconnect_grace_s": 60.0,
        "tick_hz": 15.0,
    }
    settings.update(override)
    with pytest.raises(InvalidArgument):
        Room(**settings)  # type: ignore[arg-type]


def test_names_are_trimmed() -> None:
    """Surrounding whitespace is not part of a room's name or subject."""
    room = Room(
        room_id="ROOM-1",
        name="  Study  ",
        subject=" algebra ",
        host_id="u-a",
        host_name="alice",
        now=T0,
        new_id=Ids(),
    )
    assert (room.name, room.subject) == ("Study", "algebra")


# --------------------------------------------------------------------------- seats


def test_joiners_take_the_lowest_free_slot() -> None:
    """Slots are handed out lowest-first and a freed slot is reused."""
    a, b, c, d = alice(), bob(), carol(), dave()
    room = new_room(a)
    assert room.join(b.user_id, b.username, T0).slot == 1
    assert room.join(c.user_id, c.username, T0).slot == 2
    room.leave(b.user_id, T0 + 1)
    assert room.join(d.user_id, d.username, T0 + 2).slot == 1


def test_a_full_room_refuses_a_joiner_and_changes_nothing() -> None:
    """With every seat taken, room_full, and the room is as before."""
    a, b, c = alice(), bob(), carol()
    room = new_room(a, max_members=2)
    room.join(b.user_id, b.username, T0)
    before = room.snapshot()
    with pytest.raises(RoomFull) as info:
        room.join(c.user_id, c.username, T0 + 1)
    assert info.value.code is ErrorCode.ROOM_FULL
    assert room.snapshot() == before


def test_ghosts_take_seats_too() -> None:
    """People and ghosts share the seats."""
    a, b = alice(), bob()
    room = new_room(a, max_members=2)
    room.add_ghost(a.user_id, "g1", record_ghost(focused_s=10), "samuel", T0)
    with pytest.raises(RoomFull):
        room.join(b.user_id, b.username, T0)


def test_joining_twice_keeps_the_same_seat() -> None:
    """A second join by a seated person (a new connection) returns the same seat."""
    a, b = alice(), bob()
    room = new_room(a)
    first = room.join(b.user_id, b.username, T0)
    again = room.join(b.user_id, b.username, T0 + 1)
    assert again == first
    assert len(room) == 2


def test_host_leaving_hands_over_to_the_earliest_connected_person() -> None:
    """The host role goes to the earliest-joined connected person; a dropped one is skipped."""
    a, b, c = alice(), bob(), carol()
    room = new_room(a)
    room.join(b.user_id, b.username, T0)
    room.join(c.user_id, c.username, T0)
    room.disconnect(b.user_id, T0 + 1)
    room.leave(a.user_id, T0 + 2)
    assert room.host_id == c.user_id
    assert room.state_view().host_id == c.user_id


def test_host_role_falls_back_to_a_held_seat() -> None:
    """With nobody else connected, the earliest person holding a seat becomes host."""
    a, b = alice(), bob()
    room = new_room(a)
    room.join(b.user_id, b.username, T0)
    room.disconnect(b.user_id, T0 + 1)
    room.leave(a.user_id, T0 + 2)
    assert room.host_id == b.user_id


def test_the_last_person_leaving_closes_the_room() -> None:
    """No person left: the room closes, says so once more, and takes no joins."""
    a, b = alice(), bob()
    room = new_room(a)
    room.add_ghost(a.user_id, "g1", record_ghost(focused_s=10), "samuel", T0)
    room.leave(a.user_id, T0 + 1)
    assert room.closed
    assert room.tick(T0 + 2).closed
    with pytest.raises(IllegalState):
        room.join(b.user_id, b.username, T0 + 3)


def test_leaving_without_a_seat_is_not_member() -> None:
    """Someone without a seat cannot leave."""
    room = new_room(alice())
    with pytest.raises(NotMember):
        room.leave("u-nobody", T0)


def test_reconnect_within_grace_keeps_seat_and_slot() -> None:
    """A dropped person keeps seat and slot for the grace window and takes them back."""
    a, b, c = alice(), bob(), carol()
    room = new_room(a)
    room.join(b.user_id, b.username, T0)
    room.join(c.user_id, c.username, T0)
    room.disconnect(b.user_id, T0 + 1)
    out = room.tick(T0 + 1 + 59.0)
    assert out.freed == () and out.state_changed
    held = room.member(b.user_id)
    assert (held.slot, held.connected) == (1, False)
    back = room.join(b.user_id, b.username, T0 + 60.5)
    assert (back.slot, back.connected) == (1, True)
    assert room.tick(T0 + 200).freed == ()


def test_reconnect_call_takes_the_held_seat_back() -> None:
    """reconnect() within the window restores the connection; after it, not_member."""
    a, b = alice(), bob()
    room = new_room(a)
    room.join(b.user_id, b.username, T0)
    room.disconnect(b.user_id, T0)
    assert room.reconnect(b.user_id, T0 + 10).connected
    room.disconnect(b.user_id, T0 + 20)
    with pytest.raises(NotMember):
        room.reconnect(b.user_id, T0 + 81)


def test_after_grace_the_seat_is_freed() -> None:
    """After the grace window the tick frees the seat; rejoining is a new seat."""
    a, b, c = alice(), bob(), carol()
    room = new_room(a)
    room.join(b.user_id, b.username, T0)
    room.disconnect(b.user_id, T0 + 1)
    out = room.tick(T0 + 61.0)
    assert out.freed == (b.user_id,) and out.state_changed
    with pytest.raises(NotMember):
        room.member(b.user_id)
    room.join(c.user_id, c.username, T0 + 62)  # takes slot 1
    assert room.join(b.user_id, b.username, T0 + 63).slot == 2


def test_a_dropped_host_keeps_the_role_until_the_seat_frees() -> None:
    """The host keeps hosting through the grace window; when the seat frees, the role passes."""
    a, b = alice(), bob()
    room = new_room(a)
    room.join(b.user_id, b.username, T0)
    room.disconnect(a.user_id, T0)
    room.tick(T0 + 30)
    assert room.host_id == a.user_id
    room.tick(T0 + 61)
    assert room.host_id == b.user_id


def test_everyone_gone_after_grace_closes_the_room() -> None:
    """When the last held seat frees, the room closes."""
    a = alice()
    room = new_room(a)
    room.disconnect(a.user_id, T0)
    out = room.tick(T0 + 60.0)
    assert out.freed == (a.user_id,) and out.closed


# --------------------------------------------------------------------------- host controls


def test_only_the_host_controls_the_room() -> None:
    """start, pause, resume, finish and ghost:add from a non-host are forbidden; from a
    stranger not_member; nothing changes."""
    a, b = alice(), bob()
    room = new_room(a)
    room.join(b.user_id, b.username, T0)
    before = room.snapshot()
    ghost = record_ghost(focused_s=5)
    for call in (
        lambda u: room.start(u, T0 + 1),
        lambda u: room.pause(u, T0 + 1),
        lambda u: room.resume(u, T0 + 1),
        lambda u: room.finish(u, T0 + 1),
        lambda u: room.add_ghost(u, "g1", ghost, "samuel", T0 + 1),
    ):
        with pytest.raises(NotHost) as info:
            call(b.user_id)
        assert info.value.code is ErrorCode.FORBIDDEN
        with pytest.raises(NotMember):
            call("u-stranger")
    assert room.snapshot() == before


def test_host_controls_follow_the_timer_rules() -> None:
    """Pause and resume need a running, (un)paused timer; start needs the lobby."""
    a = alice()
    room = new_room(a)
    with pytest.raises(IllegalState):
        room.pause(a.user_id, T0)
    with pytest.raises(IllegalState):
        room.finish(a.user_id, T0)
    room.start(a.user_id, T0 + 1)
    with pytest.raises(IllegalState):
        room.start(a.user_id, T0 + 2)
    with pytest.raises(IllegalState):
        room.resume(a.user_id, T0 + 2)
    room.pause(a.user_id, T0 + 2)
    before = room.snapshot()
    with pytest.raises(IllegalState):
        room.pause(a.user_id, T0 + 3)
    assert room.snapshot() == before


def test_host_pause_stops_the_clock_and_resume_moves_the_end() -> None:
    """While paused the remaining time stands still; on resume end_time moves by the pause."""
    a = alice()
    room = new_room(a)
    room.start(a.user_id, T0)
    end = room.timer_view(T0).end_time
    assert end == round((T0 + 60) * 1000)
    room.pause(a.user_id, T0 + 10)
    view = room.timer_view(T0 + 25)
    assert view.paused and view.pause_reasons == (HOST_REASON,)
    assert view.remaining_ms == 50_000
    room.resume(a.user_id, T0 + 30)
    assert room.timer_view(T0 + 30).end_time == round((T0 + 80) * 1000)
    out = room.tick(T0 + 30.1)
    assert out.timer_changed


def test_host_can_end_the_session_early() -> None:
    """finish() goes to results at once; the next tick reports the finished session."""
    a = alice()
    room = new_room(a)
    room.start(a.user_id, T0)
    run = drive(room, {a.user_id: FOCUSED}, {a.user_id: a}, start=T0, until=T0 + 20)
    room.finish(a.user_id, run.t)
    assert room.phase is Phase.RESULTS
    out = room.tick(run.t + 0.1)
    assert out.finished is not None and out.results is not None
    assert out.finished.records[0].focused_seconds == pytest.approx(20.0, abs=0.3)
    assert room.tick(run.t + 0.2).finished is None


def test_ghosts_are_added_by_the_host_in_the_lobby_only() -> None:
    """A ghost takes a seat in the lobby; unknown, repeated or late ghosts are refused."""
    a = alice()
    ids = Ids("gm")
    room = new_room(a, ids=ids)
    ghost = record_ghost(focused_s=5)
    with pytest.raises(UnknownGhost):
        room.add_ghost(a.user_id, "g0", None, "samuel", T0)
    member = room.add_ghost(a.user_id, "g1", ghost, "samuel", T0)
    assert member.is_ghost and member.connected and member.slot == 1
    assert member.member_id == "gm0001" and member.username == "samuel"
    before = room.snapshot()
    with pytest.raises(GhostAlreadySeated) as info:
        room.add_ghost(a.user_id, "g1", ghost, "samuel", T0)
    assert info.value.code is ErrorCode.CONFLICT
    with pytest.raises(InvalidArgument):
        room.add_ghost(a.user_id, "g2", ghost, "no spaces", T0)
    assert room.snapshot() == before
    room.start(a.user_id, T0 + 1)
    with pytest.raises(IllegalState):
        room.add_ghost(a.user_id, "g2", ghost, "samuel", T0 + 2)


# --------------------------------------------------------------------------- frames


def test_garbage_frames_are_invalid_and_change_nothing() -> None:
    """Wrong length, bad version or reserved bits: invalid_frame; state and relay unchanged."""
    a = alice()
    room = new_room(a)
    room.start(a.user_id, T0)
    a.send(room, FOCUSED, T0 + 0.1)
    before = room.snapshot()
    good = a.frame(FOCUSED, T0 + 0.2)
    for bad in (b"", b"\x10" * 63, good + b"\x00", b"\x20" + good[1:], b"\x13" + good[1:]):
        with pytest.raises(InvalidFrame) as info:
            room.accept_frame(a.user_id, bad, T0 + 0.2)
        assert info.value.code is ErrorCode.INVALID_FRAME
    assert room.snapshot() == before
    assert room.stats.dropped == 5 and room.stats.accepted == 1
    batch = decode_batch(room.tick(T0 + 0.3).frames or b"")
    assert [(slot, f.seq) for slot, f in batch.entries] == [(0, 1)]


def test_out_of_order_frames_are_refused_and_change_nothing() -> None:
    """A seq that is not newer than the last accepted one: out_of_order; the latest stands."""
    a = alice()
    room = new_room(a)
    first = a.frame(FOCUSED, T0)
    second = a.frame(AWAY, T0)
    room.accept_frame(a.user_id, second, T0 + 0.1)
    before = room.snapshot()
    for stale in (first, second):
        with pytest.raises(OutOfOrder) as info:
            room.accept_frame(a.user_id, stale, T0 + 0.2)
        assert info.value.code is ErrorCode.OUT_OF_ORDER
    assert room.snapshot() == before
    assert room.member(a.user_id).attention is Attention.LOOKING_LEFT
    batch = decode_batch(room.tick(T0 + 0.3).frames or b"")
    assert [f.seq for _, f in batch.entries] == [2]
    a.send(room, FOCUSED, T0 + 0.4)  # seq 3 is newer again


def test_frames_need_a_connected_seat() -> None:
    """A stranger's or a dropped person's frame is not_member."""
    a, b = alice(), bob()
    room = new_room(a)
    room.join(b.user_id, b.username, T0)
    with pytest.raises(NotMember):
        room.accept_frame("u-stranger", a.frame(FOCUSED, T0), T0)
    room.disconnect(b.user_id, T0)
    with pytest.raises(NotMember):
        b.send(room, FOCUSED, T0 + 1)


def test_a_reconnected_client_may_restart_its_sequence() -> None:
    """A new connection starts a new frame stream: seq 1 is accepted again."""
    a, b = alice(), bob()
    room = new_room(a)
    room.join(b.user_id, b.username, T0)
    b.send(room, FOCUSED, T0)
    b.send(room, FOCUSED, T0 + 0.1)
    room.disconnect(b.user_id, T0 + 1)
    room.join(b.user_id, b.username, T0 + 2)
    b.seq = 0
    b.send(room, FOCUSED, T0 + 2.1)


def test_one_batch_per_tick_with_each_senders_latest_frame() -> None:
    """The batch holds one entry per member that sent since the last tick: the latest frame;
    overwritten frames are counted as superseded."""
    a, b, c = alice(), bob(), carol()
    room = new_room(a)
    room.join(b.user_id, b.username, T0)
    room.join(c.user_id, c.username, T0)
    a.send(room, FOCUSED, T0 + 0.01)
    c.send(room, AWAY, T0 + 0.02)
    c.send(room, FOCUSED, T0 + 0.03)
    out = room.tick(T0 + 0.05)
    assert out.frames is not None
    batch = decode_batch(out.frames)
    assert batch.tick == 0 and batch.server_time_ms == round((T0 + 0.05) * 1000)
    entries = dict(batch.entries)
    assert sorted(entries) == [0, 2]
    assert entries[2].seq == 2 and entries[2].yaw == 0.0
    assert room.stats.superseded == 1 and room.stats.relayed == 2
    empty = room.tick(T0 + 0.1)
    assert empty.frames is None
    b.send(room, FOCUSED, T0 + 0.12)
    third = decode_batch(room.tick(T0 + 0.15).frames or b"")
    assert (third.tick, [s for s, _ in third.entries]) == (2, [1])


def test_ghost_frames_are_relayed_in_the_batch() -> None:
    """During the session a ghost's recorded frames appear under its slot, each once."""
    a = alice()
    ghost = record_ghost(focused_s=5)
    room = new_room(a)
    member = room.add_ghost(a.user_id, "g1", ghost, "samuel", T0)
    room.start(a.user_id, T0)
    seen: list[int] = []
    run = drive(room, {}, {}, start=T0, until=T0 + 3)
    for out in run.outputs:
        if out.frames is not None:
            for slot, frame in decode_batch(out.frames).entries:
                assert slot == member.slot
                seen.append(frame.t_ms)
    expected = [f.t_ms for f in ghost.frames if f.t_ms <= 3000]
    assert seen == expected
    first = ghost.frames[0]
    relayed = decode_batch(run.outputs[0].frames or b"").entries[0][1]
    assert relayed.blendshapes == tuple(first.blendshapes)
    assert (relayed.yaw, relayed.present) == (first.yaw, first.present)


# --------------------------------------------------------------------------- focus and pauses


def test_attention_and_sleep_show_in_room_state() -> None:
    """The server's own focus analysis drives each member's attention and asleep flag."""
    a, b = alice(), bob()
    room = new_room(a)
    room.join(b.user_id, b.username, T0)
    people = {a.user_id: a, b.user_id: b}
    run = drive(room, {a.user_id: FOCUSED, b.user_id: AWAY}, people, start=T0, until=T0 + 10)
    members = {m.member_id: m for m in room.state_view().members}
    assert members[a.user_id].attention is Attention.FOCUSED
    assert members[b.user_id].attention is Attention.LOOKING_LEFT
    assert not members[b.user_id].asleep
    run = drive(room, {a.user_id: FOCUSED, b.user_id: AWAY}, people, start=run.t, until=T0 + 16)
    assert room.member(b.user_id).asleep
    assert any(o.state_changed for o in run.outputs)


def test_server_clock_judges_focus_not_the_client_clock() -> None:
    """A client stamping its frames far in the future does not fall asleep any sooner."""
    a, b = alice(), bob()
    room = new_room(a)
    room.join(b.user_id, b.username, T0)
    for i in range(1, 20):
        b.seq += 1
        fake = encode_frame(Frame.from_sample(AWAY, b.seq, i * 60_000))  # a minute per frame
        room.accept_frame(b.user_id, fake, T0 + i * 0.25)
    assert not room.member(b.user_id).asleep  # under 5 s of server time away


def test_everyone_asleep_pauses_the_timer_and_waking_resumes_it() -> None:
    """Only when every connected person is asleep does the room pause ('asleep'); one waking
    resumes it, and end_time moves on by the paused time."""
    a, b = alice(), bob()
    room = new_room(a)
    room.join(b.user_id, b.username, T0)
    people = {a.user_id: a, b.user_id: b}
    room.start(a.user_id, T0)
    run = drive(room, {a.user_id: FOCUSED, b.user_id: AWAY}, people, start=T0, until=T0 + 20)
    assert room.member(b.user_id).asleep
    assert not room.timer.paused  # one sleeper never holds up the group
    run = drive(room, {a.user_id: AWAY, b.user_id: AWAY}, people, start=run.t, until=T0 + 40)
    assert room.member(a.user_id).asleep
    timer = room.timer_view(run.t)
    assert timer.paused and timer.pause_reasons == (ASLEEP_REASON,)
    paused_at = room.timer.paused_at
    assert paused_at is not None and paused_at == pytest.approx(T0 + 35.25, abs=0.3)
    left = room.timer.remaining(run.t)
    assert any(o.timer_changed for o in run.outputs)
    hp = room.battle.boss_hp if room.battle else 0.0
    run = drive(room, {a.user_id: AWAY, b.user_id: AWAY}, people, start=run.t, until=T0 + 50)
    assert room.battle is not None and room.battle.boss_hp == hp  # no damage while paused
    run = drive(room, {a.user_id: FOCUSED, b.user_id: AWAY}, people, start=run.t, until=T0 + 51)
    assert not room.member(a.user_id).asleep
    assert not room.timer.paused
    resumed_at = room.timer.updated_at
    assert resumed_at is not None and resumed_at > paused_at + 10
    assert room.timer.end_time == pytest.approx(resumed_at + left)  # the pause cost no time


def test_asleep_does_not_pause_a_break() -> None:
    """Looking away in a break is what breaks are for: the break runs out on time; a sleeper
    still asleep when focus resumes pauses the (solo) room again."""
    a = alice()
    room = new_room(a, plan=TimerPlan(focus_s=10, break_s=30, rounds=2))
    room.start(a.user_id, T0)
    people = {a.user_id: a}
    run = drive(room, {a.user_id: FOCUSED}, people, start=T0, until=T0 + 10.5)
    assert room.phase is Phase.BREAK
    run = drive(room, {a.user_id: AWAY}, people, start=run.t, until=T0 + 39.5)
    assert room.member(a.user_id).asleep
    assert not room.timer.paused and room.timer.end_time == T0 + 40
    run = drive(room, {a.user_id: AWAY}, people, start=run.t, until=T0 + 41)
    assert room.timer_view(run.t).phase is Phase.FOCUS
    assert room.timer.pause_reasons == frozenset({ASLEEP_REASON})


def test_a_silent_client_counts_as_uncertain() -> None:
    """A person who sends one focused frame and then nothing deals damage for about a second only."""
    a = alice()
    room = new_room(a)
    room.start(a.user_id, T0)
    a.send(room, FOCUSED, T0 + 0.1)
    drive(room, {}, {}, start=T0 + 0.1, until=T0 + 10)
    assert room.member(a.user_id).attention is Attention.UNCERTAIN
    battle = room.battle
    assert battle is not None
    assert battle.members[0].damage <= BASE_DPS * (FRAME_STALE_S + 0.5)


def test_no_face_is_away_and_puts_one_to_sleep() -> None:
    """Leaving the camera is looking away: after 15 s the avatar sleeps."""
    a = alice()
    room = new_room(a)
    drive(room, {a.user_id: ABSENT}, {a.user_id: a}, start=T0, until=T0 + 16)
    assert room.member(a.user_id).attention is Attention.NO_FACE
    assert room.member(a.user_id).asleep


# --------------------------------------------------------------------------- battle membership


def test_a_late_joiner_adds_boss_hp_for_the_focus_left() -> None:
    """Joining mid-session puts the person in the battle and the boss gains their share."""
    a, b = alice(), bob()
    room = new_room(a)
    room.start(a.user_id, T0)
    run = drive(room, {a.user_id: FOCUSED}, {a.user_id: a}, start=T0, until=T0 + 30)
    battle = room.battle
    assert battle is not None
    hp_before, max_before = battle.boss_hp, battle.boss_max_hp
    room.join(b.user_id, b.username, run.t)
    battle = room.battle
    assert battle is not None
    gained = boss_hp_for(1, PLAN.planned_focus_s - 30.0)  # 630 HP: above the 100 HP floor
    assert battle.boss_max_hp - max_before == pytest.approx(gained, rel=1e-3)
    assert battle.boss_hp == pytest.approx(hp_before + gained, abs=1e-6)
    assert [m.member_id for m in battle.members] == [a.user_id, b.user_id]


def test_someone_who_leaves_stays_on_the_scoreboard_and_can_come_back() -> None:
    """A person who leaves mid-session keeps their damage; coming back resumes the same line."""
    a, b = alice(), bob()
    room = new_room(a)
    room.join(b.user_id, b.username, T0)
    people = {a.user_id: a, b.user_id: b}
    room.start(a.user_id, T0)
    run = drive(room, {a.user_id: FOCUSED, b.user_id: FOCUSED}, people, start=T0, until=T0 + 10)
    room.leave(b.user_id, run.t)
    battle = room.battle
    assert battle is not None
    dealt = battle.member(b.user_id).damage
    assert dealt == pytest.approx(100.0, abs=3.0)
    run = drive(room, {a.user_id: FOCUSED}, people, start=run.t, until=T0 + 20)
    assert room.battle is not None and room.battle.member(b.user_id).damage == dealt
    room.join(b.user_id, b.username, run.t)
    assert len(room.battle.members) == 2
    b.seq = 0
    drive(room, {a.user_id: FOCUSED, b.user_id: FOCUSED}, people, start=run.t, until=T0 + 30)
    assert room.battle.member(b.user_id).damage == pytest.approx(dealt + 100.0, abs=5.0)


def test_disconnected_members_deal_nothing_and_cause_no_penalty() -> None:
    """A dropped link is not the student's fault: no damage, no penalty."""
    a, b = alice(), bob()
    room = new_room(a)
    room.join(b.user_id, b.username, T0)
    people = {a.user_id: a, b.user_id: b}
    room.start(a.user_id, T0)
    room.disconnect(b.user_id, T0)
    drive(room, {a.user_id: FOCUSED}, people, start=T0, until=T0 + 20)
    battle = room.battle
    assert battle is not None
    assert battle.member(b.user_id).damage == 0.0
    assert battle.penalty == 0.0
    assert battle.member(a.user_id).damage == pytest.approx(200.0, abs=3.0)


# --------------------------------------------------------------------------- views


def test_timer_view_uses_epoch_ms_and_one_based_rounds() -> None:
    """Lobby: round 0, no end; focus: round 1 with an absolute end; break keeps the round."""
    a = alice()
    room = new_room(a)
    lobby = room.timer_view(T0)
    assert (lobby.phase, lobby.round, lobby.end_time, lobby.remaining_ms) == (
        Phase.LOBBY,
        0,
        None,
        0,
    )
    room.start(a.user_id, T0 + 1)
    focus = room.timer_view(T0 + 11)
    assert (focus.round, focus.rounds) == (1, 2)
    assert focus.end_time == round((T0 + 61) * 1000)
    assert focus.server_time == round((T0 + 11) * 1000)
    assert focus.remaining_ms == 50_000
    pause_break = room.timer_view(T0 + 65)
    assert (pause_break.phase, pause_break.round) == (Phase.BREAK, 1)


def test_battle_view_reports_every_member() -> None:
    """The battle view lists people and ghosts with their damage, and the ongoing outcome."""
    a = alice()
    room = new_room(a)
    assert room.battle_view(T0) is None and room.results_view() is None
    room.add_ghost(a.user_id, "g1", record_ghost(focused_s=10), "samuel", T0)
    room.start(a.user_id, T0)
    view = room.battle_view(T0 + 1)
    assert view is not None
    assert [m.is_ghost for m in view.members] == [False, True]
    assert view.outcome.value == "ongoing"
    assert view.boss_hp == view.boss_max_hp


def test_the_battle_event_is_paced() -> None:
    """HP-only changes are sent at most every 0.5 s; a change in who deals what at once."""
    a, b = alice(), bob()
    room = new_room(a)
    room.join(b.user_id, b.username, T0)
    people = {a.user_id: a, b.user_id: b}
    room.start(a.user_id, T0)
    run = drive(
        room, {a.user_id: FOCUSED, b.user_id: FOCUSED}, people, start=T0, until=T0 + 5, step=1 / 15
    )
    sent = [o.battle.server_time for o in run.outputs if o.battle is not None]
    # The first two are urgent: the battle starting, then its first damage (dps 0 -> 10).
    gaps = [b2 - b1 for b1, b2 in itertools.pairwise(sent[1:])]
    assert len(sent) >= 8 and min(gaps) >= 500 - 1
    assert len(sent) <= 5 / 0.5 + 2
    run = drive(
        room,
        {a.user_id: FOCUSED, b.user_id: AWAY},
        people,
        start=run.t,
        until=run.t + 0.5,
        step=1 / 15,
    )
    first = next(i for i, o in enumerate(run.outputs) if o.battle is not None)
    assert first <= 4  # bob's dps dropped to 0: reported within a battle step or two


def test_state_stays_at_stage_over_after_results() -> None:
    """After the session, the battle is over and results are available to late viewers."""
    a = alice()
    room = new_room(a, plan=TimerPlan(focus_s=5, break_s=5, rounds=1))
    room.start(a.user_id, T0)
    run = drive(room, {a.user_id: FOCUSED}, {a.user_id: a}, start=T0, until=T0 + 6)
    assert run.finished
    assert room.battle is not None and room.battle.stage is Stage.OVER
    results = room.results_view()
    assert results is not None and results.members[0].username == "alice"
    viewer = Person("u-late", "latecomer")
    member = room.join(viewer.user_id, viewer.username, run.t + 1)
    assert member.slot == 1
    assert room.battle is not None and len(room.battle.members) == 1


def test_every_refused_call_leaves_the_room_as_it_was() -> None:
    """Mid-session, each refused call raises a named room error and the snapshot is unchanged."""
    a, b = alice(), bob()
    room = new_room(a, max_members=2)
    room.join(b.user_id, b.username, T0)
    room.start(a.user_id, T0)
    people = {a.user_id: a, b.user_id: b}
    run = drive(room, {a.user_id: FOCUSED, b.user_id: AWAY}, people, start=T0, until=T0 + 8)
    t = run.t
    ghost = record_ghost(focused_s=5)
    calls = [
        lambda: room.start(a.user_id, t),
        lambda: room.resume(a.user_id, t),
        lambda: room.pause(b.user_id, t),
        lambda: room.add_ghost(a.user_id, "g1", ghost, "samuel", t),
        lambda: room.join("u-carol", "carol", t),
        lambda: room.join("bad id!", "carol", t),
        lambda: room.join("u-carol", "x", t),
        lambda: room.leave("u-nobody", t),
        lambda: room.reconnect("u-nobody", t),
        lambda: room.disconnect("u-nobody", t),
        lambda: room.accept_frame("u-nobody", a.frame(FOCUSED, t), t),
        lambda: room.accept_frame(a.user_id, b"\x00" * 64, t),
        lambda: room.tick(float("inf")),
        lambda: room.join("u-carol", "carol", float("nan")),
    ]
    for call in calls:
        before = room.snapshot()
        with pytest.raises(RoomError):
            call()
        assert room.snapshot() == before
    assert not room.closed and len(room) == 2
