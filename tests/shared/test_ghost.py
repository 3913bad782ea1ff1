"""Ghost recordings: 10 Hz downsampling, replay lookups, exact round trip, strict decoding, size."""

from __future__ import annotations

import importlib.util
import lzma
import math
import struct
import zlib
from itertools import pairwise
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.blendshapes import COUNT, INDEX, quantize
from shared.face import Attention, FaceSample
from shared.ghost import (
    BLENDSHAPE_TOLERANCE,
    CONFIDENCE_TOLERANCE,
    HEADER,
    MAGIC,
    MAX_FRAMES,
    POSE_TOLERANCE_DEG,
    TIME_TOLERANCE_S,
    Compression,
    GhostFormatError,
    GhostFrame,
    GhostMeta,
    GhostRecorder,
    GhostRecorderError,
    GhostRecording,
    InvalidGhostError,
    TimelineSegment,
    damage_sample_count,
    decode_ghost,
    encode_ghost,
    max_body_length,
)

ROOT = Path(__file__).resolve().parents[2]
BUDGET_BYTES_PER_HOUR = 500_000  # "0.5 MB per hour", read strictly (decimal megabytes)


def load_bench() -> ModuleType:
    """bench/ghost.py, whose simulated hour is the one the size budget is measured on."""
    spec = importlib.util.spec_from_file_location("bench_ghost", ROOT / "bench" / "ghost.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def recorder(t0: float = 100.0) -> GhostRecorder:
    """A recorder for user u-1 whose session starts at t0 on the sample clock."""
    return GhostRecorder(user_id="u-1", user_name="Sam", subject="maths", started_at=1.7e9, t0=t0)


def face(t: float, level: float = 0.2, yaw: float = 0.0) -> FaceSample:
    """A present face with every weight at ``level`` and the given yaw."""
    return FaceSample(t, (level,) * COUNT, yaw=yaw, pitch=-5.0, roll=1.0, confidence=0.9)


# ------------------------------------------------------------------- downsampling


@pytest.mark.parametrize(("fps", "frames"), [(30.0, 600), (60.0, 600), (15.0, 600), (5.0, 300)])
def test_recorder_keeps_one_frame_per_100ms_slot(fps: float, frames: int) -> None:
    """60 s of input at any rate ≥ 10 fps becomes 600 frames (10 Hz); slower input keeps all."""
    rec = recorder()
    kept = [rec.add_sample(face(100.0 + i / fps)) for i in range(int(60 * fps))]
    ghost = rec.finish(160.0)
    assert sum(kept) == len(ghost.frames) == frames
    assert ghost.meta.frame_rate == 10.0


def test_recorder_keeps_the_first_sample_of_each_slot() -> None:
    """At 30 fps every third sample is kept: the first one in its 100 ms slot."""
    rec = recorder(t0=0.0)
    kept = [rec.add_sample(face(i / 30)) for i in range(9)]
    assert kept == [True, False, False] * 3
    assert [f.t_ms for f in rec.finish(0.3).frames] == [0, 100, 200]


def test_jittery_30fps_input_downsamples_to_about_10hz() -> None:
    """Capture-time jitter of a few ms still yields ~10 frames per second."""
    rec = recorder(t0=0.0)
    jitter = [0.004, -0.003, 0.002, -0.004, 0.001]
    for i in range(1, 30 * 120):
        rec.add_sample(face(i / 30 + jitter[i % 5]))
    n = len(rec.finish(120.0).frames)
    assert 1190 <= n <= 1200


def test_out_of_order_sample_is_refused_and_changes_nothing() -> None:
    """A sample older than the last one raises and the recorder carries on unchanged."""
    rec = recorder(t0=0.0)
    rec.add_sample(face(0.0))
    rec.add_sample(face(0.25))
    with pytest.raises(GhostRecorderError):
        rec.add_sample(face(0.2))
    assert rec.frame_count == 2
    assert rec.add_sample(face(0.31))
    assert [f.t_ms for f in rec.finish(1.0).frames] == [0, 250, 310]


def test_sample_before_the_start_is_refused() -> None:
    """Samples before t0 have no place in the recording."""
    with pytest.raises(GhostRecorderError):
        recorder(t0=10.0).add_sample(face(9.0))


def test_finish_before_the_last_input_is_refused() -> None:
    """A recording cannot end before its last sample."""
    rec = recorder(t0=0.0)
    rec.add_sample(face(5.0))
    with pytest.raises(GhostRecorderError):
        rec.finish(4.0)


def test_deadband_holds_jitter_and_follows_real_motion() -> None:
    """1–3 steps of jitter keep the stored byte; a blink (big jump) is stored exactly."""
    rec = recorder(t0=0.0)
    base = 100 / 255
    for i, steps in enumerate([0, 2, -3, 1, 3, -2]):
        rec.add_sample(face(i * 0.1, base + steps / 255))
    rec.add_sample(face(0.6, 0.9))
    frames = rec.finish(0.7).frames
    assert {f.blendshapes[5] for f in frames[:6]} == {100}
    assert frames[6].blendshapes[5] == quantize(0.9)


samples_strategy = st.lists(
    st.tuples(
        st.integers(1, 250),  # ms since the previous sample
        st.lists(st.floats(0, 1), min_size=COUNT, max_size=COUNT),
        st.floats(-180, 180),
        st.floats(-90, 90),
        st.floats(-180, 180),
        st.floats(0, 1),
        st.booleans(),
    ),
    min_size=1,
    max_size=25,
)


def build_samples(
    raw: list[tuple[int, list[float], float, float, float, float, bool]],
) -> list[FaceSample]:
    """FaceSamples on a clock starting at t0 = 50 s, from drawn gaps and values."""
    out, ms = [], 0
    for gap, weights, yaw, pitch, roll, confidence, present in raw:
        ms += gap
        out.append(
            FaceSample(50.0 + ms / 1000, tuple(weights), yaw, pitch, roll, confidence, present)
        )
    return out


def assert_frames_match_samples(frames: tuple[GhostFrame, ...], samples: list[FaceSample]) -> None:
    """Each frame is within the documented tolerances of the first sample of its slot."""
    by_ms = {round((s.t - 50.0) * 1000): s for s in reversed(samples)}
    for frame in frames:
        s = by_ms[frame.t_ms]
        assert abs(frame.t - (s.t - 50.0)) <= TIME_TOLERANCE_S + 1e-9
        assert max(abs(a - b) for a, b in zip(frame.weights, s.blendshapes, strict=True)) <= (
            BLENDSHAPE_TOLERANCE + 1e-12
        )
        for got, want in ((frame.yaw, s.yaw), (frame.pitch, s.pitch), (frame.roll, s.roll)):
            assert abs(got - want) <= POSE_TOLERANCE_DEG + 1e-9
        assert abs(frame.confidence - s.confidence) <= CONFIDENCE_TOLERANCE + 1e-12
        assert frame.present == s.present


@settings(max_examples=60, deadline=None)
@given(samples_strategy)
def test_recorded_frames_stay_within_the_documented_tolerance(
    raw: list[tuple[int, list[float], float, float, float, float, bool]],
) -> None:
    """Recorder + codec: every frame is within the documented tolerances of its sample."""
    samples = build_samples(raw)
    rec = GhostRecorder(user_id="u", user_name="U", subject="", started_at=0.0, t0=50.0)
    for s in samples:
        rec.add_sample(s)
    ghost = decode_ghost(encode_ghost(rec.finish(samples[-1].t)))
    assert_frames_match_samples(ghost.frames, samples)
    slots = [f.t_ms // 100 for f in ghost.frames]
    assert slots == sorted(set(slots))
    assert len(slots) == len({round((s.t - 50.0) * 1000) // 100 for s in samples})


# --------------------------------------------------------- timeline and damage


def test_marks_merge_into_run_length_segments() -> None:
    """Repeated states merge; before the first mark the state is uncertain and awake."""
    rec = recorder(t0=0.0)
    rec.mark(2.0, Attention.FOCUSED, False)
    rec.mark(3.0, Attention.FOCUSED, False)
    rec.mark(10.0, Attention.LOOKING_LEFT, False)
    rec.mark(25.0, Attention.LOOKING_LEFT, True)
    rec.mark(30.0, Attention.FOCUSED, False)
    timeline = rec.finish(40.0).timeline
    assert timeline == (
        TimelineSegment(0, Attention.UNCERTAIN, False),
        TimelineSegment(2000, Attention.FOCUSED, False),
        TimelineSegment(10000, Attention.LOOKING_LEFT, False),
        TimelineSegment(25000, Attention.LOOKING_LEFT, True),
        TimelineSegment(30000, Attention.FOCUSED, False),
    )


def test_a_mark_at_zero_replaces_the_initial_state_and_later_marks_win_ties() -> None:
    """Marks in the same millisecond: the last one stands (and merges with its predecessor)."""
    rec = recorder(t0=0.0)
    rec.mark(0.0, Attention.FOCUSED, False)
    rec.mark(1.0, Attention.NO_FACE, False)
    rec.mark(1.0, Attention.FOCUSED, False)
    assert rec.finish(2.0).timeline == (TimelineSegment(0, Attention.FOCUSED, False),)


def test_out_of_order_mark_is_refused() -> None:
    """A mark older than the last one raises."""
    rec = recorder(t0=0.0)
    rec.mark(5.0, Attention.FOCUSED, False)
    with pytest.raises(GhostRecorderError):
        rec.mark(4.0, Attention.NO_FACE, False)
    assert len(rec.finish(6.0).timeline) == 2


def test_segment_and_focus_lookups_for_pace() -> None:
    """segment_at and focused_seconds_at read the timeline (asleep time is not focus)."""
    rec = recorder(t0=0.0)
    rec.mark(0.0, Attention.FOCUSED, False)
    rec.mark(10.0, Attention.LOOKING_DOWN, False)
    rec.mark(25.0, Attention.FOCUSED, True)
    rec.mark(27.0, Attention.FOCUSED, False)
    ghost = rec.finish(40.0)
    assert ghost.segment_at(12.0).attention is Attention.LOOKING_DOWN
    assert ghost.segment_at(-1.0).t_ms == 0
    assert ghost.segment_at(99.0).t_ms == 27000
    assert ghost.focused_seconds_at(5.0) == 5.0
    assert ghost.focused_seconds_at(26.0) == 10.0
    assert ghost.focused_seconds_at(30.0) == 13.0
    assert ghost.focused_seconds_at(1e9) == 23.0


def test_damage_is_sampled_each_second_and_interpolated_on_replay() -> None:
    """Reports every 100 ms become 1 s samples; damage_at interpolates, clamps, stays flat after."""
    rec = recorder(t0=0.0)
    for i in range(1, 101):
        rec.record_damage(i / 10, i * 1.25)  # 12.5 damage per second for 10 s
    ghost = rec.finish(12.5)
    assert ghost.damage == (*(1250 * s for s in range(11)), 12500, 12500, 12500)
    assert ghost.damage_at(2.5) == pytest.approx(31.25)
    assert ghost.damage_at(-3.0) == 0.0
    assert ghost.damage_at(11.0) == 125.0
    assert ghost.damage_at(1e6) == 125.0


def test_damage_in_the_last_partial_second_is_kept() -> None:
    """A ghost ending mid-second still deals everything recorded up to its end."""
    rec = recorder(t0=0.0)
    rec.record_damage(2.4, 24.0)
    ghost = rec.finish(2.5)
    assert ghost.damage == (0, 1000, 2000, 2400)
    assert ghost.damage_at(2.5) == 24.0
    assert ghost.damage_at(2.25) == pytest.approx(22.0)


def test_damage_keeps_hundredths_exactly() -> None:
    """Damage is stored in 1/100 points: 0.01 survives the round trip."""
    rec = recorder(t0=0.0)
    rec.record_damage(1.0, 0.01)
    rec.record_damage(2.0, 1234.56)
    ghost = decode_ghost(encode_ghost(rec.finish(2.0)))
    assert ghost.damage == (0, 1, 123456)
    assert ghost.damage_at(2.0) == 1234.56


def test_decreasing_damage_is_refused() -> None:
    """Cumulative damage cannot go down; the refused report changes nothing."""
    rec = recorder(t0=0.0)
    rec.record_damage(1.0, 10.0)
    with pytest.raises(GhostRecorderError):
        rec.record_damage(2.0, 9.0)
    assert rec.finish(2.0).damage == (0, 1000, 1000)


def test_frame_at_returns_the_last_frame_before() -> None:
    """frame_at(t) is the latest frame at or before t, None before the first."""
    rec = recorder(t0=0.0)
    for i in range(5):
        rec.add_sample(face(0.05 + i * 0.1, 0.1 * i))
    ghost = rec.finish(1.0)
    assert ghost.frame_at(0.0) is None
    assert ghost.frame_at(0.05) is ghost.frames[0]
    assert ghost.frame_at(0.2) is ghost.frames[1]
    assert ghost.frame_at(0.25) is ghost.frames[2]
    assert ghost.frame_at(100.0) is ghost.frames[4]


def test_frame_converts_back_to_a_face_sample() -> None:
    """to_sample gives a valid FaceSample with dequantised values."""
    rec = recorder(t0=0.0)
    rec.add_sample(face(0.5, 0.4, yaw=-179.96))
    sample = rec.finish(1.0).frames[0].to_sample()
    assert sample.t == 0.5
    assert sample.yaw == -180.0
    assert sample.weight("jawOpen") == quantize(0.4) / 255


# ---------------------------------------------------------------- round trip


@st.composite
def recordings(draw: st.DrawFn) -> GhostRecording:
    """Arbitrary valid ghost recordings (short)."""
    duration = draw(st.integers(0, 20_000))
    cuts = sorted(draw(st.sets(st.integers(1, max(duration, 1)), max_size=8)))
    cuts = [c for c in cuts if c <= duration]
    states = st.tuples(st.sampled_from(list(Attention)), st.booleans())
    timeline: list[TimelineSegment] = []
    for t_ms in [0, *cuts]:
        state = draw(
            states.filter(
                lambda s: not timeline or s != (timeline[-1].attention, timeline[-1].asleep)
            )
        )
        timeline.append(TimelineSegment(t_ms, *state))
    n_damage = damage_sample_count(duration)
    steps = draw(st.lists(st.integers(0, 10**7), min_size=n_damage, max_size=n_damage))
    damage = []
    total = 0
    for s in steps:
        total += s
        damage.append(total)
    times = sorted(draw(st.sets(st.integers(0, duration), max_size=12)))
    frames = [
        GhostFrame(
            t,
            draw(st.binary(min_size=COUNT, max_size=COUNT)),
            (
                draw(st.integers(-1800, 1800)),
                draw(st.integers(-900, 900)),
                draw(st.integers(-1800, 1800)),
            ),
            draw(st.integers(0, 255)),
            draw(st.booleans()),
        )
        for t in times
    ]
    meta = GhostMeta(
        user_id=draw(st.text(max_size=12)),
        user_name=draw(st.text(max_size=12)),
        subject=draw(st.text(max_size=12)),
        started_at=draw(st.floats(allow_nan=False, allow_infinity=False)),
        duration_ms=duration,
        frame_interval_ms=draw(st.integers(1, 10_000)),
    )
    return GhostRecording(meta, tuple(timeline), tuple(damage), tuple(frames))


@settings(max_examples=150, deadline=None)
@given(recordings(), st.sampled_from(list(Compression)))
def test_encode_decode_round_trips_exactly(rec: GhostRecording, compression: Compression) -> None:
    """decode(encode(r)) == r for any valid recording, with either compressor."""
    blob = encode_ghost(rec, compression)
    assert blob[:4] == MAGIC
    assert blob[5] == compression
    back = decode_ghost(blob)
    assert back == rec
    assert back.meta == rec.meta and back.timeline == rec.timeline
    assert back.damage == rec.damage and back.frames == rec.frames


@settings(max_examples=150, deadline=None)
@given(recordings(), st.floats(-5, 30), st.floats(-5, 30))
def test_replayed_damage_and_focus_never_go_backwards(
    rec: GhostRecording, a: float, b: float
) -> None:
    """damage_at and focused_seconds_at never decrease, so per-tick ghost damage is never < 0."""
    t0, t1 = min(a, b), max(a, b)
    assert rec.damage_at(t1) - rec.damage_at(t0) >= 0.0
    assert rec.focused_seconds_at(t1) >= rec.focused_seconds_at(t0)
    assert rec.damage_at(t1) <= rec.damage[-1] / 100
    assert rec.damage_at(rec.duration_s) == rec.damage[-1] / 100


def test_recording_validation_rejects_broken_structure() -> None:
    """A timeline not starting at 0, a repeated state, bad damage or unsorted frames raise."""
    meta = GhostMeta("u", "U", "s", 0.0, 2000)
    seg = TimelineSegment(0, Attention.FOCUSED, False)
    frame = GhostFrame(0, bytes(COUNT), (0, 0, 0), 255, True)
    ok = (0, 1, 2)
    GhostRecording(meta, (seg,), ok, (frame,))
    bad_cases = [
        ((TimelineSegment(5, Attention.FOCUSED, False),), ok, (frame,)),
        ((seg, TimelineSegment(10, Attention.FOCUSED, False)), ok, (frame,)),
        ((seg, TimelineSegment(3000, Attention.NO_FACE, False)), ok, (frame,)),
        ((), ok, (frame,)),
        ((seg,), (0, 1), (frame,)),
        ((seg,), (0, 2, 1), (frame,)),
        ((seg,), (-1, 0, 1), (frame,)),
        ((seg,), ok, (frame, frame)),
        ((seg,), ok, (GhostFrame(2001, bytes(COUNT), (0, 0, 0), 0, True),)),
    ]
    for timeline, damage, frames in bad_cases:
        with pytest.raises(InvalidGhostError):
            GhostRecording(meta, timeline, damage, frames)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"t_ms": -1},
        {"blendshapes": bytes(51)},
        {"pose": (1801, 0, 0)},
        {"pose": (0, -901, 0)},
        {"confidence_byte": 256},
        {"present": 1},
    ],
)
def test_frame_validation(kwargs: dict[str, object]) -> None:
    """Out-of-range frame fields raise InvalidGhostError."""
    fields: dict[str, object] = {
        "t_ms": 0,
        "blendshapes": bytes(COUNT),
        "pose": (0, 0, 0),
        "confidence_byte": 0,
        "present": True,
    }
    fields.update(kwargs)
    with pytest.raises(InvalidGhostError):
        GhostFrame(**fields)  # type: ignore[arg-type]


def test_meta_validation() -> None:
    """Over-long or unencodable text, NaN start time and bad intervals raise."""
    for kwargs in (
        {"user_id": "x" * 257},
        {"subject": "\ud800"},
        {"started_at": math.nan},
        {"frame_interval_ms": 0},
        {"duration_ms": -1},
    ):
        fields: dict[str, object] = {
            "user_id": "u",
            "user_name": "U",
            "subject": "s",
            "started_at": 0.0,
            "duration_ms": 0,
        }
        fields.update(kwargs)
        with pytest.raises(InvalidGhostError):
            GhostMeta(**fields)  # type: ignore[arg-type]


# -------------------------------------------------------------- strict decoding


def small_ghost() -> GhostRecording:
    """A few seconds of a recorded session with frames, marks and damage."""
    rec = recorder(t0=0.0)
    for i in range(60):
        t = i / 30
        rec.add_sample(face(t, 0.3 + 0.2 * math.sin(t), yaw=10 * math.sin(t)))
        rec.mark(t, Attention.FOCUSED if i < 40 else Attention.LOOKING_UP, False)
        rec.record_damage(t, 5.0 * t)
    return rec.finish(2.5)


def pack(
    body: bytes,
    counts: tuple[int, int, int],
    compression: Compression = Compression.DEFLATE,
    *,
    version: int = 1,
    crc: int | None = None,
) -> bytes:
    """A ghost file around a hand-made body (valid header and checksum unless overridden)."""
    if compression is Compression.DEFLATE:
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        data = packer.compress(body) + packer.flush()
    else:
        data = lzma.compress(
            body, format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA2, "dict_size": 4 << 20}]
        )
    header = HEADER.pack(
        MAGIC, version, compression, *counts, len(body), zlib.crc32(body) if crc is None else crc
    )
    return header + data


