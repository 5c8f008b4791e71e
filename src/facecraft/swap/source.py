"""Source preparation: load the source photo, find skin and what covers it, fill what is hidden.

A source photo is not pasted verbatim: a hand on a cheek, a fringe over the forehead or glasses would
travel with the mesh onto every frame. So the face is unwrapped into a frontal, left-right symmetric
texture (the mesh's frontal layout, its sides unrolled like a cylinder's), where the mirror image of any
place is simply the texture flipped left to right, and there:

1. a skin colour model (robust chroma centre and spread in LAB, and how dark the skin gets) is learned
   from the central face skin (from under the eyes to the mouth, inside the cheeks);
2. occluders are found inside the face outline, away from eyes, brows, lips and nostrils (which are
   legitimately not skin-coloured): pixels of the wrong chroma or darker than any skin (hair), thin
   dark lines (glasses frames, strands, the shadow at a finger's edge), and places with far more fine
   detail than their mirror place (fingers or hair over one cheek while the other is smooth skin);
   parts the photo shows edge-on or not at all (a turned head) are hidden too; glasses found around
   both eyes are also kept, unfilled, as a layer of their own that the swapper draws rigidly
   (``glasses.py``), and what that layer covers is hidden as well;
3. hidden skin is filled from the mirrored side where that side is clear (its detail laid over this
   side's shading; fading out near the edge of the clear part, where an occluder's rim would be copied),
   otherwise from the surrounding skin (a smooth push-pull fill of the skin's departure from the photo's
   light, the light put back from a first-order fit on the clear skin's surface normals, so a cheek
   under hair is shaded as its turn from the camera shades it, not flat); thin strips of skin left between
   filled parts are filled too, and parts of the lips and nostrils the photo shows edge-on keep its
   pixels (a mirrored copy put a dark spot beside the nostril);
4. the photo's deep broad shadows are lifted part of the way (``lift_shadows``); optionally, before that,
   its light is made left-right symmetric (``even_light``, off by default);
5. the findings become plain sentences for the user (``PreparedSource.notes``, which the mesh swapper's
   ``prepare`` returns).

The texture keeps the photo's resolution up to ``SourceSettings.max_face_px``.
"""

from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.blend.color import LIGHTNESS_OFFSET, masked_low_pass
from facecraft.errors import NoFaceError
from facecraft.faces.analyzer import FaceAnalyzer
from facecraft.faces.face import LANDMARK_POINTS, MESH_POINTS, Face
from facecraft.media.image import read_image
from facecraft.swap.base import SourceIdentity
from facecraft.swap.glasses import GlassesLayer, find_glasses
from facecraft.swap.lip_outline import read_lips
from facecraft.swap.morphology import disc, relative_line_contrast
from facecraft.swap.shape import facing_camera, stable_points
from facecraft.swap.triangles import (
    EYE_CENTERS,
    FACE_OVAL,
    LEFT_BROW,
    LEFT_EYELIDS,
    LIPS_OUTER,
    RIGHT_BROW,
    RIGHT_EYELIDS,
    MeshTopology,
    triangle_normals,
)
from facecraft.swap.warp import PiecewiseAffineWarper
from facecraft.types import FloatArray, Frame, Mask

Image = npt.NDArray[np.uint8]
BoolImage = npt.NDArray[np.bool_]

UNROLL_RADIUS = 1.05
"""The texture unrolls the face's sides around a cylinder this many times the face's half-width."""
TEXTURE_OVERSAMPLE = 1.5
"""The texture holds the face this many times larger than the photo shows it, so that the second
resampling (texture to frame) loses little of the first (photo to texture)."""
TEXTURE_MARGIN = 0.06
"""Texture border around the face outline, as a fraction of the face size."""
NOSTRIL_REGION = (0.0, 0.07, 0.23, 0.11)
"""Ellipse (centre x, y, half-width, half-height) in the layout around the nostrils and the nose base."""
CENTRAL_REGION = (0.5, -0.28, 0.25)
NOSE_REGION = (0.24, -0.45, 0.16)
BROW_MARGIN = 0.4
"""Brows are spared from occluder detection over this fraction of the feature margin only (hair often
reaches the brows' outer ends)."""
"""Layout points with |x| under the first value and y between the others make the nose's outline."""
"""Layout triangles with |x| under the first value and y between the others are the central skin."""
SEEN_FACING = 0.35
"""A triangle that faces the camera under this fraction of what it would in a frontal pose (the far side
of a turned head) counts as unseen. Judged from the head pose, so a smile squeezing the lips does not."""
MIN_CHROMA_SPREAD = (2.5, 2.5)
"""Chroma spreads are at least this (8-bit LAB units), so a very even skin does not make every pore odd."""
BLACK_HAT_SIZE = 0.05
"""Dark lines thinner than this fraction of the face size stand out against their surroundings."""
DETAIL_SIGMA = 0.008
"""Fine detail is what a blur over this fraction of the face size removes."""
ASYMMETRY_FLOOR_L = 2.0
"""Detail differences below this (8-bit lightness) never count as an occluder."""
EDGE_BAND = 0.05
EDGE_GROW = 0.03
"""Occluders within EDGE_BAND of the face's outline (fractions of the face size) grow EDGE_GROW more there."""
CLOSE_RADIUS = 0.02
GROW_RADIUS = 0.015
"""Occluder blobs are closed over gaps of twice CLOSE_RADIUS and grown GROW_RADIUS (fractions of the face
size) over their soft edges."""
LARGE_BLOB = 0.01
LARGE_GROW = 0.03
SOLID_RADIUS = 0.035
"""Skin-coloured occluder blobs (a hand) over LARGE_BLOB of the face's area and SOLID_RADIUS thick grow
LARGE_GROW of the face size more: their soft shadows and edges (a finger's rim, a nail) would otherwise
stay as streaks. Hair and glasses, found by colour and darkness, are found well by the ordinary growth."""
EYE_ZONE = 0.15
"""Around the eyes (this fraction of the face size from the eye openings) that extra growth, and the
filling of thin strips, stop: the skin there carries much of a likeness."""
SLIVER_RADIUS = 0.025
SLIVER_MAX_AREA = 0.006
"""Pieces of clear skin under SLIVER_MAX_AREA of the face's area and narrower than twice SLIVER_RADIUS
of the face size (strips left between two filled parts) are filled too."""
MIRROR_MARGIN = 0.02
"""Filling from the mirrored side fades out within this fraction of the face size of where the mirror
place stops being clear (so an occluder's rim there is not copied over)."""
NOSE_BLOB_MARGIN = 0.03
"""Small blobs within this fraction of the face size of the nose are kept as features (see find_occluders)."""
SHADING_SIGMA = 0.04
"""Fills take their shading from the surroundings smoothed over this fraction of the face size."""
NORMAL_SMOOTHING = 0.02
"""The face's normals are smoothed over this fraction of the face size (the layout's triangles are flat)."""
LIGHT_MIN_PIXELS = 500
"""The photo's light is fitted only on at least this many clear skin pixels."""
LIGHT_REACH = 0.5
"""The fitted light reaches this far (fraction of the clear skin's range) beyond the clear skin's values."""
SHADOW_KNEE = 0.8
SHADOW_LIFT = 0.7
SHADOW_SIGMA = 0.06
"""``lift_shadows``: where the skin's lightness, smoothed over ``SHADOW_SIGMA`` of the face, falls below
``SHADOW_KNEE`` of the face middle's (in ``L + 16``, proportional to the cube root of the light), that
shortfall is made ``SHADOW_LIFT`` smaller."""
SHADOW_MAX_GAIN = 2.0
"""No lift multiplies the light by more than this: skin nearly black in the photo is mostly noise."""
EVEN_LIGHT_SIGMA = 0.04
"""``even_light``: the photo's light is read from the skin smoothed over this fraction of the face size: broad
enough to leave pores, moles and stubble out, fine enough to hold a side light's shade under the cheekbone and
beside the nose."""
EVEN_LIGHT_MAX_GAIN = 2.0
"""``even_light`` never multiplies or divides the light by more than this."""
EVEN_LIGHT_MIN_PIXELS = 100
"""``even_light`` reads the light from at least this many pixels that are skin on both sides."""
SHADOW_MIN_PIXELS = 100
"""The face middle's light, the lift's reference, is read from at least this many clear skin pixels."""
FOREHEAD_CLEAR_MAX = 0.2
"""A source's forehead counts as clear (the compositor's ``auto`` forehead swaps it) when at most this
fraction of its middle is covered. d30.jpg 0.09 (hair only at the temples), d8.jpg 0.56 (a fringe down to
his glasses)."""
_NOTE_MIN_FRACTION = 0.01
"""Fractions below this are not worth telling the user."""


