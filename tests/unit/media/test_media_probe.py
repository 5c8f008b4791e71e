"""probe() and is_image_path() on synthetic media made in tmp_path."""

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facecraft.media.probe import AudioInfo, is_image_path, probe

MakeVideo = Callable[..., Path]


def test_probe_reports_size_rate_count_codec_and_audio(make_video: MakeVideo) -> None:
    info = probe(make_video("clip.mp4", frames=20, fps=30, audio=True))

    assert (info.width, info.height) == (64, 48)
    assert info.display_wh == (64, 48)
    assert info.rotation_deg == 0
    assert info.fps == Fraction(30)
    assert not info.is_variable_frame_rate
    assert (info.frame_count, info.frame_count_is_exact) == (20, True)
    assert info.duration_s == pytest.approx(20 / 30, abs=1e-3)
    assert (info.codec, info.pixel_format) == ("h264", "yuv420p")
    assert info.audio_streams == (AudioInfo(codec="aac", sample_rate=44_100, channels=1),)
    assert info.has_audio


def test_probe_without_audio_lists_no_audio_stream(make_video: MakeVideo) -> None:
    info = probe(make_video("silent.mp4"))

    assert info.audio_streams == ()
    assert not info.has_audio


def test_probe_detects_variable_frame_rate_from_timestamps(make_video: MakeVideo) -> None:
    times_s = [0.0, 0.04, 0.05, 0.15, 0.2, 0.21, 0.4, 0.45, 0.5, 0.7]

    info = probe(make_video("vfr.mp4", frames=len(times_s), times_s=times_s))

    assert info.is_variable_frame_rate


def test_probe_reads_rotation_and_swaps_display_size(make_video: MakeVideo) -> None:
    info = probe(make_video("rotated.mp4", rotation_ccw=90))

    assert info.rotation_deg == 270  # 90 counter-clockwise == 270 clockwise
    assert (info.width, info.height) == (64, 48)
    assert info.display_wh == (48, 64)


def test_probe_estimates_frame_count_when_the_container_has_no_index(tmp_path: Path) -> None:
    path = _write_mkv(tmp_path / "clip.mkv", frames=20)

    info = probe(path)

    assert not info.frame_count_is_exact
    assert abs(info.frame_count - 20) <= 1


def test_is_image_path_judges_by_content(tmp_path: Path, make_video: MakeVideo) -> None:
    image_path = tmp_path / "photo.png"
    Image.fromarray(np.zeros((8, 8, 3), dtype=np.uint8)).save(image_path)
    video_named_like_image = make_video("clip.mp4").rename(tmp_path / "clip.jpg")

    assert is_image_path(image_path)
    assert not is_image_path(make_video("other.mp4"))
    assert not is_image_path(video_named_like_image)


def test_is_image_path_falls_back_to_suffix_when_unreadable(tmp_path: Path) -> None:
    assert is_image_path(tmp_path / "not-written-yet.jpg")
    assert not is_image_path(tmp_path / "not-written-yet.mp4")
    assert not is_image_path(tmp_path)


def _write_mkv(path: Path, frames: int) -> Path:
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=30, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for number in range(frames):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), number * 10, np.uint8), format="bgr24")
            frame.pts = number
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path
