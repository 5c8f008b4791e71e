"""One-Euro filtering of landmarks: steady when the face is still, no lag when it moves fast.

Casiez, Roussel and Vogel, "1€ Filter" (CHI 2012). The cut-off frequency rises with the speed of the
signal, so jitter at rest is removed while fast head turns pass through. Speeds are measured in units of the
face size, so the same settings work for a face 60 px or 600 px wide.
"""

import math
from dataclasses import dataclass

import numpy as np

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
