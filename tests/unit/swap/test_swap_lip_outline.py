"""The source photo's lips moved onto the mesh's outer lip contour, read from their colour."""

import cv2
import numpy as np
import pytest

from facecraft.faces.face import LANDMARK_POINTS, MESH_POINTS
from facecraft.swap.lip_outline import read_lips
from facecraft.swap.triangles import LIPS_INNER, LIPS_OUTER, load_topology

TOPOLOGY = load_topology()
SIZE = 320
SCALE = 220.0
SKIN_LAB = (200, 140, 150)
LIP_A = 185
THRESHOLD = 0.5 * (LIP_A + SKIN_LAB[1])
MIDDLE = [k for k in range(20) if k not in (0, 10)]
"""Positions in the contours of the points between the corners."""


def _landmarks() -> np.ndarray:
    """A whole frontal mesh (the layout, scaled into the photo)."""
    points = np.zeros((LANDMARK_POINTS, 3), np.float32)
    points[:MESH_POINTS] = TOPOLOGY.layout_468 * SCALE
    points[:MESH_POINTS, :2] += SIZE / 2
    return points


def _photo(landmarks: np.ndarray, grow: float, lip_a: float = LIP_A) -> np.ndarray:
    """Skin with lips of redness ``lip_a`` (8-bit LAB a*) painted as the mesh's outer contour grown ``grow``
    times about the mouth's centre."""
    outer = landmarks[list(LIPS_OUTER), :2].astype(np.float64)
    centre = 0.5 * (outer[0] + outer[10])
    painted = centre + (outer - centre) * grow
    lab = np.zeros((SIZE, SIZE, 3), np.uint8)
    lab[...] = SKIN_LAB
    cv2.fillPoly(lab, [np.round(painted * 8).astype(np.int32)], (150, lip_a, 150), cv2.LINE_8, 3)
    bgr = cv2.cvtColor(lab, cv2.COLOR_LAB2BGR)
    return np.asarray(cv2.GaussianBlur(bgr, (0, 0), 0.8), dtype=np.uint8)


def _redness_along(photo: np.ndarray, landmarks: np.ndarray, fraction: float) -> np.ndarray:
    """The photo's a* at ``fraction`` of the way from each inner lip point to its outer partner (the
    points between the corners)."""
    inner = landmarks[list(LIPS_INNER), :2].astype(np.float64)[MIDDLE]
    outer = landmarks[list(LIPS_OUTER), :2].astype(np.float64)[MIDDLE]
    places = inner + fraction * (outer - inner)
    chroma = cv2.cvtColor(photo, cv2.COLOR_BGR2LAB)[..., 1].astype(np.float32)
    map_x = places[:, 0].astype(np.float32).reshape(1, -1)
    map_y = places[:, 1].astype(np.float32).reshape(1, -1)
    return np.asarray(cv2.remap(chroma, map_x, map_y, cv2.INTER_LINEAR)).reshape(-1)


def test_lipstick_past_the_mesh_contour_is_brought_onto_it() -> None:
    landmarks = _landmarks()
    photo = _photo(landmarks, grow=1.12)
    assert np.mean(_redness_along(photo, landmarks, 1.06) > THRESHOLD) > 0.9  # red past the contour
    read = read_lips(photo, landmarks)
    assert read.shape == photo.shape and read.dtype == np.uint8
    assert np.all(_redness_along(read, landmarks, 0.85) > THRESHOLD)  # the lips fill their triangles
    after, before = _redness_along(read, landmarks, 1.1), _redness_along(photo, landmarks, 1.1)
    middle = [2, 3, 4, 5, 6, 11, 12, 13, 14, 15]  # positions in MIDDLE: the lips away from the corners
    assert np.all(after[middle] < THRESHOLD)  # they end at the contour
    assert np.all(after <= before + 1.0) and float(after.mean()) < float(before.mean()) - 15.0  # all come in
    outer = landmarks[list(LIPS_OUTER), :2].astype(np.float64)
    width = float(np.linalg.norm(outer[10] - outer[0]))
    ys, xs = np.mgrid[0:SIZE, 0:SIZE]
    far = np.hypot(xs - outer[:, 0].mean(), ys - outer[:, 1].mean()) > 1.1 * width
    np.testing.assert_array_equal(read[far], photo[far])  # the rest of the face as it was


def test_lips_smaller_than_the_mesh_contour_are_spread_onto_it() -> None:
    landmarks = _landmarks()
    photo = _photo(landmarks, grow=0.9)
    assert np.mean(_redness_along(photo, landmarks, 0.95) < THRESHOLD) > 0.8
    read = read_lips(photo, landmarks)
    assert np.mean(_redness_along(read, landmarks, 0.9) > THRESHOLD) > 0.8


def test_pale_lips_are_left_as_they_are() -> None:
    landmarks = _landmarks()
    photo = _photo(landmarks, grow=1.12, lip_a=150.0)  # 10 levels redder than the skin: bare lips
    np.testing.assert_array_equal(read_lips(photo, landmarks), photo)


@pytest.mark.parametrize("cut", [-2, 8])
def test_lips_cut_by_the_photos_edge(cut: int) -> None:
    """A mouth at (or cut by) the photo's right edge: the photo keeps its size, nothing is read past it."""
    landmarks = _landmarks()
    photo = _photo(landmarks, grow=1.12)
    right = int(np.ceil(landmarks[291, 0])) + cut
    read = read_lips(photo[:, :right], landmarks)
    assert read.shape == photo[:, :right].shape
