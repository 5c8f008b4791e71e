"""The central face contract: detections from the detector, faces with dense landmarks after the mesh."""

from dataclasses import dataclass, field

import numpy as np

from facecraft.types import FloatArray

MESH_POINTS = 468
"""Points of the MediaPipe face mesh."""
LANDMARK_POINTS = 478
"""Mesh points plus 5 iris points per eye (468-472 subject's right iris, 473-477 subject's left iris)."""

RIGHT_IRIS_CENTER = 468
LEFT_IRIS_CENTER = 473

# Mesh indices for the 5 key points, in image order for a frontal face (ArcFace template order):
# subject's right eye (image left), subject's left eye, nose tip, mouth corner image-left, image-right.
_RIGHT_EYE_CORNERS = (33, 133)
_LEFT_EYE_CORNERS = (362, 263)
_NOSE_TIP = 4
_MOUTH_RIGHT_CORNER = 61
_MOUTH_LEFT_CORNER = 291
_MIN_OPENING_WIDTH_PX = 1e-6


def _as_float32(name: str, value: object, shape: tuple[int | None, ...]) -> FloatArray:
    array = np.asarray(value, dtype=np.float32)
    if array.ndim != len(shape) or any(
        want is not None and got != want for got, want in zip(array.shape, shape, strict=True)
    ):
        raise ValueError(f"{name} must have shape {shape}, got {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinity")
    return array


@dataclass(frozen=True, slots=True)
class Detection:
    """One face found by the detector: a box, a confidence and 6 coarse key points (frame pixels).

    keypoints_6 order (BlazeFace): subject's right eye, left eye, nose tip, mouth centre,
    right ear tragion, left ear tragion.
    """

    bbox_xyxy: FloatArray
    score: float
    keypoints_6: FloatArray

    def __post_init__(self) -> None:
        object.__setattr__(self, "bbox_xyxy", _as_float32("bbox_xyxy", self.bbox_xyxy, (4,)))
        object.__setattr__(self, "keypoints_6", _as_float32("keypoints_6", self.keypoints_6, (6, 2)))
        x0, y0, x1, y1 = (float(v) for v in self.bbox_xyxy)
        if x1 <= x0 or y1 <= y0:
            raise ValueError(f"bbox_xyxy must have x1 > x0 and y1 > y0, got {self.bbox_xyxy.tolist()}")
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"score must be in [0, 1], got {self.score}")

    @property
    def width(self) -> float:
        return float(self.bbox_xyxy[2] - self.bbox_xyxy[0])


@dataclass(frozen=True, slots=True)
class Face:
    """A face with dense landmarks, in frame pixels.

    landmarks_478: float32 (478, 3) x, y in frame pixels, z relative depth in pixels (smaller is nearer).
    score: detector confidence (or mesh presence score for a face tracked without the detector).
    """

    bbox_xyxy: FloatArray
    score: float
    landmarks_478: FloatArray
    track_id: int | None = None
    embedding: FloatArray | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "bbox_xyxy", _as_float32("bbox_xyxy", self.bbox_xyxy, (4,)))
        object.__setattr__(
            self, "landmarks_478", _as_float32("landmarks_478", self.landmarks_478, (LANDMARK_POINTS, 3))
        )
        if self.embedding is not None:
            object.__setattr__(self, "embedding", _as_float32("embedding", self.embedding, (None,)))
        x0, y0, x1, y1 = (float(v) for v in self.bbox_xyxy)
        if x1 <= x0 or y1 <= y0:
            raise ValueError(f"bbox_xyxy must have x1 > x0 and y1 > y0, got {self.bbox_xyxy.tolist()}")
        if not 0.0 <= self.score <= 1.0:
            raise ValueError(f"score must be in [0, 1], got {self.score}")

    @property
    def size_px(self) -> float:
        """Face size: the larger side of the landmark box, in pixels."""
        x0, y0, x1, y1 = (float(v) for v in self.bbox_xyxy)
        return max(x1 - x0, y1 - y0)

    @property
    def area_px(self) -> float:
        x0, y0, x1, y1 = (float(v) for v in self.bbox_xyxy)
        return (x1 - x0) * (y1 - y0)

    @property
    def keypoints_5(self) -> FloatArray:
        """5 key points (x, y) in ArcFace template order, from the mesh and iris centres."""
        return keypoints_5_from_landmarks(self.landmarks_478)

    def with_track(self, track_id: int) -> "Face":
        return Face(self.bbox_xyxy, self.score, self.landmarks_478, track_id, self.embedding)

    def with_embedding(self, embedding: FloatArray) -> "Face":
        return Face(self.bbox_xyxy, self.score, self.landmarks_478, self.track_id, embedding)


def keypoints_5_from_landmarks(landmarks_478: FloatArray) -> FloatArray:
    """Eye centres (iris centres), nose tip and mouth corners from 478 landmarks, ArcFace order."""
    xy = landmarks_478[:, :2]
    right_eye = (
        xy[RIGHT_IRIS_CENTER]
        if landmarks_478.shape[0] > RIGHT_IRIS_CENTER
        else xy[list(_RIGHT_EYE_CORNERS)].mean(0)
    )
    left_eye = (
        xy[LEFT_IRIS_CENTER]
        if landmarks_478.shape[0] > LEFT_IRIS_CENTER
        else xy[list(_LEFT_EYE_CORNERS)].mean(0)
    )
    points = np.stack([right_eye, left_eye, xy[_NOSE_TIP], xy[_MOUTH_RIGHT_CORNER], xy[_MOUTH_LEFT_CORNER]])
    return points.astype(np.float32)


def opening_ratio(
    landmarks: FloatArray, gaps: tuple[tuple[int, int], ...], corners: tuple[int, int]
) -> float:
    """An opening's mean gap (distances between the ``gaps`` point pairs) over its width (between the
    ``corners``): a mouth's or an eye's aspect ratio."""
    xy = np.asarray(landmarks, dtype=np.float64)[:, :2]
    width = float(np.linalg.norm(xy[corners[1]] - xy[corners[0]]))
    heights = [float(np.linalg.norm(xy[upper] - xy[lower])) for upper, lower in gaps]
    return sum(heights) / len(heights) / max(width, _MIN_OPENING_WIDTH_PX)


MOUTH_GAP = (13, 14)
"""Mesh points at the middle of the upper and lower inner lip."""
MOUTH_CORNERS = (78, 308)
"""Mesh points at the inner mouth corners."""


def mouth_aspect(landmarks_478: FloatArray) -> float:
    """The inner mouth's opening (at its middle) over its width."""
    return opening_ratio(landmarks_478, (MOUTH_GAP,), MOUTH_CORNERS)


def bbox_from_landmarks(landmarks: FloatArray) -> FloatArray:
    """Tight box around the landmarks' x, y."""
    xy = landmarks[:, :2]
    return np.array([xy[:, 0].min(), xy[:, 1].min(), xy[:, 0].max(), xy[:, 1].max()], dtype=np.float32)


def iou_xyxy(a: FloatArray, b: FloatArray) -> float:
    """Intersection over union of two boxes."""
    ix0, iy0 = max(a[0], b[0]), max(a[1], b[1])
    ix1, iy1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, float(ix1 - ix0)) * max(0.0, float(iy1 - iy0))
    union = float((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])) - inter
    return inter / union if union > 0 else 0.0
