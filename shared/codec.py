"""Binary wire codec for face frames (client → server) and room batch packets (server → clients).

Theory of operation
-------------------
A client samples its face at 15 Hz and sends each sample as one fixed-size
64-byte *frame*. The server decodes it (strictly: any malformed input raises
:class:`FrameDecodeError` and nothing else), drops stale frames with
:func:`seq_newer`, and once per room tick copies the latest raw frame of every
member, verbatim, into one *batch* packet that is fanned out to the room. The
server therefore never re-encodes a frame on the hot path; clients decode the
batch, which validates every contained frame eagerly (a batch either decodes
completely or raises :class:`BatchDecodeError`).

All integers are big-endian (network order). Encoding validates its input and
raises :class:`FrameEncodeError` / :class:`BatchEncodeError`; every valid byte
string decodes to exactly one value and re-encodes to the same bytes.

Frame layout (``FRAME_SIZE`` = 64 bytes)
----------------------------------------

=======  =====  ==============================================================
bytes    type   field
=======  =====  ==============================================================
0        u8     bits 7–4: version (= 1); bits 3–1: reserved, must be 0;
                bit 0: face present
1–2      u16    ``seq``: sender's frame counter, wraps at 2**16 (RFC 1982)
3–6      u32    ``t_ms``: sender's monotonic clock in ms, wraps at 2**32
7–58     u8×52  blendshapes in MediaPipe order (:data:`shared.blendshapes.NAMES`),
                each ``quantize(w)`` = round(w × 255)
59       u8     confidence, ``quantize(c)`` = round(c × 255)
60–63    u32    head pose, packed as below
=======  =====  ==============================================================

Pose word (bytes 60–63 as one big-endian u32, bit 31 = most significant):

=========  ======  =============  =======  ============  ==============
bits       field   range (deg)    codes    zero at code  step (deg)
=========  ======  =============  =======  ============  ==============
31–21      yaw     [-180, 180]    0–2046   1023          180/1023 ≈ 0.176
20–11      pitch   [-90, 90]      0–1022   511           90/511 ≈ 0.176
10–0       roll    [-180, 180]    0–2046   1023          180/1023 ≈ 0.176
=========  ======  =============  =======  ============  ==============

``code = centre + round(angle × centre / limit)`` and
``angle = (code − centre) × limit / centre``. Using an odd number of codes
puts 0° and both range ends exactly on a code (a still, centred head decodes
to exactly 0.0), at the cost of the top code of each field (2047 / 1023 /
2047), which is invalid and rejected on decode. The worst-case error is half
a step, ≈ 0.088°.

Batch layout (``BATCH_HEADER_SIZE`` + ``count`` × ``BATCH_ENTRY_SIZE`` bytes)
-----------------------------------------------------------------------------

=======  =====  ==============================================================
bytes    type   field
=======  =====  ==============================================================
0        u8     batch version (= 1; a frame's byte 0 is 0x10 or 0x11, so the
                two packet kinds cannot be mistaken for each other)
1–4      u32    ``tick``: the room's relay tick number
5–12     u64    ``server_time_ms``: server clock at the tick, in ms
13       u8     ``count``: number of entries, 0–255 (:data:`MAX_BATCH_ENTRIES`)
14–      65×n   entries: u8 member slot (0–255), then one 64-byte frame
=======  =====  ==============================================================

A batch carries at most one frame per member slot (the member's latest for
the tick); duplicate slots are rejected both ways. Entries keep the order the
server gave them.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, TypeAlias

from shared.blendshapes import COUNT, dequantize, quantize
from shared.face import PITCH_LIMIT, ROLL_LIMIT, YAW_LIMIT, FaceSample

FRAME_VERSION: Final[int] = 1
"""Version in the high nibble of a frame's byte 0."""

FRAME_SIZE: Final[int] = 64
"""Bytes in one encoded frame."""

FLAG_PRESENT: Final[int] = 0x01
"""Frame flag bit: a face was seen."""

RESERVED_FLAGS: Final[int] = 0x0E
"""Frame flag bits that must be zero in version 1."""

SEQ_MODULUS: Final[int] = 1 << 16
"""``seq`` wraps here (u16)."""

T_MS_MODULUS: Final[int] = 1 << 32
"""``t_ms`` wraps here (u32), about every 49.7 days."""

