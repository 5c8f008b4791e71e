"""Invisible watermark: mark every output frame with a 32-bit payload, and read it back from files.

``WatermarkStage(payload)`` is a runner ``FrameStage``: it adds a keyed pattern of +-1 cells to every
frame, each cell drawn in texture (up to a few levels) and hardly at all on flat areas, where only a
fraction of a cell's pixels move by one level (about 1 ms per 720p frame).
``mark_image`` marks a still. ``detect_watermark(path)`` reads a video (frames sampled across it, their
residuals averaged) or an image and says whether it carries a facecraft mark and which payload.
The method (a tiled spread-spectrum pattern with an autocorrelation/sync search that undoes crops
and resizes) is described in :mod:`facecraft.provenance.watermark_pattern`; it needs no model file.

What a reading means:

* ``bit_accuracy`` is a confidence in 0..1: the mean over the 32 bits of ``2*Phi(|z|) - 1``, where
  ``z`` is the bit's correlation z-score and ``Phi`` the normal CDF. It is the chance that pure noise
  would give a weaker soft bit: about 0.5 on an unmarked picture (chance), above 0.99 when every bit
  stands 2.6 sigma or more clear of noise.
* ``found`` needs all three: the sync pattern found well above the noise maximum
  (``SYNC_Z_MIN``), the 12-bit facecraft tag read exactly, and ``bit_accuracy >= MIN_BIT_ACCURACY``.

Marks are readable, and therefore removable or forgeable, by anyone with this (open) code; they say
"facecraft made this", they do not prove it. C2PA signatures carry the proof.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from math import erf, sqrt
from pathlib import Path

import cv2
import numpy as np

from facecraft.media.image import read_image
from facecraft.media.probe import is_image_path, probe
from facecraft.media.reader import FrameReader
from facecraft.provenance.payload import FACECRAFT_TAG, WatermarkPayload
from facecraft.provenance.watermark_pattern import (
    CellGrid,
    PatternMatch,
    PatternReader,
    build_layout,
    canonical_residual,
)
from facecraft.provenance.watermark_strength import cell_magnitudes, pixel_dither, whole_levels
from facecraft.types import FloatArray, Frame

SYNC_Z_MIN = 8.0
"""Sync peak z-score needed to call a mark found; unmarked pictures peak at about 4 to 5."""

MIN_BIT_ACCURACY = 0.8
"""Confidence needed (with the tag) to call a mark found; unmarked pictures give about 0.5."""

DEFAULT_SAMPLE_FRAMES = 48
"""Frames read from a video, evenly spread over it, whose residuals are averaged."""

STRENGTH_REFRESH_FRAMES = 3
"""The stage recomputes cell magnitudes from the picture every this many frames."""

MIN_READ_SHORT_SIDE_PX = 96
"""Smallest picture (short side) the reader tries; a marked frame halved twice is about this size."""

SEQUENTIAL_FRAME_LIMIT = 900
"""Videos up to this many frames are decoded straight through; longer ones are sampled by seeking."""


@dataclass(frozen=True, slots=True)
class WatermarkReading:
    """What the watermark reader found in a file or frames (see the module doc for the fields)."""

    found: bool
    bit_accuracy: float
    payload: WatermarkPayload | None

    def to_json(self) -> dict[str, object]:
        payload = None
        if self.payload is not None:
            payload = {"tag": f"0x{self.payload.tag:03x}", "record_id": self.payload.record_id_hex}
        return {"found": self.found, "bit_accuracy": round(self.bit_accuracy, 4), "payload": payload}


class WatermarkStage:
    """Runner ``FrameStage`` that marks every frame with ``payload``.

    The cell signs are tiled once per frame size. The cell magnitudes follow the picture's local
    contrast; they are recomputed every ``STRENGTH_REFRESH_FRAMES`` frames (a tenth of a second at
    30 fps: texture moves little in between), dithered to whole levels pixel by pixel and drawn as
    frame-sized images that every frame then gets with one saturating add and one subtract.
    """

    def __init__(self, payload: WatermarkPayload) -> None:
        self.payload = payload
        self._tile_signs = build_layout().cell_signs(payload.to_bits())
        self._grid: CellGrid | None = None
        self._signs = np.zeros((0, 0), np.int16)
        self._dither_px = np.zeros((0, 0), np.uint8)
        self._raise_bgr = np.zeros((0, 0, 3), np.uint8)
        self._lower_bgr = np.zeros((0, 0, 3), np.uint8)
        self._frames_since_refresh = 0

    def process(self, frame_bgr: Frame, index: int, time_s: float) -> Frame:
        """Return a marked copy of ``frame_bgr`` (H x W x 3 uint8)."""
        grid, resized = self._grid_for(frame_bgr)
        if resized or self._frames_since_refresh >= STRENGTH_REFRESH_FRAMES:
            self._draw_levels(frame_bgr, grid)
            self._frames_since_refresh = 0
        self._frames_since_refresh += 1
        marked = np.empty_like(frame_bgr)  # numpy reuses freed pages; OpenCV would map fresh ones
        cv2.add(frame_bgr, self._raise_bgr, dst=marked)
        cv2.subtract(marked, self._lower_bgr, dst=marked)
        return marked

    def _draw_levels(self, frame_bgr: Frame, grid: CellGrid) -> None:
        """Recompute cell magnitudes from ``frame_bgr`` into the frame-sized raise/lower images."""
        steps = self._signs * cell_magnitudes(frame_bgr, grid)
        for cells, out in ((steps, self._raise_bgr), (-steps, self._lower_bgr)):
            single = whole_levels(grid.upsample(np.maximum(cells, 0).astype(np.uint8)), self._dither_px)
            cv2.merge((single, single, single), dst=out)

    def _grid_for(self, frame_bgr: Frame) -> tuple[CellGrid, bool]:
        """The cell grid for this frame's size, and whether the size changed (buffers remade).

        Frame-sized buffers are kept: fresh multi-megabyte arrays every frame cost page faults.
        """
        if frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3 or frame_bgr.dtype != np.uint8:
            raise ValueError(f"frame_bgr must be H x W x 3 uint8, got {frame_bgr.shape} {frame_bgr.dtype}")
        height, width = int(frame_bgr.shape[0]), int(frame_bgr.shape[1])
        if self._grid is not None and self._grid.frame_hw == (height, width):
            return self._grid, False
        self._grid = CellGrid.for_frame(height, width)
        self._signs = self._grid.tile(self._tile_signs)
        self._dither_px = pixel_dither(height, width)
        self._raise_bgr = np.zeros((height, width, 3), np.uint8)
        self._lower_bgr = np.zeros((height, width, 3), np.uint8)
        return self._grid, True


def mark_image(frame_bgr: Frame, payload: WatermarkPayload) -> Frame:
    """A marked copy of a still image (the same pattern the video stage adds)."""
    return WatermarkStage(payload).process(frame_bgr, 0, 0.0)


def read_frame_bits(frame_bgr: Frame) -> WatermarkReading:
    """Read the watermark from one frame or still."""
    return read_frames([frame_bgr])


def read_frames(frames_bgr: Iterable[Frame]) -> WatermarkReading:
    """Read the watermark from frames of one video (same size), their residuals averaged.

    Frames whose short side is under ``MIN_READ_SHORT_SIDE_PX`` cannot hold a readable mark and
    give a reading with ``found=False``.
    """
    frames = iter(frames_bgr)
    first = next(frames, None)
    if first is None:
        raise ValueError("no frames to read the watermark from")
    if min(first.shape[:2]) < MIN_READ_SHORT_SIDE_PX:
        return WatermarkReading(found=False, bit_accuracy=0.0, payload=None)
    return reading_from_match(match_frames(chain([first], frames)))


def match_frames(frames_bgr: Iterable[Frame]) -> PatternMatch:
    """Where and how strongly the pattern shows in ``frames_bgr`` (diagnostics for benches and tests)."""
    residual = _mean_residual(frames_bgr)
    return PatternReader(build_layout()).match(residual)


def detect_watermark(path: Path, max_frames: int = DEFAULT_SAMPLE_FRAMES) -> WatermarkReading:
    """Read the watermark of a video or image file (raises facecraft ``MediaError`` on bad files)."""
    return read_frames(file_frames(path, max_frames))


def match_file(path: Path, max_frames: int = DEFAULT_SAMPLE_FRAMES) -> PatternMatch:
    """:func:`match_frames` on a video's sampled frames or on an image (diagnostics)."""
    return match_frames(file_frames(path, max_frames))


