"""Head pose: the canonical face, angle conventions, and solvePnP recovering a known rotation."""

import numpy as np
import pytest

from facecraft.faces.face import LANDMARK_POINTS
from facecraft.quality.pose import (
    CANONICAL_POINTS_3D,
    MIDLINE_POINTS,
    MIRROR_PAIRS,
    POSE_POINTS,
    HeadPose,
    angles_from_rotation,
    head_pose,
    pose_error,
    project_canonical,
    rotation_from_angles,
)
from facecraft.types import FloatArray

FRAME_WH = (1280, 720)


def landmarks_at_pose(pose: HeadPose, center_xy: tuple[float, float] = (640.0, 360.0)) -> FloatArray:
    """478 landmarks: the pose points are the canonical face projected at ``pose``, the rest its centre."""
    projected = project_canonical(pose, FRAME_WH, center_xy, eye_span_px=120.0)
    landmarks = np.zeros((LANDMARK_POINTS, 3), dtype=np.float32)
    landmarks[:, :2] = projected.mean(axis=0)
    landmarks[list(POSE_POINTS), :2] = projected
    return landmarks


def test_canonical_face_is_symmetric_with_unit_eye_span() -> None:
    assert CANONICAL_POINTS_3D.shape == (len(POSE_POINTS), 3)
    index = {mesh: i for i, mesh in enumerate(POSE_POINTS)}
    for right, left in MIRROR_PAIRS:
        mirrored = CANONICAL_POINTS_3D[index[left]] * np.array([-1.0, 1.0, 1.0])
        np.testing.assert_allclose(CANONICAL_POINTS_3D[index[right]], mirrored, atol=1e-9)
    assert all(CANONICAL_POINTS_3D[index[i], 0] == 0.0 for i in MIDLINE_POINTS)
    eye_span = np.linalg.norm(CANONICAL_POINTS_3D[index[263]] - CANONICAL_POINTS_3D[index[33]])
    assert eye_span == pytest.approx(1.0, abs=1e-4)
    # The nose tip is nearer the camera than the eye corners, which are nearer than the face's sides.
    assert (
        CANONICAL_POINTS_3D[index[1], 2]
        < CANONICAL_POINTS_3D[index[33], 2]
        < CANONICAL_POINTS_3D[index[234], 2]
    )


@pytest.mark.parametrize(
    "pose", [HeadPose(0, 0, 0), HeadPose(30, -15, 10), HeadPose(-45, 20, -25), HeadPose(5, 5, 170)]
)
def test_rotation_angles_round_trip(pose: HeadPose) -> None:
    back = angles_from_rotation(rotation_from_angles(pose))
    np.testing.assert_allclose(back.as_array(), pose.as_array(), atol=1e-9)


@pytest.mark.parametrize(
    "pose",
    [HeadPose(0, 0, 0), HeadPose(20, 0, 0), HeadPose(0, -12, 0), HeadPose(0, 0, 15), HeadPose(-35, 10, -8)],
)
def test_a_rotated_mesh_has_that_pose(pose: HeadPose) -> None:
    found = head_pose(landmarks_at_pose(pose, center_xy=(500.0, 300.0)), FRAME_WH)
    assert found is not None
    np.testing.assert_allclose(found.as_array(), pose.as_array(), atol=0.05)


def test_angle_signs_follow_the_documented_conventions() -> None:
    frontal = project_canonical(HeadPose(0, 0, 0), FRAME_WH, (640.0, 360.0), 120.0)
    nose = POSE_POINTS.index(1)
    turned = project_canonical(HeadPose(20, 0, 0), FRAME_WH, (640.0, 360.0), 120.0)
    assert turned[nose, 0] < frontal[nose, 0]  # yaw > 0: the nose turns toward the image left
    rolled = project_canonical(HeadPose(0, 0, 20), FRAME_WH, (640.0, 360.0), 120.0)
    right_eye, left_eye = POSE_POINTS.index(33), POSE_POINTS.index(263)
    assert rolled[left_eye, 1] > rolled[right_eye, 1]  # roll > 0: clockwise on screen (y down)


def test_pose_error_is_the_mean_absolute_difference() -> None:
    target = [HeadPose(0, 0, 0), HeadPose(10, 5, 0)]
    output = [HeadPose(2, -1, 0), HeadPose(10, 8, 3)]
    error = pose_error(target, output)
    assert error is not None
    assert (error.yaw_deg, error.pitch_deg, error.roll_deg) == pytest.approx((1.0, 2.0, 1.5))
    assert error.mean_deg == pytest.approx(1.5)
    assert error.frames == 2
    assert pose_error([], []) is None
    with pytest.raises(ValueError, match="differ in length"):
        pose_error(target, output[:1])
