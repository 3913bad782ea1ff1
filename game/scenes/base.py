"""What every scene is: a small class with ``enter``/``exit`` and one ``update`` per frame."""

from __future__ import annotations

from abc import ABC, abstractmethod
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from game.app import ConvexApp


class SceneId(StrEnum):
    """The scenes of the client."""

    SOLO = "solo"
    SUMMARY = "summary"
    ARENA = "arena"
    RESULTS = "results"
    LOBBY = "lobby"


class Command(StrEnum):
    """What the keyboard can ask for; key handlers only queue these (see ``game.app``)."""

    START_PAUSE = "start_pause"
    END = "end"
    TOGGLE_CAMERA = "toggle_camera"
    QUIT = "quit"
    UP = "up"
    DOWN = "down"
    SELECT = "select"
    NEW = "new"
    REFRESH = "refresh"


class Scene(ABC):
    """A mode of the app. The app calls ``enter`` once, ``update`` every frame, then ``exit``.

    ``update`` and ``handle`` return the scene to switch to, or None to stay.
    Scenes keep their state in Python objects; their nodes are only views.
    """

    id: ClassVar[SceneId]

    def __init__(self, app: ConvexApp) -> None:
        self.app = app

    @abstractmethod
    def enter(self, now: float) -> None:
        """Build the scene's views and state."""

    @abstractmethod
    def exit(self) -> None:
        """Remove every node the scene made."""

    @abstractmethod
    def update(self, dt: float, now: float) -> SceneId | None:
        """Advance by ``dt`` to ``now`` (seconds on the app's frame clock)."""

    def handle(self, command: Command, now: float) -> SceneId | None:
        """React to a key command; the default ignores it."""
        return None