def body_of(blob: bytes) -> bytes:
    """The decompressed body of an encoded ghost."""
    assert blob[5] == Compression.DEFLATE
    return zlib.decompress(blob[HEADER.size :], -15)


def counts_of(rec: GhostRecording) -> tuple[int, int, int]:
    """Frame, segment and damage counts, as the header carries them."""
    return len(rec.frames), len(rec.timeline), len(rec.damage)


@pytest.mark.parametrize("compression", list(Compression))
def test_every_truncation_is_a_format_error(compression: Compression) -> None:
    """Every proper prefix of a valid ghost raises GhostFormatError."""
    blob = encode_ghost(small_ghost(), compression)
    for n in range(len(blob)):
        with pytest.raises(GhostFormatError):
            decode_ghost(blob[:n])


@pytest.mark.parametrize("compression", list(Compression))
def test_trailing_bytes_are_a_format_error(compression: Compression) -> None:
    """Bytes after the compressed stream raise GhostFormatError."""
    blob = encode_ghost(small_ghost(), compression)
    with pytest.raises(GhostFormatError):
        decode_ghost(blob + b"\0")


@pytest.mark.parametrize(
    ("offset", "value"),
    [(0, ord("X")), (4, 0), (4, 2), (5, 0), (5, 3), (6, 0xFF), (18, 0x00), (22, 0x55)],
)
def test_bad_header_fields_are_format_errors(offset: int, value: int) -> None:
    """Bad magic, unknown version or compressor, wrong counts, length or checksum raise."""
    blob = bytearray(encode_ghost(small_ghost(), Compression.DEFLATE))
    assert blob[offset] != value
    blob[offset] = value
    with pytest.raises(GhostFormatError):
        decode_ghost(bytes(blob))


