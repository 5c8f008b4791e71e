"""Dense face landmarks: MediaPipe's 468-point face mesh plus its iris model (478 points in all).

The face mesh model sees a 192x192 RGB crop of the face (``FaceRoi``, values in [0, 1]) and answers
468 x, y, z points in crop pixels and a face-presence logit. The iris model sees a 64x64 crop around
each eye (the subject's left eye mirrored, so both look like a right eye) and answers 71 eye-contour
points and 5 iris points; the 5 iris points of each eye are appended, right eye first.
"""

from dataclasses import dataclass

import cv2
import numpy as np

from facecraft.faces.face import LANDMARK_POINTS, MESH_POINTS
from facecraft.faces.models import FACE_MESH, IRIS, TfliteModel, load_tflite
from facecraft.faces.roi import FaceRoi, crop_matrix, roi_from_points
from facecraft.types import Affine, FloatArray, Frame

MESH_INPUT_SIZE = 192
IRIS_INPUT_SIZE = 64
IRIS_POINTS = 5
EYE_ROI_SCALE = 2.3
"""The eye crop is the eye-corner distance times this (MediaPipe's iris convention)."""
DEFAULT_PRESENCE_THRESHOLD = 0.5
MIN_EYE_WIDTH_PX = 0.5
"""Below this eye-corner distance the iris model is skipped and the iris placed at the eye's centre."""

RIGHT_EYE_CORNERS = (33, 133)
"""Subject's right eye: outer, inner corner (image left to right on a frontal face)."""
LEFT_EYE_CORNERS = (362, 263)
"""Subject's left eye: inner, outer corner (image left to right on a frontal face)."""
RIGHT_EYE_CONTOUR = (33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173)
LEFT_EYE_CONTOUR = (263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385, 384, 398)

