"""Still images: read upright BGR frames (EXIF orientation applied) and write JPEG/PNG/WebP atomically.

The pixel count is checked from the file header before any pixel is decoded, so a small file that
would expand to gigabytes (an "image bomb") is refused cheaply with ImageTooLargeError.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from facecraft.errors import (
    CorruptMediaError,
    ImageTooLargeError,
    UnsupportedFormatError,
)
from facecraft.media.probe import IMAGE_FORMATS
from facecraft.media.validate import check_input_file, check_output_path, translate_write_error
from facecraft.types import Frame

DEFAULT_MAX_IMAGE_PIXELS = 80_000_000
"""Largest image read by default (width x height), e.g. 10000 x 8000; about 240 MB once decoded."""

WRITE_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP"}
"""Output suffix -> Pillow format."""


def read_image(path: Path | str, max_pixels: int = DEFAULT_MAX_IMAGE_PIXELS) -> Frame:
    """Read a still image as an upright H x W x 3 uint8 BGR array (alpha dropped, grey expanded)."""
    path = check_input_file(path)
    try:
        with Image.open(path, formats=IMAGE_FORMATS) as image:
            _check_pixels(path, image.size, max_pixels)
            upright = ImageOps.exif_transpose(image)
            rgb = np.asarray(upright.convert("RGB"), dtype=np.uint8)
    except Image.DecompressionBombError as error:
        raise ImageTooLargeError(path, _pillow_limit() + 1, min(max_pixels, _pillow_limit())) from error
    except UnidentifiedImageError as error:
        detail = f"not an image facecraft reads ({', '.join(IMAGE_FORMATS)})"
        raise UnsupportedFormatError(path, detail) from error
    except (OSError, SyntaxError, ValueError) as error:
        raise CorruptMediaError(path, str(error) or type(error).__name__) from error
    return np.ascontiguousarray(rgb[:, :, ::-1])


def write_image(path: Path | str, frame_bgr: Frame, quality: int = 95) -> Path:
    """Save ``frame_bgr`` as JPEG, PNG or WebP (by suffix); written to a temp file, then renamed."""
    path = check_output_path(path)
    image_format = _write_format(path)
    _check_frame(frame_bgr)
    if not 1 <= quality <= 100:
        raise ValueError(f"quality must be in 1..100, got {quality}")
    tmp_path = path.with_name(f".{path.stem}.{secrets.token_hex(4)}.partial{path.suffix}")
    image = Image.fromarray(np.ascontiguousarray(frame_bgr[:, :, ::-1]))
    try:
        image.save(tmp_path, format=image_format, **_save_options(image_format, quality))
        tmp_path.replace(path)
    except OSError as error:
        tmp_path.unlink(missing_ok=True)
        raise translate_write_error(path, error) from error
    return path


def _check_pixels(path: Path, size_wh: tuple[int, int], max_pixels: int) -> None:
    pixels = size_wh[0] * size_wh[1]
    if pixels > max_pixels:
        raise ImageTooLargeError(path, pixels, max_pixels)


def _pillow_limit() -> int:
    """Pillow refuses images over twice its MAX_IMAGE_PIXELS at open time, before we see the size."""
    return 2 * int(Image.MAX_IMAGE_PIXELS or 0)


def _write_format(path: Path) -> str:
    image_format = WRITE_FORMATS.get(path.suffix.lower())
    if image_format is None:
        raise UnsupportedFormatError(path, f"unknown image suffix; use one of {sorted(WRITE_FORMATS)}")
    return image_format


def _save_options(image_format: str, quality: int) -> dict[str, int | bool]:
    if image_format == "PNG":
        return {"compress_level": 6}
    return {"quality": quality}


def _check_frame(frame_bgr: Frame) -> None:
    if frame_bgr.dtype != np.uint8 or frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3:
        raise ValueError(f"frame_bgr must be H x W x 3 uint8, got {frame_bgr.shape} {frame_bgr.dtype}")
