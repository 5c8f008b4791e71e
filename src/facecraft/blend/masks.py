"""Masks from the face mesh: face hull, mouth interior, eyes, skin; erode and feather relative to face size.

Every mask is a pure function of the landmarks (x, y in the mask's pixels, OpenCV convention: pixel centres
at integer coordinates) and comes back as float32 H x W in [0, 1]. Polygons are drawn anti-aliased with
sub-pixel vertex positions, and erosion and feathering are a Gaussian blur followed by a smooth ramp, so a
mask changes continuously when the landmarks move: no step ever makes a pixel pop on or off between frames.
Sizes (erosion, feather) are fractions of the face size, so a face looks the same at any resolution.

Index lists are MediaPipe face-mesh indices; "right" and "left" are the subject's.
"""

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.faces.face import LEFT_IRIS_CENTER, MESH_POINTS, RIGHT_IRIS_CENTER
from facecraft.types import FloatArray, Mask

# --- mesh index lists ----------------------------------------------------------------------------

JAW_CONTOUR = (
    389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152,
    148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162,
)  # fmt: skip
"""Face silhouette from the left temple (image right) down around the chin to the right temple."""
FOREHEAD_CONTOUR = (21, 54, 103, 67, 109, 10, 338, 297, 332, 284, 251)
"""Silhouette over the forehead, right temple to left temple; closes JAW_CONTOUR to the full face oval."""
BROW_TOP = (70, 63, 105, 66, 107, 9, 336, 296, 334, 293, 300)
"""Upper edge of both brows (with the glabella between them), image left to right."""
FOREHEAD_ROW = (71, 68, 104, 69, 108, 151, 337, 299, 333, 298, 301)
"""The mesh row above BROW_TOP, point for point; the hull's top edge lies between the two rows."""
RIGHT_BROW = (70, 63, 105, 66, 107, 55, 65, 52, 53, 46)
LEFT_BROW = (336, 296, 334, 293, 300, 276, 283, 282, 295, 285)
LIPS_OUTER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181, 91, 146)
LIPS_INNER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95)
RIGHT_EYELIDS = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
LEFT_EYELIDS = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)
"""Eyelid margins (the visible eye opening)."""
RIGHT_EYE_RING = (130, 25, 110, 24, 23, 22, 26, 112, 243, 190, 56, 28, 27, 29, 30, 247)
LEFT_EYE_RING = (359, 255, 339, 254, 253, 252, 256, 341, 463, 414, 286, 258, 257, 259, 260, 467)
"""The mesh ring around each eye (the lids): what is kept from the target while an eye is closed."""


@dataclass(frozen=True, slots=True)
class EyeIndices:
    """Mesh indices of one eye: corners (outer/inner as drawn), two vertical lid pairs, iris centre."""

    corners: tuple[int, int]
    lid_pairs: tuple[tuple[int, int], tuple[int, int]]
    iris_center: int
    lids: tuple[int, ...]
    ring: tuple[int, ...]


RIGHT_EYE = EyeIndices((33, 133), ((160, 144), (158, 153)), RIGHT_IRIS_CENTER, RIGHT_EYELIDS, RIGHT_EYE_RING)
LEFT_EYE = EyeIndices((362, 263), ((385, 380), (387, 373)), LEFT_IRIS_CENTER, LEFT_EYELIDS, LEFT_EYE_RING)

DEFAULT_BROW_MARGIN = 0.8
"""The hull's top edge sits this far from the brows' top towards the mesh row above (0 at the brows)."""

_MIN_FOREHEAD = 1e-3
"""A forehead shorter than this fraction of the face (degenerate landmarks) is not faded."""
_MIN_FADE_SPAN = 0.25
"""At the temples the mesh's top edge comes down to the brows' line; the fade still spans at least this
fraction of the forehead's height in the middle there."""

COVERAGE_FEATHER = 0.015
"""Edges of the rendered texture (culled triangles, for example) soften over this fraction of the face."""

_SUBPIXEL_BITS = 4
"""Polygon vertices are drawn in 1/16 pixel steps (cv2 ``shift``)."""
_SUPERSAMPLE = 4
"""Small polygons are rasterised at this many times the mask's resolution, then box-filtered down."""
_SUPERSAMPLE_BELOW_PX = 64
"""Polygons larger than this are drawn directly (anti-aliased): their edges are long and the AA edge's
slight outward bias (about a third of a pixel) does not matter, while a flattened mouth would."""


