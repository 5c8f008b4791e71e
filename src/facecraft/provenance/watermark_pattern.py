"""The watermark's pattern: a keyed tile of +-1 cells repeated over the frame, and its detector.

How it works (our own tiled spread-spectrum method; no model file, no training):

* **Cells.** The frame's short side is cut into ``CELLS_PER_SHORT_SIDE`` square cells (7.5 px at
  720p). A ``TILE_CELLS`` x ``TILE_CELLS`` tile of cells repeats from the top-left corner. A quarter of
  the tile's cells carry a fixed *sync* chip sequence; the rest are shared round-robin by the 32
  payload bits (24 cells per bit per tile). A cell adds or subtracts the same whole number of grey
  levels to B, G and R (luma moves, chroma does not); how many depends on the local contrast
  (:mod:`facecraft.provenance.watermark_strength`): a quarter of a level on flat areas (a sparse
  one-level dither), 1 to 2 on skin, up to 6 in texture, for a PSNR of 40.6 dB or more.
* **Reading.** A frame is turned into a *canonical residual*: grey, resized so the short side is
  ``CANONICAL_SHORT_SIDE`` px (4 px per cell when the frame was not cropped), minus its own blur
  (which removes most of the picture and keeps the cell pattern), clipped against strong edges.
  Residuals of several video frames are averaged. The tile's period is found from the residual's
  autocorrelation (so a crop or an uneven resize is undone), the residual is folded onto one tile,
  whitened, and correlated with the sync tile over every circular shift (so any crop offset is
  found), as is and mirrored (a left-right flip is undone too). The payload bits are read at the
  sync peak as z-scores against their own null maps.

Importing this module does nothing; :func:`build_layout` makes the keyed tile when a marker or a
reader is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

import cv2
import numpy as np
import numpy.typing as npt

from facecraft.provenance.payload import PAYLOAD_BITS
from facecraft.types import FloatArray, Frame

CELLS_PER_SHORT_SIDE = 96
"""Cells across the frame's short side: 7.5 px cells at 720p, 5 px at 480p."""

TILE_CELLS = 32
"""The keyed tile is this many cells square (three tiles span the short side)."""

SYNC_FRACTION = 0.25
"""Share of the tile's cells that carry the sync chips (the rest carry payload bits)."""

LAYOUT_KEY = 0xFC5_2026
"""Seed of the facecraft tile layout. Changing it makes every existing mark unreadable."""

CANONICAL_CELL_PX = 4
CANONICAL_SHORT_SIDE = CELLS_PER_SHORT_SIDE * CANONICAL_CELL_PX
TILE_PX = TILE_CELLS * CANONICAL_CELL_PX
"""The tile's period in canonical pixels."""

MIN_SHORT_SIDE_PX = 192
"""Smallest frame (short side) that can carry the mark: cells must be at least 2 px."""

_BLUR_SIGMA_PX = 2.0
_RESIDUAL_CLIP = 4.0
_WHITEN_POWER = 0.5
_SCALE_RANGE = (0.8, 1.6)
_REFINE_STEPS = (-0.01, -0.005, 0.0, 0.005, 0.01)

IntArray = npt.NDArray[np.int16]
ComplexArray = npt.NDArray[np.complex128]


@dataclass(frozen=True, slots=True)
class PatternLayout:
    """The keyed tile: each cell's role (-1 sync, 0..31 payload bit) and chip sign (+-1)."""

    role: IntArray
    chips: IntArray

    def cell_signs(self, bits: npt.NDArray[np.uint8]) -> IntArray:
        """Sign (+-1) of each tile cell for a 32-bit payload: the chip, flipped for 0 bits."""
        if bits.shape != (PAYLOAD_BITS,):
            raise ValueError(f"expected {PAYLOAD_BITS} bits, got shape {bits.shape}")
        bit_signs = np.where(bits > 0, 1, -1).astype(np.int16)
        signs = np.where(self.role >= 0, bit_signs[np.maximum(self.role, 0)], 1)
        return (self.chips * signs).astype(np.int16)

    def templates(self) -> FloatArray:
        """Canonical-pixel templates, shape (33, TILE_PX, TILE_PX): sync first, then bits 0..31."""
        chips = self.chips.astype(np.float32)
        roles = [-1, *range(PAYLOAD_BITS)]
        tiles = np.stack([np.where(self.role == role, chips, 0.0) for role in roles])
        block = np.ones((1, CANONICAL_CELL_PX, CANONICAL_CELL_PX), np.float32)
        return np.kron(tiles, block).astype(np.float32)


