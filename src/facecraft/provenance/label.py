"""The visible label: a caption such as "AI-generated" drawn on every frame.

White anti-aliased text on a semi-transparent dark box with rounded corners, placed in a corner (or
centred at the top or bottom) with a margin. Sizes are relative to the frame's shorter side, so the
caption looks the same at 320x180 and at 4K; a floor keeps it legible on small frames, and it shrinks
to fit when the text is too long for a narrow frame. The glyphs come from Pillow's built-in scalable
font (no font files are looked up on the system), which covers ASCII; for other scripts or accents
pass ``font_path`` (any TrueType/OpenType file). Text the font cannot draw is refused, not boxed.

The label is rendered once per frame size and blended into each frame in a few array operations.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

from facecraft.types import Frame

LabelPosition = Literal["bottom-right", "bottom-left", "top-right", "top-left", "bottom", "top"]
LABEL_POSITIONS: tuple[LabelPosition, ...] = get_args(LabelPosition)
DEFAULT_LABEL_TEXT = "AI-generated"
DEFAULT_SIZE_FRACTION = 0.045
"""Font size as a fraction of the frame's shorter side (1080p: about 49 px)."""
MIN_FONT_PX = 12
"""Smallest font size used while it fits (legible on a 320x180 frame)."""
MAX_TEXT_CHARS = 80
BOX_OPACITY = 0.62
_MARGIN_FRACTION = 0.025
_PAD_X_EM = 0.45
_PAD_Y_EM = 0.28
_SUPERSAMPLE = 4


@dataclass(frozen=True, slots=True)
class LabelOverlay:
    """A rendered label for one frame size: where it goes and how each pixel is blended."""

    bbox_xyxy: tuple[int, int, int, int]
    keep: npt.NDArray[np.float32]
    """H x W x 1: the weight left to the frame's pixel (box and text cover the rest)."""
    add: npt.NDArray[np.float32]
    """H x W x 1: the white text's contribution, 0..255."""

    def apply(self, frame_bgr: Frame) -> Frame:
        """A copy of ``frame_bgr`` with the label blended in."""
        out = frame_bgr.copy()
        x0, y0, x1, y1 = self.bbox_xyxy
        roi = out[y0:y1, x0:x1].astype(np.float32)
        out[y0:y1, x0:x1] = np.clip(roi * self.keep + self.add + 0.5, 0, 255).astype(np.uint8)
        return out


def render_label(
    size_wh: tuple[int, int],
    text: str = DEFAULT_LABEL_TEXT,
    position: LabelPosition = "bottom-right",
    size_fraction: float = DEFAULT_SIZE_FRACTION,
    font_path: Path | None = None,
) -> LabelOverlay:
    """Lay out and render the label for frames of ``size_wh`` (width, height)."""
    _check_options(text, position, size_fraction, font_path)
    font = _FontSource(font_path)
    width, height = size_wh
    if width < 8 or height < 8:
        raise ValueError(f"frame too small for a label: {width}x{height}")
    margin = max(2, round(_MARGIN_FRACTION * min(width, height)))
    room_wh = (width - 2 * margin, height - 2 * margin)
    font_px = _fitting_font_px(font, text, room_wh, size_fraction, min(width, height))
    text_alpha = _text_alpha(font, text, font_px)
    box_alpha = _box_alpha(text_alpha.shape[1], text_alpha.shape[0], font_px)
    box_h, box_w = text_alpha.shape
    x0, y0 = _place(position, (width, height), (box_w, box_h), margin)
    keep = (1.0 - box_alpha) * (1.0 - text_alpha)
    return LabelOverlay(
        bbox_xyxy=(x0, y0, x0 + box_w, y0 + box_h),
        keep=keep[:, :, None].astype(np.float32),
        add=(255.0 * text_alpha)[:, :, None].astype(np.float32),
    )


def draw_label(
    frame_bgr: Frame,
    text: str = DEFAULT_LABEL_TEXT,
    position: LabelPosition = "bottom-right",
    size_fraction: float = DEFAULT_SIZE_FRACTION,
    font_path: Path | None = None,
) -> Frame:
    """A copy of a still (or any single frame) with the label drawn on it."""
    _check_frame(frame_bgr)
    height, width = frame_bgr.shape[:2]
    return render_label((width, height), text, position, size_fraction, font_path).apply(frame_bgr)


class LabelStage:
    """Frame stage: draws the label on every frame (rendered once per frame size)."""

    def __init__(
        self,
        text: str = DEFAULT_LABEL_TEXT,
        position: LabelPosition = "bottom-right",
        size_fraction: float = DEFAULT_SIZE_FRACTION,
        font_path: Path | None = None,
    ) -> None:
        _check_options(text, position, size_fraction, font_path)
        self.text = text
        self.position = position
        self.size_fraction = size_fraction
        self.font_path = font_path
        self._overlays: dict[tuple[int, int], LabelOverlay] = {}

    def overlay(self, size_wh: tuple[int, int]) -> LabelOverlay:
        if size_wh not in self._overlays:
            self._overlays[size_wh] = render_label(
                size_wh, self.text, self.position, self.size_fraction, self.font_path
            )
        return self._overlays[size_wh]

    def process(self, frame_bgr: Frame, index: int, time_s: float) -> Frame:
        _check_frame(frame_bgr)
        height, width = frame_bgr.shape[:2]
        return self.overlay((width, height)).apply(frame_bgr)


