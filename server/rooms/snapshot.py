"""JSON forms of the shared rule values a room snapshot holds, and a typed reader for restoring them.

A snapshot is plain JSON (dicts, lists, strings, finite numbers, booleans, null) so the lead can
store it as text. Reading one back goes through :class:`Reader`, which turns every missing key,
wrong type or non-finite number into :class:`~server.rooms.errors.CorruptSnapshot` naming the
path; the shared values' own validation (``InvalidTimerState``, ``InvalidBattleState``, ...) is
mapped to the same error by :func:`guarded`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Final, TypeVar

from server.rooms.errors import CorruptSnapshot
from shared.battle import Battle, BossKind, MemberState, Stage
from shared.timer import Phase, RoomTimer, TimerPlan

SNAPSHOT_VERSION: Final[int] = 1
"""Format version written into every room snapshot; a different version is refused."""

Json = dict[str, Any]
"""A JSON object as :mod:`json` produces and consumes it."""

T = TypeVar("T")


@contextmanager
def guarded(what: str) -> Iterator[None]:
    """Turn the value errors a shared constructor raises into :class:`CorruptSnapshot`."""
    try:
        yield
    except CorruptSnapshot:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise CorruptSnapshot(f"corrupt {what}: {exc}") from None


class Reader:
    """Typed, path-naming access to one JSON object of a snapshot."""

    __slots__ = ("_data", "_path")

    def __init__(self, data: object, path: str = "snapshot") -> None:
        if not isinstance(data, dict):
            raise CorruptSnapshot(f"{path} must be an object, got {type(data).__name__}")
        self._data: dict[object, object] = data
        self._path = path

    def _get(self, key: str) -> object:
        if key not in self._data:
            raise CorruptSnapshot(f"{self._path}.{key} is missing")
        return self._data[key]

    def _fail(self, key: str, wanted: str) -> CorruptSnapshot:
        return CorruptSnapshot(f"{self._path}.{key} must be {wanted}")

    def has(self, key: str) -> bool:
        """Whether ``key`` is present."""
        return key in self._data

    def str_(self, key: str) -> str:
        """A string."""
        value = self._get(key)
        if not isinstance(value, str):
            raise self._fail(key, "a string")
        return value

    def opt_str(self, key: str) -> str | None:
        """A string or null."""
        return None if self._get(key) is None else self.str_(key)

    def float_(self, key: str) -> float:
        """A finite number (an integer is accepted; a boolean is not)."""
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._fail(key, "a number")
        if not math.isfinite(value):
            raise self._fail(key, "finite")
        return float(value)

    def opt_float(self, key: str) -> float | None:
        """A finite number or null."""
        return None if self._get(key) is None else self.float_(key)

    def int_(self, key: str) -> int:
        """An integer (not a boolean)."""
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._fail(key, "an integer")
        return value

    def opt_int(self, key: str) -> int | None:
        """An integer or null."""
        return None if self._get(key) is None else self.int_(key)

    def bool_(self, key: str) -> bool:
        """A boolean."""
        value = self._get(key)
        if not isinstance(value, bool):
            raise self._fail(key, "a boolean")
        return value

    def obj(self, key: str) -> Reader:
        """A nested object."""
        return Reader(self._get(key), f"{self._path}.{key}")

    def opt_obj(self, key: str) -> Reader | None:
        """A nested object or null."""
        return None if self._get(key) is None else self.obj(key)

    def _list(self, key: str) -> list[object]:
        value = self._get(key)
        if not isinstance(value, list):
            raise self._fail(key, "a list")
        return value

    def objs(self, key: str) -> list[Reader]:
        """A list of objects."""
        return [Reader(v, f"{self._path}.{key}[{i}]") for i, v in enumerate(self._list(key))]

    def str_list(self, key: str) -> list[str]:
        """A list of strings."""
        items = self._list(key)
        if not all(isinstance(v, str) for v in items):
            raise self._fail(key, "a list of strings")
        return [str(v) for v in items]

    def pairs(self, key: str) -> list[tuple[float, float]]:
        """A list of ``[number, number]`` pairs (finite)."""
        out: list[tuple[float, float]] = []
        for i, item in enumerate(self._list(key)):
            if (
                not isinstance(item, list)
                or len(item) != 2
                or not all(
                    not isinstance(v, bool) and isinstance(v, int | float) and math.isfinite(v)
                    for v in item
                )
            ):
                raise CorruptSnapshot(f"{self._path}.{key}[{i}] must be a pair of finite numbers")
            out.append((float(item[0]), float(item[1])))
        return out

    def enum(self, key: str, kind: Callable[[str], T]) -> T:
        """A string converted by ``kind`` (an enum class)."""
        text = self.str_(key)
        try:
            return kind(text)
        except ValueError:
            raise self._fail(key, f"a known {getattr(kind, '__name__', 'value')}") from None


# -- timer -----------------------------------------------------------------------------------


def plan_to_dict(plan: TimerPlan) -> Json:
    """The plan as JSON."""
    return {"focus_s": plan.focus_s, "break_s": plan.break_s, "rounds": plan.rounds}


def plan_from(r: Reader) -> TimerPlan:
    """The plan in ``r``."""
    with guarded("plan"):
        return TimerPlan(
            focus_s=r.float_("focus_s"), break_s=r.float_("break_s"), rounds=r.int_("rounds")
        )


def timer_to_dict(timer: RoomTimer) -> Json:
    """Every field of the timer except its plan (stored once, next to it)."""
    return {
        "phase": timer.phase.value,
        "round_index": timer.round_index,
        "end_time": timer.end_time,
        "paused_at": timer.paused_at,
        "pause_reasons": sorted(timer.pause_reasons),
        "focus_done_s": timer.focus_done_s,
        "updated_at": timer.updated_at,
    }


def timer_from(r: Reader, plan: TimerPlan) -> RoomTimer:
    """The timer in ``r`` over ``plan``; its own invariants are checked on construction."""
    phase = r.enum("phase", Phase)
    with guarded("timer"):
        return RoomTimer(
            plan=plan,
            phase=phase,
            round_index=r.int_("round_index"),
            end_time=r.opt_float("end_time"),
            paused_at=r.opt_float("paused_at"),
            pause_reasons=frozenset(r.str_list("pause_reasons")),
            focus_done_s=r.float_("focus_done_s"),
            updated_at=r.opt_float("updated_at"),
        )


# -- battle ----------------------------------------------------------------------------------

_MEMBER_FLOATS: Final[tuple[str, ...]] = (
    "damage",
    "dps",
    "penalty",
    "away_s",
    "focused_s",
    "fight_s",
)


def battle_to_dict(battle: Battle) -> Json:
    """The whole battle, members included."""
    return {
        "boss_kind": battle.boss_kind.value,
        "boss_max_hp": battle.boss_max_hp,
        "boss_hp": battle.boss_hp,
        "planned_focus_s": battle.planned_focus_s,
        "stage": battle.stage.value,
        "dps": battle.dps,
        "penalty": battle.penalty,
        "members": [
            {
                "member_id": m.member_id,
                "is_ghost": m.is_ghost,
                "asleep": m.asleep,
                "connected": m.connected,
                **{name: getattr(m, name) for name in _MEMBER_FLOATS},
            }
            for m in battle.members
        ],
    }


def _member_from(r: Reader) -> MemberState:
    floats = {name: r.float_(name) for name in _MEMBER_FLOATS}
    for name, value in floats.items():
        if value < 0.0:
            raise CorruptSnapshot(f"battle member {name} must not be negative")
    with guarded("battle member"):
        return MemberState(
            member_id=r.str_("member_id"),
            is_ghost=r.bool_("is_ghost"),
            asleep=r.bool_("asleep"),
            connected=r.bool_("connected"),
            **floats,
        )


def battle_from(r: Reader) -> Battle:
    """The battle in ``r``; its own invariants are checked on construction."""
    kind = r.enum("boss_kind", BossKind)
    stage = r.enum("stage", Stage)
    members = tuple(_member_from(m) for m in r.objs("members"))
    with guarded("battle"):
        return Battle(
            boss_kind=kind,
            boss_max_hp=r.float_("boss_max_hp"),
            boss_hp=r.float_("boss_hp"),
            planned_focus_s=r.float_("planned_focus_s"),
            members=members,
            stage=stage,
            dps=r.float_("dps"),
            penalty=r.float_("penalty"),
        )
