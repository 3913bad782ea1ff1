"""Report writers: ``timeline.json``, ``timeline.csv`` and ``report.png``, plus the text summary.

All three files come from one :class:`~game.analysis.timeline.Timeline`; the JSON rows and the
CSV rows are the same :meth:`~game.analysis.timeline.FrameRow.values`, so they agree value for
value. :func:`write_report` renders all three into temporary files in the output directory first
and only then renames each over its final name, so a failure leaves the previous reports (or
nothing) in place and never a half-written file.

``report.png`` (matplotlib's Agg canvas, no display needed; pyplot's global state is not used):
the focus score over time, away runs shaded in the colour of the attention that opened them,
sleep periods hatched with their start and end marked, confusion episodes as a band along the
top, a strip of the per-frame attention underneath, and a side panel with the legend and the
summary numbers. The title names the subject and the file.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Final

from game.analysis.timeline import ROW_FIELDS, Timeline
from shared.face import Attention
from shared.focus import (
    AWAY_FLAG_S,
    AwayEnded,
    AwayFlagged,
    AwayStarted,
    ConfusionEpisode,
    FellAsleep,
    FocusEvent,
    TimerPaused,
    TimerResumed,
    WokeUp,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

JSON_NAME: Final[str] = "timeline.json"
CSV_NAME: Final[str] = "timeline.csv"
PNG_NAME: Final[str] = "report.png"

FIGURE_SIZE_IN: Final[tuple[float, float]] = (12.0, 6.75)
FIGURE_DPI: Final[int] = 100
"""report.png is 1200×675 pixels: readable on a laptop screen, small enough to attach."""

ATTENTION_COLOURS: Final[dict[Attention, str]] = {
    Attention.FOCUSED: "#2e9d5b",
    Attention.LOOKING_LEFT: "#f39c12",
    Attention.LOOKING_RIGHT: "#e67e22",
    Attention.LOOKING_UP: "#e74c3c",
    Attention.LOOKING_DOWN: "#c0392b",
    Attention.LOOKING_DIAGONAL: "#d35400",
    Attention.EYES_CLOSED: "#34495e",
    Attention.NO_FACE: "#7f8c8d",
    Attention.UNCERTAIN: "#d5d8dc",
}
"""One colour per attention, used for the away shading, the attention strip and the legend."""

SCORE_COLOUR: Final[str] = "#1f4e79"
SLEEP_COLOUR: Final[str] = "#2c3e50"
CONFUSION_COLOUR: Final[str] = "#8e44ad"

LABEL_BOX: Final[dict[str, object]] = {"facecolor": "white", "edgecolor": "none", "pad": 1.0}
"""Background behind the sleep labels, so that they stay legible over the hatching."""

AWAY_ALPHA: Final[float] = 0.28
"""Opacity of the away shading: the score line must stay readable over it."""

MAX_PRINTED_EVENTS: Final[int] = 20
"""Events listed by :func:`format_events` before it refers the reader to timeline.json."""


@dataclass(frozen=True, slots=True)
class ReportPaths:
    """Where :func:`write_report` put the three files."""

    json: Path
    csv: Path
    png: Path

    def __iter__(self) -> Iterator[Path]:
        return iter((self.json, self.csv, self.png))


# -- text ------------------------------------------------------------------------------------


def timeline_json(timeline: Timeline) -> str:
    """The ``timeline.json`` text (one row per line, so that diffs and ``grep`` stay usable)."""
    doc = timeline.to_json()
    rows = doc.pop("rows")
    head = json.dumps(doc, indent=2, ensure_ascii=False)
    body = ",\n".join("    " + json.dumps(row, ensure_ascii=False) for row in rows)
    # Re-open the object to append "rows" last, one compact row per line.
    return f'{head[:-2]},\n  "rows": [\n{body}\n  ]\n}}\n'


def timeline_csv(timeline: Timeline) -> str:
    """The ``timeline.csv`` text: a header of :data:`ROW_FIELDS`, then one row per frame."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ROW_FIELDS)
    for row in timeline.rows:
        writer.writerow(
            ("true" if v else "false") if isinstance(v, bool) else v for v in row.values()
        )
    return out.getvalue()