@dataclass(frozen=True, slots=True)
class MaskSettings:
    """How the blend and skin masks are made. Sizes are fractions of the face size (``face_size_px``).

    include_forehead: the hull follows the whole face oval; otherwise it stops just above the brows.
    forehead_fade: with ``include_forehead``, the mask fades over the forehead, from 1 on the line above the
        brows to 0 at the mesh's top edge (``forehead_fade``; the usual feather at that edge is then inside
        the fade), and the forehead's skin counts for the colour statistics as far as it is swapped: the
        render's forehead is then lit like the footage's (without it, the light fitted below the brows left
        d30.jpg's forehead as a pale band across d3.mp4's).
    brow_margin: where between the brows' top edge (0) and the mesh row above them (1) the hull stops.
    erode, feather: the blend mask starts ``erode`` inside the hull and reaches 1 ``feather`` further in.
    hole_feather: softness of the mouth and eye holes.
    keep_mouth: the target's mouth interior (teeth, tongue) shows through the swapped face.
    keep_lips: the target's lips show through too (inside the outer lip contour): for a source photo whose
        mouth is set in an expression (a pout, a grimace, a grin), whose lips would otherwise be drawn onto
        every frame's mouth.
    keep_eyes: the target's eyes show through while closed (eye aspect ratio under ``closed_ear``, or,
        given the eye's own open level in a video, under ``closed_relative`` of it) or looking away (iris
        further than ``away_offset`` eye widths from the eye's centre); each fades in over its band
        (``ear_band``, ``relative_band``, ``away_band``) so nothing pops. The relative test is there because
        the mesh never draws a shut eye shut: on s18.mp4 a blink bottoms out at an aspect of 0.16-0.18
        against 0.33 and 0.41 open (0.18-0.20 after the landmark smoothing), so the absolute test alone
        drew the source's eyes, half open, through the target's blinks and winks.
    work_face_px: masks are drawn at a scale where the face is about this big, then resized up.
    """

    include_forehead: bool = False
    forehead_fade: bool = False
    brow_margin: float = DEFAULT_BROW_MARGIN
    erode: float = 0.02
    feather: float = 0.07
    hole_feather: float = 0.012
    keep_mouth: bool = True
    keep_lips: bool = False
    keep_eyes: bool = True
    closed_ear: float = 0.18
    ear_band: float = 0.04
    closed_relative: float = 0.64
    relative_band: float = 0.16
    away_offset: float = 0.2
    away_band: float = 0.05
    work_face_px: float = 128.0

    def __post_init__(self) -> None:
        for name in ("erode", "feather", "hole_feather"):
            value = getattr(self, name)
            if not 0.0 <= value <= 0.5:
                raise ValueError(f"{name} must be a fraction of the face size in [0, 0.5], got {value}")
        if not 0.0 <= self.brow_margin <= 1.0:
            raise ValueError(f"brow_margin must be in [0, 1], got {self.brow_margin}")
        if self.feather <= 0.0:
            raise ValueError(f"feather must be above 0 (a hard edge shows as a seam), got {self.feather}")
        if self.ear_band <= 0.0 or self.away_band <= 0.0 or self.relative_band <= 0.0:
            raise ValueError("ear_band, relative_band and away_band must be above 0")
        if not 0.0 < self.closed_relative < 1.0:
            raise ValueError(f"closed_relative must be in (0, 1), got {self.closed_relative}")
        if self.work_face_px < 32.0:
            raise ValueError(f"work_face_px must be at least 32, got {self.work_face_px}")


@dataclass(frozen=True, slots=True)
class FaceMasks:
    """The masks one face needs, all H x W float32 in [0, 1].

    alpha: where the swapped face replaces the target (hull, eroded and feathered, minus the kept mouth
        and eyes; up over the frame's own brows too, when given and higher: ``build_face_masks``).
    skin: the skin over which colour statistics are taken (no eyes, brows, lips or mouth).
    mouth: the mouth interior (inside the inner lips), softened: a swapper draws the target's own teeth and
        tongue there, which skin-based colour transfer would tint, so the render keeps its colours.
    eyes: the eye openings (inside the lid margins), softened. What is drawn there depends on the swapper
        (the source's eyes by default for the mesh swapper), so the compositor decides how much colour
        transfer they get.
    """

    alpha: Mask
    skin: Mask
    mouth: Mask
    eyes: Mask