def test_counts_beyond_the_limits_are_refused_before_decompressing() -> None:
    """A header claiming more than MAX_FRAMES frames is refused outright."""
    blob = bytearray(encode_ghost(small_ghost()))
    struct.pack_into("<I", blob, 6, MAX_FRAMES + 1)
    with pytest.raises(GhostFormatError, match="limits"):
        decode_ghost(bytes(blob))


def test_decompression_bomb_is_refused() -> None:
    """A tiny file declaring a huge body, or inflating past its declared length, is refused."""
    zeros = bytes(5_000_000)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = packer.compress(zeros) + packer.flush()
    assert len(bomb) < 10_000
    too_long = HEADER.pack(MAGIC, 1, Compression.DEFLATE, 10, 1, 1, len(zeros), 0) + bomb
    with pytest.raises(GhostFormatError, match="too large"):
        decode_ghost(too_long)
    declared = max_body_length(10, 1, 1)
    understated = HEADER.pack(MAGIC, 1, Compression.DEFLATE, 10, 1, 1, declared, 0) + bomb
    with pytest.raises(GhostFormatError, match="exactly"):
        decode_ghost(understated)


def test_checksum_mismatch_is_a_format_error() -> None:
    """A body that decompresses fine but does not match its CRC raises."""
    rec = small_ghost()
    body = body_of(encode_ghost(rec, Compression.DEFLATE))
    assert decode_ghost(pack(body, counts_of(rec))) == rec
    with pytest.raises(GhostFormatError, match="checksum"):
        decode_ghost(pack(body, counts_of(rec), crc=zlib.crc32(body) ^ 1))


