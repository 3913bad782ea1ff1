"""Tests for the binary face-frame codec and the room batch packet (shared/codec.py)."""

from __future__ import annotations

import contextlib
import math
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.blendshapes import COUNT, quantize
from shared.codec import (
    BATCH_ENTRY_SIZE,
    BATCH_HEADER_SIZE,
    FRAME_SIZE,
    MAX_BATCH_ENTRIES,
    NEUTRAL_BYTES,
    PITCH_STEP,
    ROLL_STEP,
    YAW_STEP,
    Batch,
    BatchDecodeError,
    BatchEncodeError,
    CodecError,
    Frame,
    FrameDecodeError,
    FrameEncodeError,
    decode_batch,
    decode_frame,
    encode_batch,
    encode_frame,
    seq_newer,
)
from shared.face import FaceSample

# A little slack for float rounding on top of the documented half-step bounds.
EPS = 1e-9

SHAPES = tuple(range(0, 52 * 4, 4))  # 0, 4, ..., 204: every slot distinct
"""A blendshape vector whose bytes make a slot mix-up visible."""


def sample_frame(seq: int = 7, present: bool = True) -> Frame:
    """A valid frame with distinct, non-trivial values in every field."""
    return Frame(
        seq=seq,
        t_ms=123_456,
        blendshapes=SHAPES,
        yaw=-33.3,
        pitch=12.5,
        roll=4.0,
        confidence=0.8,
        present=present,
    )


frames = st.builds(
    Frame,
    seq=st.integers(0, 0xFFFF),
    t_ms=st.integers(0, 0xFFFF_FFFF),
    blendshapes=st.lists(st.integers(0, 255), min_size=COUNT, max_size=COUNT).map(tuple),
    yaw=st.floats(-180.0, 180.0),
    pitch=st.floats(-90.0, 90.0),
    roll=st.floats(-180.0, 180.0),
    confidence=st.floats(0.0, 1.0),
    present=st.booleans(),
)
"""Every valid frame."""


# --- frames: round trips and layout -----------------------------------------------------------


def test_known_frame_round_trips() -> None:
    """A hand-made frame decodes to itself, up to quantisation of pose and confidence."""
    frame = sample_frame()
    decoded = decode_frame(encode_frame(frame))
    assert decoded.seq == 7
    assert decoded.t_ms == 123_456
    assert decoded.blendshapes == SHAPES
    assert decoded.yaw == pytest.approx(-33.3, abs=YAW_STEP / 2)
    assert decoded.pitch == pytest.approx(12.5, abs=PITCH_STEP / 2)
    assert decoded.roll == pytest.approx(4.0, abs=ROLL_STEP / 2)
    assert decoded.confidence == pytest.approx(0.8, abs=0.5 / 255)
    assert decoded.present is True


def test_neutral_frame_round_trips_exactly() -> None:
    """Zero pose, full confidence and neutral shapes survive the wire bit for bit."""
    frame = Frame(seq=0, t_ms=0)
    assert decode_frame(encode_frame(frame)) == frame


def test_absent_frame_round_trips() -> None:
    """The face-present flag is carried, including 'no face'."""
    frame = Frame.from_sample(FaceSample.absent(t=3.0), seq=1, t_ms=3000)
    decoded = decode_frame(encode_frame(frame))
    assert decoded.present is False
    assert decoded.confidence == 0.0
    assert decoded == frame


def test_pose_range_ends_round_trip_exactly() -> None:
    """±180° yaw/roll and ±90° pitch land exactly on a code at both ends."""
    for yaw, pitch, roll in ((180.0, 90.0, 180.0), (-180.0, -90.0, -180.0)):
        frame = Frame(seq=1, t_ms=1, yaw=yaw, pitch=pitch, roll=roll)
        assert decode_frame(encode_frame(frame)) == frame


def test_frame_is_at_most_64_bytes() -> None:
    """Every encoded frame is exactly FRAME_SIZE (64) bytes."""
    assert FRAME_SIZE <= 64
    assert len(encode_frame(sample_frame())) == FRAME_SIZE
    assert len(encode_frame(Frame(seq=0xFFFF, t_ms=0xFFFF_FFFF, present=False))) == FRAME_SIZE


