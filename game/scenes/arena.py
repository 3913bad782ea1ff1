"""The boss arena: the group's avatars in a ring before the Boss Monster, with the battle HUD.

Theory of operation
-------------------
The arena never talks to the server itself: it reads one
:class:`~game.net.snapshot.RoomSnapshot` per frame from the :class:`RoomLink` attached to the
app (:func:`attach_room`; a :class:`~game.net.NetClient` is one) and hands the local face
sample to it (paced and sent by the link, never blocking). Everything on screen is a view of
that snapshot:

- the boss (``boss_path(kind)``) centre-back, its ``idle`` morph breathing, a ``hit`` flinch
  and red flash whenever its HP drops, ``defeated`` ramping in at victory, and floating
  damage numbers for the HP lost since the last number;
- one avatar per seated member on an arc in front of it, driven from ``snapshot.faces[slot]``
  (the local player from the local tracker, mirrored), asleep members in the rig's asleep
  pose with "Zzz", ghosts translucent, each with a name plate coloured by focus state;
- the HP bar, the shared timer, the group's DPS with one penalty line per distracted member,
  and the newest error toast.

Rigs are built only when the roster changes; a frame costs one driver update per member and a
few text updates that are skipped when nothing changed. When the room's results arrive the
scene hands over to :class:`~game.scenes.results.ResultsScene`.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol

from panda3d.core import Filename, NodePath, TextNode

from game.avatar.driver import AvatarDriver
from game.avatar.ghostly import make_ghostly
from game.avatar.mapping import AvatarMode
from game.avatar.models import avatar_path, boss_path, presets
from game.avatar.rig import AvatarRig
from game.config import (
    HUD_ALERT,
    HUD_INK,
    HUD_MUTED,
    HUD_PANEL,
    SMALL_SCALE,
    TEXT_SCALE,
    TITLE_SCALE,
)
from game.hud.bossbar import BossBar
from game.hud.damage import DamageNumbers
from game.hud.nameplate import NamePlate, badge_for, plate_text
from game.hud.shapes import rounded_rect
from game.hud.text import Label
from game.hud.timer import TimerText
from game.net.snapshot import RoomSnapshot
from game.scenes.base import Command, Scene, SceneId
from shared.face import FaceSample
from shared.protocol import BattleState, Member
from shared.timer import Phase

if TYPE_CHECKING:
    import concurrent.futures

    from game.app import ConvexApp

ARENA_CAMERA_POS: Final[tuple[float, float, float]] = (0.0, -5.6, 1.75)
ARENA_CAMERA_LOOK_AT: Final[tuple[float, float, float]] = (0.0, 1.2, 0.85)
"""Where the arena camera stands and looks (world units; avatars are ~1 tall)."""

BOSS_POS: Final[tuple[float, float, float]] = (0.0, 3.4, 0.0)
BOSS_SCALE: Final[float] = 1.45
"""The boss stands centre-back, a little larger than life."""

RING_CENTRE_Y: Final[float] = 2.3
RING_RADIUS: Final[float] = 2.3
RING_SPREAD_DEG: Final[float] = 52.0
"""Members stand on an arc of this radius around a point behind them, ± this angle wide."""

PLATE_HEIGHT: Final[float] = 1.12
"""Height of a name plate above an avatar's feet."""

NUMBERS_POS: Final[tuple[float, float, float]] = (0.75, 2.6, 1.25)
"""Where floating damage numbers start: beside the boss's face, in front of it."""

IDLE_HZ: Final[float] = 0.6
"""Breaths per second of the boss's ``idle`` morph."""

HIT_S: Final[float] = 0.35
"""Length of the boss's flinch and red flash after losing HP."""

HIT_FLASH: Final[tuple[float, float, float, float]] = (1.0, 0.45, 0.45, 1.0)
"""Colour scale at the peak of the flash."""

DEFEAT_S: Final[float] = 0.8
"""Time for the boss to slump into its ``defeated`` pose."""

NUMBER_EVERY_S: Final[float] = 0.5
"""At most one floating damage number per this many seconds (HP lost in between adds up)."""

