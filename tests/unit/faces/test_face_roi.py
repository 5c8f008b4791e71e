"""FaceRoi: the rotated square crop, its matrices and how it is derived from detections and landmarks."""

import math

import cv2
import numpy as np
import pytest

from facecraft.faces.face import LANDMARK_POINTS, Detection
from facecraft.faces.roi import (
    ROI_SCALE,
    FaceRoi,
    crop_matrix,
    crop_to_frame_matrix,
    roi_from_detection,
    roi_from_landmarks,
)


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    m = matrix.astype(np.float64)
    return np.asarray(points, dtype=np.float64) @ m[:, :2].T + m[:, 2]


def _to3x3(matrix: np.ndarray) -> np.ndarray:
    return np.vstack([matrix.astype(np.float64), [0.0, 0.0, 1.0]])


@pytest.mark.parametrize(
    "roi",
    [
        FaceRoi((320.0, 240.0), 200.0, 0.0),
        FaceRoi((100.5, 700.25), 37.0, 0.3),
        FaceRoi((1000.0, 50.0), 900.0, -2.5),
        FaceRoi((0.0, 0.0), 1.0, math.pi),
    ],
)
@pytest.mark.parametrize("size", [64, 192, 256])
def test_crop_matrix_and_its_inverse_compose_to_identity(roi: FaceRoi, size: int) -> None:
    forward = _to3x3(crop_matrix(roi, size))
    backward = _to3x3(crop_to_frame_matrix(roi, size))
    np.testing.assert_allclose(forward @ backward, np.eye(3), atol=2e-4)
    np.testing.assert_allclose(backward @ forward, np.eye(3), atol=2e-4)


def test_crop_matrix_maps_centre_corners_and_axis_as_documented() -> None:
    angle = 0.4
    roi = FaceRoi((300.0, 200.0), 100.0, angle)
    size = 200
    matrix = crop_matrix(roi, size)
    centre = _apply(matrix, np.array([[300.0, 200.0]]))[0]
    np.testing.assert_allclose(centre, [size / 2 - 0.5, size / 2 - 0.5], atol=1e-3)
    # 10 frame pixels along the roi's x axis (cos, sin) is 20 crop pixels to the right (scale 2).
    along_x = np.array([[300.0 + 10 * math.cos(angle), 200.0 + 10 * math.sin(angle)]])
    np.testing.assert_allclose(_apply(matrix, along_x)[0], [size / 2 - 0.5 + 20, size / 2 - 0.5], atol=1e-3)
    # The roi's top-left corner (in its own axes) lands on the crop's top-left pixel edge.
    half = roi.size_px / 2
    ux, uy = math.cos(angle), math.sin(angle)
    top_left = np.array([[300.0 - half * ux + half * uy, 200.0 - half * uy - half * ux]])
    np.testing.assert_allclose(_apply(matrix, top_left)[0], [-0.5, -0.5], atol=1e-3)


def test_warp_with_crop_matrix_moves_a_marker_where_the_matrix_says() -> None:
    frame = np.zeros((480, 640, 3), dtype=np.uint8)
    cv2.circle(frame, (400, 260), 6, (255, 255, 255), -1)
    roi = FaceRoi((380.0, 240.0), 160.0, 0.6)
    matrix = crop_matrix(roi, 192)
    crop = cv2.warpAffine(frame, matrix, (192, 192), flags=cv2.INTER_LINEAR)
    ys, xs = np.nonzero(crop[..., 0] > 128)
    expected = _apply(matrix, np.array([[400.0, 260.0]]))[0]
    np.testing.assert_allclose([xs.mean(), ys.mean()], expected, atol=0.6)


def _detection(eye_right: tuple[float, float], eye_left: tuple[float, float]) -> Detection:
    keypoints = np.array(
        [eye_right, eye_left, (200, 230), (200, 260), (150, 215), (250, 215)], dtype=np.float32
    )
    return Detection(np.array([150, 170, 250, 290], dtype=np.float32), 0.9, keypoints)


def test_roi_from_detection_centres_enlarges_and_levels_the_eyes() -> None:
    det = _detection((175.0, 200.0), (225.0, 220.0))  # head tilted: image-right eye lower
    roi = roi_from_detection(det)
    assert roi.center_xy == pytest.approx((200.0, 230.0))
    assert roi.size_px == pytest.approx(ROI_SCALE * 120.0)  # long side of the 100x120 box
    assert roi.angle_rad == pytest.approx(math.atan2(20.0, 50.0))
    eyes_in_crop = _apply(crop_matrix(roi, 192), det.keypoints_6[:2])
    assert eyes_in_crop[0, 1] == pytest.approx(eyes_in_crop[1, 1], abs=1e-3)  # horizontal in the crop
    assert eyes_in_crop[0, 0] < eyes_in_crop[1, 0]  # subject's right eye stays on the crop's left


def test_roi_from_detection_upright_face_has_zero_angle() -> None:
    roi = roi_from_detection(_detection((175.0, 210.0), (225.0, 210.0)))
    assert roi.angle_rad == pytest.approx(0.0)


def _synthetic_landmarks(angle: float, centre: tuple[float, float], scale: float) -> np.ndarray:
    """A 478-point cloud shaped like a face box (width 1, height 1.3), eye corners 33 and 263 level."""
    rng = np.random.default_rng(7)
    local = rng.uniform([-0.5, -0.65], [0.5, 0.65], size=(LANDMARK_POINTS, 2))
    local[33] = (-0.35, -0.1)
    local[263] = (0.35, -0.1)
    local[0] = (-0.5, -0.65)  # pin the extent
    local[1] = (0.5, 0.65)
    rotation = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    xy = (local * scale) @ rotation.T + centre
    return np.column_stack([xy, np.zeros(LANDMARK_POINTS)]).astype(np.float32)


@pytest.mark.parametrize("angle", [0.0, 0.25, -1.0, 2.8])
def test_roi_from_landmarks_follows_rotation_and_mesh_extent(angle: float) -> None:
    landmarks = _synthetic_landmarks(angle, (400.0, 300.0), 200.0)
    roi = roi_from_landmarks(landmarks)
    assert math.remainder(roi.angle_rad - angle, 2 * math.pi) == pytest.approx(0.0, abs=1e-5)
    assert roi.size_px == pytest.approx(ROI_SCALE * 260.0, rel=1e-4)  # long side (height 1.3 x 200)
    assert roi.center_xy == pytest.approx((400.0, 300.0), abs=1e-3)


def test_face_roi_rejects_bad_values() -> None:
    with pytest.raises(ValueError, match="positive"):
        FaceRoi((0.0, 0.0), 0.0, 0.0)
    with pytest.raises(ValueError, match="finite"):
        FaceRoi((float("nan"), 0.0), 10.0, 0.0)
    assert FaceRoi((1.0, 2.0), 10.0, 0.5).scaled(2.0) == FaceRoi((1.0, 2.0), 20.0, 0.5)
