"""FrameWriter: timestamps (CFR and VFR), bit-exact audio remux, odd sizes, codecs, atomic output."""

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from facecraft.errors import MediaError, UnsupportedFormatError
from facecraft.media.probe import probe
from facecraft.media.reader import FrameReader, VideoFrame
from facecraft.media.writer import VIDEO_CODECS, FrameWriter, default_time_base

MakeVideo = Callable[..., Path]


def _frame(number: int, size_wh: tuple[int, int] = (64, 48)) -> np.ndarray:
    width, height = size_wh
    x = np.arange(width, dtype=np.int32)[None, :]
    frame = np.zeros((height, width, 3), dtype=np.uint8)
    frame[:, :, 0] = (x * 2 + number * 4) % 256  # smooth: no wrap for the numbers used here
    frame[:, :, 2] = 128
    frame[:16, :16] = number * 12
    return frame


def _number(frame_bgr: np.ndarray) -> int:
    return round(float(frame_bgr[4:12, 4:12].mean()) / 12)


def _psnr_db(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b) ** 2))
    return float(10 * np.log10(255**2 / max(mse, 1e-9)))


def _read_all(path: Path) -> list[VideoFrame]:
    with FrameReader(path) as reader:
        return list(reader)


def _audio_packets(path: Path) -> list[tuple[bytes, int]]:
    with av.open(str(path)) as container:
        return [(bytes(p), p.pts) for p in container.demux(audio=0) if p.size and p.pts is not None]


def test_codec_choices_come_from_one_literal() -> None:
    assert VIDEO_CODECS == ("h264", "h265", "vp9")


