"""Centred landmark smoothing for video: frames wait a moment so each face's landmarks are smoothed with
the frames after it as well as those before. No lag, and far less noise than a causal filter can give.

A causal filter (``smoothing.OneEuroFilter``) must choose between lag and noise: the face mesh's pixel
or so of noise per frame made a swapped face's sharp features (brows, lashes, lips) shimmer against the
footage, and a filter strong enough to still it made the rendered mouth trail the target's (mouth
opening correlation 0.93 unsmoothed, 0.88 with the tracker's filter, on d30.jpg onto d3.mp4). Here each
frame's landmarks are a local linear fit, Gaussian-weighted, over the frames around it: motion at a
steady speed passes exactly (no lag), noise averages out. The points that expressions move little
(brows, nose, cheeks, the upper face outline: ``steady_points``) use a wide window; the rest (lips, jaw,
eyelids) a narrow one, so a blink or a spoken syllable keeps its timing and depth.

A track's frames are smoothed only together with frames of the same run: a frame where the face was
not tracked, or a jump of ``reset_motion`` face sizes (a cut), starts a new run. Memory is bounded: the
frames waiting (``delay``) and a window of landmarks per track.
"""

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

from facecraft.faces.face import LANDMARK_POINTS, Face, bbox_from_landmarks

T = TypeVar("T")
Array64 = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class LookaheadSettings:
    """steady_radius, steady_sigma: the window (frames each side) and Gaussian width (frames) for the
    points expressions move little; fast_radius, fast_sigma: the same for the rest. The delay is the
    larger radius. reset_motion: a frame-to-frame jump of this many face sizes (mean over the points)
    starts a new run.

    quick_radius, quick_sigma, quick_from, quick_full: a narrower fit for the moving points (within the
    fast window), taken over a group of them (the mouth, the eyes) where it parts from the fast fit by more
    than the group's common motion (a nod moves the whole group): from ``quick_from`` of the face size
    (root mean square over the group's points) it starts to, from ``quick_full`` it is the narrow fit
    alone. A syllable opens and closes the mouth within three or four frames, which the fast fit halves
    (d10.mp4: a mouth open 0.46 of its width for two frames was drawn open 0.28); the mesh's noise on a
    still mouth parts the two fits by a tenth of ``quick_from`` (s18.mp4: a median of 0.0003), so still
    faces keep the fast fit's steadiness. ``quick_full`` 0 turns the narrow fit off."""

    steady_radius: int = 20
    steady_sigma: float = 10.0
    fast_radius: int = 4
    fast_sigma: float = 2.0
    reset_motion: float = 0.25
    quick_radius: int = 3
    quick_sigma: float = 1.0
    quick_from: float = 0.003
    quick_full: float = 0.008

    def __post_init__(self) -> None:
        if self.steady_radius < 0 or self.fast_radius < 0 or self.quick_radius < 0:
            raise ValueError("radii must be 0 or more")
        if min(self.steady_sigma, self.fast_sigma, self.quick_sigma, self.reset_motion) <= 0.0:
            raise ValueError("sigmas and reset_motion must be above 0")
        if self.quick_full < 0.0:
            raise ValueError(f"quick_full must be 0 (off) or more, got {self.quick_full}")
        if self.quick_full > 0.0:
            if not 0.0 <= self.quick_from < self.quick_full:
                raise ValueError(
                    f"quick_from must be in [0, quick_full), got {self.quick_from} and {self.quick_full}"
                )
            if self.quick_radius > self.fast_radius or self.quick_sigma >= self.fast_sigma:
                raise ValueError(
                    "the quick fit must be narrower than the fast one (quick_radius <= fast_radius, "
                    f"quick_sigma < fast_sigma), got {self.quick_radius}/{self.quick_sigma} against "
                    f"{self.fast_radius}/{self.fast_sigma}"
                )

    @property
    def delay(self) -> int:
        return max(self.steady_radius, self.fast_radius)


