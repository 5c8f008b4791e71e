"""The faceset on disk: aligned crops, their masks, and one JSON index describing every face.

Layout of a faceset directory::

    faceset.json          the index (this module reads and writes it)
    faces/NNNNNN.png      aligned BGR crops, size x size
    masks/NNNNNN.png      uint8 face masks (0..255) of the same size
    contact_sheet.png     a grid of the faces, for a look by eye

Landmarks are stored in crop pixels (x, y, z); ``matrix_frame_to_crop`` says where the crop came from.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from facecraft.errors import FacecraftError
from facecraft.faceset.crop import FaceType, parse_face_type
from facecraft.jsonfile import read_format_json, write_json_atomic
from facecraft.types import FloatArray

FACESET_FORMAT = "facecraft-faceset/1"
INDEX_FILE = "faceset.json"
FACES_DIR = "faces"
MASKS_DIR = "masks"


class FacesetError(FacecraftError):
    """A faceset directory that cannot be used (missing, unreadable, or too small)."""


@dataclass(frozen=True, slots=True)
class FacesetEntry:
    """One aligned face. ``file`` and ``mask_file`` are relative to the faceset directory.

    input_index: which of the faceset's inputs it came from; frame_index and time_s: where in it.
    pose_deg: (yaw, pitch, roll) in degrees; sharpness: variance of the Laplacian on the crop.
    """

    file: str
    mask_file: str
    input_index: int
    frame_index: int
    time_s: float
    landmarks_crop: FloatArray
    matrix_frame_to_crop: FloatArray
    pose_deg: tuple[float, float, float]
    sharpness: float

    def to_json(self) -> dict[str, object]:
        return {
            "file": self.file,
            "mask_file": self.mask_file,
            "input_index": self.input_index,
            "frame_index": self.frame_index,
            "time_s": round(self.time_s, 4),
            "landmarks_crop": np.round(self.landmarks_crop.astype(np.float64), 2).tolist(),
            "matrix_frame_to_crop": np.round(self.matrix_frame_to_crop.astype(np.float64), 6).tolist(),
            "pose_deg": [round(v, 2) for v in self.pose_deg],
            "sharpness": round(self.sharpness, 3),
        }

    @staticmethod
    def from_json(data: dict[str, object]) -> "FacesetEntry":
        pose = [float(v) for v in data["pose_deg"]]  # type: ignore[attr-defined]
        return FacesetEntry(
            file=str(data["file"]),
            mask_file=str(data["mask_file"]),
            input_index=int(data["input_index"]),  # type: ignore[call-overload]
            frame_index=int(data["frame_index"]),  # type: ignore[call-overload]
            time_s=float(data["time_s"]),  # type: ignore[arg-type]
            landmarks_crop=np.asarray(data["landmarks_crop"], dtype=np.float32),
            matrix_frame_to_crop=np.asarray(data["matrix_frame_to_crop"], dtype=np.float32),
            pose_deg=(pose[0], pose[1], pose[2]),
            sharpness=float(data["sharpness"]),  # type: ignore[arg-type]
        )


@dataclass(frozen=True, slots=True)
class FacesetIndex:
    """A faceset: crop size and face type, the inputs it came from, and its faces."""

    size: int
    face_type: FaceType
    inputs: tuple[str, ...]
    entries: tuple[FacesetEntry, ...]
    summary: dict[str, object] = field(default_factory=dict)
    format: str = FACESET_FORMAT

    def to_json(self) -> dict[str, object]:
        return {
            "format": self.format,
            "size": self.size,
            "face_type": self.face_type,
            "inputs": list(self.inputs),
            "summary": self.summary,
            "faces": [entry.to_json() for entry in self.entries],
        }


def save_index(directory: Path, index: FacesetIndex) -> Path:
    """Write ``faceset.json`` atomically (temporary file then rename)."""
    return write_json_atomic(directory / INDEX_FILE, index.to_json())


def load_index(directory: Path) -> FacesetIndex:
    """Read a faceset's index; a missing or foreign one gets a message saying what to do."""
    path = directory / INDEX_FILE
    if not directory.is_dir():
        raise FacesetError(f"'{directory}' is not a faceset directory (make one with 'facecraft extract')")
    if not path.is_file():
        raise FacesetError(f"'{directory}' has no {INDEX_FILE}: make the faceset with 'facecraft extract'")
    data: Any = read_format_json(
        path, FACESET_FORMAT, "a facecraft faceset index", "extract the faceset again", FacesetError
    )
    try:
        return FacesetIndex(
            size=int(data["size"]),
            face_type=parse_face_type(str(data["face_type"])),
            inputs=tuple(str(p) for p in data.get("inputs", [])),
            entries=tuple(FacesetEntry.from_json(e) for e in data["faces"]),
            summary=dict(data.get("summary", {})),
        )
    except (KeyError, TypeError, ValueError, IndexError) as error:
        message = f"the faceset index '{path}' is incomplete ({error}); extract the faceset again"
        raise FacesetError(message) from error


def require_faces(index: FacesetIndex, directory: Path, minimum: int, role: str) -> None:
    """Refuse a faceset with fewer than ``minimum`` faces, saying how to get more."""
    if len(index.entries) < minimum:
        raise FacesetError(
            f"the {role} faceset '{directory}' has {len(index.entries)} face(s); training needs at least "
            f"{minimum}. Extract from more or longer footage, or use a smaller --every."
        )


def entry_paths(directory: Path, entries: Sequence[FacesetEntry]) -> list[tuple[Path, Path]]:
    """(face image, mask image) paths of the entries."""
    return [(directory / e.file, directory / e.mask_file) for e in entries]
