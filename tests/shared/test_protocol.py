"""The wire protocol: strict frozen models, a registry of every event, and parsing that only ever
returns a model or raises ProtocolError."""

from __future__ import annotations

import json
import math
import pickle
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from shared.face import Attention, FaceSample
from shared.protocol import (
    EVENTS,
    HTTP_ENDPOINTS,
    HTTP_STATUS,
    MAX_BATCH_BYTES,
    MAX_FRAME_BYTES,
    MAX_HTTP_JSON_BYTES,
    MAX_JSON_BYTES,
    MAX_LISTED,
    MAX_MESSAGE_CHARS,
    MAX_ROOM_MEMBERS,
    PROTOCOL_VERSION,
    AddGhost,
    Auth,
    AuthResponse,
    BattleMember,
    BattleState,
    BinaryBody,
    BinaryPayload,
    CognitiveLoadReport,
    CreateRoom,
    Direction,
    ErrorAck,
    ErrorCode,
    ErrorEvent,
    ErrorInfo,
    FinishRoom,
    Friend,
    FriendList,
    FriendRequest,
    GhostAdded,
    GhostInfo,
    GhostList,
    JoinRoom,
    LeaveRoom,
    LoginRequest,
    Member,
    MemberResult,
    Ok,
    Outcome,
    PauseRoom,
    Plan,
    ProtocolError,
    RegisterRequest,
    Results,
    ResumeRoom,
    RoomCreated,
    RoomInfo,
    RoomJoined,
    RoomList,
    RoomState,
    StartRoom,
    StreakGoal,
    StreakReport,
    SubjectLoad,
    TimerState,
    WireModel,
    dump,
    error_event,
    error_payload,
    parse_auth,
    parse_event,
    parse_model,
)
from shared.timer import Phase

ROOT = Path(__file__).parents[2]
DOC = ROOT / "docs" / "protocol.md"

TOKEN = "tok_" + "A" * 28
T0 = 1_717_000_000_000  # an epoch-ms instant in 2024

PLAN = Plan(focus_s=1500, break_s=300, rounds=4)
ALICE = Member(
    member_id="u-alice",
    username="alice",
    slot=0,
    connected=True,
    asleep=False,
    attention=Attention.FOCUSED,
    is_ghost=False,
)
SAM_GHOST = Member(
    member_id="g-42",
    username="sam",
    slot=1,
    connected=True,
    asleep=False,
    attention=Attention.LOOKING_LEFT,
    is_ghost=True,
)
INFO = ErrorInfo(code=ErrorCode.ROOM_FULL, message="room ABCD has no free seat")
BM = BattleMember(
    member_id="u-alice", damage=120.5, dps=10.0, penalty=0.0, is_ghost=False, asleep=False
)
MR = MemberResult(
    member_id="u-alice",
    username="alice",
    is_ghost=False,
    damage=9000.0,
    share=1.0,
    focused_seconds=1450.5,
    xp=36,
    streak_days=4,
)
FRIEND = Friend(user_id="u-sam", username="sam", mutual=True)
SUBJECT = SubjectLoad(
    subject="Organic chemistry",
    sessions=3,
    focused_seconds=5400.0,
    confusion_moments=12,
    confusion_per_hour=8.0,
)
GHOST = GhostInfo(
    ghost_id="s-1001",
    owner_id="u-sam",
    owner_username="sam",
    subject="Maths",
    started_at=T0,
    duration_s=1500.0,
    focused_seconds=1200.0,
    total_damage=12000.0,
)
ROOM_INFO = RoomInfo(
    room_id="ABCD12",
    name="Night owls",
    subject="Maths",
    host_id="u-alice",
    host_username="alice",
    members=2,
    capacity=8,
    phase=Phase.LOBBY,
    boss_kind="slime",
    host_is_friend=True,
)

