"""Dense face landmarks: MediaPipe's 468-point face mesh plus its iris model (478 points in all).

The face mesh model sees a 192x192 RGB crop of the face (``FaceRoi``, values in [0, 1]) and answers
468 x, y, z points in crop pixels and a face-presence logit. The iris model sees a 64x64 crop around
each eye (the subject's left eye mirrored, so both look like a right eye) and answers 71 eye-contour
and brow points and 5 iris points. The 71 points replace the x, y of the mesh's eyelid, eye-halo and brow
points (the mesh alone barely closes its eyelids on a blink; the iris model, which sees the eye 4x larger,
does), and the 5 iris points of each eye are appended, right eye first.
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

# Where the iris model's 71 eye points go in the face mesh, in the model's output order, for an eye seen as
# the subject's right eye (outer corner on the image left). Each ring runs outer corner to inner corner; the
# upper rows skip the corners that the lower rows already hold. The index table is MediaPipe's (Apache-2.0):
# kEyeLandmarkIndicesInFaceLandmarks in mediapipe/graphs/iris_tracking/calculators/
# update_face_landmarks_calculator.cc, the same as the "left eye"/"right eye" indexes_mapping of
# mediapipe/modules/face_landmark/tensors_to_face_landmarks_with_attention.pbtxt (MediaPipe's "left" is
# the image left, the subject's right). That graph keeps the mesh's z for these points (z_refinement none).
RIGHT_EYE_REFINED = (
    *(33, 7, 163, 144, 145, 153, 154, 155, 133),  # lid, lower (corners included)
    *(246, 161, 160, 159, 158, 157, 173),  # lid, upper
    *(130, 25, 110, 24, 23, 22, 26, 112, 243),  # second ring, lower
    *(247, 30, 29, 27, 28, 56, 190),  # second ring, upper
    *(226, 31, 228, 229, 230, 231, 232, 233, 244),  # third ring, lower
    *(113, 225, 224, 223, 222, 221, 189),  # third ring, upper
    *(35, 124, 46, 53, 52, 65),  # fourth ring, upper only: the brow's lower edge
    *(143, 111, 117, 118, 119, 120, 121, 128, 245),  # fifth ring, lower
    *(156, 70, 63, 105, 66, 107, 55, 193),  # fifth ring, upper: the brow's upper edge
)
LEFT_EYE_REFINED = (
    *(263, 249, 390, 373, 374, 380, 381, 382, 362),
    *(466, 388, 387, 386, 385, 384, 398),
    *(359, 255, 339, 254, 253, 252, 256, 341, 463),
    *(467, 260, 259, 257, 258, 286, 414),
    *(446, 261, 448, 449, 450, 451, 452, 453, 464),
    *(342, 445, 444, 443, 442, 441, 413),
    *(265, 353, 276, 283, 282, 295),
    *(372, 340, 346, 347, 348, 349, 350, 357, 465),
    *(383, 300, 293, 334, 296, 336, 285, 417),
)
"""The subject's left eye: point i is the mirror image of ``RIGHT_EYE_REFINED[i]`` (its crop is mirrored)."""
EYE_CONTOUR_POINTS = len(RIGHT_EYE_REFINED)
LID_CONTOUR_POINTS = 16
RIGHT_EYE_CONTOUR = RIGHT_EYE_REFINED[:LID_CONTOUR_POINTS]
"""The eyelids, lower then upper: the first 16 refined points."""
LEFT_EYE_CONTOUR = LEFT_EYE_REFINED[:LID_CONTOUR_POINTS]

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


@dataclass(frozen=True, slots=True)
class _EyePoints:
    """The iris model's answer for one eye in frame pixels: 71 contour and brow points, 5 iris points."""

    contour_xy: FloatArray
    iris_xy: FloatArray


