"""The frame's own mouth opening, found in its pixels where the mesh's inner lip contour misses it.

The tracked mesh draws wide-open mouths with lips too thick: on d18.mp4's "O" (2.3-2.7 s) its inner
lip contour sits well above the bottom of the open mouth, and on the wide-open frames after 4.5 s its
upper inner lip runs below the upper teeth. The swapped lips are drawn over the rest, so the source's
red lips covered the target's upper teeth and lay as a thick crescent over the lower part of the
opening. The compositor shows the frame through the mesh's opening; this module finds what else of the
frame, inside the outer lip contour, is mouth interior, so that shows through too:

- teeth: lighter than the lips and far less red (or less red and far less yellow: white);
- the cavity: much darker than the lips, and not on the upper lip (a darker upper lip than a glossy
  lower one is common; the mesh's error there is the other way, its inner upper lip over the teeth);

both measured against the lips' own levels on that frame: the upper quartile of lightness and of
redness between the two lip contours, which the cavity does not pull down unless it fills three
quarters of that band, nor the teeth push up unless they fill a quarter of it. Only what is connected
to the mesh's opening counts (a dark crease on a closed lip does not), and small holes in it (the
tongue, which is as red as the lips) are filled.
"""

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.blend.masks import ramp, soften
from facecraft.faces.face import mouth_aspect
from facecraft.swap.triangles import LIPS_INNER, LIPS_OUTER
from facecraft.types import Frame, Mask

UPPER = 11
"""The first UPPER points of ``LIPS_OUTER`` and ``LIPS_INNER`` run along the upper lip, corner to corner."""
CAVITY_LIGHTNESS = 0.72
"""A pixel darker than this fraction of the lips' lightness is the mouth's cavity."""
TEETH_LIGHTNESS = 1.05
"""Teeth are lighter than this multiple of the lips' lightness..."""
TEETH_REDNESS = 0.5
"""...and less red (a* above neutral) than this fraction of the lips'..."""
TEETH_PALE = (0.6, 0.5)
"""...or, white rather than red, less red than the first and less yellow (b*) than the second fraction of
the lips'. d10.mp4's teeth are pink in her light (a* 18 against the lips' 35-39) but far less yellow (b* 8
against 20); the skin inside the mesh's lip corners is as red as they are and yellower (b* 22-26), and
d20.mp4's glossy lower lip redder (a* 31-35 against 29-33)."""
MIN_LIP_REDNESS = 4.0
"""Lips at least this red (8-bit a* above 128) are needed to tell teeth from them; else no teeth."""
CLOSE = 0.012
"""The opening found is closed (gaps bridged, the tongue taken in) over this fraction of the face size."""
MIN_OPENING = 0.002
"""Openings whose area is under this fraction of the squared face size are nothing to add."""
OPEN_ASPECT = (0.06, 0.12)
"""The mesh's mouth aspect (inner lips' height over width) over which the search fades in. A closed
mouth's only interior is the dark line where the lips meet, and closing it would take in lip."""
CAVITY_ASPECT = (0.4, 0.5)
"""The cavity is looked for only in mouths this wide open (fading in). On a half-open mouth the mesh's
lips are about right, and darkness is no proof: d20.mp4's shaded lower lip is as dark as d18.mp4's open
mouth (0.35-0.6 of the skin's lightness for both). d18's wide-open mouths reach 0.49-0.65, d20's 0.43."""