YAW_CENTRE: Final[int] = 1023
"""Yaw code for 0°; codes run 0..2 × centre (11 bits, top code 2047 invalid)."""

PITCH_CENTRE: Final[int] = 511
"""Pitch code for 0°; codes run 0..2 × centre (10 bits, top code 1023 invalid)."""

ROLL_CENTRE: Final[int] = 1023
"""Roll code for 0°; codes run 0..2 × centre (11 bits, top code 2047 invalid)."""

YAW_STEP: Final[float] = YAW_LIMIT / YAW_CENTRE
"""Degrees per yaw code (≈ 0.176°)."""

PITCH_STEP: Final[float] = PITCH_LIMIT / PITCH_CENTRE
"""Degrees per pitch code (≈ 0.176°)."""

ROLL_STEP: Final[float] = ROLL_LIMIT / ROLL_CENTRE
"""Degrees per roll code (≈ 0.176°)."""

BATCH_VERSION: Final[int] = 1
"""Value of a batch packet's byte 0."""

BATCH_HEADER_SIZE: Final[int] = 14
"""Bytes before the first batch entry."""

BATCH_ENTRY_SIZE: Final[int] = 1 + FRAME_SIZE
"""Bytes per batch entry: one slot byte and one frame."""

MAX_BATCH_ENTRIES: Final[int] = 255
"""Most entries (members) one batch can carry: ``count`` is a u8."""

MAX_SLOT: Final[int] = 255
"""Highest member slot number (slots are u8)."""

NEUTRAL_BYTES: Final[tuple[int, ...]] = (quantize(1.0),) + (0,) * (COUNT - 1)
"""Quantised blendshapes of an expressionless face (``_neutral`` = 255, the rest 0)."""

BytesLike: TypeAlias = bytes | bytearray | memoryview
"""What the decoders accept (and ``encode_batch`` accepts as frames)."""

_FRAME: Final = struct.Struct(">BHI52sBI")
_BATCH_HEADER: Final = struct.Struct(">BIQB")
_U32_MAX: Final[int] = (1 << 32) - 1
_U64_MAX: Final[int] = (1 << 64) - 1
_HEAD_ABSENT: Final[int] = FRAME_VERSION << 4
_HEAD_PRESENT: Final[int] = _HEAD_ABSENT | FLAG_PRESENT

# Decoding is a table lookup per field: cheaper than arithmetic, and the
# formula (code − centre) × limit / centre lands exactly on ±limit at the ends.
_BYTE_TO_UNIT: Final[tuple[float, ...]] = tuple(dequantize(b) for b in range(256))
_YAW_DEGREES: Final[tuple[float, ...]] = tuple(
    (c - YAW_CENTRE) * YAW_LIMIT / YAW_CENTRE for c in range(2 * YAW_CENTRE + 1)
)
_PITCH_DEGREES: Final[tuple[float, ...]] = tuple(
    (c - PITCH_CENTRE) * PITCH_LIMIT / PITCH_CENTRE for c in range(2 * PITCH_CENTRE + 1)
)
_ROLL_DEGREES: Final[tuple[float, ...]] = tuple(
    (c - ROLL_CENTRE) * ROLL_LIMIT / ROLL_CENTRE for c in range(2 * ROLL_CENTRE + 1)
)
# Adding centre + 0.5 before int() rounds to nearest: the sum is never negative.
_YAW_SCALE: Final[float] = YAW_CENTRE / YAW_LIMIT
_PITCH_SCALE: Final[float] = PITCH_CENTRE / PITCH_LIMIT
_ROLL_SCALE: Final[float] = ROLL_CENTRE / ROLL_LIMIT
_YAW_OFFSET: Final[float] = YAW_CENTRE + 0.5
_PITCH_OFFSET: Final[float] = PITCH_CENTRE + 0.5
_ROLL_OFFSET: Final[float] = ROLL_CENTRE + 0.5
_YAW_MAX: Final[int] = 2 * YAW_CENTRE
_PITCH_MAX: Final[int] = 2 * PITCH_CENTRE
_ROLL_MAX: Final[int] = 2 * ROLL_CENTRE
_SLOT_BYTES: Final[tuple[bytes, ...]] = tuple(bytes((s,)) for s in range(MAX_SLOT + 1))


class CodecError(ValueError):
    """Anything the wire codec refuses to encode or decode."""


class FrameEncodeError(CodecError):
    """A frame with a value that cannot go on the wire (NaN, infinite, out of range, wrong type)."""


