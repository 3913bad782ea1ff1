"""The local camera preview: the newest webcam frame on a small card, for this screen only.

The image goes from the capture thread's frame straight into a texture in
this process; nothing here stores or sends it anywhere. It is shown mirrored
(selfie view), like the avatar.
"""

from __future__ import annotations

import numpy as np
from panda3d.core import CardMaker, NodePath, Texture

from game.capture.sources import RGBImage
from game.config import PREVIEW_WIDTH


class CameraPreview:
    """A textured card in a screen corner; :meth:`show_frame` uploads a new frame."""

    def __init__(self, parent: NodePath) -> None:
        self.root = parent.attachNewNode("camera-preview")
        self._texture = Texture("camera-preview")
        self._card: NodePath | None = None
        self._size: tuple[int, int] | None = None
        self._last_id: int | None = None
        self.root.hide()

    @property
    def visible(self) -> bool:
        """Whether the preview is on screen."""
        return not self.root.isHidden()

    def toggle(self) -> bool:
        """Show or hide the preview; returns the new visibility."""
        if self.visible:
            self.root.hide()
        else:
            self.root.show()
        return self.visible

    def show_frame(self, rgb: RGBImage) -> None:
        """Upload ``rgb`` (H×W×3) if it is a new frame and the preview is visible."""
        if not self.visible or id(rgb) == self._last_id:
            return
        self._last_id = id(rgb)
        h, w = rgb.shape[:2]
        if self._size != (w, h):
            self._size = (w, h)
            self._texture.setup2dTexture(w, h, Texture.TUnsignedByte, Texture.FRgb)
            if self._card is not None:
                self._card.removeNode()
            card = CardMaker("camera-preview-card")
            height = PREVIEW_WIDTH * h / w
            card.setFrame(0.0, PREVIEW_WIDTH, 0.0, height)
            self._card = self.root.attachNewNode(card.generate())
            self._card.setTexture(self._texture)
        # Panda wants rows bottom-up and BGR; [::-1, ::-1] also mirrors it (selfie view).
        self._texture.setRamImage(np.ascontiguousarray(rgb[::-1, ::-1, ::-1]).tobytes())

    def destroy(self) -> None:
        """Remove the preview."""
        self.root.removeNode()