@pytest.mark.parametrize("compression", list(Compression))
def test_hand_packed_bodies_decode_with_either_compressor(compression: Compression) -> None:
    """The test packer agrees with the encoder, so the malformed-body tests below mean something."""
    rec = small_ghost()
    body = body_of(encode_ghost(rec, Compression.DEFLATE))
    assert decode_ghost(pack(body, counts_of(rec), compression)) == rec


def test_inconsistent_bodies_are_format_errors() -> None:
    """Extra or missing body bytes, bad codes, bad flags and wrong counts raise GhostFormatError."""
    rec = small_ghost()
    body = body_of(encode_ghost(rec, Compression.DEFLATE))
    n_frames, n_segments, n_damage = counts_of(rec)
    text_len = 1 + 3 + 1 + 3 + 1 + 5  # "u-1", "Sam", "maths" with their length bytes
    after_meta = text_len + 8 + 2 + 1  # started_at, duration 2500 (2 bytes), interval 100 (1 byte)
    seg_deltas = [rec.timeline[0].t_ms] + [b.t_ms - a.t_ms for a, b in pairwise(rec.timeline)]
    state_at = after_meta + sum(max(1, -(-d.bit_length() // 7)) for d in seg_deltas)
    bad_bodies = {
        "extra byte": (body + b"\0", counts_of(rec)),
        "missing byte": (body[:-1], counts_of(rec)),
        "frame count off": (body, (n_frames - 1, n_segments, n_damage)),
        "segment count off": (body, (n_frames, n_segments + 1, n_damage)),
        "damage count off": (body, (n_frames, n_segments, n_damage - 1)),
        "unknown attention": (body[:state_at] + b"\x7f" + body[state_at + 1 :], counts_of(rec)),
        "present flag 2": (body[:-1] + b"\x02", counts_of(rec)),
        "bad utf-8": (b"\x01\xff" + body[2:], counts_of(rec)),
        "non-canonical varint": (b"\x83\x00" + body[1:], counts_of(rec)),
        "text too long": (b"\xff\x7f" + body[1:], counts_of(rec)),
    }
    assert body[state_at : state_at + 2] == bytes([0, 3])  # the state bytes: FOCUSED, LOOKING_UP
    for name, (bad, counts) in bad_bodies.items():
        try:
            decode_ghost(pack(bad, counts))
        except GhostFormatError:
            continue
        pytest.fail(f"{name}: decoded without an error")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_are_format_errors(data: bytes) -> None:
    """Arbitrary bytes raise GhostFormatError and nothing else."""
    with pytest.raises(GhostFormatError):
        decode_ghost(data)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(list(Compression)), st.integers(0, 2**32 - 1), st.binary(max_size=300))
def test_random_payloads_behind_a_valid_header_prefix_are_format_errors(
    compression: Compression, counts_seed: int, payload: bytes
) -> None:
    """Random counts and compressed bytes behind good magic/version raise GhostFormatError."""
    header = MAGIC + bytes([1, compression]) + counts_seed.to_bytes(4, "little") * 4
    with pytest.raises(GhostFormatError):
        decode_ghost(header + payload)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.integers(0, 8), st.integers(0, 4), st.integers(0, 4))
def test_random_bodies_with_a_valid_header_are_format_errors(
    body: bytes, n_frames: int, n_segments: int, n_damage: int
) -> None:
    """Random bodies behind a correct header and checksum raise GhostFormatError only."""
    with pytest.raises(GhostFormatError):
        decode_ghost(pack(body, (n_frames, n_segments, n_damage)))


SMALL_BODY = body_of(encode_ghost(small_ghost(), Compression.DEFLATE))


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_mutated_bodies_fail_or_decode_to_a_valid_recording(data: st.DataObject) -> None:
    """Byte changes in a checksummed body raise GhostFormatError or give a valid recording."""
    body = bytearray(SMALL_BODY)
    for _ in range(data.draw(st.integers(1, 3))):
        body[data.draw(st.integers(0, len(body) - 1))] ^= data.draw(st.integers(1, 255))
    try:
        rec = decode_ghost(pack(bytes(body), counts_of(small_ghost())))
    except GhostFormatError:
        return
    assert decode_ghost(encode_ghost(rec)) == rec


VALID = {c: encode_ghost(small_ghost(), c) for c in Compression}


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(list(Compression)), st.data())
def test_corrupted_ghosts_fail_or_decode_unchanged(
    compression: Compression, data: st.DataObject
) -> None:
    """Changing bytes of a valid ghost raises GhostFormatError or (padding bits) changes nothing."""
    blob = bytearray(VALID[compression])
    for _ in range(data.draw(st.integers(1, 4))):
        blob[data.draw(st.integers(0, len(blob) - 1))] ^= data.draw(st.integers(1, 255))
    try:
        decoded = decode_ghost(bytes(blob))
    except GhostFormatError:
        return
    assert decoded == small_ghost()


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(list(Compression)), st.data())
def test_truncated_or_extended_ghosts_are_format_errors(
    compression: Compression, data: st.DataObject
) -> None:
    """Cutting a valid ghost short or appending to it raises GhostFormatError."""
    blob = VALID[compression]
    cut = data.draw(st.integers(0, len(blob) - 1))
    with pytest.raises(GhostFormatError):
        decode_ghost(blob[:cut])
    with pytest.raises(GhostFormatError):
        decode_ghost(blob + data.draw(st.binary(min_size=1, max_size=20)))


