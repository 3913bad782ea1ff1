"""On-device face capture: frame sources, the MediaPipe model, the tracker thread, synthetic faces.

Theory of operation
-------------------
A frame source (:mod:`.sources`: webcam, video file, image folder, in-memory
arrays) yields ``(t, rgb)`` frames. :class:`.tracker.FaceTracker` reads them on
a background thread into a latest-frame slot and runs
:class:`.tracker.FaceAnalyzer` (MediaPipe FaceLandmarker, VIDEO mode) on the
newest one, publishing a :class:`shared.face.FaceSample` that the game reads
without waiting. :mod:`.model` finds and verifies the model file;
:mod:`.pose` turns its head matrix into yaw/pitch/roll; :mod:`.synthetic`
scripts samples with no camera or model at all.

Decisions that hold across the package:

- **Mirroring.** The analyzer always sees the camera's un-mirrored image, so
  ``*Left``/``*Right`` and the pose signs are the subject's own. Showing a
  selfie-style mirror is the display's job, never the tracker's.
- **Privacy.** Frames live only in this process's memory: nothing here writes
  an image to disk or sends one over a socket. The only network code is
  :func:`.model.fetch_model`, which downloads the public model file.
  ``tests/game/test_capture_privacy.py`` checks both structurally and at run time.

Import the submodules directly (``from game.capture.tracker import FaceTracker``):
this package imports nothing heavy on its own.
"""
