"""Finding the avatar GLBs: the shipped file when present, else built once into the user cache."""

from __future__ import annotations

from pathlib import Path

import pytest

import assets.build
from game.avatar import models
from game.avatar.models import UnknownModelError, avatar_path, boss_path, cache_root


def test_shipped_model_is_used_when_present() -> None:
    """With the package's models folder in place, the shipped GLB is returned as is."""
    path = avatar_path("mika")
    assert path.is_file() and path.suffix == ".glb"


def test_missing_model_is_built_once_into_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without shipped models the GLB is built into the cache and reused on the next call."""
    monkeypatch.setattr(assets.build, "MODELS_DIR", tmp_path / "no-models")
    cache = tmp_path / "cache"
    first = avatar_path("sam", cache=cache)
    assert first.is_file() and cache in first.parents
    assert first.read_bytes()[:4] == b"glTF"
    stamp = first.stat().st_mtime_ns
    assert avatar_path("sam", cache=cache) == first
    assert first.stat().st_mtime_ns == stamp
    assert not list(first.parent.glob("*.part"))
    assert boss_path("slime", cache=cache).parent == first.parent


def test_unknown_names_are_refused() -> None:
    """An unknown preset or boss raises with the list of valid names."""
    with pytest.raises(UnknownModelError, match="mika"):
        avatar_path("nobody")
    with pytest.raises(UnknownModelError, match="slime"):
        boss_path("kraken")


def test_cache_root_follows_xdg() -> None:
    """The cache lives under $XDG_CACHE_HOME/convex/models, or ~/.cache without it."""
    assert cache_root({"XDG_CACHE_HOME": "/x"}) == Path("/x/convex/models")
    assert cache_root({}) == Path.home() / ".cache" / "convex" / "models"
    assert "mika" in models.presets()
