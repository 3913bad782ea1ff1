"""Whole sessions on fake time: three people and a ghost fight a boss; a ghost replays exactly."""

from __future__ import annotations

import pytest

from shared.battle import (
    BASE_DPS,
    MAX_TOTAL_PENALTY,
    PENALTY_PER_MEMBER,
    Outcome,
    Stage,
    boss_hp_for,
)
from shared.codec import decode_batch
from shared.face import Attention
from shared.ghost import decode_ghost
from shared.protocol import dump
from shared.timer import Phase
from tests.server.test_room_support import (
    AWAY,
    FOCUSED,
    PLAN,
    T0,
    UNSURE,
    Ids,
    Person,
    alice,
    bob,
    carol,
    drive,
    new_room,
    record_ghost,
)


def test_three_people_and_a_ghost_beat_the_boss() -> None:
    """Create, join, add a ghost, start; two focus while one looks away (capped penalty); the boss
    falls; the session ends with records for every person and a results screen."""
    a, b, c = alice(), bob(), carol()
    people = {p.user_id: p for p in (a, b, c)}
    ghost = record_ghost(focused_s=60.0)  # focused through round one: 600 recorded damage
    assert ghost.damage_at(ghost.duration_s) == pytest.approx(600.0)

    room = new_room(a, boss="slime", ids=Ids("x"))
    room.join(b.user_id, b.username, T0 + 1)
    room.join(c.user_id, c.username, T0 + 1)
    g = room.add_ghost(a.user_id, "ghost-1", ghost, "samuel", T0 + 2)
    start = T0 + 3
    room.start(a.user_id, start)
    battle = room.battle
    assert battle is not None
    assert battle.boss_max_hp == pytest.approx(
        boss_hp_for(4, PLAN.planned_focus_s, battle.boss_kind)
    )

    # Round one: carol looks away the whole block.
    faces = {a.user_id: FOCUSED, b.user_id: FOCUSED, c.user_id: AWAY}
    run = drive(room, faces, people, start=start, until=start + 60)
    hps = [o.battle.boss_hp for o in run.outputs if o.battle is not None]
    assert hps == sorted(hps, reverse=True) and hps[-1] < hps[0]
    battle = room.battle
    assert battle is not None
    assert battle.penalty == pytest.approx(PENALTY_PER_MEMBER)
    assert battle.member(c.user_id).penalty == pytest.approx(PENALTY_PER_MEMBER)
    assert battle.member(c.user_id).asleep and room.member(c.user_id).asleep
    assert not room.timer.paused  # one sleeper never holds up the group
    # Alice dealt 10/s for the 5 s grace, then 8/s (20 % penalty) for the rest of the block.
    assert battle.member(a.user_id).damage == pytest.approx(
        BASE_DPS * 5 + BASE_DPS * (1 - PENALTY_PER_MEMBER) * 55, abs=BASE_DPS * 0.5
    )
    assert battle.member(g.member_id).damage == pytest.approx(
        ghost.damage_at(60.0), abs=BASE_DPS * 0.5
    )
    assert battle.penalty <= MAX_TOTAL_PENALTY

    # The break, then round two with everyone focused until the boss falls.
    faces = {a.user_id: FOCUSED, b.user_id: FOCUSED, c.user_id: FOCUSED}
    run = drive(room, faces, people, start=run.t, until=start + PLAN.total_s + 1)
    assert not room.member(c.user_id).asleep
    victory = next(o for o in run.outputs if o.battle is not None and o.battle.boss_hp == 0.0)
    assert victory.battle is not None and victory.battle.outcome is Outcome.VICTORY
    finished = [o for o in run.outputs if o.finished is not None]
    assert len(finished) == 1
    out = finished[0]
    assert out.finished is not None and out.results is not None and out.timer_changed
    session = out.finished
    assert session.outcome is Outcome.VICTORY and room.phase is Phase.RESULTS
    battle = room.battle
    assert battle is not None and battle.stage is Stage.OVER
    assert battle.damage_dealt == pytest.approx(battle.boss_max_hp)

    records = {r.user_id: r for r in session.records}
    assert set(records) == {a.user_id, b.user_id, c.user_id}
    for person in (a, b, c):
        record = records[person.user_id]
        assert record.room_id == room.room_id and record.subject == "algebra"
        assert record.started_at == start
        assert record.ended_at == pytest.approx(start + PLAN.total_s, abs=0.5)
        assert record.outcome is Outcome.VICTORY
        assert record.damage == pytest.approx(battle.member(person.user_id).damage)
        assert record.ghost is not None
        assert record.ghost.duration_s == pytest.approx(PLAN.total_s, abs=0.01)
        stored = record.ghost_bytes()
        assert stored is not None and decode_ghost(stored) == record.ghost
    # Alice focused the whole planned focus time, carol only round two; XP follows.
    assert records[a.user_id].focused_seconds == pytest.approx(120.0, abs=0.5)
    assert records[c.user_id].focused_seconds == pytest.approx(60.0, abs=1.0)
    assert records[a.user_id].xp > records[c.user_id].xp > 0
    assert len({r.session_id for r in session.records}) == 3

    results = session.results
    assert results.outcome is Outcome.VICTORY and results.mvp in {a.user_id, b.user_id}
    lines = {m.member_id: m for m in results.members}
    assert lines[g.member_id].is_ghost and lines[g.member_id].xp == 0
    assert lines[g.member_id].username == "samuel"
    assert sum(m.share for m in results.members) == pytest.approx(1.0)
    assert dump(results)["outcome"] == "victory"
    assert room.results_view() == results