def file_frames(path: Path, max_frames: int = DEFAULT_SAMPLE_FRAMES) -> Iterator[Frame]:
    """The frames the reader looks at: the image itself, or up to ``max_frames`` video frames."""
    if max_frames < 1:
        raise ValueError(f"max_frames must be >= 1, got {max_frames}")
    if is_image_path(path):
        yield read_image(path)
    else:
        yield from sample_video_frames(Path(path), max_frames)


def reading_from_match(match: PatternMatch) -> WatermarkReading:
    """Turn a pattern match into a reading: bits from the signs, confidence, found or not."""
    bits = (match.bit_z > 0).astype(np.uint8)
    payload = WatermarkPayload.from_bits(bits)
    accuracy = bit_confidence(match.bit_z)
    found = match.sync_z >= SYNC_Z_MIN and payload.tag == FACECRAFT_TAG and accuracy >= MIN_BIT_ACCURACY
    return WatermarkReading(found=found, bit_accuracy=accuracy, payload=payload if found else None)


def bit_confidence(bit_z: FloatArray) -> float:
    """Mean over bits of ``2*Phi(|z|) - 1`` (0.5 for pure noise, 1.0 for bits far above it)."""
    if bit_z.size == 0:
        return 0.0
    return float(np.mean([erf(abs(float(z)) / sqrt(2.0)) for z in bit_z]))