def test_golden_bytes_pin_the_layout() -> None:
    """The byte layout documented in the module docstring, built by hand."""
    frame = Frame(
        seq=0x1234,
        t_ms=0xDEADBEEF,
        blendshapes=SHAPES,
        yaw=180.0,  # code 2046 = 0b111_1111_1110
        pitch=0.0,  # code 511  = 0b01_1111_1111
        roll=-180.0,  # code 0
        confidence=1.0,
        present=True,
    )
    # pose word: 2046 << 21 | 511 << 11 | 0 = 0xFFC00000 | 0x000FF800
    expected = (
        b"\x11"  # version 1, face present
        + b"\x12\x34"  # seq
        + b"\xde\xad\xbe\xef"  # t_ms
        + bytes(SHAPES)  # blendshapes, MediaPipe order
        + b"\xff"  # confidence 1.0
        + b"\xff\xcf\xf8\x00"  # yaw | pitch | roll
    )
    assert len(expected) == 64
    assert encode_frame(frame) == expected
    assert decode_frame(expected) == frame


def test_golden_bytes_centred_head_without_face() -> None:
    """Zero pose packs to the centre codes; an absent face clears bit 0 of byte 0."""
    frame = Frame(seq=1, t_ms=2, blendshapes=NEUTRAL_BYTES, confidence=0.0, present=False)
    # 1023 << 21 | 511 << 11 | 1023 = 0x7FE00000 | 0x000FF800 | 0x000003FF
    expected = (
        b"\x10"  # version 1, no face
        + b"\x00\x01"  # seq
        + b"\x00\x00\x00\x02"  # t_ms
        + b"\xff"  # _neutral
        + b"\x00" * 51  # every other shape
        + b"\x00"  # confidence 0
        + b"\x7f\xef\xfb\xff"  # centred yaw | pitch | roll
    )
    assert encode_frame(frame) == expected


@settings(max_examples=300, deadline=None)
@given(frames)
def test_any_valid_frame_round_trips_within_quantisation(frame: Frame) -> None:
    """decode(encode(f)) equals f up to quantisation: exact bytes, confidence and pose ≤ ½ step."""
    decoded = decode_frame(encode_frame(frame))
    assert (decoded.seq, decoded.t_ms, decoded.present) == (frame.seq, frame.t_ms, frame.present)
    assert decoded.blendshapes == frame.blendshapes
    assert abs(decoded.confidence - frame.confidence) <= 0.5 / 255 + EPS
    assert abs(decoded.yaw - frame.yaw) <= YAW_STEP / 2 + EPS
    assert abs(decoded.pitch - frame.pitch) <= PITCH_STEP / 2 + EPS
    assert abs(decoded.roll - frame.roll) <= ROLL_STEP / 2 + EPS
    assert encode_frame(decoded) == encode_frame(frame)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(0.0, 1.0), min_size=COUNT, max_size=COUNT),
    st.floats(-180.0, 180.0),
    st.floats(-90.0, 90.0),
    st.floats(-180.0, 180.0),
    st.floats(0.0, 1.0),
    st.integers(-(2**40), 2**40),
)
def test_face_sample_survives_the_wire(
    weights: list[float], yaw: float, pitch: float, roll: float, conf: float, counter: int
) -> None:
    """FaceSample → Frame → bytes → Frame → FaceSample keeps every weight within 1/255."""
    sample = FaceSample(
        t=1.0, blendshapes=tuple(weights), yaw=yaw, pitch=pitch, roll=roll, confidence=conf
    )
    frame = Frame.from_sample(sample, seq=counter, t_ms=counter)
    assert frame.seq == counter % 2**16
    assert frame.t_ms == counter % 2**32
    back = decode_frame(encode_frame(frame)).to_sample(t=9.5)
    assert back.t == 9.5
    assert back.present
    for before, after in zip(sample.blendshapes, back.blendshapes, strict=True):
        assert abs(before - after) <= 1 / 255
    assert abs(back.confidence - conf) <= 1 / 255
    assert abs(back.yaw - yaw) <= YAW_STEP / 2 + EPS
    assert abs(back.pitch - pitch) <= PITCH_STEP / 2 + EPS
    assert abs(back.roll - roll) <= ROLL_STEP / 2 + EPS


