"""Source preparation: load the source photo, find skin and what covers it, fill what is hidden.

A source photo is not pasted verbatim: a hand on a cheek, a fringe over the forehead or glasses would
travel with the mesh onto every frame. So the face is cut out into a texture and:

1. a skin colour model (robust mean and spread in LAB) is learned from the face's own skin (inside the
   face oval, away from eyes, brows, lips and nostrils, which are legitimately not skin-coloured);
2. pixels inside the oval that stray far from it (and are not those features) are occluders: hair,
   fingers' shadows, glasses frames, jewellery;
3. occluded skin is filled from the mirrored side of the face when that side is clear (the mesh is
   symmetric, so the mirror image is a warp of the texture onto itself), with the shading of the
   surroundings; otherwise from the surrounding skin (a smooth fill);
4. the findings become plain sentences for the user (``SourceIdentity.notes``).

The texture keeps the photo's resolution up to ``SourceSettings.max_face_px``; its alpha is the face oval.
"""

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.errors import NoFaceError
from facecraft.faces.analyzer import FaceAnalyzer
from facecraft.faces.face import MESH_POINTS, Face
from facecraft.media.image import read_image
from facecraft.swap.base import SourceIdentity
from facecraft.swap.triangles import (
    FACE_OVAL,
    LEFT_BROW,
    LEFT_EYELIDS,
    LIPS_OUTER,
    RIGHT_BROW,
    RIGHT_EYELIDS,
    MeshTopology,
    load_topology,
)
from facecraft.swap.warp import PiecewiseAffineWarper
from facecraft.types import FloatArray, Frame, Mask

NOSTRIL_REGION = (0.0, 0.07, 0.23, 0.11)
CENTRAL_REGION = (0.5, -0.28, 0.25)
"""Layout triangles with |x| under the first value and y between the others are the central skin."""
MIN_CHROMA_SPREAD = (2.5, 2.5)
"""Chroma spreads are at least this (8-bit LAB units), so a very even skin does not make every pore odd."""
DARKEST_FRACTION = 0.7
"""Pixels darker than this fraction of the darkest central skin are not skin (hair, deep shadow)."""
DETAIL_SIGMA = 0.008
"""Fine detail is what a blur over this fraction of the face size removes."""
ASYMMETRY_FLOOR_L = 2.0
"""Detail differences below this (8-bit lightness) never count as an occluder."""
BLACK_HAT_SIZE = 0.05
"""Dark lines thinner than this fraction of the face size stand out to the black-hat filter."""
SHADING_SIGMA = 0.04
"""Fills take their shading from the surroundings smoothed over this fraction of the face size."""
"""Ellipse (centre x, y, half-width, half-height) in the layout around the nostrils and the nose base."""
_NOTE_MIN_FRACTION = 0.01
"""Occluded fractions below this are not worth telling the user."""

Image = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class SourceSettings:
    """How the source photo becomes a texture.

    max_face_px: the texture's face size cap (larger photos are scaled down, smaller ones kept).
    margin: texture border around the face box, as a fraction of the face size.
    skin_threshold: a pixel whose chroma (LAB a, b) is further than this many robust spreads from the
        skin's is not skin.
    dip_threshold: a pixel this much darker than its surroundings (fraction of their lightness) is a thin
        dark occluder.
    asymmetry_ratio: a place with this many times the fine detail of its mirror place is covered.
    feature_margin: how far around eyes, brows, lips and nostrils (fraction of the face size) colour
        outliers are expected and not called occluders.
    min_blob: occluder blobs smaller than this fraction of the face area are ignored (pores, moles).
    """

    max_face_px: int = 512
    margin: float = 0.12
    skin_threshold: float = 5.0
    dip_threshold: float = 0.2
    asymmetry_ratio: float = 2.5
    feature_margin: float = 0.025
    min_blob: float = 0.0005

    def __post_init__(self) -> None:
        if self.max_face_px < 64:
            raise ValueError(f"max_face_px must be at least 64, got {self.max_face_px}")
        if not 0.0 <= self.margin <= 1.0:
            raise ValueError(f"margin must be in [0, 1], got {self.margin}")
        if self.skin_threshold <= 0.0:
            raise ValueError(f"skin_threshold must be above 0, got {self.skin_threshold}")


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
    """Fractions of the face's skin area (inside the oval, features excluded)."""

    occluded: float
    from_mirror: float
    from_surroundings: float
    regions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PreparedSource:
    """The source face as a texture, ready to warp.

    texture_bgra: H x W x 4 uint8; BGR with occluders filled, alpha 255 inside the face oval.
    landmarks_478: the source's landmarks in texture pixels (x, y, z; z scaled like x).
    occluded: H x W float32 in [0, 1], where occluders were found (before filling).
    report: what was found and filled.
    """

    texture_bgra: Image
    landmarks_478: FloatArray
    occluded: Mask
    report: OcclusionReport

    @property
    def notes(self) -> tuple[str, ...]:
        return occlusion_notes(self.report)