def sample_video_frames(path: Path, max_frames: int) -> Iterator[Frame]:
    """Up to ``max_frames`` frames spread evenly over the video at ``path``."""
    info = probe(path)
    if info.frame_count <= SEQUENTIAL_FRAME_LIMIT:
        step = max(1, info.frame_count // max_frames)
        with FrameReader(path) as reader:
            taken = 0
            for frame in reader:
                if frame.index % step == 0:
                    taken += 1
                    yield frame.image_bgr
                if taken >= max_frames:
                    break
        return
    for start_s in np.linspace(0.0, info.duration_s, max_frames, endpoint=False):
        with FrameReader(path, start_s=float(start_s)) as reader:
            first = next(iter(reader), None)
        if first is not None:
            yield first.image_bgr


def _mean_residual(frames_bgr: Iterable[Frame]) -> FloatArray:
    total: FloatArray | None = None
    count = 0
    for frame_bgr in frames_bgr:
        residual = canonical_residual(frame_bgr)
        if total is None:
            total = residual.copy()
        elif residual.shape != total.shape:
            raise ValueError(f"frames differ in size: {residual.shape} vs {total.shape} (canonical)")
        else:
            total += residual
        count += 1
    if total is None:
        raise ValueError("no frames to read the watermark from")
    mean: FloatArray = (total / np.float32(count)).astype(np.float32)
    return mean


__all__ = [
    "DEFAULT_SAMPLE_FRAMES",
    "MIN_BIT_ACCURACY",
    "SYNC_Z_MIN",
    "PatternMatch",
    "WatermarkReading",
    "WatermarkStage",
    "bit_confidence",
    "detect_watermark",
    "file_frames",
    "mark_image",
    "match_file",
    "match_frames",
    "read_frame_bits",
    "read_frames",
    "reading_from_match",
    "sample_video_frames",
]
