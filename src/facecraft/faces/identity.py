"""Identity embeddings: dlib's face recognition ResNet (128-d, euclidean distance, 0.6 = same person).

dlib aligns each face on its own 5 points (both corners of each eye and the base of the nose) before the
network sees it. We give it those 5 points straight from our face mesh instead of running dlib's
5-point shape predictor: on our real media that separated same and different people slightly better
and needs no second landmark model.

Measured on our real media (mesh faces, 6 frames per clip): the same person 0.07-0.56 apart, different
people mostly 0.65-1.06. Known limit of the model, not of our alignment (davisking/dlib#2816): it
separates some people poorly; three different young East Asian men sit 0.45-0.56 apart and two pairs
of young women with similar colouring 0.53-0.59, under the 0.6 bound. Where it matters, compare
distances (nearest wins) rather than trusting the bound alone.
"""

from typing import Any

import numpy as np
import numpy.typing as npt

from facecraft.faces.face import Face
from facecraft.faces.models import DLIB_RESNET
from facecraft.types import FloatArray, Frame

EMBEDDING_SIZE = 128
SAME_PERSON_MAX_DISTANCE = 0.6
"""Two embeddings closer than this are the same person (dlib's bound; 99.38% on LFW)."""

DLIB_5_FROM_MESH = (263, 362, 33, 133, 2)
"""Mesh indices of dlib's 5 points, in dlib's order: subject's left eye outer and inner corner,
right eye outer and inner corner, base of the nose (subnasale)."""

CHIP_PADDING = 0.25
"""dlib's padding around the aligned 150x150 chip (the model was trained with this)."""


class DlibIdentity:
    """Embeds faces with dlib's ResNet. The model loads when the object is built (about 22 MB)."""

    def __init__(self, num_jitters: int = 0) -> None:
        if num_jitters < 0:
            raise ValueError(f"num_jitters must be 0 or more, got {num_jitters}")
        import dlib

        self._dlib: Any = dlib
        self._model: Any = dlib.face_recognition_model_v1(str(DLIB_RESNET.locate()))
        self.num_jitters = num_jitters

    def embed(self, frame_bgr: Frame, face: Face) -> FloatArray:
        """The face's 128-d identity embedding (float32, unit-free; compare with ``identity_distance``)."""
        region_rgb, points = _face_region_rgb(frame_bgr, face)
        dlib = self._dlib
        parts = [dlib.point(round(float(x)), round(float(y))) for x, y in points]
        x0, y0 = (int(np.floor(v)) for v in points.min(axis=0))
        x1, y1 = (int(np.ceil(v)) + 1 for v in points.max(axis=0))
        shape = dlib.full_object_detection(dlib.rectangle(x0, y0, x1, y1), parts)
        descriptor = self._model.compute_face_descriptor(region_rgb, shape, self.num_jitters, CHIP_PADDING)
        return np.asarray(descriptor, dtype=np.float32).reshape(EMBEDDING_SIZE)

    def __call__(self, frame_bgr: Frame, face: Face) -> FloatArray:
        return self.embed(frame_bgr, face)


def _face_region_rgb(frame_bgr: Frame, face: Face) -> tuple[Frame, FloatArray]:
    """An RGB crop that holds dlib's whole face chip, and the 5 points in its pixels.

    Converting only this region (not the whole frame) keeps large frames cheap; the chip never reaches
    past a margin of one face size, so the result equals using the whole frame.
    """
    height, width = frame_bgr.shape[:2]
    margin = face.size_px
    x0_f, y0_f, x1_f, y1_f = (float(v) for v in face.bbox_xyxy)
    x0 = max(int(np.floor(x0_f - margin)), 0)
    y0 = max(int(np.floor(y0_f - margin)), 0)
    x1 = min(int(np.ceil(x1_f + margin)) + 1, width)
    y1 = min(int(np.ceil(y1_f + margin)) + 1, height)
    points = face.landmarks_478[list(DLIB_5_FROM_MESH), :2] - np.array([x0, y0], dtype=np.float32)
    region_rgb = np.ascontiguousarray(frame_bgr[y0:y1, x0:x1, ::-1])
    return region_rgb, points.astype(np.float32)


def identity_distance(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """Euclidean distance between two embeddings; under ``SAME_PERSON_MAX_DISTANCE`` means same person."""
    first = np.asarray(a, dtype=np.float64).reshape(-1)
    second = np.asarray(b, dtype=np.float64).reshape(-1)
    if first.shape != second.shape:
        raise ValueError(f"embeddings differ in size: {first.shape[0]} and {second.shape[0]}")
    return float(np.linalg.norm(first - second))


def is_same_person(
    a: npt.ArrayLike, b: npt.ArrayLike, max_distance: float = SAME_PERSON_MAX_DISTANCE
) -> bool:
    """Whether two embeddings are closer than ``max_distance``."""
    return identity_distance(a, b) < max_distance
