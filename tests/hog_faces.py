"""dlib's HOG detector as a test-only stand-in for our own detector, so mesh and identity tests do not
depend on the code under test elsewhere."""

import functools
from typing import Any

import cv2
import numpy as np

from facecraft.types import Frame

HOG_SIDE_PX = 400


@functools.cache
def _hog_detector() -> Any:
    import dlib

    return dlib.get_frontal_face_detector()


def hog_box(frame_bgr: Frame) -> np.ndarray:
    """The most confident HOG face box (x0, y0, x1, y1)."""
    scale = HOG_SIDE_PX / max(frame_bgr.shape[:2])  # the faces here stay over 80 px: HOG's minimum
    small = cv2.resize(frame_bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    rgb = cv2.cvtColor(small, cv2.COLOR_BGR2RGB)
    rects, scores, _ = _hog_detector().run(rgb, 0, -0.5)  # d8.jpg's grimace scores under 0
    assert len(rects) > 0, "HOG found no face"
    r = rects[int(np.argmax(scores))]
    return np.asarray(np.array([r.left(), r.top(), r.right(), r.bottom()]) / scale, dtype=np.float32)
