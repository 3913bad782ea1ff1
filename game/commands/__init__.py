"""The ``convex`` subcommands, one module per group, each with ``register(subparsers)``.

Modules here import only the standard library at the top, so that ``convex --help`` stays fast;
MediaPipe, OpenCV, NumPy and matplotlib are imported inside the handlers that need them.
Handlers turn every expected failure into a one-line message on stderr and an exit code
(:mod:`.common`): 2 for a bad argument (missing file, bad value), 1 for a failure while running.
"""
