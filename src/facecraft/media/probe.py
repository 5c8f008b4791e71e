"""What a media file is: :func:`probe` describes a video, :func:`is_image_path` tells a still image apart.

``probe`` reads the container header, the first ~120 packet timestamps (to tell a variable frame rate
from a constant one) and decodes the first frame (to learn its rotation and to prove the codec decodes).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from itertools import pairwise
from pathlib import Path

from av.audio.stream import AudioStream
from av.container import InputContainer
from av.video.frame import VideoFrame as AvVideoFrame
from av.video.stream import VideoStream
from PIL import Image, UnidentifiedImageError

from facecraft.errors import CorruptMediaError
from facecraft.media.validate import (
    check_input_file,
    open_input,
    select_video_stream,
    translating_av_errors,
)

IMAGE_FORMATS = ("JPEG", "PNG", "WEBP", "AVIF", "BMP", "TIFF", "GIF")
"""Pillow formats facecraft accepts as still images (checked by content, not by name)."""

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".avif", ".bmp", ".tif", ".tiff", ".gif"})
"""Suffixes taken for images when the content cannot be read (e.g. an output path not written yet)."""

VFR_SAMPLE_PACKETS = 120
"""How many leading packet timestamps :func:`probe` compares with the average frame rate."""

_REORDER_SLACK = 16  # packets read past the sample so B-frame reordering leaves no false gap
_VFR_TOLERANCE = 0.02  # a frame duration this far (relative) from the average marks a VFR file


@dataclass(frozen=True, slots=True)
class AudioInfo:
    """One audio stream of a video file."""

    codec: str
    sample_rate: int
    channels: int


@dataclass(frozen=True, slots=True)
class VideoInfo:
    """What :func:`probe` learns about a video file.

    ``width``/``height`` are the stored picture size; ``rotation_deg`` is the clockwise turn
    (0, 90, 180 or 270) a player applies to show it upright, and ``display_wh`` the size after it.
    ``frame_count`` comes from the container's index when ``frame_count_is_exact``, else it is
    ``duration_s * fps`` rounded.
    """

    path: Path
    width: int
    height: int
    rotation_deg: int
    fps: Fraction
    is_variable_frame_rate: bool
    frame_count: int
    frame_count_is_exact: bool
    duration_s: float
    codec: str
    pixel_format: str
    time_base: Fraction
    audio_streams: tuple[AudioInfo, ...]

    @property
    def display_wh(self) -> tuple[int, int]:
        """(width, height) of the upright picture, as frames come out of ``FrameReader``."""
        if self.rotation_deg in (90, 270):
            return self.height, self.width
        return self.width, self.height

    @property
    def has_audio(self) -> bool:
        return bool(self.audio_streams)


@dataclass(frozen=True, slots=True)
class _StartScan:
    """Sorted packet timestamps from the start of the stream, and the first decoded frame."""

    pts: list[int]
    first_frame: AvVideoFrame


def is_image_path(path: Path | str) -> bool:
    """True when ``path`` holds a still image (judged by its content), False for video or other data.

    A path that cannot be read (missing, a folder) is judged by its suffix instead.
    """
    path = Path(path)
    try:
        with Image.open(path, formats=IMAGE_FORMATS):
            return True
    except UnidentifiedImageError:
        return False
    except Image.DecompressionBombError:
        return True
    except OSError:
        return path.suffix.lower() in IMAGE_SUFFIXES


def probe(path: Path | str) -> VideoInfo:
    """Describe the video at ``path``; bad files raise a typed ``MediaError`` subclass."""
    path = check_input_file(path)
    with open_input(path) as container, translating_av_errors(path):
        stream = select_video_stream(container, path)
        scan = _scan_start(container, stream, path)
        return _video_info(path, container, stream, scan)


def rotation_from_frame(frame: AvVideoFrame) -> int:
    """Clockwise degrees (0, 90, 180, 270) that turn this decoded frame upright (display matrix)."""
    counter_clockwise = float(frame.rotation)
    return round(-counter_clockwise / 90.0) * 90 % 360


def _scan_start(container: InputContainer, stream: VideoStream, path: Path) -> _StartScan:
    wanted = VFR_SAMPLE_PACKETS + _REORDER_SLACK
    pts: list[int] = []
    first: AvVideoFrame | None = None
    reached_end = True
    for packet in container.demux(stream):
        if packet.pts is not None:
            pts.append(packet.pts)
        if first is None:
            first = next(iter(stream.decode(packet)), None)
        if first is not None and len(pts) >= wanted:
            reached_end = False
            break
    if first is None:
        raise CorruptMediaError(path, "no video frame could be decoded")
    pts.sort()
    return _StartScan(pts=pts if reached_end else pts[:VFR_SAMPLE_PACKETS], first_frame=first)


def _video_info(path: Path, container: InputContainer, stream: VideoStream, scan: _StartScan) -> VideoInfo:
    time_base = stream.time_base or Fraction(1, 90_000)
    fps = _average_fps(stream, scan.pts, time_base)
    duration_s = _duration_s(container, stream, time_base)
    exact = stream.frames > 0
    ctx = stream.codec_context
    return VideoInfo(
        path=path,
        width=ctx.width,
        height=ctx.height,
        rotation_deg=rotation_from_frame(scan.first_frame),
        fps=fps,
        is_variable_frame_rate=_is_variable(scan.pts, fps, time_base),
        frame_count=stream.frames if exact else round(duration_s * fps),
        frame_count_is_exact=exact,
        duration_s=duration_s,
        codec=ctx.name,
        pixel_format=ctx.pix_fmt or scan.first_frame.format.name,
        time_base=time_base,
        audio_streams=_audio_infos(container),
    )


def _average_fps(stream: VideoStream, pts: list[int], time_base: Fraction) -> Fraction:
    rate = stream.average_rate or stream.guessed_rate
    if rate:
        return Fraction(rate)
    deltas = sorted(b - a for a, b in pairwise(pts) if b > a)
    if deltas:
        return 1 / (deltas[len(deltas) // 2] * time_base)
    return Fraction(25)


def _duration_s(container: InputContainer, stream: VideoStream, time_base: Fraction) -> float:
    if stream.duration:
        return float(stream.duration * time_base)
    if container.duration:
        return container.duration / 1_000_000
    return 0.0


def _is_variable(pts: list[int], fps: Fraction, time_base: Fraction) -> bool:
    """True when some frame duration among ``pts`` strays from the one the average rate implies."""
    expected = float(1 / (fps * time_base))
    tolerance = max(1.0, _VFR_TOLERANCE * expected)
    deltas = (b - a for a, b in pairwise(pts) if b > a)
    return any(abs(delta - expected) > tolerance for delta in deltas)


def _audio_infos(container: InputContainer) -> tuple[AudioInfo, ...]:
    return tuple(_audio_info(stream) for stream in container.streams.audio)


def _audio_info(stream: AudioStream) -> AudioInfo:
    ctx = stream.codec_context
    if ctx is None:
        return AudioInfo(codec="unknown", sample_rate=0, channels=0)
    return AudioInfo(codec=ctx.name, sample_rate=ctx.sample_rate, channels=ctx.channels)