def _check_options(text: str, position: str, size_fraction: float, font_path: Path | None) -> None:
    if not text.strip() or len(text) > MAX_TEXT_CHARS or "\n" in text:
        raise ValueError(f"label text must be one line of 1..{MAX_TEXT_CHARS} characters, got {text!r}")
    if position not in LABEL_POSITIONS:
        raise ValueError(f"label position must be one of {LABEL_POSITIONS}, got {position!r}")
    if not 0.01 <= size_fraction <= 0.25:
        raise ValueError(f"label size_fraction must be in 0.01..0.25, got {size_fraction}")
    missing = _FontSource(font_path).missing_glyphs(text)
    if missing:
        where = f"the font '{font_path}'" if font_path is not None else "the built-in font (ASCII only)"
        raise ValueError(
            f"{where} cannot draw {''.join(missing)!r} in the label {text!r}; "
            "pass a font file that has these characters (font_path), or change the text"
        )


def _check_frame(frame_bgr: Frame) -> None:
    if frame_bgr.dtype != np.uint8 or frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3:
        raise ValueError(f"frame_bgr must be H x W x 3 uint8, got {frame_bgr.shape} {frame_bgr.dtype}")


class _FontSource:
    """Pillow's built-in scalable font, or a TrueType/OpenType file, at any pixel size."""

    _PROBE_PX = 32
    _MISSING = "\U0010fffd"  # a private-use code point no font draws: its bitmap is the .notdef box

    def __init__(self, font_path: Path | None) -> None:
        self.font_path = font_path

    def at(self, font_px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
        if self.font_path is None:
            return ImageFont.load_default(size=font_px)
        try:
            return ImageFont.truetype(str(self.font_path), size=font_px)
        except OSError as error:
            raise ValueError(f"cannot load the label font '{self.font_path}' ({error})") from error

    def missing_glyphs(self, text: str) -> list[str]:
        font = self.at(self._PROBE_PX)
        notdef = _glyph_bitmap(font, self._MISSING)
        return sorted({c for c in text if not c.isspace() and _glyph_bitmap(font, c) == notdef})

    def box_size(self, text: str, font_px: int) -> tuple[int, int]:
        left, top, right, bottom = self.at(font_px).getbbox(text)
        pad_x, pad_y = round(_PAD_X_EM * font_px), round(_PAD_Y_EM * font_px)
        return int(right - left) + 2 * pad_x, int(bottom - top) + 2 * pad_y


def _glyph_bitmap(font: ImageFont.FreeTypeFont | ImageFont.ImageFont, char: str) -> bytes:
    canvas = Image.new("L", (64, 64), 0)
    ImageDraw.Draw(canvas).text((8, 8), char, fill=255, font=font)
    return canvas.tobytes()


def _fitting_font_px(
    font: _FontSource, text: str, room_wh: tuple[int, int], size_fraction: float, short_side: int
) -> int:
    """The wanted size (at least MIN_FONT_PX), reduced until the box fits the frame's free area."""
    room_w, room_h = room_wh
    font_px = max(MIN_FONT_PX, round(size_fraction * short_side))
    while font_px > 4:
        box_w, box_h = font.box_size(text, font_px)
        if box_w <= room_w and box_h <= room_h:
            return font_px
        font_px = min(font_px - 1, int(font_px * min(room_w / box_w, room_h / box_h)))
    raise ValueError(f"the label {text!r} cannot fit a {room_w}x{room_h} area; use a shorter text")


def _text_alpha(font: _FontSource, text: str, font_px: int) -> npt.NDArray[np.float32]:
    """Anti-aliased glyph coverage (0..1) for the whole box, text centred in its padding."""
    face = font.at(font_px)
    left, top, _right, _bottom = face.getbbox(text)
    box_w, box_h = font.box_size(text, font_px)
    pad_x, pad_y = round(_PAD_X_EM * font_px), round(_PAD_Y_EM * font_px)
    canvas = Image.new("L", (box_w, box_h), 0)
    ImageDraw.Draw(canvas).text((pad_x - left, pad_y - top), text, fill=255, font=face)
    return np.asarray(canvas, dtype=np.float32) / 255.0


def _box_alpha(box_w: int, box_h: int, font_px: int) -> npt.NDArray[np.float32]:
    """The dark box's opacity: a rounded rectangle, drawn large and downsampled for smooth corners."""
    scale = _SUPERSAMPLE
    radius = max(1, round(0.3 * font_px)) * scale
    big = Image.new("L", (box_w * scale, box_h * scale), 0)
    ImageDraw.Draw(big).rounded_rectangle(
        (0, 0, box_w * scale - 1, box_h * scale - 1), radius=radius, fill=round(255 * BOX_OPACITY)
    )
    small = big.resize((box_w, box_h), Image.Resampling.BOX)
    return np.asarray(small, dtype=np.float32) / 255.0


def _place(
    position: LabelPosition, size_wh: tuple[int, int], box_wh: tuple[int, int], margin: int
) -> tuple[int, int]:
    (width, height), (box_w, box_h) = size_wh, box_wh
    x_left, x_right, x_mid = margin, width - margin - box_w, (width - box_w) // 2
    y_top, y_bottom = margin, height - margin - box_h
    places: dict[LabelPosition, tuple[int, int]] = {
        "bottom-right": (x_right, y_bottom),
        "bottom-left": (x_left, y_bottom),
        "top-right": (x_right, y_top),
        "top-left": (x_left, y_top),
        "bottom": (x_mid, y_bottom),
        "top": (x_mid, y_top),
    }
    return places[position]
