"""The game client's tuning constants and Panda3D settings, in one place.

Everything a designer might tune (smoothing, sleep pose, HUD colours and
layout, the demo script) and every Panda3D configuration line we load lives
here, so the modules that use them hold no magic numbers.
"""

from __future__ import annotations

import os
from typing import Final

# -- Panda3D configuration (prc) -------------------------------------------------------------

PRC_COMMON: Final[str] = (
    "window-title Convex\n"
    "notify-level-device fatal\n"
    "print-pipe-types false\n"
    "notify-level-glgsg warning\n"
    "notify-level-gobj warning\n"
    "audio-library-name null\n"
    "textures-power-2 none\n"
)
"""Lines for every run: no audio, no /dev/input noise, no texture resizing."""

PRC_ANTIALIAS: Final[str] = "framebuffer-multisample 1\nmultisamples 4\n"
"""4× MSAA: free on a GPU, but on llvmpipe it costs about 40 % of the frame (12 → 19 ms CPU at
720p), so offscreen runs leave it off unless asked (the README screenshots ask)."""

PRC_WINDOW: Final[str] = "window-type onscreen\nsync-video true\n"
"""Extra lines for a desktop window (vsync on: no point rendering faster than the screen)."""

PRC_OFFSCREEN: Final[str] = "load-display p3headlessgl\nwindow-type offscreen\nsync-video false\n"
"""Extra lines for headless runs: EGL without a display server (Mesa llvmpipe on a CPU)."""

OFFSCREEN_ENV: Final[dict[str, str]] = {"EGL_PLATFORM": "surfaceless"}
"""Environment set (if unset) before Panda3D opens EGL with no display: silences a warning."""

WINDOW_SIZE: Final[tuple[int, int]] = (1280, 720)
"""Default window and offscreen buffer size in pixels."""

BACKGROUND: Final[tuple[float, float, float, float]] = (0.86, 0.90, 0.96, 1.0)
"""Opaque clear colour: a pale blue-grey study room (alpha 1, or screenshots come out clear)."""

BACKDROP_TOP: Final[tuple[float, float, float, float]] = (0.80, 0.85, 0.95, 1.0)
BACKDROP_BOTTOM: Final[tuple[float, float, float, float]] = (0.96, 0.94, 0.97, 1.0)
"""The backdrop's vertical gradient: a soft blue sky over a warm, pale floor."""

HALO_COLOUR: Final[tuple[float, float, float, float]] = (1.0, 1.0, 1.0, 0.55)
HALO_RADIUS: Final[float] = 0.62
HALO_CENTRE: Final[tuple[float, float, float]] = (0.0, 0.6, 0.70)
"""A soft white glow behind the avatar's head (Panda axes), fading to nothing at its rim."""

AMBIENT_LIGHT: Final[float] = 0.62
KEY_LIGHT: Final[float] = 0.48
"""Light levels: a strong ambient fill and one soft key light, for a flat, toon-like look."""

KEY_LIGHT_HPR: Final[tuple[float, float, float]] = (18.0, -28.0, 0.0)
"""Key light direction: from above and slightly to the side of the camera."""

CAMERA_FOV_DEG: Final[float] = 23.0
"""Vertical field of view (degrees) of the avatar camera: a narrow lens flatters a chibi face."""

SOLO_CAMERA_POS: Final[tuple[float, float, float]] = (0.0, -2.55, 0.68)
SOLO_CAMERA_LOOK_AT: Final[tuple[float, float, float]] = (0.0, 0.0, 0.61)
"""Solo mirror framing (Panda axes, the avatar faces -Y): head and shoulders, centred."""

SIMULATED_DT: Final[float] = 1.0 / 30.0
"""Fixed frame time of ``--offscreen --frames N`` runs: N frames cover N/30 s, deterministically."""

MAX_FRAME_DT: Final[float] = 0.25
"""Longest dt one frame may advance the world by (a stalled window must not skip a phase)."""

# -- Avatar driving --------------------------------------------------------------------------

FLATTEN_AVATARS: Final[bool] = True
"""Merge an avatar's meshes by material when it loads (``flattenStrong``): 46 → 18 draw calls
for ours, about a fifth less CPU per frame on llvmpipe, the same pixels."""