def load_source(
    path: Path | str, analyzer: FaceAnalyzer, settings: SourceSettings = SourceSettings()
) -> SourceIdentity:
    """Read a source photo, pick its face (the largest when several) and note what covers it.

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
    prepared = prepare_source(image_bgr, face, load_topology(), settings)
    notes.extend(prepared.notes)
    return SourceIdentity(image_bgr=image_bgr, face=face, path=path, notes=tuple(notes))


def prepare_source(
    image_bgr: Frame, face: Face, topology: MeshTopology, settings: SourceSettings = SourceSettings()
) -> PreparedSource:
    """Cut the face out as a texture, find occluders and fill them (see the module docstring)."""
    texture_bgr, landmarks = cut_texture(image_bgr, face.landmarks_478, settings)
    size_hw = (texture_bgr.shape[0], texture_bgr.shape[1])
    face_px = _face_size(landmarks)
    face_area = polygon_mask(landmarks[list(FACE_OVAL)], size_hw) | triangles_mask(
        landmarks, topology.face_triangles, size_hw
    )
    features = feature_mask(landmarks, topology, size_hw, settings.feature_margin * face_px)
    skin_area = face_area & ~features
    lab = cv2.cvtColor(texture_bgr, cv2.COLOR_BGR2LAB).astype(np.float32)
    model = fit_skin_model(lab, central_mask(landmarks, topology, size_hw) & ~features, face_px)
    mirror_bgr, mirror_seen = mirror_image(texture_bgr, landmarks, topology)
    mirror_lab = cv2.cvtColor(mirror_bgr, cv2.COLOR_BGR2LAB).astype(np.float32)
    busier = busier_than_mirror(lab[..., 0], mirror_lab[..., 0], face_px, settings) & mirror_seen
    occluded = find_occluders(lab, model, skin_area, busier, settings, face_px)
    mirrored_mask, _ = mirror_image(occluded.astype(np.uint8) * 255, landmarks, topology)
    mirror_occluded = (mirrored_mask > 64) | ~mirror_seen
    mirror_ok = face_area & ~mirror_occluded & _mirror_valid(landmarks, topology, size_hw)
    filled = fill_occluded(texture_bgr, occluded, mirror_bgr, mirror_ok, face_area, face_px)
    alpha = (face_area.astype(np.uint8) * 255)[..., np.newaxis]
    texture_bgra = np.ascontiguousarray(np.concatenate([filled, alpha], axis=2))
    report = _report(occluded, mirror_ok, skin_area, landmarks)
    return PreparedSource(texture_bgra, landmarks, occluded.astype(np.float32), report)


def cut_texture(
    image_bgr: Frame, landmarks_478: FloatArray, settings: SourceSettings
) -> tuple[Image, FloatArray]:
    """The face's box plus a margin, scaled so the face is at most ``max_face_px``; landmarks moved along."""
    xy = landmarks_478[:MESH_POINTS, :2]
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    face_px = float((hi - lo).max())
    margin = settings.margin * face_px
    x0, y0 = (int(np.floor(v - margin)) for v in lo)
    x1, y1 = (int(np.ceil(v + margin)) + 1 for v in hi)
    height, width = image_bgr.shape[:2]
    crop = cv2.copyMakeBorder(
        image_bgr[max(y0, 0) : min(y1, height), max(x0, 0) : min(x1, width)],
        max(0, -y0), max(0, y1 - height), max(0, -x0), max(0, x1 - width), cv2.BORDER_REPLICATE,
    )  # fmt: skip
    scale = min(1.0, settings.max_face_px / max(face_px, 1.0))
    size_wh = (x1 - x0, y1 - y0)
    if scale < 1.0:
        size_wh = (max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale)))
        crop = cv2.resize(crop, size_wh, interpolation=cv2.INTER_AREA)
    scale_x, scale_y = size_wh[0] / (x1 - x0), size_wh[1] / (y1 - y0)
    landmarks = landmarks_478.astype(np.float32).copy()
    # Pixel centres: crop pixel i covers source pixels [x0 + i / s - 0.5, ...]; centre-to-centre mapping.
    landmarks[:, 0] = (landmarks_478[:, 0] - x0 + 0.5) * scale_x - 0.5
    landmarks[:, 1] = (landmarks_478[:, 1] - y0 + 0.5) * scale_y - 0.5
    landmarks[:, 2] = landmarks_478[:, 2] * scale_x
    return np.ascontiguousarray(crop, dtype=np.uint8), landmarks