_FLIP_X = np.array([[-1.0, 0.0, IRIS_INPUT_SIZE - 1.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
"""Mirror a 64-pixel-wide crop left to right (pixel-centre coordinates); its own inverse."""


@dataclass(frozen=True, slots=True)
class MeshFit:
    """The mesh fitted in one roi: 478 landmarks in frame pixels and the model's face presence (0..1).

    landmarks_478: float32 (478, 3); x, y in frame pixels; z in pixels on the same scale as x
    (relative depth, smaller is nearer the camera).
    """

    landmarks_478: FloatArray
    presence: float

    def __post_init__(self) -> None:
        landmarks = np.asarray(self.landmarks_478, dtype=np.float32)
        if landmarks.shape != (LANDMARK_POINTS, 3):
            raise ValueError(f"landmarks_478 must have shape (478, 3), got {landmarks.shape}")
        if not 0.0 <= self.presence <= 1.0:
            raise ValueError(f"presence must be in [0, 1], got {self.presence}")
        object.__setattr__(self, "landmarks_478", landmarks)


class FaceMesh:
    """Fits 478 landmarks (mesh + iris) inside a face roi. Models load when the object is built.

    One instance per thread: the interpreters inside are not safe to share between threads.
    """

    def __init__(
        self,
        num_threads: int = 1,
        presence_threshold: float = DEFAULT_PRESENCE_THRESHOLD,
        with_iris: bool = True,
    ) -> None:
        if not 0.0 <= presence_threshold <= 1.0:
            raise ValueError(f"presence_threshold must be in [0, 1], got {presence_threshold}")
        self.presence_threshold = presence_threshold
        self.with_iris = with_iris
        self._mesh: TfliteModel = load_tflite(FACE_MESH, num_threads)
        self._iris: TfliteModel | None = load_tflite(IRIS, num_threads) if with_iris else None
        self._check_shapes()

    def _check_shapes(self) -> None:
        want_mesh = (1, MESH_INPUT_SIZE, MESH_INPUT_SIZE, 3)
        if self._mesh.input_shape != want_mesh:
            raise ValueError(f"face mesh model input is {self._mesh.input_shape}, expected {want_mesh}")
        want_iris = (1, IRIS_INPUT_SIZE, IRIS_INPUT_SIZE, 3)
        if self._iris is not None and self._iris.input_shape != want_iris:
            raise ValueError(f"iris model input is {self._iris.input_shape}, expected {want_iris}")

    def fit(self, frame_bgr: Frame, roi: FaceRoi) -> MeshFit | None:
        """478 landmarks for the face in ``roi``, or ``None`` when the model sees no face there."""
        matrix = crop_matrix(roi, MESH_INPUT_SIZE)
        raw_points, raw_flag = self._mesh.run(_to_tensor(frame_bgr, matrix, MESH_INPUT_SIZE))
        presence = float(1.0 / (1.0 + np.exp(-float(raw_flag.reshape(-1)[0]))))
        if presence < self.presence_threshold:
            return None
        mesh = _to_frame(raw_points.reshape(MESH_POINTS, 3), matrix, roi.size_px / MESH_INPUT_SIZE)
        if self._iris is None:
            irises = [_iris_from_contour(mesh, RIGHT_EYE_CONTOUR), _iris_from_contour(mesh, LEFT_EYE_CONTOUR)]
        else:
            irises = [
                self._fit_iris(frame_bgr, mesh, RIGHT_EYE_CORNERS, RIGHT_EYE_CONTOUR, mirror=False),
                self._fit_iris(frame_bgr, mesh, LEFT_EYE_CORNERS, LEFT_EYE_CONTOUR, mirror=True),
            ]
        landmarks = np.concatenate([mesh, *irises]).astype(np.float32)
        if not np.all(np.isfinite(landmarks)):
            return None
        return MeshFit(landmarks, presence)

    def _fit_iris(
        self,
        frame_bgr: Frame,
        mesh: FloatArray,
        corners: tuple[int, int],
        contour: tuple[int, ...],
        mirror: bool,
    ) -> FloatArray:
        """The 5 iris points of one eye (centre first) in frame pixels; z is the eye contour's mean z."""
        assert self._iris is not None
        if float(np.linalg.norm(mesh[corners[1], :2] - mesh[corners[0], :2])) < MIN_EYE_WIDTH_PX:
            return _iris_from_contour(mesh, contour)  # a collapsed eye: nothing for the iris model to see
        eye_roi = roi_from_points(mesh[list(corners)], 0, 1, EYE_ROI_SCALE)
        matrix = crop_matrix(eye_roi, IRIS_INPUT_SIZE)
        if mirror:
            matrix = (_FLIP_X @ np.vstack([matrix, [0.0, 0.0, 1.0]]))[:2].astype(np.float32)
        _, raw_iris = self._iris.run(_to_tensor(frame_bgr, matrix, IRIS_INPUT_SIZE))
        iris = _to_frame(raw_iris.reshape(IRIS_POINTS, 3), matrix, eye_roi.size_px / IRIS_INPUT_SIZE)
        iris[:, 2] = float(mesh[list(contour), 2].mean())
        return iris


def _to_tensor(frame_bgr: Frame, matrix_frame_to_crop: Affine, size: int) -> FloatArray:
    """A 1 x size x size x 3 float32 RGB tensor in [0, 1] of the crop (black outside the frame)."""
    crop_bgr = cv2.warpAffine(
        frame_bgr,
        matrix_frame_to_crop,
        (size, size),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(0, 0, 0),
    )
    rgb = cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2RGB)
    tensor: FloatArray = rgb.astype(np.float32)
    tensor *= np.float32(1.0 / 255.0)
    return tensor[np.newaxis]


def _to_frame(points_crop: FloatArray, matrix_frame_to_crop: Affine, z_scale: float) -> FloatArray:
    """Model points (crop units, pixel edges at 0 and size) to frame pixels; z scaled like x."""
    inverse = cv2.invertAffineTransform(matrix_frame_to_crop.astype(np.float64))
    xy = points_crop[:, :2].astype(np.float64) - 0.5  # pixel-edge to pixel-centre coordinates
    frame_xy = xy @ inverse[:, :2].T + inverse[:, 2]
    out = np.empty((points_crop.shape[0], 3), dtype=np.float32)
    out[:, :2] = frame_xy
    out[:, 2] = points_crop[:, 2] * z_scale
    return out


def _iris_from_contour(mesh: FloatArray, contour: tuple[int, ...]) -> FloatArray:
    """Without the iris model: all 5 iris points at the mean of the eye contour."""
    centre = mesh[list(contour)].mean(axis=0)
    return np.repeat(centre[np.newaxis], IRIS_POINTS, axis=0).astype(np.float32)
