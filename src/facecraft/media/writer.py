"""Streaming video encode: :class:`FrameWriter` turns BGR frames into an H.264/H.265/VP9 file.

* Timestamps: ``write(frame, time_s=t)`` keeps each frame's own time (a variable frame rate
  survives) on a fine time base; without ``time_s`` frames are spaced at ``fps``.
* Audio: ``audio_from=source`` copies the source's first audio stream packet for packet (bit-exact,
  no re-encode), limited to ``[start_s, end_s)`` and shifted to start at 0 when a window is given.
* Odd sizes: H.264 and H.265 in 4:2:0 cannot store an odd width or height, so such frames are padded
  by one pixel, repeating the last column/row (a 641x481 input gives a 642x482 video). VP9 keeps
  the exact odd size.
* Atomic: frames go to a hidden temporary file beside ``path``, renamed into place only when the
  ``with`` block ends cleanly; on an exception it is deleted and nothing is left behind.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from fractions import Fraction
from math import ceil
from pathlib import Path
from types import TracebackType
from typing import Literal, Self, get_args

import av
import cv2
import numpy as np
from av.audio.stream import AudioStream
from av.container import InputContainer, OutputContainer
from av.error import FFmpegError
from av.packet import Packet
from av.video.reformatter import Interpolation, VideoReformatter
from av.video.stream import VideoStream

from facecraft.errors import MediaError, UnsupportedFormatError
from facecraft.media.validate import (
    check_input_file,
    check_output_path,
    open_input,
    translate_write_error,
    translating_av_errors,
)
from facecraft.types import Frame

VideoCodec = Literal["h264", "h265", "vp9"]
VIDEO_CODECS: tuple[VideoCodec, ...] = get_args(VideoCodec)

Preset = Literal[
    "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"
]
PRESETS: tuple[Preset, ...] = get_args(Preset)

CONTAINER_FORMATS = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm"}
"""Output suffix -> FFmpeg muxer."""

ENCODERS: dict[VideoCodec, str] = {"h264": "libx264", "h265": "libx265", "vp9": "libvpx-vp9"}
_MAX_CRF: dict[VideoCodec, int] = {"h264": 51, "h265": 51, "vp9": 63}
_WEBM_CODECS: frozenset[VideoCodec] = frozenset({"vp9"})
_PIXEL_FORMAT = "yuv420p"
_TICKS_PER_SECOND = 90_000  # default time base is about 1/90000 s, a whole number of ticks per frame
_SWS_FLAGS = Interpolation.BILINEAR | Interpolation.ACCURATE_RND
_AVCOL_SPC_SMPTE170M = 6  # tag: BT.601 matrix, what _to_yuv converts with (OpenCV and swscale alike)
_AVCOL_RANGE_MPEG = 1  # tag: limited ("TV") range


class FrameWriter:
    """Write BGR frames to a video file, optionally with the source's audio, atomically.

    ``with FrameWriter("out.mp4", fps=30, audio_from=Path("in.mp4")) as writer: writer.write(frame)``

    ``start_s``/``end_s`` name the window of the source the output covers: audio packets in it are
    copied and ``time_s`` values given to :meth:`write` are shifted by ``-start_s``.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        fps: Fraction | float,
        codec: VideoCodec = "h264",
        crf: int = 18,
        preset: Preset = "medium",
        audio_from: Path | str | None = None,
        start_s: float | None = None,
        end_s: float | None = None,
        time_base: Fraction | None = None,
    ) -> None:
        self.path = Path(path)
        self.fps = _check_fps(fps)
        self.codec = codec
        self._options = encoder_options(codec, crf, preset)
        self._format = _container_format(self.path, codec)
        self.time_base = time_base or default_time_base(self.fps)
        self._audio_from = Path(audio_from) if audio_from is not None else None
        self._start_s = start_s or 0.0
        self._end_s = end_s
        self._tmp_path: Path | None = None
        self._container: OutputContainer | None = None
        self._video: VideoStream | None = None
        self._audio: _AudioCopier | None = None
        self._size_wh: tuple[int, int] | None = None
        self._last_pts: int | None = None
        self._reformatter = VideoReformatter()
        self.frames_written = 0

    def __enter__(self) -> Self:
        self.path = check_output_path(self.path)
        _check_encoder(self.path, self.codec)
        self._tmp_path = _temp_path(self.path)
        try:
            self._container = self._open_container(self._tmp_path)
            if self._audio_from is not None:
                self._audio = _AudioCopier(
                    self._audio_from, self._container, self.path, self._start_s, self._end_s
                )
        except BaseException:
            self._abort()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is not None:
            self._abort()
            return
        try:
            self._finish()
        except BaseException:
            self._abort()
            raise

    def write(self, frame_bgr: Frame, time_s: float | None = None) -> None:
        """Encode one frame; ``time_s`` (source seconds) keeps its exact time, else frames follow ``fps``."""
        container = self._require_open()
        height, width = _check_frame(frame_bgr, self._size_wh)
        pts = self._next_pts(time_s)
        with self._write_errors():
            stream = self._video or self._add_video_stream(container, width, height)
            av_frame = self._to_yuv(frame_bgr)
            av_frame.pts = pts
            av_frame.time_base = self.time_base
            container.mux(stream.encode(av_frame))
            if self._audio is not None:
                self._audio.copy_until(float(pts * self.time_base))
        self._last_pts = pts
        self.frames_written += 1

    # --- setup ---------------------------------------------------------------------------------

    def _open_container(self, tmp_path: Path) -> OutputContainer:
        with self._write_errors():
            return av.open(str(tmp_path), mode="w", format=self._format)

    def _add_video_stream(self, container: OutputContainer, width: int, height: int) -> VideoStream:
        stream = container.add_stream(ENCODERS[self.codec], rate=self.fps, options=self._options)
        if not isinstance(stream, VideoStream):
            raise TypeError(f"{ENCODERS[self.codec]} did not make a video stream")
        padded_w, padded_h = padded_size(width, height, self.codec)
        stream.width, stream.height = padded_w, padded_h
        stream.pix_fmt = _PIXEL_FORMAT
        stream.thread_type = "AUTO"  # PyAV's default (slice) makes x264 use slower sliced threads
        stream.time_base = self.time_base
        stream.codec_context.time_base = self.time_base
        stream.codec_context.colorspace = _AVCOL_SPC_SMPTE170M
        stream.codec_context.color_range = _AVCOL_RANGE_MPEG
        self._size_wh = (width, height)
        self._video = stream
        return stream

    def _next_pts(self, time_s: float | None) -> int:
        if time_s is None:
            pts = round(self.frames_written / (self.fps * self.time_base))
        else:
            pts = round((Fraction(time_s) - Fraction(self._start_s)) / self.time_base)
        if pts < 0 or (self._last_pts is not None and pts <= self._last_pts):
            raise ValueError(
                f"frame times must increase and not precede start_s: got time_s={time_s} "
                f"after {self.frames_written} frames (time base {self.time_base})"
            )
        return pts

    def _to_yuv(self, frame_bgr: Frame) -> av.VideoFrame:
        """BGR -> yuv420p, BT.601 limited range, accurately rounded (swscale's fast path darkens ~3/255)."""
        padded = self._pad(frame_bgr)
        height, width = padded.shape[:2]
        if width % 2 == 0 and height % 2 == 0:  # OpenCV: same values (+-1), ten times faster
            i420 = np.asarray(cv2.cvtColor(padded, cv2.COLOR_BGR2YUV_I420), dtype=np.uint8)
            return av.VideoFrame.from_ndarray(i420, format=_PIXEL_FORMAT)
        bgr = av.VideoFrame.from_ndarray(padded, format="bgr24")
        return self._reformatter.reformat(bgr, format=_PIXEL_FORMAT, interpolation=_SWS_FLAGS)

    def _pad(self, frame_bgr: Frame) -> Frame:
        height, width = frame_bgr.shape[:2]
        padded_w, padded_h = padded_size(width, height, self.codec)
        if (padded_w, padded_h) == (width, height):
            return frame_bgr
        pad_bottom, pad_right = padded_h - height, padded_w - width
        padded = cv2.copyMakeBorder(frame_bgr, 0, pad_bottom, 0, pad_right, cv2.BORDER_REPLICATE)
        return np.asarray(padded, dtype=np.uint8)

    # --- teardown ------------------------------------------------------------------------------

    def _finish(self) -> None:
        container = self._require_open()
        if self._video is None:
            raise MediaError(f"no frames were written to '{self.path}', so nothing was saved.")
        with self._write_errors():
            container.mux(self._video.encode(None))
            if self._audio is not None:
                self._audio.copy_until(None)
                self._audio.close()
            container.close()
            self._container = None
            assert self._tmp_path is not None
            self._tmp_path.replace(self.path)
            self._tmp_path = None

    def _abort(self) -> None:
        """Close everything quietly and delete the temporary file."""
        if self._audio is not None:
            self._audio.close()
        if self._container is not None:
            with contextlib.suppress(Exception):
                self._container.close()
            self._container = None
        if self._tmp_path is not None:
            self._tmp_path.unlink(missing_ok=True)
            self._tmp_path = None

    def _require_open(self) -> OutputContainer:
        if self._container is None:
            raise RuntimeError("use FrameWriter inside a 'with' block")
        return self._container

    @contextlib.contextmanager
    def _write_errors(self) -> Iterator[None]:
        try:
            yield
        except (FFmpegError, OSError) as error:
            raise translate_write_error(self.path, error) from error