# One valid instance of every JSON model; test_every_model_has_a_sample keeps this complete.
SAMPLES: dict[type[WireModel], WireModel] = {
    m.__class__: m
    for m in [
        Auth(token=TOKEN, protocol_version=PROTOCOL_VERSION),
        PLAN,
        CreateRoom(name="Night owls", subject="Maths", plan=PLAN, boss="slime", max_members=5),
        JoinRoom(room_id="ABCD12"),
        LeaveRoom(),
        StartRoom(),
        PauseRoom(),
        ResumeRoom(),
        FinishRoom(),
        AddGhost(ghost_id="s-1001"),
        Ok(),
        RoomCreated(room_id="ABCD12"),
        RoomJoined(room_id="ABCD12", member_id="u-alice", slot=0),
        GhostAdded(member_id="g-42", slot=1),
        ALICE,
        RoomState(
            room_id="ABCD12",
            name="Night owls",
            subject="Maths",
            host_id="u-alice",
            phase=Phase.FOCUS,
            members=(ALICE, SAM_GHOST),
            max_members=8,
            plan=PLAN,
            boss_kind="slime",
        ),
        TimerState(
            room_id="ABCD12",
            phase=Phase.FOCUS,
            round=2,
            rounds=4,
            end_time=T0 + 600_000,
            server_time=T0,
            paused=True,
            pause_reasons=("host", "asleep"),
            remaining_ms=600_000,
        ),
        BM,
        BattleState(
            room_id="ABCD12",
            boss_kind="golem",
            boss_hp=5000.0,
            boss_max_hp=20000.0,
            dps=8.0,
            penalty=0.2,
            members=(BM,),
            outcome=Outcome.ONGOING,
            server_time=T0,
        ),
        MR,
        Results(
            room_id="ABCD12",
            boss_kind="golem",
            outcome=Outcome.VICTORY,
            members=(MR,),
            mvp="u-alice",
        ),
        INFO,
        ErrorAck(error=INFO),
        ErrorEvent(error=INFO, event="room:join"),
        RegisterRequest(username="alice", password="correct horse"),
        LoginRequest(username="alice", password="correct horse"),
        AuthResponse(token=TOKEN, user_id="u-alice", username="alice", expires_at=T0 + 86_400_000),
        FriendRequest(username="sam"),
        FRIEND,
        FriendList(friends=(FRIEND,)),
        StreakGoal(
            goal_minutes=90,
            timezone="America/New_York",
            rest_days=(date(2024, 3, 10), date(2024, 12, 25)),
        ),
        StreakReport(
            current=4,
            longest=9,
            today=date(2024, 5, 29),
            today_minutes=30.5,
            goal_minutes=90,
            goal_met_today=False,
            rest_today=False,
        ),
        SUBJECT,
        CognitiveLoadReport(subjects=(SUBJECT,)),
        GHOST,
        GhostList(ghosts=(GHOST,)),
        ROOM_INFO,
        RoomList(rooms=(ROOM_INFO,)),
    ]
}

REQUIRED_EVENTS = {
    "room:create": Direction.CLIENT_TO_SERVER,
    "room:join": Direction.CLIENT_TO_SERVER,
    "room:leave": Direction.CLIENT_TO_SERVER,
    "room:start": Direction.CLIENT_TO_SERVER,
    "room:pause": Direction.CLIENT_TO_SERVER,
    "room:resume": Direction.CLIENT_TO_SERVER,
    "room:finish": Direction.CLIENT_TO_SERVER,
    "frame": Direction.CLIENT_TO_SERVER,
    "ghost:add": Direction.CLIENT_TO_SERVER,
    "room:state": Direction.SERVER_TO_CLIENT,
    "timer": Direction.SERVER_TO_CLIENT,
    "battle": Direction.SERVER_TO_CLIENT,
    "frames": Direction.SERVER_TO_CLIENT,
    "error": Direction.SERVER_TO_CLIENT,
}

JSON_EVENTS = sorted(n for n, s in EVENTS.items() if not s.is_binary)
BINARY_EVENTS = sorted(n for n, s in EVENTS.items() if s.is_binary)


def _all_models() -> list[type[WireModel]]:
    seen: list[type[WireModel]] = []
    todo = list(WireModel.__subclasses__())
    while todo:
        cls = todo.pop()
        if cls not in seen:
            seen.append(cls)
            todo.extend(cls.__subclasses__())
    return sorted(seen, key=lambda c: c.__name__)


ALL_MODELS = _all_models()


def _event_sample(name: str) -> WireModel:
    model = EVENTS[name].model
    assert isinstance(model, type)
    return SAMPLES[model]


def _rejects(name: str, payload: object) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        parse_event(name, payload)
    return info.value


def _with(sample: WireModel, **changes: object) -> dict[str, Any]:
    data = dump(sample)
    data.update(changes)
    return data


# --- models -------------------------------------------------------------------------------------


def test_protocol_version_is_one() -> None:
    """The protocol version the CLI prints and room:state carries is 1."""
    assert PROTOCOL_VERSION == 1
    assert dump(SAMPLES[RoomState])["protocol_version"] == 1


