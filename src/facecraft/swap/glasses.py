"""The source's glasses: found in the unwrapped texture, kept as a layer of their own, drawn rigidly.

Glasses are part of how a person looks (dlib's descriptor of d8.jpg, who wears them, moves far from
a swap without them), but pasted with the skin texture they bend with every expression and turn of the
mesh. So the texture has them filled like any other occluder (``source.py``), and this module keeps the
frames and what the cleaning found around the eyes and across the nose bridge (with them what else lies
there: a strand of hair, the skin right beside a rim) as a separate layer, drawn over the rendered face by
one affine map per frame fitted on points expressions do not move (the eye corners and the nose bridge):
the frames stay straight. The temple arms are left out (they run back along the head, which a flat layer
cannot follow), and so is whatever the swap's mask leaves out (above the brows, by default).

Whether there are glasses at all: long thin lines, darker or lighter than the skin around them (metal
rims catch the light), below both eyes in most directions (brows, lashes and a fringe lie above the
eyes; creases under them are short; a lower rim only comes with glasses). The layer is those lines and
what the cleaning found in the zone around the eyes and across the bridge; the eye openings stay the
swapper's (the source's eyes follow the target's gaze). What the layer covers is filled in the texture.
"""

from dataclasses import dataclass
from typing import cast

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.swap.morphology import disc, relative_line_contrast
from facecraft.swap.triangles import LEFT_EYELIDS, RIGHT_EYELIDS
from facecraft.types import Affine, FloatArray, Frame, Mask

Image = npt.NDArray[np.uint8]
BoolImage = npt.NDArray[np.bool_]

LINE_WIDTH = 0.05
"""Frames are looked for as lines thinner than this fraction of the face size (the cleaning's too)."""
RIM_DIP = 0.15
"""A pixel this much darker than its surroundings (fraction of their lightness) may be a frame."""
RIM_PEAK = 0.1
"""Or this much lighter (metal catching the light)."""
RIM_GROW = 0.008
"""The frames found grow this fraction of the face size into the layer (their soft edges)."""
ZONE = (1.6, 1.05, 0.15)
"""Around each eye the layer spans an ellipse this many eye widths wide and tall (half-axes), its centre
moved outward by the third value (lenses reach further past the outer corner than the inner one)."""
LOWER_RIM = (0.45, 1.0)
"""The lower rim is looked for in the zone's lower half, between these fractions of its radius."""
RIM_SECTORS = 8
RIM_MIN_SECTORS = 6
"""Below each eye, at least RIM_MIN_SECTORS of RIM_SECTORS equal angular sectors must hold frame pixels."""
MIN_LENGTH = 0.5
"""Lines shorter than this many eye widths (pores, strands of hair, lashes, glints) are not frames."""
MAX_THICKNESS = 0.025
"""Frames are thinner than this fraction of the face size (a shadow beside the nose is not)."""
BRIDGE_BAND = (-0.55, 0.0)
"""Between the lenses, the bridge is looked for this many eye widths above (negative) the eyes' line."""
OPENING_MARGIN = 0.03
"""The eye openings, grown by this fraction of the face size, are never part of the layer (lashes). A
frame's glasses (``frame_glasses.py``) use a narrower margin: their upper rims often run just above the
lids, and a margin this wide cut them out."""
ANCHORS = (33, 133, 362, 263, 168, 6)
"""Mesh points the layer is placed by: the four eye corners and two on the nose bridge."""


