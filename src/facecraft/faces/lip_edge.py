"""Open mouths' lower lip moved down to the edges the frame shows.

On an open mouth the face mesh puts the lower inner lip too high: the dark of the mouth runs on below it,
down to the lower lip's edge (d3.mp4 at 11.4 s and 10 s, d10.mp4 at 4.6 s and 14.5 s, d18.mp4's "O" at
2.5 s; the upper inner lip sits about right). The swap draws the mouth opening from those landmarks, so the
source's lower lip covered the bottom of the target's open mouth and the mouth read less open than it was.

So, while the mouth is open, the frame is read along the lines from the lower inner lip's middle points to
their outer-lip partners: going down, the mouth's dark gives way to the lighter lip. Where that step is
clear (at least ``MIN_STEP`` grey levels, and darker above than below), its place along the line is taken;
the median over the middle points (at least ``MIN_FOUND`` of them must show an edge) moves the whole lower
inner lip down by that fraction of the lip, tapering to nothing at the mouth corners. It only ever opens the
mouth further: an edge at the landmark changes nothing, nor does a lip of one shade throughout (a closed
mouth, or lower teeth against the lip). The look-ahead smooths the result with the rest of the lips.

On a wide-open "O" the whole lower lip sits too high, not only its inner edge: on d18.mp4 at 2.5 s the
frame's lip (its redness, LAB a*) runs from 1.2 to 2.2 lip thicknesses below the mesh's lower inner lip,
where the mesh puts it between 0 and 1, and the swap drew the source's lower lip as a thin ring inside the
opening with the target's own lower lip showing below it. So first the same lines are read further down,
in redness: where the lip's red clearly gives way to the skin (a fall of at least ``MIN_RED_STEP``, redder
above than below by as much) more than ``OUTER_SLACK`` beyond the outer lip's landmark, the outer lower lip
moves down to it the same way (median, tapered, never up); then the inner lip's edge is looked for between
the lip's new bounds.
"""

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.faces.face import mouth_aspect
from facecraft.types import FloatArray, Frame

LOWER_INNER = (95, 88, 178, 87, 14, 317, 402, 318, 324)
"""The lower inner lip, mouth corner to mouth corner (the corners 78 and 308 themselves stay)."""
LOWER_OUTER = (146, 91, 181, 84, 17, 314, 405, 321, 375)
"""Each lower inner lip point's partner on the outer lip, straight below it."""
MEASURED = (2, 3, 4, 5, 6)
"""Positions in ``LOWER_INNER`` where the edge is looked for (the middle of the lip; near the corners the
lip is too thin to read)."""
TAPER = (0.3, 0.7, 1.0, 1.0, 1.0, 1.0, 1.0, 0.7, 0.3)
"""How much of the found shift each ``LOWER_INNER`` point takes."""
MIN_OPEN = 0.12
"""Mouths less open than this (inner gap over inner width) are left alone."""
ABOVE = 0.3
SEARCH = 0.6
"""Each line is read from ``ABOVE`` of the lip's thickness above the landmark (inside the mouth) to the outer
lip; the edge is looked for from the landmark down to ``SEARCH`` of the way to the outer lip."""
LIP_READ = 0.9
"""The lip below an edge is read down to this fraction of the way to the outer lip."""
SAMPLES = 33
MIN_STEP = 12.0
"""Grey levels the frame must brighten by across the edge, and by which the mouth above it must be darker
than the lip below it."""
MIN_FOUND = 3
"""Of the ``MEASURED`` lines, how many must show an edge."""
BLUR_PX = 1.0
OUTER_FROM = 0.7
OUTER_REACH = 3.0
"""The outer lip's edge is looked for from ``OUTER_FROM`` to ``OUTER_REACH`` lip thicknesses below the inner
lip (1 is the outer lip's landmark); it is taken only beyond 1 + ``OUTER_SLACK``."""
OUTER_SLACK = 0.25
"""An outer edge found less than this far (lip thicknesses) beyond the landmark leaves it where it is."""
OUTER_SAMPLES = 49
STEP_SPAN = 4
"""The outer edge's fall is measured between the samples this many steps either side of it (a quarter of
the lip's thickness: the lip's edge is soft at this scale)."""
MIN_RED_STEP = 6.0
"""Levels of a* (redness) the frame must lose across the outer edge, and by which the lip just above it must
be redder than the skin just below it."""
RED_SIDE = 0.4
"""How far (lip thicknesses) above and below the outer edge the lip's and the skin's redness are read."""


def lower_lip_to_edge(frame_bgr: Frame, landmarks_478: FloatArray) -> FloatArray:
    """``landmarks_478`` with the lower lip (outer edge, then inner) moved down to the edges the frame shows
    (see the module docstring); the same array when the mouth is not open or no clear edge is found."""
    if mouth_aspect(landmarks_478) < MIN_OPEN:
        return landmarks_478
    xy = np.asarray(landmarks_478, dtype=np.float64)[:, :2]
    inner, outer = xy[list(LOWER_INNER)], xy[list(LOWER_OUTER)]
    gray, redness, origin = _read_around(frame_bgr, xy)
    if gray is None or redness is None:
        return landmarks_478
    measured = list(MEASURED)
    taper = np.asarray(TAPER)[:, np.newaxis]
    moved_outer = outer
    red_edges = _red_edges(redness, inner[measured] - origin, outer[measured] - origin)
    found_red = red_edges[np.isfinite(red_edges)]
    if len(found_red) >= MIN_FOUND and float(np.median(found_red)) > 1.0 + OUTER_SLACK:
        moved_outer = inner + (1.0 + (float(np.median(found_red)) - 1.0) * taper) * (outer - inner)
    edges = _edges(gray, inner[measured] - origin, moved_outer[measured] - origin)
    found = edges[np.isfinite(edges)]
    shift = float(np.median(found)) if len(found) >= MIN_FOUND else 0.0
    if shift <= 0.0 and moved_outer is outer:
        return landmarks_478
    out = np.array(landmarks_478, dtype=np.float32, copy=True)
    out[list(LOWER_OUTER), :2] = moved_outer.astype(np.float32)
    if shift > 0.0:
        moved = inner + (shift * taper) * (moved_outer - inner)
        out[list(LOWER_INNER), :2] = moved.astype(np.float32)
    return out