class FrameDecodeError(CodecError):
    """Bytes that are not a valid version-1 frame."""


class BatchEncodeError(CodecError):
    """Batch arguments that cannot go on the wire (bad tick, slot, frame bytes or entry count)."""


class BatchDecodeError(CodecError):
    """Bytes that are not a valid version-1 batch packet, or a batch holding an invalid frame."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One face frame as it travels on the wire.

    ``blendshapes`` holds the 52 quantised bytes (0–255, MediaPipe order) exactly
    as they are sent; pose (degrees) and confidence are physical values that
    :func:`encode_frame` quantises. Construction does not validate:
    :func:`encode_frame` does, and :func:`decode_frame` only produces valid frames.
    """

    seq: int
    t_ms: int
    blendshapes: tuple[int, ...] = NEUTRAL_BYTES
    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0
    confidence: float = 1.0
    present: bool = True

    @classmethod
    def from_sample(cls, sample: FaceSample, seq: int, t_ms: int) -> Frame:
        """The frame for a tracker sample; ``seq`` and ``t_ms`` are wrapped to u16 / u32."""
        return cls(
            seq=seq % SEQ_MODULUS,
            t_ms=t_ms % T_MS_MODULUS,
            blendshapes=tuple(map(quantize, sample.blendshapes)),
            yaw=sample.yaw,
            pitch=sample.pitch,
            roll=sample.roll,
            confidence=sample.confidence,
            present=sample.present,
        )

    def to_sample(self, t: float) -> FaceSample:
        """The face sample this frame stands for, stamped with the receiver's time ``t``."""
        # The table holds dequantize(b) for every byte; indexing it is ~4x faster than calling.
        unit = _BYTE_TO_UNIT
        return FaceSample(
            t=t,
            blendshapes=tuple([unit[b] for b in self.blendshapes]),
            yaw=self.yaw,
            pitch=self.pitch,
            roll=self.roll,
            confidence=self.confidence,
            present=self.present,
        )


@dataclass(frozen=True, slots=True)
class Batch:
    """One relay tick of a room: the latest frame of each member that sent one.

    ``entries`` are ``(slot, frame)`` pairs in the server's order, slots unique;
    ``dict(batch.entries)`` gives a slot → frame lookup.
    """

    tick: int
    server_time_ms: int
    entries: tuple[tuple[int, Frame], ...]


def seq_newer(a: int, b: int) -> bool:
    """Whether sequence number ``a`` comes after ``b`` (RFC 1982 serial arithmetic, 16 bits).

    Arguments are taken modulo 2**16. Equal numbers are not newer; numbers
    exactly 2**15 apart are undefined in RFC 1982 and count as not newer either
    way, so such a frame is dropped rather than trusted.
    """
    return 0 < (a - b) % SEQ_MODULUS < SEQ_MODULUS // 2


def encode_frame(frame: Frame) -> bytes:
    """The 64 wire bytes of a frame; raises :class:`FrameEncodeError` for any invalid field."""
    seq = frame.seq
    t_ms = frame.t_ms
    confidence = frame.confidence
    yaw = frame.yaw
    pitch = frame.pitch
    roll = frame.roll
    try:
        # tuple() first: bytes(52) would silently make 52 zero bytes.
        shapes = bytes(tuple(frame.blendshapes))
        # Chained comparisons are False for NaN, so NaN fails every range check.
        ok_ints = isinstance(seq, int) and isinstance(t_ms, int)
        if not (ok_ints and 0 <= seq < SEQ_MODULUS and 0 <= t_ms <= _U32_MAX):
            raise FrameEncodeError(
                f"seq {seq!r} must be an int in 0..65535 and t_ms {t_ms!r} an int in 0..{_U32_MAX}"
            )
        if not 0.0 <= confidence <= 1.0:
            raise FrameEncodeError(f"confidence {confidence!r} is outside [0, 1]")
        if not -YAW_LIMIT <= yaw <= YAW_LIMIT:
            raise FrameEncodeError(f"yaw {yaw!r} is outside [-{YAW_LIMIT}, {YAW_LIMIT}]")
        if not -PITCH_LIMIT <= pitch <= PITCH_LIMIT:
            raise FrameEncodeError(f"pitch {pitch!r} is outside [-{PITCH_LIMIT}, {PITCH_LIMIT}]")
        if not -ROLL_LIMIT <= roll <= ROLL_LIMIT:
            raise FrameEncodeError(f"roll {roll!r} is outside [-{ROLL_LIMIT}, {ROLL_LIMIT}]")
        pose = (
            int(yaw * _YAW_SCALE + _YAW_OFFSET) << 21
            | int(pitch * _PITCH_SCALE + _PITCH_OFFSET) << 11
            | int(roll * _ROLL_SCALE + _ROLL_OFFSET)
        )
        conf_byte = quantize(confidence)
    except FrameEncodeError:
        raise
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise FrameEncodeError(f"frame has a field of the wrong type or range: {exc}") from None
    if len(shapes) != COUNT:
        raise FrameEncodeError(f"expected {COUNT} blendshape bytes, got {len(shapes)}")
    head = _HEAD_PRESENT if frame.present else _HEAD_ABSENT
    return _FRAME.pack(head, seq, t_ms, shapes, conf_byte, pose)