def build_layout(key: int = LAYOUT_KEY) -> PatternLayout:
    """The tile for ``key``: a quarter sync cells, the rest bit cells round-robin, random chips."""
    rng = np.random.default_rng(key)
    cells = TILE_CELLS * TILE_CELLS
    order = rng.permutation(cells)
    n_sync = round(cells * SYNC_FRACTION)
    role = np.empty(cells, np.int16)
    role[order[:n_sync]] = -1
    role[order[n_sync:]] = np.arange(cells - n_sync) % PAYLOAD_BITS
    chips = rng.choice(np.array([-1, 1], np.int16), cells)
    shape = (TILE_CELLS, TILE_CELLS)
    return PatternLayout(role.reshape(shape), chips.reshape(shape))


@dataclass(frozen=True, slots=True)
class CellGrid:
    """The cells of one frame size: a whole number of cells across each side, ``size_hw``.

    The short side holds exactly ``CELLS_PER_SHORT_SIDE`` cells; the long side the nearest whole
    number of cells of the same size, so cells are square to within 0.3% (the reader's scale search
    absorbs that) and a nearest-neighbour resize of the cell grid lands exactly on the frame.
    """

    frame_hw: tuple[int, int]
    size_hw: tuple[int, int]

    @classmethod
    def for_frame(cls, height: int, width: int) -> CellGrid:
        check_frame_size(height, width)
        cell_px = min(height, width) / CELLS_PER_SHORT_SIDE
        return cls((height, width), (round(height / cell_px), round(width / cell_px)))

    def tile(self, tile_values: IntArray) -> IntArray:
        """``tile_values`` (one tile) repeated over every cell of the frame, from the top-left."""
        rows = np.arange(self.size_hw[0]) % TILE_CELLS
        cols = np.arange(self.size_hw[1]) % TILE_CELLS
        return tile_values[rows[:, None], cols[None, :]]

    def upsample(self, cells: Frame, out: Frame | None = None) -> Frame:
        """Per-cell values (``size_hw`` [x C], uint8) as a frame-sized image, each cell a block.

        ``out``, when given, is a frame-sized array of the right channels that receives the result.
        """
        height, width = self.frame_hw
        blocks = cv2.resize(cells, (width, height), dst=out, interpolation=cv2.INTER_NEAREST)
        return np.asarray(blocks)