def polygon_mask(points_xy: npt.ArrayLike, size_hw: tuple[int, int]) -> npt.NDArray[np.bool_]:
    """A filled polygon as a boolean image."""
    canvas = np.zeros(size_hw, dtype=np.uint8)
    fixed = np.round(np.asarray(points_xy, dtype=np.float64)[:, :2] * 16).astype(np.int32)
    cv2.fillPoly(canvas, [fixed], 1, cv2.LINE_8, 4)
    return canvas.astype(bool)


def triangles_mask(
    landmarks: FloatArray, triangles: npt.NDArray[np.int32], size_hw: tuple[int, int]
) -> npt.NDArray[np.bool_]:
    """Where any of the triangles lies (either winding)."""
    canvas = np.zeros(size_hw, dtype=np.uint8)
    for corners in np.round(landmarks[triangles, :2] * 16).astype(np.int32):
        cv2.fillConvexPoly(canvas, corners, 1, cv2.LINE_8, 4)
    return canvas.astype(bool)


def feature_mask(
    landmarks: FloatArray, topology: MeshTopology, size_hw: tuple[int, int], margin_px: float
) -> npt.NDArray[np.bool_]:
    """Eyes, brows, lips and nostrils (grown by ``margin_px``): not skin, and not occluders either."""
    canvas = np.zeros(size_hw, dtype=bool)
    for loop in (RIGHT_EYELIDS, LEFT_EYELIDS, RIGHT_BROW, LEFT_BROW, LIPS_OUTER):
        canvas |= polygon_mask(landmarks[list(loop)], size_hw)
    layout = topology.layout_468
    cx, cy, rx, ry = NOSTRIL_REGION
    near = ((layout[:, 0] - cx) / rx) ** 2 + ((layout[:, 1] - cy) / ry) ** 2 < 1.0
    nose_base = landmarks[np.flatnonzero(near), :2].astype(np.float32)
    canvas |= polygon_mask(cv2.convexHull(nose_base).reshape(-1, 2), size_hw)
    radius = max(1, round(margin_px))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return cv2.dilate(canvas.astype(np.uint8), kernel).astype(bool)


