"""Deterministic generators for the avatar and boss models, and the built models themselves."""