TOAST_S: Final[float] = 6.0
"""How long an error toast stays up."""

BOSS_MORPHS: Final[tuple[str, ...]] = ("idle", "hit", "defeated", "blink")
"""The boss morph targets the arena drives (see ``assets/boss.py``)."""

MARGIN: Final[float] = 0.06
"""Gap between HUD panels and the window edges (aspect2d units)."""

GROUP_PANEL: Final[tuple[float, float]] = (0.78, 0.16)
"""Width and height of the group DPS panel without penalty lines."""

PENALTY_LINE: Final[float] = 0.06
"""Height the group panel grows per penalty line."""


class ArenaError(RuntimeError):
    """The arena was entered without a room link attached to the app."""


class RoomLink(Protocol):
    """Where the arena reads the room and sends the local face: :class:`~game.net.NetClient`."""

    def snapshot(self, now: float | None = None) -> RoomSnapshot:
        """The room as known now; must not block."""
        ...

    def send_face(self, sample: FaceSample) -> bool:
        """Offer the local face sample; must not block."""
        ...

    def start(self) -> concurrent.futures.Future[Any]:
        """Host: start the session."""
        ...


_LINKS: weakref.WeakKeyDictionary[Any, RoomLink] = weakref.WeakKeyDictionary()


def attach_room(app: ConvexApp, link: RoomLink) -> None:
    """Give ``app``'s arena and results scenes the room to show (before switching to them)."""
    _LINKS[app] = link


def room_link(app: ConvexApp) -> RoomLink:
    """The room attached to ``app``; raises :class:`ArenaError` without one."""
    try:
        return _LINKS[app]
    except KeyError:
        raise ArenaError("no room attached: call attach_room(app, client) first") from None


def ring_positions(count: int) -> list[tuple[float, float]]:
    """``count`` (x, y) spots on the arc in front of the boss, left to right."""
    if count <= 0:
        return []
    if count == 1:
        angles = [0.0]
    else:
        spread = RING_SPREAD_DEG * min(1.0, 0.35 + 0.65 * (count - 1) / 7)
        angles = [-spread + 2 * spread * i / (count - 1) for i in range(count)]
    return [
        (
            RING_RADIUS * math.sin(math.radians(a)),
            RING_CENTRE_Y - RING_RADIUS * math.cos(math.radians(a)),
        )
        for a in angles
    ]


def preset_for(username: str) -> str:
    """A stable built-in avatar for a username (everyone sees the same one): the preset of that
    name if there is one, else one picked by the name's bytes."""
    names = presets()
    if username in names:
        return username
    return names[sum(username.encode()) % len(names)]


def penalty_lines(battle: BattleState, names: dict[str, str]) -> list[str]:
    """One line per member whose distraction costs the group damage now."""
    lines: list[str] = []
    for m in battle.members:
        if m.penalty <= 0.0 or m.is_ghost:
            continue
        state = "asleep" if m.asleep else "distracted"
        name = names.get(m.member_id, m.member_id)
        lines.append(f"{name} is {state}: −{round(m.penalty * 100)} % DPS")
    return lines


LOBBY_STATUS_PREFIX: Final[str] = "Room "
"""How the before-the-start status line begins (it names the room id friends join with)."""


def lobby_status(snap: RoomSnapshot) -> str:
    """Before the start: the room id to share, and who starts the fight (SPACE, host only)."""
    room = snap.room
    if room is None:
        return ""
    if snap.member_id == room.host_id:
        return f"{LOBBY_STATUS_PREFIX}{room.room_id} · you host: press SPACE to start"
    host = next((m.username for m in room.members if m.member_id == room.host_id), "the host")
    return f"{LOBBY_STATUS_PREFIX}{room.room_id} · waiting for {host} to start"


def boss_title(kind: str) -> str:
    """The boss's display name."""
    return {"slime": "Sleepy Slime", "golem": "Stone Golem", "dragon": "Chubby Dragon"}.get(
        kind, kind.replace("_", " ").title()
    )


