"""Shared input checks for media files, and translation of PyAV/OS errors into facecraft's typed errors.

Every public entry point of ``facecraft.media`` runs its path through :func:`check_input_file` (or
:func:`check_output_path`) and wraps PyAV calls in :func:`translating_av_errors`, so a person sees
``CorruptMediaError: 'clip.mp4' cannot be decoded (...)`` instead of a raw ``av.error``.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import av
import av.error
from av.container import InputContainer
from av.stream import Disposition
from av.video.stream import VideoStream

from facecraft.errors import (
    CorruptMediaError,
    EmptyMediaError,
    MediaError,
    MediaNotFoundError,
    NotAFileError,
    NoVideoStreamError,
    UnsupportedCodecError,
)


def check_input_file(path: Path | str) -> Path:
    """Return ``path`` as a Path after checking it names an existing, non-empty regular file."""
    path = Path(path)
    if path.is_dir():
        raise NotAFileError(path)
    if not path.exists():
        raise MediaNotFoundError(path)
    if path.stat().st_size == 0:
        raise EmptyMediaError(path)
    return path


def check_output_path(path: Path | str) -> Path:
    """Return ``path`` as a Path after checking its folder exists and the path is not a folder."""
    path = Path(path)
    if path.is_dir():
        raise NotAFileError(path)
    if not path.parent.is_dir():
        raise MediaNotFoundError(path.parent)
    return path


def translate_error(path: Path, error: Exception) -> MediaError:
    """Map an exception raised by PyAV or the OS while reading ``path`` to a typed media error."""
    if isinstance(error, MediaError):
        return error
    if isinstance(error, av.error.DecoderNotFoundError):
        return UnsupportedCodecError(path, "unknown (no decoder in this build)")
    if isinstance(error, FileNotFoundError):
        return MediaNotFoundError(path)
    if isinstance(error, IsADirectoryError):
        return NotAFileError(path)
    return _os_error(path, error) or CorruptMediaError(path, _detail(error))


def translate_write_error(path: Path, error: Exception) -> MediaError:
    """Map an exception raised by PyAV or the OS while writing ``path`` to a typed media error."""
    if isinstance(error, MediaError):
        return error
    return _os_error(path, error) or MediaError(
        f"could not write '{path}' ({_detail(error)}). Check the folder is writable and has free space."
    )


def _os_error(path: Path, error: Exception) -> MediaError | None:
    if isinstance(error, OSError) and error.errno in (errno.EACCES, errno.EPERM):
        return MediaError(f"permission denied for '{path}'. Check the file's and folder's permissions.")
    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        return MediaError(f"no space left on the device for '{path}'. Free some space and try again.")
    return None


def _detail(error: Exception) -> str:
    return getattr(error, "strerror", None) or str(error) or type(error).__name__


@contextmanager
def translating_av_errors(path: Path) -> Iterator[None]:
    """Re-raise PyAV and OS errors raised inside the block as typed media errors about ``path``."""
    try:
        yield
    except MediaError:
        raise
    except (av.error.FFmpegError, OSError) as error:
        raise translate_error(path, error) from error


def open_input(path: Path) -> InputContainer:
    """Open ``path`` (already checked) for reading; damaged or unknown files raise typed errors."""
    with translating_av_errors(path):
        return av.open(str(path), mode="r")


def select_video_stream(container: InputContainer, path: Path) -> VideoStream:
    """Return the first video stream that this build can decode, or raise a typed error."""
    streams = [s for s in container.streams.video if not _is_cover_art(s)]
    if not streams:
        raise NoVideoStreamError(path)
    stream = streams[0]
    if stream.codec_context is None:
        raise UnsupportedCodecError(path, "unknown (no decoder in this build)")
    return stream


def _is_cover_art(stream: VideoStream) -> bool:
    """True for an attached picture (album art in an .m4a or .mp3), which is not a video."""
    return bool(stream.disposition & Disposition.attached_pic)
