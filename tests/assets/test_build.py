"""`python -m assets.build`: writes the chosen models with a progress line each; --check spots stale files."""

from __future__ import annotations

from pathlib import Path

import pytest

from assets import build


def test_build_then_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A build writes one progress line per model; --check on the result passes."""
    args = ["--out", str(tmp_path), "--preset", "leo", "--boss", "slime"]
    assert build.main(args) == 0
    out = capsys.readouterr().out
    assert "avatar-leo.glb" in out and "boss-slime.glb" in out and "KB" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["avatar-leo.glb", "boss-slime.glb"]
    assert build.main([*args, "--check"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_check_fails_on_a_stale_or_missing_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--check exits 1 and names the model when a file differs from a fresh build or is missing."""
    args = ["--out", str(tmp_path), "--boss", "slime", "--boss", "golem"]
    assert build.main(args) == 0
    (tmp_path / "boss-slime.glb").write_bytes(b"not a model")
    (tmp_path / "boss-golem.glb").unlink()
    capsys.readouterr()
    assert build.main([*args, "--check"]) == 1
    out = capsys.readouterr().out
    assert "boss-slime.glb" in out and "STALE" in out
    assert "boss-golem.glb" in out and "missing" in out


def test_unknown_preset_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown preset is refused by the argument parser (exit 2) with the choices."""
    with pytest.raises(SystemExit) as exc:
        build.main(["--preset", "zed"])
    assert exc.value.code == 2
    assert "mika" in capsys.readouterr().err