@dataclass(frozen=True, slots=True)
class SourceSettings:
    """How the source photo becomes a texture.

    max_face_px: the texture's face size cap (larger photos are scaled down, smaller ones kept).
    skin_threshold: a pixel whose chroma (LAB a, b) is further than this many robust spreads from the
        skin's is not skin.
    dip_threshold: a pixel this much darker than its surroundings (fraction of their lightness) is a
        thin dark occluder.
    asymmetry_ratio: a place with this many times the fine detail of its mirror place is covered.
    dark_fraction: a pixel darker than this fraction of the darkest central skin is not skin (hair, a
        deep shadow); 0 turns the test off.
    feature_margin: how far around eyes, brows, lips and nostrils (fraction of the face size) colour
        outliers are expected and not called occluders.
    min_blob: occluder blobs smaller than this fraction of the face area are ignored (pores, moles).
    clean: find what covers the skin and fill it (the default); False keeps the photo as it is, glasses,
        a fringe or a hand included (only the skin the photo does not show, a turned head's far side, is
        filled). dlib counts glasses and a fringe as part of a likeness: kept, d8.jpg (glasses, fringe)
        scores 0.54 instead of 0.65 onto d10.mp4 (whole clip, 2026-11-27), but the frames bend with the
        mesh as the head turns.
    glasses: with ``clean``, glasses found around the eyes are filled in the texture like any occluder
        but kept as a layer of their own, which the swapper draws rigidly (``glasses.py``): a closer
        likeness, without frames that bend with the face. False leaves them off.
    read_lips: the outer lip contour is unwrapped from where clearly coloured lips end in the photo
        (``lip_outline.py``), not from the mesh's contour inside them.
    lift_shadows: the photo's deep broad shadows are lifted part of the way (``lift_shadows``).
    even_light: how far the photo's light is made left-right symmetric (``even_light``; 0 = not at all, 1 =
        a side light's shaded half and its colour cast brought to the mean of the two sides). Off by
        default: by eye d8.jpg (lit hard from one side) no longer sits two-toned and muddy on d10.mp4, but
        dlib, which compares the swap with that side-lit photo, finds it further away: identity d10 0.571
        -> 0.609 at 1 and 0.579 at 0.5, d20 0.486 -> 0.504 / 0.509, and d30.jpg's pairs 0.01 worse at 1
        (s18 0.445 -> 0.455; whole clips, 2026-11-28).
    """

    max_face_px: int = 512
    skin_threshold: float = 5.0
    dip_threshold: float = 0.25
    asymmetry_ratio: float = 2.5
    dark_fraction: float = 0.7
    feature_margin: float = 0.025
    min_blob: float = 0.0005
    clean: bool = True
    glasses: bool = True
    read_lips: bool = True
    lift_shadows: bool = True
    even_light: float = 0.0

    def __post_init__(self) -> None:
        if self.max_face_px < 64:
            raise ValueError(f"max_face_px must be at least 64, got {self.max_face_px}")
        for name in ("skin_threshold", "dip_threshold", "asymmetry_ratio"):
            if getattr(self, name) <= 0.0:
                raise ValueError(f"{name} must be above 0, got {getattr(self, name)}")
        if not 0.0 <= self.dark_fraction < 1.0:
            raise ValueError(f"dark_fraction must be in [0, 1), got {self.dark_fraction}")
        if not 0.0 <= self.even_light <= 1.0:
            raise ValueError(f"even_light must be in [0, 1], got {self.even_light}")
        if not 0.0 <= self.feature_margin <= 0.2:
            raise ValueError(f"feature_margin must be in [0, 0.2], got {self.feature_margin}")


@dataclass(frozen=True, slots=True)
class SkinModel:
    """What this face's skin looks like, learned from its central skin (OpenCV's 8-bit LAB scale).

    chroma_center, chroma_spread: robust centre and spread of a, b.
    darkest_l: lightness below which no skin goes: a fraction of the darkest central skin's.
    """

    chroma_center: FloatArray
    chroma_spread: FloatArray
    darkest_l: float

    def chroma_distance(self, lab: FloatArray) -> FloatArray:
        """Per pixel, the larger a, b deviation from the skin's, in spreads."""
        out: FloatArray = (np.abs(lab[..., 1:] - self.chroma_center) / self.chroma_spread).max(axis=-1)
        return out


@dataclass(frozen=True, slots=True)
class OcclusionReport:
    """Fractions of the face's skin (inside the outline, eyes, brows, lips and nostrils left out).

    covered: found covered by something; unseen: turned away from the camera; filled from the mirrored
    side or from the surrounding skin (covered and unseen together); regions: the parts over a tenth
    covered ("the temples" where the forehead is covered only at its sides). forehead_covered: the fraction
    of the forehead's middle (above the brows, the middle half of the texture's width) found covered: a
    fringe; hair down the temples, which most faces have, is not in it.
    None when nothing was looked for (cleaning off: a fringe stays in the texture unseen).
    """

    covered: float
    unseen: float
    from_mirror: float
    from_surroundings: float
    regions: tuple[str, ...]
    forehead_covered: float | None

    @property
    def forehead_clear(self) -> bool:
        """The forehead's middle was looked at and is skin: no fringe (see ``FOREHEAD_CLEAR_MAX``)."""
        return self.forehead_covered is not None and self.forehead_covered <= FOREHEAD_CLEAR_MAX


