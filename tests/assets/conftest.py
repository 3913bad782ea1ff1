"""Fixtures for the asset tests: models built once per session, an offscreen Panda3D per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from assets import build
from assets.gltf import GlbFile
from assets.preview import Preview
from assets.sheet import HERO


@pytest.fixture(scope="session")
def fresh_models() -> dict[str, bytes]:
    """Every model in the catalogue, built in memory once for the whole session."""
    return {name: make() for name, make in build.catalogue().items()}


@pytest.fixture(scope="session")
def hero_bytes(fresh_models: dict[str, bytes]) -> bytes:
    """The hero avatar preset's GLB bytes."""
    return fresh_models[build.avatar_file(HERO)]


@pytest.fixture(scope="session")
def hero(hero_bytes: bytes) -> GlbFile:
    """The hero avatar preset, parsed."""
    return GlbFile.parse(hero_bytes)


@pytest.fixture(scope="module")
def preview() -> Iterator[Preview]:
    """One offscreen ShowBase for a test module, torn down after it (never two at once)."""
    pv = Preview(256, 256)
    try:
        yield pv
    finally:
        pv.close()
