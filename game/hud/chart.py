"""The focus chart: focus score over session time, drawn with Panda3D line and triangle geometry."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from panda3d.core import (
    Geom,
    GeomNode,
    GeomTriangles,
    GeomVertexData,
    GeomVertexFormat,
    GeomVertexWriter,
    LineSegs,
    NodePath,
    TextNode,
    TransparencyAttrib,
)

from game.config import HUD_ACCENT, HUD_MUTED, SMALL_SCALE
from game.hud.shapes import FILL_ORDER, HUD_BIN, TEXT_ORDER

Point = tuple[float, float]

LINE_THICKNESS = 3.0
"""Score line width in pixels."""

GRID_SCORES = (0.0, 50.0, 100.0)
"""Horizontal guide lines."""


def chart_points(
    samples: Sequence[Point], width: float, height: float, duration: float | None = None
) -> list[Point]:
    """Map (seconds, score 0–100) samples into a ``width`` × ``height`` box with origin bottom-left.

    ``duration`` is the time at the right edge (default: the last sample's, at
    least one second). Scores clamp to 0–100; samples past ``duration`` are dropped.
    """
    if not samples:
        return []
    t_end = duration if duration is not None else max(samples[-1][0], 1.0)
    if not (math.isfinite(t_end) and t_end > 0):
        raise ValueError(f"duration must be positive, got {t_end!r}")
    out: list[Point] = []
    for t, score in samples:
        if t > t_end + 1e-9:
            break
        clamped = min(100.0, max(0.0, score))
        out.append((width * max(0.0, t) / t_end, height * clamped / 100.0))
    return out


def time_label(seconds: float) -> str:
    """An axis label: ``"45 s"`` under a minute, ``"12 min"`` or ``"1 h 05"`` beyond."""
    if seconds < 60:
        return f"{round(seconds)} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d}"


class FocusChart:
    """A chart view of ``width`` × ``height`` (aspect2d units); its origin is the bottom-left."""

    def __init__(self, parent: NodePath, font: Any, width: float, height: float) -> None:
        self.root = parent.attachNewNode("focus-chart")
        self.width, self.height = width, height
        self.font = font
        guides = LineSegs("chart-guides")
        guides.setThickness(1.0)
        guides.setColor(0.72, 0.75, 0.84, 1.0)
        for score in GRID_SCORES:
            z = height * score / 100.0
            guides.moveTo(0.0, 0.0, z)
            guides.drawTo(width, 0.0, z)
        self.root.attachNewNode(guides.create()).setBin(HUD_BIN, FILL_ORDER - 1)
        for score in GRID_SCORES:
            self._text(f"{score:.0f}", -0.025, height * score / 100.0 - 0.012, TextNode.ARight)
        self._plot: NodePath | None = None
        self._axis: list[NodePath] = []

    def _text(self, text: str, x: float, z: float, align: int) -> NodePath:
        node = TextNode("chart-label")
        node.setFont(self.font)
        node.setText(text)
        node.setAlign(align)
        node.setTextColor(*HUD_MUTED)
        path = self.root.attachNewNode(node)
        path.setBin(HUD_BIN, TEXT_ORDER)
        path.setScale(SMALL_SCALE * 0.85)
        path.setPos(x, 0.0, z)
        return path

    def set_samples(self, samples: Sequence[Point], duration: float | None = None) -> None:
        """Draw these (seconds, score) samples, replacing what was drawn before."""
        if self._plot is not None:
            self._plot.removeNode()
        for label in self._axis:
            label.removeNode()
        self._plot = self.root.attachNewNode("plot")
        points = chart_points(samples, self.width, self.height, duration)
        t_end = duration if duration is not None else (max(samples[-1][0], 1.0) if samples else 1.0)
        self._axis = [
            self._text("0", 0.0, -0.06, TextNode.ACenter),
            self._text(time_label(t_end), self.width, -0.06, TextNode.ACenter),
        ]
        if len(points) == 1:
            # A session shorter than the sampling step still gets a (flat) line.
            points.append((self.width, points[0][1]))
        if len(points) < 2:
            return
        area = self._plot.attachNewNode(self._area(points))
        area.setTransparency(TransparencyAttrib.MAlpha)
        area.setBin(HUD_BIN, FILL_ORDER)
        line = LineSegs("score-line")
        line.setThickness(LINE_THICKNESS)
        line.setColor(*HUD_ACCENT)
        line.moveTo(points[0][0], 0.0, points[0][1])
        for x, z in points[1:]:
            line.drawTo(x, 0.0, z)
        self._plot.attachNewNode(line.create()).setBin(HUD_BIN, FILL_ORDER + 1)

    def _area(self, points: Sequence[Point]) -> GeomNode:
        """The area under the line, faintly tinted, as one triangle list."""
        vdata = GeomVertexData("area", GeomVertexFormat.getV3c4(), Geom.UHStatic)
        vdata.setNumRows(2 * len(points))
        vertex = GeomVertexWriter(vdata, "vertex")
        colour = GeomVertexWriter(vdata, "color")
        r, g, b, _ = HUD_ACCENT
        for x, z in points:
            vertex.addData3(x, 0.0, 0.0)
            colour.addData4(r, g, b, 0.05)
            vertex.addData3(x, 0.0, z)
            colour.addData4(r, g, b, 0.28)
        tris = GeomTriangles(Geom.UHStatic)
        for i in range(len(points) - 1):
            a, b_, c, d = 2 * i, 2 * i + 1, 2 * i + 2, 2 * i + 3
            tris.addVertices(a, c, b_)
            tris.addVertices(b_, c, d)
        geom = Geom(vdata)
        geom.addPrimitive(tris)
        node = GeomNode("area")
        node.addGeom(geom)
        return node

    def destroy(self) -> None:
        """Remove the chart."""
        self.root.removeNode()
