"""One-Euro filtering of landmarks: steady when the face is still, no lag when it moves fast.

Casiez, Roussel and Vogel, "1€ Filter" (CHI 2012). The cut-off frequency rises with the speed of the
signal, so jitter at rest is removed while fast head turns pass through. Speeds are measured in units of the
face size, so the same settings work for a face 60 px or 600 px wide.

``PoseStabilizer`` steadies only the rigid part (shift, turn, scale) of a point set at rest, where a
rendered face shimmering against the footage shows most, and leaves the shape (expression) untouched.
"""

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from facecraft.faces.alignment import umeyama
from facecraft.types import FloatArray


@dataclass(frozen=True, slots=True)
class OneEuroSettings:
    """min_cutoff_hz: smoothing at rest (lower is smoother); beta: how fast the cut-off rises with speed
    (in face sizes per second); derivative_cutoff_hz: smoothing of the speed estimate."""

    min_cutoff_hz: float = 1.5
    beta: float = 4.0
    derivative_cutoff_hz: float = 1.0


def _alpha(cutoff_hz: float, dt_s: float) -> float:
    tau = 1.0 / (2.0 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau / dt_s)


def _alpha_array(cutoff_hz: FloatArray, dt_s: float) -> FloatArray:
    tau = 1.0 / (2.0 * np.pi * cutoff_hz)
    return (1.0 / (1.0 + tau / dt_s)).astype(np.float32)


class OneEuroFilter:
    """Filters an array of points over time; one instance per track."""

    def __init__(self, settings: OneEuroSettings = OneEuroSettings()) -> None:
        self._settings = settings
        self._value: FloatArray | None = None
        self._derivative: FloatArray | None = None
        self._time_s: float | None = None

    def reset(self) -> None:
        self._value = None
        self._derivative = None
        self._time_s = None

    def __call__(self, points: FloatArray, time_s: float, scale_px: float) -> FloatArray:
        """Smooth ``points`` observed at ``time_s``; ``scale_px`` is the face size used to normalise."""
        x = points.astype(np.float32)
        if self._value is None or self._derivative is None or self._time_s is None or time_s <= self._time_s:
            self._value, self._derivative, self._time_s = x, np.zeros_like(x), time_s
            return x
        s = self._settings
        dt = time_s - self._time_s
        a_d = _alpha(s.derivative_cutoff_hz, dt)
        self._derivative = a_d * (x - self._value) / dt + (1.0 - a_d) * self._derivative
        # Per-point speed in face sizes per second: a mouth opening fast is followed closely while the
        # still forehead stays steady, and the same settings suit small and large faces.
        speed = np.linalg.norm(self._derivative, axis=-1, keepdims=True) / max(scale_px, 1.0)
        a = _alpha_array(s.min_cutoff_hz + s.beta * speed, dt)
        self._value = a * x + (1.0 - a) * self._value
        self._time_s = time_s
        return self._value.astype(np.float32)


