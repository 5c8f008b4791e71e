"""The source photo's outer lip contour moved to where the lips' colour ends.

The face mesh draws a closed mouth's outer lip a little inside the lips. On d30.jpg (red lipstick) the
lower lip's red runs on below the mesh's contour and past its corners, so the unwrapped texture carried
lipstick in the skin triangles around the lips. Those stretch when the target opens its mouth wide: red
tails ran down from the corners of the swapped mouth and a red band lay on the chin (d30.jpg onto
d18.mp4 at 4.7 s).

So, before the photo is unwrapped, its lips are read in redness (LAB a*). Each outer lip point has a
partner on the inner lip (the two contours run in step); along the line from the partner out through the
point, from the middle of the lip outwards, the first place where the redness falls below halfway
between the lips' and the skin's around them becomes the point (within ``REACH_IN`` and ``REACH_OUT`` of the
lip's thickness there, and smoothed along the contour). The corners are read the same way along the mouth's
axis, and the inner corners move with them. Only lips clearly redder than the skin (``MIN_CONTRAST``) are
read: pale lips keep the mesh's contour.

Only the texture uses the moved contour (``source.prepare_source``); the shape transfer keeps the mesh's
own landmarks.
"""

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.swap.morphology import disc
from facecraft.swap.triangles import LIPS_INNER, LIPS_OUTER
from facecraft.types import FloatArray, Frame

MIN_CONTRAST = 16.0
"""The lips' median redness must exceed the surrounding skin's by this many 8-bit a* levels: d30.jpg's
lipstick by 36; d8.jpg's bare lips by 10, where the contour read strays into the shaded skin above the
upper lip and into the mouth's corner creases, so they keep the mesh's."""
REACH_IN = 0.75
REACH_OUT = 1.6
"""Each outer point moves to between these multiples of its distance from its inner partner."""
START = 0.5
"""The redness is read outwards from this far along the inner-to-outer line (the middle of the lip)."""
CORNER_IN = -0.04
CORNER_OUT = 0.12
"""The corners move along the mouth's axis by at most these fractions of the mouth's width."""
SKIN_RING = (0.08, 0.25)
"""The skin's redness is read in a ring this far (fractions of the mouth's width) around the outer lip."""
STEPS = 48
SMOOTHING = 1.0
"""Gaussian smoothing of the found positions along the contour (in contour points)."""

Array64 = npt.NDArray[np.float64]

_CORNERS = ((0, 0), (10, 10))
"""Positions in ``LIPS_OUTER`` and ``LIPS_INNER`` of the left and right corners (61/78 and 291/308)."""


def refined_lips(image_bgr: Frame, landmarks: npt.ArrayLike) -> FloatArray:
    """The landmarks (a copy, float32) with the outer lip contour, and the mouth's corners, where the photo's
    lip colour ends; unchanged when the lips are not clearly redder than the skin."""
    points = np.array(landmarks, dtype=np.float32, copy=True)
    xy = points[:, :2].astype(np.float64)
    outer = xy[list(LIPS_OUTER)]
    inner = xy[list(LIPS_INNER)]
    width = float(np.linalg.norm(outer[_CORNERS[1][0]] - outer[_CORNERS[0][0]]))
    if width < 8.0:
        return points
    box, redness = _redness(image_bgr, outer, width)
    if redness is None:
        return points
    origin = np.array(box[:2], dtype=np.float64)
    lips, skin = _references(redness, outer - origin, inner - origin, width)
    if lips - skin < MIN_CONTRAST:
        return points
    threshold = 0.5 * (lips + skin)
    scales = np.ones(len(LIPS_OUTER))
    for k in range(len(LIPS_OUTER)):
        if k in (_CORNERS[0][0], _CORNERS[1][0]):
            continue
        base = inner[k] - origin
        reach = outer[k] - inner[k]
        if float(np.linalg.norm(reach)) < 1.0:
            continue
        fractions = np.linspace(START, REACH_OUT, STEPS)
        scales[k] = np.clip(_edge(redness, base, reach, fractions, threshold), REACH_IN, REACH_OUT)
    scales = _smooth_along(scales, (_CORNERS[0][0], _CORNERS[1][0]))
    moved = inner + (outer - inner) * scales[:, np.newaxis]
    centre = 0.5 * (outer[_CORNERS[0][0]] + outer[_CORNERS[1][0]])
    for outer_k, inner_k in _CORNERS:
        axis = (outer[outer_k] - centre) / max(float(np.linalg.norm(outer[outer_k] - centre)), 1e-6)
        fractions = np.linspace(CORNER_IN, CORNER_OUT, STEPS)
        shift = _edge(redness, outer[outer_k] - origin, axis * width, fractions, threshold)
        shift = float(np.clip(shift, CORNER_IN, CORNER_OUT))
        moved[outer_k] = outer[outer_k] + axis * width * shift
        points[LIPS_INNER[inner_k], :2] = (inner[inner_k] + axis * width * shift).astype(np.float32)
    points[list(LIPS_OUTER), :2] = moved.astype(np.float32)
    return points


