"""The face mask stored with each faceset crop, by face type, from the landmarks in crop pixels.

What each mask covers (hard-edged, anti-aliased; the trainer erodes or feathers it as it needs):

- ``face`` and ``whole-face``: the mesh's whole oval, up over the forehead to the mesh's top edge (about
  the hairline on most people); a ``face`` crop is tighter and cuts it off above the brows. Masks of
  ``face`` sets used to stop just above the brows: a model learned that edge and drew it as a straight
  line across the target's forehead. Now the model paints some forehead and the swap fades it out there
  (``swap.trained.onnx_swapper.MASK_ERODE``).
- ``head``: the whole oval with its forehead edge pushed a further ``HEAD_FOREHEAD_EXTENSION`` of its
  distance from the face centre outwards, to cover a high forehead. Hair, ears and neck are in no mask:
  the mesh does not see them.
"""

import numpy as np
import numpy.typing as npt

from facecraft.blend.masks import FOREHEAD_CONTOUR, hull_mask, hull_outline, polygon_mask
from facecraft.faces.face import MESH_POINTS
from facecraft.faceset.crop import FaceType
from facecraft.types import Mask

HEAD_FOREHEAD_EXTENSION = 0.25
"""For ``head``: how much further out (as a fraction of their distance from the mesh centre) the
forehead edge points go."""


def face_type_mask(landmarks_crop: npt.ArrayLike, size_px: int, face_type: FaceType) -> Mask:
    """The ``size_px`` square mask (float32 in [0, 1]) of a crop of ``face_type`` (module docstring)."""
    size_hw = (size_px, size_px)
    if face_type in ("face", "whole-face"):
        return hull_mask(landmarks_crop, size_hw, include_forehead=True)
    return polygon_mask(head_outline(landmarks_crop), size_hw)


def head_outline(landmarks_crop: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """The whole face oval with the forehead points pushed outwards from the mesh centre."""
    points = np.asarray(landmarks_crop, dtype=np.float32)
    outline = hull_outline(points, include_forehead=True).copy()
    centre = points[:MESH_POINTS, :2].mean(axis=0)
    top = slice(len(outline) - len(FOREHEAD_CONTOUR), len(outline))
    outline[top] += np.float32(HEAD_FOREHEAD_EXTENSION) * (outline[top] - centre)
    return outline


def mask_to_uint8(mask: Mask) -> npt.NDArray[np.uint8]:
    """0..255 for storing as a grey PNG."""
    scaled = np.clip(np.asarray(mask, dtype=np.float32) * np.float32(255.0) + np.float32(0.5), 0, 255)
    return np.asarray(scaled, dtype=np.uint8)