def _seconds(value: float) -> str:
    return f"{value:.1f} s"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def summary_rows(timeline: Timeline) -> list[tuple[str, str]]:
    """(label, value) pairs of the summary, for the terminal table and the picture."""
    s = timeline.summary
    meta = timeline.meta
    duration = s.duration_s
    share = 100.0 * s.focused_s / duration if duration > 0 else 0.0
    fps = f", {meta.fps:g} fps" if meta.fps is not None else ""
    every = f", every {meta.every}" if meta.every > 1 else ""
    return [
        ("duration", f"{_seconds(duration)}  ({_count(timeline.frames, 'frame')}{fps}{every})"),
        ("focused", f"{_seconds(s.focused_s)}  ({share:.0f} %)"),
        ("away (awake)", _seconds(s.away_s)),
        ("asleep", _seconds(s.asleep_s)),
        ("uncertain", _seconds(s.uncertain_s)),
        ("timer ran", _seconds(s.timer_s)),
        ("mean focus score", f"{s.mean_score:.1f} / 100"),
        ("final focus score", f"{s.final_score:.1f} / 100"),
        ("blinks", f"{s.blinks}  ({s.blinks_per_min:.1f} per min)"),
        ("distractions", f"{s.distractions}  ({s.flagged_distractions} of ≥ {AWAY_FLAG_S:g} s)"),
        ("longest distraction", _seconds(s.longest_distraction_s)),
        ("fell asleep", f"{s.sleeps}×"),
        (
            "cognitive load",
            f"{_count(s.cognitive_load_moments, 'moment')}  ({_seconds(s.cognitive_load_s)})",
        ),
        ("face found in", f"{s.face_frames} of {timeline.frames} frames"),
    ]


def format_summary_table(timeline: Timeline) -> str:
    """The summary as an aligned two-column table with a heading line."""
    meta = timeline.meta
    subject = meta.subject or "no subject"
    calibrated = f", calibrated for {meta.calibration.user}" if meta.calibration is not None else ""
    rows = summary_rows(timeline)
    width = max(len(label) for label, _ in rows)
    lines = [f"Focus analysis of {Path(meta.source).name} ({subject}{calibrated})"]
    lines += [f"  {label:<{width}}  {value}" for label, value in rows]
    return "\n".join(lines)


def describe_event(event: FocusEvent) -> str | None:
    """A short human description of an event; None for the timer events that shadow sleep/wake."""
    if isinstance(event, FellAsleep):
        return "fell asleep, timer paused"
    if isinstance(event, WokeUp):
        return "woke up, timer resumed"
    if isinstance(event, TimerPaused | TimerResumed):
        return None
    if isinstance(event, AwayStarted):
        return f"away: {event.kind.value}"
    if isinstance(event, AwayFlagged):
        return f"away ≥ {AWAY_FLAG_S:g} s: {event.kind.value} (since {event.started:.2f} s)"
    if isinstance(event, AwayEnded):
        return f"back after {event.duration:.1f} s away ({event.kind.value})"
    if isinstance(event, ConfusionEpisode):
        subject = f" in {event.subject}" if event.subject else ""
        return f"confused{subject} from {event.start:.2f} s ({event.duration:.1f} s)"
    raise TypeError(f"not a focus event: {event!r}")


def format_events(timeline: Timeline, limit: int = MAX_PRINTED_EVENTS) -> str:
    """The events as ``time  description`` lines, at most ``limit`` of them."""
    lines = [
        f"  {event.t:8.2f} s  {text}"
        for event in timeline.events
        if (text := describe_event(event)) is not None
    ]
    if not lines:
        return "Events: none"
    more = len(lines) - limit
    shown = lines[:limit]
    if more > 0:
        shown.append(f"  … {more} more in {JSON_NAME}")
    return "\n".join(["Events:", *shown])


# -- picture ---------------------------------------------------------------------------------


def _frame_step(timeline: Timeline) -> float:
    """How long the last frame is drawn for: the analysed frame interval, if known."""
    meta = timeline.meta
    if meta.fps is not None:
        return meta.every / meta.fps
    if timeline.frames > 1:
        return (timeline.end - timeline.start) / (timeline.frames - 1)
    return 0.0


def _attention_runs(timeline: Timeline) -> list[tuple[Attention, float, float]]:
    """Contiguous runs of one attention as (attention, start, end), each row held to the next."""
    rows = timeline.rows
    runs: list[tuple[Attention, float, float]] = []
    start = 0
    for i in range(1, len(rows) + 1):
        if i == len(rows) or rows[i].attention is not rows[start].attention:
            end = rows[i].t if i < len(rows) else rows[-1].t + _frame_step(timeline)
            runs.append((rows[start].attention, rows[start].t, end))
            start = i
    return runs


def _draw_score(ax: Axes, timeline: Timeline) -> None:
    for d in timeline.distractions:
        ax.axvspan(d.start, d.end, color=ATTENTION_COLOURS[d.kind], alpha=AWAY_ALPHA, lw=0)
    for s in timeline.sleeps:
        ax.axvspan(s.start, s.end, facecolor="none", edgecolor=SLEEP_COLOUR, hatch="//", lw=0)
        ax.axvline(s.start, color=SLEEP_COLOUR, ls="--", lw=1.2)
        ax.text(
            s.start,
            103,
            " fell asleep",
            color=SLEEP_COLOUR,
            fontsize=8,
            va="center",
            bbox=LABEL_BOX,
        )
        if not s.ongoing:
            ax.axvline(s.end, color=SLEEP_COLOUR, ls=":", lw=1.2)
            ax.text(
                s.end, 97, " woke up", color=SLEEP_COLOUR, fontsize=8, va="center", bbox=LABEL_BOX
            )
    for c in timeline.confusion:
        ax.axvspan(c.start, c.end, ymin=0.955, ymax=1.0, color=CONFUSION_COLOUR, alpha=0.85, lw=0)
    ax.plot(
        [r.t for r in timeline.rows],
        [r.score for r in timeline.rows],
        color=SCORE_COLOUR,
        lw=1.8,
    )
    ax.set_ylim(0, 110)
    ax.set_ylabel("focus score")
    ax.grid(alpha=0.3)
    ax.tick_params(labelbottom=False)


