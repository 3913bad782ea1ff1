"""The relay's cheaper per-frame paths give exactly what the general paths give."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.blendshapes import COUNT, INDEX, quantize
from shared.codec import (
    FrameDecodeError,
    decode_frame,
    decode_relay_frame,
)
from shared.face import FaceSample
from shared.focus import FocusAnalyzer, GuardState

FRAME_HEADS = st.sampled_from([0x10, 0x11, 0x12, 0x00, 0x21, 0x1F])
"""Header bytes: the two valid ones and a few with a wrong version or reserved bits."""


def _frame_bytes(head: int, body: bytes) -> bytes:
    return bytes((head,)) + body


@settings(max_examples=400, deadline=None)
@given(head=FRAME_HEADS, body=st.binary(min_size=63, max_size=63), t=st.floats(0.0, 1e9))
def test_relay_decode_matches_the_general_decoder(head: int, body: bytes, t: float) -> None:
    """A relay decodes every 64-byte frame to the same seq, sample and error as the general path."""
    data = _frame_bytes(head, body)
    try:
        frame = decode_frame(data)
        sample = frame.to_sample(t)
    except FrameDecodeError as exc:
        with pytest.raises(FrameDecodeError) as caught:
            decode_relay_frame(data, t)
        assert str(caught.value) == str(exc)
        return
    seq, relay_sample, shapes, conf_byte = decode_relay_frame(data, t)
    assert seq == frame.seq
    assert relay_sample == sample
    assert shapes == bytes(frame.blendshapes)
    assert conf_byte == quantize(frame.confidence)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x11" * 63,
        b"\x11" * 65,
        bytearray(b"\x11" * 64),
        memoryview(b"\x10" * 64),
        "text",
        # The top code of each pose field is invalid: yaw, pitch, roll in turn.
        b"\x11" + bytes(59) + (2047 << 21 | 511 << 11 | 1023).to_bytes(4, "big"),
        b"\x10" + bytes(59) + (1023 << 21 | 1023 << 11 | 1023).to_bytes(4, "big"),
        b"\x11" + bytes(59) + (1023 << 21 | 511 << 11 | 2047).to_bytes(4, "big"),
        b"\x11" + bytes(59) + (2046 << 21 | 1022 << 11 | 2046).to_bytes(4, "big"),
    ],
)
def test_relay_decode_refuses_like_decode_frame(data: object) -> None:
    """Wrong sizes, buffer types and non-bytes are refused with decode_frame's own message."""
    try:
        expected: str | None = repr(decode_frame(data))  # type: ignore[arg-type]
    except FrameDecodeError as exc:
        expected = str(exc)
        with pytest.raises(FrameDecodeError) as caught:
            decode_relay_frame(data, 1.0)  # type: ignore[arg-type]
        assert str(caught.value) == expected
    else:
        seq, _sample, _shapes, _conf = decode_relay_frame(data, 1.0)  # type: ignore[arg-type]
        assert seq == decode_frame(data).seq  # type: ignore[arg-type]


def test_prevalidated_sample_equals_a_checked_one() -> None:
    """A sample built without re-validation is the same value as one built the checked way."""
    shapes = tuple(i / (COUNT - 1) for i in range(COUNT))
    fast = FaceSample.prevalidated(2.5, shapes, 10.0, -5.0, 3.0, 0.75, True)
    assert fast == FaceSample(2.5, shapes, 10.0, -5.0, 3.0, 0.75, True)
    assert (fast.t, fast.yaw, fast.pitch, fast.roll, fast.confidence) == (
        2.5,
        10.0,
        -5.0,
        3.0,
        0.75,
    )


def _scripted_stream() -> list[FaceSample]:
    """15 fps of focus, a long look away (flag, sleep), closed eyes, a furrowed brow, gaps."""
    closed = [0.0] * COUNT
    closed[INDEX["eyeBlinkLeft"]] = closed[INDEX["eyeBlinkRight"]] = 0.9
    furrowed = [0.0] * COUNT
    furrowed[INDEX["browDownLeft"]] = furrowed[INDEX["browDownRight"]] = 0.8
    samples: list[FaceSample] = []
    t = 0.0
    for i in range(1500):
        t += 1.0 / 15.0 if i % 97 else 2.0  # an occasional gap longer than the gap cap
        phase = (i // 150) % 5
        if phase == 0:
            samples.append(FaceSample(t))
        elif phase == 1:
            samples.append(FaceSample(t, yaw=45.0))
        elif phase == 2:
            samples.append(FaceSample(t, blendshapes=tuple(closed)))
        elif phase == 3:
            samples.append(FaceSample(t, blendshapes=tuple(furrowed)))
        else:
            samples.append(FaceSample.absent(t) if i % 3 else FaceSample(t, confidence=0.1))
    return samples


def test_update_attention_changes_the_analyser_exactly_like_update() -> None:
    """The relay's result-free update leaves score, state, episodes and summary as update() does."""
    full, lean = FocusAnalyzer(), FocusAnalyzer()
    states: set[GuardState] = set()
    for sample in _scripted_stream():
        result = full.update(sample)
        assert lean.update_attention(sample) is result.attention
        assert (lean.state, lean.score) == (result.state, result.score)
        states.add(result.state)
    assert len(states) == 2  # the stream did put the student to sleep and wake them
    assert full.confusion_episodes and lean.confusion_episodes == full.confusion_episodes
    assert lean.summary() == full.summary()
