"""A loaded avatar: the Panda3D ``Actor`` with fast handles on its morph sliders and joints.

Theory of operation
-------------------
Any GLB whose morph targets carry ARKit names loads through panda3d-gltf as
an ``Actor`` whose part bundle holds one ``CharacterSlider`` per target name
(names are matched case-insensitively, so ``EyeBlinkLeft`` counts). For each
ARKit name present we take control of the slider once
(``controlJoint(None, "modelRoot", name)``) and keep the *channel* Panda3D
made for it: writing a float with ``AnimChannelScalarDynamic.setValue`` costs
about a tenth of a microsecond, against more than a microsecond for moving
the control node with ``setX`` (which builds a new ``TransformState`` each
time). Only the first slider of a name is driven: panda3d-gltf points every
mesh that shares the name at it (checked on our avatar for all 52 names).

Joints: ``neck`` and ``head`` (also VRM's ``J_Bip_C_Neck``/``J_Bip_C_Head``)
take the head rotation, ``eye_L``/``eye_R`` (and common aliases) the gaze when
the eye-look morphs are missing. A rotation is given in the model's own axes
(Z up, facing -Y, the subject's left on +X, as panda3d-gltf loads a glTF
that faces +Z). A joint whose rest pose has no rotation, like all of ours,
takes it directly with ``setHpr``; otherwise it is conjugated into the joint's
parent frame once per write (see :class:`JointControl`).

Three load-time steps make an avatar cheap to draw, each checked pixel for
pixel against the plain load on our avatar:

1. the model is flattened (:data:`~game.config.FLATTEN_AVATARS`): meshes that
   share a material merge, which keeps every morph and joint working (46 → 18
   Geoms for ours);
2. plain material colours become vertex colours and Geoms that then share a
   state merge (:mod:`game.avatar.batching`, :data:`~game.config.BAKE_MATERIAL_COLOURS`):
   18 → 6 Geoms;
3. a :class:`~game.avatar.morph.MorphBank` per Character applies the morph
   targets with numpy instead of Panda3D's per-row CPU loop
   (:data:`~game.config.VECTOR_MORPHS`): about 0.1 ms per avatar and changed
   frame instead of 2.5 ms with all 52 shapes active. The sliders stay the
   interface: the bank reads them at cull time.

A model lacking some ARKit names still loads: :attr:`AvatarRig.missing`
lists them and one warning per model file says so (not one per name, nor per
frame). A file that cannot be loaded raises :class:`AvatarLoadError`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Final

from panda3d.core import (
    AnimChannelScalarDynamic,
    CharacterSlider,
    Filename,
    LMatrix4f,
    LQuaternionf,
    NodePath,
)

from game.avatar.batching import bake_flat_materials
from game.avatar.mapping import SliderPlan, slider_plan
from game.avatar.morph import MorphBank
from game.avatar.zzz import ZzzBubble
from game.config import BAKE_MATERIAL_COLOURS, FLATTEN_AVATARS, VECTOR_MORPHS

log = logging.getLogger(__name__)

PART: Final[str] = "modelRoot"
"""The part name Actor gives a single-part model."""

NECK_JOINTS: Final[tuple[str, ...]] = ("neck", "j_bip_c_neck")
HEAD_JOINTS: Final[tuple[str, ...]] = ("head", "j_bip_c_head")
LEFT_EYE_JOINTS: Final[tuple[str, ...]] = ("eye_l", "lefteye", "eye.l", "j_adj_l_faceeye")
RIGHT_EYE_JOINTS: Final[tuple[str, ...]] = ("eye_r", "righteye", "eye.r", "j_adj_r_faceeye")
"""Joint names we recognise (compared in lower case): ours first, then common VRM/Blender names."""

_warned: set[str] = set()


class AvatarLoadError(OSError):
    """The avatar file is missing, unreadable, or not a model Panda3D can load."""


def _is_identity(q: LQuaternionf) -> bool:
    return bool(q.almostEqual(LQuaternionf.identQuat(), 1e-5))


class JointControl:
    """Drives one joint's rotation, leaving its rest translation and scale alone."""

    __slots__ = ("_fast", "_last", "_node", "_post", "_pre", "name")

    def __init__(self, actor: Any, bundle: Any, name: str) -> None:
        self.name = name
        self._node: NodePath = actor.controlJoint(None, PART, name)
        joint = bundle.findChild(name)
        rest = LMatrix4f(joint.getDefaultValue())
        net = LMatrix4f()
        joint.getNetTransform(net)
        inverse_rest = LMatrix4f()
        inverse_rest.invertFrom(rest)
        parent_net = inverse_rest * net  # row vectors: net = rest · parent_net
        rest_q = LQuaternionf()
        rest_q.setFromMatrix(rest.getUpper3())
        parent_q = LQuaternionf()
        parent_q.setFromMatrix(parent_net.getUpper3())
        rest_q.normalize()
        parent_q.normalize()
        # Wanted: net orientation = rest · parent · R (R in model axes), so the local
        # rotation is rest · parent · R · parent⁻¹.
        self._pre = rest_q * parent_q
        self._post = LQuaternionf(parent_q)
        self._post.invertInPlace()
        self._fast = _is_identity(rest_q) and _is_identity(parent_q)
        self._last: tuple[float, float, float] | None = None

    def set_hpr(self, h: float, p: float, r: float) -> None:
        """Rotate the joint by (H, P, R) degrees in the model's axes, relative to its rest pose."""
        hpr = (h, p, r)
        if hpr == self._last:
            return
        self._last = hpr
        if self._fast:
            self._node.setHpr(h, p, r)
            return
        q = LQuaternionf()
        q.setHpr((h, p, r))
        self._node.setQuat(self._pre * q * self._post)