class _AudioCopier:
    """Copies the first audio stream of a source file, packet for packet, into an output container."""

    def __init__(
        self, source: Path, output: OutputContainer, out_path: Path, start_s: float, end_s: float | None
    ) -> None:
        self._source = check_input_file(source)
        self._input: InputContainer | None = open_input(self._source)
        self._end_s = end_s
        self._start_s = start_s
        self._pending: Packet[AudioStream] | None = None
        in_stream = _first_audio(self._input)
        if in_stream is None:
            self.close()
            return
        try:
            _check_audio_fits(output, out_path, in_stream, self._source)
        except BaseException:
            self.close()
            raise
        self._out_stream = output.add_stream_from_template(in_stream)
        self._time_base = in_stream.time_base or Fraction(1, in_stream.sample_rate)
        self._offset_pts = round(Fraction(start_s) / self._time_base)
        self._output = output
        self._packets = self._demux(in_stream)

    def copy_until(self, limit_s: float | None) -> None:
        """Copy the packets whose output time is <= ``limit_s`` (None: all that are left)."""
        if self._input is None:
            return
        while (packet := self._peek()) is not None:
            if limit_s is not None and self._output_time_s(packet) > limit_s:
                return
            self._pending = None
            packet.pts = _shift(packet.pts, self._offset_pts)
            packet.dts = _shift(packet.dts, self._offset_pts)
            packet.stream = self._out_stream
            self._output.mux(packet)

    def close(self) -> None:
        if self._input is not None:
            with contextlib.suppress(Exception):
                self._input.close()
            self._input = None

    def _demux(self, stream: AudioStream) -> Iterator[Packet[AudioStream]]:
        """Packets that overlap [start_s, end_s) in source time (so the window is fully covered)."""
        assert self._input is not None
        with translating_av_errors(self._source):
            if self._start_s > 0:
                self._input.seek(self._offset_pts, stream=stream, backward=True)
            for packet in self._input.demux(stream):
                if packet.size == 0 or packet.pts is None:
                    continue
                if self._start_s > 0 and self._end_time_s(packet) <= self._start_s:
                    continue
                if self._end_s is not None and packet.pts * self._time_base >= self._end_s:
                    return
                yield packet

    def _end_time_s(self, packet: Packet[AudioStream]) -> float:
        assert packet.pts is not None
        return float((packet.pts + (packet.duration or 0)) * self._time_base)

    def _peek(self) -> Packet[AudioStream] | None:
        if self._pending is None:
            self._pending = next(self._packets, None)
        return self._pending

    def _output_time_s(self, packet: Packet[AudioStream]) -> float:
        return float(((packet.pts or 0) - self._offset_pts) * self._time_base)


