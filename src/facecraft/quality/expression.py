"""Expression from the mesh: mouth and eye opening, and how well one series over time follows another.

Mouth aspect ratio (MAR): the mean of three inner-lip gaps (82-87, 13-14, 312-317) over the mouth width
between the inner corners (78-308). Eye aspect ratio (EAR): per eye, the mean of three lid gaps over the
corner-to-corner width, averaged over both eyes. Both are unit-free, so they compare across face sizes.

Agreement of an output series with the target's: Pearson correlation and mean absolute difference.
Correlation rule where it is undefined: fewer than ``MIN_CORRELATION_FRAMES`` paired frames gives ``None``;
both series constant (standard deviation under ``CONSTANT_STD``) gives 1.0 (the output follows the target
exactly: neither moves); only one of them constant gives 0.0 (one moves, the other does not follow).
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from facecraft.faces.face import opening_ratio
from facecraft.types import FloatArray

MOUTH_GAPS = ((82, 87), (13, 14), (312, 317))
"""Inner-lip point pairs (upper, lower), left to right on a frontal face."""
MOUTH_CORNERS = (78, 308)
"""Inner mouth corners."""
RIGHT_EYE_GAPS = ((160, 144), (159, 145), (158, 153))
RIGHT_EYE_CORNERS = (33, 133)
LEFT_EYE_GAPS = ((385, 380), (386, 374), (387, 373))
LEFT_EYE_CORNERS = (362, 263)

MIN_CORRELATION_FRAMES = 3
CONSTANT_STD = 1e-6
"""A series whose standard deviation is under this (aspect-ratio units) counts as constant."""


@dataclass(frozen=True, slots=True)
class SeriesAgreement:
    """How an output series follows a target series: Pearson correlation (rule above) and mean |diff|."""

    correlation: float | None
    mean_abs_diff: float | None
    frames: int


def mouth_aspect_ratio(landmarks_478: FloatArray) -> float:
    """Mouth opening over mouth width (0 closed, about 0.5 to 1 wide open)."""
    return opening_ratio(landmarks_478, MOUTH_GAPS, MOUTH_CORNERS)


def eye_aspect_ratio(landmarks_478: FloatArray) -> float:
    """Eye opening over eye width, mean of both eyes (about 0.25 to 0.35 open, under 0.1 closed)."""
    right = opening_ratio(landmarks_478, RIGHT_EYE_GAPS, RIGHT_EYE_CORNERS)
    left = opening_ratio(landmarks_478, LEFT_EYE_GAPS, LEFT_EYE_CORNERS)
    return (right + left) / 2


def correlation(target: Sequence[float], output: Sequence[float]) -> float | None:
    """Pearson correlation of paired series, with the module's rule where it is undefined."""
    if len(target) != len(output):
        raise ValueError(f"series differ in length: {len(target)} and {len(output)}")
    if len(target) < MIN_CORRELATION_FRAMES:
        return None
    a = np.asarray(target, dtype=np.float64)
    b = np.asarray(output, dtype=np.float64)
    a_constant, b_constant = float(a.std()) < CONSTANT_STD, float(b.std()) < CONSTANT_STD
    if a_constant and b_constant:
        return 1.0
    if a_constant or b_constant:
        return 0.0
    a_centred, b_centred = a - a.mean(), b - b.mean()
    spread = math.sqrt(float((a_centred**2).sum() * (b_centred**2).sum()))
    value = float((a_centred * b_centred).sum()) / spread
    return max(-1.0, min(1.0, value))


def series_agreement(target: Sequence[float], output: Sequence[float]) -> SeriesAgreement:
    """Correlation and mean absolute difference of an output series against the target's."""
    corr = correlation(target, output)
    if not target:
        return SeriesAgreement(corr, None, 0)
    diff = np.abs(np.asarray(output, dtype=np.float64) - np.asarray(target, dtype=np.float64))
    return SeriesAgreement(corr, float(diff.mean()), len(target))
