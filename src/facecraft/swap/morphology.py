"""Small morphological helpers for the source texture: discs, and thin lines against their surroundings."""

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.types import FloatArray


def disc(radius: int) -> npt.NDArray[np.uint8]:
    """An elliptical structuring element of the given radius (pixels)."""
    size = (2 * radius + 1, 2 * radius + 1)
    return np.asarray(cv2.getStructuringElement(cv2.MORPH_ELLIPSE, size), dtype=np.uint8)


def relative_line_contrast(lightness: FloatArray, width_px: float, darker: bool) -> FloatArray:
    """How much darker (``darker``) or lighter each pixel is than its surroundings, as a fraction of their
    lightness, for things thinner than about ``width_px``: a closing (or opening) by a disc that wide
    removes them, and the difference is what they stand out by."""
    kernel = disc(max(1, round(width_px / 2)))
    operation = cv2.MORPH_CLOSE if darker else cv2.MORPH_OPEN
    surroundings = np.asarray(cv2.morphologyEx(lightness, operation, kernel), dtype=np.float32)
    difference = surroundings - lightness if darker else lightness - surroundings
    out = (difference / np.maximum(surroundings, np.float32(1.0))).astype(np.float32)
    return out