def test_from_sample_quantizes_with_shared_blendshapes() -> None:
    """Frame.from_sample stores quantize(w) for every weight."""
    weights = tuple(i / 51 for i in range(COUNT))
    frame = Frame.from_sample(FaceSample(t=0.0, blendshapes=weights), seq=0, t_ms=0)
    assert frame.blendshapes == tuple(quantize(w) for w in weights)


# --- frames: strict decoding ----------------------------------------------------------------


def valid_bytes() -> bytes:
    """The encoding of :func:`sample_frame`."""
    return encode_frame(sample_frame())


@pytest.mark.parametrize("size", [0, 1, 63, 65, 128])
def test_decode_rejects_wrong_length(size: int) -> None:
    """Anything but exactly 64 bytes is a FrameDecodeError."""
    data = (valid_bytes() * 3)[:size]
    with pytest.raises(FrameDecodeError, match="64 bytes"):
        decode_frame(data)


@pytest.mark.parametrize("head", [0x01, 0x00, 0x21, 0xF1, 0x81])
def test_decode_rejects_unknown_version(head: int) -> None:
    """A version nibble other than 1 is refused."""
    data = bytes([head]) + valid_bytes()[1:]
    with pytest.raises(FrameDecodeError, match="version"):
        decode_frame(data)


@pytest.mark.parametrize("head", [0x12, 0x13, 0x14, 0x18, 0x1F])
def test_decode_rejects_reserved_flags(head: int) -> None:
    """Flag bits 1–3 are reserved and must be zero."""
    data = bytes([head]) + valid_bytes()[1:]
    with pytest.raises(FrameDecodeError, match="reserved"):
        decode_frame(data)


@pytest.mark.parametrize(
    ("yaw", "pitch", "roll"),
    [(2047, 511, 1023), (1023, 1023, 1023), (1023, 511, 2047), (2047, 1023, 2047)],
)
def test_decode_rejects_out_of_range_pose_codes(yaw: int, pitch: int, roll: int) -> None:
    """The unused top code of each pose field is refused."""
    pose = yaw << 21 | pitch << 11 | roll
    data = valid_bytes()[:60] + struct.pack(">I", pose)
    with pytest.raises(FrameDecodeError, match="pose"):
        decode_frame(data)


def test_decode_accepts_bytearray_and_memoryview() -> None:
    """bytes-like input of any of the three kinds decodes the same."""
    data = valid_bytes()
    expected = decode_frame(data)
    assert decode_frame(bytearray(data)) == expected
    assert decode_frame(memoryview(data)) == expected
    assert decode_frame(memoryview(b"xx" + data)[2:]) == expected


def test_decode_accepts_odd_memoryviews_by_their_bytes() -> None:
    """A non-byte or non-contiguous memoryview is judged by the bytes it covers."""
    data = valid_bytes()
    words = memoryview(data).cast("I")
    assert decode_frame(words) == decode_frame(data)
    strided = memoryview(bytes(b for pair in zip(data, data, strict=True) for b in pair))[::2]
    assert decode_frame(strided) == decode_frame(data)


def test_decode_rejects_released_memoryview() -> None:
    """A released buffer is a FrameDecodeError, not a bare ValueError."""
    view = memoryview(valid_bytes())
    view.release()
    with pytest.raises(FrameDecodeError):
        decode_frame(view)


@pytest.mark.parametrize("data", ["x" * 64, 64, None, [0x11] * 64, 1.5, object()])
def test_decode_rejects_non_bytes(data: object) -> None:
    """Non-bytes input is a CodecError (FrameDecodeError), never TypeError."""
    with pytest.raises(FrameDecodeError):
        decode_frame(data)  # type: ignore[arg-type]


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=200))
def test_any_byte_string_decodes_or_raises_codec_error(data: bytes) -> None:
    """Any byte string of any length either decodes or raises CodecError, nothing else."""
    with contextlib.suppress(CodecError):
        decode_frame(data)


@settings(max_examples=400, deadline=None)
@given(st.binary(min_size=FRAME_SIZE, max_size=FRAME_SIZE), st.sampled_from([None, 0x10, 0x11]))
def test_any_64_bytes_decode_canonically_or_raise(data: bytes, head: int | None) -> None:
    """Random 64-byte strings decode (and re-encode to the same bytes) or raise CodecError."""
    if head is not None:  # get past the header check often, to reach the pose check
        data = bytes([head]) + data[1:]
    try:
        frame = decode_frame(data)
    except CodecError:
        return
    assert encode_frame(frame) == data