def _find_joint(names_lower: dict[str, str], candidates: Iterable[str]) -> str | None:
    for candidate in candidates:
        if candidate in names_lower:
            return names_lower[candidate]
    return None


class AvatarRig:
    """An avatar model in the scene: the Actor, its slider setters, joints and "Zzz" bubble."""

    def __init__(
        self,
        path: str | Path,
        parent: NodePath,
        *,
        font: Any,
        name: str = "avatar",
        vector_morphs: bool = VECTOR_MORPHS,
        bake_colours: bool = BAKE_MATERIAL_COLOURS,
    ) -> None:
        from direct.actor.Actor import Actor

        self.path = Path(path)
        # Panda3D resolves relative names against its model path, not the working directory.
        panda_name = Filename.fromOsSpecific(str(self.path.resolve())).getFullpath()
        try:
            actor = Actor(panda_name)
        except (OSError, ValueError) as exc:
            raise AvatarLoadError(f"cannot load avatar {self.path}: {exc}") from exc
        bundle = actor.getPartBundle(PART)
        if bundle is None:
            actor.cleanup()
            actor.removeNode()
            raise AvatarLoadError(f"{self.path} has no skeleton or morph targets Panda3D can drive")
        self.actor: Any = actor
        actor.setName(name)
        if FLATTEN_AVATARS:
            # Before any control node is attached: merge meshes that share a material.
            actor.flattenStrong()
        if bake_colours:
            bake_flat_materials(actor)
        actor.reparentTo(parent)
        self.morph_banks: list[MorphBank] = []
        """One per Character (an Actor with LODs has several); empty: Panda3D morphs."""
        if vector_morphs:
            characters = actor.findAllMatches("**/+Character")
            self.morph_banks = [MorphBank(c) for c in characters]

        parts = actor.getJoints(partName=PART)
        slider_names: dict[str, str] = {}
        joint_names: dict[str, str] = {}
        for part in parts:
            part_name = part.getName()
            target = slider_names if isinstance(part, CharacterSlider) else joint_names
            target.setdefault(part_name.lower(), part_name)
        from shared.blendshapes import ARKIT_NAMES

        by_arkit = {n: slider_names[n.lower()] for n in ARKIT_NAMES if n.lower() in slider_names}
        self.plan: SliderPlan = slider_plan(by_arkit)
        self.setters: list[Callable[[float], None]] = [
            self._slider_setter(actor, bundle, by_arkit[n]) for n in self.plan.names
        ]
        self.missing: tuple[str, ...] = self.plan.missing
        if self.missing:
            self._warn_missing()

        def joint(candidates: tuple[str, ...]) -> JointControl | None:
            found = _find_joint(joint_names, candidates)
            return JointControl(actor, bundle, found) if found is not None else None

        self.neck = joint(NECK_JOINTS)
        self.head = joint(HEAD_JOINTS)
        self.eye_left = joint(LEFT_EYE_JOINTS)
        self.eye_right = joint(RIGHT_EYE_JOINTS)
        self.zzz = ZzzBubble(actor, font)

    @staticmethod
    def _slider_setter(actor: Any, bundle: Any, name: str) -> Callable[[float], None]:
        node = actor.controlJoint(None, PART, name)
        channel = bundle.findChild(name).getForcedChannel()
        if isinstance(channel, AnimChannelScalarDynamic):
            setter: Callable[[float], None] = channel.setValue
            return setter
        # Another Panda3D build may control sliders differently; the node always works.
        node_setter: Callable[[float], None] = node.setX
        return node_setter

    def _warn_missing(self) -> None:
        key = str(self.path.resolve())
        if key in _warned:
            return
        _warned.add(key)
        log.warning(
            "avatar %s lacks %d of the 52 ARKit morph targets, so these expressions will "
            "not show: %s",
            self.path.name,
            len(self.missing),
            ", ".join(self.missing),
        )

    @property
    def slider_names(self) -> tuple[str, ...]:
        """The ARKit names this avatar has sliders for (in :data:`ARKIT_NAMES` order)."""
        return self.plan.names

    def destroy(self) -> None:
        """Remove the avatar and free its animation state."""
        self.zzz.destroy()
        for bank in self.morph_banks:
            bank.destroy()
        self.actor.cleanup()
        self.actor.removeNode()
