"""Bad video input gets a typed, actionable error from probe() and FrameReader alike; nothing raw escapes."""

from collections.abc import Callable
from pathlib import Path

import pytest

from facecraft.errors import (
    CorruptMediaError,
    EmptyMediaError,
    MediaNotFoundError,
    NotAFileError,
    NoVideoStreamError,
    UnsupportedCodecError,
)
from facecraft.media.probe import probe
from facecraft.media.reader import FrameReader
from facecraft.media.writer import FrameWriter

MakeVideo = Callable[..., Path]
Opener = Callable[[Path], object]


def _probe(path: Path) -> object:
    return probe(path)


def _read(path: Path) -> object:
    with FrameReader(path) as reader:
        return list(reader)


OPENERS = [pytest.param(_probe, id="probe"), pytest.param(_read, id="reader")]


@pytest.mark.parametrize("open_media", OPENERS)
def test_missing_file(tmp_path: Path, open_media: Opener) -> None:
    with pytest.raises(MediaNotFoundError, match="not found"):
        open_media(tmp_path / "nope.mp4")


@pytest.mark.parametrize("open_media", OPENERS)
def test_zero_byte_file(tmp_path: Path, open_media: Opener) -> None:
    path = tmp_path / "empty.mp4"
    path.touch()

    with pytest.raises(EmptyMediaError, match="empty"):
        open_media(path)


@pytest.mark.parametrize("open_media", OPENERS)
def test_directory(tmp_path: Path, open_media: Opener) -> None:
    with pytest.raises(NotAFileError, match="directory"):
        open_media(tmp_path)


@pytest.mark.parametrize("open_media", OPENERS)
def test_mp4_cut_before_its_index(make_video: MakeVideo, open_media: Opener) -> None:
    path = make_video("cut.mp4", frames=20)  # index (moov) at the end, so a cut loses it
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])

    with pytest.raises(CorruptMediaError, match="truncated or damaged"):
        open_media(path)


@pytest.mark.parametrize("open_media", OPENERS)
def test_random_bytes(tmp_path: Path, open_media: Opener) -> None:
    path = tmp_path / "noise.mp4"
    path.write_bytes(bytes(range(256)) * 20)

    with pytest.raises(CorruptMediaError):
        open_media(path)


@pytest.mark.parametrize("open_media", OPENERS)
def test_audio_only_file(make_audio_only: Callable[[str], Path], open_media: Opener) -> None:
    with pytest.raises(NoVideoStreamError, match="no video stream"):
        open_media(make_audio_only("voice.m4a"))


@pytest.mark.parametrize("open_media", OPENERS)
def test_codec_without_decoder(make_video: MakeVideo, open_media: Opener) -> None:
    # Renaming the sample entry 'avc1' to an unknown tag leaves a valid MP4 whose codec no decoder knows.
    path = make_video("odd-codec.mp4", frames=5)
    path.write_bytes(path.read_bytes().replace(b"avc1", b"zzz1"))

    with pytest.raises(UnsupportedCodecError, match=r"Convert it to H\.264"):
        open_media(path)


def test_writer_with_missing_audio_source_leaves_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"

    with pytest.raises(MediaNotFoundError), FrameWriter(out, fps=30, audio_from=tmp_path / "gone.mp4"):
        pass

    assert list(tmp_path.iterdir()) == []


def test_writer_into_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(MediaNotFoundError), FrameWriter(tmp_path / "no" / "out.mp4", fps=30):
        pass