BAKE_MATERIAL_COLOURS: Final[bool] = True
"""Turn an avatar's plain material colours into vertex colours and merge the Geoms that then
share a state (:mod:`game.avatar.batching`): 18 → 6 draw calls for ours, the same pixels."""

VECTOR_MORPHS: Final[bool] = True
"""Apply an avatar's morph targets with numpy (:mod:`game.avatar.morph`) instead of Panda3D's
per-row CPU loop: the same vertices for about a twentieth of the CPU time (8 avatars with all 52
shapes moving: ~1 ms per frame instead of ~20 ms)."""

SLIDER_EPSILON: Final[float] = 1.0 / 512.0
"""A morph slider is only written when its value moved at least this much (half a wire step)."""

SHAPE_DEAD_ZONE: Final[float] = 0.04
"""Weights up to this show as exactly 0; above it they rescale to reach 1 at 1 (continuous).

MediaPipe reports every shape at a few hundredths even on a still face (on the
astronaut photo all 51 are above 0, only 20 above 0.05). A face's noise floor is
invisible, so it is cut: its jitter then writes no slider, and a face whose sliders
did not change costs no morphing at all that frame (see :mod:`game.avatar.morph`;
Panda3D's own CPU morphing, when used, also skips sliders at exactly 0).
"""

SHAPE_MIN_CUTOFF_HZ: Final[float] = 2.0
SHAPE_BETA: Final[float] = 6.0
SHAPE_D_CUTOFF_HZ: Final[float] = 1.0
"""One Euro filter for blendshape weights (units: weight 0..1).

At rest MediaPipe's weights jitter by about ±0.01 frame to frame; the cutoff
then stays near ``min_cutoff`` (α ≈ 0.3 at 30 Hz) and the jitter drops about
threefold. A blink moves ~10 weight units/s, which lifts the cutoff past 60 Hz
(α > 0.9): the lids follow within the same frame, so there is no visible lag.
"""

POSE_MIN_CUTOFF_HZ: Final[float] = 1.0
POSE_BETA: Final[float] = 0.08
POSE_D_CUTOFF_HZ: Final[float] = 1.0
"""One Euro filter for head yaw/pitch/roll (units: degrees).

Tracker pose noise is a few tenths of a degree; at rest the cutoff stays near
1 Hz and hides it. A brisk 150°/s head turn raises the cutoff to ~13 Hz
(α ≈ 0.7 at 30 Hz), so the head trails by well under a frame's worth of angle.
"""

NECK_SHARE: Final[float] = 0.35
"""Part of the head rotation given to the neck joint; the head joint turns the rest."""

HEAD_LIMITS_DEG: Final[tuple[float, float, float]] = (60.0, 40.0, 35.0)
"""Largest yaw, pitch and roll the avatar shows (a stylised neck breaks beyond these)."""

EYE_JOINT_YAW_DEG: Final[float] = 25.0
EYE_JOINT_PITCH_DEG: Final[float] = 20.0
"""Eye-joint turn at full ``eyeLook*`` weight, for models that have eye joints but no such morphs."""

SLEEP_EASE_S: Final[float] = 1.2
"""Time for the avatar to settle into (or wake from) the asleep pose."""

SLEEP_HEAD_HPR: Final[tuple[float, float, float]] = (0.0, 16.0, 7.0)
SLEEP_NECK_HPR: Final[tuple[float, float, float]] = (0.0, 8.0, 0.0)
"""Asleep pose (Panda degrees; positive pitch bows the head): chin on chest, a slight tilt."""

SLEEP_SHAPES: Final[dict[str, float]] = {
    "eyeBlinkLeft": 1.0,
    "eyeBlinkRight": 1.0,
    "jawOpen": 0.10,
    "mouthFunnel": 0.25,
    "browInnerUp": 0.15,
}
"""Morph weights of the asleep face: eyes shut, mouth slightly open, brows relaxed upwards."""

ZZZ_OFFSET: Final[tuple[float, float, float]] = (0.21, -0.12, 0.86)
"""Where the "Zzz" floats, relative to the avatar root: beside the top of the head, screen right."""

ZZZ_SCALE: Final[float] = 0.085
ZZZ_BOB_HZ: Final[float] = 0.5
ZZZ_BOB_HEIGHT: Final[float] = 0.035
"""The "Zzz" letters' size (scene units) and their slow float: half a cycle per second."""