def test_constant_rate_round_trip_keeps_count_order_and_times(tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    with FrameWriter(out, fps=30) as writer:
        for number in range(20):
            writer.write(_frame(number))

    frames = _read_all(out)
    assert [_number(f.image_bgr) for f in frames] == list(range(20))
    assert [f.time_s for f in frames] == pytest.approx([n / 30 for n in range(20)], abs=1e-9)
    assert _psnr_db(frames[5].image_bgr, _frame(5)) > 35
    info = probe(out)
    assert (info.fps, info.frame_count, info.is_variable_frame_rate) == (Fraction(30), 20, False)


def test_variable_frame_rate_timestamps_survive(tmp_path: Path) -> None:
    times_s = [0.0, 0.04, 0.05, 0.15, 0.2, 0.21, 0.4, 0.45, 0.5, 0.7]
    out = tmp_path / "vfr.mp4"
    with FrameWriter(out, fps=30) as writer:
        for number, time_s in enumerate(times_s):
            writer.write(_frame(number), time_s=time_s)

    frames = _read_all(out)
    assert [f.time_s for f in frames] == pytest.approx(times_s, abs=1e-6)
    assert [_number(f.image_bgr) for f in frames] == list(range(len(times_s)))
    assert probe(out).is_variable_frame_rate


def test_default_time_base_holds_whole_frames() -> None:
    assert default_time_base(Fraction(30)) == Fraction(1, 90_000)
    ntsc = Fraction(30_000, 1001)
    assert (1 / (ntsc * default_time_base(ntsc))).denominator == 1


def test_source_audio_is_copied_bit_exact(make_video: MakeVideo, tmp_path: Path) -> None:
    source = make_video("source.mp4", frames=30, audio=True)
    out = tmp_path / "out.mp4"
    with FrameReader(source) as reader, FrameWriter(out, fps=reader.info.fps, audio_from=source) as writer:
        for frame in reader:
            writer.write(frame.image_bgr, frame.time_s)

    assert _audio_packets(out) == _audio_packets(source)
    assert probe(out).audio_streams == probe(source).audio_streams


def test_trimmed_audio_keeps_only_the_window_shifted_to_zero(make_video: MakeVideo, tmp_path: Path) -> None:
    source = make_video("source.mp4", frames=30, audio=True)
    out = tmp_path / "trim.mp4"
    start_s, end_s = 0.3, 0.7
    with (
        FrameReader(source, start_s=start_s, end_s=end_s) as reader,
        FrameWriter(out, fps=30, audio_from=source, start_s=start_s, end_s=end_s) as writer,
    ):
        for frame in reader:
            writer.write(frame.image_bgr, frame.time_s)

    offset = round(start_s * 44_100)
    shifted = [(data, pts - offset) for data, pts in _audio_packets(source)]
    copied = _audio_packets(out)
    first = shifted.index(copied[0])
    assert copied == shifted[first : first + len(copied)]  # a run of source packets, bytes untouched
    assert copied[0][1] <= 0 < copied[0][1] + 1024  # the first packet covers the window's start
    assert copied[-1][1] < (end_s - start_s) * 44_100 <= shifted[first + len(copied)][1]
    assert _read_all(out)[0].time_s == 0.0


@pytest.mark.parametrize(
    ("codec", "suffix", "stored_wh"), [("h264", ".mp4", (64, 48)), ("vp9", ".webm", (63, 47))]
)
def test_odd_sizes_pad_for_h264_and_stay_exact_for_vp9(
    tmp_path: Path, codec: str, suffix: str, stored_wh: tuple[int, int]
) -> None:
    out = tmp_path / f"odd{suffix}"
    with FrameWriter(out, fps=30, codec=codec) as writer:  # type: ignore[arg-type]
        for number in range(3):
            writer.write(_frame(number, size_wh=(63, 47)))

    frame = _read_all(out)[0].image_bgr
    assert (frame.shape[1], frame.shape[0]) == stored_wh
    if stored_wh == (64, 48):  # the padding repeats the last column and row
        assert np.abs(frame[:, 63].astype(int) - frame[:, 62]).mean() < 4
        assert np.abs(frame[47].astype(int) - frame[46]).mean() < 4


def test_h265_in_mkv(tmp_path: Path) -> None:
    out = tmp_path / "clip.mkv"
    with FrameWriter(out, fps=25, codec="h265", preset="ultrafast") as writer:
        for number in range(5):
            writer.write(_frame(number))

    assert probe(out).codec == "hevc"
    assert [_number(f.image_bgr) for f in _read_all(out)] == list(range(5))


def test_output_appears_only_on_clean_close(tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    with FrameWriter(out, fps=30, preset="ultrafast") as writer:
        for number in range(60):
            writer.write(_frame(number % 20))
        assert not out.exists()
        (partial,) = tmp_path.iterdir()
        assert partial.name.startswith(".out.") and partial.name.endswith(".partial.mp4")

    assert [p.name for p in tmp_path.iterdir()] == ["out.mp4"]


def test_exception_inside_with_leaves_nothing_behind(tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    with pytest.raises(KeyError), FrameWriter(out, fps=30) as writer:
        for number in range(5):
            writer.write(_frame(number))
        raise KeyError("boom")

    assert list(tmp_path.iterdir()) == []


def test_exception_keeps_an_existing_file_untouched(tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    out.write_bytes(b"previous result")
    with pytest.raises(RuntimeError), FrameWriter(out, fps=30) as writer:
        writer.write(_frame(0))
        raise RuntimeError("cancelled")

    assert out.read_bytes() == b"previous result"
    assert [p.name for p in tmp_path.iterdir()] == ["out.mp4"]


def test_writing_no_frame_saves_nothing(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="no frames"), FrameWriter(tmp_path / "out.mp4", fps=30):
        pass

    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "codec", "match"),
    [("out.avi", "h264", "suffix"), ("out.webm", "h264", "webm"), ("out.mp4", "av1", "codec")],
)
def test_unusable_container_or_codec_is_refused(tmp_path: Path, name: str, codec: str, match: str) -> None:
    with pytest.raises((UnsupportedFormatError, ValueError), match=match):
        FrameWriter(tmp_path / name, fps=30, codec=codec)  # type: ignore[arg-type]


def test_aac_audio_into_webm_is_refused_before_writing(make_video: MakeVideo, tmp_path: Path) -> None:
    source = make_video("source.mp4", frames=5, audio=True)
    out = tmp_path / "out.webm"

    with (
        pytest.raises(UnsupportedFormatError, match="aac"),
        FrameWriter(out, fps=30, codec="vp9", audio_from=source),
    ):
        pass

    assert sorted(p.name for p in tmp_path.iterdir()) == ["source.mp4"]


def test_missing_encoder_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(av, "codecs_available", {"libx264"})

    with (
        pytest.raises(UnsupportedFormatError, match="no libx265 encoder"),
        FrameWriter(tmp_path / "out.mp4", fps=30, codec="h265"),
    ):
        pass


def test_frames_must_keep_size_and_times_must_increase(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="every frame"), FrameWriter(tmp_path / "a.mp4", fps=30) as writer:
        writer.write(_frame(0))
        writer.write(_frame(1, size_wh=(32, 32)))
    with pytest.raises(ValueError, match="increase"), FrameWriter(tmp_path / "b.mp4", fps=30) as writer:
        writer.write(_frame(0), time_s=0.5)
        writer.write(_frame(1), time_s=0.5)

    assert list(tmp_path.iterdir()) == []