def test_every_model_has_a_sample() -> None:
    """Every JSON wire model (events, acks, nested parts, HTTP bodies) is exercised by these tests."""
    assert set(ALL_MODELS) == set(SAMPLES)


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_model_round_trips_through_its_json_dump(model: type[WireModel]) -> None:
    """model_validate(dump(m)) == m, also after a real JSON text round trip."""
    sample = SAMPLES[model]
    assert model.model_validate(dump(sample)) == sample
    assert parse_model(model, json.loads(json.dumps(dump(sample), allow_nan=False))) == sample


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_unknown_fields_are_rejected(model: type[WireModel]) -> None:
    """An extra field is a bad_request that names the field."""
    with pytest.raises(ProtocolError) as info:
        parse_model(model, _with(SAMPLES[model], surprise=1))
    assert info.value.code is ErrorCode.BAD_REQUEST
    assert "surprise" in info.value.message


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_models_are_frozen(model: type[WireModel]) -> None:
    """Assigning to any field of a model raises and leaves it unchanged."""
    sample = SAMPLES[model]
    before = dump(sample)
    for name in list(model.model_fields) or ["anything"]:
        with pytest.raises(ValidationError):
            setattr(sample, name, None)
    assert dump(sample) == before


@pytest.mark.parametrize("model", ALL_MODELS, ids=lambda m: m.__name__)
def test_every_field_and_model_is_documented(model: type[WireModel]) -> None:
    """Every model has a docstring and every field a non-empty description."""
    assert model.__doc__ and model.__doc__.strip()
    undocumented = [n for n, f in model.model_fields.items() if not (f.description or "").strip()]
    assert undocumented == []


def test_strings_are_trimmed_but_passwords_are_kept_verbatim() -> None:
    """Whitespace around names is stripped; a password keeps its spaces."""
    room = parse_event("room:create", {"name": "  Night owls ", "subject": "\tMaths\n"})
    assert isinstance(room, CreateRoom)
    assert (room.name, room.subject) == ("Night owls", "Maths")
    body = parse_model(RegisterRequest, {"username": " alice ", "password": "  pass word  "})
    assert body.username == "alice" and body.password == "  pass word  "


def test_passwords_and_tokens_do_not_show_in_repr() -> None:
    """Secrets stay out of logs that print models."""
    assert "correct horse" not in repr(SAMPLES[RegisterRequest])
    assert TOKEN not in repr(SAMPLES[AuthResponse])


def test_defaults_of_optional_fields() -> None:
    """room:create defaults: server-chosen plan and boss, eight seats; TimerState has no reasons."""
    room = parse_event("room:create", {"name": "a", "subject": "b"})
    assert room == CreateRoom(name="a", subject="b", plan=None, boss=None, max_members=8)
    assert Plan() == Plan(focus_s=1500, break_s=300, rounds=4)
    assert Auth(token=TOKEN).protocol_version is None


# --- rejection of bad values ----------------------------------------------------------------------

NAN, INF = math.nan, math.inf
BAD_VALUES: list[tuple[str, dict[str, Any], str]] = [
    ("battle", {"boss_hp": NAN}, "boss_hp"),
    ("battle", {"boss_hp": INF}, "boss_hp"),
    ("battle", {"dps": -1.0}, "dps"),
    ("battle", {"penalty": 1.5}, "penalty"),
    ("battle", {"boss_hp": 1e13}, "boss_hp"),
    ("battle", {"boss_max_hp": 0.0, "boss_hp": 0.0}, "boss_max_hp"),
    ("battle", {"outcome": "won"}, "outcome"),
    ("battle", {"members": [{**dump(BM), "damage": -INF}]}, "members[0].damage"),
    ("battle", {"members": [{**dump(BM), "penalty": NAN}]}, "members[0].penalty"),
    ("timer", {"server_time": 2**53}, "server_time"),
    ("timer", {"server_time": -1}, "server_time"),
    ("timer", {"rounds": 13}, "rounds"),
    ("timer", {"round": "2"}, "round"),
    ("timer", {"round": 2.0}, "round"),
    ("timer", {"paused": 1}, "paused"),
    ("timer", {"phase": "nap"}, "phase"),
    ("timer", {"remaining_ms": NAN}, "remaining_ms"),
    ("room:state", {"members": [{**dump(ALICE), "slot": 256}]}, "members[0].slot"),
    ("room:state", {"members": [{**dump(ALICE), "attention": "asleep"}]}, "members[0].attention"),
    ("room:state", {"members": [{**dump(ALICE), "username": "al"}]}, "members[0].username"),
    ("room:state", {"max_members": MAX_ROOM_MEMBERS + 1}, "max_members"),
    ("room:state", {"name": "x" * 41}, "name"),
    ("room:state", {"name": "   "}, "name"),
    ("room:state", {"subject": "bad\x00name"}, "subject"),
    ("room:state", {"boss_kind": "Slime"}, "boss_kind"),
    ("room:state", {"plan": {"focus_s": 0, "break_s": 300, "rounds": 4}}, "plan.focus_s"),
    ("room:state", {"room_id": "no spaces"}, "room_id"),
    ("room:create", {"plan": {"rounds": NAN}}, "plan.rounds"),
    ("room:create", {"max_members": 0}, "max_members"),
    ("room:create", {"name": 7}, "name"),
    ("room:join", {"room_id": None}, "room_id"),
    ("ghost:add", {"ghost_id": "-starts-with-dash"}, "ghost_id"),
    ("error", {"event": "not an event!"}, "event"),
    ("error", {"error": {"code": "teapot", "message": "x"}}, "error.code"),
    ("error", {"error": {"code": "internal", "message": ""}}, "error.message"),
    ("room:results", {"members": [{**dump(MR), "xp": -1}]}, "members[0].xp"),
    ("room:results", {"members": [{**dump(MR), "share": INF}]}, "members[0].share"),
]


