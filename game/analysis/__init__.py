"""Offline focus analysis of a recording: the timeline, its JSON/CSV/PNG reports, the pipeline.

Theory of operation
-------------------
:func:`.pipeline.analyze_video` decodes a video (:class:`game.capture.sources.VideoFileSource`),
runs every frame (or every N-th) through the real :class:`game.capture.tracker.FaceAnalyzer`
(MediaPipe, VIDEO mode) and feeds the samples to a :class:`.timeline.TimelineBuilder`. The
builder owns one :class:`shared.focus.FocusAnalyzer`, the very rules the game and the server
run, and only *records* what they say: one :class:`.timeline.FrameRow` per frame, the events in
time order, the away runs, sleeps and confusion episodes paired up from those events, and a
:class:`.timeline.Summary` taken from the rules' own accounting. Nothing in this package decides
attention, sleep, score, blinks or confusion itself.

:mod:`.report` turns a :class:`.timeline.Timeline` into ``timeline.json``, ``timeline.csv`` and
``report.png`` (matplotlib, Agg) and writes all three atomically; rows and events are rounded by
one function so that the JSON and the CSV agree value for value.

Privacy: frames stay in memory. The only files written are the three reports, which hold
numbers and a chart, never a camera image.

Import the submodules directly; this package imports nothing heavy on its own.
"""