def encoder_options(codec: VideoCodec, crf: int, preset: Preset) -> dict[str, str]:
    """FFmpeg encoder options for a constant-quality (CRF) encode with ``codec`` at ``preset``."""
    if codec not in VIDEO_CODECS:
        raise ValueError(f"codec must be one of {VIDEO_CODECS}, got {codec!r}")
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {PRESETS}, got {preset!r}")
    if not 0 <= crf <= _MAX_CRF[codec]:
        raise ValueError(f"crf for {codec} must be in 0..{_MAX_CRF[codec]}, got {crf}")
    if codec == "vp9":
        cpu_used = max(0, 8 - PRESETS.index(preset))  # ultrafast -> 8 (fastest), veryslow -> 0
        return {"crf": str(crf), "b": "0", "deadline": "good", "cpu-used": str(cpu_used), "row-mt": "1"}
    options = {"crf": str(crf), "preset": preset}
    if codec == "h265":
        options["x265-params"] = "log-level=error"
    return options


def default_time_base(fps: Fraction) -> Fraction:
    """About 1/90000 s, chosen so one frame at ``fps`` is a whole number of ticks (30 fps: 3000)."""
    ticks_per_frame = ceil(_TICKS_PER_SECOND / fps)
    return 1 / (fps * ticks_per_frame)