# --- frames: strict encoding ----------------------------------------------------------------


@pytest.mark.parametrize(
    "field", ["confidence", "yaw", "pitch", "roll"], ids=lambda name: f"field={name}"
)
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_encode_rejects_non_finite(field: str, value: float) -> None:
    """NaN and ±inf in confidence or pose raise FrameEncodeError."""
    frame = Frame(seq=1, t_ms=1, **{field: value})  # type: ignore[arg-type]
    with pytest.raises(FrameEncodeError, match=field):
        encode_frame(frame)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("confidence", -0.01),
        ("confidence", 1.01),
        ("yaw", 180.01),
        ("yaw", -180.01),
        ("pitch", 90.01),
        ("pitch", -90.01),
        ("roll", 181.0),
        ("roll", -181.0),
    ],
)
def test_encode_rejects_out_of_range_scalars(field: str, value: float) -> None:
    """Negative or >1 confidence and pose beyond its legal range raise FrameEncodeError."""
    frame = Frame(seq=1, t_ms=1, **{field: value})  # type: ignore[arg-type]
    with pytest.raises(FrameEncodeError, match=field):
        encode_frame(frame)


@pytest.mark.parametrize(
    "shapes",
    [
        (0,) * 51 + (-1,),
        (0,) * 51 + (256,),
        (0,) * 51 + (math.nan,),
        (0,) * 51 + (0.5,),
        (0,) * 51 + (math.inf,),
        (0,) * 51,
        (0,) * 53,
        (),
        52,
        "x" * 52,
        None,
    ],
    ids=["neg", "256", "nan", "float", "inf", "51", "53", "empty", "int", "str", "none"],
)
def test_encode_rejects_bad_blendshapes(shapes: object) -> None:
    """Blendshapes must be exactly 52 ints in 0..255."""
    frame = Frame(seq=1, t_ms=1, blendshapes=shapes)  # type: ignore[arg-type]
    with pytest.raises(FrameEncodeError):
        encode_frame(frame)


@pytest.mark.parametrize(
    ("seq", "t_ms"), [(-1, 0), (0x10000, 0), (0, -1), (0, 2**32), (1.0, 0), (0, "3"), (None, 0)]
)
def test_encode_rejects_bad_counters(seq: object, t_ms: object) -> None:
    """seq must be a u16 and t_ms a u32; encode does not wrap them (from_sample does)."""
    frame = Frame(seq=seq, t_ms=t_ms)  # type: ignore[arg-type]
    with pytest.raises(FrameEncodeError):
        encode_frame(frame)


def test_encode_rejects_wrong_scalar_type() -> None:
    """A non-number where a float belongs raises FrameEncodeError, not TypeError."""
    with pytest.raises(FrameEncodeError):
        encode_frame(Frame(seq=1, t_ms=1, yaw="0"))  # type: ignore[arg-type]


# --- sequence numbers -----------------------------------------------------------------------


def test_seq_newer_simple_order() -> None:
    """Larger is newer within half the sequence space; equal is not newer."""
    assert seq_newer(2, 1)
    assert not seq_newer(1, 2)
    assert not seq_newer(5, 5)


def test_seq_newer_across_wrap() -> None:
    """0 follows 65535, and a few numbers after the wrap are newer than those before it."""
    assert seq_newer(0, 0xFFFF)
    assert not seq_newer(0xFFFF, 0)
    assert seq_newer(3, 0xFFF0)
    assert not seq_newer(0xFFF0, 3)


def test_seq_newer_half_space_is_neither() -> None:
    """Numbers exactly 2**15 apart are undefined in RFC 1982: neither is newer."""
    assert not seq_newer(0x8000, 0)
    assert not seq_newer(0, 0x8000)
    assert seq_newer(0x7FFF, 0)
    assert not seq_newer(0x8001, 0)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 0xFFFF), st.integers(1, 0x7FFF))
def test_seq_newer_is_a_wrapping_order(start: int, step: int) -> None:
    """Stepping forward by less than half the space is always newer, and never the reverse."""
    later = (start + step) % 2**16
    assert seq_newer(later, start)
    assert not seq_newer(start, later)