# ---------------------------------------------------------------- one hour


@pytest.fixture(scope="module")
def hour() -> tuple[list[FaceSample], GhostRecording]:
    """bench/ghost.py's simulated hour (30 fps, smooth motion plus sensor noise), recorded."""
    bench = load_bench()
    samples = bench.simulate_session(3600.0, fps=30.0, seed=0)
    return samples, bench.record_session(samples)


@pytest.mark.slow
def test_an_hour_fits_the_storage_budget(hour: tuple[list[FaceSample], GhostRecording]) -> None:
    """One simulated hour at 30 fps, downsampled to 10 Hz, encodes to ≤ 0.5 MB and decodes equal."""
    samples, rec = hour
    assert len(samples) == 108_000
    assert 35_990 <= len(rec.frames) <= 36_000
    blob = encode_ghost(rec)
    assert len(blob) <= BUDGET_BYTES_PER_HOUR
    assert decode_ghost(blob) == rec


@pytest.mark.slow
def test_an_hours_frames_stay_within_tolerance(
    hour: tuple[list[FaceSample], GhostRecording],
) -> None:
    """Every frame of the simulated hour is within the documented tolerance of its source sample."""
    samples, rec = hour
    t0 = samples[0].t
    shifted = [
        FaceSample(s.t - t0 + 50.0, s.blendshapes, s.yaw, s.pitch, s.roll, s.confidence, s.present)
        for s in samples[:3000]
    ]
    assert_frames_match_samples(rec.frames[:1000], shifted)
    assert rec.frames[0].blendshapes[INDEX["eyeBlinkLeft"]] == quantize(
        samples[0].weight("eyeBlinkLeft")
    )


