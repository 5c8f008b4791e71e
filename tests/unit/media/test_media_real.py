"""The media package on real footage from ../shared/media (skipped when it is absent)."""

from fractions import Fraction
from pathlib import Path

import av
import pytest

from facecraft.media.image import read_image
from facecraft.media.probe import AudioInfo, is_image_path, probe
from facecraft.media.reader import FrameReader
from facecraft.media.writer import FrameWriter

pytestmark = pytest.mark.media


def test_probe_square_talking_head(media_dir: Path) -> None:
    info = probe(media_dir / "videos" / "d10.mp4")

    assert (info.width, info.height, info.rotation_deg) == (512, 512, 0)
    assert info.fps == Fraction(30)
    assert not info.is_variable_frame_rate
    assert info.frame_count_is_exact
    assert info.duration_s == pytest.approx(15.0, abs=0.1)
    assert info.audio_streams == (AudioInfo(codec="aac", sample_rate=44_100, channels=2),)


def test_probe_720p(media_dir: Path) -> None:
    info = probe(media_dir / "videos" / "s18.mp4")

    assert info.display_wh == (1280, 720)
    assert (info.codec, info.pixel_format) == ("h264", "yuv420p")
    assert info.frame_count == 282


def test_read_all_and_reencode_with_audio(media_dir: Path, tmp_path: Path) -> None:
    source = media_dir / "videos" / "d18.mp4"
    out = tmp_path / "d18-copy.mp4"

    with (
        FrameReader(source) as reader,
        FrameWriter(out, fps=reader.info.fps, preset="veryfast", audio_from=source) as writer,
    ):
        for frame in reader:
            assert frame.image_bgr.shape == (480, 480, 3)
            writer.write(frame.image_bgr, frame.time_s)
        source_info = reader.info

    info = probe(out)
    assert writer.frames_written == source_info.frame_count == info.frame_count == 216
    assert (info.width, info.height, info.fps) == (480, 480, source_info.fps)
    assert info.duration_s == pytest.approx(source_info.duration_s, abs=0.04)
    assert info.audio_streams == source_info.audio_streams
    assert _audio_bytes(out) == _audio_bytes(source)


def test_real_photo_is_an_image(media_dir: Path) -> None:
    path = media_dir / "images" / "d8.jpg"

    assert is_image_path(path)
    assert read_image(path).shape == (720, 720, 3)
    assert not is_image_path(media_dir / "videos" / "d0.mp4")


def _audio_bytes(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(packet) for packet in container.demux(audio=0) if packet.size]