# --- batches --------------------------------------------------------------------------------


def encoded(seq: int) -> bytes:
    """A distinct valid encoded frame per seq."""
    return encode_frame(sample_frame(seq=seq, present=seq % 2 == 0))


def test_batch_round_trip_with_many_members() -> None:
    """A full batch (255 members) decodes to the same slots and frames, in order."""
    slots = list(range(255, 0, -1))
    entries = [(slot, encoded(slot)) for slot in slots]
    packet = encode_batch(42, 1_700_000_000_123, entries)
    assert len(packet) == BATCH_HEADER_SIZE + 255 * BATCH_ENTRY_SIZE
    batch = decode_batch(packet)
    assert batch.tick == 42
    assert batch.server_time_ms == 1_700_000_000_123
    assert [slot for slot, _ in batch.entries] == slots
    assert [encode_frame(frame) for _, frame in batch.entries] == [f for _, f in entries]


def test_batch_copies_frames_verbatim() -> None:
    """Each entry's 64 bytes appear unchanged after its slot byte."""
    frame = encoded(3)
    packet = encode_batch(1, 2, [(9, frame)])
    assert packet[BATCH_HEADER_SIZE] == 9
    assert packet[BATCH_HEADER_SIZE + 1 :] == frame


def test_batch_golden_header() -> None:
    """Header layout: version, u32 tick, u64 server time, u8 count."""
    packet = encode_batch(0x01020304, 0x1122334455667788, [])
    assert packet == b"\x01\x01\x02\x03\x04\x11\x22\x33\x44\x55\x66\x77\x88\x00"


def test_empty_batch_round_trips() -> None:
    """A tick with no frames is a 14-byte header with count 0."""
    packet = encode_batch(7, 8, [])
    assert len(packet) == BATCH_HEADER_SIZE
    assert decode_batch(packet) == Batch(tick=7, server_time_ms=8, entries=())


def test_batch_accepts_bytes_like_frames_and_packets() -> None:
    """Frames given as bytearray/memoryview are copied; packets decode from any bytes-like."""
    frame = encoded(4)
    packet = encode_batch(1, 2, [(0, bytearray(frame)), (1, memoryview(frame))])
    expected = decode_batch(packet)
    assert decode_batch(bytearray(packet)) == expected
    assert decode_batch(memoryview(packet)) == expected
    assert [f for _, f in expected.entries] == [decode_frame(frame)] * 2


def test_truncated_batch_is_rejected() -> None:
    """Every proper prefix of a batch (and any extra trailing byte) is a BatchDecodeError."""
    packet = encode_batch(1, 2, [(0, encoded(0)), (1, encoded(1))])
    for size in range(len(packet)):
        with pytest.raises(BatchDecodeError):
            decode_batch(packet[:size])
    with pytest.raises(BatchDecodeError):
        decode_batch(packet + b"\x00")


@pytest.mark.parametrize("count", [0, 1, 3, 255])
def test_batch_with_wrong_count_is_rejected(count: int) -> None:
    """A count byte that disagrees with the packet length is a BatchDecodeError."""
    packet = bytearray(encode_batch(1, 2, [(0, encoded(0)), (1, encoded(1))]))
    packet[13] = count
    with pytest.raises(BatchDecodeError, match="entries"):
        decode_batch(bytes(packet))


def test_batch_with_unknown_version_is_rejected() -> None:
    """Byte 0 must be the batch version."""
    packet = encode_batch(1, 2, [(0, encoded(0))])
    with pytest.raises(BatchDecodeError, match="version"):
        decode_batch(b"\x02" + packet[1:])
    with pytest.raises(BatchDecodeError, match="version"):
        decode_batch(encoded(0))  # a lone frame is not a batch


def test_batch_with_invalid_frame_is_rejected() -> None:
    """Decoding validates every contained frame and names the slot of a bad one."""
    packet = bytearray(encode_batch(1, 2, [(5, encoded(0)), (6, encoded(1))]))
    packet[BATCH_HEADER_SIZE + BATCH_ENTRY_SIZE + 1] = 0x13  # reserved flag in slot 6's frame
    with pytest.raises(BatchDecodeError, match="slot 6"):
        decode_batch(bytes(packet))