def render_pattern(tile_values: IntArray, height: int, width: int) -> IntArray:
    """The tile repeated over a ``height`` x ``width`` frame, cell for cell as the marker draws it."""
    grid = CellGrid.for_frame(height, width)
    rows = (np.arange(height) * grid.size_hw[0] // height) % TILE_CELLS
    cols = (np.arange(width) * grid.size_hw[1] // width) % TILE_CELLS
    return tile_values[rows[:, None], cols[None, :]]


def check_frame_size(height: int, width: int) -> None:
    if min(height, width) < MIN_SHORT_SIDE_PX:
        raise ValueError(
            f"a {width}x{height} frame is too small to carry the watermark; "
            f"the short side must be at least {MIN_SHORT_SIDE_PX} px"
        )


def canonical_residual(frame_bgr: Frame) -> FloatArray:
    """Grey frame at a short side of ``CANONICAL_SHORT_SIDE`` px, minus its blur, clipped (float32)."""
    if frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3 or frame_bgr.dtype != np.uint8:
        raise ValueError(f"frame_bgr must be H x W x 3 uint8, got {frame_bgr.shape} {frame_bgr.dtype}")
    height, width = frame_bgr.shape[:2]
    if min(height, width) < 2:
        raise ValueError(f"a {width}x{height} frame has no picture to read a watermark from")
    grey = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY).astype(np.float32)
    scale = CANONICAL_SHORT_SIDE / min(height, width)
    size_wh = (round(width * scale), round(height * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    canonical = cv2.resize(grey, size_wh, interpolation=interpolation)
    residual = canonical - cv2.GaussianBlur(canonical, (0, 0), _BLUR_SIGMA_PX)
    clipped: FloatArray = np.clip(residual, -_RESIDUAL_CLIP, _RESIDUAL_CLIP).astype(np.float32)
    return clipped


@dataclass(frozen=True, slots=True)
class PatternMatch:
    """Where the tile was found in a residual and how strongly its cells answer there.

    ``sync_z``: z-score of the sync correlation peak against all other shifts (about 4 to 5 on
    unmarked pictures, the maximum of noise). ``bit_z``: each payload bit's correlation z-score at
    that peak; its sign is the bit (positive: 1). ``scale_xy``: tile period found, relative to an
    uncropped frame's; ``shift_yx``: the tile's offset in canonical pixels; ``mirrored``: found in
    the left-right mirror image (the picture was flipped).
    """

    sync_z: float
    bit_z: FloatArray
    scale_xy: tuple[float, float]
    shift_yx: tuple[int, int]
    mirrored: bool = False


@dataclass(frozen=True, slots=True)
class _Candidate:
    sync_z: float
    scale_xy: tuple[float, float]
    mirrored: bool
    whitened: ComplexArray


class PatternReader:
    """Finds the keyed tile in canonical residuals and reads its bits (templates built once)."""

    def __init__(self, layout: PatternLayout) -> None:
        self._templates_fft = np.conj(np.fft.rfft2(layout.templates()))

    def match(self, residual: FloatArray) -> PatternMatch:
        """Search orientation (as is, mirrored), tile scale (autocorrelation, then a small grid)
        and shift (sync correlation over every circular shift); read the bits at the best peak."""
        if min(residual.shape) < 2 * TILE_PX:
            raise ValueError(f"residual {residual.shape} is smaller than two tiles ({2 * TILE_PX} px)")
        scales = _candidate_scales(residual)  # autocorrelation is the same for the mirror image
        best = max(
            (self._try(residual, scale_xy, mirrored) for mirrored in (False, True) for scale_xy in scales),
            key=lambda candidate: candidate.sync_z,
        )
        maps = self._correlate_all(best.whitened)
        peak = np.unravel_index(int(np.argmax(maps[0])), maps[0].shape)
        flat = maps.reshape(maps.shape[0], -1)
        at_peak = maps[:, peak[0], peak[1]]
        z_all = (at_peak - flat.mean(axis=1)) / (flat.std(axis=1) + 1e-12)
        return PatternMatch(
            sync_z=best.sync_z,
            bit_z=z_all[1:].astype(np.float32),
            scale_xy=best.scale_xy,
            shift_yx=(int(peak[0]), int(peak[1])),
            mirrored=best.mirrored,
        )

    def _try(self, residual: FloatArray, scale_xy: tuple[float, float], mirrored: bool) -> _Candidate:
        oriented = np.ascontiguousarray(residual[:, ::-1]) if mirrored else residual
        whitened = _whiten(_fold(_resample(oriented, scale_xy)))
        sync_map = self._correlate(whitened, 0)
        sync_z = float((sync_map.max() - sync_map.mean()) / (sync_map.std() + 1e-12))
        return _Candidate(sync_z, scale_xy, mirrored, whitened)

    def _correlate(self, whitened: ComplexArray, index: int) -> FloatArray:
        spectrum = whitened * self._templates_fft[index]
        return np.fft.irfft2(spectrum, s=(TILE_PX, TILE_PX)).astype(np.float32)

    def _correlate_all(self, whitened: ComplexArray) -> FloatArray:
        spectra = whitened[None] * self._templates_fft
        return np.fft.irfft2(spectra, s=(TILE_PX, TILE_PX)).astype(np.float32)


def _candidate_scales(residual: FloatArray) -> list[tuple[float, float]]:
    """The uncropped scale, then a +-1% grid around the autocorrelation estimate and around each
    axis's estimate taken for both axes (an aspect-keeping crop, when one axis's peak is weak)."""
    scale_x, scale_y = _autocorrelation_scales(residual)
    candidates = [(1.0, 1.0)]
    for centre_x, centre_y in dict.fromkeys([(scale_x, scale_y), (scale_x, scale_x), (scale_y, scale_y)]):
        candidates += [
            (centre_x * (1 + dx), centre_y * (1 + dy)) for dx in _REFINE_STEPS for dy in _REFINE_STEPS
        ]
    return candidates


def _autocorrelation_scales(residual: FloatArray) -> tuple[float, float]:
    """Tile period along x and y relative to ``TILE_PX``, from autocorrelation peaks near lag 0."""
    height, width = residual.shape
    centred = residual - residual.mean()
    power = np.abs(np.fft.rfft2(centred, s=(2 * height, 2 * width))) ** 2
    autocorrelation = np.fft.irfft2(power, s=(2 * height, 2 * width))
    near_rows = autocorrelation[0] + autocorrelation[1] + autocorrelation[-1]
    near_cols = autocorrelation[:, 0] + autocorrelation[:, 1] + autocorrelation[:, -1]
    return _period(near_rows[:width], width), _period(near_cols[:height], height)


def _period(line: npt.NDArray[np.float64], length: int) -> float:
    """Strongest autocorrelation lag in the scale range (per overlapping sample), sub-pixel."""
    low = int(TILE_PX * _SCALE_RANGE[0])
    high = min(int(TILE_PX * _SCALE_RANGE[1]), length - TILE_PX // 2)
    if high <= low + 2:
        return 1.0
    lags = np.arange(low, high)
    values = line[low:high] / (length - lags)
    i = int(np.argmax(values))
    offset = 0.0
    if 0 < i < len(values) - 1:
        curvature = values[i - 1] - 2 * values[i] + values[i + 1]
        offset = 0.5 * (values[i - 1] - values[i + 1]) / curvature if curvature < 0 else 0.0
    return float((low + i + offset) / TILE_PX)


def _resample(residual: FloatArray, scale_xy: tuple[float, float]) -> FloatArray:
    if scale_xy == (1.0, 1.0):
        return residual
    height, width = residual.shape
    size_wh = (max(1, round(width / scale_xy[0])), max(1, round(height / scale_xy[1])))
    resampled: FloatArray = cv2.resize(residual, size_wh, interpolation=cv2.INTER_LINEAR).astype(np.float32)
    return resampled


def _fold(residual: FloatArray) -> FloatArray:
    """Average of the residual over every tile position (modulo the tile period)."""
    height, width = residual.shape
    rows, cols = ceil(height / TILE_PX), ceil(width / TILE_PX)
    padded = np.zeros((rows * TILE_PX, cols * TILE_PX), np.float32)
    counts = np.zeros_like(padded)
    padded[:height, :width] = residual
    counts[:height, :width] = 1.0
    total = padded.reshape(rows, TILE_PX, cols, TILE_PX).sum(axis=(0, 2))
    count = counts.reshape(rows, TILE_PX, cols, TILE_PX).sum(axis=(0, 2))
    folded: FloatArray = (total / np.maximum(count, 1.0)).astype(np.float32)
    return folded


def _whiten(folded: FloatArray) -> ComplexArray:
    """Spectrum of the folded tile with its magnitude partly flattened (damps the picture's own energy)."""
    spectrum = np.fft.rfft2(folded)
    return spectrum / (np.abs(spectrum) ** _WHITEN_POWER + 1e-6)
