"""Blending a (colour-matched) face over the target: feathered alpha, multi-band, Poisson.

Each function takes the target and the source as same-size uint8 BGR images (a region of the frame around
the face, so the cost follows the face and not the frame) and a float32 alpha in [0, 1], and returns the
blended region as uint8 BGR. Where alpha is 0 the target comes back unchanged.
"""

from typing import Literal, get_args

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.types import FloatArray, Frame, Mask

BlendMode = Literal["multiband", "feather", "poisson"]
"""``multiband``: Laplacian-pyramid blending (wide seams for low frequencies, narrow for detail);
``feather``: alpha blending through the feathered mask; ``poisson``: gradient-domain cloning
(``cv2.seamlessClone``), slower and prone to washing out; offered for comparison."""
BLEND_MODES: tuple[str, ...] = get_args(BlendMode)

MAX_PYRAMID_LEVELS = 6


def _check(target_bgr: Frame, source_bgr: Frame, alpha: Mask) -> None:
    if target_bgr.shape != source_bgr.shape or target_bgr.shape[:2] != alpha.shape[:2]:
        shapes = (target_bgr.shape, source_bgr.shape, alpha.shape)
        raise ValueError(f"target, source and alpha must be the same size, got {shapes}")


def _to_uint8(image: FloatArray) -> Frame:
    """Round and saturate to 0..255 (OpenCV's conversion does both in one pass)."""
    return np.asarray(cv2.convertScaleAbs(image), dtype=np.uint8)  # |x|: callers clip at 0 first


def blend_feather(target_bgr: Frame, source_bgr: Frame, alpha: Mask) -> Frame:
    """``target + alpha * (source - target)``, per pixel."""
    _check(target_bgr, source_bgr, alpha)
    a = np.asarray(alpha, dtype=np.float32)
    blended = cv2.blendLinear(source_bgr, target_bgr, a, np.float32(1.0) - a)
    return np.asarray(blended, dtype=np.uint8)


def pyramid_levels(feather_px: float, size_hw: tuple[int, int]) -> int:
    """Pyramid depth whose coarsest band spreads about as far as the feather (the blend stays near the mask).

    Each level doubles the spread of its band outside the mask: with the feather already wide, a few
    levels below it are enough and keep the region (and the cost) small.
    """
    by_feather = int(np.floor(np.log2(max(feather_px, 2.0)))) - 2
    by_size = int(np.floor(np.log2(max(min(size_hw), 2)))) - 2
    return int(np.clip(min(by_feather, by_size), 1, MAX_PYRAMID_LEVELS))


def blend_multiband(
    target_bgr: Frame, source_bgr: Frame, alpha: Mask, levels: int, support: Mask | None = None
) -> Frame:
    """Laplacian-pyramid blending: ``levels`` bands below the finest, each weighed by alpha's pyramid.

    The finest band is blended through ``alpha`` itself (a feathered blend at full resolution); the
    coarser bands of (source - target) are blended at half resolution and added back as one smooth
    correction. That equals the textbook pyramid blend up to the product of two smooth images
    (alpha times the upsampled band), and costs about one extra pass over the region.
    ``support`` (optional, [0, 1]) marks where the source holds real texture; outside it the source is
    taken to equal the target, so the wide bands never drag garbage in from outside the rendered face.
    """
    _check(target_bgr, source_bgr, alpha)
    if levels < 1:
        raise ValueError(f"levels must be at least 1, got {levels}")
    feathered = blend_feather(target_bgr, source_bgr, alpha)
    if min(alpha.shape[:2]) < 4:
        return feathered
    difference = np.asarray(cv2.pyrDown(source_bgr), dtype=np.float32)
    difference -= np.asarray(cv2.pyrDown(target_bgr), dtype=np.float32)
    if support is not None:
        difference *= np.asarray(cv2.pyrDown(np.asarray(support, dtype=np.float32)), np.float32)[
            ..., np.newaxis
        ]
    alpha_half = np.asarray(cv2.pyrDown(np.asarray(alpha, dtype=np.float32)), dtype=np.float32)
    correction = _pyramid_blend(difference, alpha_half, levels - 1)
    correction -= difference * alpha_half[..., np.newaxis]
    size_wh = (alpha.shape[1], alpha.shape[0])
    upsampled = np.asarray(cv2.pyrUp(correction, dstsize=size_wh), dtype=np.float32)
    return np.asarray(cv2.add(feathered, upsampled, dtype=cv2.CV_8U), dtype=np.uint8)


def _pyramid_blend(difference: FloatArray, alpha: FloatArray, levels: int) -> FloatArray:
    """Collapse of the Laplacian pyramid of ``difference`` weighted by the Gaussian pyramid of ``alpha``."""
    gauss_d, gauss_a = [difference], [alpha]
    for _ in range(levels):
        gauss_d.append(np.asarray(cv2.pyrDown(gauss_d[-1]), dtype=np.float32))
        gauss_a.append(np.asarray(cv2.pyrDown(gauss_a[-1]), dtype=np.float32))
    blended = gauss_d[-1] * gauss_a[-1][..., np.newaxis]
    for level in range(levels - 1, -1, -1):
        size_wh = (gauss_d[level].shape[1], gauss_d[level].shape[0])
        band = gauss_d[level] - cv2.pyrUp(gauss_d[level + 1], dstsize=size_wh)
        band *= gauss_a[level][..., np.newaxis]
        blended = np.asarray(cv2.pyrUp(blended, dstsize=size_wh), dtype=np.float32)
        blended += band
    return blended


def blend_poisson(target_bgr: Frame, source_bgr: Frame, alpha: Mask) -> Frame:
    """Poisson cloning of the source's gradients inside alpha > 0, then feathered through alpha.

    The clone's own hard boundary is softened by the alpha blend that follows; a region whose alpha
    touches its border is padded first (``seamlessClone`` needs a margin).
    """
    _check(target_bgr, source_bgr, alpha)
    inside = np.where(np.asarray(alpha) > 0.02, 255, 0).astype(np.uint8)
    if not inside.any():
        return target_bgr.copy()
    pad = 2
    target = cv2.copyMakeBorder(target_bgr, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    source = cv2.copyMakeBorder(source_bgr, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    hard = cv2.copyMakeBorder(inside, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    x, y, w, h = cv2.boundingRect(hard)
    center = (x + w // 2, y + h // 2)
    cloned: npt.NDArray[np.uint8] = np.asarray(
        cv2.seamlessClone(source, target, hard, center, cv2.NORMAL_CLONE), dtype=np.uint8
    )
    height, width = target_bgr.shape[:2]
    return blend_feather(target_bgr, cloned[pad : pad + height, pad : pad + width], alpha)