@pytest.mark.parametrize(("event", "changes", "field"), BAD_VALUES)
def test_bad_values_are_bad_requests_naming_the_field(
    event: str, changes: dict[str, Any], field: str
) -> None:
    """NaN, infinities, out-of-range, mistyped and malformed values are rejected with their path."""
    error = _rejects(event, _with(_event_sample(event), **changes))
    assert error.code is ErrorCode.BAD_REQUEST
    assert f"'{field}'" in error.message


@pytest.mark.parametrize(
    ("model", "changes", "field"),
    [
        (RegisterRequest, {"username": "ab"}, "username"),
        (RegisterRequest, {"username": "a" * 33}, "username"),
        (RegisterRequest, {"username": "bad name"}, "username"),
        (RegisterRequest, {"password": "short"}, "password"),
        (RegisterRequest, {"password": "x" * 129}, "password"),
        (LoginRequest, {"password": None}, "password"),
        (StreakGoal, {"goal_minutes": 0}, "goal_minutes"),
        (StreakGoal, {"goal_minutes": 1441}, "goal_minutes"),
        (StreakGoal, {"timezone": "Mars/Olympus_Mons"}, "timezone"),
        (StreakGoal, {"timezone": "../../etc/passwd"}, "timezone"),
        (StreakGoal, {"timezone": "America"}, "timezone"),
        (StreakGoal, {"timezone": "localtime"}, "timezone"),
        (StreakGoal, {"rest_days": ["2024-02-30"]}, "rest_days[0]"),
        (StreakGoal, {"rest_days": ["2024-03-10T00:00:00"]}, "rest_days[0]"),
        (StreakGoal, {"rest_days": [0]}, "rest_days[0]"),
        (StreakReport, {"today_minutes": NAN}, "today_minutes"),
        (GhostList, {"ghosts": [dump(GHOST)] * (MAX_LISTED + 1)}, "ghosts"),
        (AuthResponse, {"token": "short"}, "token"),
        (SubjectLoad, {"confusion_per_hour": INF}, "confusion_per_hour"),
    ],
)
def test_http_bodies_reject_bad_values(
    model: type[WireModel], changes: dict[str, Any], field: str
) -> None:
    """HTTP bodies enforce usernames, passwords, goals, real time zones and calendar dates."""
    with pytest.raises(ProtocolError) as info:
        parse_model(model, _with(SAMPLES[model], **changes))
    assert info.value.code is ErrorCode.BAD_REQUEST
    assert f"'{field}'" in info.value.message


@pytest.mark.parametrize(
    ("model", "changes", "words"),
    [
        (RoomState, {"members": [dump(ALICE), {**dump(SAM_GHOST), "slot": 0}]}, "slots"),
        (RoomState, {"members": [dump(ALICE), {**dump(SAM_GHOST), "member_id": "u-alice"}]}, "ids"),
        (RoomState, {"max_members": 1}, "seats"),
        (TimerState, {"end_time": None}, "end_time"),
        (TimerState, {"phase": "lobby", "round": 0}, "end_time"),
        (TimerState, {"round": 0}, "round"),
        (TimerState, {"round": 3, "rounds": 2}, "round"),
        (TimerState, {"paused": False}, "paused"),
        (TimerState, {"pause_reasons": ["host", "host"]}, "unique"),
        (BattleState, {"boss_hp": 30000.0}, "boss_max_hp"),
        (BattleState, {"outcome": "victory"}, "victory"),
        (BattleState, {"outcome": "defeat", "boss_hp": 0.0}, "defeat"),
        (BattleState, {"members": [dump(BM), dump(BM)]}, "unique"),
        (Results, {"outcome": "ongoing"}, "outcome"),
        (Results, {"mvp": "u-nobody"}, "mvp"),
        (Results, {"members": [dump(MR), dump(MR)]}, "unique"),
        (StreakGoal, {"rest_days": ["2024-01-01", "2024-01-01"]}, "repeat"),
        (StreakReport, {"current": 10}, "longest"),
        (Ok, {"ok": False}, "true"),
        (Ok, {"ok": 1}, "true"),
    ],
)
def test_cross_field_rules_are_enforced(
    model: type[WireModel], changes: dict[str, Any], words: str
) -> None:
    """Inconsistent messages (duplicate slots, hp over max, paused without reason...) are refused."""
    with pytest.raises(ProtocolError) as info:
        parse_model(model, _with(SAMPLES[model], **changes))
    assert info.value.code is ErrorCode.BAD_REQUEST
    assert words in info.value.message


