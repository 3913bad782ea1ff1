"""Tests for game.analysis.report: three files that agree, written atomically, and a real picture."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import IO

import cv2
import numpy as np
import pytest

import game.analysis
from game.analysis import report
from game.analysis.report import (
    CSV_NAME,
    FIGURE_DPI,
    FIGURE_SIZE_IN,
    JSON_NAME,
    PNG_NAME,
    format_events,
    format_summary_table,
    render_png,
    timeline_csv,
    timeline_json,
    write_report,
)
from game.analysis.timeline import (
    ROW_FIELDS,
    AnalysisMeta,
    CalibrationInfo,
    Timeline,
    TimelineBuilder,
)
from game.capture.synthetic import SyntheticSource
from tests.game.test_capture_privacy import scan_source

SCRIPT = [
    ("focused", 4.0),
    ("away_left", 3.0),
    ("confused", 5.0),
    ("focused", 2.0),
    ("no_face", 18.0),
    ("uncertain", 1.0),
    ("focused", 3.0),
    ("eyes_closed", 2.0),
]


def _timeline(script: list[tuple[str, float]] = SCRIPT, **meta: object) -> Timeline:
    builder = TimelineBuilder(subject="maths")
    builder.extend(SyntheticSource(script, fps=15.0, seed=7))
    fields: dict[str, object] = {
        "source": "recordings/tuesday.avi",
        "subject": "maths",
        "model_path": "face_landmarker.task",
        "model_sha256": "0" * 64,
        "fps": 15.0,
        "every": 1,
        "frames_decoded": builder.frames,
        "width": 320,
        "height": 240,
    }
    fields.update(meta)
    return builder.finish(AnalysisMeta(**fields))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def timeline() -> Timeline:
    """A 38 s session with a glance, confusion, a sleep, uncertainty and closed eyes."""
    return _timeline()


def _csv_rows(text: str) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


def _as_csv_cell(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def test_json_and_csv_agree_row_for_row(timeline: Timeline) -> None:
    """Same columns, same number of rows, and every value identical in both files."""
    doc = json.loads(timeline_json(timeline))
    header, rows = _csv_rows(timeline_csv(timeline))
    assert header == doc["columns"] == list(ROW_FIELDS)
    assert len(rows) == len(doc["rows"]) == doc["meta"]["frames"] == timeline.frames
    for csv_row, json_row in zip(rows, doc["rows"], strict=True):
        assert csv_row == [_as_csv_cell(v) for v in json_row]


def test_json_is_the_timelines_document_with_one_row_per_line(timeline: Timeline) -> None:
    """timeline.json parses back to to_json() exactly, and keeps each frame on its own line."""
    text = timeline_json(timeline)
    assert json.loads(text) == json.loads(json.dumps(timeline.to_json()))
    row_lines = [line for line in text.splitlines() if line.startswith("    [")]
    assert len(row_lines) == timeline.frames


def test_write_report_writes_the_three_files_and_nothing_else(
    timeline: Timeline, tmp_path: Path
) -> None:
    """The output directory is created and holds exactly the three reports (no temp files)."""
    out = tmp_path / "nested" / "out"
    paths = write_report(timeline, out)
    assert list(paths) == [out / JSON_NAME, out / CSV_NAME, out / PNG_NAME]
    assert sorted(p.name for p in out.iterdir()) == sorted([JSON_NAME, CSV_NAME, PNG_NAME])
    assert json.loads(paths.json.read_text(encoding="utf-8"))["meta"]["frames"] == timeline.frames
    assert paths.csv.read_text(encoding="utf-8") == timeline_csv(timeline)


def test_a_failed_write_leaves_the_previous_reports_and_no_temp_files(
    timeline: Timeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If drawing the picture fails, no file is replaced and no temporary file stays behind."""
    first = write_report(timeline, tmp_path)
    before = {p.name: p.read_bytes() for p in first}

    def broken(timeline: Timeline, out: IO[bytes]) -> None:
        out.write(b"half a picture")
        raise RuntimeError("the renderer broke")

    monkeypatch.setattr(report, "render_png", broken)
    shorter = _timeline(SCRIPT[:2])
    with pytest.raises(RuntimeError, match="renderer broke"):
        write_report(shorter, tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_png_is_a_real_picture_of_the_stated_size_and_not_blank(
    timeline: Timeline, tmp_path: Path
) -> None:
    """report.png decodes with OpenCV at 1200×675 and has plenty of pixel variation."""
    path = tmp_path / PNG_NAME
    with path.open("wb") as out:
        render_png(timeline, out)
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert image is not None
    width, height = (round(v * FIGURE_DPI) for v in FIGURE_SIZE_IN)
    assert image.shape == (height, width, 3)
    assert float(np.std(image)) > 20.0
    # Colour, not just black text on white: the shading and the attention strip are there.
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 200


def test_png_draws_a_session_without_any_event(tmp_path: Path) -> None:
    """A fully focused session (no runs, sleeps or confusion) still renders a sensible picture."""
    quiet = _timeline([("focused", 3.0)], subject=None)
    buffer = io.BytesIO()
    render_png(quiet, buffer)
    image = cv2.imdecode(np.frombuffer(buffer.getvalue(), np.uint8), cv2.IMREAD_COLOR)
    assert image is not None and float(np.std(image)) > 10.0


def test_summary_table_names_every_figure(timeline: Timeline) -> None:
    """The terminal table has the file, the subject and each summary figure."""
    table = format_summary_table(timeline)
    assert table.startswith("Focus analysis of tuesday.avi (maths)")
    for label in (
        "duration",
        "focused",
        "away (awake)",
        "asleep",
        "uncertain",
        "mean focus score",
        "blinks",
        "distractions",
        "longest distraction",
        "fell asleep",
        "cognitive load",
    ):
        assert f"  {label} " in table
    s = timeline.summary
    assert f"{s.duration_s:.1f} s" in table and f"{s.longest_distraction_s:.1f} s" in table


def test_summary_table_says_whose_calibration_was_used() -> None:
    """With a calibration, the heading names the user it belongs to."""
    info = CalibrationInfo("sam", "/data/sam/calibration.json", 2.0, -10.0, 50)
    table = format_summary_table(_timeline([("focused", 1.0)], calibration=info))
    assert "calibrated for sam" in table.splitlines()[0]


def test_events_listing_merges_timer_events_and_stops_at_the_limit(timeline: Timeline) -> None:
    """Sleep and wake lines mention the timer; long lists end with a pointer to the JSON."""
    listing = format_events(timeline)
    assert "fell asleep, timer paused" in listing and "woke up, timer resumed" in listing
    assert "timer_paused" not in listing
    short = format_events(timeline, limit=2)
    assert len(short.splitlines()) == 1 + 2 + 1
    assert short.splitlines()[-1].endswith(f"more in {JSON_NAME}")


def test_events_listing_of_a_quiet_session_says_none() -> None:
    """No events at all gives one clear line."""
    assert format_events(_timeline([("focused", 2.0)])) == "Events: none"


def test_analysis_package_uses_no_network_and_writes_files_in_one_place() -> None:
    """Privacy: no module of game.analysis imports a network module, and only the atomic
    report writer opens a file for writing (the reports hold numbers and a chart, no frame)."""
    paths = sorted(p for root in game.analysis.__path__ for p in Path(root).glob("*.py"))
    assert {p.name for p in paths} >= {"pipeline.py", "report.py", "timeline.py"}
    findings = [
        (f.file, f.function, f.what)
        for path in paths
        for f in scan_source(path.read_text(encoding="utf-8"), path.name)
    ]
    assert {(file, function) for file, function, _ in findings} == {
        ("report.py", "_render_to_temp")
    }