@dataclass(frozen=True, slots=True)
class PreparedSource:
    """The source face unwrapped into a frontal texture, ready to warp.

    texture_bgra: H x W x 4 uint8; BGR with hidden skin filled, alpha 255 inside the face outline.
    uv_478: float32 (478, 2), where each landmark sits in the texture (iris points at the eye centres).
    hidden: H x W float32 in [0, 1], what was filled (covered or unseen).
    report: what was found and filled.
    glasses: the source's glasses as a layer of their own, when found and kept (``SourceSettings.glasses``).
    """

    texture_bgra: Image
    uv_478: FloatArray
    hidden: Mask
    report: OcclusionReport
    glasses: GlassesLayer | None = None

    @property
    def notes(self) -> tuple[str, ...]:
        notes = occlusion_notes(self.report)
        if self.glasses is not None:
            notes += (
                "source photo: glasses found; they are drawn over the swapped face without bending "
                "(turn the glasses option off to leave them out).",
            )
        return notes


@dataclass(frozen=True, slots=True)
class _Regions:
    """Masks of the texture that depend only on the layout (and the texture size)."""

    face: BoolImage
    """Inside the face outline, where triangles were drawn (the mouth opening left out)."""
    features: BoolImage
    central: BoolImage
    nose: BoolImage
    """The nose, whose sides are lit unevenly by nearly any light: no mirror comparisons there."""
    lips: BoolImage
    nostrils: BoolImage
    """Around the nostrils and the nose's base (grown by the feature margin)."""
    eyes: BoolImage
    """Around the eye openings (grown by EYE_ZONE of the face size): the skin there carries much of a
    likeness, so large occluders grow no further here and thin clear strips are kept."""
    mouth_gap: BoolImage
    """Between the lips (the mouth opening is not part of the texture): filled from the lips."""


def load_source(path: Path | str, analyzer: FaceAnalyzer) -> SourceIdentity:
    """Read a source photo and pick its face (the largest when several, and say so). What covers its skin
    is the mesh swapper's business (``prepare_source``, noted when the swapper prepares).

    Raises NoFaceError naming the file when no face is found.
    """
    path = Path(path)
    image_bgr = read_image(path)
    faces = analyzer.analyze(image_bgr)
    if not faces:
        raise NoFaceError(f"source photo '{path.name}'")
    face = max(faces, key=lambda f: f.area_px)
    notes: list[str] = []
    if len(faces) > 1:
        notes.append(f"{len(faces)} faces in the source photo '{path.name}'; using the largest.")
    return SourceIdentity(image_bgr=image_bgr, face=face, path=path, notes=tuple(notes))


def prepare_source(
    image_bgr: Frame, face: Face, topology: MeshTopology, settings: SourceSettings = SourceSettings()
) -> PreparedSource:
    """Unwrap the face into a texture, find what hides its skin and fill it (see the module docstring)."""
    face_px = min(float(settings.max_face_px), face.size_px * TEXTURE_OVERSAMPLE)
    uv, size_wh = texture_layout(topology, face_px)
    photo = read_lips(image_bgr, face.landmarks_478) if settings.read_lips else image_bgr
    texture_bgr, seen, drawn = unwrap(photo, face.landmarks_478, uv, size_wh, topology)
    regions = _regions(uv, topology, drawn, settings.feature_margin * face_px, face_px)
    skin_area = regions.face & ~regions.features
    lab = cv2.cvtColor(texture_bgr, cv2.COLOR_BGR2LAB).astype(np.float32)
    model = fit_skin_model(lab, regions.central & ~regions.features & seen, settings.dark_fraction)
    both_seen = seen & seen[:, ::-1] & ~regions.nose
    busier = busier_than_mirror(lab[..., 0], face_px, settings) & both_seen
    covered = (
        find_occluders(
            lab, model, regions.face, skin_area & seen, busier, settings, face_px, regions.nose, regions.eyes
        )
        if settings.clean
        else np.zeros_like(regions.face)
    )
    glasses = (
        find_glasses(texture_bgr, lab[..., 0], covered, uv, drawn, face_px)
        if settings.clean and settings.glasses
        else None
    )
    if glasses is not None:  # what the layer draws over is filled in the texture, not drawn twice
        covered = covered | glasses.covers(covered.shape[:2]) & regions.face
    # Slivers of the lips and nostrils turned from the camera (the mesh folds there) keep the photo's
    # pixels: filled from the mirrored side they showed as a dark spot beside the nostril, white dashes
    # along the lips.
    unseen = regions.face & ~seen & ~regions.lips & ~regions.nostrils
    hidden = covered | unseen
    if settings.clean:
        hidden |= thin_clear_strips(regions.face & ~hidden, face_px) & skin_area & ~regions.eyes
    mirror_ok = (regions.face & ~hidden)[:, ::-1]
    light = fitted_light(texture_bgr, normal_map(topology, uv, size_wh, face_px), skin_area & ~hidden)
    filled = fill_hidden(texture_bgr, hidden, mirror_ok, regions, skin_area, face_px, light)
    evening = even_light(filled, skin_area, face_px, settings.even_light) if settings.even_light > 0 else None
    if evening is not None:  # the glasses' layer holds the photo's pixels too: evened with the texture
        filled = evening.apply(filled)
        if glasses is not None:
            bgr = evening.apply(np.ascontiguousarray(glasses.bgra[..., :3]), glasses.origin)
            glasses = replace(glasses, bgra=np.ascontiguousarray(np.dstack([bgr, glasses.bgra[..., 3]])))
    if settings.lift_shadows:
        filled = lift_shadows(filled, skin_area, regions.central & skin_area & ~hidden, face_px)
    alpha = regions.face.astype(np.uint8) * 255
    texture_bgra = np.ascontiguousarray(np.dstack([filled, alpha]))
    report = _report(covered, unseen, mirror_ok, skin_area, uv, searched=settings.clean)
    return PreparedSource(texture_bgra, uv, hidden.astype(np.float32), report, glasses)