def test_batch_with_duplicate_slots_is_rejected() -> None:
    """A slot appears at most once per batch, on both sides."""
    frame = encoded(0)
    with pytest.raises(BatchEncodeError, match="slot"):
        encode_batch(1, 2, [(3, frame), (4, frame), (3, frame)])
    packet = bytearray(encode_batch(1, 2, [(3, frame), (4, frame)]))
    packet[BATCH_HEADER_SIZE + BATCH_ENTRY_SIZE] = 3
    with pytest.raises(BatchDecodeError, match="twice"):
        decode_batch(bytes(packet))


@pytest.mark.parametrize("data", ["x" * 14, 14, None, [1] * 14])
def test_batch_decode_rejects_non_bytes(data: object) -> None:
    """Non-bytes input is a BatchDecodeError, never TypeError."""
    with pytest.raises(BatchDecodeError):
        decode_batch(data)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_garbage_batch_decodes_or_raises_codec_error(data: bytes) -> None:
    """Any byte string either decodes as a batch or raises CodecError, nothing else."""
    with contextlib.suppress(CodecError):
        decode_batch(data)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 20), st.binary(max_size=BATCH_ENTRY_SIZE * 3))
def test_garbage_after_a_valid_header_decodes_or_raises(count: int, body: bytes) -> None:
    """A well-formed header followed by random entries decodes or raises BatchDecodeError."""
    data = encode_batch(1, 2, [])[:13] + bytes([count]) + body
    try:
        batch = decode_batch(data)
    except BatchDecodeError:
        return
    assert len(batch.entries) == count


@settings(max_examples=100, deadline=None)
@given(
    st.integers(0, 0xFFFF_FFFF),
    st.integers(0, 2**64 - 1),
    st.lists(st.tuples(st.integers(0, 255), frames), max_size=12, unique_by=lambda e: e[0]),
)
def test_any_valid_batch_round_trips(
    tick: int, server_time_ms: int, members: list[tuple[int, Frame]]
) -> None:
    """Batches round-trip: header exact, frames as their decoded selves."""
    entries = [(slot, encode_frame(frame)) for slot, frame in members]
    batch = decode_batch(encode_batch(tick, server_time_ms, entries))
    assert (batch.tick, batch.server_time_ms) == (tick, server_time_ms)
    assert batch.entries == tuple((slot, decode_frame(data)) for slot, data in entries)


@pytest.mark.parametrize(
    ("tick", "server_time_ms"), [(-1, 0), (2**32, 0), (0, -1), (0, 2**64), (1.0, 0), (0, None)]
)
def test_encode_batch_rejects_bad_header(tick: object, server_time_ms: object) -> None:
    """tick must be a u32 and server_time_ms a u64."""
    with pytest.raises(BatchEncodeError):
        encode_batch(tick, server_time_ms, [])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "entry",
    [
        (256, None),
        (-1, None),
        (1.0, None),
        (0, b"\x11" * 63),
        (0, b"\x11" * 65),
        (0, b"\x21" + b"\x00" * 63),
        (0, b"\x13" + b"\x00" * 63),
        (0, "x" * 64),
        (0,),
        5,
    ],
    ids=[
        "slot256",
        "slot-1",
        "slotfloat",
        "short",
        "long",
        "version",
        "flags",
        "str",
        "1-tuple",
        "int",
    ],
)
def test_encode_batch_rejects_bad_entries(entry: object) -> None:
    """Slots are u8, frames 64 bytes with a version-1 header, entries (slot, frame) pairs."""
    if isinstance(entry, tuple) and len(entry) == 2 and entry[1] is None:
        entry = (entry[0], encoded(0))
    with pytest.raises(BatchEncodeError):
        encode_batch(1, 2, [entry])  # type: ignore[list-item]


def test_encode_batch_rejects_too_many_entries() -> None:
    """More than MAX_BATCH_ENTRIES members do not fit the u8 count."""
    frame = encoded(0)
    entries = [(slot % 256, frame) for slot in range(MAX_BATCH_ENTRIES + 1)]
    with pytest.raises(BatchEncodeError, match="at most"):
        encode_batch(1, 2, entries)


def test_encode_batch_rejects_non_sequence() -> None:
    """entries must be a sized sequence."""
    with pytest.raises(BatchEncodeError):
        encode_batch(1, 2, None)  # type: ignore[arg-type]
