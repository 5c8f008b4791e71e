"""A schematic face for the blend tests: 478 landmarks placed where the masks look for them.

The mesh groups that the masks use (face oval, brows, eyelids, eye rings, lips, irises) are laid out as
ellipses and lines around a centre, with the mouth opening, the eye opening and the gaze as parameters.
Every other mesh point sits at the centre. Imported by the other blend tests; it holds one check of its
own (that the layout gives the eye aspect ratio it was built for).
"""

import numpy as np

from facecraft.blend import masks
from facecraft.faces.face import LANDMARK_POINTS, LEFT_IRIS_CENTER, RIGHT_IRIS_CENTER, Face
from facecraft.types import FloatArray

FACE_OVAL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
    152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)  # fmt: skip
"""The MediaPipe silhouette, clockwise in the image from the top of the forehead."""


def _eye(
    points: FloatArray,
    indices: tuple[int, ...],
    center: tuple[float, float],
    width: float,
    half_height: float,
    outer_sign: float,
) -> None:
    """16 points: lower lid outer corner -> inner corner (9), then upper lid inner -> outer (7)."""
    cx, cy = center
    for k in range(9):
        x = cx + outer_sign * (width / 2 - k * width / 8)
        points[indices[k], :2] = (x, cy + half_height * np.sin(np.pi * k / 8))
    for j in range(1, 8):
        x = cx + outer_sign * (-width / 2 + j * width / 8)
        points[indices[8 + j], :2] = (x, cy - half_height * np.sin(np.pi * j / 8))


def _lips(points: FloatArray, indices: tuple[int, ...], center: tuple[float, float], half_width: float,
          upper: float, lower: float) -> None:  # fmt: skip
    """20 points: left corner, 9 along the upper lip, right corner, 9 back along the lower lip."""
    cx, cy = center
    for k in range(11):
        angle = np.pi * k / 10
        points[indices[k], :2] = (cx - half_width * np.cos(angle), cy - upper * np.sin(angle))
    for k in range(1, 10):
        angle = np.pi * k / 10
        points[indices[10 + k], :2] = (cx + half_width * np.cos(angle), cy + lower * np.sin(angle))


def schematic_landmarks(
    center_xy: tuple[float, float] = (160.0, 130.0),
    size_px: float = 200.0,
    mouth_open: float = 0.0,
    eye_ear: float = 0.3,
    gaze: float = 0.0,
) -> FloatArray:
    """478 x 3 landmarks of an upright schematic face.

    mouth_open: gap between the inner lips, as a fraction of ``size_px``. eye_ear: eye aspect ratio of
    both eyes (about 0.3 open, 0 shut). gaze: iris offset from the eye centre, in eye widths (to image right).
    """
    cx, cy = center_xy
    s = size_px
    points = np.zeros((LANDMARK_POINTS, 3), dtype=np.float32)
    points[:, :2] = (cx, cy)
    for k, index in enumerate(FACE_OVAL):
        angle = -np.pi / 2 + 2 * np.pi * k / len(FACE_OVAL)
        points[index, :2] = (cx + 0.4 * s * np.cos(angle), cy + 0.5 * s * np.sin(angle))
    for k, index in enumerate(masks.BROW_TOP):
        x = cx + (-0.3 + 0.06 * k) * s
        points[index, :2] = (x, cy - 0.18 * s)
        points[masks.FOREHEAD_ROW[k], :2] = (x, cy - 0.3 * s)
    for k, index in enumerate(masks.RIGHT_BROW[5:]):
        points[index, :2] = (cx + (-0.06 - 0.06 * k) * s, cy - 0.14 * s)
    for k, index in enumerate(masks.LEFT_BROW[5:]):
        points[index, :2] = (cx + (0.3 - 0.06 * k) * s, cy - 0.14 * s)
    eye_w = 0.16 * s
    half_height = eye_ear * eye_w / (2.0 * np.sin(3 * np.pi / 8))
    ring_half_height = max(1.6 * half_height, 0.25 * eye_w)
    for center, lids, ring, sign, iris in (
        ((cx - 0.15 * s, cy - 0.08 * s), masks.RIGHT_EYELIDS, masks.RIGHT_EYE_RING, -1.0, RIGHT_IRIS_CENTER),
        ((cx + 0.15 * s, cy - 0.08 * s), masks.LEFT_EYELIDS, masks.LEFT_EYE_RING, 1.0, LEFT_IRIS_CENTER),
    ):
        _eye(points, lids, center, eye_w, half_height, sign)
        _eye(points, ring, center, 1.5 * eye_w, ring_half_height, sign)
        points[iris : iris + 5, :2] = (center[0] + gaze * eye_w, center[1])
    mouth = (cx, cy + 0.25 * s)
    gap = 0.5 * mouth_open * s
    _lips(points, masks.LIPS_OUTER, mouth, 0.18 * s, 0.06 * s + gap, 0.07 * s + gap)
    _lips(points, masks.LIPS_INNER, mouth, 0.14 * s, gap, gap)
    return points


def face_from_landmarks(landmarks: FloatArray, track_id: int | None = 0) -> Face:
    xy = landmarks[:, :2]
    box = np.array([xy[:, 0].min(), xy[:, 1].min(), xy[:, 0].max(), xy[:, 1].max()], dtype=np.float32)
    return Face(box, 0.9, landmarks, track_id)


def test_schematic_face_has_the_eye_aspect_ratio_it_was_built_for() -> None:
    for ear in (0.05, 0.3):
        landmarks = schematic_landmarks(eye_ear=ear)
        assert abs(masks.eye_aspect_ratio(landmarks, masks.RIGHT_EYE) - ear) < 1e-3
        assert abs(masks.eye_aspect_ratio(landmarks, masks.LEFT_EYE) - ear) < 1e-3
    assert abs(masks.gaze_offset(schematic_landmarks(gaze=0.3), masks.LEFT_EYE) - 0.3) < 1e-3