@pytest.mark.parametrize("value", [NAN, INF, -INF])
def test_non_finite_numbers_are_reported_as_such(value: float) -> None:
    """NaN and infinities are refused as non-finite, not as a confusing range error."""
    error = _rejects("battle", _with(SAMPLES[BattleState], dps=value))
    assert "'dps' must be a finite number" in error.message


def test_timer_in_lobby_and_results_has_no_end_time() -> None:
    """Lobby (round 0) and results timers carry end_time null and are valid."""
    base = _with(SAMPLES[TimerState], paused=False, pause_reasons=[], end_time=None)
    assert isinstance(parse_event("timer", {**base, "phase": "lobby", "round": 0}), TimerState)
    assert isinstance(parse_event("timer", {**base, "phase": "results", "round": 4}), TimerState)


# --- parse_event --------------------------------------------------------------------------------


def test_registry_covers_every_event_of_the_server_issue() -> None:
    """Every event name fixed by the server issue is registered with the right direction."""
    for name, direction in REQUIRED_EVENTS.items():
        assert EVENTS[name].direction is direction, name
        assert EVENTS[name].name == name
    assert set(BINARY_EVENTS) == {"frame", "frames"}
    assert EVENTS["room:create"].ack is RoomCreated
    assert EVENTS["room:join"].ack is RoomJoined
    assert EVENTS["ghost:add"].ack is GhostAdded
    assert EVENTS["frame"].ack is None


def test_every_client_event_lists_the_common_errors_and_server_events_none() -> None:
    """Client events may fail with bad_request and friends; server events carry no error list."""
    for spec in EVENTS.values():
        if spec.direction is Direction.CLIENT_TO_SERVER:
            assert {ErrorCode.BAD_REQUEST, ErrorCode.RATE_LIMITED} <= set(spec.errors)
        else:
            assert spec.errors == () and spec.ack is None


@pytest.mark.parametrize("name", JSON_EVENTS)
def test_parse_event_returns_the_sample_from_its_dump(name: str) -> None:
    """Every JSON event parses its emitted form back to an equal model."""
    sample = _event_sample(name)
    assert parse_event(name, dump(sample)) == sample


@pytest.mark.parametrize(
    "name", ["room:leave", "room:start", "room:pause", "room:resume", "room:finish"]
)
def test_events_without_fields_accept_a_missing_payload(name: str) -> None:
    """Socket.IO emits without data deliver None: fieldless events accept it."""
    assert parse_event(name, None) == parse_event(name, {})


@pytest.mark.parametrize("payload", [None, [], "room", 5, 1.5, True, b"\x00"])
def test_non_object_payloads_are_bad_requests(payload: object) -> None:
    """A payload that is not a JSON object is refused, saying what it was."""
    error = _rejects("room:join", payload)
    assert error.code is ErrorCode.BAD_REQUEST
    assert "JSON object" in error.message


@pytest.mark.parametrize("name", [None, 5, "", "room:explode", "x" * 10_000, ["room:join"]])
def test_unknown_events_are_bad_requests(name: object) -> None:
    """An unregistered or non-text event name is a bad_request with a short message."""
    error = _rejects(name, {})  # type: ignore[arg-type]
    assert error.code is ErrorCode.BAD_REQUEST
    assert "unknown event" in error.message and len(error.message) < 100


