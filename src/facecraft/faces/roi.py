"""Rotated square regions of interest around a face, and the affine maps into and out of them.

A ``FaceRoi`` is a square of side ``size_px`` centred on ``center_xy`` whose x axis points along
``angle_rad`` in frame pixels (y down, so a positive angle turns the square clockwise on screen).
It follows MediaPipe's convention: the square is rotated so the eyes lie horizontally in the crop, and is
1.5x larger than the face box so the whole head fits.

Crop pixel convention: ``crop_matrix`` is ready for ``cv2.warpAffine`` (pixel centres at integer
coordinates), and maps the square's corners to the corners of the crop, (-0.5, -0.5) and
(size - 0.5, size - 0.5).
"""

import math
from dataclasses import dataclass

import numpy as np

from facecraft.faces.face import MESH_POINTS, Detection
from facecraft.types import Affine, FloatArray

ROI_SCALE = 1.5
"""How much larger than the face box the crop is (MediaPipe's face mesh convention)."""

RIGHT_EYE_OUTER_CORNER = 33
"""Mesh index of the subject's right eye outer corner (image left on a frontal face)."""
LEFT_EYE_OUTER_CORNER = 263
"""Mesh index of the subject's left eye outer corner (image right on a frontal face)."""


@dataclass(frozen=True, slots=True)
class FaceRoi:
    """A rotated square crop in frame pixels: centre, side and the angle of its x axis."""

    center_xy: tuple[float, float]
    size_px: float
    angle_rad: float

    def __post_init__(self) -> None:
        values = (*self.center_xy, self.size_px, self.angle_rad)
        if not all(math.isfinite(v) for v in values):
            raise ValueError(f"FaceRoi values must be finite, got {self}")
        if self.size_px <= 0:
            raise ValueError(f"FaceRoi size_px must be positive, got {self.size_px}")

    def scaled(self, factor: float) -> "FaceRoi":
        """The same square about the same centre, ``factor`` times larger."""
        return FaceRoi(self.center_xy, self.size_px * factor, self.angle_rad)


def angle_between(start_xy: FloatArray, end_xy: FloatArray) -> float:
    """Angle (radians, frame pixels, y down) of the vector from ``start_xy`` to ``end_xy``."""
    return math.atan2(float(end_xy[1] - start_xy[1]), float(end_xy[0] - start_xy[0]))


def roi_from_box(box_xyxy: FloatArray, angle_rad: float, scale: float = ROI_SCALE) -> FaceRoi:
    """A square around a box's centre, its long side times ``scale``, turned by ``angle_rad``."""
    x0, y0, x1, y1 = (float(v) for v in box_xyxy)
    size = max(x1 - x0, y1 - y0) * scale
    return FaceRoi(((x0 + x1) / 2, (y0 + y1) / 2), size, angle_rad)


def roi_from_detection(det: Detection, scale: float = ROI_SCALE) -> FaceRoi:
    """The crop the face mesh expects for a detection: eyes horizontal, box 1.5x, square."""
    angle = angle_between(det.keypoints_6[0], det.keypoints_6[1])
    return roi_from_box(det.bbox_xyxy, angle, scale)


def roi_from_points(points_xy: FloatArray, start: int, end: int, scale: float) -> FaceRoi:
    """A square around points, rotated so ``points[start] -> points[end]`` is horizontal.

    The extent is measured along the rotated axes, so a tilted face gets the same square as an upright one.
    """
    xy = np.asarray(points_xy[:, :2], dtype=np.float64)
    angle = angle_between(xy[start], xy[end])
    cos, sin = math.cos(angle), math.sin(angle)
    # Coordinates along the roi's own axes: u along (cos, sin), v along (-sin, cos).
    u = xy[:, 0] * cos + xy[:, 1] * sin
    v = -xy[:, 0] * sin + xy[:, 1] * cos
    u_mid = (float(u.min()) + float(u.max())) / 2
    v_mid = (float(v.min()) + float(v.max())) / 2
    size = max(float(u.max() - u.min()), float(v.max() - v.min())) * scale
    center = (u_mid * cos - v_mid * sin, u_mid * sin + v_mid * cos)
    return FaceRoi(center, size, angle)


def roi_from_landmarks(landmarks_478: FloatArray, scale: float = ROI_SCALE) -> FaceRoi:
    """The crop for re-fitting the mesh from the previous frame's landmarks (tracking, no detector).

    Rotation from the outer eye corners (33 -> 263), box from the mesh extent, enlarged 1.5x.
    """
    return roi_from_points(landmarks_478[:MESH_POINTS], RIGHT_EYE_OUTER_CORNER, LEFT_EYE_OUTER_CORNER, scale)


def crop_matrix(roi: FaceRoi, size: int) -> Affine:
    """Frame -> crop affine (2x3) for a ``size`` x ``size`` crop of the roi, for ``cv2.warpAffine``."""
    scale = size / roi.size_px
    cos, sin = math.cos(roi.angle_rad), math.sin(roi.angle_rad)
    cx, cy = roi.center_xy
    half = size / 2 - 0.5
    a, b = scale * cos, scale * sin
    # crop = scale * R(-angle) @ (frame - centre) + half
    matrix = [[a, b, half - a * cx - b * cy], [-b, a, half + b * cx - a * cy]]
    return np.array(matrix, dtype=np.float32)


def crop_to_frame_matrix(roi: FaceRoi, size: int) -> Affine:
    """Crop -> frame affine (2x3): the exact inverse of ``crop_matrix(roi, size)``."""
    scale = roi.size_px / size
    cos, sin = math.cos(roi.angle_rad), math.sin(roi.angle_rad)
    cx, cy = roi.center_xy
    half = size / 2 - 0.5
    a, b = scale * cos, scale * sin
    # frame = centre + (1 / scale) * R(angle) @ (crop - half)
    matrix = [[a, -b, cx - a * half + b * half], [b, a, cy - b * half - a * half]]
    return np.array(matrix, dtype=np.float32)