# --- measurements --------------------------------------------------------------------------------


def face_size_px(landmarks: npt.ArrayLike) -> float:
    """The larger side of the mesh points' box, in the landmarks' pixels (at least 1)."""
    xy = np.asarray(landmarks, dtype=np.float32)[:MESH_POINTS, :2]
    xs, ys = xy[:, 0], xy[:, 1]  # one column at a time: numpy's axis-0 reductions of N x 2 are 6x slower
    return max(float(xs.max() - xs.min()), float(ys.max() - ys.min()), 1.0)


def eye_aspect_ratio(landmarks: npt.ArrayLike, eye: EyeIndices) -> float:
    """Lid opening over eye width (about 0.3 open, under 0.1 closed)."""
    xy = np.asarray(landmarks, dtype=np.float64)[:, :2]
    width = float(np.linalg.norm(xy[eye.corners[0]] - xy[eye.corners[1]]))
    if width < 1e-6:
        return 0.0
    opening = sum(float(np.linalg.norm(xy[a] - xy[b])) for a, b in eye.lid_pairs)
    return opening / (2.0 * width)


def gaze_offset(landmarks: npt.ArrayLike, eye: EyeIndices) -> float:
    """Distance of the iris centre from the eye corners' midpoint, in eye widths (about 0.05 ahead)."""
    xy = np.asarray(landmarks, dtype=np.float64)[:, :2]
    if xy.shape[0] <= eye.iris_center:
        return 0.0
    width = float(np.linalg.norm(xy[eye.corners[0]] - xy[eye.corners[1]]))
    if width < 1e-6:
        return 0.0
    middle = 0.5 * (xy[eye.corners[0]] + xy[eye.corners[1]])
    return float(np.linalg.norm(xy[eye.iris_center] - middle)) / width


def ramp(value: float, start: float, end: float) -> float:
    """0 at ``start``, 1 at ``end``, smoothstep between (either order)."""
    t = min(max((value - start) / (end - start), 0.0), 1.0)
    return t * t * (3.0 - 2.0 * t)


def eye_keep_weights(
    landmarks: npt.ArrayLike, eye: EyeIndices, settings: MaskSettings, open_level: float | None = None
) -> tuple[float, float]:
    """(closed, away): how much of the target's eye to keep because it is closed / looking away, in [0, 1].

    ``open_level``: the eye's usual aspect ratio while open (``eye_levels.EyeOpenLevels``), when known.
    """
    half_ear, half_away = 0.5 * settings.ear_band, 0.5 * settings.away_band
    ear = eye_aspect_ratio(landmarks, eye)
    closed = ramp(ear, settings.closed_ear + half_ear, settings.closed_ear - half_ear)
    if open_level is not None and open_level > 0.0:
        half_relative = 0.5 * settings.relative_band
        start, end = settings.closed_relative + half_relative, settings.closed_relative - half_relative
        closed = max(closed, ramp(ear / open_level, start, end))
    offset = gaze_offset(landmarks, eye)
    away = ramp(offset, settings.away_offset - half_away, settings.away_offset + half_away)
    return closed, away


# --- rasterising ---------------------------------------------------------------------------------


def polygon_mask(points_xy: npt.ArrayLike, size_hw: tuple[int, int]) -> Mask:
    """A filled polygon, float32 in [0, 1], each pixel holding about the fraction of it inside the polygon.

    Small polygons are drawn anti-aliased at 4x resolution inside their bounding box and box-filtered
    down, so edges sit within about 1/8 pixel of where they belong and move continuously with the
    vertices; a polygon folded flat (lips that touch) leaves only a faint trace that the hole softening
    removes. Large ones are drawn anti-aliased directly, with sub-pixel vertices.
    """
    canvas = np.zeros(size_hw, dtype=np.float32)
    _add_polygon(canvas, np.asarray(points_xy, dtype=np.float64)[:, :2])
    return canvas