def texture_layout(topology: MeshTopology, face_px: float) -> tuple[FloatArray, tuple[int, int]]:
    """Where the 478 landmarks sit in the unwrapped texture, and its size (width, height).

    The layout's x is unrolled around a cylinder (x -> r asin(x / r)), so the face's sides get texture
    space in proportion to their surface; the face is centred, so x -> width - 1 - x is its mirror.
    """
    layout = topology.layout_468.astype(np.float64)
    radius = UNROLL_RADIUS * float(np.abs(layout[:, 0]).max())
    unrolled = np.stack([radius * np.arcsin(layout[:, 0] / radius), layout[:, 1]], axis=1)
    extent = unrolled.max(axis=0) - unrolled.min(axis=0)
    scale = face_px / float(extent.max())
    margin = TEXTURE_MARGIN * face_px + 2.0
    half_width = float(np.abs(unrolled[:, 0]).max()) * scale + margin
    width = 2 * int(np.ceil(half_width)) + 1
    height = int(np.ceil(extent[1] * scale + 2 * margin)) + 1
    uv = np.empty((LANDMARK_POINTS, 2), dtype=np.float64)
    uv[:MESH_POINTS, 0] = (width - 1) / 2 + unrolled[:, 0] * scale
    uv[:MESH_POINTS, 1] = margin + (unrolled[:, 1] - unrolled[:, 1].min()) * scale
    for centre, lids in zip(EYE_CENTERS, (RIGHT_EYELIDS, LEFT_EYELIDS), strict=True):
        uv[centre : centre + 5] = uv[list(lids)].mean(axis=0)  # iris points at the eye's centre
    return uv.astype(np.float32), (width, height)


def unwrap(
    image_bgr: Frame,
    landmarks_478: FloatArray,
    uv: FloatArray,
    size_wh: tuple[int, int],
    topology: MeshTopology,
) -> tuple[Image, BoolImage, BoolImage]:
    """The photo's face warped into the texture, where the photo showed it well (seen), and where any
    triangle was drawn (the face without the mouth opening)."""
    xy = landmarks_478[:, :2].astype(np.float32)
    scale = float(np.ptp(uv[:MESH_POINTS], axis=0).max()) / max(
        float(np.ptp(xy[:MESH_POINTS], axis=0).max()), 1.0
    )
    if scale < 0.5:  # shrink the photo first so the warp does not alias
        image_bgr, xy = _shrunk(image_bgr, xy, scale * 1.5)
    triangles = np.concatenate([topology.eye_triangles, topology.face_triangles])
    result = PiecewiseAffineWarper().warp(image_bgr, xy[triangles], uv[triangles], None, size_wh)
    normals = triangle_normals(topology.layout_468, topology.face_triangles)
    facing = facing_camera(normals, topology.layout_468, landmarks_478, stable_points(topology.layout_468))
    ratio = facing / np.maximum(normals[:, 2], 1e-3)  # how much less it faces the camera than when frontal
    ids = result.triangle_ids - len(topology.eye_triangles)
    seen_triangle = np.append(ratio >= SEEN_FACING, True)  # index -1 (outside): not hidden by a turn
    seen: BoolImage = seen_triangle[np.where(ids >= 0, ids, -1)]
    return np.ascontiguousarray(result.image), seen, result.triangle_ids >= 0


def _shrunk(image_bgr: Frame, xy: FloatArray, scale: float) -> tuple[Frame, FloatArray]:
    height, width = image_bgr.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = cv2.resize(image_bgr, size, interpolation=cv2.INTER_AREA)
    sx, sy = size[0] / width, size[1] / height
    moved = np.stack([(xy[:, 0] + 0.5) * sx - 0.5, (xy[:, 1] + 0.5) * sy - 0.5], axis=1)
    return np.asarray(small, dtype=np.uint8), moved.astype(np.float32)


def polygon_mask(points_xy: npt.ArrayLike, size_hw: tuple[int, int]) -> BoolImage:
    """A filled polygon as a boolean image."""
    canvas = np.zeros(size_hw, dtype=np.uint8)
    fixed = np.round(np.asarray(points_xy, dtype=np.float64)[:, :2] * 16).astype(np.int32)
    cv2.fillPoly(canvas, [fixed], 1, cv2.LINE_8, 4)
    return canvas.astype(bool)


def triangles_mask(
    points_xy: FloatArray, triangles: npt.NDArray[np.int32], size_hw: tuple[int, int]
) -> BoolImage:
    """Where any of the triangles lies."""
    canvas = np.zeros(size_hw, dtype=np.uint8)
    for corners in np.round(points_xy[triangles, :2] * 16).astype(np.int32):
        cv2.fillConvexPoly(canvas, corners, 1, cv2.LINE_8, 4)
    return canvas.astype(bool)


def _regions(
    uv: FloatArray, topology: MeshTopology, drawn: BoolImage, margin_px: float, face_px: float
) -> _Regions:
    size_hw = (drawn.shape[0], drawn.shape[1])
    layout = topology.layout_468
    lips_outline = polygon_mask(uv[list(LIPS_OUTER)], size_hw)
    features = lips_outline.copy()
    cx, cy, rx, ry = NOSTRIL_REGION
    near = ((layout[:, 0] - cx) / rx) ** 2 + ((layout[:, 1] - cy) / ry) ** 2 < 1.0
    nose_base = uv[np.flatnonzero(near)].astype(np.float32)
    nostrils = polygon_mask(cv2.convexHull(nose_base).reshape(-1, 2), size_hw)
    features |= nostrils
    openings = np.zeros(size_hw, dtype=bool)
    for loop in (RIGHT_EYELIDS, LEFT_EYELIDS):
        openings |= polygon_mask(uv[list(loop)], size_hw)
    grow = disc(max(1, round(margin_px)))
    features = cv2.dilate((features | openings).astype(np.uint8), grow).astype(bool)
    brows = polygon_mask(uv[list(RIGHT_BROW)], size_hw) | polygon_mask(uv[list(LEFT_BROW)], size_hw)
    features |= cv2.dilate(brows.astype(np.uint8), disc(max(1, round(BROW_MARGIN * margin_px)))).astype(bool)
    triangles = topology.face_triangles
    centres = layout[triangles].mean(axis=1)
    x_max, y_min, y_max = CENTRAL_REGION
    chosen = triangles[(np.abs(centres[:, 0]) < x_max) & (centres[:, 1] > y_min) & (centres[:, 1] < y_max)]
    face = polygon_mask(uv[list(FACE_OVAL)], size_hw) & drawn
    x_half, y_top, y_bottom = NOSE_REGION
    on_nose = (np.abs(layout[:, 0]) < x_half) & (layout[:, 1] > y_top) & (layout[:, 1] < y_bottom)
    nose = polygon_mask(cv2.convexHull(uv[np.flatnonzero(on_nose)]).reshape(-1, 2), size_hw)
    central = triangles_mask(uv, chosen, size_hw)
    return _Regions(
        face=face,
        features=features,
        central=central,
        nose=nose,
        lips=lips_outline & drawn,
        nostrils=cv2.dilate(nostrils.astype(np.uint8), grow).astype(bool),
        eyes=cv2.dilate(openings.astype(np.uint8), disc(max(1, round(EYE_ZONE * face_px)))).astype(bool),
        mouth_gap=lips_outline & ~drawn,
    )


