"""Identity sampling schedules and distance statistics."""

import pytest

from facecraft.quality.identity import IdentitySampler, IdentitySchedule, distance_stats


def sampled(
    schedule: IdentitySchedule, frames: int, fps: float, has_face: set[int] | None = None
) -> list[int]:
    sampler = IdentitySampler(schedule)
    taken = []
    for index in range(frames):
        if has_face is not None and index not in has_face:
            continue
        if sampler.is_due(index, index / fps):
            sampler.mark_taken(index, index / fps)
            taken.append(index)
    return taken


def test_evenly_spreads_frames_over_the_video() -> None:
    schedule = IdentitySchedule.evenly(100, 4)
    assert schedule.frame_indices == (12, 37, 62, 87)
    assert sampled(schedule, 100, 25.0) == [12, 37, 62, 87]
    assert IdentitySchedule.evenly(1, 16).frame_indices == (0,)
    assert IdentitySchedule.evenly(3, 16).frame_indices == (0, 1, 2)
    assert IdentitySchedule.evenly(0, 4).max_frames == 0


def test_a_scheduled_frame_without_a_face_passes_its_turn_on() -> None:
    schedule = IdentitySchedule.evenly(100, 4)
    faces = set(range(100)) - set(range(10, 40))
    assert sampled(schedule, 100, 25.0, faces) == [40, 62, 87]


def test_streaming_schedule_spaces_samples_and_stops_at_the_cap() -> None:
    schedule = IdentitySchedule(None, interval_s=1.0, max_frames=3)
    assert sampled(schedule, 300, 30.0) == [0, 30, 60]
    spread = IdentitySchedule.over_duration(10.0, interval_s=1.0, max_frames=4)
    assert spread.interval_s == pytest.approx(2.5)
    assert sampled(spread, 300, 30.0) == [0, 75, 150, 225]
    assert IdentitySchedule.over_duration(None, 1.0, 4).interval_s == 1.0


def test_schedule_validation() -> None:
    with pytest.raises(ValueError, match="increasing"):
        IdentitySchedule((5, 3))
    with pytest.raises(ValueError, match="positive"):
        IdentitySchedule(interval_s=0.0)


def test_distance_stats_mean_median_and_worst_tenth() -> None:
    stats = distance_stats([0.3, 0.5, 0.4, 0.2, 0.6, 0.35, 0.45, 0.25, 0.55, 0.9, 0.1, 0.15])
    assert stats is not None
    assert stats.mean == pytest.approx(4.75 / 12)
    assert stats.median == pytest.approx((0.35 + 0.4) / 2)
    assert stats.worst10 == pytest.approx((0.9 + 0.6) / 2)  # ceil(10% of 12) = 2 largest
    assert stats.samples == 12
    single = distance_stats([0.42])
    assert single is not None and single.worst10 == pytest.approx(0.42)
    assert distance_stats([]) is None
