"""Convex's pure core: rules and wire formats shared by the game client and the server.

Rule 1: nothing in this package touches a socket, a window, a thread, the clock
or a random generator. Time comes in as arguments (``now``, ``dt``); state comes
in and goes out as values. ``tests/shared/test_purity.py`` enforces it.
"""

from __future__ import annotations

__version__ = "0.1.0"