def _add_polygon(canvas: Mask, points_xy: npt.NDArray[np.float64]) -> None:
    """Draw one polygon into ``canvas`` (max with what is there), supersampled within its bounding box."""
    height, width = canvas.shape
    bx, by, bw, bh = cv2.boundingRect(points_xy.astype(np.float32))
    x0, y0 = max(bx - 1, 0), max(by - 1, 0)
    x1, y1 = min(bx + bw + 2, width), min(by + bh + 2, height)
    if x1 <= x0 or y1 <= y0:
        return
    factor = _SUPERSAMPLE if max(x1 - x0, y1 - y0) <= _SUPERSAMPLE_BELOW_PX else 1
    fine = np.zeros(((y1 - y0) * factor, (x1 - x0) * factor), dtype=np.uint8)
    # coarse pixel x covers fine pixels [(x - x0) * f, (x - x0 + 1) * f): centre (x - x0) * f + (f - 1) / 2
    local = (points_xy - (x0, y0)) * factor + (factor - 1) / 2.0
    fixed = np.round(local * (1 << _SUBPIXEL_BITS)).astype(np.int32)
    cv2.fillPoly(fine, [fixed], 255, cv2.LINE_AA, _SUBPIXEL_BITS)
    coarse = fine if factor == 1 else cv2.resize(fine, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
    region = canvas[y0:y1, x0:x1]
    np.maximum(region, _to_unit(np.asarray(coarse, dtype=np.uint8)), out=region)


def _to_unit(canvas: npt.NDArray[np.uint8]) -> Mask:
    return canvas.astype(np.float32) * np.float32(1.0 / 255.0)


def _smoothstep(values: FloatArray, low: float, high: float) -> Mask:
    """0 below ``low``, 1 above ``high``, the cubic smoothstep between (in-place arithmetic: it is hot)."""
    t = (values - np.float32(low)) * np.float32(1.0 / (high - low))
    np.maximum(t, np.float32(0.0), out=t)
    np.minimum(t, np.float32(1.0), out=t)
    ramp = np.float32(3.0) - np.float32(2.0) * t
    ramp *= t
    ramp *= t
    return ramp


def _gaussian(mask: Mask, sigma_px: float) -> Mask:
    if sigma_px < 0.3:
        return mask
    ksize = 2 * int(np.ceil(3.0 * sigma_px)) + 1
    blurred = cv2.GaussianBlur(mask, (ksize, ksize), sigma_px, borderType=cv2.BORDER_REPLICATE)
    return np.asarray(blurred, dtype=np.float32)


def _edge_sigma(erode_px: float, feather_px: float) -> float:
    return max((erode_px + feather_px) / 2.5, 0.3)


def _edge_ramp(blurred: Mask, sigma: float, erode_px: float, feather_px: float) -> Mask:
    """Smoothstep over [erode, erode + feather] of the distance inside the edge, read off the blurred mask.

    On a straight edge a Gaussian blur of width ``sigma`` gives the normal CDF of the signed distance;
    its inverse (the logistic approximation, good to a few percent) turns the blur back into a distance.
    """
    b = np.clip(blurred, np.float32(1e-4), np.float32(1.0 - 1e-4))
    distance = np.log(b / (np.float32(1.0) - b))
    distance *= np.float32(sigma / 1.702)
    return _smoothstep(distance, erode_px, erode_px + max(feather_px, 1e-3))


def erode_feather(mask: Mask, erode_px: float, feather_px: float) -> Mask:
    """A soft mask that is 0 up to ``erode_px`` inside the edge of ``mask`` and 1 from ``feather_px`` further.

    A Gaussian blur turns the edge into a smooth profile from which the distance to the edge is read back
    (exactly on a straight edge, roughly at corners, which come out rounded); a smoothstep over that
    distance makes the ramp. Every step is continuous in the input, so a moving edge moves the result
    smoothly and no pixel ever pops.
    """
    sigma = _edge_sigma(erode_px, feather_px)
    return _edge_ramp(_gaussian(mask, sigma), sigma, erode_px, feather_px)


def soften(mask: Mask, feather_px: float) -> Mask:
    """A soft version of ``mask`` whose ramp is centred on the edge; parts thinner than ~feather vanish."""
    sigma = max(feather_px, 0.3)
    return _smoothstep(_gaussian(mask, sigma), 0.25, 0.75)


# --- shapes --------------------------------------------------------------------------------------


def hull_outline(
    landmarks: npt.ArrayLike, include_forehead: bool = False, brow_margin: float = DEFAULT_BROW_MARGIN
) -> FloatArray:
    """The face outline: jaw and cheeks, then the forehead oval or a line just above the brows."""
    xy = np.asarray(landmarks, dtype=np.float32)[:, :2]
    jaw = xy[list(JAW_CONTOUR)]
    top = xy[list(FOREHEAD_CONTOUR)] if include_forehead else brow_line(xy, brow_margin)
    return np.concatenate([jaw, top]).astype(np.float32)


def brow_line(landmarks: npt.ArrayLike, brow_margin: float = DEFAULT_BROW_MARGIN) -> FloatArray:
    """The line just above the brows, point for point along ``BROW_TOP``: ``brow_margin`` of the way from the
    brows' top edge to the mesh row above them."""
    xy = np.asarray(landmarks, dtype=np.float32)[:, :2]
    brows, above = xy[list(BROW_TOP)], xy[list(FOREHEAD_ROW)]
    return np.asarray(brows + np.float32(brow_margin) * (above - brows), dtype=np.float32)


def forehead_fade(
    landmarks: npt.ArrayLike, size_hw: tuple[int, int], brow_margin: float = DEFAULT_BROW_MARGIN
) -> Mask:
    """1 up to the line above the brows, falling smoothly to 0 at the mesh's top edge: the forehead fades
    into the frame. Heights are taken along the face's up axis (from the middle of that line to the middle of
    the top edge), against the line's and the edge's own heights at each place across the face, so the
    forehead fades out at the temples too, where its top edge comes down."""
    xy = np.asarray(landmarks, dtype=np.float32)[:, :2]
    line = brow_line(xy, brow_margin)
    edge = xy[list(FOREHEAD_CONTOUR)]
    middle = len(BROW_TOP) // 2
    up = edge[middle] - line[middle]
    height = float(np.hypot(up[0], up[1]))
    if height < _MIN_FOREHEAD * face_size_px(xy):  # no forehead to fade over
        return np.ones(size_hw, dtype=np.float32)
    up /= np.float32(height)
    across = np.array([-up[1], up[0]], dtype=np.float32)
    line_across, line_up = line @ across, line @ up
    edge_across, edge_up = edge @ across, edge @ up
    cols = np.arange(size_hw[1], dtype=np.float32)[np.newaxis, :]
    rows = np.arange(size_hw[0], dtype=np.float32)[:, np.newaxis]
    pixel_up = cols * up[0] + rows * up[1]
    fade = np.ones(size_hw, dtype=np.float32)
    # No lower than the line's lowest point, the fade is exactly 1: work only in the box above that.
    box = true_box(pixel_up > line_up.min())
    if box is None:
        return fade
    pixel_across = cols[:, box[1]] * across[0] + rows[box[0]] * across[1]
    order, edge_order = np.argsort(line_across), np.argsort(edge_across)
    line_height = np.interp(pixel_across, line_across[order], line_up[order]).astype(np.float32)
    edge_height = np.interp(pixel_across, edge_across[edge_order], edge_up[edge_order]).astype(np.float32)
    span = np.maximum(edge_height - line_height, np.float32(_MIN_FADE_SPAN * height))
    rise = (pixel_up[box] - line_height) / span
    fade[box] = np.float32(1.0) - _smoothstep(rise, 0.0, 1.0)
    return fade


def true_box(mask: npt.NDArray[np.bool_]) -> tuple[slice, slice] | None:
    """The rows and columns of ``mask``'s True pixels' bounding box (None: there are none)."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1)


def hull_mask(
    landmarks: npt.ArrayLike,
    size_hw: tuple[int, int],
    include_forehead: bool = False,
    brow_margin: float = DEFAULT_BROW_MARGIN,
) -> Mask:
    """The face hull, hard-edged but anti-aliased; stops above the brows unless ``include_forehead``."""
    return polygon_mask(hull_outline(landmarks, include_forehead, brow_margin), size_hw)


def mouth_mask(landmarks: npt.ArrayLike, size_hw: tuple[int, int]) -> Mask:
    """Inside the inner lip contour (empty, up to anti-aliasing, when the lips touch)."""
    return polygon_mask(np.asarray(landmarks, dtype=np.float32)[list(LIPS_INNER)], size_hw)


def lips_mask(landmarks: npt.ArrayLike, size_hw: tuple[int, int]) -> Mask:
    """Inside the outer lip contour: lips and mouth."""
    return polygon_mask(np.asarray(landmarks, dtype=np.float32)[list(LIPS_OUTER)], size_hw)


def eye_mask(landmarks: npt.ArrayLike, size_hw: tuple[int, int], eye: EyeIndices, ring: bool = False) -> Mask:
    """Inside the eyelid margins, or inside the ring around the eye (lids included) with ``ring``."""
    indices = eye.ring if ring else eye.lids
    return polygon_mask(np.asarray(landmarks, dtype=np.float32)[list(indices)], size_hw)


def brows_mask(landmarks: npt.ArrayLike, size_hw: tuple[int, int]) -> Mask:
    xy = np.asarray(landmarks, dtype=np.float32)
    return np.maximum(polygon_mask(xy[list(RIGHT_BROW)], size_hw), polygon_mask(xy[list(LEFT_BROW)], size_hw))


def eyes_keep_mask(
    landmarks: npt.ArrayLike,
    size_hw: tuple[int, int],
    settings: MaskSettings,
    open_levels: tuple[float, float] | None = None,
) -> Mask:
    """Where the target's eyes are kept: the lids' ring while closed, the eye opening while looking away.

    ``open_levels``: the right and left eye's usual open aspect ratio, when known (videos).
    """
    keep = np.zeros(size_hw, dtype=np.float32)
    levels: tuple[float | None, float | None] = (None, None) if open_levels is None else open_levels
    for eye, level in zip((RIGHT_EYE, LEFT_EYE), levels, strict=True):
        closed, away = eye_keep_weights(landmarks, eye, settings, level)
        if closed > 0.0:
            keep = np.maximum(keep, np.float32(closed) * eye_mask(landmarks, size_hw, eye, ring=True))
        if away > 0.0:
            keep = np.maximum(keep, np.float32(away) * eye_mask(landmarks, size_hw, eye))
    return keep


# --- the masks one face needs --------------------------------------------------------------------


def build_face_masks(
    landmarks: npt.ArrayLike,
    size_hw: tuple[int, int],
    settings: MaskSettings,
    coverage: Mask | None = None,
    open_levels: tuple[float, float] | None = None,
    frame_landmarks: npt.ArrayLike | None = None,
) -> FaceMasks:
    """Blend alpha, skin, mouth and eye masks for one face, in an H x W canvas where ``landmarks`` are pixels.

    ``open_levels``: the right and left eye's usual open aspect ratio (``eyes_keep_mask``), when known.

    ``frame_landmarks`` (optional, the same pixels): the frame's own landmarks, where ``landmarks`` are the
    rendered face's. A hull that stops above the brows then stops above the frame's brows too, wherever
    those are higher: the rendered brows sit where the source's proportions put them, and a target raising
    its brows (d10.mp4 at 5.1 s) showed its own brows above the swapped ones. Only alpha changes (the
    frame's brows are not the render's skin), and only without the forehead, which covers them anyway.

    ``coverage`` (optional, H x W in [0, 1]): where the render holds texture; alpha and skin are cut to it,
    with a soft edge (``COVERAGE_FEATHER`` of the face), so holes such as culled triangles get no seam.
    The masks are drawn at a reduced scale (face about ``settings.work_face_px``) and resized up; they are
    smooth by construction, so nothing is lost and the cost no longer follows the face's size.
    """
    height, width = size_hw
    if height <= 0 or width <= 0:
        raise ValueError(f"mask size must be positive, got {size_hw}")
    if coverage is not None and coverage.shape != size_hw:
        raise ValueError(f"coverage must be {size_hw}, got {coverage.shape}")
    points = np.asarray(landmarks, dtype=np.float32)
    scale = min(1.0, settings.work_face_px / face_size_px(points))
    small_hw = (max(int(np.ceil(height * scale)), 1), max(int(np.ceil(width * scale)), 1))
    factors = np.array([small_hw[1] / width, small_hw[0] / height], dtype=np.float32)
    shift = np.float32(0.5) * (factors - np.float32(1.0))  # pixel centres stay pixel centres
    small = points[:, :2] * factors + shift
    small_frame = None
    if frame_landmarks is not None and not settings.include_forehead:
        small_frame = np.asarray(frame_landmarks, dtype=np.float32)[:, :2] * factors + shift
    alpha, skin, mouth, eyes = _face_masks_at(small, small_hw, settings, open_levels, small_frame)
    if coverage is not None and float(coverage.min()) < 1.0:
        small_coverage = coverage if small_hw == size_hw else _shrink(coverage, small_hw)
        soft = erode_feather(small_coverage, 0.0, COVERAGE_FEATHER * face_size_px(small))
        alpha *= soft
        skin *= soft
    if small_hw == (height, width):
        return FaceMasks(alpha, skin, mouth, eyes)
    holes = _resize(np.dstack([mouth, eyes]), size_hw)
    return FaceMasks(_resize(alpha, size_hw), _resize(skin, size_hw), holes[..., 0], holes[..., 1])


def _shrink(mask: Mask, size_hw: tuple[int, int]) -> Mask:
    """Downscale: pyramid halvings (a proper low-pass, and fast) then a linear resize of at most 2x."""
    shrunk = np.asarray(mask, dtype=np.float32)
    while shrunk.shape[0] >= 2 * size_hw[0] + 2 and shrunk.shape[1] >= 2 * size_hw[1] + 2:
        shrunk = np.asarray(cv2.pyrDown(shrunk), dtype=np.float32)
    if shrunk.shape != size_hw:
        shrunk = np.asarray(cv2.resize(shrunk, (size_hw[1], size_hw[0]), interpolation=cv2.INTER_LINEAR))
    return shrunk


def _resize(mask: Mask, size_hw: tuple[int, int]) -> Mask:
    resized = cv2.resize(mask, (size_hw[1], size_hw[0]), interpolation=cv2.INTER_LINEAR)
    return np.asarray(resized, dtype=np.float32)


def _face_masks_at(
    points: FloatArray,
    size_hw: tuple[int, int],
    settings: MaskSettings,
    open_levels: tuple[float, float] | None,
    frame_points: FloatArray | None = None,
) -> tuple[Mask, Mask, Mask, Mask]:
    face_px = face_size_px(points)
    erode_px, feather_px = settings.erode * face_px, settings.feather * face_px
    hole_px = settings.hole_feather * face_px
    sigma = _edge_sigma(erode_px, feather_px)
    hull = hull_mask(points, size_hw, settings.include_forehead, settings.brow_margin)
    blurred = _gaussian(hull, sigma)
    if frame_points is None:
        alpha = _edge_ramp(blurred, sigma, erode_px, feather_px)
    else:  # up over the frame's own brows too (alpha only: they are not the render's skin)
        jaw = np.asarray(points[list(JAW_CONTOUR)], dtype=np.float32)
        frame_top = np.concatenate([jaw, brow_line(frame_points, settings.brow_margin)])
        over_brows = np.maximum(hull, polygon_mask(frame_top, size_hw))
        alpha = _edge_ramp(_gaussian(over_brows, sigma), sigma, erode_px, feather_px)
    fade = None
    if settings.include_forehead and settings.forehead_fade:
        fade = forehead_fade(points, size_hw, settings.brow_margin)  # 1 below the line above the brows
        alpha *= fade
    mouth = mouth_mask(points, size_hw)
    if settings.keep_lips:
        alpha *= np.float32(1.0) - soften(lips_mask(points, size_hw), hole_px)
    elif settings.keep_mouth:
        alpha *= np.float32(1.0) - soften(mouth, hole_px)
    if settings.keep_eyes:
        alpha *= np.float32(1.0) - soften(eyes_keep_mask(points, size_hw, settings, open_levels), hole_px)
    if settings.include_forehead and not settings.forehead_fade:  # a trained model's forehead: not skin
        blurred = _gaussian(hull_mask(points, size_hw, False, 0.0), sigma)
    skin = _edge_ramp(blurred, sigma, erode_px, 0.5 * feather_px)
    if fade is not None:  # the forehead is skin as far as it is swapped (not the frame's hairline above)
        skin *= fade
    skin *= np.clip(
        np.float32(1.0) - np.float32(2.0) * _gaussian(features_mask(points, size_hw), 0.01 * face_px), 0, 1
    )
    eyes = np.zeros(size_hw, dtype=np.float32)
    for eye in (RIGHT_EYE, LEFT_EYE):
        _add_polygon(eyes, points[list(eye.lids)].astype(np.float64))
    return alpha, skin, soften(mouth, hole_px), soften(eyes, hole_px)


def features_mask(landmarks: npt.ArrayLike, size_hw: tuple[int, int]) -> Mask:
    """Brows, lips (with the mouth) and eyes with their lids: what is not skin, for colour statistics."""
    xy = np.asarray(landmarks, dtype=np.float64)[:, :2]
    canvas = np.zeros(size_hw, dtype=np.float32)
    for indices in (RIGHT_BROW, LEFT_BROW, LIPS_OUTER, RIGHT_EYE_RING, LEFT_EYE_RING):
        _add_polygon(canvas, xy[list(indices)])
    return canvas
