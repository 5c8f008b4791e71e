"""Synthetic media for the media tests, generated with PyAV in tmp_path (no real footage needed).

Every video frame carries its number in its pixels (see ``frame_number``), so tests can tell which
frame came back from a round trip, whatever the codec did to the exact values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import av
import numpy as np
import pytest
from av.audio.stream import AudioStream
from av.container import OutputContainer

from facecraft.types import Frame

SAMPLE_RATE = 44_100
_MARK_STEP = 12  # grey level per frame number in the marker block


def gradient_frame(number: int, size_wh: tuple[int, int] = (64, 48)) -> Frame:
    """A moving colour gradient with the frame number written as the grey level of the top-left block."""
    width, height = size_wh
    x = np.arange(width, dtype=np.int32)[None, :]
    y = np.arange(height, dtype=np.int32)[:, None]
    frame = np.zeros((height, width, 3), dtype=np.uint8)
    frame[:, :, 0] = ((x * 4 + number * 6) % 256).astype(np.uint8)
    frame[:, :, 1] = ((y * 5) % 256).astype(np.uint8)
    frame[:, :, 2] = 128
    frame[:16, :16] = min(255, number * _MARK_STEP)
    return frame


def frame_number(frame_bgr: Frame) -> int:
    """Read back the number that :func:`gradient_frame` wrote (the top-left block, upright)."""
    return round(float(frame_bgr[4:12, 4:12].mean()) / _MARK_STEP)


class MakeVideo(Protocol):
    def __call__(
        self,
        name: str,
        *,
        frames: int = 20,
        fps: int = 30,
        size_wh: tuple[int, int] = (64, 48),
        audio: bool = False,
        rotation_ccw: int | None = None,
        times_s: Sequence[float] | None = None,
        faststart: bool = False,
        noise: bool = False,
    ) -> Path: ...


def _write_video(
    path: Path,
    *,
    frames: int,
    fps: int,
    size_wh: tuple[int, int],
    audio: bool,
    rotation_ccw: int | None,
    times_s: Sequence[float] | None,
    faststart: bool,
    noise: bool,
) -> Path:
    options = {"movflags": "+faststart"} if faststart else {}
    rng = np.random.default_rng(0)
    with av.open(str(path), "w", options=options) as container:
        video = container.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
        video.width, video.height = size_wh
        video.pix_fmt = "yuv420p"
        video.time_base = video.codec_context.time_base = Fraction(1, 90_000)
        if rotation_ccw is not None:
            video.set_display_rotation(rotation_ccw)
        sound = _add_mono_aac(container) if audio else None
        for number in range(frames):
            image = gradient_frame(number, size_wh)
            if noise:
                image = rng.integers(0, 256, image.shape, dtype=np.uint8)
            av_frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            time_s = times_s[number] if times_s is not None else number / fps
            av_frame.pts = round(time_s * 90_000)
            av_frame.time_base = Fraction(1, 90_000)
            container.mux(video.encode(av_frame))
        container.mux(video.encode(None))
        if sound is not None:
            _write_sine(container, sound, seconds=frames / fps)
    return path


def _add_mono_aac(container: OutputContainer) -> AudioStream:
    stream = container.add_stream("aac", rate=SAMPLE_RATE)
    stream.layout = "mono"
    return stream


def _write_sine(container: OutputContainer, stream: AudioStream, seconds: float) -> None:
    samples = int(seconds * SAMPLE_RATE)
    t = np.arange(samples) / SAMPLE_RATE
    wave = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    for start in range(0, samples, 1024):
        chunk = wave[None, start : start + 1024].copy()
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = start
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))


@pytest.fixture
def make_video(tmp_path: Path) -> MakeVideo:
    """Factory: write a small H.264 video (64x48, 20 frames, 30 fps by default) into tmp_path."""

    def make(
        name: str,
        *,
        frames: int = 20,
        fps: int = 30,
        size_wh: tuple[int, int] = (64, 48),
        audio: bool = False,
        rotation_ccw: int | None = None,
        times_s: Sequence[float] | None = None,
        faststart: bool = False,
        noise: bool = False,
    ) -> Path:
        return _write_video(
            tmp_path / name,
            frames=frames,
            fps=fps,
            size_wh=size_wh,
            audio=audio,
            rotation_ccw=rotation_ccw,
            times_s=times_s,
            faststart=faststart,
            noise=noise,
        )

    return make


@pytest.fixture
def make_audio_only(tmp_path: Path) -> Callable[[str], Path]:
    """Factory: write a one-second AAC sine in an .m4a (no video stream)."""

    def make(name: str) -> Path:
        path = tmp_path / name
        with av.open(str(path), "w") as container:
            stream = _add_mono_aac(container)
            _write_sine(container, stream, seconds=1.0)
        return path

    return make