def _read_around(
    frame_bgr: Frame, xy: npt.NDArray[np.float64]
) -> tuple[FloatArray | None, FloatArray | None, npt.NDArray[np.float64]]:
    """The frame's grey levels and redness (LAB a* less 128), lightly blurred, in a box around the mouth
    reaching ``OUTER_REACH`` lip thicknesses below the inner lip, and the box's corner."""
    inner, outer = xy[list(LOWER_INNER)], xy[list(LOWER_OUTER)]
    reach = inner + OUTER_REACH * (outer - inner)
    points = np.concatenate([inner, outer, reach, xy[[13]]])
    margin = 4.0 + ABOVE * float(np.linalg.norm(xy[17] - xy[14]))
    lo = np.floor(points.min(axis=0) - margin).astype(int)
    hi = np.ceil(points.max(axis=0) + margin).astype(int)
    x0, y0 = max(int(lo[0]), 0), max(int(lo[1]), 0)
    x1, y1 = min(int(hi[0]), frame_bgr.shape[1]), min(int(hi[1]), frame_bgr.shape[0])
    origin = np.array([x0, y0], dtype=np.float64)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None, None, origin
    crop = np.ascontiguousarray(frame_bgr[y0:y1, x0:x1])
    gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY).astype(np.float32)
    redness = cv2.cvtColor(crop, cv2.COLOR_BGR2LAB)[..., 1].astype(np.float32) - np.float32(128.0)
    blur = [
        np.asarray(cv2.GaussianBlur(image, (0, 0), BLUR_PX), dtype=np.float32) for image in (gray, redness)
    ]
    return blur[0], blur[1], origin


def _profiles(
    image: FloatArray,
    starts: npt.NDArray[np.float64],
    ends: npt.NDArray[np.float64],
    along: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """``image`` read along each line start -> end at the fractions ``along`` (one row per line)."""
    lines = starts[:, np.newaxis, :] + along[np.newaxis, :, np.newaxis] * (ends - starts)[:, np.newaxis, :]
    return np.asarray(
        cv2.remap(
            image,
            lines[..., 0].astype(np.float32),
            lines[..., 1].astype(np.float32),
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REPLICATE,
        ),
        dtype=np.float64,
    )


def _red_edges(
    redness: FloatArray, starts: npt.NDArray[np.float64], ends: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Per line inner lip -> outer lip (0 and 1), where the lip's red gives way to the skin below it, if the
    frame shows it clearly; NaN otherwise."""
    along = np.linspace(0.0, OUTER_REACH, OUTER_SAMPLES)
    profiles = _profiles(redness, starts, ends, along)
    fall = -np.gradient(profiles, axis=1)
    searched = (along >= OUTER_FROM) & (along <= OUTER_REACH - RED_SIDE)
    at = np.argmax(np.where(searched[np.newaxis, :], fall, -np.inf), axis=1)
    rows = np.arange(len(profiles))
    last = OUTER_SAMPLES - 1
    step = profiles[rows, np.maximum(at - STEP_SPAN, 0)] - profiles[rows, np.minimum(at + STEP_SPAN, last)]
    offset = along[np.newaxis, :] - along[at][:, np.newaxis]
    lip = (offset < 0.0) & (offset >= -RED_SIDE)
    skin = (offset > 0.0) & (offset <= RED_SIDE)
    above = (profiles * lip).sum(axis=1) / np.maximum(lip.sum(axis=1), 1)
    below = (profiles * skin).sum(axis=1) / np.maximum(skin.sum(axis=1), 1)
    clear = (step >= MIN_RED_STEP) & (above - below >= MIN_RED_STEP)
    return np.where(clear, along[at], np.nan)


def _edges(
    gray: FloatArray, starts: npt.NDArray[np.float64], ends: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Per line start -> end (0 at the inner lip, 1 at the outer), where the mouth's dark gives way to the
    lip, if the frame shows it clearly; NaN otherwise."""
    along = np.linspace(-ABOVE, 1.0, SAMPLES)
    profiles = _profiles(gray, starts, ends, along)
    rise = np.gradient(profiles, axis=1)
    searched = (along >= 0.0) & (along <= SEARCH)
    at = np.argmax(np.where(searched[np.newaxis, :], rise, -np.inf), axis=1)
    rows = np.arange(len(profiles))
    step = profiles[rows, np.minimum(at + 3, SAMPLES - 1)] - profiles[rows, np.maximum(at - 3, 0)]
    index = np.arange(SAMPLES)[np.newaxis, :]
    above_mask = index <= at[:, np.newaxis]
    below_mask = (index > at[:, np.newaxis]) & (along <= LIP_READ)[np.newaxis, :]
    above = (profiles * above_mask).sum(axis=1) / above_mask.sum(axis=1)
    below = (profiles * below_mask).sum(axis=1) / np.maximum(below_mask.sum(axis=1), 1)
    clear = (step >= MIN_STEP) & (below - above >= MIN_STEP)
    return np.where(clear, along[at], np.nan)