class FaceMesh:
    """Fits 478 landmarks (mesh + iris) inside a face roi. Models load when the object is built.

    with_iris: run the iris model on each eye (the 10 iris points; without it each iris sits at its eye's
    centre). refine_eyes: let the iris model's 71 points per eye replace the mesh's eyelid, eye-halo and
    brow points (x, y only; needs ``with_iris``, costs nothing more: the same model run answers both).

    One instance per thread: the interpreters inside are not safe to share between threads.
    """

    def __init__(
        self,
        num_threads: int = 1,
        presence_threshold: float = DEFAULT_PRESENCE_THRESHOLD,
        with_iris: bool = True,
        refine_eyes: bool = True,
    ) -> None:
        if not 0.0 <= presence_threshold <= 1.0:
            raise ValueError(f"presence_threshold must be in [0, 1], got {presence_threshold}")
        self.presence_threshold = presence_threshold
        self.with_iris = with_iris
        self.refine_eyes = refine_eyes and with_iris
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

    def fit(self, frame_bgr: Frame, roi: FaceRoi, with_irises: bool = True) -> MeshFit | None:
        """478 landmarks for the face in ``roi``, or ``None`` when the model sees no face there; without
        ``with_irises`` the iris model does not run and the iris points sit at the eye centres."""
        matrix = crop_matrix(roi, MESH_INPUT_SIZE)
        raw_points, raw_flag = self._mesh.run(_to_tensor(frame_bgr, matrix, MESH_INPUT_SIZE))
        presence = float(1.0 / (1.0 + np.exp(-float(raw_flag.reshape(-1)[0]))))
        if presence < self.presence_threshold:
            return None
        mesh = _to_frame(raw_points.reshape(MESH_POINTS, 3), matrix, roi.size_px / MESH_INPUT_SIZE)
        # Both eyes are cropped from the mesh as the face model placed it, before either is refined.
        right = self._fit_eye(frame_bgr, mesh, RIGHT_EYE_CORNERS, mirror=False) if with_irises else None
        left = self._fit_eye(frame_bgr, mesh, LEFT_EYE_CORNERS, mirror=True) if with_irises else None
        irises = [
            self._place_eye(mesh, right, RIGHT_EYE_REFINED),
            self._place_eye(mesh, left, LEFT_EYE_REFINED),
        ]
        landmarks = np.concatenate([mesh, *irises]).astype(np.float32)
        if not np.all(np.isfinite(landmarks)):
            return None
        return MeshFit(landmarks, presence)

    def _fit_eye(
        self, frame_bgr: Frame, mesh: FloatArray, corners: tuple[int, int], mirror: bool
    ) -> _EyePoints | None:
        """The iris model's points for one eye in frame pixels, or ``None`` without the model or an eye."""
        if self._iris is None:
            return None
        if float(np.linalg.norm(mesh[corners[1], :2] - mesh[corners[0], :2])) < MIN_EYE_WIDTH_PX:
            return None  # a collapsed eye: nothing for the iris model to see
        eye_roi = roi_from_points(mesh[list(corners)], 0, 1, EYE_ROI_SCALE)
        matrix = crop_matrix(eye_roi, IRIS_INPUT_SIZE)
        if mirror:
            # Mirrored in, so the inverse map in _to_frame mirrors the points back out: point i of the
            # contour then lands on the left eye's mirror-image mesh index, LEFT_EYE_REFINED[i].
            matrix = (_FLIP_X @ np.vstack([matrix, [0.0, 0.0, 1.0]]))[:2].astype(np.float32)
        raw_contour, raw_iris = self._iris.run(_to_tensor(frame_bgr, matrix, IRIS_INPUT_SIZE))
        z_scale = eye_roi.size_px / IRIS_INPUT_SIZE
        contour = _to_frame(raw_contour.reshape(EYE_CONTOUR_POINTS, 3), matrix, z_scale)
        iris = _to_frame(raw_iris.reshape(IRIS_POINTS, 3), matrix, z_scale)
        return _EyePoints(contour[:, :2], iris[:, :2])

    def _place_eye(self, mesh: FloatArray, eye: _EyePoints | None, refined: tuple[int, ...]) -> FloatArray:
        """Move the mesh's eye points (in place) to the iris model's; the eye's 5 iris points.

        Only x, y move: the mesh keeps its own z there (the iris model's z is relative to its small crop),
        and the iris points take the mean z of the eyelid contour, as MediaPipe does.
        """
        lids = refined[:LID_CONTOUR_POINTS]  # RIGHT_EYE_CONTOUR or LEFT_EYE_CONTOUR
        if eye is None:
            return _iris_from_contour(mesh, lids)
        if self.refine_eyes:
            mesh[list(refined), :2] = eye.contour_xy
        iris = np.empty((IRIS_POINTS, 3), dtype=np.float32)
        iris[:, :2] = eye.iris_xy
        iris[:, 2] = float(mesh[list(lids), 2].mean())
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