def test_a_recorded_session_replays_with_its_recorded_damage() -> None:
    """A ghost recorded in one room deals exactly its recorded damage in a new room with the same
    plan, and its attention follows its recorded timeline."""
    ghost = record_ghost(focused_s=75.0)  # round one and 5 s of round two
    recorded = ghost.damage_at(ghost.duration_s)
    assert recorded == pytest.approx(650.0)

    z = Person("u-zed", "zed_z")
    room = new_room(z, boss="dragon")
    g = room.add_ghost(z.user_id, "ghost-7", ghost, "samuel", T0)
    room.start(z.user_id, T0 + 1)
    run = drive(room, {z.user_id: UNSURE}, {z.user_id: z}, start=T0 + 1, until=T0 + 30, step=1 / 15)
    assert room.member(g.member_id).attention is Attention.FOCUSED
    run = drive(
        room, {z.user_id: UNSURE}, {z.user_id: z}, start=run.t, until=T0 + 1 + 140, step=1 / 15
    )
    assert room.member(g.member_id).attention is Attention.UNCERTAIN
    finished = run.finished
    assert len(finished) == 1 and finished[0].finished is not None
    lines = {m.member_id: m for m in finished[0].finished.results.members}
    assert lines[g.member_id].damage == pytest.approx(recorded, abs=1e-6)
    assert lines[z.user_id].damage == 0.0
    assert finished[0].finished.outcome is Outcome.DEFEAT
    relayed = sum(
        1
        for o in run.outputs
        if o.frames is not None
        for slot, _ in decode_batch(o.frames).entries
        if slot == g.slot
    )
    assert relayed > 0


def test_a_ghost_waits_while_the_room_is_paused() -> None:
    """Pausing the room pauses the ghost too: it still deals its whole recorded damage."""
    ghost = record_ghost(focused_s=30.0)
    z = Person("u-zed", "zed_z")
    room = new_room(z, boss="dragon")
    g = room.add_ghost(z.user_id, "ghost-7", ghost, "samuel", T0)
    room.start(z.user_id, T0)
    people = {z.user_id: z}
    run = drive(room, {z.user_id: UNSURE}, people, start=T0, until=T0 + 10)
    room.pause(z.user_id, run.t)
    run = drive(room, {z.user_id: UNSURE}, people, start=run.t, until=run.t + 40)
    battle = room.battle
    assert battle is not None
    assert battle.member(g.member_id).damage == pytest.approx(100.0, abs=BASE_DPS * 0.5)
    room.resume(z.user_id, run.t)
    run = drive(room, {z.user_id: UNSURE}, people, start=run.t, until=T0 + 40 + PLAN.total_s + 1)
    assert run.finished
    battle = room.battle
    assert battle is not None
    assert battle.member(g.member_id).damage == pytest.approx(
        ghost.damage_at(ghost.duration_s), abs=1e-6
    )


def test_records_hold_confusion_episodes_within_the_session() -> None:
    """A sustained furrowed brow during the session is kept as a confusion episode."""
    from shared.blendshapes import INDEX
    from shared.face import NEUTRAL_WEIGHTS, FaceSample

    weights = list(NEUTRAL_WEIGHTS)
    weights[INDEX["browDownLeft"]] = weights[INDEX["browDownRight"]] = 0.9
    furrowed = FaceSample(t=0.0, blendshapes=tuple(weights))
    a = alice()
    room = new_room(a)
    room.start(a.user_id, T0)
    people = {a.user_id: a}
    run = drive(room, {a.user_id: FOCUSED}, people, start=T0, until=T0 + 10)
    run = drive(room, {a.user_id: furrowed}, people, start=run.t, until=T0 + 20)
    run = drive(room, {a.user_id: FOCUSED}, people, start=run.t, until=T0 + PLAN.total_s + 1)
    finished = run.finished[0].finished
    assert finished is not None
    (episode,) = finished.records[0].confusion
    assert episode[0] == pytest.approx(T0 + 10.25, abs=0.3)
    assert episode[1] == pytest.approx(T0 + 20.25, abs=0.6)


def test_someone_who_left_still_gets_a_record() -> None:
    """A person who left mid-session is on the results and gets a record ending when they left."""
    a, b = alice(), bob()
    room = new_room(a)
    room.join(b.user_id, b.username, T0)
    people = {a.user_id: a, b.user_id: b}
    room.start(a.user_id, T0)
    run = drive(room, {a.user_id: FOCUSED, b.user_id: FOCUSED}, people, start=T0, until=T0 + 20)
    room.leave(b.user_id, run.t)
    run = drive(room, {a.user_id: FOCUSED}, people, start=run.t, until=T0 + PLAN.total_s + 1)
    finished = run.finished[0].finished
    assert finished is not None
    records = {r.user_id: r for r in finished.records}
    assert records[b.user_id].ended_at == T0 + 20
    assert records[b.user_id].focused_seconds == pytest.approx(20.0, abs=0.5)
    ghost = records[b.user_id].ghost
    assert ghost is not None and ghost.duration_s == pytest.approx(20.0, abs=0.01)
    assert ghost.damage_at(ghost.duration_s) == pytest.approx(records[b.user_id].damage, abs=0.01)
    assert {m.member_id for m in finished.results.members} == {a.user_id, b.user_id}


def test_the_last_person_leaving_ends_the_session_with_records() -> None:
    """Leaving an active session empty finishes it: the closing tick carries the records."""
    a = alice()
    room = new_room(a)
    room.start(a.user_id, T0)
    run = drive(room, {a.user_id: FOCUSED}, {a.user_id: a}, start=T0, until=T0 + 12)
    room.leave(a.user_id, run.t)
    out = room.tick(run.t + 0.1)
    assert out.closed and out.finished is not None
    assert out.finished.outcome is Outcome.DEFEAT
    assert out.finished.records[0].focused_seconds == pytest.approx(12.0, abs=0.3)
