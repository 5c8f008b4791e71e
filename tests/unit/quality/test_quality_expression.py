"""Mouth and eye opening from the mesh, and how one series over time follows another."""

import math

import numpy as np
import pytest

from facecraft.faces.face import LANDMARK_POINTS
from facecraft.quality.expression import (
    LEFT_EYE_CORNERS,
    LEFT_EYE_GAPS,
    MOUTH_CORNERS,
    MOUTH_GAPS,
    RIGHT_EYE_CORNERS,
    RIGHT_EYE_GAPS,
    correlation,
    eye_aspect_ratio,
    mouth_aspect_ratio,
    series_agreement,
)
from facecraft.types import FloatArray


def face_with(mouth_open: float, eye_open: float, width: float = 40.0) -> FloatArray:
    """Landmarks with mouth and eyes ``width`` px wide and the given openings (fractions of the width)."""
    landmarks = np.zeros((LANDMARK_POINTS, 3), dtype=np.float32)
    groups = (
        (MOUTH_CORNERS, MOUTH_GAPS, (100.0, 200.0), mouth_open),
        (RIGHT_EYE_CORNERS, RIGHT_EYE_GAPS, (60.0, 100.0), eye_open),
        (LEFT_EYE_CORNERS, LEFT_EYE_GAPS, (140.0, 100.0), eye_open),
    )
    for corners, gaps, (cx, cy), opening in groups:
        landmarks[corners[0], :2] = (cx - width / 2, cy)
        landmarks[corners[1], :2] = (cx + width / 2, cy)
        for k, (upper, lower) in enumerate(gaps):
            x = cx + (k - 1) * width / 4
            landmarks[upper, :2] = (x, cy - opening * width / 2)
            landmarks[lower, :2] = (x, cy + opening * width / 2)
    return landmarks


def test_aspect_ratios_measure_opening_over_width() -> None:
    assert mouth_aspect_ratio(face_with(0.5, 0.3)) == pytest.approx(0.5, abs=1e-6)
    assert eye_aspect_ratio(face_with(0.5, 0.3)) == pytest.approx(0.3, abs=1e-6)
    assert mouth_aspect_ratio(face_with(0.0, 0.3)) == pytest.approx(0.0, abs=1e-6)
    # Unit-free: a face twice as large gives the same ratios.
    assert mouth_aspect_ratio(face_with(0.4, 0.2, width=80.0)) == pytest.approx(0.4, abs=1e-6)


def test_a_collapsed_mouth_does_not_divide_by_zero() -> None:
    assert math.isfinite(mouth_aspect_ratio(np.zeros((LANDMARK_POINTS, 3), dtype=np.float32)))


def test_correlation_of_following_and_opposite_series() -> None:
    target = [0.1, 0.3, 0.2, 0.5, 0.4]
    assert correlation(target, [2 * v + 1 for v in target]) == pytest.approx(1.0)
    assert correlation(target, [-v for v in target]) == pytest.approx(-1.0)


def test_correlation_rule_for_undefined_cases() -> None:
    assert correlation([0.2, 0.2, 0.2], [0.5, 0.5, 0.5]) == 1.0  # neither moves: followed exactly
    assert correlation([0.1, 0.3, 0.2], [0.4, 0.4, 0.4]) == 0.0  # the target moves, the output does not
    assert correlation([0.4, 0.4, 0.4], [0.1, 0.3, 0.2]) == 0.0  # the output moves on its own
    assert correlation([0.1, 0.2], [0.1, 0.2]) is None  # too few frames
    assert correlation([], []) is None
    with pytest.raises(ValueError, match="differ in length"):
        correlation([0.1, 0.2, 0.3], [0.1, 0.2])


def test_series_agreement_reports_mean_absolute_difference() -> None:
    agreement = series_agreement([0.1, 0.2, 0.3, 0.4], [0.15, 0.25, 0.35, 0.45])
    assert agreement.correlation == pytest.approx(1.0)
    assert agreement.mean_abs_diff == pytest.approx(0.05)
    assert agreement.frames == 4
    empty = series_agreement([], [])
    assert (empty.correlation, empty.mean_abs_diff, empty.frames) == (None, None, 0)
