"""Face alignment: 5-point templates, similarity transforms, warping into crops and pasting back.

All functions are pure. Matrices are 2x3 float32 affines in OpenCV's convention (pixel centres at
integer coordinates); names say which way they map (``matrix_frame_to_crop``).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal, get_args

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.types import Affine, FloatArray, Frame, Mask

TemplateName = Literal["arcface", "ffhq"]
"""Alignment templates: ``arcface`` (tight, eyes to mouth; identity and swap models) and ``ffhq``
(whole face with hair and chin margin, like the FFHQ dataset's crops)."""
TEMPLATE_NAMES: tuple[str, ...] = get_args(TemplateName)

BorderMode = Literal["constant", "replicate"]
_BORDER_FLAGS: Mapping[BorderMode, int] = MappingProxyType(
    {"constant": cv2.BORDER_CONSTANT, "replicate": cv2.BORDER_REPLICATE}
)

ARCFACE_SIZE_PX = 112
ARCFACE_POINTS_112 = (
    (38.2946, 51.6963),
    (73.5318, 51.5014),
    (56.0252, 71.7366),
    (41.5493, 92.3655),
    (70.7299, 92.2041),
)
"""ArcFace's 5 points in a 112x112 crop: subject's right eye, left eye, nose tip, mouth corners."""


@dataclass(frozen=True, slots=True)
class AlignTemplate:
    """Where the 5 key points go in a square crop, as fractions of the crop side (any size).

    points_unit: 5 (x, y) pairs in [0, 1], in ArcFace order (subject's right eye, left eye, nose tip,
    mouth corner image-left, mouth corner image-right).
    """

    name: str
    points_unit: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        if len(self.points_unit) != 5 or any(len(p) != 2 for p in self.points_unit):
            raise ValueError(f"template '{self.name}' needs 5 (x, y) points, got {self.points_unit}")

    def points_px(self, size_px: int) -> FloatArray:
        """The template's 5 points in a ``size_px`` x ``size_px`` crop."""
        if size_px <= 0:
            raise ValueError(f"crop size must be positive, got {size_px}")
        return np.asarray(self.points_unit, dtype=np.float32) * np.float32(size_px)


def _arcface_template() -> AlignTemplate:
    unit = tuple((x / ARCFACE_SIZE_PX, y / ARCFACE_SIZE_PX) for x, y in ARCFACE_POINTS_112)
    return AlignTemplate("arcface", unit)


def _ffhq_template() -> AlignTemplate:
    """The FFHQ dataset's crop recipe applied to the ArcFace face layout.

    FFHQ centres the crop at the eye midpoint moved a tenth of the way towards the mouth, with side
    max(4 x eye distance, 3.6 x eye-to-mouth distance).
    """
    points = np.asarray(ARCFACE_POINTS_112, dtype=np.float64)
    eye_mid = points[:2].mean(axis=0)
    eye_to_mouth = points[3:].mean(axis=0) - eye_mid
    eye_distance = float(np.linalg.norm(points[1] - points[0]))
    side = max(4.0 * eye_distance, 3.6 * float(np.linalg.norm(eye_to_mouth)))
    centre = eye_mid + 0.1 * eye_to_mouth
    unit = (points - centre) / side + 0.5
    return AlignTemplate("ffhq", tuple((float(x), float(y)) for x, y in unit))


TEMPLATES: Mapping[TemplateName, AlignTemplate] = MappingProxyType(
    {"arcface": _arcface_template(), "ffhq": _ffhq_template()}
)


def get_template(name: TemplateName | str) -> AlignTemplate:
    """A template by name; a typo gets a message listing the choices."""
    for key, template in TEMPLATES.items():
        if key == name:
            return template
    raise ValueError(f"unknown alignment template '{name}'; choose one of {', '.join(TEMPLATE_NAMES)}")


def umeyama(
    src: npt.NDArray[np.float64], dst: npt.NDArray[np.float64]
) -> tuple[float, npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Least-squares similarity (scale, rotation, translation; no reflection) with ``dst ~ s R src + t``.

    Umeyama's method for N x D point sets in any dimension D. Raises ValueError when the source points
    coincide.
    """
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    src_var = float((src_c**2).sum()) / src.shape[0]
    if src_var < 1e-12:
        raise ValueError("source points all coincide; cannot estimate a similarity transform")
    u, singular, vt = np.linalg.svd(dst_c.T @ src_c / src.shape[0])
    sign = np.ones(src.shape[1])
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[-1] = -1.0  # forbid reflection
    rotation = u @ np.diag(sign) @ vt
    scale = float((singular * sign).sum()) / src_var
    return scale, rotation, dst_mean - scale * rotation @ src_mean


def estimate_similarity(src_points: npt.ArrayLike, dst_points: npt.ArrayLike) -> Affine:
    """Least-squares 2D similarity (rotation, uniform scale, translation; no reflection) mapping src to dst.

    Umeyama's method on N >= 2 point pairs (x, y). Raises ValueError when the source points coincide.
    """
    src = np.asarray(src_points, dtype=np.float64)[:, :2]
    dst = np.asarray(dst_points, dtype=np.float64)[:, :2]
    if src.shape != dst.shape or src.shape[0] < 2:
        raise ValueError(f"need matching point lists of 2 or more points, got {src.shape} and {dst.shape}")
    scale, rotation, translation = umeyama(src, dst)
    return np.hstack([scale * rotation, translation[:, np.newaxis]]).astype(np.float32)


def alignment_matrix(keypoints_5: FloatArray, template: AlignTemplate | TemplateName, size_px: int) -> Affine:
    """Frame -> crop similarity that puts the 5 key points (ArcFace order) on the template."""
    chosen = template if isinstance(template, AlignTemplate) else get_template(template)
    return estimate_similarity(keypoints_5, chosen.points_px(size_px))


def invert_affine(matrix: Affine) -> Affine:
    """The inverse of a 2x3 affine (raises ValueError when it is singular)."""
    m = np.asarray(matrix, dtype=np.float64)
    if m.shape != (2, 3):
        raise ValueError(f"an affine matrix must be 2x3, got {m.shape}")
    if abs(float(np.linalg.det(m[:, :2]))) < 1e-12:
        raise ValueError("the affine matrix is singular and has no inverse")
    inverse: Affine = np.asarray(cv2.invertAffineTransform(m), dtype=np.float32)
    return inverse


def transform_points(points_xy: npt.ArrayLike, matrix: Affine) -> FloatArray:
    """Apply a 2x3 affine to N x 2 (or N x 3; only x, y are used) points."""
    xy = np.asarray(points_xy, dtype=np.float64)[:, :2]
    m = np.asarray(matrix, dtype=np.float64)
    return (xy @ m[:, :2].T + m[:, 2]).astype(np.float32)


def warp_to_crop(
    frame_bgr: Frame,
    matrix_frame_to_crop: Affine,
    size_wh: tuple[int, int],
    border: BorderMode = "constant",
) -> Frame:
    """The aligned crop (bilinear); outside the frame is black, or the edge pixels with ``replicate``."""
    crop = cv2.warpAffine(
        frame_bgr,
        np.asarray(matrix_frame_to_crop, dtype=np.float32),
        (int(size_wh[0]), int(size_wh[1])),
        flags=cv2.INTER_LINEAR,
        borderMode=_BORDER_FLAGS[border],
        borderValue=(0, 0, 0),
    )
    return np.asarray(crop, dtype=np.uint8)


def crop_bounds_in_frame(
    crop_wh: tuple[int, int], matrix_crop_to_frame: Affine, frame_wh: tuple[int, int]
) -> tuple[int, int, int, int] | None:
    """Integer box (x0, y0, x1, y1), clipped to the frame, covering the crop once warped; None if outside."""
    w, h = crop_wh
    corners = np.array([[-0.5, -0.5], [w - 0.5, -0.5], [w - 0.5, h - 0.5], [-0.5, h - 0.5]])
    mapped = transform_points(corners, matrix_crop_to_frame)
    x0 = max(int(np.floor(mapped[:, 0].min())) - 1, 0)
    y0 = max(int(np.floor(mapped[:, 1].min())) - 1, 0)
    x1 = min(int(np.ceil(mapped[:, 0].max())) + 2, frame_wh[0])
    y1 = min(int(np.ceil(mapped[:, 1].max())) + 2, frame_wh[1])
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1


def paste_back(frame_bgr: Frame, crop_bgr: Frame, mask_crop: Mask, matrix_crop_to_frame: Affine) -> Frame:
    """A new frame with the crop alpha-composited in through the warped mask (float in [0, 1]).

    Only the box that the crop covers is warped and blended, so the cost follows the face, not the frame.
    """
    if crop_bgr.shape[:2] != mask_crop.shape[:2]:
        raise ValueError(f"crop {crop_bgr.shape[:2]} and mask {mask_crop.shape[:2]} must be the same size")
    out = frame_bgr.copy()
    crop_h, crop_w = crop_bgr.shape[:2]
    frame_h, frame_w = frame_bgr.shape[:2]
    bounds = crop_bounds_in_frame((crop_w, crop_h), matrix_crop_to_frame, (frame_w, frame_h))
    if bounds is None:
        return out
    x0, y0, x1, y1 = bounds
    local = np.asarray(matrix_crop_to_frame, dtype=np.float32).copy()
    local[:, 2] -= (x0, y0)
    size = (x1 - x0, y1 - y0)
    warped = cv2.warpAffine(crop_bgr, local, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    alpha = cv2.warpAffine(
        np.clip(mask_crop, 0.0, 1.0).astype(np.float32),
        local,
        size,
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0.0,
    )[..., np.newaxis]
    region = out[y0:y1, x0:x1].astype(np.float32)
    blended = region + alpha * (warped.astype(np.float32) - region)
    out[y0:y1, x0:x1] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
    return out