def central_mask(landmarks: FloatArray, topology: MeshTopology, size_hw: tuple[int, int]) -> npt.NDArray[np.bool_]:
    """The face's central band (from under the eyes to the mouth, inside the cheeks): nearly always skin."""
    layout = topology.layout_468
    triangles = topology.face_triangles
    centres = layout[triangles].mean(axis=1)
    x_max, y_min, y_max = CENTRAL_REGION
    chosen = triangles[(np.abs(centres[:, 0]) < x_max) & (centres[:, 1] > y_min) & (centres[:, 1] < y_max)]
    return triangles_mask(landmarks, chosen, size_hw)


def fit_skin_model(lab: FloatArray, central: npt.NDArray[np.bool_], face_px: float) -> SkinModel:
    """Learn the skin's colour from the central skin (robust to a fifth of it being something else)."""
    samples = lab[central]
    if samples.shape[0] < 16:
        raise ValueError("too little skin to learn its colour (is the face very small?)")
    chroma = samples[:, 1:]
    center = np.median(chroma, axis=0)
    spread = np.maximum(1.4826 * np.median(np.abs(chroma - center), axis=0), MIN_CHROMA_SPREAD)
    skin_like = (np.abs(chroma - center) / spread).max(axis=1) < 2.5
    lightness = samples[skin_like, 0] if skin_like.sum() >= 16 else samples[:, 0]
    darkest = float(np.percentile(lightness, 2.0)) * DARKEST_FRACTION
    return SkinModel(center.astype(np.float32), spread.astype(np.float32), darkest)


def relative_dip(lightness: FloatArray, face_px: float) -> FloatArray:
    """How much darker each pixel is than its surroundings, as a fraction of their lightness: thin dark
    things (glasses frames, hair strands, the gaps and shadows at a finger's edge, deep creases)."""
    size = 2 * max(1, round(BLACK_HAT_SIZE * face_px / 2)) + 1
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    closed = cv2.morphologyEx(lightness, cv2.MORPH_CLOSE, kernel)
    out: FloatArray = (closed - lightness) / np.maximum(closed, 1.0)
    return out


def detail_energy(lightness: FloatArray, face_px: float) -> FloatArray:
    """Local amount of fine detail (edges, texture): smoothed magnitude of the high-pass lightness."""
    fine = np.abs(lightness - low_pass(lightness, max(0.8, DETAIL_SIGMA * face_px)))
    return low_pass(fine, max(1.0, 2 * DETAIL_SIGMA * face_px))


def busier_than_mirror(
    lightness: FloatArray, mirror_lightness: FloatArray, face_px: float, settings: SourceSettings
) -> npt.NDArray[np.bool_]:
    """Where this side of the face has much more fine detail than the mirrored side: fingers, strands
    of hair or jewellery over one cheek, while the other cheek is smooth skin."""
    own = detail_energy(lightness, face_px)
    mirrored = detail_energy(mirror_lightness, face_px)
    out: npt.NDArray[np.bool_] = own > settings.asymmetry_ratio * mirrored + ASYMMETRY_FLOOR_L
    return out


