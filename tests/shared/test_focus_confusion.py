"""Confusion episodes: a furrowed brow held for 3 s or more, ended by 1 s of relaxed brow."""

from __future__ import annotations

import pytest

from shared.focus import (
    ConfusionEpisode,
    ConfusionTracker,
    InvalidSettingsError,
    OutOfOrderSampleError,
)

FPS = 15.0


def feed(tracker: ConfusionTracker, pattern: list[tuple[bool, float]]) -> list[ConfusionEpisode]:
    """Feed (furrowed, seconds) runs at 15 fps from t=0; returns the episodes reported."""
    episodes: list[ConfusionEpisode] = []
    frame = 0
    for furrowed, seconds in pattern:
        for _ in range(round(seconds * FPS)):
            episode = tracker.update(furrowed, frame / FPS)
            if episode is not None:
                episodes.append(episode)
            frame += 1
    return episodes


def test_sustained_furrow_is_one_episode_from_first_furrow_to_relaxation() -> None:
    """Furrowed 10–15 s then relaxed: one episode (10, 15), reported once relaxed for 1 s."""
    tracker = ConfusionTracker()
    assert feed(tracker, [(False, 10.0), (True, 5.0), (False, 1.0)]) == []  # last frame 15.93
    episode = tracker.update(False, 16.0)
    assert episode is not None
    assert (episode.start, episode.end, episode.duration) == pytest.approx((10.0, 15.0, 5.0))


def test_short_furrow_is_not_reported() -> None:
    """A 2.9 s frown is below the 3 s minimum and is dropped."""
    tracker = ConfusionTracker()
    assert feed(tracker, [(True, 2.9), (False, 2.0)]) == []
    assert not tracker.active(5.0)


def test_exactly_three_seconds_is_reported() -> None:
    """A 3.0 s frown meets the minimum."""
    tracker = ConfusionTracker()
    (episode,) = feed(tracker, [(False, 1.0), (True, 3.0), (False, 2.0)])
    assert episode.duration == pytest.approx(3.0)


def test_short_relaxations_are_bridged() -> None:
    """Dips shorter than 1 s do not split an episode: 2 s + 0.8 s dip + 2 s is one 4.8 s episode."""
    tracker = ConfusionTracker()
    (episode,) = feed(tracker, [(True, 2.0), (False, 0.8), (True, 2.0), (False, 1.5)])
    assert (episode.start, episode.end) == pytest.approx((0.0, 4.8))


def test_one_second_relaxation_splits_episodes() -> None:
    """A 1 s relaxation ends the first episode; the next furrow starts a new one."""
    tracker = ConfusionTracker()
    episodes = feed(tracker, [(True, 4.0), (False, 1.0), (True, 4.0), (False, 1.5)])
    assert [e.start for e in episodes] == pytest.approx([0.0, 5.0])
    assert [e.end for e in episodes] == pytest.approx([4.0, 9.0])


def test_active_once_the_minimum_is_reached() -> None:
    """active() turns true 3 s into a furrow, not before."""
    tracker = ConfusionTracker()
    feed(tracker, [(True, 2.5)])
    assert not tracker.active(2.5)
    feed_more = [tracker.update(True, 2.5 + k / FPS) for k in range(8)]
    assert all(e is None for e in feed_more)
    assert tracker.active(3.0)


def test_tracking_gap_counts_as_relaxed_from_the_last_frame() -> None:
    """A 5 s gap during a furrow ends the episode at the last frame before the gap."""
    tracker = ConfusionTracker()
    feed(tracker, [(True, 4.0)])
    last_seen = 59 / FPS
    episode = tracker.update(True, 10.0)
    assert episode is not None
    assert (episode.start, episode.end) == pytest.approx((0.0, last_seen))
    assert tracker.active(13.0)  # a new one started at 10


def test_subject_label_is_copied_onto_episodes() -> None:
    """Episodes carry the tracker's current subject label."""
    tracker = ConfusionTracker(subject="calculus")
    (episode,) = feed(tracker, [(True, 3.5), (False, 1.5)])
    assert episode.subject == "calculus"


def test_open_episode_reports_one_under_way() -> None:
    """open_episode(now) reports the current episode as ending at now, if long enough."""
    tracker = ConfusionTracker()
    feed(tracker, [(True, 4.0)])
    episode = tracker.open_episode(4.0)
    assert episode is not None and episode.start == 0.0 and episode.end == 4.0
    fresh = ConfusionTracker()
    feed(fresh, [(True, 1.0)])
    assert fresh.open_episode(1.0) is None


def test_out_of_order_raises_and_changes_nothing() -> None:
    """An earlier sample raises OutOfOrderSampleError and the episode in progress survives."""
    tracker = ConfusionTracker()
    feed(tracker, [(True, 3.5)])
    with pytest.raises(OutOfOrderSampleError):
        tracker.update(False, 1.0)
    assert tracker.active(3.5)


def test_invalid_settings_raise() -> None:
    """Non-positive durations raise InvalidSettingsError."""
    with pytest.raises(InvalidSettingsError):
        ConfusionTracker(min_s=0.0)
    with pytest.raises(InvalidSettingsError):
        ConfusionTracker(relax_s=-1.0)