def _redness(
    image_bgr: Frame, outer: Array64, width: float
) -> tuple[tuple[int, int, int, int], FloatArray | None]:
    """A* (float, slightly blurred) of a box around the mouth, and the box (x0, y0, x1, y1)."""
    height, img_width = image_bgr.shape[:2]
    margin = 0.6 * width
    x0, y0 = np.floor(outer.min(axis=0) - margin).astype(int)
    x1, y1 = np.ceil(outer.max(axis=0) + margin).astype(int)
    x0, y0 = max(int(x0), 0), max(int(y0), 0)
    x1, y1 = min(int(x1), img_width), min(int(y1), height)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return (x0, y0, x1, y1), None
    lab = cv2.cvtColor(np.ascontiguousarray(image_bgr[y0:y1, x0:x1]), cv2.COLOR_BGR2LAB)
    chroma = lab[..., 1].astype(np.float32)
    blurred = cv2.GaussianBlur(chroma, (0, 0), max(0.6, 0.01 * width))
    return (x0, y0, x1, y1), np.asarray(blurred, dtype=np.float32)


def _references(redness: FloatArray, outer: Array64, inner: Array64, width: float) -> tuple[float, float]:
    """Median redness of the lips (between the contours) and of a ring of skin around them."""
    outer_mask = np.zeros(redness.shape, np.uint8)
    cv2.fillPoly(outer_mask, [np.round(outer).astype(np.int32)], 1)
    inner_mask = np.zeros(redness.shape, np.uint8)
    cv2.fillPoly(inner_mask, [np.round(inner).astype(np.int32)], 1)
    lips = (outer_mask > 0) & (inner_mask == 0)
    near, far = (max(1, round(f * width)) for f in SKIN_RING)
    ring = (cv2.dilate(outer_mask, disc(far)) > 0) & ~(cv2.dilate(outer_mask, disc(near)) > 0)
    if lips.sum() < 10 or ring.sum() < 10:
        return 0.0, 0.0
    return float(np.median(redness[lips])), float(np.median(redness[ring]))


def _edge(redness: FloatArray, base: Array64, step: Array64, fractions: Array64, threshold: float) -> float:
    """Along ``base + f * step`` for the ``fractions`` in order, the first place where the redness falls
    below ``threshold`` (linearly placed between the samples around it); the last fraction when it never
    does, the first when it is already below there."""
    positions = base[np.newaxis, :] + fractions[:, np.newaxis] * step[np.newaxis, :]
    values = cv2.remap(
        redness,
        positions[:, 0].astype(np.float32).reshape(1, -1),
        positions[:, 1].astype(np.float32).reshape(1, -1),
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    ).reshape(-1)
    below = np.flatnonzero(values < threshold)
    if len(below) == 0:
        return float(fractions[-1])
    k = int(below[0])
    if k == 0:
        return float(fractions[0])
    before, after = float(values[k - 1]), float(values[k])
    t = (before - threshold) / max(before - after, 1e-6)
    return float(fractions[k - 1] + t * (fractions[k] - fractions[k - 1]))


def _smooth_along(scales: Array64, corners: tuple[int, int]) -> Array64:
    """The scales smoothed along each lip (upper, lower) between the corners, which stay 1."""
    out = scales.copy()
    count = len(scales)
    for start, end in ((corners[0], corners[1]), (corners[1], corners[0] + count)):
        indices = [i % count for i in range(start + 1, end)]
        values = scales[indices]
        padded = np.concatenate([[1.0], values, [1.0]])
        kernel = np.exp(-0.5 * (np.arange(-2, 3) / SMOOTHING) ** 2)
        kernel /= kernel.sum()
        smooth = np.convolve(np.pad(padded, 2, mode="edge"), kernel, mode="valid")[1:-1]
        out[indices] = smooth
    return out
