"""Fewer draw calls for flat-coloured models: material colours baked into vertex colours.

Theory of operation
-------------------
On llvmpipe every draw call costs tens of microseconds of CPU whatever its
size, and after ``flattenStrong`` our avatar still draws one Geom per
material (18). Most of those materials differ only in colour. With
fixed-function lighting a material that sets neither ambient nor diffuse
colour takes both from the vertex colour (``glColorMaterial``), so writing
each Geom's material colour into a vertex colour column and giving the Geoms
a shared, colourless copy of the material draws the same pixels. Geoms that
then have equal render states are merged (``GeomNode.unify``): 18 → 6 draw
calls for our avatar (the plain parts in one or two Geoms, depending on the
graphics back end's index limit, the double-sided hair, and the three self-lit
materials: sclera, highlight, teeth).

Only Geoms whose material is a plain colour qualify: no texture, no colour
attribute other than the vertex colour, ambient equal to diffuse, opaque.
A vertex data whose rows two differently coloured Geoms share is left as it
is, and so is any Geom that does not qualify: a user's textured model loads
and draws exactly as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from panda3d.core import (
    ColorAttrib,
    GeomEnums,
    GeomNode,
    GeomVertexArrayFormat,
    GeomVertexData,
    GeomVertexFormat,
    InternalName,
    Material,
    MaterialAttrib,
    NodePath,
    TextureAttrib,
)

MAX_INDICES = 1 << 16
"""Largest index count of one merged Geom (``GeomNode.unify``'s limit)."""


@dataclass(frozen=True)
class _Look:
    """Everything of a flat material but its colour: Geoms with equal looks can merge."""

    emission: tuple[float, ...]
    specular: tuple[float, ...]
    shininess: float
    twoside: bool
    local: bool


def _flat_colour(state: Any) -> tuple[tuple[float, float, float, float], _Look] | None:
    """The colour and look of a plain-coloured material state, or None if it is not one."""
    if not state.hasAttrib(MaterialAttrib):
        return None
    textures = state.getAttrib(TextureAttrib)
    if textures is not None and textures.getNumOnStages() > 0:
        return None
    colour_attrib = state.getAttrib(ColorAttrib)
    if colour_attrib is not None and colour_attrib.getColorType() != ColorAttrib.T_vertex:
        return None
    material = state.getAttrib(MaterialAttrib).getMaterial()
    if material is None:
        return None
    diffuse = tuple(material.getDiffuse())
    if tuple(material.getAmbient()) != diffuse or diffuse[3] < 1.0:
        return None
    look = _Look(
        emission=tuple(material.getEmission()) if material.hasEmission() else (0.0,) * 4,
        # A PBR material derives a specular colour (0.04 for a dielectric) even when none is set.
        specular=tuple(material.getSpecular()),
        shininess=float(material.getShininess()),
        twoside=bool(material.getTwoside()),
        local=bool(material.getLocal()),
    )
    r, g, b, a = (float(c) for c in diffuse)
    return (r, g, b, a), look


def _material(look: _Look) -> Any:
    material = Material("baked")
    if any(look.emission):
        material.setEmission(look.emission)
    material.setSpecular(look.specular)
    material.setShininess(look.shininess)
    material.setTwoside(look.twoside)
    material.setLocal(look.local)
    return material


def _rows(geom: Any) -> Any:
    """Vertex rows a Geom's primitives use."""
    parts = []
    for k in range(geom.getNumPrimitives()):
        prim = geom.getPrimitive(k)
        if prim.isIndexed():
            dtype = {
                GeomEnums.NT_uint8: np.uint8,
                GeomEnums.NT_uint16: np.uint16,
                GeomEnums.NT_uint32: np.uint32,
            }[prim.getIndexType()]
            parts.append(np.frombuffer(memoryview(prim.getVertices()), dtype=dtype))
        else:
            first = prim.getFirstVertex()
            parts.append(np.arange(first, first + prim.getNumVertices()))
    return np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)


def _with_colours(data: Any, rows_colours: list[tuple[Any, tuple[float, ...]]]) -> Any | None:
    """A copy of ``data`` with a float32 colour column; None if two colours claim one row."""
    colours = np.full((data.getNumRows(), 4), np.nan, dtype=np.float32)
    for rows, colour in rows_colours:
        current = colours[rows]
        clash = ~np.isnan(current[:, 0]) & np.any(current != np.asarray(colour, np.float32), axis=1)
        if np.any(clash):
            return None
        colours[rows] = colour
    colours[np.isnan(colours[:, 0])] = 1.0
    array = GeomVertexArrayFormat()
    array.addColumn(InternalName.getColor(), 4, GeomEnums.NT_float32, GeomEnums.C_color)
    fmt = GeomVertexFormat(data.getFormat())
    fmt.addArray(array)
    new = GeomVertexData(data.convertTo(GeomVertexFormat.registerFormat(fmt)))
    index = new.getFormat().getArrayWith(InternalName.getColor())
    view = np.frombuffer(memoryview(new.modifyArray(index)), dtype=np.float32)
    view[:] = colours.reshape(-1)
    return new


def bake_flat_materials(root: NodePath) -> tuple[int, int]:
    """Bake plain material colours into vertex colours under ``root`` and merge Geoms.

    Returns the number of Geoms before and after.
    """
    before = after = 0
    materials: dict[_Look, Any] = {}
    for geom_np in root.findAllMatches("**/+GeomNode"):
        node: GeomNode = geom_np.node()
        before += node.getNumGeoms()
        plans: dict[int, tuple[Any, list[tuple[int, tuple[float, ...], _Look]]]] = {}
        for i in range(node.getNumGeoms()):
            flat = _flat_colour(node.getGeomState(i))
            if flat is None or node.getGeom(i).getVertexData().hasColumn(InternalName.getColor()):
                continue
            data = node.getGeom(i).getVertexData()
            entry = plans.setdefault(data.this, (data, []))
            entry[1].append((i, flat[0], flat[1]))
        for data, geoms in plans.values():
            rows_colours = [(_rows(node.getGeom(i)), colour) for i, colour, _look in geoms]
            new = _with_colours(data, rows_colours)
            if new is None:
                continue
            for i, _colour, look in geoms:
                material = materials.setdefault(look, _material(look))
                node.modifyGeom(i).setVertexData(new)
                state = node.getGeomState(i).setAttrib(MaterialAttrib.make(material))
                node.setGeomState(i, state)
        node.unify(MAX_INDICES, False)
        after += node.getNumGeoms()
    return before, after
