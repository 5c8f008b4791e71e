"""Contact sheet: for a few frames, the target face, the output face and a heat map of their difference,
with that frame's numbers under each row and the report's headline numbers at the bottom.

Heat map: the largest per-channel absolute difference, ``HEAT_FULL_SCALE`` levels and above shown at full
heat (inferno colour map: black = unchanged, yellow = changed a lot).
"""

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from facecraft.quality.report import QualityReport
from facecraft.types import Frame

TILE_PX = 256
"""Side of each face tile (the face crop is this size in the recorder)."""
SHEET_MARGIN = 1.6
"""A tile spans this many face sizes around the target face."""
HEAT_FULL_SCALE = 64
_PAD = 8
_LINE_PX = 18
_FONT = cv2.FONT_HERSHEY_SIMPLEX
_FONT_SCALE = 0.45
_TEXT_BGR = (235, 235, 235)
_BACKGROUND_BGR = (32, 32, 32)


@dataclass(frozen=True, slots=True)
class SheetFrame:
    """One row of the sheet: same-sized crops of target and output, and that frame's numbers."""

    index: int
    time_s: float
    target_crop_bgr: Frame
    output_crop_bgr: Frame
    id_to_source: float | None
    id_to_target: float | None
    pose_err_deg: float | None
    mar_target: float | None
    mar_output: float | None

    def __post_init__(self) -> None:
        if self.target_crop_bgr.shape != self.output_crop_bgr.shape:
            shapes = f"{self.target_crop_bgr.shape} and {self.output_crop_bgr.shape}"
            raise ValueError(f"target and output crops differ in shape: {shapes}")

    def caption(self) -> str:
        parts = [f"frame {self.index} ({self.time_s:.2f} s)"]
        parts.append(f"d_src {_fmt(self.id_to_source)}  d_tgt {_fmt(self.id_to_target)}")
        parts.append(f"pose err {_fmt(self.pose_err_deg, 1)} deg")
        parts.append(f"MAR {_fmt(self.mar_target)}/{_fmt(self.mar_output)}")
        return "   ".join(parts)


def difference_heat(target_bgr: Frame, output_bgr: Frame) -> Frame:
    """Heat map (BGR) of the largest per-channel |output - target|."""
    diff = np.abs(output_bgr.astype(np.int16) - target_bgr.astype(np.int16)).max(axis=2)
    scaled = np.clip(diff * (255.0 / HEAT_FULL_SCALE), 0, 255).astype(np.uint8)
    heat: Frame = cv2.applyColorMap(scaled, cv2.COLORMAP_INFERNO)
    return heat


def draw_contact_sheet(rows: Sequence[SheetFrame], report: QualityReport, title: str = "") -> Frame:
    """The sheet as one BGR image (write it with ``facecraft.media.image.write_image``)."""
    width = 3 * TILE_PX + 4 * _PAD
    header = _text_block([title or "quality report", "target | output | difference"], width)
    blocks = [header]
    for row in rows:
        blocks.append(_row_image(row, width))
        blocks.append(_text_block([row.caption()], width))
    if not rows:
        blocks.append(_text_block(["no sampled frame had a face in both target and output"], width))
    blocks.append(_text_block(summary_lines(report), width))
    return np.ascontiguousarray(np.vstack(blocks))


def summary_lines(report: QualityReport) -> list[str]:
    """The headline numbers as short lines of text."""
    return [
        f"frames {report.frames}   face found {report.face_found:.1%}",
        f"id to source {_fmt(report.id_to_source)}   id to target {_fmt(report.id_to_target)}",
        f"pose err {_fmt(report.pose_err_deg, 2)} deg   MAR corr {_fmt(report.mar_corr)}"
        f"   EAR corr {_fmt(report.ear_corr)}",
        f"flicker ratio {_fmt(report.flicker_ratio)}   jitter {_fmt(report.jitter, 4)}"
        f"   seam ratio {_fmt(report.seam_ratio)}",
    ]


def _row_image(row: SheetFrame, width: int) -> Frame:
    canvas = np.full((TILE_PX + _PAD, width, 3), _BACKGROUND_BGR, dtype=np.uint8)
    heat = difference_heat(row.target_crop_bgr, row.output_crop_bgr)
    tiles = (row.target_crop_bgr, row.output_crop_bgr, heat)
    for i, tile in enumerate(tiles):
        resized = cv2.resize(tile, (TILE_PX, TILE_PX), interpolation=cv2.INTER_AREA)
        x0 = _PAD + i * (TILE_PX + _PAD)
        canvas[_PAD : _PAD + TILE_PX, x0 : x0 + TILE_PX] = resized
    return canvas


def _text_block(lines: Sequence[str], width: int) -> Frame:
    canvas = np.full((_LINE_PX * len(lines) + _PAD, width, 3), _BACKGROUND_BGR, dtype=np.uint8)
    for i, line in enumerate(lines):
        origin = (_PAD, (i + 1) * _LINE_PX)
        cv2.putText(canvas, line, origin, _FONT, _FONT_SCALE, _TEXT_BGR, 1, cv2.LINE_AA)
    return canvas


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"
