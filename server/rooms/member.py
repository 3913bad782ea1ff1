"""A room's seats (people and ghosts), session participants and frame counters: mutable, internal.

These are the room's working state, deliberately small mutable objects: the hot path (one face
frame) updates a seat in place rather than rebuilding values. Only :class:`~server.rooms.room.Room`
changes them, and it validates every input before touching one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from shared.codec import SEQ_MODULUS, Frame, encode_frame
from shared.face import Attention
from shared.focus import FocusAnalyzer
from shared.ghost import GhostFrame, GhostRecorder, GhostRecording
from shared.protocol import Member


@dataclass(slots=True)
class FrameStats:
    """Face-frame counters for metrics (not room state: counting a refused frame is allowed)."""

    accepted: int = 0
    """Frames that passed validation and were analysed."""
    dropped: int = 0
    """Frames refused: undecodable (invalid_frame) or stale (out_of_order)."""
    superseded: int = 0
    """Accepted frames overwritten by a newer one from the same member before the tick relayed them."""
    relayed: int = 0
    """Batch entries sent (people and ghosts), one per member per tick at most."""

    def add(self, other: FrameStats) -> None:
        """Add ``other``'s counts to these."""
        self.accepted += other.accepted
        self.dropped += other.dropped
        self.superseded += other.superseded
        self.relayed += other.relayed


@dataclass(slots=True, eq=False)
class GhostReplay:
    """What the room needs to replay one recording: the recording and how far it has got."""

    ghost_id: str
    recording: GhostRecording
    delivered: float = 0.0
    """Recorded damage already handed to the battle; the rest is owed (see Room's docstring)."""
    sent_ms: int | None = None
    """``t_ms`` of the last frame relayed, so each recorded frame is relayed once."""
    seq: int = 0
    """Sequence number of the last relayed frame (u16, wrapping, like a client's)."""

    def frame_bytes(self, frame: GhostFrame) -> bytes:
        """The recorded frame as a wire frame, numbered after the previous one."""
        self.seq = (self.seq + 1) % SEQ_MODULUS
        return encode_frame(
            Frame(
                seq=self.seq,
                t_ms=frame.t_ms,
                blendshapes=tuple(frame.blendshapes),
                yaw=frame.yaw,
                pitch=frame.pitch,
                roll=frame.roll,
                confidence=frame.confidence,
                present=frame.present,
            )
        )


@dataclass(slots=True, eq=False)
class Participant:
    """A person who took part in the current session: what their session record is built from.

    Kept when their seat is freed mid-session (they stay on the scoreboard), reused if they
    come back. ``record_t0`` and ``left_s`` are on the room's session clock.
    """

    user_id: str
    username: str
    started_at: float
    """Epoch seconds when they joined the session."""
    record_t0: float
    """Session-clock time their ghost recording starts at."""
    recorder: GhostRecorder | None
    episodes: list[tuple[float, float]] = field(default_factory=list)
    """Confusion episodes (epoch start, end) harvested from analysers no longer in use."""
    left_at: float | None = None
    """Epoch seconds when their seat was freed, while they are gone."""
    left_s: float | None = None
    """Session-clock time their seat was freed, while they are gone."""
    last_rec_slot: int = -1
    """Last ghost-frame slot offered to the recorder (one frame per slot)."""
    next_rec_at: float = -math.inf
    """Room time before which no frame can fall in a new slot (skips the timer arithmetic)."""


@dataclass(slots=True, eq=False)
class Seat:
    """One seat: a person (live frames, focus analysis) or a ghost (a replay)."""

    member_id: str
    username: str
    slot: int
    joined: int
    """Order of arrival (host hand-over goes to the earliest)."""
    is_ghost: bool = False
    connected: bool = True
    expires_at: float | None = None
    """While disconnected: when the seat frees (epoch seconds)."""
    attention: Attention = Attention.UNCERTAIN
    asleep: bool = False
    analyzer: FocusAnalyzer | None = None
    last_seq: int | None = None
    last_frame_at: float | None = None
    pending: bytes | None = None
    """The latest accepted frame not yet relayed (latest wins)."""
    participant: Participant | None = None
    ghost: GhostReplay | None = None

    def view(self) -> Member:
        """The wire view of this seat."""
        return Member(
            member_id=self.member_id,
            username=self.username,
            slot=self.slot,
            connected=self.connected,
            asleep=self.asleep,
            attention=self.attention,
            is_ghost=self.is_ghost,
        )
