"""The installed `convex` command answers --help and version without a display or a camera."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import shared
from shared.protocol import PROTOCOL_VERSION

CONVEX = str(Path(sys.executable).with_name("convex"))


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CONVEX, *args], capture_output=True, text=True, timeout=120)


def test_help_lists_subcommands() -> None:
    """`convex --help` exits 0 and names every subcommand."""
    out = run("--help")
    assert out.returncode == 0, out.stderr
    for command in ("version", "rules"):
        assert command in out.stdout


def test_version_prints_package_and_protocol_versions() -> None:
    """`convex version` prints the package version and the wire protocol version."""
    out = run("version")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"convex {shared.__version__} (protocol {PROTOCOL_VERSION})"


def test_unknown_subcommand_fails_with_usage() -> None:
    """An unknown subcommand exits non-zero with a usage message, not a traceback."""
    out = run("fly")
    assert out.returncode == 2
    assert "usage: convex" in out.stderr and "Traceback" not in out.stderr


def test_rules_prints_the_rules() -> None:
    """`convex rules` (README's main command for now) prints the rules with their numbers."""
    out = run("rules")
    assert out.returncode == 0, out.stderr
    assert "Distraction Guard" in out.stdout and "15 s" in out.stdout
