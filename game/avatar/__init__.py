"""The avatar: load an ARKit-named GLB and make it mirror the student's face.

- :mod:`.models` finds (or builds once) the generated avatar and boss GLBs;
- :mod:`.rig` loads a GLB as a Panda3D Actor and takes hold of its morph
  sliders and neck/head/eye joints (:class:`~.rig.AvatarRig`);
- :mod:`.mapping` is the pure part: the mirror, slider plan, head and eye angles;
- :mod:`.filters` is the One Euro filter;
- :mod:`.driver` applies a face sample per frame (:class:`~.driver.AvatarDriver`);
- :mod:`.zzz` is the floating "Zzz" of a sleeping avatar.

Import the submodules directly; this package imports nothing on its own.
"""
