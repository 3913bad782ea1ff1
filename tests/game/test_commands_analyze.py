"""`convex analyze` end to end: a real video written with OpenCV, the installed console script."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from game.capture.sources import RGBImage
from tests.game.test_analysis_videos import (
    ABSENCE_END_S,
    ABSENCE_FRAMES,
    ABSENCE_START_S,
    FPS,
    absence_video,
    no_face_video,
)

CONVEX = str(Path(sys.executable).with_name("convex"))
FRAME = 1.0 / FPS
NATIVE_CHATTER = ("W0000", "I0000", "INFO: Created TensorFlow", "WARNING: Logging before")
"""Lines MediaPipe and TensorFlow Lite print on their own; the command keeps them off stderr."""


def convex_env(tmp: Path) -> dict[str, str]:
    """The environment for a `convex` subprocess: throwaway XDG dirs, no model override."""
    env = {k: v for k, v in os.environ.items() if k != "CONVEX_FACE_MODEL"}
    env["XDG_CACHE_HOME"] = str(tmp / "cache")
    env["XDG_DATA_HOME"] = str(tmp / "data")
    return env


def run_convex(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the installed `convex` script (stderr is a pipe, so never a TTY)."""
    return subprocess.run(
        [CONVEX, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=180
    )


def assert_clean_failure(result: subprocess.CompletedProcess[str], code: int, text: str) -> None:
    """Exit ``code``, one ``convex …: error:`` line on stderr containing ``text``, no traceback."""
    assert result.returncode == code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("convex ") and ": error: " in lines[0]
    assert text in lines[0]
    assert "Traceback" not in result.stderr


@dataclass(frozen=True)
class Analysed:
    """One run of `convex analyze` over the absence video."""

    result: subprocess.CompletedProcess[str]
    out_dir: Path

    def json(self) -> dict[str, Any]:
        """The parsed timeline.json."""
        doc: dict[str, Any] = json.loads((self.out_dir / "timeline.json").read_text("utf-8"))
        return doc

    def csv_rows(self) -> list[dict[str, str]]:
        """timeline.csv as dicts."""
        with (self.out_dir / "timeline.csv").open(encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory, astronaut: RGBImage) -> Analysed:
    """`convex analyze session.avi --subject maths --progress`, run in a fresh directory."""
    work = tmp_path_factory.mktemp("analyze")
    video = absence_video(work / "session.avi", astronaut)
    result = run_convex(
        "analyze", video.name, "--subject", "maths", "--progress", cwd=work, env=convex_env(work)
    )
    assert result.returncode == 0, result.stderr
    return Analysed(result, work / "convex-analysis" / "session")


def test_report_shows_sleep_15_s_into_the_absence_and_waking_on_return(analysed: Analysed) -> None:
    """fell_asleep = absence start + 15 s and woke_up = return, each within one frame."""
    doc = analysed.json()
    events = doc["events"]
    (asleep,) = [e["t"] for e in events if e["type"] == "fell_asleep"]
    (woke,) = [e["t"] for e in events if e["type"] == "woke_up"]
    assert asleep == pytest.approx(ABSENCE_START_S + 15.0, abs=FRAME)
    assert woke == pytest.approx(ABSENCE_END_S, abs=FRAME)
    assert [e["t"] for e in events if e["type"] == "timer_paused"] == [asleep]
    assert [e["t"] for e in events if e["type"] == "timer_resumed"] == [woke]
    assert doc["sleeps"] == [
        {"start": asleep, "end": woke, "duration": pytest.approx(woke - asleep), "ongoing": False}
    ]
    (run,) = doc["distractions"]
    assert run["kind"] == "no_face" and run["flagged"]
    assert run["start"] == pytest.approx(ABSENCE_START_S, abs=FRAME)
    assert doc["summary"]["sleeps"] == 1
    assert doc["meta"]["subject"] == "maths" and doc["meta"]["source"] == "session.avi"


def test_json_csv_and_png_agree(analysed: Analysed) -> None:
    """Same frame count everywhere, CSV rows = JSON rows, and asleep rows span the sleep event."""
    doc = analysed.json()
    rows = analysed.csv_rows()
    assert doc["meta"]["frames"] == len(doc["rows"]) == len(rows) == ABSENCE_FRAMES
    columns = doc["columns"]
    for csv_row, json_row in zip(rows, doc["rows"], strict=True):
        as_json = dict(zip(columns, json_row, strict=True))
        assert csv_row["state"] == as_json["state"]
        assert csv_row["attention"] == as_json["attention"]
        assert float(csv_row["t"]) == as_json["t"]
        assert float(csv_row["score"]) == as_json["score"]
        assert csv_row["present"] == ("true" if as_json["present"] else "false")
    asleep_t = [float(r["t"]) for r in rows if r["state"] == "asleep"]
    (fell,) = [e["t"] for e in doc["events"] if e["type"] == "fell_asleep"]
    (woke,) = [e["t"] for e in doc["events"] if e["type"] == "woke_up"]
    assert min(asleep_t) == pytest.approx(fell, abs=FRAME)
    assert max(asleep_t) == pytest.approx(woke - FRAME, abs=1e-6)
    assert len(asleep_t) == round((woke - min(asleep_t)) * FPS)


def test_png_is_a_sensible_non_blank_image(analysed: Analysed) -> None:
    """report.png reads back with matplotlib at 1200×675 and is far from a flat colour."""
    import matplotlib.image
    import numpy as np

    image = np.asarray(matplotlib.image.imread(analysed.out_dir / "report.png"))
    assert image.shape[:2] == (675, 1200) and image.shape[2] in (3, 4)
    assert float(np.std(image[..., :3])) > 0.08  # matplotlib reads PNG as floats in [0, 1]


def test_stdout_has_the_summary_table_events_and_the_paths(analysed: Analysed) -> None:
    """The summary table, the sleep/wake lines and the three written paths are printed."""
    out = analysed.result.stdout
    assert out.startswith("Focus analysis of session.avi (maths)")
    assert "fell asleep" in out and "longest distraction" in out
    assert "fell asleep, timer paused" in out and "woke up, timer resumed" in out
    written = out.split("Wrote:\n", 1)[1].split()
    assert [Path(p).name for p in written] == ["timeline.json", "timeline.csv", "report.png"]
    for p in written:
        assert (analysed.out_dir.parent.parent / p).is_file()


def test_progress_bar_on_request_and_no_native_chatter(analysed: Analysed) -> None:
    """--progress draws frames done/total with % and fps; MediaPipe's own logs are kept out."""
    err = analysed.result.stderr
    assert f"{ABSENCE_FRAMES}/{ABSENCE_FRAMES} frames" in err and "100 %" in err and " fps" in err
    assert "Traceback" not in err
    for chatter in NATIVE_CHATTER:
        assert chatter not in err


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    """A path that does not exist: exit 2, one clear line, nothing written."""
    result = run_convex("analyze", "nowhere.mp4", cwd=tmp_path, env=convex_env(tmp_path))
    assert_clean_failure(result, 2, "nowhere.mp4: no such file")
    assert not (tmp_path / "convex-analysis").exists()


def test_text_file_renamed_mp4_is_refused(tmp_path: Path) -> None:
    """A text file called .mp4: exit 1, 'cannot be decoded', FFmpeg's complaints not shown."""
    fake = tmp_path / "lecture.mp4"
    fake.write_text("this is a text file, not a video\n" * 20, encoding="utf-8")
    result = run_convex("analyze", fake.name, cwd=tmp_path, env=convex_env(tmp_path))
    assert_clean_failure(result, 1, "lecture.mp4 cannot be decoded")
    assert not (tmp_path / "convex-analysis").exists()


def test_video_with_no_face_anywhere_is_refused(tmp_path: Path, cameraman: RGBImage) -> None:
    """The cameraman for 3 s: exit 1, 'no face found in any of 30 frames', no progress bar."""
    video = no_face_video(tmp_path / "cameraman.avi", cameraman, 3.0)
    result = run_convex("analyze", video.name, cwd=tmp_path, env=convex_env(tmp_path))
    assert_clean_failure(result, 1, "no face found in any of 30 frames")
    assert result.stdout == ""
    assert not (tmp_path / "convex-analysis").exists()


def test_missing_model_gives_the_actionable_message(tmp_path: Path, cameraman: RGBImage) -> None:
    """--model pointing nowhere: exit 1 with the ModelNotFoundError's advice."""
    video = no_face_video(tmp_path / "clip.avi", cameraman, 1.0)
    result = run_convex(
        "analyze", video.name, "--model", "gone.task", cwd=tmp_path, env=convex_env(tmp_path)
    )
    assert_clean_failure(result, 1, "convex model fetch")


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["--every", "0"], "must be at least 1"),
        (["--every", "11"], "use --every 10 or less"),
        (["--user", "../../etc"], "user name '../../etc'"),
    ],
)
def test_bad_options_are_usage_errors(
    tmp_path: Path, cameraman: RGBImage, args: list[str], text: str
) -> None:
    """Bad --every or --user values exit 2 with one line naming the problem."""
    video = no_face_video(tmp_path / "clip.avi", cameraman, 1.0)
    result = run_convex("analyze", video.name, *args, cwd=tmp_path, env=convex_env(tmp_path))
    assert result.returncode == 2, result.stderr
    assert text in result.stderr and "Traceback" not in result.stderr


def test_user_without_calibration_is_told_how_to_calibrate(
    tmp_path: Path, cameraman: RGBImage
) -> None:
    """--user with no stored calibration: exit 1 and the calibrate command to run."""
    video = no_face_video(tmp_path / "clip.avi", cameraman, 1.0)
    result = run_convex(
        "analyze", video.name, "--user", "nobody", cwd=tmp_path, env=convex_env(tmp_path)
    )
    assert_clean_failure(result, 1, "convex calibrate --user nobody")
