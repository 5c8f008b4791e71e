"""The source photo's lips moved onto the mesh's outer lip contour, where their colour says they end.

The face mesh draws a closed mouth's outer lip a little inside the lips. On d30.jpg (red lipstick) the
lower lip's red runs on below the mesh's contour and past its corners, so the unwrapped texture carried
lipstick in the skin triangles around the lips. Those stretch when the target opens its mouth wide: red
tails ran down from the corners of the swapped mouth and a red band lay on the chin (d30.jpg onto
d18.mp4 at 4.7 s).

So, before the photo is unwrapped, its lips are read in redness (LAB a*). Each outer lip point has a
partner on the inner lip (the two contours run in step); along the line from the partner out through the
point, from the middle of the lip outwards, the first place where the redness falls below halfway
between the lips' and the skin's around them is where the lip ends (within ``REACH_IN`` and ``REACH_OUT``
of the lip's thickness there, smoothed along the contour). The corners are read the same way along the
mouth's axis. Only lips clearly redder than the skin (``MIN_CONTRAST``) are read: pale lips stay as they are.

Then the photo, not the mesh, is moved: it is resampled through a smooth displacement that brings each
lip end onto its contour point (``read_lips``), and is unwrapped over the mesh's own landmarks (moving the
landmarks instead turned the thin triangles at the mouth's corners over). The shape transfer never sees
any of it.
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
"""Each outer point moves to between these multiples of its distance from its inner partner, or as far as
``REACH_WIDTH`` (fractions of the mouth's width, in and out) where that is further."""
REACH_WIDTH = (0.04, 0.06)
START = 0.5
"""The redness is read outwards from this far along the inner-to-outer line (the middle of the lip)."""
CORNER_IN = -0.04
CORNER_OUT = 0.12
"""The corners move along the mouth's axis by at most these fractions of the mouth's width."""
SKIN_RING = (0.08, 0.25)
"""The skin's redness is read in a ring this far (fractions of the mouth's width) around the outer lip."""
STEPS = 48
SPREAD_REACH = 0.3
SPREAD_SIGMA = 0.06
"""The photo's displacement is a Gaussian-weighted (``SPREAD_SIGMA`` of the mouth's width) mean of the lip
points' moves and of no move on a ring ``SPREAD_REACH`` of the width beyond the outer lip."""
FIELD_SAMPLES = 64.0
"""The displacement is computed every ``width / FIELD_SAMPLES`` pixels (at most every pixel), then resized."""
MIN_MOVE_PX = 0.05
"""Displacements under this are none."""
MAX_STRETCH = 0.6
"""The displacement's steepest change per pixel is held under this, so the resampling never folds."""
SMOOTHING = 1.0
"""Gaussian smoothing of the found positions along the contour (in contour points)."""

Array64 = npt.NDArray[np.float64]

_CORNERS = ((0, 0), (10, 10))
"""Positions in ``LIPS_OUTER`` and ``LIPS_INNER`` of the image-left and image-right corners (61/78, the
subject's right, and 291/308)."""


def read_lips(image_bgr: Frame, landmarks: npt.ArrayLike) -> Frame:
    """The photo with its lips moved onto the mesh's outer lip contour (a copy; the photo itself when the lips
    are not clearly redder than the skin, or nothing needs to move).

    The photo is resampled through a smooth displacement: at each outer lip point, the way to where the lips'
    colour ends; at the inner lip (the mouth's line), none but the corners' own; fading to none a
    ``SPREAD_REACH`` of the mouth's width beyond the lips. Unwrapped over the unchanged mesh, the lips then
    fill the lip triangles and no lipstick lies in the skin's (moving the mesh's points instead turned the
    thin triangles at the mouth's corners over)."""
    xy = np.asarray(landmarks, dtype=np.float64)[:, :2]
    outer = xy[list(LIPS_OUTER)]
    inner = xy[list(LIPS_INNER)]
    width = float(np.linalg.norm(outer[_CORNERS[1][0]] - outer[_CORNERS[0][0]]))
    if width < 8.0:
        return image_bgr
    box, redness = _redness(image_bgr, outer, width)
    if redness is None:
        return image_bgr
    origin = np.array(box[:2], dtype=np.float64)
    references = _references(redness, outer - origin, inner - origin, width)
    if references is None or references[0] - references[1] < MIN_CONTRAST:
        return image_bgr
    threshold = 0.5 * (references[0] + references[1])
    scales = np.ones(len(LIPS_OUTER))
    for k in range(len(LIPS_OUTER)):
        if k in (_CORNERS[0][0], _CORNERS[1][0]):
            continue
        reach = outer[k] - inner[k]
        if float(np.linalg.norm(reach)) < 1.0:
            continue
        thickness = float(np.linalg.norm(reach))
        low = min(REACH_IN, 1.0 - REACH_WIDTH[0] * width / thickness)  # thin lips near the corners: the
        high = max(REACH_OUT, 1.0 + REACH_WIDTH[1] * width / thickness)  # reach in the mouth's width too
        fractions = np.linspace(min(START, low), high, STEPS)
        scales[k] = np.clip(_edge(redness, inner[k] - origin, reach, fractions, threshold), low, high)
    scales = _smooth_along(scales, (_CORNERS[0][0], _CORNERS[1][0]))
    moves = (outer - inner) * (scales - 1.0)[:, np.newaxis]
    centre = 0.5 * (outer[_CORNERS[0][0]] + outer[_CORNERS[1][0]])
    inner_moves = np.zeros_like(inner)
    for outer_k, inner_k in _CORNERS:
        axis = (outer[outer_k] - centre) / max(float(np.linalg.norm(outer[outer_k] - centre)), 1e-6)
        fractions = np.linspace(CORNER_IN, CORNER_OUT, STEPS)
        shift = float(
            np.clip(
                _edge(redness, outer[outer_k] - origin, axis * width, fractions, threshold),
                CORNER_IN,
                CORNER_OUT,
            )
        )
        moves[outer_k] = inner_moves[inner_k] = axis * width * shift
    if float(np.abs(moves).max()) < 0.25:
        return image_bgr
    return _resampled(image_bgr, box, outer, moves, inner, inner_moves, width)


def _resampled(
    image_bgr: Frame,
    box: tuple[int, int, int, int],
    outer: Array64,
    moves: Array64,
    inner: Array64,
    inner_moves: Array64,
    width: float,
) -> Frame:
    """The photo with the box resampled at ``x + D(x)``: D a Gaussian-weighted mean of the moves at the
    lip points and of none on a ring ``SPREAD_REACH`` of the width beyond the outer lip (so it fades out
    inside the box); scaled down where it would fold the image over."""
    x0, y0, x1, y1 = box
    ring_angles = np.linspace(0.0, 2.0 * np.pi, 32, endpoint=False)
    centre = outer.mean(axis=0)
    radii = np.abs(outer - centre).max(axis=0) + SPREAD_REACH * width
    ring = centre + np.column_stack([np.cos(ring_angles), np.sin(ring_angles)]) * radii
    positions = np.concatenate([outer, inner, ring])
    values = np.concatenate([moves, inner_moves, np.zeros_like(ring)])
    step = max(1.0, width / FIELD_SAMPLES)  # the field is smooth: computed on a coarser grid, then resized
    coarse_x = np.arange(x0, x1 + step, step)
    coarse_y = np.arange(y0, y1 + step, step)
    gx, gy = np.meshgrid(coarse_x, coarse_y)
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    sigma = SPREAD_SIGMA * width
    squared = ((grid[:, np.newaxis, :] - positions[np.newaxis, :, :]) ** 2).sum(axis=2)
    weights = np.exp(-0.5 * (squared - squared.min(axis=1, keepdims=True)) / sigma**2)
    coarse = (weights @ values) / weights.sum(axis=1, keepdims=True)
    coarse *= np.exp(-0.5 * squared.min(axis=1, keepdims=True) / (2.0 * sigma) ** 2)  # none far from all
    coarse_image = coarse.reshape(len(coarse_y), len(coarse_x), 2).astype(np.float32)
    field = np.asarray(
        cv2.resize(
            coarse_image,
            (round(len(coarse_x) * step), round(len(coarse_y) * step)),
            interpolation=cv2.INTER_LINEAR,
        ),
        dtype=np.float64,
    )[: y1 - y0, : x1 - x0]
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float64)
    stretch = max(
        float(np.abs(np.gradient(field[..., 0], axis=1)).max(initial=0.0)),
        float(np.abs(np.gradient(field[..., 1], axis=0)).max(initial=0.0)),
    )
    if stretch > MAX_STRETCH:  # keep the resampling one-to-one
        field *= MAX_STRETCH / stretch
    field[np.abs(field).max(axis=2) < MIN_MOVE_PX] = 0.0  # the far skin keeps its very pixels
    map_x = (xs + field[..., 0]).astype(np.float32)
    map_y = (ys + field[..., 1]).astype(np.float32)
    out = image_bgr.copy()
    out[y0:y1, x0:x1] = cv2.remap(image_bgr, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out


def _redness(
    image_bgr: Frame, outer: Array64, width: float
) -> tuple[tuple[int, int, int, int], FloatArray | None]:
    """The box around the mouth (x0, y0, x1, y1) and its a* (float, slightly blurred; None when the box is
    too small)."""
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


def _references(
    redness: FloatArray, outer: Array64, inner: Array64, width: float
) -> tuple[float, float] | None:
    """Median redness of the lips (between the contours) and of a ring of skin around them."""
    outer_mask = np.zeros(redness.shape, np.uint8)
    cv2.fillPoly(outer_mask, [np.round(outer).astype(np.int32)], 1)
    inner_mask = np.zeros(redness.shape, np.uint8)
    cv2.fillPoly(inner_mask, [np.round(inner).astype(np.int32)], 1)
    lips = (outer_mask > 0) & (inner_mask == 0)
    near, far = (max(1, round(f * width)) for f in SKIN_RING)
    ring = (cv2.dilate(outer_mask, disc(far)) > 0) & ~(cv2.dilate(outer_mask, disc(near)) > 0)
    if lips.sum() < 10 or ring.sum() < 10:
        return None
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
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0.0,  # beyond the photo's edge is no lip: a lip cut by the edge ends there
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
    """The scales smoothed along each lip (upper, lower) between the corners (whose own scale is unused:
    they move along the mouth's axis instead)."""
    out = scales.copy()
    count = len(scales)
    for start, end in ((corners[0], corners[1]), (corners[1], corners[0] + count)):
        indices = [i % count for i in range(start + 1, end)]
        values = scales[indices]
        padded = np.concatenate([values[:1], values, values[-1:]])
        kernel = np.exp(-0.5 * (np.arange(-2, 3) / SMOOTHING) ** 2)
        kernel /= kernel.sum()
        smooth = np.convolve(np.pad(padded, 2, mode="edge"), kernel, mode="valid")[1:-1]
        out[indices] = smooth
    return out
