"""Boss Monsters: each carries idle/hit/defeated/blink morphs, loads in Panda3D, and visibly moves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assets import boss, build
from assets.gltf import GlbFile
from assets.preview import Preview, changed_mask

CAMERA = ((1.25, -4.3, 1.45), (0.0, 0.0, 0.66))


@pytest.mark.parametrize("kind", boss.BOSS_KINDS)
def test_boss_has_the_game_morphs(fresh_models: dict[str, bytes], kind: str) -> None:
    """Each boss declares exactly the documented morphs, and each moves vertices clearly."""
    glb = GlbFile.parse(fresh_models[build.boss_file(kind)])
    assert glb.target_names() == set(boss.BOSS_MORPHS)
    for name, pieces in glb.targets().items():
        biggest = max(float(np.linalg.norm(d, axis=1).max()) for _, d in pieces)
        assert biggest > 0.02, name


def test_unknown_boss_is_refused() -> None:
    """Asking for a boss that does not exist names the known ones."""
    with pytest.raises(boss.UnknownBossError, match="slime"):
        boss.build_glb("hydra")


@pytest.mark.parametrize("kind", boss.BOSS_KINDS)
def test_boss_loads_and_idle_and_hit_change_the_picture(
    preview: Preview, fresh_models: dict[str, bytes], tmp_path: Path, kind: str
) -> None:
    """In Panda3D offscreen the boss is drawn, and its idle and hit sliders change the image."""
    path = tmp_path / build.boss_file(kind)
    path.write_bytes(fresh_models[build.boss_file(kind)])
    actor = preview.load(path)
    try:
        preview.look_at(*CAMERA)
        preview.pose(actor, {})
        rest = preview.snapshot()
        assert (rest.std(axis=(0, 1)) > 5).any()
        for morph in ("idle", "hit"):
            preview.pose(actor, {morph: 1.0})
            assert changed_mask(rest, preview.snapshot()).sum() > 200, morph
    finally:
        preview.unload(actor)
