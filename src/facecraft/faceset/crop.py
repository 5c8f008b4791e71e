"""Where a face type's aligned crop lies in a frame: the one definition shared by extract, train and swap.

A crop is a similarity transform that puts five stable mesh points (eye-corner midpoints, nose tip,
mouth corners) on a template. The template is ArcFace's layout, zoomed out by a factor per face type:
``face`` covers brows to chin (and a little forehead), ``whole-face`` adds the forehead and ears' edges,
``head`` the hair and the whole head. Eye corners are used instead of the iris centres so that gaze does
not move the crop.
"""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Literal, get_args

import numpy as np

from facecraft.faces.alignment import ARCFACE_POINTS_112, ARCFACE_SIZE_PX, estimate_similarity, invert_affine
from facecraft.types import Affine, FloatArray

FaceType = Literal["face", "whole-face", "head"]
FACE_TYPES: tuple[str, ...] = get_args(FaceType)

FACE_TYPE_ZOOM: Mapping[FaceType, float] = MappingProxyType({"face": 0.8, "whole-face": 0.62, "head": 0.45})
"""How much of the crop the ArcFace layout fills, per face type (1.0 is ArcFace's own tight crop)."""

_RIGHT_EYE_CORNERS = (33, 133)
_LEFT_EYE_CORNERS = (362, 263)
_NOSE_TIP = 4
_MOUTH_CORNERS = (61, 291)


def parse_face_type(name: str) -> FaceType:
    """A face type by name; a typo gets a message listing the choices."""
    for choice in get_args(FaceType):
        if choice == name:
            return choice  # type: ignore[no-any-return]
    raise ValueError(f"unknown face type '{name}'; choose one of {', '.join(FACE_TYPES)}")


def stable_keypoints_5(landmarks_478: FloatArray) -> FloatArray:
    """Five points in ArcFace order from mesh points that do not move with gaze."""
    xy = np.asarray(landmarks_478, dtype=np.float64)[:, :2]
    points = np.stack(
        [
            xy[list(_RIGHT_EYE_CORNERS)].mean(axis=0),
            xy[list(_LEFT_EYE_CORNERS)].mean(axis=0),
            xy[_NOSE_TIP],
            xy[_MOUTH_CORNERS[0]],
            xy[_MOUTH_CORNERS[1]],
        ]
    )
    return points.astype(np.float32)


def template_points(size_px: int, face_type: FaceType) -> FloatArray:
    """The five template points in a ``size_px`` square crop of this face type."""
    if size_px <= 0:
        raise ValueError(f"crop size must be positive, got {size_px}")
    unit = np.asarray(ARCFACE_POINTS_112, dtype=np.float64) / ARCFACE_SIZE_PX
    zoomed = 0.5 + (unit - 0.5) * FACE_TYPE_ZOOM[face_type]
    return (zoomed * size_px).astype(np.float32)


def crop_matrix(landmarks_478: FloatArray, size_px: int, face_type: FaceType) -> Affine:
    """Frame -> crop similarity for this face's ``size_px`` crop of ``face_type``."""
    return estimate_similarity(stable_keypoints_5(landmarks_478), template_points(size_px, face_type))


def crop_to_frame(landmarks_478: FloatArray, size_px: int, face_type: FaceType) -> Affine:
    """Crop -> frame: the inverse of ``crop_matrix``."""
    return invert_affine(crop_matrix(landmarks_478, size_px, face_type))
