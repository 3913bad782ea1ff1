"""The client's scenes (solo study, session summary) and the solo session's logic.

:mod:`.base` defines :class:`~.base.Scene` and the scene/command enums;
:mod:`.session` is the solo session's Panda3D-free logic; :mod:`.solo` and
:mod:`.summary` are the scenes; :mod:`.history` keeps finished sessions for
the local streak.
"""