def test_oversized_payloads_are_payload_too_large() -> None:
    """A huge string, a long list or a wide object over MAX_JSON_BYTES is payload_too_large."""
    for payload in (
        {"room_id": "x" * (MAX_JSON_BYTES + 1)},
        {"room_id": ["x"] * MAX_JSON_BYTES},
        {f"k{i}": 0 for i in range(MAX_JSON_BYTES // 4)},
        {"room_id": 10**100_000},
        {"room_id": "é" * (MAX_JSON_BYTES // 2 + 1)},
    ):
        assert _rejects("room:join", payload).code is ErrorCode.PAYLOAD_TOO_LARGE


def test_deep_cyclic_and_non_json_payloads_are_bad_requests() -> None:
    """Deep nesting, self-containing lists, non-text keys and Python objects are refused."""
    deep: list[Any] = []
    for _ in range(10_000):
        deep = [deep]
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    for payload in (
        {"room_id": deep},
        {"room_id": cyclic},
        {1: "ABCD"},
        {"room_id": object()},
        {"room_id": b"ABCD"},
        {"room_id": {"ABCD"}},
    ):
        assert _rejects("room:join", payload).code is ErrorCode.BAD_REQUEST


def test_error_messages_list_a_few_problems_and_never_echo_secrets() -> None:
    """Messages name up to three fields, summarise the rest and never contain the input."""
    with pytest.raises(ProtocolError) as info:
        parse_model(
            RegisterRequest, {"username": "a", "password": "hunter2", "x": 1, "y": 2, "z": 3}
        )
    message = info.value.message
    assert "'username'" in message and "more problem" in message
    assert "hunter2" not in message


def test_junk_field_names_are_shortened_in_messages() -> None:
    """A kilobyte-long unknown key with control characters is clipped and made printable."""
    error = _rejects("room:join", {"room_id": "ABCD", "\x07" + "k" * 1000: 1})
    assert len(error.message) < 120 and "\x07" not in error.message


@pytest.mark.parametrize("name", BINARY_EVENTS)
def test_binary_events_accept_bytes_up_to_their_limit(name: str) -> None:
    """frame/frames accept bytes, bytearray and memoryview up to their size limit, verbatim."""
    spec = EVENTS[name]
    assert isinstance(spec.model, BinaryBody)
    data = bytes(range(256)) * (spec.model.max_bytes // 256) + bytes(spec.model.max_bytes % 256)
    assert len(data) == spec.model.max_bytes
    for payload in (data, bytearray(data), memoryview(data)):
        parsed = parse_event(name, payload)
        assert parsed == BinaryPayload(event=name, data=data)
    assert _rejects(name, data + b"\x00").code is ErrorCode.PAYLOAD_TOO_LARGE
    assert _rejects(name, b"").code is ErrorCode.INVALID_FRAME
    assert _rejects(name, {"data": "AAAA"}).code is ErrorCode.BAD_REQUEST
    assert _rejects(name, "AAAA").code is ErrorCode.BAD_REQUEST


def test_binary_limits() -> None:
    """A face frame is at most 64 bytes; a batch holds a full room of slot-tagged frames."""
    from shared.codec import Frame, encode_batch, encode_frame

    assert MAX_FRAME_BYTES == 64
    frame = encode_frame(Frame.from_sample(FaceSample(t=0.0), seq=1, t_ms=0))
    assert len(frame) == MAX_FRAME_BYTES
    full_room = encode_batch(1, 0, [(slot, frame) for slot in range(MAX_ROOM_MEMBERS)])
    assert len(full_room) == MAX_BATCH_BYTES


def test_largest_legitimate_messages_fit_their_size_limits() -> None:
    """A full room at maximum field lengths parses within MAX_JSON_BYTES, and a full ghost
    list within MAX_HTTP_JSON_BYTES, so the limits never refuse honest traffic."""
    long_id = "m" * 64
    members = tuple(
        Member(
            member_id=f"{i:02d}" + long_id[2:],
            username="u" * 32,
            slot=i,
            connected=True,
            asleep=True,
            attention=Attention.LOOKING_DIAGONAL,
            is_ghost=True,
        )
        for i in range(MAX_ROOM_MEMBERS)
    )
    room = RoomState(
        room_id="r" * 36,
        name="😀" * 40,
        subject="😀" * 40,
        host_id=members[0].member_id,
        phase=Phase.BREAK,
        members=members,
        max_members=MAX_ROOM_MEMBERS,
        plan=PLAN,
        boss_kind="b" * 32,
    )
    assert parse_event("room:state", dump(room)) == room
    ghost = GhostInfo(
        ghost_id=long_id,
        owner_id=long_id,
        owner_username="u" * 32,
        subject="😀" * 40,
        started_at=2**53 - 1,
        duration_s=1e-7 + 604_799.123456,
        focused_seconds=604_799.123456,
        total_damage=123456789.123456789,
    )
    ghosts = GhostList(ghosts=(ghost,) * MAX_LISTED)
    assert parse_model(GhostList, dump(ghosts)) == ghosts
    assert len(json.dumps(dump(ghosts), ensure_ascii=False).encode()) < MAX_HTTP_JSON_BYTES


# --- auth, errors -------------------------------------------------------------------------------


def test_parse_auth_accepts_a_token_and_refuses_anything_else_as_unauthorized() -> None:
    """Missing or malformed auth is unauthorized; another protocol version is unsupported_version."""
    assert parse_auth({"token": TOKEN}) == Auth(token=TOKEN)
    assert parse_auth({"token": TOKEN, "protocol_version": 1}).protocol_version == 1
    for bad in (None, {}, {"token": "short"}, {"token": TOKEN, "extra": 1}, "token", [TOKEN]):
        with pytest.raises(ProtocolError) as info:
            parse_auth(bad)
        assert info.value.code is ErrorCode.UNAUTHORIZED
    with pytest.raises(ProtocolError) as info:
        parse_auth({"token": TOKEN, "protocol_version": 2})
    assert info.value.code is ErrorCode.UNSUPPORTED_VERSION


def test_error_payload_is_the_ack_shape() -> None:
    """error_payload builds {"error": {"code", "message"}}; unexpected exceptions reveal nothing."""
    assert error_payload(ProtocolError(ErrorCode.ROOM_FULL, "no seat")) == {
        "error": {"code": "room_full", "message": "no seat"}
    }
    leaked = error_payload(KeyError("db password is swordfish"))
    assert leaked == {"error": {"code": "internal", "message": "internal server error"}}
    assert parse_model(ErrorAck, leaked).error.code is ErrorCode.INTERNAL


def test_error_event_names_only_known_events() -> None:
    """The error event echoes a registered event name and drops anything else."""
    exc = ProtocolError(ErrorCode.FORBIDDEN, "only the host may start the room")
    assert dump(error_event(exc, "room:start")) == {
        "error": {"code": "forbidden", "message": "only the host may start the room"},
        "event": "room:start",
    }
    assert error_event(exc, "<script>").event is None
    assert error_event(exc, 42).event is None


def test_protocol_error_messages_are_one_bounded_line() -> None:
    """Messages are normalised to one line of at most MAX_MESSAGE_CHARS, so ErrorInfo accepts them."""
    exc = ProtocolError(ErrorCode.INTERNAL, "line one\nline two " + "x" * 1000)
    assert "\n" not in exc.message and len(exc.message) == MAX_MESSAGE_CHARS
    assert ErrorInfo.model_validate(dump(exc.info())).message == exc.message
    assert ProtocolError(ErrorCode.CONFLICT, "  ").message
    assert isinstance(exc, ValueError)


def test_protocol_errors_survive_pickling() -> None:
    """A ProtocolError crosses process boundaries (e.g. a worker pool) with code and message."""
    exc = ProtocolError(ErrorCode.NOT_FRIENDS, "sam has not added you back")
    back = pickle.loads(pickle.dumps(exc))
    assert (back.code, back.message, str(back)) == (exc.code, exc.message, exc.message)


def test_every_error_code_has_an_http_status() -> None:
    """Each error code maps to a 4xx/5xx HTTP status; internal is the only 5xx."""
    assert set(HTTP_STATUS) == set(ErrorCode)
    assert all(400 <= s < 500 for c, s in HTTP_STATUS.items() if c is not ErrorCode.INTERNAL)
    assert HTTP_STATUS[ErrorCode.INTERNAL] == 500


def test_required_error_codes_exist_with_stable_values() -> None:
    """The codes clients rely on exist with exactly these spellings."""
    required = {
        "bad_request", "unauthorized", "forbidden", "not_member", "unknown_room", "room_full",
        "payload_too_large", "rate_limited", "invalid_frame", "out_of_order", "illegal_state",
        "unknown_ghost", "not_friends", "conflict", "unsupported_version", "internal",
    }  # fmt: skip
    assert required <= {c.value for c in ErrorCode}


def test_http_endpoints_cover_the_api() -> None:
    """Register, login, friends, streak settings and status, the load report and ghosts exist."""
    assert {
        "POST /api/register",
        "POST /api/login",
        "GET /api/friends",
        "POST /api/friends",
        "GET /api/streak/settings",
        "PUT /api/streak/settings",
        "GET /api/streak",
        "GET /api/reports/cognitive-load",
        "GET /api/ghosts",
        "GET /api/ghosts/{ghost_id}",
        "GET /api/rooms",
    } <= set(HTTP_ENDPOINTS)
    for key, endpoint in HTTP_ENDPOINTS.items():
        assert endpoint.key == key
        assert (ErrorCode.UNAUTHORIZED in endpoint.errors) or not endpoint.auth
    assert not HTTP_ENDPOINTS["POST /api/login"].auth


# --- documentation ------------------------------------------------------------------------------


def _doc() -> str:
    return DOC.read_text(encoding="utf-8")


def _section(doc: str, heading: str) -> str:
    match = re.search(rf"^#+ .*{re.escape(heading)}.*$", doc, flags=re.MULTILINE)
    assert match, f"no heading for {heading} in docs/protocol.md"
    rest = doc[match.end() :]
    nxt = re.search(r"^#{1,3} ", rest, flags=re.MULTILINE)
    return rest[: nxt.start()] if nxt else rest


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_every_event_is_documented_with_its_fields_and_errors(name: str) -> None:
    """docs/protocol.md has a section per event naming its direction, fields and error codes."""
    section = _section(_doc(), f"`{name}`")
    spec = EVENTS[name]
    assert (
        "client → server" if spec.direction is Direction.CLIENT_TO_SERVER else "server → client"
    ) in section
    if isinstance(spec.model, type):
        for field in spec.model.model_fields:
            assert f"`{field}`" in section, (name, field)
    for code in spec.errors:
        assert f"`{code.value}`" in section, (name, code)


@pytest.mark.parametrize("key", sorted(HTTP_ENDPOINTS))
def test_every_http_endpoint_is_documented(key: str) -> None:
    """docs/protocol.md has a section per HTTP endpoint naming its models, request fields and
    status."""
    section = _section(_doc(), f"`{key}`")
    endpoint = HTTP_ENDPOINTS[key]
    if isinstance(endpoint.response, BinaryBody):
        assert "`application/octet-stream`" in section
    else:
        assert f"`{endpoint.response.__name__}`" in section
    for param in endpoint.params:
        assert f"`{param.name}`" in section, (key, param.name)
    assert f"status {endpoint.status}" in section
    if endpoint.request is not None:
        assert f"`{endpoint.request.__name__}`" in section
        for field in endpoint.request.model_fields:
            assert f"`{field}`" in section, (key, field)
    for code in endpoint.errors:
        assert f"`{code.value}`" in section, (key, code)


def test_every_model_and_error_code_is_in_the_docs() -> None:
    """Each model, each of its fields and each error code value appears in docs/protocol.md."""
    doc = _doc()
    for model in ALL_MODELS:
        assert f"`{model.__name__}`" in doc or f" {model.__name__}\n" in doc, model.__name__
        for field in model.model_fields:
            assert f"| `{field}` |" in doc, (model.__name__, field)
    for code in ErrorCode:
        assert f"`{code.value}`" in doc, code
    assert f"{MAX_JSON_BYTES}" in doc.replace(",", "") or "16 KiB" in doc


# --- hypothesis -----------------------------------------------------------------------------------

JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda children: (
        st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=20,
)
SMALL_JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3)
    ),
    max_leaves=8,
)
FIELD_NAMES = sorted({f for m in ALL_MODELS for f in m.model_fields})
EVENT_NAMES = st.sampled_from(sorted(EVENTS)) | st.text(max_size=20) | JSON_LEAVES


def _check(name: object, payload: object) -> None:
    try:
        result = parse_event(name, payload)
    except ProtocolError as exc:
        assert exc.code in ErrorCode
        assert 0 < len(exc.message) <= MAX_MESSAGE_CHARS
    else:
        assert isinstance(result, BaseModel)
        assert isinstance(name, str) and name in EVENTS


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=EVENT_NAMES, payload=JSON_VALUES)
def test_parse_event_on_arbitrary_json_returns_a_model_or_raises_protocol_error(
    name: object, payload: object
) -> None:
    """Any JSON-like value for any event name yields a model or a ProtocolError, nothing else."""
    _check(name, payload)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(JSON_EVENTS),
    payload=st.dictionaries(
        st.sampled_from(FIELD_NAMES) | st.text(max_size=8), SMALL_JSON_VALUES, max_size=6
    ),
)
def test_parse_event_on_objects_with_real_field_names(name: str, payload: dict[str, Any]) -> None:
    """Objects using the protocol's real field names with junk values never escape as other errors."""
    _check(name, payload)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(JSON_EVENTS), data=st.data())
def test_parse_event_on_valid_messages_with_one_field_corrupted(
    name: str, data: st.DataObject
) -> None:
    """A valid message with one field replaced by any JSON value parses or is a ProtocolError,
    and when it parses it still dumps and re-parses to the same model."""
    payload = dump(_event_sample(name))
    if payload:
        key = data.draw(st.sampled_from(sorted(payload)))
        payload[key] = data.draw(SMALL_JSON_VALUES)
    try:
        result = parse_event(name, payload)
    except ProtocolError as exc:
        assert exc.code in (ErrorCode.BAD_REQUEST, ErrorCode.PAYLOAD_TOO_LARGE)
    else:
        assert isinstance(result, WireModel)
        assert parse_event(name, dump(result)) == result


@settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from(BINARY_EVENTS),
    payload=st.binary(max_size=2 * MAX_BATCH_BYTES) | JSON_VALUES,
)
def test_binary_events_on_arbitrary_input(name: str, payload: object) -> None:
    """Binary events take any bytes within the limit and refuse everything else as ProtocolError."""
    _check(name, payload)