def find_occluders(
    lab: FloatArray,
    model: SkinModel,
    skin_area: npt.NDArray[np.bool_],
    busier: npt.NDArray[np.bool_],
    settings: SourceSettings,
    face_px: float,
) -> npt.NDArray[np.bool_]:
    """Skin-area pixels that are not skin: the wrong colour, darker than any of the face's skin, thin
    dark lines, or much busier than the mirrored side; cleaned of specks, closed and grown over their
    soft edges."""
    raw = model.chroma_distance(lab) > settings.skin_threshold
    raw |= lab[..., 0] < model.darkest_l
    raw |= relative_dip(lab[..., 0], face_px) > settings.dip_threshold
    raw |= busier
    raw &= skin_area
    count, labels, stats, _ = cv2.connectedComponentsWithStats(raw.astype(np.uint8), connectivity=8)
    keep = np.zeros(count, dtype=bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= settings.min_blob * face_px * face_px
    blobs = keep[labels].astype(np.uint8)
    close = max(1, round(face_px * 0.02))
    grow = max(1, round(face_px * 0.01))
    closed = cv2.morphologyEx(blobs, cv2.MORPH_CLOSE, _disc(close))
    grown = cv2.dilate(closed, _disc(grow)).astype(bool)
    return grown & skin_area


def _disc(radius: int) -> npt.NDArray[np.uint8]:
    out: npt.NDArray[np.uint8] = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return out


def mirror_image(
    image: Image, landmarks: FloatArray, topology: MeshTopology
) -> tuple[Image, npt.NDArray[np.bool_]]:
    """The face's mirror image laid over itself (the left cheek where the right one is), and where the
    mesh reached (outside it the result is black)."""
    triangles = topology.face_triangles
    xy = landmarks[:MESH_POINTS, :2]
    partners = topology.mirror_468[triangles]
    size_wh = (image.shape[1], image.shape[0])
    result = PiecewiseAffineWarper().warp(image, xy[partners], xy[triangles], None, size_wh)
    return np.ascontiguousarray(result.image), result.triangle_ids >= 0


def _mirror_valid(landmarks: FloatArray, topology: MeshTopology, size_hw: tuple[int, int]) -> npt.NDArray[np.bool_]:
    """Where the mirrored side is seen well enough to copy: its triangles are not squeezed by a turn."""
    triangles = topology.face_triangles
    xy = landmarks[:MESH_POINTS, :2]
    area = _areas(xy, triangles)
    mirrored_area = _areas(xy, topology.mirror_468[triangles])
    good = np.abs(mirrored_area) >= 0.5 * np.abs(area)
    canvas = np.zeros(size_hw, dtype=np.uint8)
    corners = np.round(xy[triangles[good]] * 16).astype(np.int32)
    for corner in corners:
        cv2.fillConvexPoly(canvas, corner, 1, cv2.LINE_8, 4)
    return canvas.astype(bool)


def _areas(xy: FloatArray, triangles: npt.NDArray[np.int32]) -> FloatArray:
    a, b, c = xy[triangles[:, 0]], xy[triangles[:, 1]], xy[triangles[:, 2]]
    out: FloatArray = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    return out


def push_pull_fill(values: FloatArray, known: npt.NDArray[np.bool_]) -> FloatArray:
    """``values`` (H x W x C) where ``known``; elsewhere a smooth continuation from the known pixels
    (push-pull: weighted averages down an image pyramid, blended back up), for holes of any size."""
    weight = known.astype(np.float32)
    data = values.astype(np.float32) * weight[..., np.newaxis]
    levels = [(data, weight)]
    while min(levels[-1][1].shape) > 4:
        data, weight = cv2.pyrDown(data).reshape(*cv2.pyrDown(weight).shape, -1), cv2.pyrDown(weight)
        levels.append((data, weight))
    top_data, top_weight = levels[-1]
    filled = top_data.reshape(-1, top_data.shape[-1]).sum(0) / max(float(top_weight.sum()), 1e-6)
    result = np.broadcast_to(filled, top_data.shape).astype(np.float32)
    for data, weight in reversed(levels[:-1]):
        size_wh = (weight.shape[1], weight.shape[0])
        coarse = cv2.pyrUp(result, dstsize=size_wh).reshape(data.shape)
        confidence = np.minimum(weight * 4.0, 1.0)[..., np.newaxis]
        own = data / np.maximum(weight, 1e-6)[..., np.newaxis]
        result = confidence * own + (1.0 - confidence) * coarse
    out: FloatArray = np.where(known[..., np.newaxis], values.astype(np.float32), result)
    return out


def low_pass(image: FloatArray, sigma_px: float) -> FloatArray:
    out: FloatArray = cv2.GaussianBlur(image, (0, 0), sigma_px, borderType=cv2.BORDER_REPLICATE).reshape(
        image.shape
    )
    return out


def fill_occluded(
    texture_bgr: Image,
    occluded: npt.NDArray[np.bool_],
    mirror_bgr: Image,
    mirror_ok: npt.NDArray[np.bool_],
    face_area: npt.NDArray[np.bool_],
    face_px: float,
) -> Image:
    """Occluded skin (and everything outside the face) replaced; seams feathered.

    Where the mirrored side is clear, its detail is laid over the shading of this side's surroundings;
    elsewhere the surroundings' smooth continuation is used.
    """
    source = texture_bgr.astype(np.float32)
    clear = face_area & ~occluded
    sigma = max(1.5, SHADING_SIGMA * face_px)
    shading = low_pass(push_pull_fill(source, clear), sigma)
    mirror = mirror_bgr.astype(np.float32)
    mirror_shading = low_pass(push_pull_fill(mirror, clear & mirror_ok), sigma)
    from_mirror = mirror - mirror_shading + shading
    replacement = np.where((occluded & mirror_ok)[..., np.newaxis], from_mirror, shading)
    hidden = occluded | ~face_area
    soft = cv2.GaussianBlur(hidden.astype(np.float32), (0, 0), max(1.0, 0.006 * face_px))
    soft = np.maximum(soft, hidden.astype(np.float32))[..., np.newaxis]
    blended = source + soft * (replacement - source)
    return np.clip(blended + 0.5, 0, 255).astype(np.uint8)


def _report(
    occluded: npt.NDArray[np.bool_],
    mirror_ok: npt.NDArray[np.bool_],
    skin_area: npt.NDArray[np.bool_],
    landmarks: FloatArray,
) -> OcclusionReport:
    total = max(int(skin_area.sum()), 1)
    occluded_count = int(occluded.sum())
    mirror_count = int((occluded & mirror_ok).sum())
    return OcclusionReport(
        occluded=occluded_count / total,
        from_mirror=mirror_count / total,
        from_surroundings=(occluded_count - mirror_count) / total,
        regions=_regions(occluded, skin_area, landmarks),
    )


def _regions(
    occluded: npt.NDArray[np.bool_], skin_area: npt.NDArray[np.bool_], landmarks: FloatArray
) -> tuple[str, ...]:
    """Which parts of the face are covered: forehead, either cheek, chin (over 10% of that part)."""
    xy = landmarks[:, :2]
    brow_y = float(xy[[*RIGHT_BROW, *LEFT_BROW], 1].mean())
    mouth_y = float(xy[list(LIPS_OUTER), 1].mean())
    mid_x = float(xy[[10, 152], 0].mean())
    ys, xs = np.mgrid[0 : occluded.shape[0], 0 : occluded.shape[1]]
    parts = {
        "forehead": ys < brow_y,
        "subject's right cheek": (ys >= brow_y) & (ys < mouth_y) & (xs < mid_x),
        "subject's left cheek": (ys >= brow_y) & (ys < mouth_y) & (xs >= mid_x),
        "chin and jaw": ys >= mouth_y,
    }
    found = []
    for name, part in parts.items():
        area = int((part & skin_area).sum())
        if area and (occluded & part).sum() / area > 0.1:
            found.append(name)
    return tuple(found)


def occlusion_notes(report: OcclusionReport) -> tuple[str, ...]:
    """Plain sentences about what covered the source face and how it was filled."""
    if report.occluded < _NOTE_MIN_FRACTION:
        return ()
    where = f" ({', '.join(report.regions)})" if report.regions else ""
    ways = []
    if report.from_mirror >= _NOTE_MIN_FRACTION / 2:
        ways.append(f"{report.from_mirror:.0%} from the mirrored side of the face")
    if report.from_surroundings >= _NOTE_MIN_FRACTION / 2:
        ways.append(f"{report.from_surroundings:.0%} from the surrounding skin")
    filled = f"; filled {' and '.join(ways)}" if ways else ""
    return (
        f"source photo: something covers {report.occluded:.0%} of the face's skin{where} "
        f"(hair, a hand, glasses or a shadow){filled}. A clear, frontal photo gives a better swap.",
    )


def _face_size(landmarks: FloatArray) -> float:
    xy = landmarks[:MESH_POINTS, :2]
    return float((xy.max(axis=0) - xy.min(axis=0)).max())
