"""Streaming video decode: :class:`FrameReader` yields upright BGR frames with exact timestamps.

Decoding (demux, threaded decode, conversion to BGR, rotation) runs on one background thread that
fills a small bounded queue, so it overlaps with whatever the caller does per frame (detection,
encoding) while memory stays flat however long the video is.

A file cut short in the middle of its data (a truncated download) yields every frame that still
decodes and then raises :class:`~facecraft.errors.CorruptMediaError`, so a pipeline never saves a
silently shortened video; a file missing its header or index fails when it is opened.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Self

import cv2
import numpy as np
from av.container import InputContainer
from av.error import FFmpegError
from av.video.frame import VideoFrame as AvVideoFrame
from av.video.reformatter import VideoReformatter
from av.video.stream import VideoStream

from facecraft.errors import CorruptMediaError
from facecraft.media.probe import VideoInfo, probe, rotation_from_frame
from facecraft.media.validate import (
    check_input_file,
    open_input,
    select_video_stream,
    translate_error,
)
from facecraft.types import Frame

DEFAULT_QUEUE_FRAMES = 4
"""Decoded frames held ahead of the consumer; the reader's memory is about this many frames."""

_ROTATE_CODES = {
    90: cv2.ROTATE_90_CLOCKWISE,
    180: cv2.ROTATE_180,
    270: cv2.ROTATE_90_COUNTERCLOCKWISE,
}
_PUT_POLL_S = 0.1


@dataclass(frozen=True, slots=True)
class VideoFrame:
    """One decoded, upright frame.

    ``index`` counts the frames this reader yielded (0 for the first, even after ``start_s``);
    ``pts`` in units of ``time_base`` is the frame's exact timestamp in the source, and
    ``time_s == float(pts * time_base)``.
    """

    image_bgr: Frame
    index: int
    time_s: float
    pts: int
    time_base: Fraction


@dataclass(frozen=True, slots=True)
class _Window:
    """The part of the video to yield: frames with start_s <= time_s < end_s (None: unbounded)."""

    start_s: float | None
    end_s: float | None

    def before(self, time_s: float) -> bool:
        return self.start_s is not None and time_s < self.start_s

    def after(self, time_s: float) -> bool:
        return self.end_s is not None and time_s >= self.end_s


class _End:
    """Queue marker: the video is exhausted."""


