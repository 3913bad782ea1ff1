"""Where the built avatar and boss GLBs are: the committed ``assets/models/``, else built once.

The generator in :mod:`assets` is deterministic, so a model built here is the
same file the repository ships. When the package data is missing (a partial
checkout, a wheel built without it), the model is built on first use into
``$XDG_CACHE_HOME/convex/models/<hash>/`` (``~/.cache/...`` when unset),
where ``<hash>`` digests the generator's source so that a changed generator
never reuses a stale file. The file is written to a temporary name and
renamed into place, so a crash never leaves half a model behind.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Final

DEFAULT_PRESET: Final[str] = "mika"
"""The avatar a new player gets."""


class UnknownModelError(ValueError):
    """An avatar preset or boss kind the generator does not know."""


def cache_root(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/convex/models`` (``~/.cache/convex/models`` when unset)."""
    env = os.environ if env is None else env
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "convex" / "models"


def _generator_digest() -> str:
    import assets

    folder = Path(assets.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _resolve(name: str, build: Callable[[], bytes], cache: Path | None) -> Path:
    from assets.build import MODELS_DIR

    shipped = MODELS_DIR / name
    if shipped.is_file():
        return shipped
    folder = (cache or cache_root()) / _generator_digest()
    path = folder / name
    if path.is_file():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=name, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(build())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def avatar_path(preset: str = DEFAULT_PRESET, *, cache: Path | None = None) -> Path:
    """The GLB of an avatar preset (see :data:`assets.avatar.PRESETS`), building it if needed."""
    from assets import avatar
    from assets.build import avatar_file

    if preset not in avatar.PRESETS:
        raise UnknownModelError(
            f"unknown avatar preset {preset!r}; choose one of {', '.join(avatar.PRESETS)}"
        )
    style = avatar.AvatarStyle.preset(preset)
    return _resolve(avatar_file(preset), lambda: avatar.build_glb(style, preset), cache)


def boss_path(kind: str, *, cache: Path | None = None) -> Path:
    """The GLB of a boss kind (see :data:`assets.boss.BOSS_KINDS`), building it if needed."""
    from assets import boss
    from assets.build import boss_file

    if kind not in boss.BOSS_KINDS:
        raise UnknownModelError(
            f"unknown boss {kind!r}; choose one of {', '.join(boss.BOSS_KINDS)}"
        )
    return _resolve(boss_file(kind), lambda: boss.build_glb(kind), cache)


def presets() -> tuple[str, ...]:
    """The avatar preset names."""
    from assets import avatar

    return tuple(avatar.PRESETS)