def fit_skin_model(lab: FloatArray, central: BoolImage, dark_fraction: float = 0.7) -> SkinModel:
    """Learn the skin's colour from the central skin (robust to a fifth of it being something else)."""
    samples = lab[central]
    if samples.shape[0] < 16:
        raise ValueError("too little skin to learn its colour (is the face very small?)")
    chroma = samples[:, 1:]
    center = np.median(chroma, axis=0)
    spread = np.maximum(1.4826 * np.median(np.abs(chroma - center), axis=0), MIN_CHROMA_SPREAD)
    skin_like = (np.abs(chroma - center) / spread).max(axis=1) < 2.5
    lightness = samples[skin_like, 0] if skin_like.sum() >= 16 else samples[:, 0]
    darkest = float(np.percentile(lightness, 2.0)) * dark_fraction
    return SkinModel(center.astype(np.float32), spread.astype(np.float32), darkest)


def relative_dip(lightness: FloatArray, face_px: float) -> FloatArray:
    """How much darker each pixel is than its surroundings, as a fraction of their lightness: thin dark
    things (glasses frames, hair strands, the shadow at a finger's edge, deep creases)."""
    return relative_line_contrast(lightness, BLACK_HAT_SIZE * face_px, darker=True)


def detail_energy(lightness: FloatArray, face_px: float) -> FloatArray:
    """Local amount of fine detail (edges, texture): smoothed magnitude of the high-pass lightness."""
    fine = np.abs(lightness - low_pass(lightness, max(0.8, DETAIL_SIGMA * face_px)))
    return low_pass(fine, max(1.0, 2 * DETAIL_SIGMA * face_px))


def busier_than_mirror(lightness: FloatArray, face_px: float, settings: SourceSettings) -> BoolImage:
    """Where this side of the face has far more fine detail than the mirrored side: fingers, strands of
    hair or jewellery over one cheek while the other cheek is smooth skin."""
    own = detail_energy(lightness, face_px)
    mirrored = own[:, ::-1]
    out: BoolImage = own > settings.asymmetry_ratio * mirrored + ASYMMETRY_FLOOR_L
    return out


def not_skin(lab: FloatArray, model: SkinModel, settings: SourceSettings, face_px: float) -> BoolImage:
    """Pixels of the wrong chroma, darker than any skin, or much darker than their surroundings."""
    raw = model.chroma_distance(lab) > settings.skin_threshold
    raw |= lab[..., 0] < model.darkest_l
    raw |= relative_dip(lab[..., 0], face_px) > settings.dip_threshold
    return raw


