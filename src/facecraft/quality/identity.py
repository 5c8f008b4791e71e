"""Identity metrics: which frames to embed (dlib costs about 75 ms per face), and distance statistics.

``id_to_source``: dlib distance from the swapped face to the source photo's face; ``id_to_target``: from the
swapped face to the original target face in the same frame. Both faces of a frame are embedded with the
landmarks the quality recorder re-fits in that frame, so evaluating the target against itself gives 0.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

WORST_SHARE = 0.10
"""``worst10`` is the mean of the largest distances, this share of the samples (at least one)."""


@dataclass(frozen=True, slots=True)
class IdentitySchedule:
    """When to embed: at the given frame indices (evaluation, frame count known), or at most once per
    ``interval_s`` while a video streams (the swap's ``--report``). At most ``max_frames`` samples either way.

    A scheduled frame without a face passes its turn to the next frame that has one.
    """

    frame_indices: tuple[int, ...] | None = None
    interval_s: float = 2.0
    max_frames: int = 8

    def __post_init__(self) -> None:
        if self.max_frames < 0:
            raise ValueError(f"max_frames must be 0 or more, got {self.max_frames}")
        if not self.interval_s > 0:
            raise ValueError(f"interval_s must be positive, got {self.interval_s}")
        if self.frame_indices is not None and list(self.frame_indices) != sorted(set(self.frame_indices)):
            raise ValueError("frame_indices must be increasing and distinct")

    @staticmethod
    def evenly(frame_count: int, samples: int) -> "IdentitySchedule":
        """``samples`` frames spread evenly over ``frame_count``: the middles of equal segments."""
        if frame_count < 1 or samples < 1:
            return IdentitySchedule((), max_frames=0)
        count = min(samples, frame_count)
        indices = sorted({min(frame_count - 1, int((i + 0.5) * frame_count / count)) for i in range(count)})
        return IdentitySchedule(tuple(indices), max_frames=len(indices))

    @staticmethod
    def over_duration(duration_s: float | None, interval_s: float, max_frames: int) -> "IdentitySchedule":
        """Streaming: one sample per ``interval_s``, spaced out further so ``max_frames`` span the video."""
        spread = duration_s / max_frames if duration_s is not None and max_frames > 0 else 0.0
        return IdentitySchedule(None, max(interval_s, spread), max_frames)


class IdentitySampler:
    """Follows an ``IdentitySchedule`` frame by frame (mutable; one per video)."""

    def __init__(self, schedule: IdentitySchedule) -> None:
        self._schedule = schedule
        self._next_position = 0
        self._next_time_s: float | None = None
        self.taken = 0

    def is_due(self, index: int, time_s: float) -> bool:
        """Whether a face in this frame should be embedded."""
        schedule = self._schedule
        if self.taken >= schedule.max_frames:
            return False
        if schedule.frame_indices is not None:
            position = self._next_position
            return position < len(schedule.frame_indices) and index >= schedule.frame_indices[position]
        return self._next_time_s is None or time_s >= self._next_time_s - 1e-9

    def mark_taken(self, index: int, time_s: float) -> None:
        self.taken += 1
        indices = self._schedule.frame_indices
        if indices is not None:
            while self._next_position < len(indices) and indices[self._next_position] <= index:
                self._next_position += 1
        else:
            self._next_time_s = time_s + self._schedule.interval_s


@dataclass(frozen=True, slots=True)
class DistanceStats:
    """Mean, median and worst 10% (mean of the largest tenth) of identity distances over sampled frames."""

    mean: float
    median: float
    worst10: float
    samples: int


def distance_stats(distances: Sequence[float]) -> DistanceStats | None:
    """Statistics of a list of distances; ``None`` when there are none."""
    if not distances:
        return None
    values = np.sort(np.asarray(distances, dtype=np.float64))
    worst_count = max(1, math.ceil(WORST_SHARE * len(values)))
    return DistanceStats(
        float(values.mean()), float(np.median(values)), float(values[-worst_count:].mean()), len(values)
    )
