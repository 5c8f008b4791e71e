"""The source photo's outer lip contour read from the lips' colour."""

import cv2
import numpy as np

from facecraft.faces.face import LANDMARK_POINTS
from facecraft.swap.lip_outline import CORNER_OUT, refined_lips
from facecraft.swap.triangles import LIPS_INNER, LIPS_OUTER

CENTRE = (100.0, 90.0)
AXES = (40.0, 16.0)
"""The painted lips: an ellipse (half-width, half-height)."""


def _contour(scale_x: float, scale_y: float) -> np.ndarray:
    """20 points in the contours' order: left corner, upper lip left to right, right corner, lower back."""
    angles = [np.pi - k * np.pi / 10 for k in range(11)] + [-(k - 10) * np.pi / 10 for k in range(11, 20)]
    return np.array(
        [(CENTRE[0] + scale_x * np.cos(t), CENTRE[1] - scale_y * np.sin(t)) for t in angles], dtype=np.float64
    )


def _photo(lip_a: float) -> np.ndarray:
    """Skin with an elliptical pair of lips of redness ``lip_a`` (8-bit LAB a*), softened a little."""
    lab = np.zeros((180, 200, 3), np.uint8)
    lab[...] = (200, 140, 150)
    cv2.ellipse(
        lab, (int(CENTRE[0]), int(CENTRE[1])), (int(AXES[0]), int(AXES[1])), 0, 0, 360, (150, lip_a, 150), -1
    )
    bgr = cv2.cvtColor(lab, cv2.COLOR_LAB2BGR)
    return np.asarray(cv2.GaussianBlur(bgr, (0, 0), 1.0), dtype=np.uint8)


def _landmarks(inside: float = 0.85) -> np.ndarray:
    """Landmarks with the mesh's outer lip drawn ``inside`` of the painted lips and a closed mouth's line."""
    points = np.zeros((LANDMARK_POINTS, 3), np.float32)
    points[list(LIPS_OUTER), :2] = _contour(inside * AXES[0], inside * AXES[1])
    points[list(LIPS_INNER), :2] = _contour(0.9 * inside * AXES[0], 2.0)
    return points


def _radius(xy: np.ndarray) -> np.ndarray:
    """Each point's place relative to the painted ellipse (1 on its edge)."""
    dx, dy = (xy[:, 0] - CENTRE[0]) / AXES[0], (xy[:, 1] - CENTRE[1]) / AXES[1]
    out: np.ndarray = np.sqrt(dx**2 + dy**2)
    return out


def test_red_lips_drawn_inside_by_the_mesh_get_their_painted_outline() -> None:
    landmarks = _landmarks()
    refined = refined_lips(_photo(lip_a=185.0), landmarks)
    middle = [k for k in range(20) if k not in (0, 10) and k not in (1, 9, 11, 19)]
    before = _radius(landmarks[list(LIPS_OUTER), :2].astype(np.float64))[middle]
    after = _radius(refined[list(LIPS_OUTER), :2].astype(np.float64))[middle]
    assert np.all(np.abs(before - 1.0) > 0.1)
    assert np.all(np.abs(after - 1.0) < 0.1), after
    for corner in (0, 10):  # the corners move out along the mouth, no further than allowed
        was, now = landmarks[LIPS_OUTER[corner], 0], refined[LIPS_OUTER[corner], 0]
        moved = abs(float(now - CENTRE[0])) - abs(float(was - CENTRE[0]))
        assert 2.0 < moved <= CORNER_OUT * 2 * 0.85 * AXES[0] + 1e-3
        inner_moved = refined[LIPS_INNER[corner], 0] - landmarks[LIPS_INNER[corner], 0]
        assert float(inner_moved) == np.float32(now - was)  # the inner corner moves with it
    others = np.setdiff1d(np.arange(LANDMARK_POINTS), [*LIPS_OUTER, LIPS_INNER[0], LIPS_INNER[10]])
    np.testing.assert_array_equal(refined[others], landmarks[others])


def test_pale_lips_keep_the_mesh_outline() -> None:
    landmarks = _landmarks()
    refined = refined_lips(_photo(lip_a=150.0), landmarks)  # 10 levels redder than the skin: bare lips
    np.testing.assert_array_equal(refined, landmarks)


def test_a_mesh_outline_outside_the_lips_comes_in() -> None:
    landmarks = _landmarks(inside=1.2)
    refined = refined_lips(_photo(lip_a=185.0), landmarks)
    middle = [2, 3, 4, 5, 6, 7, 8, 12, 13, 14, 15, 16, 17, 18]
    after = _radius(refined[list(LIPS_OUTER), :2].astype(np.float64))[middle]
    assert np.all(after < 1.12) and np.all(after > 0.88)
