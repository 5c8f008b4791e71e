"""How strongly each watermark cell is drawn in a frame: in texture, hardly at all on flat areas.

The eye sees even a +-1 level block pattern on a flat wall, sky or backdrop, but not a +-5 one in
hair, foliage or fabric. So each cell's magnitude follows the local contrast around it, on a fixed
scale (not rescaled per frame):

* flat (local standard deviation up to ``FLAT_CONTRAST`` grey levels): ``FLAT_LEVEL`` of a level on
  average, i.e. only about one pixel in five of the cell moves, by 1 level;
* above that, ``FLAT_LEVEL + TEXTURE_GAIN * sqrt(contrast - FLAT_CONTRAST)``, up to ``MAX_LEVEL``.

``MEAN_SQUARED_LEVEL`` is a cap, not a target: only a frame busy enough to exceed it is scaled down
(PSNR never below about 40.6 dB); a mostly flat frame simply gets a weaker, higher-PSNR mark. The reader
averages 24 cells per bit over every tile of the frame and over 48 video frames, so the texture cells
carry the payload.

Magnitudes are kept in ``LEVEL_STEPS`` ths of a grey level and turned into whole levels pixel by pixel
with a fixed ordered (Bayer) dither: a cell of 0.25 levels moves a quarter of its pixels by 1, spread
evenly, so a flat area gets a fine, even, sub-level grain instead of 1-2 level blocks, while each cell's
mean (what the reader sees once the picture is filtered, compressed or resized) is the magnitude.

Cost: one grey conversion and one downscale of the frame, then work on a grid of two pixels per
cell (about 342 x 192 at 720p); the dither is one add and one table look-up per frame pixel.
"""

from __future__ import annotations

import cv2
import numpy as np

from facecraft.provenance.watermark_pattern import CellGrid, IntArray
from facecraft.types import FloatArray, Frame

MEAN_SQUARED_LEVEL = 5.4
"""Cap on the mean squared change per pixel and channel, in grey levels (PSNR >= 40.6 dB)."""

FLAT_CONTRAST = 2.0
"""Local standard deviation (grey levels) up to which an area counts as flat."""

FLAT_LEVEL = 0.25
"""Mean magnitude of a flat cell, in grey levels (that share of its pixels moves by 1)."""

TEXTURE_GAIN = 1.2
"""Magnitude added per square root of contrast above ``FLAT_CONTRAST``."""

TEXTURE_POWER = 0.5
"""How magnitude grows with contrast above ``FLAT_CONTRAST``: 0.5 as its square root."""

MAX_LEVEL = 6
"""Largest change of one cell, in grey levels."""

LEVEL_STEPS = 16
"""Cell magnitudes are held in steps of ``1 / LEVEL_STEPS`` level (the ordered dither's 16 thresholds)."""

_CONTRAST_SIGMA = 2.0  # in half-cells: the neighbourhood is about two cells across
_NEIGHBOURS = np.ones((3, 3), np.uint8)  # a cell is as textured as its flattest neighbour
_BAYER_4X4 = np.array([[0, 8, 2, 10], [12, 4, 14, 6], [3, 11, 1, 9], [15, 7, 13, 5]], np.uint8)
_SHIFT_LUT = (np.arange(256) // LEVEL_STEPS).astype(np.uint8)


def cell_magnitudes(frame_bgr: Frame, grid: CellGrid) -> IntArray:
    """Magnitude of every cell of ``grid`` for this frame, in ``1 / LEVEL_STEPS`` levels (int16)."""
    contrast = local_contrast(frame_bgr, grid)
    texture = np.power(np.maximum(contrast - FLAT_CONTRAST, 0.0), TEXTURE_POWER)
    level = np.minimum(FLAT_LEVEL + TEXTURE_GAIN * texture, MAX_LEVEL)
    mean_squared = float(np.mean(level * level))
    if mean_squared > MEAN_SQUARED_LEVEL:
        level *= np.float32(np.sqrt(MEAN_SQUARED_LEVEL / mean_squared))
    steps: IntArray = np.rint(level * LEVEL_STEPS).astype(np.int16)
    return steps


def pixel_dither(height: int, width: int) -> Frame:
    """Ordered-dither thresholds (0 .. LEVEL_STEPS - 1) for a ``height`` x ``width`` frame (uint8)."""
    reps = (-(-height // 4), -(-width // 4))
    dither: Frame = np.ascontiguousarray(np.tile(_BAYER_4X4, reps)[:height, :width])
    return dither


def whole_levels(steps_px: Frame, dither_px: Frame) -> Frame:
    """Per-pixel whole levels (uint8) from per-pixel magnitudes in steps, rounded by the dither.

    ``steps_px`` must stay under ``256 - LEVEL_STEPS`` (``MAX_LEVEL * LEVEL_STEPS`` does).
    """
    summed = cv2.add(steps_px, dither_px)
    levels: Frame = np.asarray(cv2.LUT(summed, _SHIFT_LUT))
    return levels


def local_contrast(frame_bgr: Frame, grid: CellGrid) -> FloatArray:
    """Standard deviation of grey levels around each cell, shape ``grid.size_hw`` (float32)."""
    rows, cols = grid.size_hw
    small_bgr = cv2.resize(frame_bgr, (2 * cols, 2 * rows), interpolation=cv2.INTER_LINEAR)
    half_cells = cv2.cvtColor(small_bgr, cv2.COLOR_BGR2GRAY).astype(np.float32)
    mean = cv2.GaussianBlur(half_cells, (0, 0), _CONTRAST_SIGMA)
    mean_sq = cv2.GaussianBlur(half_cells * half_cells, (0, 0), _CONTRAST_SIGMA)
    variance = cv2.resize(mean_sq - mean * mean, (cols, rows), interpolation=cv2.INTER_AREA)
    deviation = np.sqrt(np.maximum(variance, 0.0)).astype(np.float32)
    contrast: FloatArray = np.asarray(cv2.erode(deviation, _NEIGHBOURS), np.float32)
    return contrast
