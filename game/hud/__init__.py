"""Heads-up display widgets: one small class per widget, each a view with a settable state.

:mod:`.timer` (pomodoro clock), :mod:`.meter` (focus meter with a clamping
``value``), :mod:`.overlay` (distraction banner), :mod:`.streak` (streak
badge), :mod:`.chart` (focus-over-time chart), :mod:`.preview` (local camera
preview), :mod:`.text` and :mod:`.shapes` (fonts, labels, panels). Their text
formatting is plain functions, testable without a window.
"""
