"""Uploaded files: streamed to disk under a generated name with a size cap, probed, and swept away later.

A user's file name is never used as a path: files are stored as ``<uuid hex><suffix>``, the suffix
chosen from what the probe found in the content. The sanitised original name is kept for display only.
"""

import shutil
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image

from facecraft.errors import FacecraftError, MediaError
from facecraft.media.image import read_image
from facecraft.media.probe import IMAGE_FORMATS, is_image_path, probe
from facecraft.media.validate import open_input
from facecraft.service.errors import EmptyUploadError, UploadTooLargeError
from facecraft.service.jobs import UploadKind

CHUNK_BYTES = 1024 * 1024
MAX_NAME_CHARS = 120
FALLBACK_NAME = "upload"
PART_SUFFIX = ".part"

_IMAGE_SUFFIXES = {
    "JPEG": ".jpg",
    "PNG": ".png",
    "WEBP": ".webp",
    "AVIF": ".avif",
    "BMP": ".bmp",
    "TIFF": ".tif",
    "GIF": ".gif",
}
_VIDEO_SUFFIXES = (("mp4", ".mp4"), ("webm", ".webm"), ("matroska", ".mkv"), ("avi", ".avi"))


class RejectedUploadError(FacecraftError):
    """An upload that is not a readable image or video; ``cause`` is the media error it raised."""

    def __init__(self, cause: FacecraftError, message: str) -> None:
        super().__init__(message)
        self.cause = cause


@dataclass(frozen=True, slots=True)
class MediaFacts:
    kind: UploadKind
    width: int
    height: int
    duration_s: float | None
    suffix: str


@dataclass(frozen=True, slots=True)
class StoredFile:
    """An accepted upload: ``path`` is the generated file, ``name`` the sanitised original name."""

    path: Path
    name: str
    size_bytes: int
    facts: MediaFacts


def new_id() -> str:
    return uuid.uuid4().hex


def sanitize_name(raw: str | None) -> str:
    """A display name: the last path part (either slash), no control characters, at most 120 chars."""
    text = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C").strip().strip(".")
    return text[:MAX_NAME_CHARS] or FALLBACK_NAME


def copy_capped(source: BinaryIO, dest: Path, limit_bytes: int, name: str) -> int:
    """Copy ``source`` to ``dest`` in chunks; stop and raise ``UploadTooLargeError`` past the limit."""
    size = 0
    with dest.open("wb") as out:
        while chunk := source.read(CHUNK_BYTES):
            size += len(chunk)
            if size > limit_bytes:
                raise UploadTooLargeError(name, limit_bytes)
            out.write(chunk)
    if size == 0:
        raise EmptyUploadError(name)
    return size


def probe_media(path: Path) -> MediaFacts:
    """What the content is: a still image (decoded fully) or a video (probed); MediaError otherwise."""
    if is_image_path(path):
        frame_bgr = read_image(path)
        with Image.open(path, formats=IMAGE_FORMATS) as image:
            suffix = _IMAGE_SUFFIXES.get(image.format or "", ".img")
        height, width = frame_bgr.shape[:2]
        return MediaFacts("image", int(width), int(height), None, suffix)
    info = probe(path)
    width, height = info.display_wh
    return MediaFacts("video", width, height, round(info.duration_s, 3), _video_suffix(path))


def _video_suffix(path: Path) -> str:
    with open_input(path) as container:
        format_names = container.format.name.split(",")
    for token, suffix in _VIDEO_SUFFIXES:
        if token in format_names:
            return suffix
    return ".video"


def store_upload(source: BinaryIO, raw_name: str | None, folder: Path, limit_bytes: int) -> StoredFile:
    """Save, cap and probe one uploaded file into ``folder`` as ``<uuid><suffix>``.

    Raises ``UploadTooLargeError``, ``EmptyUploadError`` or ``RejectedUploadError`` (with the media
    error as its cause and the display name instead of the stored path); nothing is left behind then.
    """
    name = sanitize_name(raw_name)
    folder.mkdir(parents=True, exist_ok=True)
    stem = new_id()
    part = folder / f"{stem}{PART_SUFFIX}"
    try:
        size = copy_capped(source, part, limit_bytes, name)
        try:
            facts = probe_media(part)
        except MediaError as error:
            raise RejectedUploadError(error, public_message(error, {str(part): name})) from error
        final = folder / f"{stem}{facts.suffix}"
        part.replace(final)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return StoredFile(final, name, size, facts)


def public_message(error: BaseException | str, replacements: dict[str, str]) -> str:
    """The error's message (or a note) with server paths replaced by the names a user knows."""
    text = str(error)
    for private, public in sorted(replacements.items(), key=lambda item: -len(item[0])):
        text = text.replace(private, public)
    return text


def link_or_copy(source: Path, dest: Path) -> None:
    """Hard-link ``source`` to ``dest`` (a job keeps its inputs after the upload expires), else copy."""
    try:
        dest.hardlink_to(source)
    except OSError:
        shutil.copyfile(source, dest)


def remove_tree(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def stale_files(folder: Path, keep: Iterable[str], cutoff_epoch_s: float) -> list[Path]:
    """Files in ``folder`` not named in ``keep`` and last changed before the cutoff (left by a crash)."""
    if not folder.is_dir():
        return []
    kept = set(keep)
    return [
        path
        for path in folder.iterdir()
        if path.name not in kept and path.is_file() and path.stat().st_mtime < cutoff_epoch_s
    ]
