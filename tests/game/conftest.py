"""Fixtures for the capture tests: the real model file and real faces from installed packages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
import pytest

from game.capture.model import ModelError, resolve_model
from game.capture.sources import RGBImage
from shared.face import FaceSample

if TYPE_CHECKING:
    from tests.game.net_server import ServerThread

# MediaPipe, scikit-image and matplotlib are imported inside the fixtures that need them, so that
# other tests in this directory (the CLI's) do not pay for them at collection.

SUBJECT_LEFT_EYE = (362, 385, 387, 263, 373, 380)
"""Mesh landmarks around the subject's own left eye (on the image's right)."""

Analyse = Callable[[RGBImage], FaceSample]


@pytest.fixture(scope="session")
def model_path() -> Path:
    """The verified official face_landmarker.task (env var, user cache or an installed package)."""
    try:
        return resolve_model()
    except ModelError as exc:
        pytest.fail(f"the capture tests need the real model: {exc}")


@pytest.fixture(scope="session")
def model_bytes(model_path: Path) -> bytes:
    """The official model's bytes, for copies, corruptions and the local download server."""
    return model_path.read_bytes()


@pytest.fixture(scope="session")
def astronaut() -> RGBImage:
    """scikit-image's astronaut: one smiling, frontal face, 512×512 RGB."""
    import skimage.data

    return np.ascontiguousarray(skimage.data.astronaut(), dtype=np.uint8)  # type: ignore[no-untyped-call]


@pytest.fixture(scope="session")
def grace_hopper() -> RGBImage:
    """matplotlib's Grace Hopper portrait: one face, 600×512 RGB."""
    import matplotlib.cbook

    path = matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert bgr is not None, f"cannot read {path}"
    return np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))


@pytest.fixture(scope="session")
def cameraman() -> RGBImage:
    """scikit-image's cameraman as RGB: a person, but no detectable face (a negative case)."""
    import skimage.data

    gray: Any = skimage.data.camera()  # type: ignore[no-untyped-call]
    return np.ascontiguousarray(np.stack([gray, gray, gray], axis=-1), dtype=np.uint8)


@pytest.fixture
def analyse(model_path: Path) -> Analyse:
    """Analyse one still with a fresh analyzer (so VIDEO-mode tracking carries nothing over)."""
    from game.capture.tracker import FaceAnalyzer

    def run(rgb: RGBImage) -> FaceSample:
        with FaceAnalyzer(model_path) as analyzer:
            return analyzer.process(rgb, 0)

    return run


@pytest.fixture(scope="session")
def astronaut_wink(model_path: Path, astronaut: RGBImage) -> RGBImage:
    """The astronaut with her own left eye painted shut (skin patch and a lash line): a wink."""
    from game.capture.tracker import FaceAnalyzer, to_mp_image

    with FaceAnalyzer(model_path) as analyzer:
        result = analyzer.landmarker.detect_for_video(to_mp_image(astronaut), 0)
    landmarks = result.face_landmarks[0]
    h, w = astronaut.shape[:2]
    pts = np.array([[landmarks[i].x * w, landmarks[i].y * h] for i in SUBJECT_LEFT_EYE])
    cx, cy = pts.mean(axis=0)
    eye_w = float(np.ptp(pts[:, 0]))
    skin = [int(v) for v in astronaut[int(cy + 0.8 * eye_w), int(cx)]]
    out = astronaut.copy()
    centre = (round(cx), round(cy))
    cv2.ellipse(out, centre, (round(0.7 * eye_w), round(0.5 * eye_w)), 0, 0, 360, skin, -1)
    lash_y = round(cy) + 3
    cv2.line(
        out, (round(cx - 0.6 * eye_w), lash_y), (round(cx + 0.6 * eye_w), lash_y), (60, 40, 40), 2
    )
    return out


@pytest.fixture(scope="session")
def face_frames(astronaut: RGBImage) -> list[RGBImage]:
    """Eight 640×480 astronaut frames with slight shifts, like a webcam's consecutive frames."""
    frames: list[RGBImage] = []
    for i in range(8):
        m = np.array([[1, 0, 2 * (i % 3)], [0, 1, i % 2]], dtype=np.float32)
        shifted = cv2.warpAffine(astronaut, m, (512, 512))
        frames.append(np.ascontiguousarray(cv2.resize(shifted, (640, 480)), dtype=np.uint8))
    return frames


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerThread]:
    """A real server with its tick loop, on a loopback port, with a fresh SQLite file."""
    from tests.game.net_server import ServerThread  # the server stack only where it is used

    srv = ServerThread(tmp_path / "server.sqlite3")
    srv.start()
    try:
        yield srv
    finally:
        srv.close()