def frame_mouth_opening(
    region_bgr: Frame, landmarks: npt.ArrayLike, face_px: float, feather_px: float = 0.0
) -> Mask:
    """Where ``region_bgr`` shows its mouth's interior inside the outer lip contour of ``landmarks``
    (in the region's pixels), beyond the inner lip contour: H x W float32, 1 there, 0 elsewhere, less
    while the mouth is barely open (``OPEN_ASPECT``, ``CAVITY_ASPECT``); softened over ``feather_px``
    (``masks.soften``; 0 leaves it hard-edged). All zeros when nothing beyond the contour is found."""
    height, width = region_bgr.shape[:2]
    out = np.zeros((height, width), dtype=np.float32)
    points = np.asarray(landmarks, dtype=np.float32)[:, :2]
    aspect = mouth_aspect(points)
    weight, cavity_weight = ramp(aspect, *OPEN_ASPECT), ramp(aspect, *CAVITY_ASPECT)
    if weight <= 0.0:
        return out
    outer_xy, inner_xy = points[list(LIPS_OUTER)], points[list(LIPS_INNER)]
    close_px = max(2, int(np.ceil(CLOSE * face_px)))
    pad = max(close_px, int(np.ceil(3.0 * feather_px)))  # room for the closing and the softening
    x0 = max(int(np.floor(outer_xy[:, 0].min())) - pad, 0)
    y0 = max(int(np.floor(outer_xy[:, 1].min())) - pad, 0)
    x1 = min(int(np.ceil(outer_xy[:, 0].max())) + pad + 1, width)
    y1 = min(int(np.ceil(outer_xy[:, 1].max())) + pad + 1, height)
    if x1 - x0 < 4 or y1 - y0 < 4:
        return out
    shift = np.array([x0, y0], dtype=np.float32)
    box_hw = (y1 - y0, x1 - x0)
    outer = _fill(outer_xy - shift, box_hw)
    inner = _fill(inner_xy - shift, box_hw)
    lips = outer & ~inner
    if int(lips.sum()) < 16:
        return out
    lab = cv2.cvtColor(np.ascontiguousarray(region_bgr[y0:y1, x0:x1]), cv2.COLOR_BGR2LAB)
    lightness = lab[..., 0].astype(np.float32)
    redness = lab[..., 1].astype(np.float32) - 128.0
    yellowness = lab[..., 2].astype(np.float32) - 128.0
    lip_lightness = float(np.percentile(lightness[lips], 75))
    lip_redness = float(np.percentile(redness[lips], 75))
    lip_yellowness = float(np.median(yellowness[lips]))
    # Dark below the upper lip only: a darker upper lip than a glossy lower one (d20.mp4's) is not a
    # cavity, and the mesh puts the inner upper lip too low over teeth, not over a dark gap.
    upper_lip = _fill(np.concatenate([outer_xy[:UPPER], inner_xy[:UPPER][::-1]]) - shift, box_hw)
    cavity = (lightness < CAVITY_LIGHTNESS * lip_lightness) & ~upper_lip & outer
    teeth = np.zeros(box_hw, dtype=bool)
    if lip_redness >= MIN_LIP_REDNESS:
        light = lightness > TEETH_LIGHTNESS * lip_lightness
        pale = (redness < TEETH_PALE[0] * lip_redness) & (yellowness < TEETH_PALE[1] * lip_yellowness)
        teeth = light & ((redness < TEETH_REDNESS * lip_redness) | pale) & outer
    interior = teeth | cavity if cavity_weight > 0.0 else teeth
    # Connected to the mesh's opening (its contour drawn as a line too: a barely open mouth's has no area).
    seed = inner.astype(np.uint8)
    cv2.polylines(seed, [np.round(inner_xy - shift).astype(np.int32)], True, 1, 2)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * close_px + 1, 2 * close_px + 1))
    bridged = cv2.morphologyEx((interior | inner).astype(np.uint8), cv2.MORPH_CLOSE, kernel)
    closed = ((bridged > 0) & outer).astype(np.uint8)
    count, labels = cv2.connectedComponents(closed, connectivity=8)
    touching = np.unique(labels[(seed > 0) & (closed > 0)])
    opening = np.isin(labels, touching[touching > 0]) & ~inner
    if count <= 1 or float(opening.sum()) < MIN_OPENING * face_px * face_px:
        return out
    # Teeth count as soon as the mouth opens; the cavity and what the closing bridged only when it is wide.
    values = np.where(teeth, weight, min(weight, cavity_weight)).astype(np.float32)
    found = np.where(opening, values, np.float32(0.0)).astype(np.float32)
    out[y0:y1, x0:x1] = soften(found, feather_px) if feather_px > 0.0 else found
    return out


def _fill(polygon_xy: npt.NDArray[np.float32], size_hw: tuple[int, int]) -> npt.NDArray[np.bool_]:
    canvas = np.zeros(size_hw, dtype=np.uint8)
    cv2.fillPoly(canvas, [np.round(polygon_xy).astype(np.int32)], 1)
    return canvas > 0
