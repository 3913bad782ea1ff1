"""Fake-time helpers for the room tests (people who send frames, a driver loop), and their checks."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from server.rooms import Room, TickOutput
from shared.codec import Frame, decode_frame, encode_frame
from shared.face import Attention, FaceSample
from shared.focus import DEFAULT_CALIBRATION, classify
from shared.ghost import GhostRecording
from shared.timer import TimerPlan

T0: Final[float] = 1_700_000_000.0
"""The fake clock's origin: an ordinary Unix time in seconds."""
STEP: Final[float] = 0.25
"""Fake seconds between two driver steps (frames are sent, then the room ticks)."""
PLAN: Final[TimerPlan] = TimerPlan(focus_s=60, break_s=10, rounds=2)
"""A short session: two one-minute focus blocks with a ten-second break."""

FOCUSED: Final[FaceSample] = FaceSample(t=0.0)
AWAY: Final[FaceSample] = FaceSample(t=0.0, yaw=40.0)
"""Head turned 40° to the student's left: looking_left."""
ABSENT: Final[FaceSample] = FaceSample.absent(0.0)
UNSURE: Final[FaceSample] = FaceSample(t=0.0, confidence=0.2)
"""Tracking confidence below 0.5: uncertain (neither credited nor counted as away)."""


class Ids:
    """A deterministic id factory: ``id0001``, ``id0002``, ..."""

    def __init__(self, prefix: str = "id") -> None:
        self._prefix = prefix
        self._counter = itertools.count(1)

    def __call__(self) -> str:
        return f"{self._prefix}{next(self._counter):04d}"


@dataclass
class Person:
    """A student with their own frame counter."""

    user_id: str
    username: str
    seq: int = field(default=0)

    def frame(self, sample: FaceSample, t: float) -> bytes:
        """The next wire frame of this person showing ``sample``."""
        self.seq += 1
        return encode_frame(Frame.from_sample(sample, self.seq, int(t * 1000)))

    def send(self, room: Room, sample: FaceSample, t: float) -> None:
        """Send the next frame to ``room`` at ``t``."""
        room.accept_frame(self.user_id, self.frame(sample, t), t)


def alice() -> Person:
    return Person("u-alice", "alice")


def bob() -> Person:
    return Person("u-bob", "bobby")


def carol() -> Person:
    return Person("u-carol", "carol")


def dave() -> Person:
    return Person("u-dave", "dave_")


def new_room(
    host: Person,
    *,
    now: float = T0,
    plan: TimerPlan = PLAN,
    boss: str = "golem",
    max_members: int = 8,
    ids: Ids | None = None,
    room_id: str = "ROOM-1",
) -> Room:
    """A lobby with ``host`` seated."""
    return Room(
        room_id=room_id,
        name="Study group",
        subject="algebra",
        host_id=host.user_id,
        host_name=host.username,
        now=now,
        new_id=ids or Ids(),
        plan=plan,
        boss_kind=boss,
        max_members=max_members,
    )


@dataclass
class Drive:
    """What a stretch of driving produced."""

    outputs: list[TickOutput]
    t: float

    @property
    def finished(self) -> list[TickOutput]:
        """The outputs that reported a finished session."""
        return [o for o in self.outputs if o.finished is not None]


def drive(
    room: Room,
    faces: Mapping[str, FaceSample | None],
    people: Mapping[str, Person],
    *,
    start: float,
    until: float,
    step: float = STEP,
) -> Drive:
    """From ``start`` to ``until``: every ``step`` each listed person sends their face (``None``:
    nothing), then the room ticks."""
    outputs: list[TickOutput] = []
    t = start
    while t < until - 1e-9:
        t = round(t + step, 6)
        for user_id, face in faces.items():
            if face is not None:
                people[user_id].send(room, face, t)
        outputs.append(room.tick(t))
    return Drive(outputs, t)


def record_ghost(*, focused_s: float, plan: TimerPlan = PLAN, start: float = T0) -> GhostRecording:
    """A real recorded session: a solo dragon fight, focused for the first ``focused_s`` seconds of
    the session and uncertain afterwards (looking away would put a solo player to sleep, which
    pauses the timer)."""
    sam = Person("u-sam", "samuel")
    room = new_room(sam, now=start, plan=plan, boss="dragon", room_id="GHOST-SRC")
    room.start(sam.user_id, start)
    outputs: list[TickOutput] = []
    t = start
    limit = start + plan.total_s + 5.0
    while not any(o.finished for o in outputs):
        assert t < limit, "the recorded session did not end on time"
        t = round(t + STEP, 6)
        sam.send(room, FOCUSED if t - start <= focused_s else UNSURE, t)
        outputs.append(room.tick(t))
    finished = next(o.finished for o in outputs if o.finished is not None)
    ghost = finished.records[0].ghost
    assert ghost is not None
    return ghost


def test_face_builders_mean_what_they_say() -> None:
    """The test faces classify as focused, looking left and no face after the wire round trip."""
    person = alice()
    for sample, attention in (
        (FOCUSED, Attention.FOCUSED),
        (AWAY, Attention.LOOKING_LEFT),
        (ABSENT, Attention.NO_FACE),
        (UNSURE, Attention.UNCERTAIN),
    ):
        wire = decode_frame(person.frame(sample, 1.0)).to_sample(1.0)
        assert classify(wire, DEFAULT_CALIBRATION) is attention


def test_people_number_their_frames() -> None:
    """Each person's frames carry an increasing sequence number."""
    person = bob()
    seqs = [decode_frame(person.frame(FOCUSED, i)).seq for i in range(3)]
    assert seqs == [1, 2, 3]
