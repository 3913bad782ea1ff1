"""Server settings: defaults that run with zero set-up, overridable from the environment or `.env`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.protocol import MAX_ROOM_MEMBERS


def user_data_dir() -> Path:
    """Where Convex keeps per-user data: `$XDG_DATA_HOME/convex` or `~/.local/share/convex`."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "convex"


def default_database_url() -> str:
    """SQLite in the user's data directory: the embedded default that needs no set-up."""
    return f"sqlite+aiosqlite:///{user_data_dir() / 'server.sqlite3'}"


class Settings(BaseSettings):
    """Every server setting. Environment variables are the field names prefixed `CONVEX_`."""

    model_config = SettingsConfigDict(
        env_prefix="CONVEX_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    host: str = Field("127.0.0.1", description="Interface to listen on.")
    port: Annotated[int, Field(ge=0, le=65535, description="TCP port (0 picks a free one).")] = 8765
    database_url: str = Field(
        default_factory=default_database_url,
        description="SQLAlchemy URL: sqlite+aiosqlite:///path or postgresql+asyncpg://...",
    )
    secret: SecretStr = Field(
        SecretStr(""),
        description="Key that signs login tokens. Empty: a random key is made once and kept "
        "in the database, so tokens survive restarts and servers sharing it agree.",
    )
    token_ttl_s: Annotated[int, Field(ge=60, description="How long a login token is valid.")] = (
        7 * 24 * 3600
    )
    max_room_members: Annotated[
        int, Field(ge=1, le=MAX_ROOM_MEMBERS, description="Seats per room (people and ghosts).")
    ] = 8
    tick_hz: Annotated[float, Field(gt=0, le=60, description="Room ticks per second.")] = 15.0
    reconnect_grace_s: Annotated[
        float, Field(ge=0, description="How long a dropped member keeps their seat.")
    ] = 60.0
    max_frames_per_s: Annotated[
        float, Field(gt=0, description="Per-connection face frame rate limit.")
    ] = 30.0
    max_events_per_s: Annotated[
        float, Field(gt=0, description="Per-connection rate limit for other events.")
    ] = 20.0
    max_payload_bytes: Annotated[
        int, Field(ge=1024, description="Largest accepted Socket.IO or HTTP payload.")
    ] = 64 * 1024
    log_level: str = Field("INFO", description="Python logging level name.")
    relay_mode: Literal["batched", "naive"] = Field(
        "batched",
        description="How face frames are relayed: 'batched' (one batch per room per tick, the "
        "product) or 'naive' (every frame to every member at once; for bench/relay.py only).",
    )
    event_loop: Literal["auto", "asyncio", "uvloop"] = Field(
        "auto",
        description="Event loop of `convex serve`: 'uvloop' (libuv; a little less CPU per "
        "relayed frame, see bench/relay.py), 'asyncio' (the standard library's), or 'auto' "
        "(uvloop where it is installed).",
    )
    cors_allowed_origins: str = Field(
        "",
        description="Browser origins allowed to connect, comma-separated, or '*'. Empty: the "
        "server's own origin only (non-browser clients send no origin and are always allowed).",
    )

    def cors_origins(self) -> str | list[str] | None:
        """The value python-engineio expects for `cors_allowed_origins`."""
        value = self.cors_allowed_origins.strip()
        if not value:
            return None
        if value == "*":
            return "*"
        return [origin.strip() for origin in value.split(",") if origin.strip()]

    @field_validator("database_url")
    @classmethod
    def _known_backend(cls, url: str) -> str:
        if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "database_url must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
            )
        return url