def decode_frame(data: BytesLike) -> Frame:
    """The frame in exactly 64 bytes; raises :class:`FrameDecodeError` for anything else."""
    if not isinstance(data, bytes):
        data = _to_bytes(data, FrameDecodeError)
    if len(data) != FRAME_SIZE:
        raise FrameDecodeError(f"a frame is {FRAME_SIZE} bytes, got {len(data)}")
    return _unpack_frame(data, 0)


def decode_relay_frame(data: BytesLike, t: float) -> tuple[int, FaceSample, bytes, int]:
    """What a relay needs from one received frame, without building a :class:`Frame`: its
    ``seq``, its sample stamped ``t`` (what ``decode_frame(data).to_sample(t)`` gives), and its 52
    blendshape bytes and confidence byte exactly as sent (ready for a ghost recording).

    Validates exactly like :func:`decode_frame` and raises the same :class:`FrameDecodeError`.
    """
    if not isinstance(data, bytes):
        data = _to_bytes(data, FrameDecodeError)
    if len(data) != FRAME_SIZE:
        raise FrameDecodeError(f"a frame is {FRAME_SIZE} bytes, got {len(data)}")
    head, seq, _t_ms, shapes, conf_byte, pose = _FRAME.unpack_from(data)
    yaw_code, pitch_code, roll_code = _pose_codes(head, pose)
    unit = _BYTE_TO_UNIT
    # The list comprehension reads the bytes straight into floats: no tuple of 52 ints first.
    sample = FaceSample.prevalidated(
        t,
        tuple([unit[b] for b in shapes]),
        _YAW_DEGREES[yaw_code],
        _PITCH_DEGREES[pitch_code],
        _ROLL_DEGREES[roll_code],
        unit[conf_byte],
        head == _HEAD_PRESENT,
    )
    return seq, sample, shapes, conf_byte


def encode_batch(tick: int, server_time_ms: int, entries: Sequence[tuple[int, BytesLike]]) -> bytes:
    """One batch packet from ``(slot, encoded frame)`` pairs; frames are copied verbatim.

    Frames are checked for length and header byte only (they came out of
    :func:`encode_frame` or passed :func:`decode_frame`); slots must be unique.
    Raises :class:`BatchEncodeError`.
    """
    try:
        count = len(entries)
        if not (isinstance(tick, int) and 0 <= tick <= _U32_MAX):
            raise BatchEncodeError(f"tick {tick!r} must be an int in 0..{_U32_MAX}")
        if not (isinstance(server_time_ms, int) and 0 <= server_time_ms <= _U64_MAX):
            raise BatchEncodeError(
                f"server_time_ms {server_time_ms!r} must be an int in 0..{_U64_MAX}"
            )
    except TypeError as exc:
        raise BatchEncodeError(f"entries must be a sequence: {exc}") from None
    if count > MAX_BATCH_ENTRIES:
        raise BatchEncodeError(f"a batch holds at most {MAX_BATCH_ENTRIES} entries, got {count}")
    parts = [_BATCH_HEADER.pack(BATCH_VERSION, tick, server_time_ms, count)]
    append = parts.append
    for i, entry in enumerate(entries):
        try:
            slot, frame = entry
        except (TypeError, ValueError):
            raise BatchEncodeError(f"entry {i} is not a (slot, frame) pair") from None
        if not (isinstance(slot, int) and 0 <= slot <= MAX_SLOT):
            raise BatchEncodeError(f"entry {i}: slot {slot!r} must be an int in 0..{MAX_SLOT}")
        if not isinstance(frame, bytes):
            frame = _to_bytes(frame, BatchEncodeError)
        if len(frame) != FRAME_SIZE or frame[0] & ~FLAG_PRESENT != _HEAD_ABSENT:
            raise BatchEncodeError(f"entry {i} (slot {slot}) is not an encoded version-1 frame")
        append(_SLOT_BYTES[slot])
        append(frame)
    if count > 1 and len(set(parts[1::2])) != count:
        raise BatchEncodeError("a batch carries at most one frame per slot")
    return b"".join(parts)


