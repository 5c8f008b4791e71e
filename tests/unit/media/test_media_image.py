"""Still images: upright BGR reads (EXIF, alpha, grey), the image-bomb cap, atomic writes, bad input."""

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facecraft.errors import (
    CorruptMediaError,
    EmptyMediaError,
    ImageTooLargeError,
    MediaNotFoundError,
    NotAFileError,
    UnsupportedFormatError,
)
from facecraft.media.image import read_image, write_image

EXIF_ORIENTATION = 0x0112


def _rgb_with_red_left_column(size_wh: tuple[int, int] = (40, 30)) -> np.ndarray:
    width, height = size_wh
    rgb = np.zeros((height, width, 3), dtype=np.uint8)
    rgb[:, :5] = (255, 0, 0)
    return rgb


def test_png_reads_as_bgr(tmp_path: Path) -> None:
    path = tmp_path / "red.png"
    Image.fromarray(_rgb_with_red_left_column()).save(path)

    frame = read_image(path)

    assert frame.shape == (30, 40, 3)
    assert frame.dtype == np.uint8
    assert frame.flags.c_contiguous
    assert tuple(frame[10, 2]) == (0, 0, 255)  # red, in BGR order


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    path = tmp_path / "phone.jpg"
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6  # stored sideways: turn 90 degrees clockwise to view
    Image.fromarray(_rgb_with_red_left_column()).save(path, exif=exif, quality=95)

    frame = read_image(path)

    assert frame.shape == (40, 30, 3)
    assert frame[:5, :, 2].mean() > 200  # the red left column is now the top rows
    assert frame[20:, :, 2].mean() < 30


def test_alpha_is_dropped_and_grey_is_expanded(tmp_path: Path) -> None:
    rgba_path, grey_path = tmp_path / "rgba.png", tmp_path / "grey.png"
    Image.new("RGBA", (8, 6), (10, 20, 30, 40)).save(rgba_path)
    Image.new("L", (8, 6), 77).save(grey_path)

    assert tuple(read_image(rgba_path)[0, 0]) == (30, 20, 10)
    grey = read_image(grey_path)
    assert grey.shape == (6, 8, 3)
    assert np.all(grey == 77)


def test_image_over_the_pixel_cap_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.png"
    Image.new("RGB", (100, 100)).save(path)

    with pytest.raises(ImageTooLargeError, match="10,000 pixels"):
        read_image(path, max_pixels=9_999)


@pytest.mark.parametrize(
    ("width", "height", "match"),
    [(9_000, 9_000, "81,000,000 pixels"), (50_000, 50_000, "over the limit")],  # 81 MP; 2.5 GP
)
def test_image_bomb_is_refused_from_its_header(tmp_path: Path, width: int, height: int, match: str) -> None:
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_header_only(width, height))  # a few bytes that claim a huge picture

    with pytest.raises(ImageTooLargeError, match=match):
        read_image(path)


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp"])
def test_write_then_read_round_trip(tmp_path: Path, suffix: str) -> None:
    frame_bgr = np.zeros((30, 40, 3), dtype=np.uint8)
    frame_bgr[:, :, 0] = 200  # blue
    path = tmp_path / f"out{suffix}"

    assert write_image(path, frame_bgr) == path

    back = read_image(path)
    assert back.shape == (30, 40, 3)
    assert np.abs(back.astype(int) - frame_bgr).max() <= 6
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_failed_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(self: Image.Image, fp: object, *args: object, **kwargs: object) -> None:
        Path(str(fp)).write_bytes(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", fail)

    with pytest.raises(Exception, match="no space left"):
        write_image(tmp_path / "out.png", np.zeros((4, 4, 3), dtype=np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_write_refuses_unknown_suffix_and_bad_arrays(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedFormatError, match="suffix"):
        write_image(tmp_path / "out.gif", np.zeros((4, 4, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        write_image(tmp_path / "out.png", np.zeros((4, 4), dtype=np.float32))


def test_bad_image_input_gets_typed_errors(tmp_path: Path) -> None:
    empty, text, cut = tmp_path / "empty.jpg", tmp_path / "text.jpg", tmp_path / "cut.png"
    empty.touch()
    text.write_text("not an image")
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(cut)
    cut.write_bytes(cut.read_bytes()[:200])

    with pytest.raises(MediaNotFoundError):
        read_image(tmp_path / "missing.jpg")
    with pytest.raises(NotAFileError):
        read_image(tmp_path)
    with pytest.raises(EmptyMediaError):
        read_image(empty)
    with pytest.raises(UnsupportedFormatError, match="not an image"):
        read_image(text)
    with pytest.raises(CorruptMediaError):
        read_image(cut)


def _png_header_only(width: int, height: int) -> bytes:
    """A valid PNG header claiming ``width`` x ``height``, with almost no pixel data behind it."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunks = (
        _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", zlib.compress(b"\0")) + _png_chunk(b"IEND", b"")
    )
    return b"\x89PNG\r\n\x1a\n" + chunks


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