def local_linear_weights(offsets: Sequence[int] | npt.ArrayLike, sigma: float) -> Array64:
    """Weights c with sum(c * y) = the value at offset 0 of the Gaussian-weighted least-squares line
    through the samples y at ``offsets`` (frames from the centre; any subset, not necessarily
    symmetric). One sample gives weight 1; a line through the samples is reproduced exactly."""
    t = np.asarray(offsets, dtype=np.float64)
    w = np.exp(-0.5 * (t / sigma) ** 2)
    s0, s1, s2 = float(w.sum()), float((w * t).sum()), float((w * t * t).sum())
    determinant = s0 * s2 - s1 * s1
    if determinant <= 1e-12 * max(s0 * s2, 1e-300):  # one sample, or all at the same offset
        out: Array64 = w / s0
        return out
    weights: Array64 = w * (s2 - s1 * t) / determinant
    return weights


@dataclass(slots=True)
class _Run:
    """Consecutive frames of one track: landmarks by frame number (oldest first)."""

    first_frame: int
    landmarks: deque[Array64] = field(default_factory=deque)

    @property
    def end_frame(self) -> int:
        return self.first_frame + len(self.landmarks)


@dataclass(slots=True)
class _Pending(Generic[T]):
    frame: int
    item: T
    faces: list[Face]


