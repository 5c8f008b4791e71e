"""Array aliases shared by every stage. Names elsewhere carry layout and colour order (frame_bgr, ...)."""

from typing import TypeAlias

import numpy as np
import numpy.typing as npt

Frame: TypeAlias = npt.NDArray[np.uint8]
"""An image, H x W x 3, uint8, BGR (OpenCV order) unless the name says otherwise."""

Mask: TypeAlias = npt.NDArray[np.float32]
"""A soft mask, H x W, float32 in [0, 1]."""

Affine: TypeAlias = npt.NDArray[np.float32]
"""A 2 x 3 affine matrix mapping (x, y, 1) from one pixel space to another."""

Points: TypeAlias = npt.NDArray[np.float32]
"""N x 2 (or N x 3) float32 points in pixels: x, y[, z]."""

FloatArray: TypeAlias = npt.NDArray[np.float32]
