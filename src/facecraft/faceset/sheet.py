"""The faceset's contact sheet: a grid of up to ``SHEET_MAX_FACES`` faces spread evenly over the set,
each tile captioned with its number and pose, and a title line, for a look by eye."""

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from facecraft.types import Frame

SHEET_MAX_FACES = 64
SHEET_COLUMNS = 8
TILE_PX = 128
_CAPTION_PX = 16
_PAD = 4
_TITLE_PX = 26
_FONT = cv2.FONT_HERSHEY_SIMPLEX
_BACKGROUND_BGR = (32, 32, 32)
_TEXT_BGR = (235, 235, 235)


@dataclass(frozen=True, slots=True)
class SheetTile:
    """One face on the sheet: its crop and a short caption (for example its number and yaw)."""

    crop_bgr: Frame
    caption: str


def spread_indices(count: int, wanted: int = SHEET_MAX_FACES) -> list[int]:
    """Up to ``wanted`` indices in ``range(count)``, evenly spread, first and last included."""
    if count <= 0 or wanted <= 0:
        return []
    if count <= wanted:
        return list(range(count))
    return sorted({round(float(v)) for v in np.linspace(0, count - 1, wanted)})


def draw_sheet(tiles: Sequence[SheetTile], title: str, columns: int = SHEET_COLUMNS) -> Frame:
    """The sheet as one BGR image; an empty set gives a title-only image."""
    columns = max(1, min(columns, len(tiles) or 1))
    rows = (len(tiles) + columns - 1) // columns
    cell_w, cell_h = TILE_PX + _PAD, TILE_PX + _CAPTION_PX + _PAD
    width = max(columns * cell_w + _PAD, 360)
    sheet = np.full((_TITLE_PX + rows * cell_h + _PAD, width, 3), _BACKGROUND_BGR, dtype=np.uint8)
    cv2.putText(sheet, title, (_PAD, _TITLE_PX - 8), _FONT, 0.5, _TEXT_BGR, 1, cv2.LINE_AA)
    for i, tile in enumerate(tiles):
        x0 = _PAD + (i % columns) * cell_w
        y0 = _TITLE_PX + (i // columns) * cell_h
        resized = cv2.resize(tile.crop_bgr, (TILE_PX, TILE_PX), interpolation=cv2.INTER_AREA)
        sheet[y0 : y0 + TILE_PX, x0 : x0 + TILE_PX] = resized
        origin = (x0 + 2, y0 + TILE_PX + _CAPTION_PX - 4)
        cv2.putText(sheet, tile.caption, origin, _FONT, 0.38, _TEXT_BGR, 1, cv2.LINE_AA)
    return np.ascontiguousarray(sheet)
