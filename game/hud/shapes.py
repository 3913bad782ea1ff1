"""Flat 2-D shapes for the HUD: rounded panels, bars, and a vertical gradient backdrop."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

from panda3d.core import (
    Geom,
    GeomNode,
    GeomTriangles,
    GeomVertexData,
    GeomVertexFormat,
    GeomVertexWriter,
    NodePath,
    TransparencyAttrib,
)

Colour = tuple[float, float, float, float]

CORNER_SEGMENTS: Final[int] = 6
"""Segments per rounded corner: smooth at HUD sizes, a few dozen triangles per panel."""

HUD_BIN: Final[str] = "fixed"
"""Cull bin of every HUD node: drawn in explicit order (2-D nodes have no depth to sort by)."""
PANEL_ORDER: Final[int] = 0
FILL_ORDER: Final[int] = 2
TEXT_ORDER: Final[int] = 10
"""Draw orders: panels first, then bars and plots over them, then text on top."""


def _polygon_node(
    name: str, points: Sequence[tuple[float, float]], colours: Sequence[Colour]
) -> GeomNode:
    """A convex polygon as a triangle fan in the XZ plane (aspect2d's screen plane)."""
    vdata = GeomVertexData(name, GeomVertexFormat.getV3c4(), Geom.UHStatic)
    vdata.setNumRows(len(points))
    vertex = GeomVertexWriter(vdata, "vertex")
    colour = GeomVertexWriter(vdata, "color")
    for (x, z), c in zip(points, colours, strict=True):
        vertex.addData3(x, 0.0, z)
        colour.addData4(*c)
    tris = GeomTriangles(Geom.UHStatic)
    for i in range(1, len(points) - 1):
        tris.addVertices(0, i, i + 1)
    geom = Geom(vdata)
    geom.addPrimitive(tris)
    node = GeomNode(name)
    node.addGeom(geom)
    return node


def rounded_rect_points(
    left: float, bottom: float, width: float, height: float, radius: float
) -> list[tuple[float, float]]:
    """Outline of a rounded rectangle, counter-clockwise, starting at the bottom-right corner."""
    r = max(0.0, min(radius, width / 2.0, height / 2.0))
    right, top = left + width, bottom + height
    corners = (
        (right - r, bottom + r, -90.0),
        (right - r, top - r, 0.0),
        (left + r, top - r, 90.0),
        (left + r, bottom + r, 180.0),
    )
    points: list[tuple[float, float]] = []
    for cx, cz, start in corners:
        for i in range(CORNER_SEGMENTS + 1):
            a = math.radians(start + 90.0 * i / CORNER_SEGMENTS)
            points.append((cx + r * math.cos(a), cz + r * math.sin(a)))
    return points


def rounded_rect(
    parent: NodePath,
    left: float,
    bottom: float,
    width: float,
    height: float,
    *,
    radius: float,
    colour: Colour,
    name: str = "panel",
    order: int = PANEL_ORDER,
) -> NodePath:
    """A filled rounded rectangle under ``parent`` (alpha blended when ``colour`` is translucent)."""
    points = rounded_rect_points(left, bottom, width, height, radius)
    node = parent.attachNewNode(_polygon_node(name, points, [colour] * len(points)))
    node.setBin(HUD_BIN, order)
    if colour[3] < 1.0:
        node.setTransparency(TransparencyAttrib.MAlpha)
    return node


def vertical_gradient(
    parent: NodePath,
    left: float,
    bottom: float,
    width: float,
    height: float,
    *,
    top_colour: Colour,
    bottom_colour: Colour,
    name: str = "gradient",
) -> NodePath:
    """A rectangle shading from ``bottom_colour`` to ``top_colour``."""
    points = [
        (left, bottom),
        (left + width, bottom),
        (left + width, bottom + height),
        (left, bottom + height),
    ]
    colours = [bottom_colour, bottom_colour, top_colour, top_colour]
    return parent.attachNewNode(_polygon_node(name, points, colours))


def _disc_node(
    name: str, radius: float, centre: Colour, rim: Colour, segments: int = 48
) -> GeomNode:
    points = [(0.0, 0.0)] + [
        (
            radius * math.cos(2 * math.pi * i / segments),
            radius * math.sin(2 * math.pi * i / segments),
        )
        for i in range(segments + 1)
    ]
    return _polygon_node(name, points, [centre] + [rim] * (segments + 1))


def backdrop(camera: NodePath, render: NodePath) -> NodePath:
    """The stage behind the avatar: a gradient wall that moves with the camera, and a halo.

    Both are unlit and drawn before anything else, so they never hide the avatar.
    """
    from game.config import BACKDROP_BOTTOM, BACKDROP_TOP, HALO_CENTRE, HALO_COLOUR, HALO_RADIUS

    # Far enough to sit behind everything, wide enough for any window shape up to 3:1.
    wall = vertical_gradient(
        camera,
        -30.0,
        -10.0,
        60.0,
        20.0,
        top_colour=BACKDROP_TOP,
        bottom_colour=BACKDROP_BOTTOM,
        name="backdrop",
    )
    wall.setY(40.0)
    halo = render.attachNewNode(
        _disc_node("halo", HALO_RADIUS, HALO_COLOUR, (*HALO_COLOUR[:3], 0.0))
    )
    halo.setPos(*HALO_CENTRE)
    halo.setTransparency(TransparencyAttrib.MAlpha)
    for node in (wall, halo):
        node.setLightOff(1)
        node.setDepthWrite(False)
        node.setBin("background", 10 if node is halo else 0)
    return wall
