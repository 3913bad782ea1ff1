"""End to end: a real server, the arena rendering offscreen, bots, a ghost and the group results."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from panda3d.core import Point2, Point3
from PIL import Image

from game.app import ConvexApp
from game.demo import DemoOptions, DemoReport, run_demo
from game.scenes.arena import ArenaScene
from game.scenes.results import ResultsScene

pytestmark = pytest.mark.slow

SIZE = (960, 540)

SHIRT_Z = 0.3
HEAD_Z = 0.72
"""Heights (world units) of an avatar's shirt and head, for pixel boxes around them."""


@dataclass
class Watch:
    """What the test saw of the live scene during the demo."""

    spots: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)
    sam_asleep_with_zzz: bool = False
    ghost_alpha: float | None = None
    numbers_spawned: int = 0
    boss_hits: int = 0
    boss_defeated: float = 0.0
    results_rows: list[tuple[str, ...]] = field(default_factory=list)


def _pixel(app: ConvexApp, world: Point3) -> tuple[int, int]:
    p = app.cam.getRelativePoint(app.render, world)
    out = Point2()
    assert app.camLens.project(p, out)
    w, h = SIZE
    return round((out.x + 1) / 2 * w), round((1 - out.y) / 2 * h)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DemoReport, Watch, Path]]:
    """One 20-second demo fight, offscreen, watched frame by frame."""
    out = tmp_path_factory.mktemp("demo")
    watch = Watch()

    def on_frame(app: ConvexApp, stage: str) -> None:
        scene = app.scene
        if isinstance(scene, ArenaScene) and scene.snapshot is not None:
            for avatar in scene.avatars.values():
                member = scene.snapshot.member(avatar.slot)
                if member is None:
                    continue
                key = ("ghost:" if member.is_ghost else "") + member.username
                root = avatar.root.getPos(app.render)
                watch.spots[key] = {
                    "shirt": _pixel(app, Point3(root.x, root.y, SHIRT_Z)),
                    "head": _pixel(app, Point3(root.x, root.y, HEAD_Z)),
                }
                if member.is_ghost:
                    watch.ghost_alpha = float(avatar.rig.actor.getColorScale()[3])
            sam = scene.avatar_for("sam")
            if sam is not None and sam.driver.sleep_amount >= 1.0 and sam.rig.zzz.visible:
                watch.sam_asleep_with_zzz = True
            watch.numbers_spawned = scene.numbers.spawned
            if scene.boss is not None:
                watch.boss_hits = scene.boss.hits
                watch.boss_defeated = scene.boss.defeated
        if isinstance(scene, ResultsScene):
            watch.results_rows = list(scene.rows)

    report = run_demo(
        DemoOptions(seconds=20.0, offscreen=True, out=out, source="synthetic", size=SIZE),
        on_frame=on_frame,
    )
    yield report, watch, out


def _image(out: Path, name: str) -> np.ndarray[Any, Any]:
    return np.asarray(Image.open(out / f"{name}.png").convert("RGB"), dtype=np.float64)


def _box(img: np.ndarray[Any, Any], spot: tuple[int, int], r: int = 12) -> np.ndarray[Any, Any]:
    x, y = spot
    return img[max(y - r, 0) : y + r, max(x - r, 0) : x + r]


def _hp_bar_pixels(img: np.ndarray[Any, Any]) -> int:
    """Pixels of the HP bar's red fill in the top-centre strip."""
    h, w, _ = img.shape
    strip = img[: int(h * 0.16), int(w * 0.3) : int(w * 0.7)]
    red = np.array([209.0, 64.0, 77.0])
    return int((np.abs(strip - red).sum(axis=2) < 40).sum())


def _saturation(box: np.ndarray[Any, Any]) -> float:
    return float((box.max(axis=2) - box.min(axis=2)).mean())


