"""The Convex game client: face capture, the avatar and the scenes, and the ``convex`` command."""