@dataclass
class Avatar:
    """One member's view in the arena: rig, driver, plate; state lives in the snapshot."""

    member_id: str
    slot: int
    root: NodePath
    rig: AvatarRig
    driver: AvatarDriver
    plate: NamePlate
    is_ghost: bool
    local: bool

    def destroy(self) -> None:
        """Remove the avatar's nodes."""
        self.plate.destroy()
        self.rig.destroy()
        self.root.removeNode()


class Boss:
    """The boss model and its morphs: idle breathing, hit flinch and flash, defeated pose."""

    def __init__(self, kind: str, parent: NodePath) -> None:
        from direct.actor.Actor import Actor

        path = boss_path(kind)
        self.kind = kind
        self.actor: Any = Actor(Filename.fromOsSpecific(str(path.resolve())).getFullpath())
        self.actor.reparentTo(parent)
        self.actor.setPos(*BOSS_POS)
        self.actor.setScale(BOSS_SCALE)
        self.morphs: dict[str, NodePath] = {}
        for name in BOSS_MORPHS:
            node = self.actor.controlJoint(None, "modelRoot", name)
            if node is not None:
                self.morphs[name] = node
        self.hit_at = -math.inf
        self.defeated = 0.0
        self.hits = 0

    def hit(self, now: float) -> None:
        """Start a flinch and a flash."""
        self.hit_at = now
        self.hits += 1

    def update(self, dt: float, now: float, down: bool) -> None:
        """Advance the morphs; ``down`` ramps the defeated pose in."""
        if down:
            self.defeated = min(1.0, self.defeated + dt / DEFEAT_S)
        idle = 0.5 - 0.5 * math.cos(2 * math.pi * IDLE_HZ * now)
        age = (now - self.hit_at) / HIT_S
        hit = math.sin(math.pi * age) if 0.0 <= age < 1.0 else 0.0
        self._set("idle", idle * (1.0 - self.defeated))
        self._set("hit", hit * (1.0 - self.defeated))
        self._set("defeated", self.defeated)
        if hit > 0.0:
            self.actor.setColorScale(*(1.0 + (c - 1.0) * hit for c in HIT_FLASH))
        else:
            self.actor.clearColorScale()

    def _set(self, name: str, value: float) -> None:
        node = self.morphs.get(name)
        if node is not None:
            node.setX(value)

    def morph(self, name: str) -> float:
        """The weight last set on a morph (0 if the model lacks it)."""
        node = self.morphs.get(name)
        return float(node.getX()) if node is not None else 0.0

    def destroy(self) -> None:
        """Remove the boss."""
        self.actor.cleanup()
        self.actor.removeNode()