class LandmarkLookahead(Generic[T]):
    """Delays frames by ``settings.delay`` and hands them back with their faces' landmarks smoothed.

    ``push(item, faces)`` takes a frame's payload (anything: the frame itself) and its faces (with track
    ids) and returns the frames now ready, oldest first, each as (item, smoothed faces); ``flush()``
    returns the rest at the end. Faces without a track id pass unchanged. One instance per video; it
    holds ``delay`` + 1 frames (21 by default: about 130 MB of 1080p frames, 520 MB at 4K).
    """

    def __init__(
        self,
        steady_points: npt.ArrayLike,
        settings: LookaheadSettings = LookaheadSettings(),
        anchored: Sequence[tuple[Sequence[int], Sequence[int]]] = (),
        quick_groups: Sequence[npt.ArrayLike] = (),
    ):
        """``anchored``: (points, anchors) pairs; those points are smoothed as offsets from their anchors'
        mean, so they keep their place relative to the anchors however differently the two are smoothed.
        The irises, anchored on their eye corners: fitted alone (fast) while the corners are fitted over
        many frames (steady), an iris drifted off its eye whenever the head's motion was not a straight
        line, and the eye counted as looking away (d3.mp4: 29% of the eyes, one eye at a time).
        ``quick_groups``: the moving points in groups that take the narrow fit together (the settings'
        ``quick_*``), so a group's outline keeps its shape; none given, all moving points are one group."""
        self.settings = settings
        self._steady = np.zeros(LANDMARK_POINTS, dtype=bool)
        self._steady[np.asarray(steady_points, dtype=np.int64)] = True
        self._anchored = tuple(
            (np.asarray(points, dtype=np.int64), np.asarray(anchors, dtype=np.int64))
            for points, anchors in anchored
        )
        moving = ~self._steady
        for points, _ in self._anchored:
            moving[points] = False  # placed by their anchors after the smoothing
        groups = quick_groups or (np.flatnonzero(moving),)
        picked = (
            np.intersect1d(np.asarray(group, dtype=np.int64), np.flatnonzero(moving)) for group in groups
        )
        self._quick_groups = tuple(group for group in picked if group.size > 0)
        self._pending: deque[_Pending[T]] = deque()
        self._runs: dict[int, list[_Run]] = {}
        self._frame = 0

    @property
    def delay(self) -> int:
        return self.settings.delay

    def push(self, item: T, faces: Sequence[Face]) -> list[tuple[T, list[Face]]]:
        frame = self._frame
        self._frame += 1
        recorded: set[int] = set()
        for face in faces:
            if face.track_id is not None and face.track_id not in recorded:
                recorded.add(face.track_id)
                self._record(face.track_id, frame, face.landmarks_478.astype(np.float64))
        self._pending.append(_Pending(frame, item, list(faces)))
        ready: list[tuple[T, list[Face]]] = []
        while self._pending and self._pending[0].frame <= frame - self.delay:
            ready.append(self._emit(self._pending.popleft()))
        self._forget(frame)
        return ready

    def flush(self) -> list[tuple[T, list[Face]]]:
        ready = [self._emit(pending) for pending in self._pending]
        self._pending.clear()
        self._runs.clear()
        return ready

    def _record(self, track_id: int, frame: int, landmarks: Array64) -> None:
        runs = self._runs.setdefault(track_id, [])
        last = runs[-1] if runs else None
        if last is None or last.end_frame != frame or self._jumped(last.landmarks[-1], landmarks):
            last = _Run(frame)
            runs.append(last)
        last.landmarks.append(landmarks)

    def _jumped(self, previous: Array64, current: Array64) -> bool:
        motion = float(np.linalg.norm(current[:, :2] - previous[:, :2], axis=1).mean())
        return motion / _face_size(previous) >= self.settings.reset_motion

    def _forget(self, frame: int) -> None:
        """Drop landmarks no waiting frame can reach any more, and runs that ended long ago."""
        oldest_needed = (self._pending[0].frame if self._pending else frame) - self.delay
        for track_id in list(self._runs):
            runs = [run for run in self._runs[track_id] if run.end_frame > oldest_needed]
            for run in runs:
                while run.first_frame < oldest_needed and len(run.landmarks) > 1:
                    run.landmarks.popleft()
                    run.first_frame += 1
            if runs:
                self._runs[track_id] = runs
            else:
                del self._runs[track_id]

    def _emit(self, pending: _Pending[T]) -> tuple[T, list[Face]]:
        """The frame with its faces smoothed; a track id seen twice in one frame (not what a tracker
        gives) is smoothed for its first face only, the others pass as they are."""
        seen: set[int] = set()
        faces: list[Face] = []
        for face in pending.faces:
            if face.track_id is None or face.track_id in seen:
                faces.append(face)
                continue
            seen.add(face.track_id)
            faces.append(self._smoothed(face, pending.frame))
        return pending.item, faces

    def _smoothed(self, face: Face, frame: int) -> Face:
        if face.track_id is None:
            return face
        run = next(
            (r for r in self._runs.get(face.track_id, ()) if r.first_frame <= frame < r.end_frame), None
        )
        if run is None:
            return face
        stack = np.stack(list(run.landmarks))  # (frames, points, 3)
        offsets = np.arange(run.first_frame, run.end_frame) - frame
        out = stack[frame - run.first_frame].copy()
        steady = self._steady
        s = self.settings
        groups = ((steady, s.steady_radius, s.steady_sigma), (~steady, s.fast_radius, s.fast_sigma))
        for mask, radius, sigma in groups:
            if radius == 0 or not mask.any():
                continue
            near = np.abs(offsets) <= radius
            weights = local_linear_weights(offsets[near], sigma)
            out[mask] = np.tensordot(weights, stack[near][:, mask], axes=1)
        if s.quick_full > 0.0:
            self._follow_quick_motion(out, stack, offsets)
        if self._anchored:
            near = np.abs(offsets) <= s.fast_radius
            weights = local_linear_weights(offsets[near], s.fast_sigma)
            window = stack[near]
            for points, anchors in self._anchored:
                relative = window[:, points] - window[:, anchors].mean(axis=1, keepdims=True)
                out[points] = out[anchors].mean(axis=0) + np.tensordot(weights, relative, axes=1)
        landmarks = out.astype(np.float32)
        return replace(face, landmarks_478=landmarks, bbox_xyxy=bbox_from_landmarks(landmarks))

    def _follow_quick_motion(self, out: Array64, stack: Array64, offsets: npt.NDArray[np.int64]) -> None:
        """Move each quick group of ``out`` (smoothed, in place) toward the narrow fit, as far as the two
        fits part (``LookaheadSettings``: ``quick_from`` to ``quick_full`` of the face size)."""
        s = self.settings
        near = np.abs(offsets) <= s.quick_radius
        weights = local_linear_weights(offsets[near], s.quick_sigma)
        window = stack[near]
        size = _face_size(out)
        for group in self._quick_groups:
            change = np.tensordot(weights, window[:, group], axes=1) - out[group]
            own = change[:, :2] - change[:, :2].mean(axis=0)  # the group's common motion is the head's
            parted = float(np.sqrt((own**2).sum(axis=1).mean())) / size
            share = min(max((parted - s.quick_from) / (s.quick_full - s.quick_from), 0.0), 1.0)
            if share > 0.0:
                out[group] += share * change


def _face_size(landmarks: Array64) -> float:
    """The landmarks' bounding box's longer side, in pixels (at least 1)."""
    xy = landmarks[:, :2]
    return max(float((xy.max(axis=0) - xy.min(axis=0)).max()), 1.0)