class FrameReader:
    """Iterate the frames of a video, upright, as BGR uint8 arrays, within a context manager.

    ``with FrameReader("clip.mp4", start_s=2.0) as reader: for frame in reader: ...``
    """

    def __init__(
        self,
        path: Path | str,
        start_s: float | None = None,
        end_s: float | None = None,
        *,
        queue_frames: int = DEFAULT_QUEUE_FRAMES,
    ) -> None:
        _check_window(start_s, end_s)
        self.path = Path(path)
        self._window = _Window(start_s, end_s)
        self._queue: queue.Queue[VideoFrame | _End | BaseException] = queue.Queue(max(1, queue_frames))
        self._stop = threading.Event()
        self._info: VideoInfo | None = None
        self._thread: threading.Thread | None = None
        self._finished = False

    @property
    def info(self) -> VideoInfo:
        """What :func:`~facecraft.media.probe.probe` says about the file (available once opened)."""
        if self._info is None:
            raise RuntimeError("FrameReader.info is available inside the 'with' block only")
        return self._info

    def __enter__(self) -> Self:
        self.path = check_input_file(self.path)
        self._info = probe(self.path)
        container = open_input(self.path)
        try:
            stream = select_video_stream(container, self.path)
        except BaseException:
            container.close()
            raise
        self._thread = threading.Thread(
            target=self._run, args=(container, stream), name=f"decode:{self.path.name}", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __iter__(self) -> Iterator[VideoFrame]:
        if self._thread is None:
            raise RuntimeError("use FrameReader inside a 'with' block")
        return self

    def __next__(self) -> VideoFrame:
        if self._finished or self._thread is None:
            raise StopIteration
        item = self._queue.get()
        if isinstance(item, VideoFrame):
            return item
        self._finished = True
        if isinstance(item, BaseException):
            raise item
        raise StopIteration

    def close(self) -> None:
        """Stop decoding and release the file; safe to call more than once."""
        self._stop.set()
        self._finished = True
        if self._thread is not None:
            while self._thread.is_alive():
                _drain(self._queue)
                self._thread.join(timeout=_PUT_POLL_S)
        _drain(self._queue)

    def _run(self, container: InputContainer, stream: VideoStream) -> None:
        """Background thread: decode into the queue, then an end marker or the error that stopped it."""
        with container:
            try:
                for frame in _decode(container, stream, self._window, self.path):
                    if not self._put(frame):
                        return
                self._put(_End())
            except (FFmpegError, OSError) as error:
                self._put(translate_error(self.path, error))
            except Exception as error:
                self._put(error)

    def _put(self, item: VideoFrame | _End | BaseException) -> bool:
        """Queue ``item``, waiting for room; False when the reader was closed meanwhile."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_PUT_POLL_S)
                return True
            except queue.Full:
                continue
        return False


def _decode(
    container: InputContainer, stream: VideoStream, window: _Window, path: Path
) -> Iterator[VideoFrame]:
    """Frames of ``stream`` inside ``window``, converted and upright; raises on damaged data."""
    stream.thread_type = "AUTO"
    _seek(container, stream, window.start_s)
    time_base = stream.time_base or Fraction(1, 90_000)
    reformatter = VideoReformatter()
    index = 0
    damaged = False
    for packet in container.demux(stream):
        damaged = damaged or packet.is_corrupt
        for av_frame in stream.decode(packet):
            time_s = float((av_frame.pts or 0) * time_base)
            if window.after(time_s):
                return
            if window.before(time_s):
                continue
            yield _to_video_frame(av_frame, reformatter, index, time_base)
            index += 1
    if damaged:
        raise CorruptMediaError(path, f"the data ends early: truncated after frame {index}")


def _seek(container: InputContainer, stream: VideoStream, start_s: float | None) -> None:
    """Jump to the keyframe at or before ``start_s`` (the caller skips frames up to it)."""
    if start_s and stream.time_base:
        container.seek(int(start_s / stream.time_base), stream=stream, backward=True)


def _to_video_frame(
    av_frame: AvVideoFrame, reformatter: VideoReformatter, index: int, time_base: Fraction
) -> VideoFrame:
    bgr = reformatter.reformat(av_frame, format="bgr24").to_ndarray()
    image_bgr = rotate_upright(np.asarray(bgr, dtype=np.uint8), rotation_from_frame(av_frame))
    pts = av_frame.pts or 0
    return VideoFrame(
        image_bgr=image_bgr,
        index=index,
        time_s=float(pts * time_base),
        pts=pts,
        time_base=time_base,
    )


def with_next_time(frames: Iterable[VideoFrame]) -> Iterator[tuple[VideoFrame, float | None]]:
    """Each frame with the time of the frame after it (``None`` for the last), reading one frame ahead.

    An error raised while reading the next frame (a truncated file) comes before the frame is yielded.
    """
    iterator = iter(frames)
    current = next(iterator, None)
    while current is not None:
        following = next(iterator, None)
        yield current, None if following is None else following.time_s
        current = following


def rotate_upright(image_bgr: Frame, rotation_deg: int) -> Frame:
    """Turn ``image_bgr`` clockwise by ``rotation_deg`` (0, 90, 180, 270); result is C-contiguous."""
    code = _ROTATE_CODES.get(rotation_deg % 360)
    if code is None:
        return np.ascontiguousarray(image_bgr)
    return np.ascontiguousarray(cv2.rotate(image_bgr, code))


def _check_window(start_s: float | None, end_s: float | None) -> None:
    if start_s is not None and start_s < 0:
        raise ValueError(f"start_s must be >= 0, got {start_s}")
    if start_s is not None and end_s is not None and end_s <= start_s:
        raise ValueError(f"end_s ({end_s}) must be after start_s ({start_s})")


def _drain(items: queue.Queue[VideoFrame | _End | BaseException]) -> None:
    while True:
        try:
            items.get_nowait()
        except queue.Empty:
            return