@dataclass(frozen=True, slots=True)
class GlassesLayer:
    """The source's glasses: ``bgra`` is the part of the unfilled texture with frames in it, their opacity
    as alpha (colour everywhere, so shrinking it does not darken the edges); ``anchors_uv`` (K, 2) are
    where ``ANCHORS`` sit in ``bgra``; ``origin`` is where ``bgra``'s top-left pixel sits in the texture."""

    bgra: Image
    anchors_uv: FloatArray
    origin: tuple[int, int] = (0, 0)

    def shrunk(self) -> "GlassesLayer":
        """Half the resolution (for a texture level)."""
        half = np.asarray(cv2.pyrDown(self.bgra), dtype=np.uint8)
        anchors = ((self.anchors_uv + 0.5) * 0.5 - 0.5).astype(np.float32)
        return GlassesLayer(half, anchors, (self.origin[0] // 2, self.origin[1] // 2))

    def covers(self, size_hw: tuple[int, int]) -> BoolImage:
        """Where, in a texture of ``size_hw``, the layer is mostly opaque (what the texture must fill)."""
        out = np.zeros(size_hw, dtype=bool)
        x0, y0 = self.origin
        height = min(self.bgra.shape[0], size_hw[0] - y0)
        width = min(self.bgra.shape[1], size_hw[1] - x0)
        out[y0 : y0 + height, x0 : x0 + width] = self.bgra[:height, :width, 3] >= 128
        return out


def find_glasses(
    texture_bgr: Image,
    lightness: FloatArray,
    covered: BoolImage,
    uv: FloatArray,
    drawn: BoolImage,
    face_px: float,
    opening_margin: float = OPENING_MARGIN,
    max_thickness: float = MAX_THICKNESS,
) -> GlassesLayer | None:
    """The glasses' layer, or None when no lower rim is found around both eyes (see the module docstring).

    ``lightness``: the texture's (8-bit LAB scale); ``covered``: what the cleaning
    found covering the skin; ``uv``: the 478 landmarks in the texture; ``drawn``: where the face was
    unwrapped; ``opening_margin``: how far around the eye openings (fraction of the face size) nothing
    is taken; ``max_thickness``: lines thicker than this fraction of the face size are not frames. The layer
    holds the frames (thin lines darker or lighter than their surroundings, long
    enough not to be pores or lashes) and what the cleaning found around the eyes and across the bridge;
    its alpha is also what the texture must have filled.
    """
    size_hw = (lightness.shape[0], lightness.shape[1])
    openings = np.zeros(size_hw, dtype=np.uint8)
    for lids in (RIGHT_EYELIDS, LEFT_EYELIDS):
        cv2.fillPoly(openings, [np.round(uv[list(lids)]).astype(np.int32)], 1)
    margin = disc(max(1, round(opening_margin * face_px)))
    openings = np.asarray(cv2.dilate(openings, margin), dtype=np.uint8)
    ys, xs = np.mgrid[0 : size_hw[0], 0 : size_hw[1]].astype(np.float32)
    eyes = [uv[list(lids)].astype(np.float64) for lids in (RIGHT_EYELIDS, LEFT_EYELIDS)]
    eye_w = max(float(np.mean([np.ptp(points[:, 0]) for points in eyes])), 1.0)
    lines = np.zeros(size_hw, dtype=bool)
    for darker, threshold in ((True, RIM_DIP), (False, RIM_PEAK)):
        found = relative_line_contrast(lightness, LINE_WIDTH * face_px, darker) > threshold
        thin = _thin(found & drawn & (openings == 0), max_thickness * face_px)
        lines |= _long_lines(thin, MIN_LENGTH * eye_w)
    middle_x = float(np.mean([points[:, 0].mean() for points in eyes]))
    zone = np.zeros(size_hw, dtype=bool)
    for points in eyes:
        centre = points.mean(axis=0)
        outward = 1.0 if centre[0] > middle_x else -1.0
        dx = (xs - centre[0] - outward * ZONE[2] * eye_w) / (ZONE[0] * eye_w)
        dy = (ys - centre[1]) / (ZONE[1] * eye_w)
        radius = np.hypot(dx, dy)
        if not _has_lower_rim(lines, radius, np.arctan2(dy, dx)):
            return None
        zone |= radius < 1.0
    centre_y = float(np.mean([points[:, 1].mean() for points in eyes]))
    inner = sorted(float(points[:, 0].mean()) for points in eyes)
    zone |= (
        (xs > inner[0])
        & (xs < inner[1])
        & (ys > centre_y + BRIDGE_BAND[0] * eye_w)
        & (ys < centre_y + BRIDGE_BAND[1] * eye_w)
    )
    grow = disc(max(1, round(RIM_GROW * face_px)))
    frames = np.asarray(cv2.dilate((lines & zone).astype(np.uint8), grow), dtype=bool)
    layer = ((covered | frames) & zone & drawn & (openings == 0)).astype(np.float32)
    soft = cv2.GaussianBlur(layer, (0, 0), max(1.0, 0.006 * face_px))
    alpha = np.clip(np.minimum(soft * 2.0, 1.0) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    rows, columns = np.nonzero(alpha)
    if rows.size == 0:
        return None
    # Only the part with frames in it is kept (and warped each frame): a little margin keeps shrinking exact.
    x0, y0 = max(int(columns.min()) - 4, 0) // 2 * 2, max(int(rows.min()) - 4, 0) // 2 * 2
    x1, y1 = int(columns.max()) + 5, int(rows.max()) + 5
    bgra = np.ascontiguousarray(np.dstack([texture_bgr, alpha])[y0:y1, x0:x1])
    anchors = uv[list(ANCHORS)] - np.array([x0, y0], dtype=np.float32)
    return GlassesLayer(bgra, anchors.astype(np.float32), (x0, y0))


def _thin(mask: BoolImage, thickness_px: float) -> BoolImage:
    """The mask without its parts thicker than ``thickness_px`` (what survives an opening by that disc)."""
    radius = max(1, round(0.5 * thickness_px))
    thick = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, disc(radius))
    out: BoolImage = mask & (thick == 0)
    return out


def _long_lines(mask: BoolImage, min_length: float) -> BoolImage:
    """Connected pieces whose bounding box's diagonal is at least ``min_length``."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    diagonal = np.hypot(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
    keep = diagonal >= min_length
    keep[0] = False
    out: BoolImage = keep[labels]
    return out


def _has_lower_rim(lines: BoolImage, radius: FloatArray, angle: FloatArray) -> bool:
    """Whether frame pixels lie below the eye in at least RIM_MIN_SECTORS of RIM_SECTORS sectors."""
    ring = lines & (radius > LOWER_RIM[0]) & (radius < LOWER_RIM[1]) & (angle > 0.0)
    sector = np.minimum((angle[ring] / np.pi * RIM_SECTORS).astype(np.int64), RIM_SECTORS - 1)
    counts = np.bincount(sector, minlength=RIM_SECTORS)
    return int((counts >= 3).sum()) >= RIM_MIN_SECTORS


def placement(anchors_uv: FloatArray, anchors_xy: FloatArray) -> Affine:
    """The affine map (2 x 3) taking the layer's anchors to where they are drawn (least squares)."""
    source = np.hstack([anchors_uv.astype(np.float64), np.ones((len(anchors_uv), 1))])
    solution, *_ = np.linalg.lstsq(source, anchors_xy.astype(np.float64), rcond=None)
    matrix: Affine = solution.T.astype(np.float32)
    return matrix


LayerImage = npt.NDArray[np.uint8] | npt.NDArray[np.float32]


def place_layer(
    image: LayerImage, anchors_uv: FloatArray, anchors_xy: FloatArray, size_hw: tuple[int, int]
) -> tuple[LayerImage, tuple[int, int]] | None:
    """A layer image placed by its anchors (``placement``) into an image of ``size_hw``: the warped part
    that lands inside it and that part's top-left corner, or None when nothing lands inside."""
    height, width = size_hw
    matrix = placement(anchors_uv, anchors_xy)
    layer_h, layer_w = image.shape[:2]
    corners = np.array(
        [[-0.5, -0.5], [layer_w - 0.5, -0.5], [-0.5, layer_h - 0.5], [layer_w - 0.5, layer_h - 0.5]]
    )
    placed = corners @ matrix[:, :2].T.astype(np.float64) + matrix[:, 2]
    x0, y0 = (max(int(np.floor(v)), 0) for v in placed.min(axis=0))
    x1, y1 = (
        min(int(np.ceil(placed[:, 0].max())) + 1, width),
        min(int(np.ceil(placed[:, 1].max())) + 1, height),
    )
    if x1 <= x0 or y1 <= y0:
        return None
    local = matrix.copy()
    local[:, 2] -= (x0, y0)
    warped = cv2.warpAffine(
        image, local, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
    )
    return cast(LayerImage, np.asarray(warped)), (x0, y0)


def draw_glasses(crop_bgr: Frame, layer: GlassesLayer, anchors_xy: FloatArray, coverage: Mask) -> None:
    """Draw the layer over ``crop_bgr`` in place, placed by the anchors' positions in the crop and only
    where the face was drawn (``coverage``)."""
    placed = place_layer(layer.bgra, layer.anchors_uv, anchors_xy, (crop_bgr.shape[0], crop_bgr.shape[1]))
    if placed is None:
        return
    warped, (x0, y0) = placed
    y1, x1 = y0 + warped.shape[0], x0 + warped.shape[1]
    alpha = warped[..., 3].astype(np.float32) * np.float32(1.0 / 255.0) * coverage[y0:y1, x0:x1]
    if float(alpha.max()) <= 0.0:
        return
    alpha3 = alpha[..., np.newaxis]
    region = crop_bgr[y0:y1, x0:x1]
    mixed = region.astype(np.float32) * (1.0 - alpha3) + warped[..., :3].astype(np.float32) * alpha3
    region[...] = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)
