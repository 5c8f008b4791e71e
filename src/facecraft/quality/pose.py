"""Head pose (yaw, pitch, roll in degrees) from the face mesh, by ``cv2.solvePnP`` against a canonical face.

The canonical face is 40 rigid mesh points (nose, eye corners, forehead, temples, upper cheeks; no lips,
jaw or brows, which move with expression), in face units: the outer eye corners (33, 263) are 1 apart.
Axes follow the image: x to the image right on a frontal face, y down, z away from the camera.

How the constants were made (``canonical_from_frontal``, reproducible on real media, see the tests): the
mesh model's own x, y, z output (z is on the scale of x) for every frame of ``d18.mp4`` (a man looking into
the camera, neutral), each frame centred and scaled to unit RMS, averaged; the x axis turned to the normal
of the face's plane of symmetry (the mean of the left-minus-right pair vectors), which removes his small
yaw and roll; y is the camera's vertical made orthogonal to x (so zero pitch is his look into the camera);
then each mirror pair is averaged with its mirror image and midline points put on x = 0.

Angles (``R = Rz(roll) @ Ry(yaw) @ Rx(pitch)``, R maps face to camera axes):
yaw > 0 turns the nose toward the image left, pitch > 0 takes the chin away from the camera (face up),
roll > 0 turns the face clockwise on screen. Camera: focal length = the larger frame side, centre in
the middle of the frame (the usual guess for an unknown camera; errors between target and output, both
measured with the same guess, barely depend on it).
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.faces.face import MESH_POINTS
from facecraft.types import FloatArray

F64 = npt.NDArray[np.float64]

MIDLINE_POINTS = (1, 4, 5, 195, 197, 6, 168, 8, 9, 151, 10, 2)
"""Mesh points on the face's midline: nose tip to forehead top, and the base of the nose."""
MIRROR_PAIRS = (
    (33, 263),
    (133, 362),
    (98, 327),
    (129, 358),
    (67, 297),
    (109, 338),
    (108, 337),
    (103, 332),
    (54, 284),
    (21, 251),
    (162, 389),
    (127, 356),
    (234, 454),
    (93, 323),
)
"""(subject's right, subject's left) mesh points that mirror each other."""
POSE_POINTS: tuple[int, ...] = MIDLINE_POINTS + tuple(i for pair in MIRROR_PAIRS for i in pair)
"""The rigid subset used for pose, in the order of ``CANONICAL_POINTS_3D``."""

CANONICAL_POINTS_3D: F64 = np.array(
    [
        [0.0000, 0.5623, -0.4223],  # 1
        [0.0000, 0.4878, -0.4537],  # 4
        [0.0000, 0.3812, -0.4362],  # 5
        [0.0000, 0.2892, -0.3800],  # 195
        [0.0000, 0.2029, -0.3268],  # 197
        [0.0000, 0.1110, -0.2786],  # 6
        [0.0000, 0.0170, -0.2389],  # 168
        [0.0000, -0.0633, -0.2557],  # 8
        [0.0000, -0.1592, -0.2830],  # 9
        [0.0000, -0.3514, -0.2726],  # 151
        [0.0000, -0.5377, -0.2513],  # 10
        [0.0000, 0.6232, -0.2274],  # 2
        [-0.5000, 0.0261, 0.0219],  # 33
        [0.5000, 0.0261, 0.0219],  # 263
        [-0.2187, 0.0664, -0.0347],  # 133
        [0.2187, 0.0664, -0.0347],  # 362
        [-0.2070, 0.5898, -0.1366],  # 98
        [0.2070, 0.5898, -0.1366],  # 327
        [-0.2478, 0.4995, -0.1009],  # 129
        [0.2478, 0.4995, -0.1009],  # 358
        [-0.4115, -0.5094, -0.1559],  # 67
        [0.4115, -0.5094, -0.1559],  # 297
        [-0.2233, -0.5344, -0.2314],  # 109
        [0.2233, -0.5344, -0.2314],  # 338
        [-0.1950, -0.3566, -0.2569],  # 108
        [0.1950, -0.3566, -0.2569],  # 337
        [-0.5847, -0.4536, -0.0243],  # 103
        [0.5847, -0.4536, -0.0243],  # 332
        [-0.6959, -0.3624, 0.1319],  # 54
        [0.6959, -0.3624, 0.1319],  # 284
        [-0.7650, -0.2460, 0.2874],  # 21
        [0.7650, -0.2460, 0.2874],  # 251
        [-0.8015, -0.1188, 0.4539],  # 162
        [0.8015, -0.1188, 0.4539],  # 389
        [-0.8110, 0.0450, 0.5936],  # 127
        [0.8110, 0.0450, 0.5936],  # 356
        [-0.7995, 0.2044, 0.6683],  # 234
        [0.7995, 0.2044, 0.6683],  # 454
        [-0.7896, 0.3686, 0.6971],  # 93
        [0.7896, 0.3686, 0.6971],  # 323
    ],
    dtype=np.float64,
)
"""x, y, z of ``POSE_POINTS`` in face units (see the module docstring for how they were derived)."""