def _draw_strip(ax: Axes, timeline: Timeline) -> None:
    for attention, start, end in _attention_runs(timeline):
        ax.broken_barh([(start, end - start)], (0, 1), facecolors=ATTENTION_COLOURS[attention])
    ax.set_ylim(0, 1)
    ax.set_yticks([])
    ax.set_ylabel("attention", fontsize=9)
    ax.set_xlabel("time in the recording (s)")


def _draw_side_panel(ax: Axes, timeline: Timeline) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    ax.axis("off")
    rows = summary_rows(timeline)
    width = max(len(label) for label, _ in rows)
    text = "\n".join(f"{label:<{width}}  {value}" for label, value in rows)
    ax.text(
        0.0,
        1.0,
        text,
        va="top",
        ha="left",
        family="monospace",
        fontsize=7.5,
        transform=ax.transAxes,
        bbox={"boxstyle": "round,pad=0.6", "facecolor": "#f7f9fb", "edgecolor": "#b0b8c0"},
    )
    handles: list[Line2D | Patch] = [Line2D([], [], color=SCORE_COLOUR, lw=1.8, label="score")]
    seen = {r.attention for r in timeline.rows} | {d.kind for d in timeline.distractions}
    for attention, colour in ATTENTION_COLOURS.items():
        if attention in seen:
            handles.append(Patch(facecolor=colour, label=attention.value.replace("_", " ")))
    if timeline.sleeps:
        handles.append(Patch(facecolor="white", edgecolor=SLEEP_COLOUR, hatch="//", label="asleep"))
    if timeline.confusion:
        handles.append(Patch(facecolor=CONFUSION_COLOUR, label="confused (cognitive load)"))
    ax.legend(handles=handles, loc="lower left", fontsize=8, frameon=False, borderaxespad=0)


def render_png(timeline: Timeline, out: IO[bytes]) -> None:
    """Draw ``report.png`` into a binary stream (see the module docstring)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=FIGURE_SIZE_IN, dpi=FIGURE_DPI, facecolor="white")
    FigureCanvasAgg(figure)
    grid = figure.add_gridspec(
        2,
        2,
        width_ratios=(3.0, 1.15),
        height_ratios=(5.0, 0.7),
        left=0.065,
        right=0.985,
        top=0.9,
        bottom=0.09,
        wspace=0.06,
        hspace=0.06,
    )
    score_ax = figure.add_subplot(grid[0, 0])
    strip_ax = figure.add_subplot(grid[1, 0], sharex=score_ax)
    side_ax = figure.add_subplot(grid[:, 1])
    _draw_score(score_ax, timeline)
    _draw_strip(strip_ax, timeline)
    _draw_side_panel(side_ax, timeline)
    score_ax.set_xlim(timeline.start, max(timeline.end + _frame_step(timeline), timeline.start + 1))
    meta = timeline.meta
    figure.suptitle(
        f"Focus report: {meta.subject or 'no subject'} — {Path(meta.source).name}",
        fontsize=13,
        fontweight="bold",
    )
    figure.savefig(out, format="png", dpi=FIGURE_DPI)


# -- files -----------------------------------------------------------------------------------


def _render_to_temp(directory: Path, name: str, render: Callable[[IO[bytes]], None]) -> Path:
    fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            render(out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _text(text: str) -> Callable[[IO[bytes]], None]:
    data = text.encode("utf-8")

    def write(out: IO[bytes]) -> None:
        out.write(data)

    return write


def write_report(timeline: Timeline, out_dir: str | os.PathLike[str]) -> ReportPaths:
    """Write the three files into ``out_dir`` (created if needed); see the module docstring."""
    directory = Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    steps: Sequence[tuple[str, Callable[[IO[bytes]], None]]] = (
        (JSON_NAME, _text(timeline_json(timeline))),
        (CSV_NAME, _text(timeline_csv(timeline))),
        (PNG_NAME, lambda out: render_png(timeline, out)),
    )
    temps: list[Path] = []
    try:
        for name, render in steps:
            temps.append(_render_to_temp(directory, name, render))
        for tmp, (name, _) in zip(temps, steps, strict=True):
            os.replace(tmp, directory / name)
    except BaseException:
        for tmp in temps:
            tmp.unlink(missing_ok=True)
        raise
    return ReportPaths(directory / JSON_NAME, directory / CSV_NAME, directory / PNG_NAME)