def padded_size(width: int, height: int, codec: VideoCodec) -> tuple[int, int]:
    """The encoded size: even for H.264/H.265 (4:2:0 needs it), unchanged for VP9."""
    if codec == "vp9":
        return width, height
    return width + width % 2, height + height % 2


def _check_fps(fps: Fraction | float) -> Fraction:
    rate = Fraction(fps).limit_denominator(1001) if isinstance(fps, float) else Fraction(fps)
    if rate <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    return rate


def _container_format(path: Path, codec: VideoCodec) -> str:
    suffix = path.suffix.lower()
    if suffix not in CONTAINER_FORMATS:
        raise UnsupportedFormatError(path, f"unknown video suffix; use one of {sorted(CONTAINER_FORMATS)}")
    if suffix == ".webm" and codec not in _WEBM_CODECS:
        raise UnsupportedFormatError(path, f"a .webm file cannot hold {codec}; use codec 'vp9' or write .mp4")
    return CONTAINER_FORMATS[suffix]


def _check_encoder(path: Path, codec: VideoCodec) -> None:
    if ENCODERS[codec] not in av.codecs_available:
        raise UnsupportedFormatError(
            path, f"this build of FFmpeg has no {ENCODERS[codec]} encoder for {codec}; use codec 'h264'"
        )


def _check_frame(frame_bgr: Frame, size_wh: tuple[int, int] | None) -> tuple[int, int]:
    if frame_bgr.dtype != np.uint8 or frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3:
        raise ValueError(f"frame_bgr must be H x W x 3 uint8, got {frame_bgr.shape} {frame_bgr.dtype}")
    height, width = frame_bgr.shape[:2]
    if size_wh is not None and (width, height) != size_wh:
        raise ValueError(f"every frame must be {size_wh[0]}x{size_wh[1]}, got {width}x{height}")
    return height, width


def _temp_path(path: Path) -> Path:
    """A hidden, unique name beside ``path`` (same folder, so the final rename is atomic)."""
    return path.with_name(f".{path.stem}.{secrets.token_hex(4)}.partial{path.suffix}")


def _first_audio(container: InputContainer) -> AudioStream | None:
    streams = container.streams.audio
    return streams[0] if streams else None


def _check_audio_fits(output: OutputContainer, out_path: Path, stream: AudioStream, source: Path) -> None:
    codec = stream.codec_context.name if stream.codec_context is not None else "unknown"
    if codec not in output.supported_codecs:
        raise UnsupportedFormatError(
            out_path,
            f"this container cannot hold the '{codec}' audio of '{source}' (copied as is); "
            "write .mp4, .mov or .mkv instead, or leave audio out",
        )


def _shift(timestamp: int | None, offset: int) -> int | None:
    return None if timestamp is None else timestamp - offset