@dataclass(frozen=True, slots=True)
class PoseStabilizerSettings:
    """How a track's in-image head pose (a 2D similarity: shift, turn, scale) is steadied.

    still_weight: the share of a frame's rigid motion that is followed while the face is still (the rest
        is landmark noise: a rendered face would shimmer against the footage).
    full_speed: rigid motion (face sizes per frame) from which the motion is followed in full.
    reset_motion: a jump at least this large (face sizes) is a new shot or a new face: no smoothing.
    shape_still_weight, shape_full_speed: the same for each point's own motion once the pose is taken
        out (its share of an expression): a point creeping by noise is steadied, a blink or a mouth
        opening (several hundredths of the face per frame) passes at once. 1 leaves the shape as given.
    """

    still_weight: float = 0.3
    full_speed: float = 0.012
    reset_motion: float = 0.2
    shape_still_weight: float = 1.0
    shape_full_speed: float = 0.006

    def __post_init__(self) -> None:
        for name in ("still_weight", "shape_still_weight"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise ValueError(f"{name} must be in (0, 1], got {value}")
        if self.shape_full_speed <= 0.0:
            raise ValueError(f"shape_full_speed must be above 0, got {self.shape_full_speed}")
        if self.full_speed <= 0.0 or self.reset_motion <= 0.0:
            raise ValueError("full_speed and reset_motion must be above 0")


class PoseStabilizer:
    """Steadies the rigid in-image pose of a point set across frames; the shape (expression) passes as is.

    Each call fits the similarity from the previous output to the new points (on ``reference`` points,
    those expressions move little), follows a share of it that grows smoothly with its speed
    (``still_weight`` at rest, all of it from ``full_speed``) and puts the new points' own shape at that
    pose. A mouth opening or a blink is never delayed; a face at rest stops shimmering; a turn or a walk
    is followed without lag. One instance per track; ``reset`` (or a jump of ``reset_motion``) restarts.
    """

    def __init__(
        self, reference: npt.ArrayLike, settings: PoseStabilizerSettings = PoseStabilizerSettings()
    ) -> None:
        self._reference = np.asarray(reference, dtype=np.int64)
        self._settings = settings
        self._previous: npt.NDArray[np.float64] | None = None

    def reset(self) -> None:
        self._previous = None

    def __call__(self, points: npt.ArrayLike, scale_px: float) -> npt.NDArray[np.float64]:
        """``points`` (N x 2 or more; x, y are stabilised, further columns pass) at the steadied pose."""
        current = np.array(points, dtype=np.float64)
        previous = self._previous
        if previous is None or previous.shape != current.shape:
            self._previous = current
            return current.copy()
        ref = self._reference
        centre = previous[ref, :2].mean(axis=0)
        scale, rotation, shift = umeyama(previous[ref, :2], current[ref, :2])
        motion = float(
            np.linalg.norm(scale * previous[ref, :2] @ rotation.T + shift - previous[ref, :2], axis=1).mean()
        )
        motion /= max(scale_px, 1.0)
        if motion >= self._settings.reset_motion:
            self._previous = current
            return current.copy()
        weight = self._follow_weight(motion)
        angle = math.atan2(rotation[1, 0], rotation[0, 0])
        moved_centre = scale * rotation @ centre + shift
        partial = _similarity(
            scale**weight, angle * weight, centre, centre + weight * (moved_centre - centre)
        )
        # back from the observed pose to the previous one, then forward by the followed share
        undo = _similarity(1.0 / scale, -angle, moved_centre, centre)
        out = current.copy()
        out[:, :2] = _apply(partial, _apply(undo, current[:, :2]))
        if self._settings.shape_still_weight < 1.0:
            out[:, :2] = self._steady_shape(_apply(partial, previous[:, :2]), out[:, :2], scale_px)
        self._previous = out
        return out.copy()

    def _steady_shape(
        self, previous_xy: npt.NDArray[np.float64], current_xy: npt.NDArray[np.float64], scale_px: float
    ) -> npt.NDArray[np.float64]:
        """Each point follows a share of its own motion (both at the same pose) growing with its speed."""
        s = self._settings
        delta = current_xy - previous_xy
        speed = np.linalg.norm(delta, axis=1, keepdims=True) / max(scale_px, 1.0)
        weight = _smooth_share(speed / s.shape_full_speed, s.shape_still_weight)
        out: npt.NDArray[np.float64] = previous_xy + weight * delta
        return out

    def _follow_weight(self, motion: float) -> float:
        s = self._settings
        return float(_smooth_share(np.asarray(motion / s.full_speed), s.still_weight))


def _smooth_share(relative_speed: npt.NDArray[np.float64], still: float) -> npt.NDArray[np.float64]:
    """``still`` at rest, rising by a smoothstep to 1 at relative speed 1."""
    t = np.minimum(relative_speed, 1.0)
    out: npt.NDArray[np.float64] = still + (1.0 - still) * t * t * (3.0 - 2.0 * t)
    return out


def _similarity(
    scale: float, angle: float, centre: npt.NDArray[np.float64], moved_centre: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """2 x 3 matrix: turn by ``angle`` and scale about ``centre``, which lands on ``moved_centre``."""
    cos, sin = math.cos(angle) * scale, math.sin(angle) * scale
    linear = np.array([[cos, -sin], [sin, cos]])
    shift = moved_centre - linear @ centre
    return np.hstack([linear, shift[:, np.newaxis]])


def _apply(matrix: npt.NDArray[np.float64], xy: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    out: npt.NDArray[np.float64] = xy @ matrix[:, :2].T + matrix[:, 2]
    return out