class ArenaScene(Scene):
    """The boss fight: see the module docstring."""

    id = SceneId.ARENA

    def __init__(self, app: ConvexApp) -> None:
        super().__init__(app)
        self.link = room_link(app)
        self.snapshot: RoomSnapshot | None = None
        self.avatars: dict[int, Avatar] = {}
        self.boss: Boss | None = None
        self.last_hp: float | None = None
        self.pending_damage = 0.0
        self.last_number_at = -math.inf
        self.shown_dps: float | None = None
        self.shown_penalties: list[str] = []

    # -- enter / exit -------------------------------------------------------------------------

    def enter(self, now: float) -> None:
        """Frame the arena, hide the solo avatar and build the HUD."""
        app = self.app
        if app.rig is not None:
            app.rig.actor.hide()
        app.camera.setPos(*ARENA_CAMERA_POS)
        app.camera.lookAt(*ARENA_CAMERA_LOOK_AT)
        self.world = app.render.attachNewNode("arena")
        font, bold = app.fonts
        top_left = app.a2dTopLeft.attachNewNode("arena-top-left")
        top_right = app.a2dTopRight.attachNewNode("arena-top-right")
        top = app.a2dTopCenter.attachNewNode("arena-top")
        bottom = app.a2dBottomCenter.attachNewNode("arena-bottom")
        self._anchors = [top_left, top_right, top, bottom]
        self.timer = TimerText(top_left, font, bold)
        self.timer.root.setPos(MARGIN, 0.0, -MARGIN)
        self.bossbar = BossBar(top, font, bold)
        self.bossbar.root.setPos(0.0, 0.0, -MARGIN)
        self.group = top_right.attachNewNode("group")
        self.group.setPos(-MARGIN, 0.0, -MARGIN)
        w, h = GROUP_PANEL
        self.group_panel = rounded_rect(self.group, -w, -h, w, h, radius=0.05, colour=HUD_PANEL)
        self.dps_label = Label(
            self.group,
            bold,
            text="Group DPS —",
            scale=TITLE_SCALE * 0.8,
            pos=(-w + 0.05, -0.1),
            colour=HUD_INK,
        )
        self.penalty_label = Label(
            self.group, font, scale=SMALL_SCALE, pos=(-w + 0.05, -0.2), colour=HUD_ALERT
        )
        self.toast = Label(
            bottom,
            font,
            scale=SMALL_SCALE,
            pos=(0.0, 0.14),
            colour=HUD_ALERT,
            align=TextNode.ACenter,
        )
        self.status = Label(
            bottom,
            bold,
            scale=TEXT_SCALE,
            pos=(0.0, 0.05),
            colour=HUD_MUTED,
            align=TextNode.ACenter,
        )
        self.numbers_anchor = self.world.attachNewNode("numbers-anchor")
        self.numbers_anchor.setPos(*NUMBERS_POS)
        self.numbers = DamageNumbers(self.numbers_anchor, bold)
        self.update(0.0, now)

    def exit(self) -> None:
        """Remove every arena node and show the solo avatar again."""
        for avatar in self.avatars.values():
            avatar.destroy()
        self.avatars.clear()
        if self.boss is not None:
            self.boss.destroy()
            self.boss = None
        for anchor in self._anchors:
            anchor.removeNode()
        self.world.removeNode()
        if self.app.rig is not None:
            self.app.rig.actor.show()

    def handle(self, command: Command, now: float) -> SceneId | None:
        """SPACE in the lobby: ask the server to start (only the host may; else a toast)."""
        snap = self.snapshot
        room = snap.room if snap is not None else None
        if command is Command.START_PAUSE and room is not None and room.phase is Phase.LOBBY:
            self.link.start()
        return None

    # -- the frame ------------------------------------------------------------------------------

    def update(self, dt: float, now: float) -> SceneId | None:
        """Read the snapshot once, send the local face, refresh the views."""
        snap = self.link.snapshot()
        self.snapshot = snap
        local = self.app.feed.latest()
        if local is not None:
            self.link.send_face(local)
        room = snap.room
        if room is not None:
            self._sync_roster(snap)
            if self.boss is None:
                self.boss = Boss(room.boss_kind, self.world)
        for avatar in self.avatars.values():
            member = snap.member(avatar.slot)
            if member is None:
                continue
            sample = local if avatar.local else snap.faces.get(avatar.slot)
            if member.asleep:
                mode = AvatarMode.ASLEEP
            elif sample is not None and sample.present:
                mode = AvatarMode.LIVE
            else:
                mode = AvatarMode.FROZEN
            avatar.driver.update(sample, mode, dt)
            badge = badge_for(member)
            avatar.plate.show(plate_text(member, badge, you=avatar.local), badge)
        self._show_battle(snap, dt, now)
        self._show_timer(snap)
        self._show_toast(snap)
        self.numbers.update(now)
        if snap.results is not None:
            return SceneId.RESULTS
        return None

    def _sync_roster(self, snap: RoomSnapshot) -> None:
        members = sorted(snap.members, key=lambda m: m.slot)
        wanted = {m.slot: m for m in members}
        stale = [
            slot
            for slot, a in self.avatars.items()
            if slot not in wanted or wanted[slot].member_id != a.member_id
        ]
        for slot in stale:
            self.avatars.pop(slot).destroy()
        if stale or len(self.avatars) != len(wanted):
            for slot, member in wanted.items():
                if slot not in self.avatars:
                    self.avatars[slot] = self._make_avatar(member, snap)
            for (x, y), member in zip(ring_positions(len(members)), members, strict=True):
                self.avatars[member.slot].root.setPos(x, y, 0.0)

    def _make_avatar(self, member: Member, snap: RoomSnapshot) -> Avatar:
        local = member.slot == snap.slot and not member.is_ghost
        me = snap.member(snap.slot) if snap.slot is not None else None
        mine = me is not None and member.username == me.username
        path: Path = self.app.settings.avatar if mine else avatar_path(preset_for(member.username))
        root = self.world.attachNewNode(f"member-{member.slot}")
        rig = AvatarRig(path, root, font=self.app.fonts[1], name=f"avatar-{member.slot}")
        if member.is_ghost:
            make_ghostly(rig.actor)
        driver = AvatarDriver(rig, mirror=local)
        plate = NamePlate(root, self.app.fonts[1], height=PLATE_HEIGHT)
        return Avatar(
            member.member_id, member.slot, root, rig, driver, plate, member.is_ghost, local
        )

    def _show_battle(self, snap: RoomSnapshot, dt: float, now: float) -> None:
        battle = snap.battle
        boss = self.boss
        if battle is None:
            if boss is not None:
                self.bossbar.show(boss_title(boss.kind), 1.0, 1.0)
                boss.update(dt, now, down=False)
            return
        title = boss_title(battle.boss_kind)
        self.bossbar.show(title, battle.boss_hp, battle.boss_max_hp)
        if self.last_hp is not None and battle.boss_hp < self.last_hp:
            lost = self.last_hp - battle.boss_hp
            self.pending_damage += lost
            if boss is not None:
                boss.hit(now)
        self.last_hp = battle.boss_hp
        if self.pending_damage >= 1.0 and now - self.last_number_at >= NUMBER_EVERY_S:
            self.numbers.spawn(self.pending_damage, now)
            self.pending_damage = 0.0
            self.last_number_at = now
        if boss is not None:
            boss.update(dt, now, down=battle.outcome == "victory")
        names = {m.member_id: m.username for m in snap.members}
        if battle.dps != self.shown_dps:
            self.shown_dps = battle.dps
            self.dps_label.text = f"Group DPS {battle.dps:.0f}"
        lines = penalty_lines(battle, names)
        if lines != self.shown_penalties:
            self.shown_penalties = lines
            self.penalty_label.text = "\n".join(lines)
            w, h = GROUP_PANEL
            self.group_panel.removeNode()
            grow = PENALTY_LINE * len(lines)
            self.group_panel = rounded_rect(
                self.group, -w, -h - grow, w, h + grow, radius=0.05, colour=HUD_PANEL
            )
        if battle.outcome == "victory":
            self.status.text = f"{title} is down! Victory"
        elif battle.outcome == "defeat":
            self.status.text = f"{title} survived"

    def _show_timer(self, snap: RoomSnapshot) -> None:
        timer = snap.timer
        if timer is None:
            return
        remaining = snap.remaining_s
        self.timer.show(
            timer.phase,
            remaining if remaining is not None else timer.remaining_ms / 1000.0,
            max(timer.round - 1, 0),
            timer.rounds,
            frozenset(timer.pause_reasons),
        )
        if timer.phase is Phase.LOBBY:
            self.status.text = lobby_status(snap)
        elif self.status.text.startswith(LOBBY_STATUS_PREFIX):
            self.status.text = ""

    def _show_toast(self, snap: RoomSnapshot) -> None:
        toast = snap.toasts[-1] if snap.toasts else None
        if toast is not None and snap.taken_at - toast.at < TOAST_S:
            self.toast.text = toast.text
        else:
            self.toast.text = ""

    # -- what tests and the demo read -----------------------------------------------------------

    def avatar_for(self, username: str, *, ghost: bool = False) -> Avatar | None:
        """The avatar of the member with ``username`` (the ghost of them with ``ghost``)."""
        snap = self.snapshot
        if snap is None:
            return None
        for avatar in self.avatars.values():
            member = snap.member(avatar.slot)
            if member is not None and member.username == username and member.is_ghost == ghost:
                return avatar
        return None
