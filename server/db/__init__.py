"""Persistence: one SQLAlchemy data layer over SQLite (default) or PostgreSQL, with Alembic migrations."""