def find_occluders(
    lab: FloatArray,
    model: SkinModel,
    face: BoolImage,
    skin_area: BoolImage,
    busier: BoolImage,
    settings: SourceSettings,
    face_px: float,
    nose: BoolImage | None = None,
    eyes: BoolImage | None = None,
) -> BoolImage:
    """Skin-area pixels that are not skin (see the module docstring); specks dropped, blobs closed and
    grown over their soft edges, further where they come in over the face's outline (hair and hands
    bring shadows and stray strands along) or are large and skin-coloured (a hand: its rim, nails and
    shadow are hard to find and stay as streaks). Small blobs lying on the ``nose``
    (its side and the shadows around the nostrils, which light and pose make uneven) are features,
    not occluders: filled from the mirrored side they became a dark spot beside the nostril. The extra
    growth of large blobs stops at ``eyes`` (the skin around the eyes carries much of a likeness)."""
    raw = (not_skin(lab, model, settings, face_px) | busier) & skin_area
    count, labels, stats, _ = cv2.connectedComponentsWithStats(raw.astype(np.uint8), connectivity=8)
    keep = np.zeros(count, dtype=bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= settings.min_blob * face_px * face_px
    if nose is not None:
        keep &= ~_small_blobs_inside(np.asarray(labels), np.asarray(stats), nose, face_px)
    blobs = keep[labels].astype(np.uint8)
    closed = cv2.morphologyEx(blobs, cv2.MORPH_CLOSE, disc(max(1, round(face_px * CLOSE_RADIUS))))
    grown = np.asarray(cv2.dilate(closed, disc(max(1, round(face_px * GROW_RADIUS)))), dtype=bool)
    skin_blobs = _skin_coloured(np.asarray(labels, dtype=np.int32), lab, model, settings)
    extra = _grown_large_blobs(blobs * skin_blobs[labels], face_px)
    grown |= extra if eyes is None else extra & ~eyes
    inner = np.asarray(cv2.erode(face.astype(np.uint8), disc(max(1, round(face_px * EDGE_BAND)))), dtype=bool)
    near_edge = (grown & ~inner).astype(np.uint8)
    from_edge = np.asarray(cv2.dilate(near_edge, disc(max(1, round(face_px * EDGE_GROW)))), dtype=bool)
    out: BoolImage = (grown | from_edge) & skin_area
    return out


def thin_clear_strips(clear: BoolImage, face_px: float) -> BoolImage:
    """Small pieces (under SLIVER_MAX_AREA of the face's area) of clear skin narrower than twice
    SLIVER_RADIUS of the face size: strips left between two filled parts, such as a finger's shadowed rim
    between a hand and the hair. Kept, they showed as streaks; larger clear parts stay, however narrow."""
    radius = max(1, round(SLIVER_RADIUS * face_px))
    opened = np.asarray(cv2.morphologyEx(clear.astype(np.uint8), cv2.MORPH_OPEN, disc(radius)), dtype=bool)
    thin = (clear & ~opened).astype(np.uint8)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(thin, connectivity=8)
    small = stats[:, cv2.CC_STAT_AREA] < SLIVER_MAX_AREA * face_px * face_px
    small[0] = False
    out: BoolImage = small[labels]
    return out


def _small_blobs_inside(
    labels: npt.NDArray[np.int32], stats: npt.NDArray[np.int32], region: BoolImage, face_px: float
) -> npt.NDArray[np.bool_]:
    """Per blob label, whether it is small (under LARGE_BLOB of the face's area) and lies wholly in
    ``region`` grown by NOSE_BLOB_MARGIN of the face size."""
    count = stats.shape[0]
    grown = cv2.dilate(region.astype(np.uint8), disc(max(1, round(NOSE_BLOB_MARGIN * face_px))))
    outside = np.bincount(labels[grown == 0].ravel(), minlength=count)
    small = stats[:, cv2.CC_STAT_AREA] < LARGE_BLOB * face_px * face_px
    inside: npt.NDArray[np.bool_] = small & (outside == 0)
    inside[0] = False
    return inside


def _skin_coloured(
    labels: npt.NDArray[np.int32], lab: FloatArray, model: SkinModel, settings: SourceSettings
) -> npt.NDArray[np.uint8]:
    """Per blob label, 1 where the blob is skin-coloured on average (a hand, not hair or a frame)."""
    flat = np.asarray(labels, dtype=np.intp).ravel()
    count = int(flat.max()) + 1
    area = np.maximum(np.bincount(flat, minlength=count), 1)
    chroma = np.bincount(flat, model.chroma_distance(lab).ravel(), minlength=count) / area
    lightness = np.bincount(flat, lab[..., 0].ravel(), minlength=count) / area
    skin = (chroma < settings.skin_threshold) & (lightness >= model.darkest_l)
    return skin.astype(np.uint8)


def _grown_large_blobs(blobs: npt.NDArray[np.uint8], face_px: float) -> BoolImage:
    """Solid blobs (at least LARGE_BLOB of the face's area and SOLID_RADIUS thick somewhere: a hand, not
    a glasses frame), grown LARGE_GROW of the face size further than the ordinary GROW_RADIUS."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(blobs, connectivity=8)
    depth = np.asarray(cv2.distanceTransform(blobs, cv2.DIST_L2, 3), dtype=np.float32)
    thickest = np.zeros(count, dtype=np.float32)
    np.maximum.at(thickest, np.asarray(labels, dtype=np.intp).ravel(), depth.ravel())
    large = np.zeros(count, dtype=bool)
    large[1:] = (stats[1:, cv2.CC_STAT_AREA] >= LARGE_BLOB * face_px * face_px) & (
        thickest[1:] >= SOLID_RADIUS * face_px
    )
    if not large.any():
        return np.zeros(blobs.shape, dtype=bool)
    grow = max(1, round((LARGE_GROW + GROW_RADIUS) * face_px))  # their ordinary growth and the extra
    grown = cv2.dilate(large[labels].astype(np.uint8), disc(grow))
    return np.asarray(grown, dtype=bool)


def push_pull_fill(values: FloatArray, known: BoolImage) -> FloatArray:
    """``values`` (H x W x C) where ``known``; elsewhere a smooth continuation from the known pixels
    (push-pull: weighted averages down an image pyramid, blended back up), for holes of any size."""
    channels = values.shape[2]
    weight = known.astype(np.float32)
    data = values.astype(np.float32) * weight[..., np.newaxis]
    levels = [(data, weight)]
    while min(levels[-1][1].shape) > 4:
        weight = np.asarray(cv2.pyrDown(weight), dtype=np.float32)
        data = np.asarray(cv2.pyrDown(data), dtype=np.float32).reshape(
            weight.shape[0], weight.shape[1], channels
        )
        levels.append((data, weight))
    top_data, top_weight = levels[-1]
    mean = top_data.reshape(-1, channels).sum(axis=0) / max(float(top_weight.sum()), 1e-6)
    result = np.broadcast_to(mean, top_data.shape).astype(np.float32)
    for data, weight in reversed(levels[:-1]):
        size_wh = (weight.shape[1], weight.shape[0])
        coarse = cv2.pyrUp(result, dstsize=size_wh).reshape(data.shape)
        confidence = np.minimum(weight * 4.0, 1.0)[..., np.newaxis]
        own = data / np.maximum(weight, 1e-6)[..., np.newaxis]
        result = confidence * own + (1.0 - confidence) * coarse
    out: FloatArray = np.where(known[..., np.newaxis], values.astype(np.float32), result)
    return out


def low_pass(image: FloatArray, sigma_px: float) -> FloatArray:
    """Gaussian blur keeping the array's shape."""
    blurred = cv2.GaussianBlur(image, (0, 0), sigma_px, borderType=cv2.BORDER_REPLICATE)
    out: FloatArray = np.asarray(blurred, dtype=np.float32).reshape(image.shape)
    return out


def fill_hidden(
    texture_bgr: Image,
    hidden: BoolImage,
    mirror_ok: BoolImage,
    regions: _Regions,
    skin: BoolImage,
    face_px: float,
    light: FloatArray | None = None,
) -> Image:
    """Hidden skin (and everything outside the face) replaced, seams feathered.

    Where the mirrored side is clear, its detail is laid over the shading of the surrounding skin;
    elsewhere the surrounding skin's smooth continuation is used (eyes, brows and lips do not bleed in).
    With ``light`` (the photo's light on the face's shape, ``fitted_light``), the continuation is of the
    skin's departure from it, and the light is added back: a cheek hidden under hair gets the shading
    its turn from the camera gives it, not the flat colour of the skin beside it.
    The gap between the lips is filled from the lips, so lips stretched open keep their colour; the lips
    beside it take that fill too where the seam's feathering reaches them (their own pixels, as the lips
    are never hidden).
    """
    face = regions.face
    source = texture_bgr.astype(np.float32)
    mirror = np.ascontiguousarray(source[:, ::-1])
    clear = skin & ~hidden
    sigma = max(1.5, SHADING_SIGMA * face_px)
    if light is None:
        light = np.zeros_like(source)
    mirror_light = np.ascontiguousarray(light[:, ::-1])
    shading = low_pass(push_pull_fill(source - light, clear), sigma) + light
    mirror_shading = low_pass(push_pull_fill(mirror - mirror_light, clear[:, ::-1]), sigma) + mirror_light
    from_mirror = mirror - mirror_shading + shading
    weight = mirror_weight(mirror_ok, face_px)[..., np.newaxis]
    replacement: FloatArray = shading + weight * (from_mirror - shading)
    lips = push_pull_fill(source, regions.lips)
    # The lips themselves too: the seam's feathering below reaches a pixel or two into them from the gap,
    # and a skin replacement there drew a pale rim around the mouth opening.
    replacement = np.where((regions.mouth_gap | regions.lips)[..., np.newaxis], lips, replacement)
    replaced = hidden | ~face
    soft = cv2.GaussianBlur(replaced.astype(np.float32), (0, 0), max(1.0, 0.006 * face_px))
    soft = np.maximum(soft, replaced.astype(np.float32))[..., np.newaxis]
    blended = source + soft * (replacement - source)
    out: Image = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
    return out


@dataclass(frozen=True, slots=True)
class LightCorrection:
    """A change of light over the texture: ``L + LIGHTNESS_OFFSET`` times ``gain`` (H x W), a and b plus
    ``shift`` (H x W x 2)."""

    gain: FloatArray
    shift: FloatArray

    def apply(self, image_bgr: Image, origin: tuple[int, int] = (0, 0)) -> Image:
        """``image_bgr`` with the change applied, the image's top-left pixel at ``origin`` (x, y, not
        negative) of the texture. Parts outside the texture, and wherever the change is none, come back as
        they were: the work is done in float LAB (in 8-bit LAB's units), not through 8-bit LAB's rounding."""
        if min(origin) < 0:
            raise ValueError(f"origin must not be negative, got {origin}")
        height, width = image_bgr.shape[:2]
        gain = np.ones((height, width), dtype=np.float32)
        shift = np.zeros((height, width, 2), dtype=np.float32)
        x0, y0 = origin
        x1, y1 = min(x0 + width, self.gain.shape[1]), min(y0 + height, self.gain.shape[0])
        if x1 > x0 and y1 > y0:
            gain[: y1 - y0, : x1 - x0] = self.gain[y0:y1, x0:x1]
            shift[: y1 - y0, : x1 - x0] = self.shift[y0:y1, x0:x1]
        unit_bgr = image_bgr.astype(np.float32) * np.float32(1.0 / 255.0)
        lab = np.asarray(cv2.cvtColor(unit_bgr, cv2.COLOR_BGR2Lab), dtype=np.float32)
        changed = lab.copy()
        level = lab[..., 0] * np.float32(2.55) + np.float32(LIGHTNESS_OFFSET)  # 8-bit L + offset
        changed[..., 0] = (level * gain - np.float32(LIGHTNESS_OFFSET)) * np.float32(1.0 / 2.55)
        changed[..., 1:] += shift  # a and b have the same units in float and 8-bit LAB
        # The change is added as a difference of two conversions back, so where it is none it is exactly
        # none (OpenCV's float LAB does not give every 8-bit value back to the level).
        delta = cv2.cvtColor(changed, cv2.COLOR_Lab2BGR) - cv2.cvtColor(lab, cv2.COLOR_Lab2BGR)
        out = image_bgr.astype(np.float32) + np.asarray(delta, dtype=np.float32) * np.float32(255.0)
        return np.clip(out + np.float32(0.5), 0.0, 255.0).astype(np.uint8)


def even_light(
    texture_bgr: Image, skin: BoolImage, face_px: float, strength: float = 1.0
) -> LightCorrection | None:
    """The change that makes the photo's light left-right symmetric over the texture (None: too little skin).

    The texture is the face's frontal layout, so ``x -> width - 1 - x`` is each place's mirror. The skin's
    light (a normalised blur over ``EVEN_LIGHT_SIGMA`` of the face, over skin that is skin on both sides) is
    taken to the geometric mean of its own and its mirror place's: lightness by a gain on ``L +
    LIGHTNESS_OFFSET`` (what a change of light multiplies), colour casts by a shift of a and b. What a light
    from the front gives both sides alike (the nose's and the cheekbones' relief) stays; what a light from
    one side adds goes. The colour transfer then lays the footage's own light over the face. Apply it to
    whatever is drawn from the texture's pixels (the glasses' layer too), or the two no longer match.

    A photo lit from one side kept its shade on every frame: d8.jpg's far cheek and the side of his nose
    about 100 levels of L darker than the near ones, which the footage's light plane only halved (the
    swapped face's half under it 50-77 levels darker than d10.mp4's own at 5.1 s).
    """
    both = (skin & skin[:, ::-1]).astype(np.float32)
    if float(both.sum()) < EVEN_LIGHT_MIN_PIXELS:
        return None
    lab = cv2.cvtColor(texture_bgr, cv2.COLOR_BGR2LAB).astype(np.float32)
    lab[..., 0] += np.float32(LIGHTNESS_OFFSET)
    low, support = masked_low_pass(lab, both, max(1.0, EVEN_LIGHT_SIGMA * face_px))
    mirrored = low[:, ::-1]
    trust = np.clip(support * np.float32(4.0), 0.0, 1.0)  # support is symmetric: so are the weights
    ratio = np.power(np.maximum(mirrored[..., 0], 1.0) / np.maximum(low[..., 0], 1.0), 0.5 * strength)
    gain = np.clip(ratio, 1.0 / EVEN_LIGHT_MAX_GAIN, EVEN_LIGHT_MAX_GAIN)
    gain = np.float32(1.0) + trust * (gain - np.float32(1.0))
    shift = trust[..., np.newaxis] * np.float32(0.5 * strength) * (mirrored[..., 1:] - low[..., 1:])
    return LightCorrection(gain.astype(np.float32), shift.astype(np.float32))


def lift_shadows(texture_bgr: Image, skin: BoolImage, middle: BoolImage, face_px: float) -> Image:
    """The texture with its deep broad shadows lifted part of the way (``SHADOW_KNEE``, ``SHADOW_LIFT``).

    The colour transfer lays the target's light over the face as a plane and a wide blur (the compositor's
    ``shading_sigma``), and keeps what is finer: the face's own relief, and with it whatever shadows the
    photo has at that scale. Hair hanging down both sides of d30.jpg's face shades the skin beside it (and
    the fill of the skin under the hair carries that shade on), 60-100 levels of L darker than her cheeks;
    on footage lit evenly those bands showed as dirty grey-brown patches down the swapped face's sides
    (s20.mp4, s29.mp4, d3.mp4 at 0.4 s). The face's relief (nose, cheek hollows, the sides' gentle turn
    away) stays above the knee and is left alone; the lift is a smooth gain on the lightness, features
    included.
    """
    if int(middle.sum()) < SHADOW_MIN_PIXELS:
        return texture_bgr
    lab = cv2.cvtColor(texture_bgr, cv2.COLOR_BGR2LAB)
    level = lab[..., 0].astype(np.float32) + np.float32(LIGHTNESS_OFFSET)
    low, support = masked_low_pass(level, skin.astype(np.float32), max(1.0, SHADOW_SIGMA * face_px))
    ratio = low / max(float(np.median(level[middle])), 1.0)
    lifted = np.where(ratio < SHADOW_KNEE, SHADOW_KNEE - (SHADOW_KNEE - ratio) * (1.0 - SHADOW_LIFT), ratio)
    trust = np.clip(support * 4.0, 0.0, 1.0)  # faded out where no skin is near (outside the face)
    gain = 1.0 + trust * (np.minimum(lifted / np.maximum(ratio, 1e-3), SHADOW_MAX_GAIN) - 1.0)
    lab[..., 0] = np.clip(level * gain - LIGHTNESS_OFFSET + 0.5, 0, 255).astype(np.uint8)
    out: Image = np.asarray(cv2.cvtColor(lab, cv2.COLOR_LAB2BGR), dtype=np.uint8)
    return out


def normal_map(
    topology: MeshTopology, uv: FloatArray, size_wh: tuple[int, int], face_px: float
) -> FloatArray:
    """The face surface's unit normal (``triangle_normals``' convention) at each texture pixel, from the
    layout's triangles (0 outside them), smoothed across the triangles' edges."""
    triangles = topology.face_triangles
    normals = triangle_normals(topology.layout_468, triangles)
    image = np.zeros((size_wh[1], size_wh[0], 3), dtype=np.float32)
    weight = np.zeros((size_wh[1], size_wh[0]), dtype=np.float32)
    corners = np.round(uv[:MESH_POINTS][triangles] * 16.0).astype(np.int32)
    for k in range(len(triangles)):
        normal = normals[k]
        cv2.fillConvexPoly(
            image, corners[k], (float(normal[0]), float(normal[1]), float(normal[2])), cv2.LINE_8, 4
        )
        cv2.fillConvexPoly(weight, corners[k], 1.0, cv2.LINE_8, 4)
    smooth, _ = masked_low_pass(image, weight, max(1.0, NORMAL_SMOOTHING * face_px))
    length = np.linalg.norm(smooth, axis=2, keepdims=True)
    unit = smooth / np.maximum(length, 1e-6)
    out: FloatArray = np.where(weight[..., np.newaxis] > 0, unit, 0.0).astype(np.float32)
    return out


def fitted_light(texture_bgr: Image, normals: FloatArray, clear_skin: BoolImage) -> FloatArray | None:
    """The photo's light on the face's shape: per channel, the least-squares fit ``a + b . normal`` to the
    clear skin (a first-order lighting model), drawn over the whole texture; None with too little skin to
    fit it. Albedo, blemishes and the light's finer detail stay out of it."""
    fitted = (clear_skin & (np.abs(normals).sum(axis=2) > 0)).ravel()
    if int(fitted.sum()) < LIGHT_MIN_PIXELS:
        return None
    flat = normals.reshape(-1, 3).astype(np.float64)
    design = np.column_stack([np.ones(len(flat)), flat])
    values = texture_bgr.reshape(-1, 3)[fitted].astype(np.float64)
    coefficients, *_ = np.linalg.lstsq(design[fitted], values, rcond=None)  # (4, 3)
    low, high = values.min(axis=0), values.max(axis=0)
    reach = LIGHT_REACH * (high - low)  # a hidden side may be darker than any clear skin
    low, high = low - reach, high + reach
    drawn = design @ coefficients
    out: FloatArray = np.clip(drawn, low, high).reshape(texture_bgr.shape).astype(np.float32)
    return out


def mirror_weight(mirror_ok: BoolImage, face_px: float) -> Mask:
    """How much of a hidden pixel comes from the mirrored side (the rest from the surrounding skin): none
    within MIRROR_MARGIN of the face size of where the mirror place stops being clear (the rim of an
    occluder there, its shadow, would be copied over as a streak), rising softly to all of it."""
    radius = max(1, round(MIRROR_MARGIN * face_px))
    inner = cv2.erode(mirror_ok.astype(np.uint8), disc(radius)).astype(np.float32)
    soft = cv2.GaussianBlur(inner, (0, 0), max(1.0, 0.5 * MIRROR_MARGIN * face_px))
    out: Mask = np.asarray(soft, dtype=np.float32) * mirror_ok.astype(np.float32)
    return out


def _report(
    covered: BoolImage,
    unseen: BoolImage,
    mirror_ok: BoolImage,
    skin_area: BoolImage,
    uv: FloatArray,
    searched: bool,
) -> OcclusionReport:
    total = max(int(skin_area.sum()), 1)
    hidden = (covered | unseen) & skin_area
    from_mirror = int((hidden & mirror_ok).sum())
    brow_y = float(uv[[*RIGHT_BROW, *LEFT_BROW], 1].mean())
    forehead = _forehead_covered(covered, skin_area, brow_y) if searched else None
    regions = _covered_regions(covered, skin_area, uv, brow_y)
    if forehead is not None and forehead <= FOREHEAD_CLEAR_MAX:  # hair at the temples, not a fringe
        regions = tuple("the temples" if name == "forehead" else name for name in regions)
    return OcclusionReport(
        covered=int((covered & skin_area).sum()) / total,
        unseen=int((unseen & skin_area & ~covered).sum()) / total,
        from_mirror=from_mirror / total,
        from_surroundings=(int(hidden.sum()) - from_mirror) / total,
        regions=regions,
        forehead_covered=forehead,
    )


def _forehead_covered(covered: BoolImage, skin_area: BoolImage, brow_y: float) -> float:
    """The covered fraction of the forehead's skin above the brows, within the middle half of the texture's
    width (1 when the texture shows no forehead skin there). ``brow_y``: the brows' row in the texture."""
    width = covered.shape[1]
    middle = (slice(0, max(int(brow_y), 0)), slice(width // 4, width - width // 4))
    skin = skin_area[middle]
    area = int(skin.sum())
    if area == 0:
        return 1.0
    return float((covered[middle] & skin).sum()) / area


def _covered_regions(
    covered: BoolImage, skin_area: BoolImage, uv: FloatArray, brow_y: float
) -> tuple[str, ...]:
    """Which parts of the face are covered: forehead, either cheek, chin (over a tenth of the part)."""
    mouth_y = float(uv[list(LIPS_OUTER), 1].mean())
    middle_x = (covered.shape[1] - 1) / 2
    ys, xs = np.mgrid[0 : covered.shape[0], 0 : covered.shape[1]]
    parts = {
        "forehead": ys < brow_y,
        "the subject's right cheek": (ys >= brow_y) & (ys < mouth_y) & (xs < middle_x),
        "the subject's left cheek": (ys >= brow_y) & (ys < mouth_y) & (xs > middle_x),
        "chin and jaw": ys >= mouth_y,
    }
    found = []
    for name, part in parts.items():
        area = int((part & skin_area).sum())
        if area and (covered & skin_area & part).sum() / area > 0.1:
            found.append(name)
    return tuple(found)


def occlusion_notes(report: OcclusionReport) -> tuple[str, ...]:
    """Plain sentences about what hid the source face's skin and how it was filled."""
    notes = []
    if report.covered >= _NOTE_MIN_FRACTION:
        where = f" ({', '.join(report.regions)})" if report.regions else ""
        notes.append(
            f"source photo: something covers {report.covered:.0%} of the face's skin{where}: hair, a hand, "
            "glasses or a shadow."
        )
    if report.unseen >= _NOTE_MIN_FRACTION:
        notes.append(
            f"source photo: the head is turned; {report.unseen:.0%} of the face's skin is out of view."
        )
    if notes:
        ways = []
        if report.from_mirror >= _NOTE_MIN_FRACTION / 2:
            ways.append(f"{report.from_mirror:.0%} from the mirrored side of the face")
        if report.from_surroundings >= _NOTE_MIN_FRACTION / 2:
            ways.append(f"{report.from_surroundings:.0%} from the surrounding skin")
        filled = f"Filled {' and '.join(ways)}. " if ways else ""
        notes.append(f"{filled}A clear, frontal photo gives a better swap.")
    if report.forehead_covered is not None and not report.forehead_clear:
        notes.append(
            f"source photo: hair covers {report.forehead_covered:.0%} of the forehead's middle, so by "
            "default the swapped face stops above the brows (--forehead swaps the forehead too)."
        )
    return tuple(notes)