@dataclass(frozen=True, slots=True)
class HeadPose:
    """Head rotation in degrees (conventions in the module docstring)."""

    yaw_deg: float
    pitch_deg: float
    roll_deg: float

    def as_array(self) -> F64:
        return np.array([self.yaw_deg, self.pitch_deg, self.roll_deg], dtype=np.float64)


@dataclass(frozen=True, slots=True)
class PoseError:
    """Mean absolute target-vs-output differences over frames, in degrees; ``mean_deg`` over all three."""

    yaw_deg: float
    pitch_deg: float
    roll_deg: float
    frames: int

    @property
    def mean_deg(self) -> float:
        return (self.yaw_deg + self.pitch_deg + self.roll_deg) / 3.0


def rotation_from_angles(pose: HeadPose) -> F64:
    """The 3 x 3 rotation ``Rz(roll) @ Ry(yaw) @ Rx(pitch)`` (face axes to camera axes)."""
    yaw, pitch, roll = (math.radians(v) for v in (pose.yaw_deg, pose.pitch_deg, pose.roll_deg))
    cx, sx = math.cos(pitch), math.sin(pitch)
    cy, sy = math.cos(yaw), math.sin(yaw)
    cz, sz = math.cos(roll), math.sin(roll)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]], dtype=np.float64)
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]], dtype=np.float64)
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]], dtype=np.float64)
    return rz @ ry @ rx


def angles_from_rotation(rotation: F64) -> HeadPose:
    """Inverse of ``rotation_from_angles`` (yaw in [-90, 90] degrees)."""
    yaw = math.asin(max(-1.0, min(1.0, -float(rotation[2, 0]))))
    pitch = math.atan2(float(rotation[2, 1]), float(rotation[2, 2]))
    roll = math.atan2(float(rotation[1, 0]), float(rotation[0, 0]))
    return HeadPose(math.degrees(yaw), math.degrees(pitch), math.degrees(roll))


def camera_matrix(frame_wh: tuple[int, int]) -> F64:
    """Pinhole camera for an unknown lens: focal length = the larger side, centre in the middle."""
    width, height = frame_wh
    focal = float(max(width, height))
    return np.array([[focal, 0, width / 2], [0, focal, height / 2], [0, 0, 1]], dtype=np.float64)


def head_pose(landmarks_478: FloatArray, frame_wh: tuple[int, int]) -> HeadPose | None:
    """Yaw, pitch, roll of the face whose mesh is ``landmarks_478``; ``None`` if the solver fails."""
    image_points = np.ascontiguousarray(landmarks_478[list(POSE_POINTS), :2], dtype=np.float64)
    ok, rvec, _tvec = cv2.solvePnP(
        CANONICAL_POINTS_3D, image_points, camera_matrix(frame_wh), None, flags=cv2.SOLVEPNP_SQPNP
    )
    if not ok:
        return None
    rotation, _ = cv2.Rodrigues(rvec)
    return angles_from_rotation(np.asarray(rotation, dtype=np.float64))