def decode_batch(data: BytesLike) -> Batch:
    """The batch in a packet, every frame validated; raises :class:`BatchDecodeError`."""
    if not isinstance(data, bytes):
        data = _to_bytes(data, BatchDecodeError)
    size = len(data)
    if size < BATCH_HEADER_SIZE:
        raise BatchDecodeError(f"a batch is at least {BATCH_HEADER_SIZE} bytes, got {size}")
    version, tick, server_time_ms, count = _BATCH_HEADER.unpack_from(data)
    if version != BATCH_VERSION:
        raise BatchDecodeError(f"unknown batch version {version}")
    expected = BATCH_HEADER_SIZE + count * BATCH_ENTRY_SIZE
    if size != expected:
        raise BatchDecodeError(f"a batch of {count} entries is {expected} bytes, got {size}")
    entries: list[tuple[int, Frame]] = []
    seen: set[int] = set()
    for offset in range(BATCH_HEADER_SIZE, size, BATCH_ENTRY_SIZE):
        slot = data[offset]
        if slot in seen:
            raise BatchDecodeError(f"slot {slot} appears twice")
        seen.add(slot)
        try:
            frame = _unpack_frame(data, offset + 1)
        except FrameDecodeError as exc:
            raise BatchDecodeError(f"slot {slot}: {exc}") from None
        entries.append((slot, frame))
    return Batch(tick, server_time_ms, tuple(entries))


def _to_bytes(data: object, error: type[CodecError]) -> bytes:
    """A copy of a bytearray or memoryview as bytes; ``error`` for anything else."""
    if not isinstance(data, (bytearray, memoryview)):
        raise error(f"expected bytes, bytearray or memoryview, got {type(data).__name__}")
    try:
        return bytes(data)
    except (ValueError, TypeError, BufferError) as exc:  # e.g. a released memoryview
        raise error(f"unreadable buffer: {exc}") from None


def _pose_codes(head: int, pose: int) -> tuple[int, int, int]:
    """The yaw, pitch and roll codes packed in ``pose``, once the header byte and the codes are
    checked; raises the :class:`FrameDecodeError` that says what is wrong (one comparison chain
    on the good path: the relay runs this for every frame)."""
    yaw_code = pose >> 21
    pitch_code = (pose >> 11) & 0x3FF
    roll_code = pose & 0x7FF
    if (
        head & ~FLAG_PRESENT == _HEAD_ABSENT  # 0x10 or 0x11
        and yaw_code <= _YAW_MAX
        and pitch_code <= _PITCH_MAX
        and roll_code <= _ROLL_MAX
    ):
        return yaw_code, pitch_code, roll_code
    if head != _HEAD_PRESENT and head != _HEAD_ABSENT:
        if head >> 4 != FRAME_VERSION:
            raise FrameDecodeError(f"unknown frame version {head >> 4}")
        raise FrameDecodeError(f"reserved flag bits set: {head & RESERVED_FLAGS:#04x}")
    raise FrameDecodeError(
        f"pose codes out of range: yaw {yaw_code}, pitch {pitch_code}, roll {roll_code}"
    )


def _unpack_frame(data: bytes, offset: int) -> Frame:
    """The frame at ``offset``; the caller has checked that 64 bytes are there."""
    head, seq, t_ms, shapes, conf_byte, pose = _FRAME.unpack_from(data, offset)
    yaw_code, pitch_code, roll_code = _pose_codes(head, pose)
    return Frame(
        seq,
        t_ms,
        tuple(shapes),
        _YAW_DEGREES[yaw_code],
        _PITCH_DEGREES[pitch_code],
        _ROLL_DEGREES[roll_code],
        _BYTE_TO_UNIT[conf_byte],
        head == _HEAD_PRESENT,
    )
