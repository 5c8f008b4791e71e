"""FrameReader on synthetic videos: frames, timestamps, windows, rotation, early exit, truncation."""

import threading
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from facecraft.errors import CorruptMediaError
from facecraft.media.reader import FrameReader, VideoFrame, with_next_time

MakeVideo = Callable[..., Path]


def _read_all(path: Path, start_s: float | None = None, end_s: float | None = None) -> list[VideoFrame]:
    with FrameReader(path, start_s, end_s) as reader:
        return list(reader)


def _number(frame_bgr: np.ndarray) -> int:
    """The frame number that conftest.gradient_frame wrote into the top-left block."""
    return round(float(frame_bgr[4:12, 4:12].mean()) / 12)


def test_reads_every_frame_in_order_with_exact_timestamps(make_video: MakeVideo) -> None:
    frames = _read_all(make_video("clip.mp4", frames=20, fps=30))

    assert [f.index for f in frames] == list(range(20))
    assert [_number(f.image_bgr) for f in frames] == list(range(20))
    for frame in frames:
        assert frame.time_base == Fraction(1, 90_000)
        assert frame.pts == frame.index * 3000
        assert frame.time_s == pytest.approx(frame.index / 30, abs=1e-9)


def test_frames_are_contiguous_bgr_uint8(make_video: MakeVideo) -> None:
    frame = _read_all(make_video("clip.mp4", frames=2))[0]

    assert frame.image_bgr.shape == (48, 64, 3)
    assert frame.image_bgr.dtype == np.uint8
    assert frame.image_bgr.flags.c_contiguous
    # gradient_frame puts 128 in the red channel (index 2 in BGR order) outside the marker block
    assert abs(float(frame.image_bgr[30:, 30:, 2].mean()) - 128) < 4


def test_info_is_available_inside_the_with_block(make_video: MakeVideo) -> None:
    with FrameReader(make_video("clip.mp4", frames=5)) as reader:
        assert reader.info.frame_count == 5
        assert reader.info.display_wh == (64, 48)


def test_start_and_end_select_a_window(make_video: MakeVideo) -> None:
    frames = _read_all(make_video("clip.mp4", frames=30, fps=30), start_s=0.3, end_s=0.6)

    assert [_number(f.image_bgr) for f in frames] == list(range(9, 18))
    assert [f.index for f in frames] == list(range(9))
    assert frames[0].time_s == pytest.approx(0.3)


def test_rotation_metadata_is_applied(make_video: MakeVideo) -> None:
    upright = _read_all(make_video("plain.mp4", frames=3))
    turned = _read_all(make_video("turned.mp4", frames=3, rotation_ccw=90))

    assert turned[0].image_bgr.shape == (64, 48, 3)
    expected = np.rot90(upright[0].image_bgr, k=1)  # k=1: a quarter turn counter-clockwise
    assert np.array_equal(turned[0].image_bgr, expected)
    assert _number(np.rot90(turned[0].image_bgr, k=-1)) == 0


def test_leaving_early_stops_the_decoder_thread(make_video: MakeVideo) -> None:
    path = make_video("clip.mp4", frames=60)
    before = threading.active_count()

    with FrameReader(path) as reader:
        first = next(iter(reader))

    assert first.index == 0
    assert threading.active_count() == before


def test_iterating_outside_with_is_refused(make_video: MakeVideo) -> None:
    reader = FrameReader(make_video("clip.mp4", frames=2))

    with pytest.raises(RuntimeError, match="with"):
        iter(reader)


def test_bad_window_is_refused(make_video: MakeVideo) -> None:
    with pytest.raises(ValueError, match="end_s"):
        FrameReader(make_video("clip.mp4", frames=2), start_s=2.0, end_s=1.0)


def test_file_cut_inside_its_data_yields_what_decodes_then_raises(make_video: MakeVideo) -> None:
    path = make_video("cut.mp4", frames=40, faststart=True, noise=True)  # index first, then data
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 3 // 5])

    got: list[VideoFrame] = []
    with pytest.raises(CorruptMediaError, match="truncated after frame"), FrameReader(path) as reader:
        got.extend(reader)

    assert 5 < len(got) < 40
    assert [f.index for f in got] == list(range(len(got)))


def test_with_next_time_pairs_each_frame_with_the_next_ones_time(make_video: MakeVideo) -> None:
    with FrameReader(make_video("clip.mp4", frames=4, fps=10)) as reader:
        pairs = [(frame.index, next_time_s) for frame, next_time_s in with_next_time(reader)]

    assert pairs == [(0, pytest.approx(0.1)), (1, pytest.approx(0.2)), (2, pytest.approx(0.3)), (3, None)]
    assert list(with_next_time([])) == []