def _quantized_recorder() -> GhostRecorder:
    return GhostRecorder(user_id="u1", user_name="ada", subject="maths", started_at=0.0, t0=0.0)


@pytest.mark.parametrize(
    ("shapes", "pose", "confidence", "present"),
    [
        (bytes(COUNT - 1), (0, 0, 0), 255, True),
        (bytearray(COUNT), (0, 0, 0), 255, True),
        (bytes(COUNT), (1801, 0, 0), 255, True),
        (bytes(COUNT), (0, -901, 0), 255, True),
        (bytes(COUNT), (0, 0, True), 255, True),
        (bytes(COUNT), (0, 0, 0.0), 255, True),
        (bytes(COUNT), (0, 0), 255, True),
        (bytes(COUNT), (0, 0, 0), 256, True),
        (bytes(COUNT), (0, 0, 0), 255, 1),
    ],
    ids=[
        "short",
        "bytearray",
        "yaw",
        "pitch",
        "bool-roll",
        "float-roll",
        "two-angles",
        "confidence",
        "present",
    ],
)
def test_add_quantized_refuses_what_a_frame_cannot_hold(
    shapes: object, pose: object, confidence: object, present: object
) -> None:
    """The relay's quantised entry point checks every value and, refusing one, keeps nothing."""
    rec = _quantized_recorder()
    assert rec.add_quantized(0.0, bytes(COUNT), (10, -20, 30), 200, True)
    with pytest.raises(GhostRecorderError):
        rec.add_quantized(0.2, shapes, pose, confidence, present)  # type: ignore[arg-type]
    assert rec.frame_count == 1
    frames = rec.finish(0.3).frames
    assert [(f.t_ms, f.pose, f.confidence_byte) for f in frames] == [(0, (10, -20, 30), 200)]


def test_add_quantized_records_the_same_as_add_sample() -> None:
    """Handing over a frame's quantised values records exactly what the sample would."""
    sample = FaceSample(
        t=0.25,
        blendshapes=tuple(i / 60 for i in range(COUNT)),
        yaw=12.34,
        pitch=-5.55,
        roll=0.04,
        confidence=0.8,
    )
    a, b = _quantized_recorder(), _quantized_recorder()
    a.add_sample(sample)
    b.add_quantized(
        0.25,
        bytes(quantize(w) for w in sample.blendshapes),
        (round(12.34 * 10), round(-5.55 * 10), round(0.04 * 10)),
        quantize(0.8),
        True,
    )
    assert a.finish(1.0) == b.finish(1.0)