ZZZ_COLOUR: Final[tuple[float, float, float, float]] = (0.30, 0.34, 0.62, 1.0)
"""Ink colour of the "Zzz": a sleepy indigo that reads on the pale background."""

# -- Solo session --------------------------------------------------------------------------

DEFAULT_FOCUS_MINUTES: Final[float] = 25.0
"""Pomodoro focus block of a solo session unless ``--minutes`` says otherwise."""

DEFAULT_BREAK_MINUTES: Final[float] = 5.0
DEFAULT_ROUNDS: Final[int] = 4
"""The rest of the classic pomodoro plan."""

ASLEEP_REASON: Final[str] = "asleep"
"""Timer pause reason held while the Distraction Guard says asleep."""

USER_PAUSE_REASON: Final[str] = "user"
"""Timer pause reason held while the student paused with the space bar."""

AWAY_OVERLAY_AFTER_S: Final[float] = 1.0
"""Away time after which the "Looking away…" overlay appears (glances shorter than this pass)."""

CHART_SAMPLE_S: Final[float] = 1.0
"""Focus-score chart resolution: one point per second of session time."""

STREAK_GOAL_MINUTES: Final[int] = 25
"""Daily goal for the local streak: one pomodoro a day."""

# -- HUD -----------------------------------------------------------------------------------

HUD_INK: Final[tuple[float, float, float, float]] = (0.13, 0.15, 0.24, 1.0)
HUD_MUTED: Final[tuple[float, float, float, float]] = (0.36, 0.40, 0.52, 1.0)
HUD_PANEL: Final[tuple[float, float, float, float]] = (1.0, 1.0, 1.0, 0.78)
HUD_ACCENT: Final[tuple[float, float, float, float]] = (0.36, 0.30, 0.78, 1.0)
HUD_WARN: Final[tuple[float, float, float, float]] = (0.93, 0.55, 0.16, 1.0)
HUD_ALERT: Final[tuple[float, float, float, float]] = (0.82, 0.25, 0.30, 1.0)
HUD_GOOD: Final[tuple[float, float, float, float]] = (0.22, 0.66, 0.45, 1.0)
"""HUD palette: dark ink on translucent white panels, indigo accent, amber/red/green states."""

METER_LOW: Final[float] = 40.0
METER_HIGH: Final[float] = 70.0
"""Focus meter colour bands: red below ``METER_LOW``, amber up to ``METER_HIGH``, green above."""

TEXT_SCALE: Final[float] = 0.055
TITLE_SCALE: Final[float] = 0.085
SMALL_SCALE: Final[float] = 0.042
"""Text heights in aspect2d units (the window is 2 units tall)."""

FONT_FILES: Final[tuple[str, ...]] = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")
"""Preferred fonts (regular, bold), found in matplotlib's data folder; Panda's own otherwise."""

PREVIEW_WIDTH: Final[float] = 0.56
"""Width (aspect2d units) of the local camera preview card in the bottom-left corner."""

# -- Demo script (``convex play --source synthetic``) ---------------------------------------

DEMO_SCRIPT: Final[tuple[tuple[str, float], ...]] = (
    ("focused", 1.5),
    ("smile", 1.5),
    ("away_left", 1.2),
    ("focused", 1.8),
    ("away_down", 19.0),
    ("focused", 4.0),
    ("confused", 3.0),
    ("focused", 4.0),
)
"""Focus, a smile, a glance, then looking down long enough to fall asleep, and waking up.

36 s in all, looped. The glance runs from 3.0 to 4.2 s, the student looks down
from 6 s and falls asleep at 21 s (15 s away), wakes at 25 s. At the fixed
1/30 s of offscreen runs, ``--frames 120`` ends in the glance and
``--frames 700`` (23.3 s) shows the avatar asleep.
"""

DEMO_SEED: Final[int] = 7
"""Seed of the demo's idle motion (sway and spontaneous blinks): same seed, same run."""


def apply_offscreen_env() -> None:
    """Set the environment variables headless EGL wants, without overriding the user's."""
    for key, value in OFFSCREEN_ENV.items():
        os.environ.setdefault(key, value)
