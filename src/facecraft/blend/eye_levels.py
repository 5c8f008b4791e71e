"""Each tracked eye's usual open size, so a blink can be told from an eye that is simply small.

The face mesh never draws a shut eye shut, and eyes differ in size, so "closed" cannot be one aspect
ratio for everyone (``masks.eye_keep_weights``). Per track and eye, the ``LEVEL_PERCENTILE``-th
percentile of the aspect ratio over the last ``WINDOW_FRAMES`` frames is taken as that eye's open level:
a blink or a wink (a few frames) does not move it, even at the start of a track (s18.mp4 blinks in its
first half second: 5 of the first 12 frames; a median then sank into the blink); an expression held for
most of the window (a squint, looking down) becomes the level, so it is not taken for a closed eye.
Single images have no level (``None``) and keep the absolute test.
"""

from collections import deque
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from facecraft.blend.masks import LEFT_EYE, RIGHT_EYE, eye_aspect_ratio

WINDOW_FRAMES = 61
"""Frames (about 2 s at 30 fps) over which an eye's open level is taken."""
LEVEL_PERCENTILE = 75.0
"""The open level is this percentile of the eye's aspect ratio over the window."""
FORGET_AFTER_CALLS = 300
"""A track not seen for this many calls is forgotten (its next frames start a new level)."""


@dataclass(slots=True)
class _TrackEyes:
    right: deque[float] = field(default_factory=lambda: deque(maxlen=WINDOW_FRAMES))
    left: deque[float] = field(default_factory=lambda: deque(maxlen=WINDOW_FRAMES))
    last_call: int = 0


class EyeOpenLevels:
    """Per track, the right and left eye's open level (a high percentile of its recent aspect ratios).

    Call ``observe`` once per face and frame, in frame order; ``reset`` between videos.
    """

    def __init__(self) -> None:
        self._tracks: dict[int, _TrackEyes] = {}
        self._calls = 0

    def reset(self) -> None:
        self._tracks.clear()
        self._calls = 0

    def observe(self, track_id: int | None, landmarks: npt.ArrayLike) -> tuple[float, float] | None:
        """Add this frame's eyes to the track's history; the (right, left) open levels, this frame
        included. ``None`` without a track (a single image)."""
        if track_id is None:
            return None
        self._calls += 1
        eyes = self._tracks.get(track_id)
        if eyes is None:
            eyes = self._tracks[track_id] = _TrackEyes()
        eyes.last_call = self._calls
        eyes.right.append(eye_aspect_ratio(landmarks, RIGHT_EYE))
        eyes.left.append(eye_aspect_ratio(landmarks, LEFT_EYE))
        self._forget_stale()
        right, left = np.percentile(np.array([eyes.right, eyes.left]), LEVEL_PERCENTILE, axis=1)
        return float(right), float(left)

    def _forget_stale(self) -> None:
        calls = self._calls
        stale = [key for key, eyes in self._tracks.items() if calls - eyes.last_call > FORGET_AFTER_CALLS]
        for key in stale:
            del self._tracks[key]