def project_canonical(
    pose: HeadPose, frame_wh: tuple[int, int], center_xy: tuple[float, float], eye_span_px: float
) -> F64:
    """Image positions (40 x 2, ``POSE_POINTS`` order) of the canonical face turned by ``pose``, placed so
    its origin projects to ``center_xy`` and its eye corners are about ``eye_span_px`` apart when frontal."""
    camera = camera_matrix(frame_wh)
    focal, cx, cy = float(camera[0, 0]), float(camera[0, 2]), float(camera[1, 2])
    depth = focal / eye_span_px
    translation = np.array([(center_xy[0] - cx) * depth / focal, (center_xy[1] - cy) * depth / focal, depth])
    points = CANONICAL_POINTS_3D @ rotation_from_angles(pose).T + translation
    return np.asarray((points[:, :2] / points[:, 2:3]) * focal + np.array([cx, cy]), dtype=np.float64)


def pose_error(target: Sequence[HeadPose], output: Sequence[HeadPose]) -> PoseError | None:
    """Mean absolute differences of paired poses (same frames); ``None`` for no pairs."""
    if len(target) != len(output):
        raise ValueError(f"pose series differ in length: {len(target)} and {len(output)}")
    if not target:
        return None
    diff = np.abs(np.stack([p.as_array() for p in output]) - np.stack([p.as_array() for p in target]))
    yaw, pitch, roll = (float(v) for v in diff.mean(axis=0))
    return PoseError(yaw, pitch, roll, len(target))


def canonical_from_frontal(landmark_sets: Sequence[FloatArray]) -> F64:
    """Derive ``CANONICAL_POINTS_3D`` from mesh outputs (x, y, z) of frontal frames (module docstring)."""
    if not landmark_sets:
        raise ValueError("need at least one set of landmarks")
    mean_shape = np.mean([_normalised(np.asarray(s, dtype=np.float64)) for s in landmark_sets], axis=0)
    basis = _symmetry_basis(mean_shape)
    points = (mean_shape[list(POSE_POINTS)] - mean_shape[list(POSE_POINTS)].mean(axis=0)) @ basis.T
    points = _symmetrised(points)
    points -= points.mean(axis=0)
    eye_span = float(np.linalg.norm(points[_index(263)] - points[_index(33)]))
    return np.asarray(points / eye_span, dtype=np.float64)


def _normalised(landmarks: F64) -> F64:
    mesh = landmarks[:MESH_POINTS, :3]
    centred = mesh - mesh.mean(axis=0)
    return np.asarray(centred / math.sqrt(float((centred**2).sum(axis=1).mean())), dtype=np.float64)


def _symmetry_basis(shape: F64) -> F64:
    """Rows x, y, z: x normal to the plane of symmetry, y the camera's down made orthogonal to x."""
    right = shape[[r for r, _ in MIRROR_PAIRS]]
    left = shape[[lf for _, lf in MIRROR_PAIRS]]
    x_axis = (left - right).mean(axis=0)
    x_axis /= np.linalg.norm(x_axis)
    y_axis = np.array([0.0, 1.0, 0.0]) - x_axis[1] * x_axis
    y_axis /= np.linalg.norm(y_axis)
    return np.stack([x_axis, y_axis, np.cross(x_axis, y_axis)])


def _symmetrised(points: F64) -> F64:
    out = points.copy()
    for i in MIDLINE_POINTS:
        out[_index(i), 0] = 0.0
    for right, left in MIRROR_PAIRS:
        r, lf = _index(right), _index(left)
        mirrored_left = points[lf] * np.array([-1.0, 1.0, 1.0])
        average = (points[r] + mirrored_left) / 2
        out[r] = average
        out[lf] = average * np.array([-1.0, 1.0, 1.0])
    return out


def _index(mesh_index: int) -> int:
    return POSE_POINTS.index(mesh_index)