def test_the_fight_is_won_and_recorded(demo: tuple[DemoReport, Watch, Path]) -> None:
    """The demo ends in victory; summary.json has the HP timeline, members, damage and sleepers."""
    report, _, out = demo
    summary = json.loads((out / "summary.json").read_text())
    assert summary["outcome"] == "victory"
    hps = [p["hp"] for p in summary["boss_hp"]]
    assert hps[0] == summary["boss_max_hp"] > 0
    assert hps[-1] == 0.0
    assert all(b <= a for a, b in itertools.pairwise(hps))
    assert summary["slept"] == ["sam"]
    names = {(m["username"], m["is_ghost"]) for m in summary["members"]}
    assert names == {("you", False), ("ada", False), ("sam", False), ("leo", False), ("you", True)}
    assert report.outcome == "victory"


def test_hud_hp_bar_shrinks_on_screen(demo: tuple[DemoReport, Watch, Path]) -> None:
    """The HP bar's red fill covers fewer pixels as the fight goes on, and none at victory."""
    _, _, out = demo
    counts = [
        _hp_bar_pixels(_image(out, name))
        for name in ("arena-lobby", "arena-penalty", "arena-asleep", "arena-victory")
    ]
    assert counts[0] > counts[1] > counts[2] > counts[3]
    assert counts[3] < counts[0] * 0.02


def test_sleeper_appears_asleep_and_dps_drops(demo: tuple[DemoReport, Watch, Path]) -> None:
    """Sam looks away > 15 s: the penalty line shows, the DPS drops, his avatar sleeps with Zzz."""
    report, watch, out = demo
    assert any(line.startswith("sam is distracted: −20 % DPS") for line in report.penalty_lines)
    assert any(line.startswith("sam is asleep") for line in report.penalty_lines)
    assert report.moments["arena-penalty"]["penalty_lines"]
    assert report.moments["arena-asleep"]["asleep"] == ["sam"]
    assert watch.sam_asleep_with_zzz
    fighting = [p for p in report.timeline if 0.0 < p["hp"] < report.boss_max_hp]
    before = max(p["dps"] for p in fighting if p["penalty"] == 0.0)
    during = max(p["dps"] for p in fighting if p["penalty"] > 0.0)
    assert during < before
    head = watch.spots["sam"]["head"]
    awake = _box(_image(out, "arena-fight"), head, 20)
    asleep = _box(_image(out, "arena-asleep"), head, 20)
    assert float(np.abs(awake - asleep).mean()) > 8.0


def test_ghost_is_translucent_and_deals_damage(demo: tuple[DemoReport, Watch, Path]) -> None:
    """The ghost is drawn at alpha 0.45 (washed out next to the same opaque avatar) and hits."""
    report, watch, out = demo
    assert watch.ghost_alpha == pytest.approx(0.45, abs=0.01)
    img = _image(out, "arena-fight")
    ghost = _saturation(_box(img, watch.spots["ghost:you"]["shirt"]))
    solid = _saturation(_box(img, watch.spots["you"]["shirt"]))
    assert ghost < 0.75 * solid
    ghost_row = next(m for m in report.members if m["is_ghost"])
    assert ghost_row["damage"] > 0.0
    assert ghost_row["xp"] == 0


def test_boss_reacts_and_numbers_float(demo: tuple[DemoReport, Watch, Path]) -> None:
    """HP drops make the boss flinch and spawn damage numbers; victory slumps it fully."""
    _, watch, _ = demo
    assert watch.boss_hits > 5
    assert watch.numbers_spawned > 5
    assert watch.boss_defeated == 1.0


def test_results_screen_lists_everyone(demo: tuple[DemoReport, Watch, Path]) -> None:
    """The results scene shows victory, every member's damage, XP and streak, and the MVP
    starred."""
    report, watch, out = demo
    assert len(watch.results_rows) == 5
    assert sum(row[0].startswith("★") for row in watch.results_rows) == 1
    assert any(row[0] == "ghost of you" and row[3] == "—" for row in watch.results_rows)
    # The streak column: "ghost" for the ghost, each person's streak in days from the server.
    for row in watch.results_rows:
        assert row[4] == "ghost" if row[0] == "ghost of you" else row[4].endswith(("day", "days"))
    img = _image(out, "results")
    green = np.array([56.0, 168.0, 115.0])
    assert int((np.abs(img - green).sum(axis=2) < 45).sum()) > 500
    assert report.mvp in {"you", "ada", "leo"}
