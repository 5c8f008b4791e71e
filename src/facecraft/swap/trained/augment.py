"""Augmentation of training faces, one sample at a time, with an explicit random generator.

The colour change and the affine jitter (rotation, scale, shift, flip) are applied to the network's input
and to its target alike; the random warp (a smooth grid distortion) only to the input: the network learns
to draw the clean face from a distorted one, as DeepFaceLab does.
"""

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.types import Frame

UInt8Array = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class AugmentSettings:
    """rotation_deg, scale, shift: the affine jitter's ranges (shift as a fraction of the side);
    warp_px_frac: the random warp's offsets (std, fraction of the side) on a warp_grid x warp_grid lattice;
    flip: mirror half the samples; light_std, color_std: LAB shifts (L, and a/b) in LAB units;
    contrast: L contrast range (1 +- contrast).
    """

    rotation_deg: float = 10.0
    scale: float = 0.05
    shift: float = 0.05
    warp_grid: int = 5
    warp_px_frac: float = 0.025
    flip: bool = True
    light_std: float = 8.0
    color_std: float = 5.0
    contrast: float = 0.15


@dataclass(frozen=True, slots=True)
class Sample:
    """One augmented face: warped input and clean target (BGR uint8), mask and eye/mouth map (uint8)."""

    input_bgr: Frame
    target_bgr: Frame
    mask: UInt8Array
    features: UInt8Array


def random_affine(
    rng: np.random.Generator, size_px: int, settings: AugmentSettings
) -> npt.NDArray[np.float64]:
    """A 2 x 3 similarity about the crop's centre, mirrored half the time when ``flip``."""
    angle = rng.uniform(-settings.rotation_deg, settings.rotation_deg)
    scale = 1.0 + rng.uniform(-settings.scale, settings.scale)
    centre = (size_px - 1) / 2.0
    matrix: npt.NDArray[np.float64] = np.asarray(
        cv2.getRotationMatrix2D((centre, centre), angle, scale), dtype=np.float64
    )
    matrix[:, 2] += rng.uniform(-settings.shift, settings.shift, size=2) * size_px
    if settings.flip and rng.random() < 0.5:
        matrix[0, :] = -matrix[0, :]
        matrix[0, 2] += size_px - 1
    return np.asarray(matrix, dtype=np.float64)


def identity_grid(size_px: int) -> npt.NDArray[np.float32]:
    """2 x S x S pixel coordinates (x, then y): the remap tables of no distortion."""
    ys, xs = np.mgrid[0:size_px, 0:size_px].astype(np.float32)
    return np.stack([xs, ys])


def random_warp_maps(
    rng: np.random.Generator,
    size_px: int,
    settings: AugmentSettings,
    base: npt.NDArray[np.float32] | None = None,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Remap tables of a smooth random distortion: lattice offsets interpolated over the whole crop.

    ``base``: ``identity_grid(size_px)``, passed in to save making it each time.
    """
    grid = max(2, settings.warp_grid)
    offsets = rng.normal(0.0, settings.warp_px_frac * size_px, size=(2, grid, grid)).astype(np.float32)
    offsets[:, 0, :] = offsets[:, -1, :] = 0.0
    offsets[:, :, 0] = offsets[:, :, -1] = 0.0
    dx = cv2.resize(offsets[0], (size_px, size_px), interpolation=cv2.INTER_CUBIC)
    dy = cv2.resize(offsets[1], (size_px, size_px), interpolation=cv2.INTER_CUBIC)
    coords = identity_grid(size_px) if base is None else base
    return coords[0] + dx, coords[1] + dy


def random_color(rng: np.random.Generator, image_bgr: Frame, settings: AugmentSettings) -> Frame:
    """A random LAB shift of light and colour, and a contrast change of the lightness (lookup tables)."""
    lab = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2LAB)
    mean = float(cv2.mean(lab)[0])
    gain = 1.0 + rng.uniform(-settings.contrast, settings.contrast)
    light_shift = rng.normal(0.0, settings.light_std)
    color_shift = rng.normal(0.0, settings.color_std, size=2)
    levels = np.arange(256, dtype=np.float64)
    table = np.stack(
        [(levels - mean) * gain + mean + light_shift, levels + color_shift[0], levels + color_shift[1]],
        axis=-1,
    )
    lut = np.clip(table + 0.5, 0, 255).astype(np.uint8).reshape(256, 1, 3)
    out = cv2.cvtColor(cv2.LUT(lab, lut), cv2.COLOR_LAB2BGR)
    return np.asarray(out, dtype=np.uint8)


def augment_sample(
    rng: np.random.Generator,
    face_bgr: Frame,
    mask: UInt8Array,
    features: UInt8Array,
    settings: AugmentSettings,
    base: npt.NDArray[np.float32] | None = None,
) -> Sample:
    """Colour and affine on everything, then the random warp on the input only (none when
    ``settings.warp_px_frac`` is 0; ``base``: see :func:`random_warp_maps`)."""
    size = face_bgr.shape[0]
    colored = random_color(rng, face_bgr, settings)
    matrix = random_affine(rng, size, settings)
    target = cv2.warpAffine(
        colored, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    mask_t = cv2.warpAffine(mask, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=0)
    feat_t = cv2.warpAffine(features, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=0)
    if settings.warp_px_frac > 0:
        map_x, map_y = random_warp_maps(rng, size, settings, base)
        warped = cv2.remap(target, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    else:
        warped = target
    return Sample(
        input_bgr=np.asarray(warped, dtype=np.uint8),
        target_bgr=np.asarray(target, dtype=np.uint8),
        mask=np.asarray(mask_t, dtype=np.uint8),
        features=np.asarray(feat_t, dtype=np.uint8),
    )
